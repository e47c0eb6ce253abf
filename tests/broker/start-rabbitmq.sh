#!/usr/bin/env bash
# Starts a private RabbitMQ node (AMQP 1.0 plugin on) on 127.0.0.1 for the tests, without root
# services: its own HOME, mnesia, logs, epmd, and ports picked here (5672 may be taken).
#
#   eval "$(tests/broker/start-rabbitmq.sh inbound outbound)"
#
# Every queue argument is declared durable, with a dead-letter queue `<name>.dlq` behind it
# (rejected messages go there, like Service Bus's `<name>/$DeadLetterQueue`).
# Prints `export CARDBENCH_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:PORT` on stdout (all else goes
# to stderr) and writes the URL to $CARDBENCH_BROKER_DIR/amqp-url, which the tests read when the
# variable is unset.
# Also starts tests/broker/ws-relay.py, AMQP over WebSockets in front of the node (RabbitMQ 3.10
# has no such listener; Service Bus serves it on 443), and prints
# `export CARDBENCH_TEST_AMQP_WS_URL='ws://guest:guest@127.0.0.1:PORT/$servicebus/websocket'`
# (also written to $CARDBENCH_BROKER_DIR/amqp-ws-url).
# TLS: a throwaway CA and a server certificate for 127.0.0.1 / localhost are made with openssl in
# $CARDBENCH_BROKER_DIR/tls/ (ca.pem; other-ca.pem is a CA that signed nothing the node uses), the
# node also listens with TLS, and a second relay serves wss. Prints CARDBENCH_TEST_AMQPS_URL,
# CARDBENCH_TEST_AMQP_WSS_URL and CARDBENCH_TEST_CA_FILE (also written to files of those names,
# lower case, in the state dir).
#
# CARDBENCH_BROKER_DIR: state directory (default: <repo>/target/test-broker). Running the script again
#   on a live node only declares the queues. After stop-rabbitmq.sh (without --clean) it starts the
#   node again on the same ports with the same data, so durable messages survive a restart.
# Needs: tests/broker/install.sh run once (rabbitmq-server, python3-qpid-proton, python3-websockets).
#
# --netns NAME (first argument; root only): the node runs in its own network namespace NAME,
#   reached over a veth pair: NET.1/30 inside, NET.2/30 on this side (NET: CARDBENCH_NETNS_NET,
#   default the first free 10.213.N from 10.213.7, kept in the state dir). Taking the namespace's end down
#   (`ip netns exec NAME ip link set $CARDBENCH_TEST_NETNS_VETH_NS down`) cuts the link silently:
#   no RST, no refusal, packets vanish, as in a broken network, which stopping the node cannot
#   show. (Taking this side's end down is not silent: its route goes, and sends fail at once.) State in
#   CARDBENCH_NETNS_BROKER_DIR (default <repo>/target/test-broker-netns-NAME); no WebSocket
#   relays and no TLS listener. Prints CARDBENCH_TEST_NETNS_AMQP_URL, CARDBENCH_TEST_NETNS (the
#   namespace), CARDBENCH_TEST_NETNS_VETH (this side's end), CARDBENCH_TEST_NETNS_VETH_NS (the
#   namespace's end) and CARDBENCH_TEST_NETNS_BROKER_DIR (pass it as CARDBENCH_NETNS_BROKER_DIR to
#   declare queues again). `stop-rabbitmq.sh --netns NAME --clean` deletes the namespace and the
#   pair; without --clean they stay, and this script brings the node back on the same address.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rmq=/usr/lib/rabbitmq/bin

log() { echo "start-rabbitmq: $*" >&2; }

netns=""
if [ "${1:-}" = "--netns" ]; then
  netns="${2:-}"
  shift 2 || { log "--netns needs a namespace name"; exit 1; }
  case "$netns" in
    *[!A-Za-z0-9_-]*|"") log "namespace name '$netns' not allowed (letters, digits, _ - only)"; exit 1 ;;
  esac
fi
if [ -n "$netns" ]; then
  state="${CARDBENCH_NETNS_BROKER_DIR:-$repo/target/test-broker-netns-$netns}"
else
  state="${CARDBENCH_BROKER_DIR:-$repo/target/test-broker}"
