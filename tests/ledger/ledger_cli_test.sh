#!/usr/bin/env bash
# The tamper-evident audit trail as an operator uses it, on the built-in
# default (SQLite, the JSON-lines file sink): `strata audit verify` passes on
# an untouched trail and names each event edited, deleted (the newest
# included) or inserted in audit.jsonl; `strata audit prove` and
# `consistency` print proofs that an independent verifier (Go:
# transparency-dev/merkle and golang.org/x/mod/sumdb/note) accepts.
# Usage: ledger_cli_test.sh STRATA_BINARY SOURCE_DIR
set -u
strata=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

unset STRATA_CONFIG STRATA_KEY DB_ENCRYPTION_KEY STRATA_PLUGIN_PATH
export STRATA_DATA_DIR=$tmp/data
audit=$tmp/data/audit.jsonl

"$strata" demo >/dev/null 2>&1 || fail "strata demo"
out=$("$strata" audit verify 2>&1) || fail "verify of an untouched trail: $out"
grep -q "^ok: every event since the ledger began is sealed and unchanged" <<<"$out" || fail "verify said: $out"
events=$(wc -l <"$audit")
[[ $events -ge 5 ]] || fail "the demo left $events events"

# expect_problem NAME KIND ID: verify exits 1 and names ID as KIND.
expect_problem() {
  local out
  out=$("$strata" audit verify 2>&1) && { fail "$1: verify passed"; return; }
  grep -q "^$2: .*$3" <<<"$out" || fail "$1: wanted '$2: ... $3', got: $out"
  grep -q "the audit trail was tampered with" <<<"$out" || fail "$1: no summary on stderr: $out"
}
id_of_line() { sed -n "${1}p" "$audit" | grep -o '"_id":"[0-9a-f-]*"' | cut -d'"' -f4; }
cp "$audit" "$tmp/original.jsonl"

# Edited: one field of the third event.
id=$(id_of_line 3)
sed -i '3s/"ip":"[^"]*"/"ip":"203.0.113.9"/' "$audit"
expect_problem "an edited event" edited "$id"
cp "$tmp/original.jsonl" "$audit"

# Deleted: the newest event.
id=$(id_of_line "$events")
sed -i '$d' "$audit"
expect_problem "the newest event deleted" dropped "$id"
cp "$tmp/original.jsonl" "$audit"

# Inserted: a copy of an event under a new id.
new_id=00000000-0000-4000-8000-000000000001
sed -n 2p "$audit" | sed "s/\"_id\":\"[0-9a-f-]*\"/\"_id\":\"$new_id\"/" >>"$audit"
expect_problem "an inserted event" inserted "$new_id"
cp "$tmp/original.jsonl" "$audit"

# Reordered lines: what every reader sees is unchanged (events are sorted by
# time), and each event still matches its leaf.
{ sed -n 2p "$tmp/original.jsonl"; sed -n 1p "$tmp/original.jsonl"; sed -n '3,$p' "$tmp/original.jsonl"; } >"$audit"
"$strata" audit verify >/dev/null 2>&1 || fail "reordered lines were reported"
cp "$tmp/original.jsonl" "$audit"

# Proofs, checked by the Go verifier.
export PATH=$PATH:/usr/local/go/bin
export GOFLAGS=-mod=mod
if ! command -v go >/dev/null; then
  fail "no go toolchain for the independent verifier (tools/install-ferretdb.sh installs it)"
else
  (cd "$src/tests/ledger/go_verifier" && go build -o "$tmp/go_verifier" .) || fail "building the Go verifier"
  id=$(id_of_line 4)
  "$strata" audit prove "$id" >"$tmp/inclusion.json" || fail "audit prove"
  "$tmp/go_verifier" inclusion "$tmp/inclusion.json" || fail "the Go verifier refused the inclusion proof"
  size=$(grep -o '"tree_size": [0-9]*' "$tmp/inclusion.json" | grep -o '[0-9]*$')
  "$strata" audit consistency 2 "$size" >"$tmp/consistency.json" || fail "audit consistency"
  "$tmp/go_verifier" consistency "$tmp/consistency.json" || fail "the Go verifier refused the consistency proof"
  # A proof for another event's leaf is refused.
  sed -i "s/\"leaf_index\": [0-9]*/\"leaf_index\": 0/" "$tmp/inclusion.json"
  "$tmp/go_verifier" inclusion "$tmp/inclusion.json" >/dev/null 2>&1 && fail "the Go verifier took a bent proof"
fi
"$strata" audit key | grep -Eq '^strata\.audit/[^+ ]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$' || fail "audit key"

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "ledger cli: ok"
