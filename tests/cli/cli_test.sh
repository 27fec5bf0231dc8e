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
# One version: the bundled plugins report the CLI's.
version=$("$strata" --version)
expect "plugins on the built-in default, at the CLI's version" 0 "storage +default +sqlite +${version//./\\.} +1\.[0-9]+ " -- "$strata" plugins
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
printf '[storage]\nplugin = "memory"\n' >"$tmp/one.toml"
expect "check counts one instance as one" 0 "^the 1 instance is healthy$" -- "$strata" --config "$tmp/one.toml" check

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

# ---- An audit event neither the sink nor the spool takes is lost: the command must not exit 0.
mkdir -p "$tmp/lost/audit.jsonl"   # a directory where the audit file should be: every append fails
touch "$tmp/lost/not-a-dir"        # the spool's parent is a file: the spool cannot be written either
cat >"$tmp/lost.toml" <<TOML
[storage]
plugin = "sqlite"
path = "$tmp/lost/strata.db"
[audit]
plugin = "file_audit"
path = "$tmp/lost/audit.jsonl"
outbox = false
spool_path = "$tmp/lost/not-a-dir/spool.jsonl"
[cipher]
plugin = "aes_gcm"
key = "$key"
TOML
expect "a lost audit event exits non-zero and says so" 1 "[0-9]+ audit event\(s\) of this command were lost" -- \
  bash -c "echo 'a long enough password' | '$strata' --config '$tmp/lost.toml' user add dave --email d@example.org"

# ---- The newcomer path: separate processes on one data directory, no server.
export STRATA_DATA_DIR=$tmp/newcomer
alice_pw='correct horse battery staple'
expect "user add reads the password from stdin" 0 "^added user alice " -- \
  bash -c "printf '%s\n' '$alice_pw' | '$strata' user add alice --email alice@example.org"
expect "a second user" 0 "^added user bob " -- bash -c "echo 'bob has a long password' | '$strata' user add bob --email bob@example.org"
expect "a taken username is refused" 1 "already_exists" -- bash -c "echo 'another long one' | '$strata' user add alice --email a2@example.org"
expect "no password on stdin is refused" 1 "no password on stdin" -- bash -c "'$strata' user add carol --email c@example.org </dev/null"
expect "there is no password option" 109 "password" -- "$strata" user add carol --email c@example.org --password secret123
expect "send in another process" 0 "^sent [0-9a-f-]{36} from alice to bob" -- "$strata" send --from alice --to bob "Hello Bob, from another process"
expect "send with a TTL" 0 "expires" -- "$strata" send --from bob --to alice --ttl 3600 "Hi Alice"
expect "inbox in a third process, decrypted" 0 "alice +Hello Bob, from another process" -- "$strata" inbox bob
id=$("$strata" inbox bob | awk 'NR == 3 { print $1 }')
expect "read as the recipient" 0 "Hello Bob, from another process" -- "$strata" read "$id" --as bob
expect "read as someone else is not_found" 1 "not_found" -- bash -c "echo 'carol has a long password' | '$strata' user add carol --email c@example.org >/dev/null && '$strata' read '$id' --as carol"
expect "hostile text is shown escaped" 0 'esc\\x1b\[31m' -- bash -c "'$strata' send --from alice --to bob \$'esc\\x1b[31m' >/dev/null && '$strata' inbox bob"
expect "user show: the active key's raw X25519 public key, in hex" 0 "public key +[0-9a-f]{64}" -- "$strata" user show alice
expect "keys rotate" 0 "older keys are deactivated" -- "$strata" keys rotate alice
expect "keys rewrap with one key: nothing to do" 0 "0 messages re-sealed" -- "$strata" keys rewrap
expect "audit tail" 0 "message.read" -- "$strata" audit tail --limit 50
expect "metrics from every process so far" 0 'strata_plugin_calls_total\{instance="default",operation="seal",outcome="ok",role="cipher"\} 7' -- "$strata" metrics
# watch: what is stored from the start, then only what is new after a restart from the cursor file.
expect "watch prints bob's messages in commit order" 0 "alice: Hello Bob, from another process" -- \
  "$strata" watch bob --cursor-file "$tmp/bob.cursor" --idle-timeout 1
