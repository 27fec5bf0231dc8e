#!/usr/bin/env bash
# The strata CLI as an operator runs it: exit codes, stdout, one-line errors on stderr.
# Usage: cli_test.sh STRATA_BINARY SOURCE_DIR
set -u
strata=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

# expect NAME EXIT_CODE PATTERN_IN_OUTPUT -- command...
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [[ $status -ne $code ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $name (exit $status, wanted $code; output wanted /$pattern/):"
    sed 's/^/  | /' <<<"$out"
    failures=$((failures + 1))
  else
    echo "ok: $name"
  fi
}

unset STRATA_CONFIG STRATA_KEY DB_ENCRYPTION_KEY STRATA_PLUGIN_PATH
# The built-in default keeps its data here, not in the real ~/.local/share/strata.
export STRATA_DATA_DIR=$tmp/data

expect "first run generates the key file, once" 0 "generated a new 256-bit cipher key in $tmp/data/cipher.key" -- "$strata" check
if "$strata" check 2>&1 | grep -q "generated a new"; then
  echo "FAIL: a second run generated another key"; failures=$((failures + 1))
fi
if [[ $(stat -c %a "$tmp/data/cipher.key") != 600 || $(stat -c %a "$tmp/data") != 700 ]]; then
  echo "FAIL: key file or data directory is not private"; failures=$((failures + 1))
fi
expect "plugins on the built-in default" 0 "storage +default +sqlite +1\.0\.0 +1\.1 " -- "$strata" plugins
expect "check on the built-in default" 0 "all 5 instances healthy" -- "$strata" check
for file in strata.db audit.jsonl cipher.key; do
  [[ -f $tmp/data/$file ]] || { echo "FAIL: $file not in the data directory"; failures=$((failures + 1)); }
done
chmod 644 "$tmp/data/cipher.key"
expect "a key file others can read is refused" 1 "has mode 0644: group or others can read it; run .chmod 600" -- "$strata" check
chmod 600 "$tmp/data/cipher.key"
expect "STRATA_KEY takes precedence over the key file" 0 "^ok +cipher" -- env STRATA_KEY=$key "$strata" check
expect "config redacts the key" 0 "key = '<redacted>'" -- env STRATA_KEY=$key "$strata" config
if env STRATA_KEY=$key "$strata" config | grep -q $key; then
  echo "FAIL: config printed the key"; failures=$((failures + 1))
fi
expect "--config picks a file" 0 "all 5 instances healthy" -- "$strata" --config "$src/config/testing.toml" check
expect "STRATA_CONFIG picks a file" 0 "test-2026" -- env STRATA_CONFIG="$src/config/testing.toml" "$strata" config

cat >"$tmp/typo.toml" <<'TOML'
[cache.default]
plugin = "memory"
default_tll_s = 5
TOML
expect "unknown key: one sentence, exit 1" 1 "^strata: error: .*typo.toml:3:1: unknown key 'default_tll_s' in \[cache.default\]; did you mean 'default_ttl_s'\?$" \
  -- "$strata" --config "$tmp/typo.toml" check
expect "missing config file" 1 "^strata: error: cannot read config file" -- "$strata" --config "$tmp/none.toml" plugins
expect "bad key length" 1 "key 'default' must be exactly 64 hex characters" -- env STRATA_KEY=abc "$strata" check
expect "no subcommand is a usage error" 106 "subcommand is required" -- "$strata"
if "$strata" --config "$tmp/typo.toml" check 2>&1 | grep -qiE "terminate|what\(\)|Aborted"; then
  echo "FAIL: an error leaked an exception"; failures=$((failures + 1))
fi

echo "$failures failed"
[[ $failures -eq 0 ]]
