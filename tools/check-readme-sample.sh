#!/usr/bin/env bash
# The README's sample output of `strata plugins` (what tools/run.sh prints)
# against a real run of the CLI just built: roles, instances, plugins,
# versions and ABI must match, so a new ABI minor or version cannot leave
# the README showing the old one. Paths (machine-specific) are not compared.
# Usage: tools/check-readme-sample.sh STRATA_CLI (ctest: readme_sample_output)
set -euo pipefail
cli=$1
cd "$(dirname "$0")/.."
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
columns() { awk '{ print $1, $2, $3, $4, $5 }'; }
real=$(STRATA_DATA_DIR=$data "$cli" plugins 2>/dev/null | columns)
shown=$(awk '/^== strata plugins/ { on = 1; next } on && /^$/ { exit } on' README.md | columns)
if [[ $real != "$shown" ]]; then
  echo "README.md's sample output of \`strata plugins\` differs from a real run (update the README):" >&2
  diff <(echo "$shown") <(echo "$real") >&2 || true
  exit 1
fi
echo "README.md's sample of \`strata plugins\` matches a real run"