if ! grep -Eq '^[^ ]+:[0-9]+$' "$tmp/bob.cursor"; then
  echo "FAIL: watch left no cursor file"; failures=$((failures + 1))
fi
"$strata" send --from alice --to bob "after the restart" >/dev/null
watched=$("$strata" watch bob --cursor-file "$tmp/bob.cursor" --idle-timeout 1)
if [[ $watched == *"after the restart"* && $watched != *"from another process"* ]]; then
  echo "ok: watch resumes from its cursor file, nothing repeated"
else
  echo "FAIL: watch resumed from its cursor file wrongly: $watched"; failures=$((failures + 1))
fi
echo "garbage" >"$tmp/bad.cursor"
expect "a malformed cursor file is refused by name" 1 "bad.cursor: inbox cursor 'garbage' has no ':'" -- \
  "$strata" watch bob --cursor-file "$tmp/bad.cursor" --idle-timeout 1
"$strata" send --from alice --to bob --ttl 1 "gone in a second" >/dev/null
sleep 1.5
expect "cleanup --dry-run counts without deleting" 0 "^would purge 1 expired message \\(dry run: nothing deleted\\)$" -- "$strata" cleanup --dry-run
expect "cleanup purges through the scheduler" 0 "^purged 1 expired message$" -- "$strata" cleanup
expect "cleanup is audited" 0 "maintenance.purge" -- "$strata" audit tail --limit 50
expect "send a message longer than argv allows, from stdin" 0 "^sent [0-9a-f-]{36} from alice to bob" -- bash -c "head -c 300000 /dev/zero | tr '\\0' 'x' | '$strata' send --from alice --to bob -"
expect "send with no text and nothing on stdin is refused" 1 "no message text" -- bash -c "'$strata' send --from alice --to bob </dev/null"
if grep -rq "$alice_pw" "$STRATA_DATA_DIR"; then
  echo "FAIL: the password was written to the data directory in clear"; failures=$((failures + 1))
fi
expect "demo on the embedded default" 0 "demo finished: every step behaved as expected" -- "$strata" demo

# ---- Backup and restore through the CLI, into a directory with a hostile name.
hostile="$tmp/backups with 'quotes' \"and\" \$(touch $tmp/pwned); rm -rf x"
mkdir -p "$hostile"
expect "backup" 0 "^backup written to " -- "$strata" backup --out "$hostile"
backup_dir=$(ls -d "$hostile"/strata-backup-*)
expect "backup is audited" 0 "backup.create" -- "$strata" audit tail --limit 50
expect "backup verify" 0 "manifest authenticated, every file checks out" -- "$strata" backup verify "$backup_dir"
expect "restore refuses a target with data" 1 "already hold.*--force" -- "$strata" restore "$backup_dir"
fresh=$tmp/fresh
expect "restore into a fresh data directory" 0 "restored 4 instances" -- env STRATA_DATA_DIR=$fresh STRATA_KEY=$(cat "$STRATA_DATA_DIR/cipher.key" 2>/dev/null || echo none) "$strata" restore "$backup_dir"
expect "the restored inbox, decrypted" 0 "alice +Hello Bob, from another process" -- env STRATA_DATA_DIR=$fresh STRATA_KEY=$(cat "$STRATA_DATA_DIR/cipher.key" 2>/dev/null || echo none) "$strata" inbox bob
expect "watch: a cursor from before a restore is a gap, said" 0 "are gone \(purged, or the storage was restored\)" -- env STRATA_DATA_DIR=$fresh STRATA_KEY=$(cat "$STRATA_DATA_DIR/cipher.key" 2>/dev/null || echo none) "$strata" watch bob --cursor-file "$tmp/bob.cursor" --idle-timeout 1
printf 'x' >> "$backup_dir/storage/strata.db"
expect "a damaged backup is refused" 1 "damaged" -- "$strata" backup verify "$backup_dir"
if [[ -e $tmp/pwned ]]; then
  echo "FAIL: a directory name was run by a shell"; failures=$((failures + 1))
