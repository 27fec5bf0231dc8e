#!/usr/bin/env bash
# Installs the Debian packages Strata needs that are not installed yet; when
# everything is there it changes nothing and asks no server.
#
# Usage: tools/install-deps.sh build   # what building the CLI and plugins needs
#        tools/install-deps.sh test    # plus the test suite, benchmarks, backends and fuzzing
#        tools/install-deps.sh fuzz    # what tools/fuzz.sh needs
set -euo pipefail

build_packages=(
  cmake ninja-build g++ pkg-config
  libboost-filesystem-dev libtomlplusplus-dev libcrypto++-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libhiredis-dev libpq-dev libmongoc-dev libsqlite3-dev libicu-dev
  libcrypt-dev libargon2-dev libssl-dev prometheus-cpp-dev libcurl4-openssl-dev
)
# The suite's servers run as throwaway instances (tools/services.sh): these
# packages only provide the binaries; pg_cron is preloaded into that instance;
# pg_auto_failover runs the HA tests' formation (tools/pg-formation.sh).
# dpkg-dev: dpkg-shlibdeps, which computes the Debian packages' dependencies.
# ccache: the compiler cache CMakeLists.txt uses when it is installed.
# faketime: libfaketime, which moves the clock of one process (tests/cli/clock_test.sh);
# fiu-utils: libfiu's fiu-run, which fails a process's POSIX calls (tests/cli/disk_test.sh);
# libfiu-dev: its control API, with which strata-chaos --disk fails them mid-round.
# clang-format-16, clang-tidy-16: the style of changed code (tools/check-style.sh).
test_packages=(
  catch2 libbenchmark-dev dpkg-dev ccache
  redis-server redis-tools postgresql postgresql-client postgresql-15-cron
  postgresql-15-auto-failover pg-auto-failover-cli faketime fiu-utils libfiu-dev clang-format-16 clang-tidy-16
)

# The fuzz targets are built with clang 16 and its libFuzzer (tools/fuzz.sh).
fuzz_packages=(clang-16 libclang-rt-16-dev)

set -- "${1:-build}"
case "$1" in
  build) wanted=("${build_packages[@]}") ;;
  test) wanted=("${build_packages[@]}" "${test_packages[@]}" "${fuzz_packages[@]}") ;;
  fuzz) wanted=("${build_packages[@]}" "${fuzz_packages[@]}") ;;
  *) echo "usage: $0 build|test|fuzz" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# The interop test runs the seed's Node.js clients; any Node.js >= 18 will do,
# so Debian's is installed only when the machine has none.
if [[ $1 == test ]] && ! command -v node >/dev/null; then missing+=(nodejs npm); fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
echo "installing: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
