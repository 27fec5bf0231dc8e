#!/usr/bin/env bash
# The CLI on a failing disk, faults from libfiu (Debian fiu-utils: fiu-run
# preloads wrappers of the POSIX calls): SQLite's writes, the audit sink's
# writes and a backup's writes fail with an I/O error. Each command says
# what failed, naming the file; nothing acknowledged is lost, and the next
# command, on a healthy disk, finds everything in order.
# Usage: disk_test.sh STRATA_BINARY
set -u
strata=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
command -v fiu-run >/dev/null || { echo "FAIL: fiu-run is missing (tools/install-deps.sh test installs fiu-utils)"; exit 1; }

unset STRATA_CONFIG STRATA_KEY DB_ENCRYPTION_KEY STRATA_PLUGIN_PATH
export STRATA_DATA_DIR=$tmp/data
# Runs strata with every call of the POSIX function FUNCTION failing (posix/io/rw/write, …/pwrite).
failing() { local point=$1; shift; fiu-run -x -c "enable name=$point" "$strata" "$@"; }

echo 'alice-password-1' | "$strata" user add alice --email alice@example.org >/dev/null 2>&1 || fail "user add alice"
echo 'bob-password-123' | "$strata" user add bob --email bob@example.org >/dev/null 2>&1 || fail "user add bob"
"$strata" send --from alice --to bob "before the faults" >/dev/null 2>&1 || fail "send"

# SQLite writes with pwrite: every one fails. The send fails, naming the
# database file; nothing half-written is left, and the next send works.
out=$(failing posix/io/rw/pwrite send --from alice --to bob "never stored" 2>&1) && fail "a send succeeded while SQLite could not write"
grep -q "disk I/O error ($tmp/data/strata.db)" <<<"$out" || fail "the error does not name the database file: $out"
out=$("$strata" inbox bob 2>&1)
grep -q "never stored" <<<"$out" && fail "the failed send is in the inbox: $out"
grep -q "before the faults" <<<"$out" || fail "an earlier message is gone: $out"
"$strata" send --from alice --to bob "after the disk healed" >/dev/null 2>&1 || fail "a send after the faults"

# The audit sink (a JSON-lines file, written with write) fails: the send is
# acknowledged, its event waits in the storage's transactional outbox, and
# the next command relays it into the sink.
out=$(failing posix/io/rw/write send --from alice --to bob "audited later" 2>&1) || fail "a send failed because the sink did: $out"
id=$(sed -n 's/^sent \([0-9a-f-]*\) .*/\1/p' <<<"$out")
[[ -n $id ]] || fail "no message id in: $out"
grep -q "events wait in the storage's audit outbox" <<<"$out" || fail "the sink's failure was not reported: $out"
grep -q "message:$id" "$tmp/data/audit.jsonl" && fail "the event reached the sink while it could not be written"
"$strata" inbox bob >/dev/null 2>&1 || fail "inbox after the sink healed"
grep -q "message:$id" "$tmp/data/audit.jsonl" || fail "the outbox's event never reached the sink"
"$strata" audit verify >/dev/null 2>&1 || fail "audit verify after the outbox was relayed"

# A backup whose files cannot be written: it fails naming the file and the
# partial directory, which `backup verify` refuses; the next backup verifies.
mkdir -p "$tmp/backups"
out=$(failing posix/io/rw/write backup --out "$tmp/backups" 2>&1) && fail "a backup succeeded while nothing could be written"
grep -q "cannot write $tmp/backups/strata-backup-" <<<"$out" || fail "the error does not name the file: $out"
grep -q "the partial backup is in" <<<"$out" || fail "the partial backup is not named: $out"
partial=$(ls -d "$tmp/backups"/strata-backup-* | head -n 1)
"$strata" backup verify "$partial" >/dev/null 2>&1 && fail "backup verify took the partial backup"
sleep 1  # backups are named by the second
out=$("$strata" backup --out "$tmp/backups" 2>&1) || fail "a backup on a healthy disk: $out"
good=$(ls -d "$tmp/backups"/strata-backup-* | grep -v "$partial" | head -n 1)
"$strata" backup verify "$good" >/dev/null 2>&1 || fail "the healthy backup does not verify"

if ((failures > 0)); then
  echo "disk_test: $failures failure(s)"
  exit 1
fi
echo "disk_test: every check passed"
