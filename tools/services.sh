#!/usr/bin/env bash
# Makes sure the servers the test suite talks to run on 127.0.0.1, starting
# any that is not: PostgreSQL 15 on 5432, Redis 7 on 6379, FerretDB (MongoDB
# wire protocol) on 27017. Idempotent; prints one line per server.
#
# Usage: tools/services.sh [postgres|redis|ferretdb ...]     (default: all)
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

# Runs a command as the postgres role's OS user (we may be root or that user).
as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

ensure_postgres() {
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [[ -z $version ]]; then
    echo "postgres: no cluster in /etc/postgresql (is the postgresql package installed?)" >&2
    return 1
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    # Debian's cluster, started without systemd (containers, CI).
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for postgres pg_isready -h 127.0.0.1 -p 5432 -q
    echo "postgres: started cluster $version/main on 127.0.0.1:5432"
  else
    echo "postgres: running on 127.0.0.1:5432"
  fi
  # The suite connects as the postgres role over loopback without a password.
  # A fresh Debian cluster asks for one there: trust loopback on this test cluster.
  if ! psql -h 127.0.0.1 -U postgres -w -Atqc "SELECT 1" postgres >/dev/null 2>&1; then
    local hba=/etc/postgresql/$version/main/pg_hba.conf
    printf '%s\n%s\n%s\n' "# strata test suite: loopback trust (tools/services.sh)" \
      "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust" | cat - "$hba" > "$hba.strata" &&
      mv "$hba.strata" "$hba" && chown postgres:postgres "$hba"
    as_postgres psql -Atqc "SELECT pg_reload_conf()" >/dev/null
    wait_for "postgres (loopback trust)" psql -h 127.0.0.1 -U postgres -w -Atqc "SELECT 1" postgres
    echo "postgres: loopback connections trusted for the test suite ($hba)"
  fi
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

# FerretDB with its SQLite handler in a scratch directory: self-contained, and
# independent of the PostgreSQL cluster the suite creates and drops databases on.
ensure_ferretdb() {
  if (exec 3<>/dev/tcp/127.0.0.1/27017) 2>/dev/null; then
    echo "ferretdb: something is listening on 127.0.0.1:27017"
    return
  fi
  local binary dir=${TMPDIR:-/tmp}/strata-ferretdb
  binary=$("$(dirname "$0")/install-ferretdb.sh")
  mkdir -p "$dir/data"
  nohup "$binary" --handler=sqlite --sqlite-url="file:$dir/data/" --state-dir="$dir" \
    --listen-addr=127.0.0.1:27017 --debug-addr=- --telemetry=disable --log-level=warn \
    >"$dir/ferretdb.log" 2>&1 &
  wait_for ferretdb bash -c '(exec 3<>/dev/tcp/127.0.0.1/27017) 2>/dev/null'
  echo "ferretdb: started on 127.0.0.1:27017 (log: $dir/ferretdb.log)"
}

services=("$@")
[[ ${#services[@]} -eq 0 ]] && services=(postgres redis ferretdb)
for service in "${services[@]}"; do
  case "$service" in
    postgres) ensure_postgres ;;
    redis) ensure_redis ;;
    ferretdb) ensure_ferretdb ;;
    *) echo "unknown service '$service' (known: postgres, redis, ferretdb)" >&2; exit 2 ;;
  esac
done
