# shellcheck shell=bash
# The demo's and the tests' local services: PostgreSQL (customers), MariaDB (orders) and the demo
# support-ticket API, each on loopback with data of its own under .services/ in the repository.
#
#   source scripts/services.sh
#   services_up     # idempotent: starts what is not running, reuses what is, exports the *_URL variables
#   services_down   # stops what services_up started
#
# A service whose *_URL variable already points somewhere else (CUSTOMER_DB_URL,
# TRANSACTIONS_DB_URL, SUPPORT_API_URL) is not started: the caller brings their own.
# Missing server packages are installed from Debian (apt-get) on first use.
#
# Passwords default to `asgard-demo-pw` (CUSTOMER_DB_PASSWORD / TRANSACTIONS_DB_PASSWORD override).
# The exported URLs carry no password; the passwords travel in their own variables, which is how
# pipelines/churn.asg reads them (secret(...)).

ASGARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${ASGARD_SERVICES_DIR:-}" ]; then
  ASGARD_SERVICES_DIR="$ASGARD_ROOT/.services"
  # The database servers run as the postgres and mysql users. A checkout they cannot reach (a clone
  # under /root, say) keeps their data in a folder of its own under /var/tmp instead.
  if [ "$(id -u)" = 0 ] && ! runuser -u nobody -- test -x "$ASGARD_ROOT" 2>/dev/null; then
    ASGARD_SERVICES_DIR="/var/tmp/asgard-services-$(printf %s "$ASGARD_ROOT" | sha256sum | cut -c1-12)"
  fi
fi
ASGARD_PG_PORT="${ASGARD_PG_PORT:-55432}"
ASGARD_MARIADB_PORT="${ASGARD_MARIADB_PORT:-53306}"
ASGARD_API_PORT="${ASGARD_API_PORT:-58080}"

source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"

_svc_log() { echo "[services] $*" >&2; }

_svc_apt_install() {
  _svc_log "installing $* from Debian (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq "$@" >&2
}

_svc_pg_bin() {
  local v
  for v in $(ls /usr/lib/postgresql 2>/dev/null | sort -rn); do
    if [ -x "/usr/lib/postgresql/$v/bin/postgres" ]; then echo "/usr/lib/postgresql/$v/bin"; return 0; fi
  done
  return 1
}

_svc_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_svc_pg_up() {
  local bin dir="$ASGARD_SERVICES_DIR/pg"
  if ! bin="$(_svc_pg_bin)"; then
    _svc_apt_install postgresql || return 1
    bin="$(_svc_pg_bin)" || { _svc_log "postgresql binaries not found after install"; return 1; }
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    _svc_log "initialising PostgreSQL in $dir/data"
    _svc_as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  mkdir -p "$dir/sock"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/sock"
  if ! _svc_as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    _svc_log "starting PostgreSQL on 127.0.0.1:$ASGARD_PG_PORT"
    _svc_as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $ASGARD_PG_PORT -c unix_socket_directories=$dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB" \
      start >/dev/null || { tail -20 "$dir/postgres.log" >&2; return 1; }
  fi
  local psql=("$bin/psql" -h "$dir/sock" -p "$ASGARD_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  local pw="${CUSTOMER_DB_PASSWORD:-asgard-demo-pw}" i
  for i in $(seq 1 60); do _svc_as_postgres "${psql[@]}" -d postgres -c 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
  # The password goes through psql's variable interpolation (:'pw'), never through a command line.
  # pg_signal_backend: the tests drop their databases WITH (FORCE), which must end every session in
  # them, an autovacuum worker's too (no role: only that grant lets a non-superuser end it).
  printf '%s\n' \
    "SELECT format('CREATE ROLE asgard LOGIN CREATEDB PASSWORD %L', :'pw') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'asgard') \\gexec" \
    "SELECT format('ALTER ROLE asgard LOGIN CREATEDB PASSWORD %L', :'pw') \\gexec" \
    "SELECT 'GRANT pg_signal_backend TO asgard' WHERE NOT pg_has_role('asgard', 'pg_signal_backend', 'member') \\gexec" \
    "SELECT 'CREATE DATABASE customers OWNER asgard' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'customers') \\gexec" \
    | _svc_as_postgres "${psql[@]}" -d postgres -v pw="$pw" >/dev/null || return 1
  export CUSTOMER_DB_PASSWORD="$pw"
  export CUSTOMER_DB_URL="postgres://asgard@127.0.0.1:$ASGARD_PG_PORT/customers"
}

_svc_pg_down() {
  local bin dir="$ASGARD_SERVICES_DIR/pg"
  bin="$(_svc_pg_bin)" || return 0
  [ -f "$dir/data/PG_VERSION" ] || return 0
  if _svc_as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    _svc_log "stopping PostgreSQL"
    _svc_as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
}

_svc_mariadb_client() {
  if command -v mariadb >/dev/null 2>&1; then echo mariadb; else echo mysql; fi
}

_svc_mariadb_up() {
  local dir="$ASGARD_SERVICES_DIR/mariadb"
  if ! command -v mariadbd >/dev/null 2>&1 && ! [ -x /usr/sbin/mariadbd ]; then
    _svc_apt_install mariadb-server mariadb-client || return 1
  fi
  local mariadbd; mariadbd="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
  local client; client="$(_svc_mariadb_client)"
  local sock="$dir/mysqld.sock" run_user=mysql
  [ "$(id -u)" = 0 ] || run_user="$(id -un)"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown "$run_user": "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    _svc_log "initialising MariaDB in $dir/data"
    mariadb-install-db --no-defaults --user="$run_user" --datadir="$dir/data" --auth-root-authentication-method=socket \
      --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; return 1; }
  fi
  if ! { [ -S "$sock" ] && "$client" --no-defaults --socket="$sock" -uroot -e 'select 1' >/dev/null 2>&1; }; then
    _svc_log "starting MariaDB on 127.0.0.1:$ASGARD_MARIADB_PORT"
    rm -f "$sock"
    setsid "$mariadbd" --no-defaults --user="$run_user" --datadir="$dir/data" --socket="$sock" \
      --port="$ASGARD_MARIADB_PORT" --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" \
      --log-error="$dir/mariadbd.err" --skip-name-resolve --skip-log-bin --local-infile=1 \
      --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=256M \
      --max-connections=300 --max-allowed-packet=64M \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
      </dev/null >/dev/null 2>&1 &
    disown 2>/dev/null || true
    local i
    for i in $(seq 1 120); do
      "$client" --no-defaults --socket="$sock" -uroot -e 'select 1' >/dev/null 2>&1 && break
      sleep 0.5
    done
    "$client" --no-defaults --socket="$sock" -uroot -e 'select 1' >/dev/null 2>&1 \
      || { _svc_log "MariaDB did not start"; tail -20 "$dir/mariadbd.err" >&2; return 1; }
  fi
  local pw="${TRANSACTIONS_DB_PASSWORD:-asgard-demo-pw}"
  # The password is sent on stdin, never on a command line (ps would show it).
  local q="${pw//\\/\\\\}"; q="${q//\'/\\\'}"
  printf "%s\n" \
    "CREATE USER IF NOT EXISTS 'asgard'@'%' IDENTIFIED BY '$q';" \
    "ALTER USER 'asgard'@'%' IDENTIFIED BY '$q';" \
    "GRANT ALL PRIVILEGES ON *.* TO 'asgard'@'%';" \
    "CREATE DATABASE IF NOT EXISTS orders;" \
    "FLUSH PRIVILEGES;" \
    | "$client" --no-defaults --socket="$sock" -uroot || return 1
  export TRANSACTIONS_DB_PASSWORD="$pw"
  export TRANSACTIONS_DB_URL="mysql://asgard@127.0.0.1:$ASGARD_MARIADB_PORT/orders"
}

