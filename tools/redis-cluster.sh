#!/usr/bin/env bash
# A throwaway Redis Cluster for the cluster tests and benchmarks: three
# primaries and a replica each, on ports of their own (tools/test-servers.env),
# nothing on disk but under one scratch directory. The machine's own Redis is
# never touched. Tuned for tests: a node is failed after 1 s
# (cluster-node-timeout), a replica may always take over, and the cluster keeps
# serving the slots it has while one shard is down
# (cluster-require-full-coverage no: what Strata's per-shard isolation needs).
#
# Usage: tools/redis-cluster.sh COMMAND
#   start              start what is not running, create the cluster the first
#                      time; returns once every slot is served and every
#                      primary has a replica in sync (idempotent)
#   stop               stop every process and delete the directory
#   seeds              the nodes as a TOML array of "host:port"
#   primary-of SLOT    the port of the primary serving SLOT
#   kill-primary SLOT  SIGKILL the primary serving SLOT (its replica takes
#                      over); prints its port
#   stall-primary SLOT SIGSTOP the primary serving SLOT (a hung machine); prints its port
#   failover SLOT      CLUSTER FAILOVER on that primary's replica (planned);
#                      returns once the replica serves SLOT
#   heal               resume stalled nodes, restart killed ones (they rejoin
#                      as replicas); returns once the cluster is whole again
#   state              CLUSTER NODES as a node sees it
#
# STRATA_SCRATCH_DIR moves the scratch directory (default: $TMPDIR/strata-test-servers).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test-servers.env
source "$here/test-servers.env"
base=${STRATA_TEST_CLUSTER_PORT}
ports=("$base" $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)) $((base + 5)))
scratch=${STRATA_SCRATCH_DIR:-${TMPDIR:-/tmp}/strata-test-servers}
dir=$scratch/redis-cluster
group=redis-cluster
# shellcheck source=redis-group.sh
source "$here/redis-group.sh"

start_cluster_node() {
  # The cluster bus port is the port + 10000 by default, in the ephemeral range here: below instead.
  start_node "$1" --cluster-enabled yes --cluster-port $(($1 - 10000)) --cluster-config-file "nodes-$1.conf" --cluster-node-timeout 1000 \
    --cluster-replica-validity-factor 0 --cluster-require-full-coverage no
}

answering() {  # the first node that answers (a stalled one accepts but never answers)
  local port
  for port in "${ports[@]}"; do
    if listening "$port" && [[ $(timeout 1 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

nodes() { cli "$(answering)" CLUSTER NODES; }

primary_of() {  # primary_of SLOT
  nodes | awk -v s="$1" '$3 ~ /master/ && $3 !~ /fail/ {
    for (i = 9; i <= NF; i++) { n = split($i, r, "-"); if (n == 1) r[2] = r[1];
      if (s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) { split($2, a, "[:@]"); print a[2]; exit } } }'
}

whole() {  # every node up and agreeing, 3 primaries with slots, each with a replica in sync
  local port out
  for port in "${ports[@]}"; do
    out=$(cli "$port" CLUSTER INFO) || return 1
    grep -q "cluster_state:ok" <<<"$out" || return 1
    grep -q "cluster_slots_ok:16384" <<<"$out" || return 1
    grep -q "cluster_known_nodes:6" <<<"$out" || return 1
  done
  out=$(nodes)
  [[ $(grep -v fail <<<"$out" | awk '$3 ~ /master/ && NF >= 9' | wc -l) == 3 ]] || return 1
  [[ $(grep -v fail <<<"$out" | awk '$3 ~ /slave/' | wc -l) == 3 ]] || return 1
  for port in $(awk '$3 ~ /slave/ { split($2, a, "[:@]"); print a[2] }' <<<"$out"); do
    cli "$port" INFO replication | grep -q "master_link_status:up" || return 1
  done
}

start() {
  mkdir -p "$dir"
  for port in "${ports[@]}"; do start_cluster_node "$port"; done
  if [[ $(cli "${ports[0]}" CLUSTER INFO | grep cluster_slots_assigned | tr -d '\r') == "cluster_slots_assigned:0" ]]; then
    local addresses=()
    for port in "${ports[@]}"; do addresses+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
      { cat "$dir/create.log" >&2; exit 1; }
  fi
  wait_until 60 "the cluster whole (every slot served, each primary with a replica in sync)" whole
  echo "redis-cluster: 3 primaries and 3 replicas on ${ports[0]}-${ports[5]} (logs: $dir)"
}

heal() {
  local pidfile
  for pidfile in "$dir"/*.pid; do kill -CONT "$(cat "$pidfile")" 2>/dev/null || true; done
  for port in "${ports[@]}"; do start_cluster_node "$port"; done
  wait_until 60 "the cluster whole again" whole
}

signal_primary() {  # signal_primary SIGNAL SLOT
  local port
  port=$(primary_of "$2")
  [[ -n $port ]] || { echo "redis-cluster: no primary serves slot $2" >&2; exit 1; }
  kill "-$1" "$(cat "$dir/redis-$port.pid")"
  [[ $1 == KILL ]] && rm -f "$dir/redis-$port.pid"
  echo "$port"
}

serves() { [[ $(primary_of "$1") == "$2" ]]; }  # serves SLOT PORT

failover() {  # failover SLOT
  local old replica
  old=$(primary_of "$1")
  replica=$(nodes | awk -v id="$(cli "$old" CLUSTER MYID)" '$3 ~ /slave/ && $4 == id { split($2, a, "[:@]"); print a[2]; exit }')
  [[ -n $replica ]] || { echo "redis-cluster: the primary on $old has no replica" >&2; exit 1; }
  cli "$replica" CLUSTER FAILOVER >/dev/null
  wait_until 30 "the replica on $replica taking over slot $1" serves "$1" "$replica"
  echo "$replica"
}

case "${1:-}" in
  start) start ;;
  stop) stop_group "${ports[@]}" ;;
  seeds) printf '"127.0.0.1:%s", ' "${ports[@]:0:3}" | sed 's/, $//; s/^/[/; s/$/]\n/' ;;
  primary-of) primary_of "${2:?slot}" ;;
  kill-primary) signal_primary KILL "${2:?slot}" ;;
  stall-primary) signal_primary STOP "${2:?slot}" ;;
  failover) failover "${2:?slot}" ;;
  heal) heal ;;
  state) nodes ;;
  *) echo "usage: $0 start|stop|seeds|primary-of SLOT|kill-primary SLOT|stall-primary SLOT|failover SLOT|heal|state" >&2; exit 2 ;;
esac
