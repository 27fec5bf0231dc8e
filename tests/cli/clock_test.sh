#!/usr/bin/env bash
# The CLI with its clock moved by libfaketime (Debian faketime), never the
# machine's: a message's TTL hides it and lets `strata cleanup` purge it
# only once its time has come, on the clock the services read.
# Usage: clock_test.sh STRATA_BINARY
set -u
strata=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
command -v faketime >/dev/null || { echo "FAIL: faketime is missing (tools/install-deps.sh test installs it)"; exit 1; }

unset STRATA_CONFIG STRATA_KEY DB_ENCRYPTION_KEY STRATA_PLUGIN_PATH
export STRATA_DATA_DIR=$tmp/data
# Runs strata as if it were DELTA later ("+2h", "+3d").
# In the sanitizer build the preloaded library comes before ASan's runtime,
# which ASan refuses unless told the order is intended.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
later() { local delta=$1; shift; faketime -f "$delta" "$strata" "$@"; }

echo 'alice-password-1' | "$strata" user add alice --email alice@example.org >/dev/null || fail "user add alice"
echo 'bob-password-123' | "$strata" user add bob --email bob@example.org >/dev/null || fail "user add bob"
"$strata" send --from alice --to bob --ttl 3600 "gone within the hour" >/dev/null || fail "send with a TTL"
"$strata" send --from alice --to bob "kept" >/dev/null || fail "send"

# The wrapper really moves the clock, or the checks below would mean nothing.
[[ $(faketime -f "+2h" date +%s) -ge $(($(date +%s) + 7000)) ]] || fail "faketime does not move the clock"

# Half an hour on: nothing has expired yet.
out=$(later "+30m" cleanup --dry-run 2>&1) || fail "cleanup --dry-run at +30m: $out"
grep -q " 0 " <<<" $out " || fail "at +30m something was due for purging: $out"
out=$(later "+30m" inbox bob 2>&1)
grep -q "gone within the hour" <<<"$out" || fail "the message is not shown before it expires: $out"

# Two hours on: the message is past its expiry, hidden, and purged by cleanup.
out=$(later "+2h" inbox bob 2>&1)
grep -q "gone within the hour" <<<"$out" && fail "an expired message is still shown at +2h: $out"
grep -q "kept" <<<"$out" || fail "the message without a TTL is not shown at +2h: $out"
out=$(later "+2h" cleanup 2>&1) || fail "cleanup at +2h: $out"
grep -q " 1 " <<<" $out " || fail "cleanup at +2h did not purge exactly one message: $out"
# Back at the real time, the purged row is gone for good, the other stays.
out=$("$strata" inbox bob 2>&1)
grep -q "gone within the hour" <<<"$out" && fail "the purged message came back: $out"
grep -q "kept" <<<"$out" || fail "cleanup took the message without a TTL: $out"

if ((failures > 0)); then
  echo "clock_test: $failures failure(s)"
  exit 1
fi
echo "clock_test: every check passed"