_svc_mariadb_down() {
  local dir="$ASGARD_SERVICES_DIR/mariadb" pid
  [ -f "$dir/mariadbd.pid" ] || return 0
  pid="$(cat "$dir/mariadbd.pid")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    _svc_log "stopping MariaDB"
    kill "$pid"
    local i; for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$dir/mariadbd.pid"
}

_svc_api_healthy() {
  node -e "fetch('http://127.0.0.1:$ASGARD_API_PORT/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null
}

_svc_api_up() {
  local dir="$ASGARD_SERVICES_DIR/ticket-api"
  mkdir -p "$dir" "$ASGARD_SERVICES_DIR/data"
  if ! _svc_api_healthy; then
    _svc_log "starting the ticket API on 127.0.0.1:$ASGARD_API_PORT"
    (cd "$ASGARD_ROOT" && exec setsid node --import tsx demo/ticket-api.ts --host 127.0.0.1 --port "$ASGARD_API_PORT" \
      --data "$ASGARD_SERVICES_DIR/data/tickets.json") </dev/null >"$dir/ticket-api.out" 2>&1 &
    echo $! >"$dir/ticket-api.pid"
    daemon_wait 60 0.5 _svc_api_healthy || { _svc_log "the ticket API did not start"; tail -20 "$dir/ticket-api.out" >&2; return 1; }
  fi
  export SUPPORT_API_URL="http://127.0.0.1:$ASGARD_API_PORT"
}

_svc_api_down() {
  daemon_stop "$ASGARD_SERVICES_DIR/ticket-api/ticket-api.pid" _svc_log "the ticket API"
}

# True when the variable is unset or points at the service this file manages.
_svc_ours() {
  local value="$1" port="$2"
  [ -z "$value" ] && return 0
  case "$value" in *"127.0.0.1:$port"* | *"localhost:$port"*) return 0 ;; esac
  return 1
}

services_up() {
  if _svc_ours "${CUSTOMER_DB_URL:-}" "$ASGARD_PG_PORT"; then _svc_pg_up || return 1
  else _svc_log "CUSTOMER_DB_URL is set: using that PostgreSQL"; fi
  if _svc_ours "${TRANSACTIONS_DB_URL:-}" "$ASGARD_MARIADB_PORT"; then _svc_mariadb_up || return 1
  else _svc_log "TRANSACTIONS_DB_URL is set: using that MySQL/MariaDB"; fi
  if _svc_ours "${SUPPORT_API_URL:-}" "$ASGARD_API_PORT"; then _svc_api_up || return 1
  else _svc_log "SUPPORT_API_URL is set: using that ticket API"; fi
  export ASGARD_SERVICES_DIR
  return 0
}

services_down() {
  _svc_api_down
  _svc_mariadb_down
  _svc_pg_down
  return 0
}

# Run directly: `bash scripts/services.sh up|down`.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  daemon_main "$0" "${1:-up}" services_up services_down CUSTOMER_DB_URL TRANSACTIONS_DB_URL SUPPORT_API_URL
fi
