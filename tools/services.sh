#!/usr/bin/env bash
# Throwaway servers for the test suite, the interop test and the benchmarks:
# PostgreSQL 15 (a cluster of its own from initdb, pg_cron preloaded), Redis 7
# and FerretDB v1.24.2 (MongoDB wire protocol), each on a port of its own
# (tools/test-servers.env) with its data under one scratch directory. The
# machine's own servers and their configuration are never touched.
#
# Usage: tools/services.sh [start|stop|status] [postgres|redis|ferretdb ...]
#   start (default): start what is not running; idempotent; exits non-zero
#                    when a server does not come up (its log is printed).
#   stop:            stop them and delete the scratch directory.
#
# STRATA_SCRATCH_DIR moves the scratch directory (default: $TMPDIR/strata-test-servers).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test-servers.env
source "$here/test-servers.env"
postgres_port=${STRATA_TEST_POSTGRES_PORT}
redis_port=${STRATA_TEST_REDIS_PORT}
mongodb_port=${STRATA_TEST_MONGODB_PORT}
scratch=${STRATA_SCRATCH_DIR:-${TMPDIR:-/tmp}/strata-test-servers}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for NAME LOG COMMAND...: up to 30 s for COMMAND to succeed
  local name=$1 log=$2
  shift 2
  for _ in $(seq 1 150); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$name did not come up; the end of $log:" >&2
  tail -n 20 "$log" >&2 || true
  return 1
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# `postgres` OS user the Debian package creates; otherwise to the caller.
pg_owner() { if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi; }
as_pg_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_bin() {
  local version
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  [[ -n $version ]] || { echo "postgres: no server in /usr/lib/postgresql (tools/install-deps.sh test)" >&2; return 1; }
  echo "/usr/lib/postgresql/$version/bin"
}

start_postgres() {
  local dir=$scratch/postgres bin
  bin=$(pg_bin)
  if listening "$postgres_port"; then echo "postgres: running on 127.0.0.1:$postgres_port"; return; fi
  mkdir -p "$dir"
  chmod 755 "$scratch"
  chown "$(pg_owner)" "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    # trust: a throwaway cluster that listens on loopback only, on its own port.
    as_pg_owner "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; return 1; }
    cat >>"$dir/data/postgresql.conf" <<EOF
# tools/services.sh: the suite's throwaway cluster
listen_addresses = '127.0.0.1'
port = $postgres_port
unix_socket_directories = '$dir'
max_connections = 300
shared_preload_libraries = 'pg_cron'
cron.database_name = 'strata_cron'
cron.use_background_workers = on
max_worker_processes = 32
EOF
  fi
  as_pg_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait --timeout=30 start >/dev/null ||
    { tail -n 20 "$dir/postgres.log" >&2; return 1; }
  wait_for postgres "$dir/postgres.log" "$bin/pg_isready" -h 127.0.0.1 -p "$postgres_port" -q
  # pg_cron lives in one database; the cron test uses it.
  if [[ $(psql -h 127.0.0.1 -p "$postgres_port" -U postgres -Atqc \
      "SELECT count(*) FROM pg_database WHERE datname = 'strata_cron'" postgres) == 0 ]]; then
    psql -h 127.0.0.1 -p "$postgres_port" -U postgres -qc "CREATE DATABASE strata_cron" postgres
  fi
  echo "postgres: started on 127.0.0.1:$postgres_port with pg_cron (data and log: $dir)"
}

stop_postgres() {
  local dir=$scratch/postgres bin
  bin=$(pg_bin) || return 0
  [[ -f $dir/data/postmaster.pid ]] || return 0
  as_pg_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait stop >/dev/null 2>&1 || true
  echo "postgres: stopped"
}

start_redis() {
  local dir=$scratch/redis
  if listening "$redis_port"; then echo "redis: running on 127.0.0.1:$redis_port"; return; fi
  mkdir -p "$dir"
  # Nothing on disk: the suite's data is disposable.
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
  wait_for redis "$dir/redis.log" redis-cli -h 127.0.0.1 -p "$redis_port" ping
  echo "redis: started on 127.0.0.1:$redis_port (log: $dir/redis.log)"
}

stop_redis() {
  [[ -f $scratch/redis/redis.pid ]] || return 0
  redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  echo "redis: stopped"
}

# FerretDB with its SQLite handler in the scratch directory: self-contained,
# and independent of the PostgreSQL cluster the suite creates and drops databases on.
start_ferretdb() {
  local dir=$scratch/ferretdb binary
  if listening "$mongodb_port"; then echo "ferretdb: running on 127.0.0.1:$mongodb_port"; return; fi
  binary=$("$here/install-ferretdb.sh")
  mkdir -p "$dir/data"
  nohup "$binary" --handler=sqlite --sqlite-url="file:$dir/data/" --state-dir="$dir" \
    --listen-addr="127.0.0.1:$mongodb_port" --debug-addr=- --telemetry=disable --log-level=warn \
    >"$dir/ferretdb.log" 2>&1 &
  echo $! >"$dir/ferretdb.pid"
  wait_for ferretdb "$dir/ferretdb.log" listening "$mongodb_port"
  echo "ferretdb: started on 127.0.0.1:$mongodb_port (log: $dir/ferretdb.log)"
}

stop_ferretdb() {
  [[ -f $scratch/ferretdb/ferretdb.pid ]] || return 0
  kill "$(cat "$scratch/ferretdb/ferretdb.pid")" 2>/dev/null || true
  rm -f "$scratch/ferretdb/ferretdb.pid"
  echo "ferretdb: stopped"
}

action=start
case "${1:-}" in start | stop | status) action=$1; shift ;; esac
servers=("$@")
[[ ${#servers[@]} -eq 0 ]] && servers=(postgres redis ferretdb)
for server in "${servers[@]}"; do
  case "$server" in
    postgres | redis | ferretdb) ;;
    *) echo "unknown server '$server' (known: postgres, redis, ferretdb)" >&2; exit 2 ;;
  esac
  case "$action" in
    start) "start_$server" ;;
    stop) "stop_$server" ;;
    status)
      port_var=${server/ferretdb/mongodb}_port
      if listening "${!port_var}"; then echo "$server: up on 127.0.0.1:${!port_var}"
      else echo "$server: down (127.0.0.1:${!port_var})"; fi ;;
  esac
done
if [[ $action == stop && ${#@} -eq 0 ]]; then rm -rf "$scratch"; fi
