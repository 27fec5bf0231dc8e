#!/usr/bin/env bash
# Code shown in the docs is code the suite compiles: a Markdown code block
# right after a line `<!-- snippet: PATH -->` must be, line for line, the
# lines of PATH between `// guide:begin` and `// guide:end` (their common
# indentation removed). Prints the difference for each block that drifted.
# Usage: tools/check-doc-snippets.sh FILE.md... (ctest: doc_snippets_compile)
set -euo pipefail
cd "$(dirname "$0")/.."

# Removes the indentation every non-blank line shares.
dedent() {
  awk '{ lines[NR] = $0
         if ($0 ~ /[^ ]/) { match($0, /^ */); if (common == "" || RLENGTH < common) common = RLENGTH } }
       END { for (i = 1; i <= NR; i++) print substr(lines[i], common + 1) }'
}

status=0
for doc in "$@"; do
  while read -r line_number source; do
    [[ -f $source ]] || { echo "$doc:$line_number: no such file $source" >&2; status=1; continue; }
    shown=$(awk -v start="$line_number" 'NR > start + 1 && /^```/ { exit } NR > start + 1' "$doc")
    compiled=$(awk '/\/\/ guide:end/ { exit } on; /\/\/ guide:begin/ { on = 1 }' "$source" | dedent)
    if [[ $shown != "$compiled" ]]; then
      echo "$doc:$line_number: the block differs from $source (guide:begin … guide:end):" >&2
      diff <(echo "$compiled") <(echo "$shown") >&2 || true
      status=1
    fi
  done < <(grep -n '^<!-- snippet: .* -->$' "$doc" | sed -E 's/^([0-9]+):<!-- snippet: (.*) -->$/\1 \2/')
done
((status == 0)) && echo "every snippet in $* is the code the suite compiles"
exit "$status"
