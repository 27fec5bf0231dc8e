#!/usr/bin/env bash
# Prints, for each test the last ctest run in BUILD_DIR failed, the end of its
# output (from ctest's Testing/Temporary/LastTest.log). tools/test.sh calls it
# after a failed ctest so that the reason stands at the end of the log, where
# a CI summary that keeps only the tail shows it, and not only inline among
# hundreds of passing tests.
#
# Usage: tools/ctest-recap.sh BUILD_DIR [LINES_PER_TEST]
set -euo pipefail
log="$1/Testing/Temporary/LastTest.log"
lines="${2:-60}"
[[ -f "$log" ]] || { echo "ctest-recap: no $log" >&2; exit 0; }
echo "=== ctest-recap: the end of each failed test's output ($1) ==="
awk -v keep="$lines" '
  /^[0-9]+\/[0-9]+ Testing: / { name = substr($0, index($0, ": ") + 2); n = 0; next }
  name != "" { buf[n++] = $0 }
  /^Test Failed\.|^Test Timeout|^Test Exception|^Test Not Run/ && name != "" {
    print "--- " name " (" $0 ")"
    first = n > keep ? n - keep : 0
    for (i = first; i < n; i++) print buf[i]
  }
  /^"[^"]*" end time: / { name = "" }
' "$log"
