#!/usr/bin/env bash
# The plugin folder rule (plugins/README.md), checked: every file in
# plugins/<name>/ is plugin.cpp, CMakeLists.txt, a Markdown file, a generated
# *.cpp.in, or named with the folder's name as prefix (postgres_storage.cpp);
# and the "Files" table of plugins/<name>/README.md names each file, and
# names only files that exist. Prints every breach; exit 1 if any.
# Usage: tools/check-plugin-files.sh (run by ctest as plugin_files_follow_the_rule)
set -euo pipefail
cd "$(dirname "$0")/.."

breaches=0
breach() {
  echo "plugins/$1: $2" >&2
  breaches=$((breaches + 1))
}

# "| [`postgres`](postgres/README.md) | …" -> postgres
plugins=$(sed -nE 's/^\| \[`([a-z_]+)`\]\([a-z_]+\/README\.md\) \|.*/\1/p' plugins/README.md)
[[ -n $plugins ]] || { echo "plugins/README.md: no plugin table found" >&2; exit 1; }

while read -r name; do
  prefix=$name
  dir=plugins/$name
  [[ -d $dir ]] || { breach "$name" "listed in plugins/README.md, but there is no such folder"; continue; }
  # The first column of each row of the README's "## Files" table: `a.*`, `b.cpp.in`, …
  patterns=$(awk '/^## Files/ { on = 1; next } /^## / { on = 0 } on && /^\| `/' "$dir/README.md" |
    cut -d'|' -f2 | grep -o '`[^`]*`' | tr -d '`')
  [[ -n $patterns ]] || breach "$name" "README.md has no Files table"
  for path in "$dir"/*; do
    file=$(basename "$path")
    case $file in
      plugin.cpp | CMakeLists.txt | README.md | *.md | *.cpp.in) ;;
      "${prefix}_"* | "${prefix}."*) ;;
      *) breach "$name" "$file does not start with the plugin's prefix, ${prefix}_" ;;
    esac
    [[ $file == README.md || $file == CMakeLists.txt ]] && continue
    listed=0
    for pattern in $patterns; do
      # shellcheck disable=SC2053  # the pattern is a glob on purpose
      if [[ $file == $pattern ]]; then listed=1; break; fi
    done
    ((listed)) || breach "$name" "$file is not in README.md's Files table"
  done
  for pattern in $patterns; do
    compgen -G "$dir/$pattern" >/dev/null || breach "$name" "README.md's Files table names $pattern, which matches no file"
  done
done <<<"$plugins"

if ((breaches)); then
  echo "$breaches breach(es) of the plugin folder rule (plugins/README.md)" >&2
  exit 1
fi
echo "every plugin folder follows the rule ($(wc -l <<<"$plugins") plugins)"
