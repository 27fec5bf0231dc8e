#!/usr/bin/env bash
# Optional plugins: on a machine without libpq, hiredis and libmongoc (their
# pkg-config files hidden), the configure succeeds with those three plugins
# skipped, one line each, and their tests left out; asking for one of them
# explicitly fails the configure; the build of what is left (the CLI and the
# memory, aes_gcm, sqlite and file_audit plugins) runs the embedded default.
# Usage: configure_test.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
# The build of what is left goes beside build/ (ignored by git), at the same
# depth and in Release: ccache's entries are keyed on paths relative to the
# source tree (CMakeLists.txt), so it compiles nothing the Release build has
# not (in a temporary directory, every run compiled the core afresh: 6 min).
build="$src/build-optional-plugins"
rm -rf "$build"
trap 'rm -rf "$tmp" "$build"' EXIT

# Every pkg-config file the machine has, except the three drivers'.
mkdir "$tmp/pc"
for dir in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
  [[ -d $dir ]] || continue
  for pc in "$dir"/*.pc; do
    case $(basename "$pc") in libpq.pc | hiredis.pc | libmongoc-*.pc) continue ;; esac
    [[ -e "$tmp/pc/$(basename "$pc")" ]] || ln -s "$pc" "$tmp/pc/"
  done
done
export PKG_CONFIG_LIBDIR="$tmp/pc"
if pkg-config --exists libmongoc-1.0; then echo "libmongoc is still visible" >&2; exit 1; fi

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_BENCHMARKS=OFF >"$tmp/configure.log"
for plugin in postgres redis mongodb; do
  grep -q "plugin $plugin: skipped, its driver" "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
done
grep -q "bundled plugins built: memory, aes_gcm, sqlite, file_audit$" "$tmp/configure.log"
# Their tests are left out at configure time, not skipped at run time.
if (cd "$build" && ctest -N) | grep -E "postgres:|redis:|mongodb:|production/|interop"; then
  echo "tests of skipped plugins were configured" >&2
  exit 1
fi

if cmake -S "$src" -B "$tmp/build-on" -G Ninja -DSTRATA_PLUGIN_MONGODB=ON >"$tmp/on.log" 2>&1; then
  echo "STRATA_PLUGIN_MONGODB=ON without libmongoc configured" >&2
  exit 1
fi
grep -q "STRATA_PLUGIN_MONGODB=ON, but its driver" "$tmp/on.log"

cmake --build "$build" --target strata strata_plugin_memory strata_plugin_aes_gcm strata_plugin_sqlite \
  strata_plugin_file_audit >/dev/null
STRATA_DATA_DIR="$tmp/data" "$build/bin/strata" check | grep -q "all 5 instances healthy"
echo "optional plugins: ok"
