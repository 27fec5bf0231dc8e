#!/usr/bin/env bash
# Installs the seed's Node.js clients for the interop test, exactly as
# package-lock.json pins them, into DIR/node_modules (the build tree, so the
# source tree stays clean). Skips the install when DIR already holds this lockfile's.
# Usage: npm_install.sh SOURCE_DIR DIR
set -euo pipefail
source_dir=$1 dir=$2
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node and npm are needed for the interop test (tools/install-deps.sh test installs them)" >&2
  exit 1
fi
mkdir -p "$dir"
if cmp -s "$source_dir/package-lock.json" "$dir/node_modules/.strata-lock" 2>/dev/null; then exit 0; fi
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$dir/"
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.strata-lock
echo "interop: installed $(node --version) clients: $(node -p "Object.keys(require('./package.json').dependencies).join(', ')")"
