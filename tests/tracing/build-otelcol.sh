#!/usr/bin/env bash
# Builds the test's OpenTelemetry Collector (tests/tracing/otelcol: the
# collector's OTLP receiver and file exporter, from the Go module proxy)
# into OUT. Rebuilt only when its sources are newer than OUT.
#
# Usage: tests/tracing/build-otelcol.sh OUT
set -euo pipefail
out=$1
src=$(cd "$(dirname "$0")/otelcol" && pwd)
export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-mod=mod
command -v go >/dev/null || { echo "build-otelcol: no go toolchain (tools/install-ferretdb.sh installs one)" >&2; exit 1; }
if [[ -x $out && -z $(find "$src" -newer "$out" -type f) ]]; then exit 0; fi
mkdir -p "$(dirname "$out")"
(cd "$src" && go build -o "$out.tmp" .)
mv "$out.tmp" "$out"
echo "build-otelcol: built $out"
