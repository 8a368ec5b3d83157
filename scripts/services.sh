# Starts the services the tests need, for this shell and its children; sourced by test.sh
# and demo.sh. Installs what is missing, picks free ports, and stops everything on exit.
#   CONTINUUM_TEST_S3_ENDPOINT  an S3-compatible server (moto) on 127.0.0.1
#   CONTINUUM_TEST_PG_URL, PGHOST, PGPORT, PGUSER  a throwaway PostgreSQL cluster
#   CONTINUUM_TEST_PG_EMPTY_URL  a second one, left empty for restores (test.sh starts it)
# shellcheck shell=bash

_continuum_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_continuum_wait_port() { # host port seconds
  python3 - "$1" "$2" "$3" <<'PY'
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.time() + limit
while time.time() < deadline:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"nothing answers on {host}:{port} after {limit}s")
PY
}

# continuum_install_missing [postgres]: everything the tests need, or only PostgreSQL.
continuum_install_missing() {
  local apt=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt+=(postgresql postgresql-contrib)
  command -v zstd >/dev/null || apt+=(zstd)
  command -v unzip >/dev/null || apt+=(unzip)
  command -v zip >/dev/null || apt+=(zip)
  command -v age >/dev/null || apt+=(age)
  command -v dot >/dev/null || apt+=(graphviz)
  if [ ${#apt[@]} -gt 0 ]; then
    echo "installing ${apt[*]} (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt[@]}" >/dev/null
  fi
  [ "${1:-}" = postgres ] && return 0
  command -v moto_server >/dev/null || python3 -m pip install -q 'moto[server]'
}

continuum_start_s3() {
  local port log
  port=$(_continuum_free_port)
  log=$(mktemp /tmp/continuum-moto.XXXXXX.log)
  moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  CONTINUUM_MOTO_PID=$!
  _continuum_wait_port 127.0.0.1 "$port" 60 || { cat "$log"; return 1; }
  export CONTINUUM_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  echo "S3 (moto) on $CONTINUUM_TEST_S3_ENDPOINT"
}

# A throwaway PostgreSQL cluster on a free port of 127.0.0.1, trusted, fsync off.
_continuum_pg_cluster() { # prints the port; sets CONTINUUM_PG_BIN, appends to CONTINUUM_PG_DIRS
  local bin port dir
  bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  port=$(_continuum_free_port)
  dir=$(mktemp -d /tmp/continuum-pg.XXXXXX)
  chown postgres: "$dir"
  runuser -u postgres -- "$bin/initdb" -A trust -U postgres -D "$dir/data" >/dev/null
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"
  CONTINUUM_PG_BIN=$bin
  CONTINUUM_PG_DIRS="${CONTINUUM_PG_DIRS:-} $dir"
  CONTINUUM_PG_PORT=$port
}

continuum_start_postgres() {
  _continuum_pg_cluster
  export PGHOST=127.0.0.1 PGPORT=$CONTINUUM_PG_PORT PGUSER=postgres
  export CONTINUUM_TEST_PG_URL="postgresql://postgres@127.0.0.1:$CONTINUUM_PG_PORT/postgres"
  echo "PostgreSQL $("$CONTINUUM_PG_BIN/postgres" --version | awk '{print $3}') on $CONTINUUM_TEST_PG_URL"
}

# A second, empty server: restores onto a server that has never seen the databases.
continuum_start_empty_postgres() {
  _continuum_pg_cluster
  export CONTINUUM_TEST_PG_EMPTY_URL="postgresql://postgres@127.0.0.1:$CONTINUUM_PG_PORT/postgres"
  echo "empty PostgreSQL on $CONTINUUM_TEST_PG_EMPTY_URL"
}

continuum_stop_services() {
  if [ -n "${CONTINUUM_MOTO_PID:-}" ]; then kill "$CONTINUUM_MOTO_PID" 2>/dev/null || true; fi
  local dir
  for dir in ${CONTINUUM_PG_DIRS:-}; do
    if [ -d "$dir/data" ]; then
      runuser -u postgres -- "$CONTINUUM_PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  done
}
