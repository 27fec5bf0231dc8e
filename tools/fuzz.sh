#!/usr/bin/env bash
# Fuzzes each target of tests/fuzz for SECONDS (default 30) with AFL++ (afl-g++,
# UBSan; the corpora also run under ASan in the suite's ASan pass), starting from its seed corpus. Fails, printing the
# inputs, if any target crashed or hung. tools/test.sh runs it; see
# tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}

tools/install-deps.sh fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

out=$(mktemp -d /tmp/strata-fuzz.XXXXXX)
trap 'rm -rf "$out"' EXIT
# No UI, no CPU-governor or core-pattern checks (a shared CI machine), no
# memory limit (-m none), and stop after $seconds.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
failed=0
for target in config envelope manifest parsers; do
  # A dictionary of the format's tokens, where one exists (tests/fuzz/dict/).
  dict=()
  [[ -f tests/fuzz/dict/$target.dict ]] && dict=(-x "tests/fuzz/dict/$target.dict")
  afl-fuzz -i "tests/fuzz/corpus/$target" -o "$out/$target" "${dict[@]}" -m none -t 2000 -V "$seconds" \
    -- "build-fuzz/bin/fuzz_$target" @@ >"$out/$target.log" 2>&1 || {
    echo "fuzz: afl-fuzz on $target did not run:" >&2
    tail -20 "$out/$target.log" >&2
    failed=1
    continue
  }
  stats="$out/$target/default/fuzzer_stats"
  execs=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$stats")
  paths=$(awk -F: '/^corpus_count/ {gsub(/ /, "", $2); print $2}' "$stats")
  crashes=$(find "$out/$target/default/crashes" "$out/$target/default/hangs" -type f ! -name README.txt | wc -l)
  echo "fuzz: $target: $execs executions in ${seconds}s, $paths paths, $crashes crashes or hangs"
  if ((crashes > 0)); then
    failed=1
    for input in $(find "$out/$target/default/crashes" "$out/$target/default/hangs" -type f ! -name README.txt); do
      echo "  $input:"
      base64 "$input" | head -5 | sed 's/^/    /'
    done
  fi
done
exit $failed
