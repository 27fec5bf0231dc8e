#!/usr/bin/env bash
# The Debian packages an operator installs: cpack -G DEB from the build
# directory, then each package's name, version, contents and dependencies
# (computed from the binaries), and the strata package unpacked and run.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$("$build/bin/strata" --version)

(cd "$build" && cpack -G DEB -B "$tmp/debs" >"$tmp/cpack.log") || { cat "$tmp/cpack.log"; exit 1; }
fail() { echo "deb package: $*" >&2; exit 1; }
deb() { echo "$tmp/debs/${1}_${version}_amd64.deb"; }
depends() { dpkg-deb -f "$(deb "$1")" Depends; }
files() { dpkg-deb -c "$(deb "$1")" | awk '{print $6}'; }

for package in strata strata-dev strata-plugin-postgres strata-plugin-redis strata-plugin-mongodb; do
  [[ -f $(deb $package) ]] || fail "no $package package (cpack wrote: $(ls "$tmp/debs"))"
  [[ $(dpkg-deb -f "$(deb $package)" Version) == "$version" ]] || fail "$package is not at version $version"
done

# strata: the CLI, libstrata and the plugins that need no server driver.
for file in ./usr/bin/strata ./usr/lib/libstrata.so.0.3 ./usr/lib/strata/plugins/libstrata-sqlite.so \
            ./usr/lib/strata/plugins/libstrata-memory.so ./usr/lib/strata/plugins/libstrata-aes_gcm.so \
            ./usr/lib/strata/plugins/libstrata-file_audit.so; do
  files strata | grep -qx "$file" || fail "strata lacks $file"
done
files strata | grep -q "include/\|libstrata-postgres" && fail "strata holds headers or a server plugin"
depends strata | grep -q "libcrypto++8" || fail "strata does not depend on libcrypto++8: $(depends strata)"
depends strata | grep -Eq "libpq|hiredis|mongoc" && fail "strata pulls a server driver: $(depends strata)"

# strata-dev: headers, CMake packages, pkg-config file, the link-time name.
for file in ./usr/include/strata/host.hpp ./usr/include/strata/export.hpp ./usr/include/strata/sdk/release.hpp \
            ./usr/lib/cmake/Strata/StrataConfig.cmake ./usr/lib/cmake/StrataSDK/StrataSDKConfig.cmake \
            ./usr/lib/pkgconfig/strata.pc ./usr/lib/libstrata.so; do
  files strata-dev | grep -qx "$file" || fail "strata-dev lacks $file"
done
depends strata-dev | grep -q "strata (= $version)" || fail "strata-dev: $(depends strata-dev)"

# Each server plugin: its library, strata, its own driver and nothing else.
for pair in postgres:libpq5 redis:libhiredis mongodb:libmongoc-1.0-0; do
  name=${pair%%:*} driver=${pair#*:}
  [[ $(files strata-plugin-$name | grep -v '/$') == "./usr/lib/strata/plugins/libstrata-$name.so" ]] ||
    fail "strata-plugin-$name holds: $(files strata-plugin-$name)"
  depends strata-plugin-$name | grep -q "strata (= $version)" || fail "strata-plugin-$name: $(depends strata-plugin-$name)"
  depends strata-plugin-$name | grep -q "$driver" || fail "strata-plugin-$name does not pull $driver"
  for other in libpq5 libhiredis libmongoc libbson; do
    [[ $driver == "$other"* || ($name == mongodb && $other == libbson) ]] && continue  # libmongoc needs libbson
    depends strata-plugin-$name | grep -q "$other" && fail "strata-plugin-$name pulls $other too"
  done
done

# Unpacked as an operator would install it, the CLI runs the embedded default.
dpkg -x "$(deb strata)" "$tmp/root"
[[ $("$tmp/root/usr/bin/strata" --version) == "$version" ]] || fail "the packaged strata is not $version"
STRATA_DATA_DIR="$tmp/data" "$tmp/root/usr/bin/strata" check | grep -q "all 5 instances healthy" ||
  fail "the packaged strata does not run the embedded default"
echo "deb packages: ok ($(ls "$tmp/debs" | tr '\n' ' '))"