fi

# ---- Erasing a user, proven on a backup taken before the erase.
cp "$src/config/embedded.toml" "$tmp/erase.toml"
printf '\n[erasure]\nper_user_keys = true\n' >>"$tmp/erase.toml"
erase_run() { env STRATA_DATA_DIR="$tmp/erase-data" STRATA_KEY=$key "$strata" --config "$tmp/erase.toml" "$@"; }
echo 'carol has a long password' | erase_run user add carol --email carol@example.org >/dev/null
echo 'dave has a long password' | erase_run user add dave --email dave@example.org >/dev/null
erase_run send --from dave --to carol "for carol only" >/dev/null
erase_run send --from carol --to dave "carol wrote this" >/dev/null
mkdir -p "$tmp/erase-backups"
expect "a backup writes the data keys apart" 0 "data keys \(2 records\) written apart to .*/strata-keys-" -- erase_run backup --out "$tmp/erase-backups"
cat >"$tmp/scratch.toml" <<TOML
[storage]
plugin = "sqlite"
path = "$tmp/scratch/strata.db"
[cache.default]
plugin = "memory"
[cache.session]
plugin = "memory"
[audit]
plugin = "file_audit"
path = "$tmp/scratch/audit.jsonl"
[cipher]
plugin = "aes_gcm"
key = "$key"
[erasure]
per_user_keys = true
TOML
expect "the trail shows a user's personal fields opened" 0 '"email":"carol@example.org"' -- erase_run audit tail --limit 50
if grep -q "carol@example.org" "$tmp/erase-data/audit.jsonl"; then
  echo "FAIL: the audit file holds an email in clear"; failures=$((failures + 1))
else
  echo "ok: the audit file holds no email in clear"
fi
expect "a pseudonym for an address" 0 '^pseudonym:[0-9a-f]{32}$' -- erase_run audit pseudonym ip 203.0.113.9
expect "no pseudonyms without per-user keys" 1 "per_user_keys" -- "$strata" audit pseudonym ip 203.0.113.9
expect "erase refused without per-user keys" 1 "needs \[erasure\] per_user_keys = true" -- "$strata" user erase bob
erase_out=$(erase_run user erase carol 2>&1)
for want in "storage: 1 data key destroyed, 1 key pair deactivated, account deactivated" \
            "key backups: 1 key destroyed in 1 of them"; do
  grep -qF -- "$want" <<<"$erase_out" || { echo "FAIL: erase did not say: $want"; sed 's/^/  | /' <<<"$erase_out"; failures=$((failures + 1)); }
done
expect "erasing again destroys nothing more" 0 "storage: 0 data keys destroyed" -- erase_run user erase carol
expect "what she sent stays with its recipient" 0 "carol +carol wrote this" -- erase_run inbox dave
expect "what she received is erased" 0 "refused: message .* is erased: data key .* was destroyed" -- erase_run inbox carol
expect "erase --verify on the backup from before" 0 "1 of the user's 1 message fail as key_destroyed" -- erase_run user erase carol --verify --backups "$tmp/erase-backups" --scratch "$tmp/scratch.toml"
expect "the receipt is in the audit trail" 0 "user.erase" -- erase_run audit tail --limit 50
expect "her personal fields read as erased" 0 '"email":"\[erased\]"' -- erase_run audit tail --limit 50
expect "the trail still verifies after the erase" 0 "^ok: every event" -- erase_run audit verify
expect "--verify needs --backups and --scratch" 107 "--verify requires --backups" -- erase_run user erase carol --verify

echo "$failures failed"
[[ $failures -eq 0 ]]
