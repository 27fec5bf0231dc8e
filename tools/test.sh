#!/usr/bin/env bash
# Second command: installs what is missing, starts the throwaway servers the
# suite needs (tools/services.sh: its own PostgreSQL, Redis and FerretDB on
# ports of their own; stopped again at the end), builds Release with tests and
# benchmarks, runs the whole suite with ctest, then builds and runs it again
# under ASan + UBSan.
#
# STRATA_SKIP_ASAN=1 skips the sanitizer pass (quicker local runs).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh test
trap 'tools/services.sh stop' EXIT
tools/services.sh start

cmake --preset release -DSTRATA_BUILD_TESTS=ON -DSTRATA_BUILD_BENCHMARKS=ON >/dev/null
cmake --build --preset release
ctest --preset release

if [[ "${STRATA_SKIP_ASAN:-0}" != 1 ]]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan
fi
