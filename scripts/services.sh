# Starts the services the tests need, for this shell and its children; sourced by test.sh
# and demo.sh. Installs what is missing, picks free ports, and stops everything on exit.
#   CONTINUUM_TEST_S3_ENDPOINT  an S3-compatible server (moto) on 127.0.0.1
#   CONTINUUM_TEST_PG_URL, PGHOST, PGPORT, PGUSER  a throwaway PostgreSQL cluster
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

continuum_start_postgres() {
  local bin port
  bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  port=$(_continuum_free_port)
  CONTINUUM_PG_DIR=$(mktemp -d /tmp/continuum-pg.XXXXXX)
  chown postgres: "$CONTINUUM_PG_DIR"
  runuser -u postgres -- "$bin/initdb" -A trust -U postgres -D "$CONTINUUM_PG_DIR/data" >/dev/null
  runuser -u postgres -- "$bin/pg_ctl" -D "$CONTINUUM_PG_DIR/data" -l "$CONTINUUM_PG_DIR/log" -w \
    -o "-p $port -k $CONTINUUM_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  CONTINUUM_PG_BIN=$bin
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
  export CONTINUUM_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $CONTINUUM_TEST_PG_URL"
}

continuum_stop_services() {
  if [ -n "${CONTINUUM_MOTO_PID:-}" ]; then kill "$CONTINUUM_MOTO_PID" 2>/dev/null || true; fi
  if [ -n "${CONTINUUM_PG_DIR:-}" ] && [ -d "$CONTINUUM_PG_DIR/data" ]; then
    runuser -u postgres -- "$CONTINUUM_PG_BIN/pg_ctl" -D "$CONTINUUM_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$CONTINUUM_PG_DIR"
  fi
}
