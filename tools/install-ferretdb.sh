#!/usr/bin/env bash
# Installs FerretDB v1.24.2 (Apache-2.0), a MongoDB wire-protocol server, for
# the MongoDB plugin's tests; MongoDB itself is not packaged by Debian.
# Prints the binary's path. Idempotent.
#
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a
# binary that panics at start ("Invalid build/version/version.txt file
# content"): the module lacks the generated version file it embeds. So this
# script fetches the same module through the Go module proxy, writes that
# file, and builds it.
set -euo pipefail

version=v1.24.2
bin_dir=${STRATA_TOOLS_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/strata/bin}
binary=$bin_dir/ferretdb-$version
if [[ -x $binary ]]; then
  echo "$binary"
  exit 0
fi

export PATH=$PATH:/usr/local/go/bin
if ! command -v go >/dev/null; then
  echo "installing Go (golang-go) to build FerretDB" >&2
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq golang-go >/dev/null
fi
# FerretDB needs a newer Go than Debian's: let go fetch that toolchain through the proxy.
export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building FerretDB $version (module from the Go proxy) into $bin_dir" >&2
module_dir=$(cd "$work" && go mod download -json "github.com/FerretDB/FerretDB@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
cp -r "$module_dir" "$work/src"
chmod -R u+w "$work/src"
echo "$version" > "$work/src/build/version/version.txt"
mkdir -p "$bin_dir"
(cd "$work/src" && go build -o "$binary.tmp" ./cmd/ferretdb)
mv "$binary.tmp" "$binary"
echo "$binary"
