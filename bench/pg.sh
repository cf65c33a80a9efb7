# bench/pg.sh - sourced: a throwaway PostgreSQL cluster on loopback for the store benchmarks.
#
#   pg_start DIR   initdb into DIR/data, start on a free port of 127.0.0.1 (socket in DIR), trust
#                  authentication, fsync off; sets PG_URL (the database `warden`, created) and PG_DIR
#   pg_stop        stops it and removes DIR
#
# Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/N/bin). PostgreSQL refuses to
# run as root, so as root the cluster belongs to the `postgres` user.

pg_bindir() {
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [[ -n "$newest" && -x "$newest/initdb" ]]; then echo "$newest"; return; fi
  command -v initdb >/dev/null && dirname "$(command -v initdb)" && return
  echo "bench: PostgreSQL is not installed (apt-get install postgresql)" >&2
  return 1
}

pg_as() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  PG_DIR="$1"
  local bindir port
  bindir="$(pg_bindir)"
  mkdir -p "$PG_DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres "$PG_DIR"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  pg_as "$bindir/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1
  pg_as "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_DIR -c fsync=off -c max_connections=100" \
    start >/dev/null
  PG_BINDIR="$bindir"
  PG_PORT="$port"
  pg_as "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE warden' >/dev/null
  PG_URL="postgres://postgres@127.0.0.1:$port/warden?sslmode=disable"
}

pg_stop() {
  [[ -n "${PG_DIR:-}" && -d "$PG_DIR/data" ]] || return 0
  pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
