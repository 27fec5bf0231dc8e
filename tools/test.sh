#!/usr/bin/env bash
# Second command: installs what is missing, starts the throwaway servers the
# suite needs (tools/services.sh: its own PostgreSQL, Redis and FerretDB on
# ports of their own; stopped again at the end), builds Release with tests and
# benchmarks and runs the tests only a Release build can run (packages,
# failovers, preloaded libraries, style), then builds and runs the rest of
# the suite under ASan + UBSan, runs the concurrency tests under TSan, and
# fuzzes each fuzz target for 20 s with libFuzzer.
#
# STRATA_SKIP_ASAN=1 skips the ASan pass (the Release pass then builds and
# runs the whole suite), STRATA_SKIP_TSAN=1 the TSan pass,
# STRATA_SKIP_FUZZ=1 the fuzzing (quicker local runs); STRATA_FUZZ_SECONDS
# sets the time per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where the time went, printed at the end (and when a step fails): one line a step.
timings=()
step_start=$SECONDS
step() {  # step NAME: closes the step that ran since the last call
  timings+=("$(printf '%5ds  %s' $((SECONDS - step_start)) "$1")")
  step_start=$SECONDS
}
print_timings() {
  echo "test.sh: where the time went (${SECONDS}s in all):"
  printf '  %s\n' "${timings[@]}"
}

tools/install-deps.sh test
step "install missing packages"

# One run at a time on a machine: the test servers' ports are fixed
# (tools/test-servers.env), and a second run would take the first one's
# servers for its own and lose them when the first run stops them.
exec 9>"${TMPDIR:-/tmp}/strata-test-run.lock"
if ! flock -n 9; then
  echo "test.sh: another test run on this machine holds ${TMPDIR:-/tmp}/strata-test-run.lock; waiting for it"
  flock -w 2400 9 || { echo "test.sh: the other run did not end within 40 min" >&2; exit 1; }
fi
tools/wait-for-test-ports.sh

trap 'tools/services.sh stop; print_timings' EXIT
tools/services.sh start
step "wait for the machine's test ports, start the test servers"

# What the tree holds now: a test or a build that leaves a file in it fails
# the run (checked at the end; a developer's own changes are not counted).
tree_status() { git status --porcelain --untracked-files=all 2>/dev/null || true; }
tree_before=$(tree_status)

# ctest with its preset; when tests fail, the end of their output again after
# the summary (tools/ctest-recap.sh), so that a log's tail shows why.
run_ctest() {
  local preset=$1 dir=$2
  shift 2
  ctest --preset "$preset" "$@" && return 0
  local rc=$?
  tools/ctest-recap.sh "$dir"
  return "$rc"
}

# Tests that run in the Release pass only, by label (tests/README.md):
# packaging (builds and installs of their own), failover (servers failed
# over under load), preload (libfiu's wrappers preloaded into the CLI: they
# and ASan's interceptors crash together) and style (clang-format and
# clang-tidy, the same check in any build). Every other test runs once, in
# the ASan + UBSan pass. CMakeLists.txt's STRATA_RELEASE_PASS_LABELS lists
# the same labels: the target release_pass builds what these tests need,
# the programs, the plugins and the benchmarks.
release_only='^(packaging|failover|preload|style)$'

release_target=release_pass release_tests=(-L "$release_only")
if [[ "${STRATA_SKIP_ASAN:-0}" == 1 ]]; then  # no ASan pass: Release runs it all
  release_target=all release_tests=()
fi

cmake --preset release -DSTRATA_BUILD_TESTS=ON -DSTRATA_BUILD_BENCHMARKS=ON >/dev/null
cmake --build --preset release --target "$release_target"
step "Release build ($release_target)"
run_ctest release build -j2 "${release_tests[@]}"
step "Release tests"

if [[ "${STRATA_SKIP_ASAN:-0}" != 1 ]]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  step "ASan + UBSan build"
  # Everything but the Release pass's labels: the server groups' tests
  # other than failovers (replicas, the Sentinel and Cluster kits, slot
  # migration) run here too. Labels: tests/CMakeLists.txt.
  # Two at a time: many tests wait on servers (pg_cron's minute, failovers), and
  # every test has databases, prefixes, ports and directories of its own.
  # The asan test preset sets ASAN_OPTIONS=intercept_tls_get_addr=0: GCC 12's
  # runtime mistakes a dynamic-TLS block that happens to start 16 bytes into
  # a page for a pre-2.25 glibc header, reads garbage as its bounds, and
  # LeakSanitizer's exit-time scan dies ("Tracer caught signal 11") after
  # every assertion passed. Leak detection itself stays on.
  run_ctest asan build-asan -j2 -LE "$release_only"
  step "ASan + UBSan tests"
fi

# The concurrency tests (group commit, the audit outbox, send_async, the
# redis plugin's auto-pipelining, the chaos rounds) under ThreadSanitizer:
# only their executables and the plugins are built (a test labelled tsan
# needs its executable listed here). tests/tsan.supp drops the reports
# inside Debian's uninstrumented libmongoc and libbson.
if [[ "${STRATA_SKIP_TSAN:-0}" != 1 ]]; then
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan --target concurrency_tests_testing concurrency_tests_embedded concurrency_tests_production \
    redis_tests strata-chaos
  step "TSan build"
  run_ctest tsan build-tsan -j2 -L '^tsan$'
  step "TSan tests"
fi

# The fuzz targets under libFuzzer, a fixed time each (tests/fuzz/README.md).
if [[ "${STRATA_SKIP_FUZZ:-0}" != 1 ]]; then
  tools/fuzz.sh "${STRATA_FUZZ_SECONDS:-20}"
  step "fuzzing (build and runs)"
fi

tree_after=$(tree_status)
if [[ "$tree_after" != "$tree_before" ]]; then
  echo "test.sh: the run changed the source tree (git status, before and after):" >&2
  diff <(echo "$tree_before") <(echo "$tree_after") >&2 || true
  exit 1
fi
