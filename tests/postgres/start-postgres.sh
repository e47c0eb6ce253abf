#!/usr/bin/env bash
# Starts a private PostgreSQL server (Debian's postgresql package) on 127.0.0.1 for the tests: its
# own data directory and a port picked here, trust authentication for the throwaway cluster only.
#
#   eval "$(tests/postgres/start-postgres.sh)"
#
# Prints `export CARDBENCH_TEST_PG_URL=postgres://cardbench@127.0.0.1:PORT/postgres` on stdout (all
# else goes to stderr) and writes the URL to the state directory's `url`. Each test creates a
# schema of its own on that server (see cardbench_store::testing), so tests run in parallel.
# Where the cluster lives and who owns it: cluster.sh (CARDBENCH_PG_DIR). Running the script on a
# live server prints its URL again.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
log() { echo "start-postgres: $*" >&2; }

[ -n "$bin" ] || { log "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/setup.sh"; exit 1; }

mkdir -p "$state"
state="$(cd "$state" && pwd)"
if [ "$(id -u)" = 0 ]; then chown postgres "$state"; fi

# TLS: the server also speaks TLS with a certificate for 127.0.0.1 from a CA of the cluster's
# own; tests connect with sslmode=verify-full&sslrootcert=$CARDBENCH_TEST_PG_CA (plain TCP stays
# open for the rest).
tls="$state/tls"
if [ -f "$state/url" ] && as_owner "$bin/pg_ctl" -D "$state/data" status > /dev/null 2>&1; then
  log "already running"
  echo "export CARDBENCH_TEST_PG_URL=$(cat "$state/url")"
  [ -f "$tls/ca.crt" ] && echo "export CARDBENCH_TEST_PG_CA=$tls/ca.crt"
  exit 0
fi

if [ ! -f "$tls/server.crt" ]; then
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Cardbench test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2> "$tls/openssl.log"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.csr" 2>> "$tls/openssl.log"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 3650 \
    -extfile "$tls/server.ext" -out "$tls/server.crt" 2>> "$tls/openssl.log"
  chmod 600 "$tls/server.key" "$tls/ca.key"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$tls"; fi
fi

if [ ! -f "$state/data/PG_VERSION" ]; then
  as_owner "$bin/initdb" -D "$state/data" -A trust -U cardbench -E UTF8 --locale=C.UTF-8 > "$state/initdb.log" 2>&1 \
    || { log "initdb failed:"; cat "$state/initdb.log" >&2; exit 1; }
fi

port="${CARDBENCH_PG_PORT:-}"
if [ -z "$port" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
fi
# fsync and synchronous_commit stay on (the defaults): the store's durability is what is tested.
as_owner "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
  -o "-p $port -k $state -c listen_addresses=127.0.0.1 -c max_connections=300 -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" start > /dev/null \
  || { log "the server did not start:"; tail -20 "$state/server.log" >&2; exit 1; }
url="postgres://cardbench@127.0.0.1:$port/postgres"
echo "$url" > "$state/url"
log "PostgreSQL on 127.0.0.1:$port (data in $state/data)"
echo "export CARDBENCH_TEST_PG_URL=$url"
echo "export CARDBENCH_TEST_PG_CA=$tls/ca.crt"
