#!/usr/bin/env bash
# Makes sure the servers the test suite talks to run on 127.0.0.1, starting
# any that is not: Redis 7 on 6379. Idempotent; prints one line per server.
#
# Usage: tools/services.sh [redis ...]     (default: all)
set -euo pipefail

wait_for() {  # wait_for NAME COMMAND...: up to 20 s for COMMAND to succeed
  local name=$1
  shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$name did not come up; see its log above" >&2
  return 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "redis: running on 127.0.0.1:6379"
    return
  fi
  local dir=${TMPDIR:-/tmp}/strata-redis
  mkdir -p "$dir"
  # Nothing on disk: the suite's data is disposable.
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log"
  wait_for redis redis-cli -h 127.0.0.1 -p 6379 ping
  echo "redis: started on 127.0.0.1:6379 (log: $dir/redis.log)"
}

services=("$@")
[[ ${#services[@]} -eq 0 ]] && services=(redis)
for service in "${services[@]}"; do
  case "$service" in
    redis) ensure_redis ;;
    *) echo "unknown service '$service' (known: redis)" >&2; exit 2 ;;
  esac
done