fi
# Commands that talk to the node (or pick its ports) run where the node runs.
run_in() { if [ -n "$netns" ]; then ip netns exec "$netns" "$@"; else "$@"; fi; }

if [ ! -x "$rmq/rabbitmq-server" ]; then
  log "RabbitMQ is not installed ($rmq/rabbitmq-server missing): run tests/broker/install.sh"
  exit 1
fi

mkdir -p "$state"
state="$(cd "$state" && pwd)"

listen_ip=127.0.0.1
if [ -n "$netns" ]; then
  [ "$(id -u)" = 0 ] || { log "--netns needs root (ip netns, veth)"; exit 1; }
  command -v ip > /dev/null || { log "ip (iproute2) is missing: run scripts/setup.sh"; exit 1; }
  held() { ip -o -4 addr show | awk '{print $4}' | grep -q "^${1//./\\.}\.[0-3]/"; }
  if [ -n "${CARDBENCH_NETNS_NET:-}" ]; then
    net="$CARDBENCH_NETNS_NET"
  elif [ -f "$state/net" ]; then
    net="$(cat "$state/net")"
  else
    # The first 10.213.N.0/30 that no interface here holds an address in: another run's pair on
    # this machine, or one a killed run left behind, keeps its own.
    net=""
    for n in $(seq 7 254); do
      if ! held "10.213.$n"; then net="10.213.$n"; break; fi
    done
    [ -n "$net" ] || { log "no 10.213.N.0/30 is free here for the namespace's pair"; exit 1; }
  fi
  listen_ip="$net.1"
  host_ip="$net.2"
  # Interface names hold 15 characters at most.
  veth="cbh-${netns:0:11}"
  veth_ns="cbn-${netns:0:11}"
  if [ ! -e "/var/run/netns/$netns" ]; then
    # Someone else's address in our /30 would take our traffic (or we theirs): refuse.
    if held "$net"; then
      log "an interface here already holds an address in $net.0/30; choose another CARDBENCH_NETNS_NET"
      rmdir "$state" 2> /dev/null || true
      exit 1
    fi
    ip netns add "$netns"
    if ! { ip link add "$veth" type veth peer name "$veth_ns" &&
           ip link set "$veth_ns" netns "$netns" &&
           ip addr add "$host_ip/30" dev "$veth" &&
           ip netns exec "$netns" ip addr add "$listen_ip/30" dev "$veth_ns"; }; then
      log "setting up namespace $netns failed"
      ip link del "$veth" 2>/dev/null || true
      ip netns del "$netns" 2>/dev/null || true
      exit 1
    fi
    echo "$net" > "$state/net"
    log "namespace $netns: $listen_ip on $veth_ns inside, $host_ip on $veth here"
  fi
  # Up every time: a test that cut the link and died leaves it down.
  ip link set "$veth" up
  ip netns exec "$netns" ip link set "$veth_ns" up
  ip netns exec "$netns" ip link set lo up
  # A cut must be silent, as a broken network is: with the node's MAC pinned here, taking the
  # namespace's end down leaves packets going into the pair and vanishing (a connect times out);
  # without it, the failed ARP turns into a quick "no route to host".
  ip neigh replace "$listen_ip" lladdr "$(ip netns exec "$netns" cat "/sys/class/net/$veth_ns/address")" dev "$veth" nud permanent
  # Should this side's end be taken down, its route goes with it: the pair's addresses must then
  # go nowhere, never out by the default route.
  ip route replace blackhole "$net.0/30" metric 1000
fi

