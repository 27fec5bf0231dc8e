#!/usr/bin/env bash
# First command for a newcomer: installs what is missing, builds Release into
# build/, and runs the main job on the built-in embedded config (no servers).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh build
cmake --preset release -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release

echo
echo "== strata plugins"
build/bin/strata plugins
echo
echo "== strata check"
build/bin/strata check
echo
echo "== strata demo"
build/bin/strata demo
