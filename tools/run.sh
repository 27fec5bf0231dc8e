#!/usr/bin/env bash
# First command for a newcomer: installs what is missing, builds Release into
# build-run/, and runs the main job on the built-in embedded config (no servers).
# build-run/ is its own folder: tools/test.sh builds build/ with the tests and
# benchmarks, and sharing one folder made each command rebuild the other's.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh build
cmake --preset run >/dev/null
cmake --build --preset run

echo
echo "== strata plugins"
build-run/bin/strata plugins
echo
echo "== strata check"
build-run/bin/strata check
echo
echo "== strata demo"
build-run/bin/strata demo