free_port() {
  # Binding port 0 lets the kernel choose a port nobody holds right now.
  run_in /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_free() {
  run_in /usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# Ports are kept in the state dir so a restart (stop, then start) comes back where clients expect it.
if [ -f "$state/ports" ]; then
  # shellcheck disable=SC1091
  . "$state/ports"
fi
running=false
if [ -f "$state/server.pid" ] && kill -0 "$(cat "$state/server.pid")" 2>/dev/null; then
  running=true
fi
if ! $running; then
  names="AMQP_PORT DIST_PORT EPMD_PORT WS_PORT AMQPS_PORT WSS_PORT"
  reuse=true
  for n in $names; do
    if [ -z "${!n:-}" ] || ! port_free "${!n}"; then reuse=false; fi
  done
  if ! $reuse; then
    # Distinct ports, each free right now.
    taken=" "
    for n in $names; do
      p="$(free_port)"
      while [[ "$taken" == *" $p "* ]]; do p="$(free_port)"; done
      taken="$taken$p "
      printf -v "$n" '%s' "$p"
    done
    for n in $names; do printf '%s=%s\n' "$n" "${!n}"; done > "$state/ports.tmp.$$"
    mv -f "$state/ports.tmp.$$" "$state/ports"
  fi
fi

mkdir -p "$state/home" "$state/mnesia" "$state/log"

# Throwaway certificates, made once per state dir (kept across restarts). Written in a temp dir
# and renamed, as concurrent runs of this script may race.
tls="$state/tls"
if [ -z "$netns" ] && [ ! -f "$tls/server.pem" ]; then
  command -v openssl > /dev/null || { log "openssl is missing: run scripts/setup.sh"; exit 1; }
  tmp="$(mktemp -d "$state/tls.tmp.XXXXXX")"
  (
    cd "$tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cardbench test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca.key -out ca.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cardbench other CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout other-ca.key -out other-ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.pem
  ) > "$state/log/openssl.log" 2>&1 || { log "making test certificates failed:"; tail -n 20 "$state/log/openssl.log" >&2; rm -rf "$tmp"; exit 1; }
  chmod 600 "$tmp"/*.key
  if [ ! -f "$tls/server.pem" ]; then rm -rf "$tls"; mv "$tmp" "$tls"; else rm -rf "$tmp"; fi
fi
# Files are written to a temp name and renamed: tests run this script concurrently (to declare
# their queues), and a half-written env file would send rabbitmqctl to the wrong node.
publish() { mv -f "$1.tmp.$$" "$1"; }
# The node name carries the AMQP port so two private nodes never mistake each other.
cat > "$state/env.tmp.$$" <<ENV
export HOME='$state/home'
export RABBITMQ_NODENAME='cardbench$AMQP_PORT@localhost'
export RABBITMQ_NODE_IP_ADDRESS=$listen_ip
export RABBITMQ_NODE_PORT='$AMQP_PORT'
export RABBITMQ_DIST_PORT='$DIST_PORT'
export ERL_EPMD_ADDRESS=127.0.0.1
export ERL_EPMD_PORT='$EPMD_PORT'
export RABBITMQ_MNESIA_BASE='$state/mnesia'
export RABBITMQ_LOG_BASE='$state/log'
export RABBITMQ_LOGS=-
export RABBITMQ_CONFIG_FILE='$state/rabbitmq.conf'
export RABBITMQ_ENABLED_PLUGINS_FILE='$state/enabled_plugins'
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
ENV
publish "$state/env"
# shellcheck disable=SC1091
. "$state/env"
if [ -n "$netns" ]; then
  # Plain AMQP on the namespace's end of the pair only (the link-cut tests need nothing else).
  cat > "$state/rabbitmq.conf.tmp.$$" <<CONF
listeners.tcp.default = $listen_ip:$AMQP_PORT
amqp1_0.default_user = guest
amqp1_0.default_vhost = /
loopback_users = none
CONF
else
  cat > "$state/rabbitmq.conf.tmp.$$" <<CONF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
listeners.ssl.default = 127.0.0.1:$AMQPS_PORT
ssl_options.cacertfile = $tls/ca.pem
ssl_options.certfile = $tls/server.pem
ssl_options.keyfile = $tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
amqp1_0.default_user = guest
amqp1_0.default_vhost = /
loopback_users = none
CONF
fi
publish "$state/rabbitmq.conf"
echo '[rabbitmq_amqp1_0].' > "$state/enabled_plugins.tmp.$$"
publish "$state/enabled_plugins"

if ! $running; then
  # Our own epmd, bound to loopback on its own port, so stop-rabbitmq.sh can end exactly it.
  if ! { [ -f "$state/epmd.pid" ] && kill -0 "$(cat "$state/epmd.pid")" 2>/dev/null; }; then
    setsid ${netns:+ip netns exec "$netns"} /usr/bin/epmd -address 127.0.0.1 -port "$EPMD_PORT" > "$state/log/epmd.log" 2>&1 < /dev/null &
    echo $! > "$state/epmd.pid"
  fi
  log "starting node $RABBITMQ_NODENAME on $listen_ip:$AMQP_PORT${netns:+ in namespace $netns} (state in $state)"
  setsid ${netns:+ip netns exec "$netns"} "$rmq/rabbitmq-server" >> "$state/log/server.log" 2>&1 < /dev/null &
  echo $! > "$state/server.pid"
  ready=false
  for _ in $(seq 1 120); do
    if ! kill -0 "$(cat "$state/server.pid")" 2>/dev/null; then
      log "node exited during start; last lines of $state/log/server.log:"
      tail -n 30 "$state/log/server.log" >&2
      exit 1
    fi
    if [ -n "$netns" ]; then
      # check_port_connectivity fails on a listener in a namespace (seen with 3.10) though the
      # port answers: ask whether the node runs, then open the port from this side of the pair.
      if run_in "$rmq/rabbitmq-diagnostics" -q check_running > /dev/null 2>&1 &&
         /usr/bin/python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)' "$listen_ip" "$AMQP_PORT" 2>/dev/null; then
        ready=true; break
      fi
    elif run_in "$rmq/rabbitmq-diagnostics" -q check_port_connectivity > /dev/null 2>&1; then
      ready=true; break
    fi
    sleep 0.5
  done
  if ! $ready; then
    log "node not ready after 60 s; see $state/log/server.log"
    exit 1
  fi
fi

# The WebSocket relays (their own processes, so each is started whenever it is not running, e.g.
# after a stop that left the node's data): ws on WS_PORT, wss (our test certificate) on WSS_PORT.
start_relay() { # name, port, extra args
  local name="$1" port="$2"; shift 2
  if { [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; }; then return 0; fi
  if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    log "python3-websockets is missing (for tests/broker/ws-relay.py): run scripts/setup.sh"
    exit 1
  fi
  setsid /usr/bin/python3 "$here/ws-relay.py" "$port" "$AMQP_PORT" '/$servicebus/websocket' "$@" \
    > "$state/log/$name.log" 2>&1 < /dev/null &
  echo $! > "$state/$name.pid"
  for _ in $(seq 1 50); do
    grep -q '^ready' "$state/log/$name.log" 2>/dev/null && break
    kill -0 "$(cat "$state/$name.pid")" 2>/dev/null || { log "$name exited:"; tail -n 20 "$state/log/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  grep -q '^ready' "$state/log/$name.log" || { log "$name not ready after 5 s"; exit 1; }
  log "AMQP over WebSockets relay ($name) on 127.0.0.1:$port"
}
if [ -z "$netns" ]; then
  start_relay ws-relay "$WS_PORT"
  start_relay wss-relay "$WSS_PORT" "$tls/server.pem" "$tls/server.key"
fi

decls=""
for q in "$@"; do
  case "$q" in
    *[!A-Za-z0-9._-]*|"") log "queue name '$q' not allowed (letters, digits, . _ - only)"; exit 1 ;;
  esac
  for name in "$q" "$q.dlq"; do
    # Durable (second argument) so the queue and its durable messages survive a restart.
    decls="$decls rabbit_amqqueue:declare(rabbit_misc:r(<<\"/\">>,queue,<<\"$name\">>),true,false,[],none,<<\"cardbench-tests\">>),"
  done
done
if [ -n "$decls" ]; then
  # One CLI call for all declarations: each rabbitmqctl start costs about a second.
  run_in "$rmq/rabbitmqctl" -q eval "${decls} ok." > /dev/null
fi
for q in "$@"; do
  # Rejected (dead-lettered) messages of $q go to $q.dlq through the default exchange.
  run_in "$rmq/rabbitmqctl" -q set_policy -p / --apply-to queues "dlx-$q" "^$(printf '%s' "$q" | sed 's/\./\\./g')\$" \
    "{\"dead-letter-exchange\":\"\",\"dead-letter-routing-key\":\"$q.dlq\"}" > /dev/null
  log "queue $q (dead letters: $q.dlq) declared"
done

# Two users shaped like NGOC's credentials (Production Partner rules: read on the inbound queue,
# write on the outbound one), for the two-credential tests. Queue names are per test, so the
# permissions go by name: the reader may read `ngoc-requests` and `cbin-*` queues (and their
# `.dlq`), nothing else; the writer may write `ngoc-notifications` and `cbout-*` queues. Neither
# may configure anything. RabbitMQ 3.10's AMQP 1.0 plugin sends to `/amq/queue/X` through the
# default exchange, and basic.publish checks write on that exchange (`amq.default`) only, not on
# the queue: the writer needs `amq.default`, and that right is what tells it from the reader.
# A receiver on `/amq/queue/X` is a basic.consume: read on queue X.
# name, password, configure, write, read (regexes; kept in an array so no glob ever expands them)
users=(
  "ngoc-reader" "ngoc-reader-pw" '^$' '^$' '^(ngoc-requests|cbin-[A-Za-z0-9_-]+)(\.dlq)?$'
  "ngoc-writer" "ngoc-writer-pw" '^$' '^(amq\.default|ngoc-notifications|cbout-[A-Za-z0-9_-]+)$' '^$'
)
# Users live in the node's data (kept across restarts, gone with --clean, like this marker).
if [ ! -f "$state/users-ok" ]; then
  for ((i = 0; i < ${#users[@]}; i += 5)); do
    run_in "$rmq/rabbitmqctl" -q add_user "${users[i]}" "${users[i+1]}" > /dev/null 2>&1 || true
    run_in "$rmq/rabbitmqctl" -q set_permissions -p / "${users[i]}" "${users[i+2]}" "${users[i+3]}" "${users[i+4]}" > /dev/null
  done
  touch "$state/users-ok"
fi
if [ -n "$netns" ]; then
  url="amqp://guest:guest@$listen_ip:$AMQP_PORT"
  for f in amqp-url:"$url" netns:"$netns" veth:"$veth" veth-ns:"$veth_ns"; do
    echo "${f#*:}" > "$state/${f%%:*}.tmp.$$"
    publish "$state/${f%%:*}"
  done
  echo "export CARDBENCH_TEST_NETNS_AMQP_URL=$url"
  echo "export CARDBENCH_TEST_NETNS=$netns"
  echo "export CARDBENCH_TEST_NETNS_VETH=$veth"
  echo "export CARDBENCH_TEST_NETNS_VETH_NS=$veth_ns"
  echo "export CARDBENCH_TEST_NETNS_BROKER_DIR='$state'"
  exit 0
fi
url="amqp://guest:guest@127.0.0.1:$AMQP_PORT"
echo "$url" > "$state/amqp-url.tmp.$$"
publish "$state/amqp-url"
echo "export CARDBENCH_TEST_AMQP_URL=$url"
ws_url="ws://guest:guest@127.0.0.1:$WS_PORT/\$servicebus/websocket"
echo "$ws_url" > "$state/amqp-ws-url.tmp.$$"
publish "$state/amqp-ws-url"
# Single quotes: the path holds a `$`.
echo "export CARDBENCH_TEST_AMQP_WS_URL='$ws_url'"
amqps_url="amqps://guest:guest@127.0.0.1:$AMQPS_PORT"
wss_url="wss://guest:guest@127.0.0.1:$WSS_PORT/\$servicebus/websocket"
for f in amqps-url:"$amqps_url" amqp-wss-url:"$wss_url" ca-file:"$tls/ca.pem"; do
  echo "${f#*:}" > "$state/${f%%:*}.tmp.$$"
  publish "$state/${f%%:*}"
done
echo "export CARDBENCH_TEST_AMQPS_URL=$amqps_url"
echo "export CARDBENCH_TEST_AMQP_WSS_URL='$wss_url'"
echo "export CARDBENCH_TEST_CA_FILE='$tls/ca.pem'"
reader_url="amqp://ngoc-reader:ngoc-reader-pw@127.0.0.1:$AMQP_PORT"
writer_url="amqp://ngoc-writer:ngoc-writer-pw@127.0.0.1:$AMQP_PORT"
for f in amqp-reader-url:"$reader_url" amqp-writer-url:"$writer_url"; do
  echo "${f#*:}" > "$state/${f%%:*}.tmp.$$"
  publish "$state/${f%%:*}"
done
echo "export CARDBENCH_TEST_AMQP_READER_URL=$reader_url"
echo "export CARDBENCH_TEST_AMQP_WRITER_URL=$writer_url"
