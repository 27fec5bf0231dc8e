#!/usr/bin/env bash
# The host as an application gets it: install Strata to a temporary prefix,
# build tests/host_package/app outside the tree twice — with
# find_package(Strata) and with pkg-config — and run it on the embedded
# default config and on the memory stubs.
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null

# CMake: find_package(Strata), Strata::core.
cmake -S "$src/tests/host_package/app" -B "$tmp/cmake-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_CXX_FLAGS="${STRATA_CONSUMER_CXX_FLAGS:-}" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null

# pkg-config: one compiler line.
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046  # pkg-config's output is meant to be split
g++ ${STRATA_CONSUMER_CXX_FLAGS:-} -o "$tmp/pkg-app" "$src/tests/host_package/app/main.cpp" $(pkg-config --cflags --libs strata)
[[ $(pkg-config --modversion strata) == $("$tmp/prefix/bin/strata" --version) ]]
# The rpath it links with is the plain prefix, not lib/pkgconfig/../../lib.
[[ $(pkg-config --libs strata) == *"-Wl,-rpath,$tmp/prefix/lib "* ]] ||
  { echo "strata.pc's rpath is not the install prefix: $(pkg-config --libs strata)" >&2; exit 1; }

for app in "$tmp/cmake-build/app" "$tmp/pkg-app"; do
  for config in embedded memory; do
    STRATA_DATA_DIR="$tmp/data-$(basename "$app")-$config" "$app" "$config"
  done
done
echo "host package: ok"
