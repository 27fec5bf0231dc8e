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
  # LeakSanitizer's exit-time scan itself occasionally crashes ("Tracer caught
  # signal 11 … LeakSanitizer has encountered a fatal error") after every
  # assertion passed; seen twice in one CI run, never in 100 reruns of the same
  # tests. A test that fails here runs once more; a real failure fails twice,
  # and the Release pass above runs everything without a retry.
  ctest --preset asan --repeat until-pass:2
fi
