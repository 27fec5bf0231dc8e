# Shared by tools/redis-sentinel.sh and tools/redis-cluster.sh (sourced, not
# run): the helpers of a throwaway group of redis-server processes under one
# scratch directory. The sourcing script sets `group` (its name, for
# messages) and `dir` (the group's directory) first.

command -v redis-server >/dev/null || { echo "$group: redis-server is missing (tools/install-deps.sh test)" >&2; exit 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A stopped (SIGSTOPped) server still accepts connections: never wait on one for long.
cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

wait_until() {  # wait_until SECONDS WHAT COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "$group: $what did not happen within $seconds s" >&2
  tail -n 10 "$dir"/*.log >&2 || true
  return 1
}

start_node() {  # start_node PORT [redis-server options...]: nothing on disk but under $dir
  local port=$1
  listening "$port" && return 0
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no --dir "$dir" \
    --repl-diskless-sync-delay 0 --logfile "$dir/redis-$port.log" --pidfile "$dir/redis-$port.pid" \
    --dbfilename "dump-$port.rdb" "${@:2}"
  wait_until 10 "redis on $port starting" cli "$port" ping
}

stop_group() {  # stop_group PORT...: every process of the group, then its directory
  local pidfile port
  for pidfile in "$dir"/*.pid; do
    [[ -f $pidfile ]] && kill -CONT "$(cat "$pidfile")" 2>/dev/null && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  # Also by port: a server whose pid file went with its directory.
  for port in "$@"; do
    listening "$port" && cli "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  echo "$group: stopped"
}
