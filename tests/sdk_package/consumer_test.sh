#!/usr/bin/env bash
# The SDK as an integrator gets it: install Strata to a temporary prefix, build
# sdk/template against the installed StrataSDK package, run its conformance
# test, and load the plugin with the installed `strata`.
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The installed CLI keeps its data (the embedded default's SQLite file, audit
# log and key) here, never in the user's ~/.local/share/strata.
export STRATA_DATA_DIR="$tmp/data"

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/sdk/template" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_CXX_FLAGS="${STRATA_CONSUMER_CXX_FLAGS:-}" >/dev/null
cmake --build "$tmp/build" >/dev/null
# Both kit runs: on the class directly, and on the built library through the host.
ctest --test-dir "$tmp/build" --output-on-failure
test -x "$tmp/build/example_cache_hosted" || { echo "the template did not find the installed host package" >&2; exit 1; }

cat >"$tmp/example.toml" <<TOML
[cache.default]
plugin = "$tmp/build/libstrata-example_cache.so"
default_ttl_s = 60
TOML
# The installed CLI finds its bundled plugins beside itself (prefix/lib/strata/plugins).
"$tmp/prefix/bin/strata" --config "$tmp/example.toml" check
"$tmp/prefix/bin/strata" --config "$tmp/example.toml" plugins | grep -q "example_cache  0.1.0"
env STRATA_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "$tmp/prefix/bin/strata" check
echo "sdk package: ok"
