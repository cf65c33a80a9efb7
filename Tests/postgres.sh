#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the store's tests (Debian's postgresql package).
#
#   eval "$(Tests/postgres.sh start DIR)"   # prints WARDEN_TEST_POSTGRES=... and PGPASSWORD=... exports
#   Tests/postgres.sh stop DIR
#   Tests/postgres.sh restart DIR           # stop, then start again
#   Tests/postgres.sh resume DIR            # start a stopped cluster again (the recovery test)
#
# The cluster lives in DIR (made if missing), listens on 127.0.0.1 at a free port, no Unix socket
# outside DIR, and asks for a password (SCRAM) on TCP, so the password path is exercised. It also
# speaks TLS, with a certificate for the name `localhost` (not the address) signed by a throwaway CA
# whose certificate is exported as WARDEN_TEST_POSTGRES_CA, so verify-full and its refusals can be
# tested (needs openssl). initdb and
# postgres refuse to run as root: as root, DIR is given to the postgres user and they run as it.
set -euo pipefail
action="${1:?start, stop or restart}"
dir="${2:?the directory of the cluster}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -x "$bindir/initdb" ]] || bindir="$(dirname "$(command -v initdb)")"
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pgctl() { as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 "$@" >/dev/null; }

if [[ $action == start ]]; then
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
  password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  port="$(free_port)"
  as_owner sh -c "umask 077; printf '%s\n' '$password' > '$dir/password'"
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/password" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-locale >/dev/null
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
max_connections = 200
CONF
  if command -v openssl >/dev/null 2>&1; then
    (
      cd "$dir"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
        -subj "/CN=warden test CA" >/dev/null 2>&1
      openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" >/dev/null 2>&1
      printf 'subjectAltName=DNS:localhost\n' >server.ext
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
        -extfile server.ext >/dev/null 2>&1
      chmod 600 server.key
      if [[ $(id -u) -eq 0 ]]; then chown postgres: server.key server.crt; fi
      chmod 644 ca.crt
    )
    printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" "$dir/server.crt" "$dir/server.key" \
      >>"$dir/data/postgresql.conf"
  fi
  echo "$port" >"$dir/port"
  pgctl start
  as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -q -c "CREATE DATABASE warden_test" postgres
  echo "export WARDEN_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/warden_test?sslmode=disable'"
  echo "export WARDEN_TEST_POSTGRES_PASSWORD='$password'"
  echo "export WARDEN_TEST_POSTGRES_DIR='$dir'"
  if [[ -f "$dir/ca.crt" ]]; then echo "export WARDEN_TEST_POSTGRES_CA='$dir/ca.crt'"; fi
elif [[ $action == stop ]]; then
  [[ -d "$dir/data" ]] && pgctl stop -m fast || true
elif [[ $action == restart ]]; then
  pgctl stop -m fast
  pgctl start
elif [[ $action == resume ]]; then
  pgctl start
else
  echo "usage: $0 start|stop|restart|resume DIR" >&2
  exit 2
fi
