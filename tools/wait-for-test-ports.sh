#!/usr/bin/env bash
# Waits until no process this checkout's scripts did not start listens on a
# test server's port (tools/test-servers.env). A server found listening there
# is otherwise taken for one of ours (the start scripts are idempotent), and
# when whoever owns it stops it, every test after that fails with "not
# running". That happens when another checkout's run, with a scratch
# directory of its own, is still going: its servers vanish under this run.
#
# With this checkout's scratch directory present, what listens is ours (a
# developer's `tools/services.sh start`), and nothing is waited for.
#
# Usage: tools/wait-for-test-ports.sh [SECONDS]   (default 1200)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test-servers.env
source "$here/test-servers.env"
scratch=${STRATA_SCRATCH_DIR:-${TMPDIR:-/tmp}/strata-test-servers}
[[ -d $scratch ]] && exit 0

ports=("$STRATA_TEST_POSTGRES_PORT" "$STRATA_TEST_REDIS_PORT" "$STRATA_TEST_MONGODB_PORT")
for offset in 0 1 2; do ports+=($((STRATA_TEST_FORMATION_PORT + offset))); done
for offset in 0 1 2 10 11 12; do ports+=($((STRATA_TEST_SENTINEL_PORT + offset))); done
for offset in 0 1 2 3 4 5; do ports+=($((STRATA_TEST_CLUSTER_PORT + offset))); done

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
held() {
  local port
  for port in "${ports[@]}"; do listening "$port" && echo "$port"; done
  return 0
}

seconds=${1:-1200}
busy=$(held)
[[ -z $busy ]] && exit 0
echo "test ports in use by servers this checkout did not start: $(echo $busy); waiting up to $seconds s for them to go"
for _ in $(seq 1 $((seconds / 5))); do
  sleep 5
  busy=$(held)
  [[ -z $busy ]] && { echo "test ports free"; exit 0; }
done
echo "test ports still in use after $seconds s: $(echo $busy) (another checkout's test run or" \
  "servers: stop them first)" >&2
exit 1
