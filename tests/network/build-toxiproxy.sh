#!/usr/bin/env bash
# Builds Shopify's toxiproxy server (v2.5.0, from the Go module proxy) into
# OUT, for the network-fault tests. Skipped when OUT exists.
#
# Usage: tests/network/build-toxiproxy.sh OUT
set -euo pipefail
out=$1
[[ -x $out ]] && exit 0
export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "build-toxiproxy: no go toolchain (tools/install-ferretdb.sh installs one)" >&2; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN=$bin go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.5.0
mkdir -p "$(dirname "$out")"
mv "$bin/server" "$out"
echo "build-toxiproxy: built $out"
