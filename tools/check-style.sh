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
for tool in clang-format-16 clang-format-diff-16 clang-tidy-16; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is not installed (tools/install-deps.sh test installs it)" >&2
    [[ ${CI:-} == true ]] && exit 1
    exit 77
  fi
done

status=0
# Lines changed since $first, in the working tree (a developer's own edits
# too). Renames are followed (-M): a file moved to another folder is checked
# for the lines its move changed, not as a new file.
changes() { git diff -M -U0 --no-color "$first" -- "$@"; }
format_diff=$(changes '*.cpp' '*.hpp' '*.h' | clang-format-diff-16 -p1 -binary clang-format-16 2>&1)
if [[ -n $format_diff ]]; then
  echo "lines changed since $first are not as clang-format lays them out; the fix" \
       "(git diff -M -U0 $first | clang-format-diff-16 -p1 -i applies it):"
  echo "$format_diff"
  status=1
fi

# Source files with lines changed since $first that the build compiles,
# and those lines: clang-tidy reports findings on them only (--line-filter),
# headers' changed lines included when a source includes them. A file whose
# changed lines are all #include lines (a rename's new paths) is not parsed:
# nothing on those lines is a finding.
filter=$(mktemp)
trap 'rm -f "$filter"' EXIT
mapfile -t changed < <(changes '*.cpp' '*.hpp' '*.h' | python3 -c '
import json, re, sys
ranges, code = {}, set()
for line in sys.stdin:
    if line.startswith("+++ "):
        path = line[6:].rstrip("\n") if line.startswith("+++ b/") else None
    elif line.startswith("@@") and path:
        start, _, count = re.match(r"@@ -\S+ \+(\d+)(,(\d+))? @@", line).groups()
        count = 1 if count is None else int(count)
        if count: ranges.setdefault(path, []).append([int(start), int(start) + count - 1])
    elif line.startswith("+") and path and not re.match(r"\+\s*(#include\b|$)", line):
        code.add(path)
untracked = sys.argv[2:]  # new files: every line counts
json.dump([{"name": p, "lines": r} for p, r in ranges.items()] + [{"name": p} for p in untracked],
          open(sys.argv[1], "w"))
print("\n".join([p for p in ranges if p.endswith(".cpp") and p in code] + untracked))
' "$filter" $(git ls-files --others --exclude-standard -- '*.cpp' '*.hpp' '*.h'))
sources=()
for file in "${changed[@]}"; do
  [[ -n $file ]] && grep -q "\"file\": \"$PWD/$file\"" "$build/compile_commands.json" && sources+=("$file")
done
# Clang 16 knows C++23 as c++2b, and reads libstdc++ 12's <expected> only
# with the concepts level set (CMakeLists.txt, STRATA_FUZZ); GCC's own
# warning flags are unknown to it.
clang_args=(-std=c++2b -U__cpp_concepts -D__cpp_concepts=202002L -Wno-unknown-warning-option)
# A file that passed is remembered by the key of everything its findings
# depend on (tools/clang-tidy-key.py), so a run parses only what changed
# since the last one, as ccache does for the compiler. Keys unused for 30
# days are dropped.
cache="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/strata/clang-tidy"
mkdir -p "$cache"
find "$cache" -type f -mtime +30 -delete
parsed=0
for file in "${sources[@]}"; do
  key=$(tools/clang-tidy-key.py "$build" "$filter" "$file" "${clang_args[@]}") || key=""
  [[ -n $key && -e $cache/$key ]] && touch "$cache/$key" && continue
  parsed=$((parsed + 1))
  if clang-tidy-16 -p "$build" --quiet --line-filter="$(cat "$filter")" "${clang_args[@]/#/--extra-arg=}" \
       "$file" 2>/dev/null; then
    [[ -n $key ]] && touch "$cache/$key"
  else
    echo "clang-tidy (.clang-tidy's checks) found the above in $file, on lines changed since $first"
    status=1
  fi
done
((status == 0)) && echo "C++ changed since $first: formatted (clang-format), ${#sources[@]} files pass clang-tidy" \
  "($parsed parsed, the rest unchanged since they passed)"
exit $status
