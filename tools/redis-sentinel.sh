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

group=redis-sentinel
# shellcheck source=redis-group.sh
source "$here/redis-group.sh"

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

start_replica_or_primary() {  # PORT [REPLICAOF_PORT]
  if [[ -n ${2:-} ]]; then start_node "$1" --replicaof 127.0.0.1 "$2"; else start_node "$1"; fi
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
  start_replica_or_primary "$p"
  for port in "${node_ports[@]}"; do [[ $port == "$p" ]] || start_replica_or_primary "$port" "$p"; done
  for port in "${sentinel_ports[@]}"; do start_sentinel "$port" "$p"; done
  wait_until 30 "the sentinels agreeing on a primary with a replica in sync" in_sync
  echo "redis-sentinel: primary 127.0.0.1:$(primary), sentinels ${sentinel_ports[*]} (master '$master', logs: $dir)"
}

stop() { stop_group "${sentinel_ports[@]}" "${node_ports[@]}"; }

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
    for port in "${node_ports[@]}"; do [[ $port == "$p" ]] || start_replica_or_primary "$port" "$p"; done
    wait_until 30 "the group in sync again" in_sync
    ;;
  *) echo "usage: $0 start|stop|primary|failover|kill-primary|heal|sentinels" >&2; exit 2 ;;
esac
