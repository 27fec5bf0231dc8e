#!/usr/bin/env bash
# A throwaway Redis Sentinel group for the Sentinel tests and benchmarks: a
# primary, two replicas and three sentinels (quorum 2) monitoring them as
# "strata-test", on ports of their own (tools/test-servers.env), nothing on
# disk but under one scratch directory. The machine's own Redis is never touched.
#
# Usage: tools/redis-sentinel.sh COMMAND
#   start         start what is not running; returns once the sentinels agree
#                 on the primary and the replica is in sync (idempotent)
#   stop          stop every process and delete the directory
#   primary       the primary's port, as the sentinels name it
#   failover      SENTINEL FAILOVER; returns when the sentinels name another primary
#   kill-primary  SIGKILL the primary (the sentinels fail over; returns at once)
#   heal          restart a killed node (it rejoins as a replica)
#   sentinels     the sentinels as a TOML array of "host:port"
#
# STRATA_SCRATCH_DIR moves the scratch directory (default: $TMPDIR/strata-test-servers).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test-servers.env
source "$here/test-servers.env"
base=${STRATA_TEST_SENTINEL_PORT}
sentinel_ports=("$base" $((base + 1)) $((base + 2)))
node_ports=($((base + 10)) $((base + 11)) $((base + 12)))
master=strata-test
scratch=${STRATA_SCRATCH_DIR:-${TMPDIR:-/tmp}/strata-test-servers}
dir=$scratch/redis-sentinel

command -v redis-server >/dev/null || { echo "redis-sentinel: redis-server is missing (tools/install-deps.sh test)" >&2; exit 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

wait_until() {  # wait_until SECONDS WHAT COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "redis-sentinel: $what did not happen within $seconds s" >&2
  tail -n 10 "$dir"/*.log >&2 || true
  return 1
}

primary() {  # the port the first answering sentinel names
  local port
  for port in "${sentinel_ports[@]}"; do
    if out=$(cli "$port" SENTINEL get-master-addr-by-name "$master" 2>/dev/null) && [[ -n $out ]]; then
      sed -n 2p <<<"$out"
      return 0
    fi
  done
  return 1
}

start_node() {  # start_node PORT [REPLICAOF_PORT]
  local port=$1
  listening "$port" && return 0
  local args=(--port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no --dir "$dir"
    --repl-diskless-sync-delay 0
    --logfile "$dir/redis-$port.log" --pidfile "$dir/redis-$port.pid" --dbfilename "dump-$port.rdb")
  [[ -n ${2:-} ]] && args+=(--replicaof 127.0.0.1 "$2")
  redis-server "${args[@]}"
  wait_until 10 "redis on $port starting" cli "$port" ping
}

start_sentinel() {  # start_sentinel PORT PRIMARY_PORT
  local port=$1 conf=$dir/sentinel-$1.conf
  listening "$port" && return 0
  # A sentinel rewrites its own file: each has one, made afresh only the first time.
  [[ -f $conf ]] || cat >"$conf" <<EOF
port $port
bind 127.0.0.1
daemonize yes
pidfile $dir/sentinel-$port.pid
logfile $dir/sentinel-$port.log
dir $dir
sentinel monitor $master 127.0.0.1 $2 2
sentinel down-after-milliseconds $master 1000
sentinel failover-timeout $master 5000
sentinel parallel-syncs $master 1
EOF
  redis-server "$conf" --sentinel
  wait_until 10 "sentinel on $port starting" cli "$port" ping
}

in_sync() {  # the primary has a replica online and the sentinels agree on the primary
  local p
  p=$(primary) || return 1
  [[ $(cli "$p" INFO replication | grep -c "slave[0-9]*:.*state=online") == 2 ]] || return 1
  for port in "${sentinel_ports[@]}"; do
    [[ $(cli "$port" SENTINEL get-master-addr-by-name "$master" 2>/dev/null | sed -n 2p) == "$p" ]] || return 1
  done
}

start() {
  mkdir -p "$dir"
  local p
  p=$(primary 2>/dev/null) || p=${node_ports[0]}
  start_node "$p"
  for port in "${node_ports[@]}"; do [[ $port == "$p" ]] || start_node "$port" "$p"; done
  for port in "${sentinel_ports[@]}"; do start_sentinel "$port" "$p"; done
  wait_until 30 "the sentinels agreeing on a primary with a replica in sync" in_sync
  echo "redis-sentinel: primary 127.0.0.1:$(primary), sentinels ${sentinel_ports[*]} (master '$master', logs: $dir)"
}

stop() {
  local pidfile port
  for pidfile in "$dir"/*.pid; do
    [[ -f $pidfile ]] && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  # Also by port: a server whose pid file went with its directory.
  for port in "${sentinel_ports[@]}" "${node_ports[@]}"; do
    listening "$port" && cli "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  echo "redis-sentinel: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  primary) primary ;;
  sentinels) printf '"127.0.0.1:%s", ' "${sentinel_ports[@]}" | sed 's/, $//; s/^/[/; s/$/]\n/' ;;
  failover)
    old=$(primary)
    cli "${sentinel_ports[0]}" SENTINEL FAILOVER "$master" >/dev/null
    wait_until 30 "a new primary after SENTINEL FAILOVER" bash -c "[[ \$('$0' primary) != $old ]]"
    ;;
  kill-primary)
    p=$(primary)
    kill -KILL "$(cat "$dir/redis-$p.pid")"
    rm -f "$dir/redis-$p.pid"
    ;;
  heal)
    p=$(primary)
    for port in "${node_ports[@]}"; do [[ $port == "$p" ]] || start_node "$port" "$p"; done
    wait_until 30 "the group in sync again" in_sync
    ;;
  *) echo "usage: $0 start|stop|primary|failover|kill-primary|heal|sentinels" >&2; exit 2 ;;
esac
