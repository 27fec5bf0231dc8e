#!/usr/bin/env bash
# A throwaway pg_auto_failover formation for the HA tests and benchmarks: a
# monitor and two PostgreSQL data nodes with synchronous replication, on
# ports of their own (tools/test-servers.env), under one scratch directory.
# The machine's own servers are never touched. Debian packages:
# postgresql-15-auto-failover and pg-auto-failover-cli (tools/install-deps.sh test).
#
# Usage: tools/pg-formation.sh COMMAND
#   start         create and start what is missing; returns once there is a
#                 primary and a synchronous secondary (idempotent)
#   stop          stop every process of the formation and delete its directory
#   uri           the multi-host URI applications use (target_session_attrs=read-write)
#   primary       the port of the current primary
#   secondary     the port of the current secondary
#   failover      a planned failover (pg_autoctl perform failover); returns when done
#   kill-primary  an unplanned one: SIGKILL the primary node's keeper and
#                 postmaster, as if its machine died; the monitor promotes
#                 the secondary (returns at once)
#   heal          restart any node that is not running, wait for primary + secondary
#   state         pg_autoctl show state
#
# STRATA_SCRATCH_DIR moves the scratch directory (default: $TMPDIR/strata-test-servers).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test-servers.env
source "$here/test-servers.env"
monitor_port=${STRATA_TEST_FORMATION_PORT}
node_ports=($((monitor_port + 1)) $((monitor_port + 2)))
scratch=${STRATA_SCRATCH_DIR:-${TMPDIR:-/tmp}/strata-test-servers}
dir=$scratch/pg-formation
database=strata
monitor_uri="postgres://autoctl_node@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable"

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -n $bin ]] || { echo "pg-formation: no PostgreSQL server installed (tools/install-deps.sh test)" >&2; exit 1; }
command -v pg_autoctl >/dev/null ||
  { echo "pg-formation: pg_autoctl is missing (Debian: pg-auto-failover-cli postgresql-15-auto-failover)" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root the formation belongs to the
# Debian package's `postgres` user. pg_autoctl keeps its state under XDG
# directories: these point into the scratch directory, not a home directory.
autoctl_command=(env "PATH=$bin:$PATH" "XDG_CONFIG_HOME=$dir/config" "XDG_DATA_HOME=$dir/share"
  "XDG_RUNTIME_DIR=$dir/run" pg_autoctl)
[[ $(id -u) -eq 0 ]] && autoctl_command=(runuser -u postgres -- "${autoctl_command[@]}")
autoctl() { "${autoctl_command[@]}" "$@"; }
sql() {  # sql PORT DATABASE STATEMENT
  "$bin/psql" -h 127.0.0.1 -p "$1" -U postgres -d "$2" -Atqc "$3"
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts `pg_autoctl ARGS` in the background in a session of its own, so that
# kill-primary can kill the keeper, its postmaster and the backends at once.
spawn() {  # spawn NAME ARGS...
  local name=$1
  shift
  setsid "${autoctl_command[@]}" "$@" >>"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

port_in_state() {  # port_in_state STATE...: the port of a node in one of the states
  local states
  states=$(printf "'%s'," "$@")
  sql "$monitor_port" pg_auto_failover "SELECT nodeport FROM pgautofailover.node WHERE reportedstate IN (${states%,})
     AND goalstate = reportedstate ORDER BY nodeid LIMIT 1" 2>/dev/null
}

wait_until() {  # wait_until SECONDS WHAT COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  echo "pg-formation: $what did not happen within $seconds s; state:" >&2
  autoctl show state --pgdata "$dir/monitor" >&2 || true
  tail -n 15 "$dir"/*.log >&2 || true
  return 1
}
# The monitor's tables alone are not enough: after a run was killed without
# stopping the formation, the monitor still lists the dead nodes in their
# last states (CI once started the HA tests against a primary that was not
# running). A node counts once it answers on its port, in its role.
answers_as() {  # answers_as PORT primary|standby
  local want=f
  [[ $2 == standby ]] && want=t
  [[ -n $1 && $(sql "$1" postgres "SELECT pg_is_in_recovery()" 2>/dev/null) == "$want" ]]
}
healthy() { answers_as "$(port_in_state primary)" primary && answers_as "$(port_in_state secondary)" standby; }
has_primary() { answers_as "$(port_in_state single primary wait_primary)" primary; }
# A node rejoining after a kill is rewound, or, when pg_rewind fails (CI saw
# "standby mode is not supported by single-user servers"), given a base
# backup, which waits for a checkpoint spread over minutes by default:
# asking the primary for one every 5 s while waiting ends that wait.
last_checkpoint=0
healthy_hurrying_checkpoints() {
  healthy && return 0
  local now primary
  now=$(date +%s)
  if ((now - last_checkpoint >= 5)); then
    last_checkpoint=$now
    primary=$(port_in_state primary wait_primary single)
    if [[ -n $primary ]]; then sql "$primary" postgres "CHECKPOINT" >/dev/null 2>&1 || true; fi
  fi
  return 1
}

start_monitor() {
  if ! listening "$monitor_port"; then
    if [[ ! -f $dir/monitor/PG_VERSION ]]; then
      autoctl create monitor --pgdata "$dir/monitor" --pgport "$monitor_port" --hostname 127.0.0.1 \
        --auth trust --no-ssl >>"$dir/monitor.log" 2>&1 || { tail -n 20 "$dir/monitor.log" >&2; return 1; }
    fi
    spawn monitor run --pgdata "$dir/monitor"
    wait_until 30 "the monitor starting" sql "$monitor_port" pg_auto_failover "SELECT 1"
  fi
  # Tests want a failed primary noticed in seconds, not the default 20 s.
  local setting
  for setting in health_check_period=1000 health_check_timeout=1000 health_check_max_retries=1 \
    health_check_retry_delay=500 node_considered_unhealthy_timeout=3000 primary_demote_timeout=3000; do
    sql "$monitor_port" pg_auto_failover "ALTER SYSTEM SET pgautofailover.${setting/=/ = }" >/dev/null
  done
  sql "$monitor_port" pg_auto_failover "SELECT pg_reload_conf()" >/dev/null
}

start_node() {  # start_node N
  local n=$1 port=${node_ports[$1]} name=node$1
  [[ -f $dir/$name.pid ]] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null && return 0
  if [[ -f $dir/$name/PG_VERSION ]]; then
    spawn "$name" run --pgdata "$dir/$name"
  else
    # A base backup waits for a checkpoint, spread over minutes by default:
    # one now on the primary leaves it nothing to write.
    if [[ $n -gt 0 ]]; then sql "${node_ports[0]}" postgres "CHECKPOINT" >/dev/null 2>&1 || true; fi
    spawn "$name" create postgres --pgdata "$dir/$name" --pgport "$port" --hostname 127.0.0.1 \
      --auth trust --no-ssl --monitor "$monitor_uri" --dbname "$database" --name "$name" --run
  fi
}

start() {
  mkdir -p "$dir/run"
  chmod 755 "$scratch"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres "$dir"; fi
  start_monitor
  start_node 0
  wait_until 60 "node0 becoming primary" has_primary
  start_node 1
  wait_until 180 "a primary and a synchronous secondary" healthy_hurrying_checkpoints
  echo "pg-formation: $(uri) (monitor 127.0.0.1:$monitor_port, data and logs: $dir)"
}

uri() {
  echo "postgres://postgres@127.0.0.1:${node_ports[0]},127.0.0.1:${node_ports[1]}/$database?target_session_attrs=read-write"
}

kill_node() {  # kill_node PORT: SIGKILL the node's whole process session
  local n
  for n in 0 1; do
    if [[ ${node_ports[$n]} == "$1" && -f $dir/node$n.pid ]]; then
      kill -KILL -- "-$(cat "$dir/node$n.pid")" 2>/dev/null || true
      rm -f "$dir/node$n.pid"
      return 0
    fi
  done
  echo "pg-formation: no running node on port $1" >&2
  return 1
}

stop() {
  local name
  for name in node0 node1 monitor; do
    if [[ -f $dir/$name.pid ]]; then
      kill -TERM -- "-$(cat "$dir/$name.pid")" 2>/dev/null || true
    fi
  done
  for name in node0 node1 monitor; do
    if [[ -f $dir/$name.pid ]]; then
      for _ in $(seq 1 40); do kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$(cat "$dir/$name.pid")" 2>/dev/null || true
    fi
  done
  rm -rf "$dir"
  echo "pg-formation: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  uri) uri ;;
  primary) port_in_state primary wait_primary ;;
  secondary) port_in_state secondary ;;
  failover) autoctl perform failover --pgdata "$dir/monitor" >>"$dir/monitor.log" 2>&1 ;;
  kill-primary) kill_node "$(port_in_state primary wait_primary)" ;;
  heal)
    start_node 0
    start_node 1
    wait_until 180 "a primary and a synchronous secondary" healthy_hurrying_checkpoints
    ;;
  state) autoctl show state --pgdata "$dir/monitor" ;;
  *) echo "usage: $0 start|stop|uri|primary|secondary|failover|kill-primary|heal|state" >&2; exit 2 ;;
esac
