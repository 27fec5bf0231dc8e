#!/usr/bin/env bash
# Fuzzes each target of tests/fuzz for SECONDS (default 30) with libFuzzer
# (clang 16, ASan + UBSan, every input in one process), starting from its seed
# corpus and its dictionary. Prints, per target, executions and executions a
# second, and the coverage the seed corpus reached against what the run
# reached. Fails, printing the input and the report, if any target crashed,
# leaked, hung or ran out of memory. tools/test.sh runs it; see
# tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}

tools/install-deps.sh fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

# In memory (tmpfs) when the machine has it: the manifest target writes each
# input to a file for verify_backup, and on a disk's filesystem that took
# up to half its time (1,362–1,486 executions/s against 2,330–2,800 in /dev/shm).
scratch=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && scratch=/dev/shm
out=$(mktemp -d "$scratch/strata-fuzz.XXXXXX")
trap 'rm -rf "$out"' EXIT
# What a target writes to a temporary directory (the manifest target's
# backup directory) goes away with the run.
mkdir "$out/tmp"

# A field of libFuzzer's status lines ("#1234 INITED cov: 812 ft: 2091 corp: 5/3kb ...").
status_field() {  # status_field LOG EVENT FIELD: FIELD's value on the last EVENT line
  awk -v event="$2" -v field="$3" '$2 == event { for (i = 3; i < NF; i++) if ($i == field":") value = $(i + 1) } END { print value }' "$1"
}
final_stat() {  # final_stat LOG NAME: a -print_final_stats=1 line's value
  awk -v name="stat::$2:" '$1 == name { print $2 }' "$1"
}

failed=0
for target in config envelope manifest parsers; do
  # A dictionary of the format's tokens, where one exists (tests/fuzz/dict/).
  dict=()
  [[ -f tests/fuzz/dict/$target.dict ]] && dict=(-dict="tests/fuzz/dict/$target.dict")
  mkdir "$out/$target" "$out/$target.corpus"
  # New inputs go to the first directory; the seed corpus is only read.
  # -timeout: an input running 10 s is a hang; -rss_limit_mb: past 2 GiB, an
  # out-of-memory report rather than a machine that swaps.
  rc=0
  TMPDIR="$out/tmp" "build-fuzz/bin/fuzz_$target" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$target/" \
    "$out/$target.corpus" "tests/fuzz/corpus/$target" >"$out/$target.log" 2>&1 || rc=$?
  log="$out/$target.log"
  artifacts=$(find "$out/$target" -type f)
  if ((rc != 0)) || [[ -n $artifacts ]]; then
    failed=1
    echo "fuzz: $target FAILED (libFuzzer exit $rc); its report:"
    grep -v '^#[0-9]' "$log" | tail -40 | sed 's/^/  /'
    for input in $artifacts; do
      echo "  $input (base64; add it to tests/fuzz/corpus/$target/ with the fix):"
      base64 "$input" | head -20 | sed 's/^/    /'
    done
    continue
  fi
  execs=$(final_stat "$log" number_of_executed_units)
  rate=$(final_stat "$log" average_exec_per_sec)
  seed_cov=$(status_field "$log" INITED cov)
  seed_features=$(status_field "$log" INITED ft)
  end_cov=$(status_field "$log" DONE cov)
  end_features=$(status_field "$log" DONE ft)
  added=$(final_stat "$log" new_units_added)
  echo "fuzz: $target: $execs executions in ${seconds}s ($rate/s); coverage: $seed_cov edges," \
    "$seed_features features from the seed corpus, $end_cov edges, $end_features features after" \
    "($added new inputs)"
done
exit $failed
