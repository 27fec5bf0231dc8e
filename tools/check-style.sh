#!/usr/bin/env bash
# Style that runs: every C++ line changed since the rule was adopted (the
# commit below) is as clang-format lays it out (.clang-format), and every
# C++ source file changed since then passes clang-tidy's agreed checks
# (.clang-tidy). Older lines are left as they are: formatting the whole tree
# at once would hide its history and recompile everything for nothing.
# Prints what breaks the rule; exit 1 if anything does.
#
# Usage: tools/check-style.sh BUILD_DIR  (ctest: style_of_changed_code; BUILD_DIR
#        holds compile_commands.json). Without clang-format-16 / clang-tidy-16
#        (Debian's clang-format-16, clang-tidy-16) it skips (exit 77), except
#        under CI=true, where a missing tool is a failure.
set -euo pipefail
build=$(realpath "$1")
cd "$(dirname "$0")/.."
first=e94eea0

if ! git rev-parse --git-dir >/dev/null 2>&1 || ! git cat-file -e "$first^{commit}" 2>/dev/null; then
  echo "not a git checkout with the project's history: nothing to check"
  exit 0
fi
for tool in clang-format-16 git-clang-format-16 clang-tidy-16; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is not installed (tools/install-deps.sh test installs it)" >&2
    [[ ${CI:-} == true ]] && exit 1
    exit 77
  fi
done

status=0
# Lines changed since $first, in the working tree (a developer's own edits too).
if ! format_diff=$(git-clang-format-16 --binary clang-format-16 --diff --extensions cpp,hpp,h "$first" 2>&1); then
  echo "lines changed since $first are not as clang-format lays them out; the fix" \
       "(git-clang-format-16 --binary clang-format-16 $first applies it):"
  echo "$format_diff"
  status=1
fi

# Source files changed since $first that the build compiles (headers are
# checked through them: .clang-tidy's HeaderFilterRegex).
mapfile -t changed < <(git diff --name-only --diff-filter=d "$first" -- '*.cpp' && git ls-files --others --exclude-standard -- '*.cpp')
sources=()
for file in "${changed[@]}"; do
  grep -q "\"file\": \"$PWD/$file\"" "$build/compile_commands.json" && sources+=("$file")
done
if ((${#sources[@]})); then
  # Clang 16 knows C++23 as c++2b, and reads libstdc++ 12's <expected> only
  # with the concepts level set (CMakeLists.txt, STRATA_FUZZ); GCC's own
  # warning flags are unknown to it.
  if ! clang-tidy-16 -p "$build" --quiet --extra-arg=-std=c++2b --extra-arg=-U__cpp_concepts \
       --extra-arg=-D__cpp_concepts=202002L --extra-arg=-Wno-unknown-warning-option "${sources[@]}" 2>/dev/null; then
    echo "clang-tidy (.clang-tidy's checks) found the above in files changed since $first"
    status=1
  fi
fi
((status == 0)) && echo "C++ changed since $first: formatted (clang-format), ${#sources[@]} files pass clang-tidy"
exit $status
