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
#
# CARDBENCH_BROKER_DIR: state directory (default: <repo>/target/test-broker). Running the script again
#   on a live node only declares the queues. After stop-rabbitmq.sh (without --clean) it starts the
#   node again on the same ports with the same data, so durable messages survive a restart.
# Needs: tests/broker/install.sh run once (rabbitmq-server, python3-qpid-proton, python3-websockets).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${CARDBENCH_BROKER_DIR:-$repo/target/test-broker}"
rmq=/usr/lib/rabbitmq/bin

log() { echo "start-rabbitmq: $*" >&2; }

if [ ! -x "$rmq/rabbitmq-server" ]; then
  log "RabbitMQ is not installed ($rmq/rabbitmq-server missing): run tests/broker/install.sh"
  exit 1
fi

mkdir -p "$state"
state="$(cd "$state" && pwd)"

free_port() {
  # Binding port 0 lets the kernel choose a port nobody holds right now.
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_free() {
  /usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
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
  if [ -z "${AMQP_PORT:-}" ] || [ -z "${WS_PORT:-}" ] || ! port_free "$AMQP_PORT" || ! port_free "$DIST_PORT" \
      || ! port_free "$EPMD_PORT" || ! port_free "$WS_PORT"; then
    AMQP_PORT="$(free_port)"; DIST_PORT="$(free_port)"; EPMD_PORT="$(free_port)"; WS_PORT="$(free_port)"
    while [ "$DIST_PORT" = "$AMQP_PORT" ]; do DIST_PORT="$(free_port)"; done
    while [ "$EPMD_PORT" = "$AMQP_PORT" ] || [ "$EPMD_PORT" = "$DIST_PORT" ]; do EPMD_PORT="$(free_port)"; done
    while [ "$WS_PORT" = "$AMQP_PORT" ] || [ "$WS_PORT" = "$DIST_PORT" ] || [ "$WS_PORT" = "$EPMD_PORT" ]; do WS_PORT="$(free_port)"; done
    printf 'AMQP_PORT=%s\nDIST_PORT=%s\nEPMD_PORT=%s\nWS_PORT=%s\n' "$AMQP_PORT" "$DIST_PORT" "$EPMD_PORT" "$WS_PORT" > "$state/ports.tmp.$$"
    mv -f "$state/ports.tmp.$$" "$state/ports"
  fi
fi

mkdir -p "$state/home" "$state/mnesia" "$state/log"
# Files are written to a temp name and renamed: tests run this script concurrently (to declare
# their queues), and a half-written env file would send rabbitmqctl to the wrong node.
publish() { mv -f "$1.tmp.$$" "$1"; }
# The node name carries the AMQP port so two private nodes never mistake each other.
cat > "$state/env.tmp.$$" <<ENV
export HOME='$state/home'
export RABBITMQ_NODENAME='cardbench$AMQP_PORT@localhost'
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
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
cat > "$state/rabbitmq.conf.tmp.$$" <<CONF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
amqp1_0.default_user = guest
amqp1_0.default_vhost = /
loopback_users = none
CONF
publish "$state/rabbitmq.conf"
echo '[rabbitmq_amqp1_0].' > "$state/enabled_plugins.tmp.$$"
publish "$state/enabled_plugins"

if ! $running; then
  # Our own epmd, bound to loopback on its own port, so stop-rabbitmq.sh can end exactly it.
  if ! { [ -f "$state/epmd.pid" ] && kill -0 "$(cat "$state/epmd.pid")" 2>/dev/null; }; then
    setsid /usr/bin/epmd -address 127.0.0.1 -port "$EPMD_PORT" > "$state/log/epmd.log" 2>&1 < /dev/null &
    echo $! > "$state/epmd.pid"
  fi
  log "starting node $RABBITMQ_NODENAME on 127.0.0.1:$AMQP_PORT (state in $state)"
  setsid "$rmq/rabbitmq-server" >> "$state/log/server.log" 2>&1 < /dev/null &
  echo $! > "$state/server.pid"
  ready=false
  for _ in $(seq 1 120); do
    if ! kill -0 "$(cat "$state/server.pid")" 2>/dev/null; then
      log "node exited during start; last lines of $state/log/server.log:"
      tail -n 30 "$state/log/server.log" >&2
      exit 1
    fi
    if "$rmq/rabbitmq-diagnostics" -q check_port_connectivity > /dev/null 2>&1; then
      ready=true; break
    fi
    sleep 0.5
  done
  if ! $ready; then
    log "node not ready after 60 s; see $state/log/server.log"
    exit 1
  fi
fi

# The WebSocket relay (its own process, so it is started whenever it is not running, e.g. after a
# stop that left the node's data).
if ! { [ -f "$state/ws-relay.pid" ] && kill -0 "$(cat "$state/ws-relay.pid")" 2>/dev/null; }; then
  if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    log "python3-websockets is missing (for tests/broker/ws-relay.py): run scripts/setup.sh"
    exit 1
  fi
  setsid /usr/bin/python3 "$here/ws-relay.py" "$WS_PORT" "$AMQP_PORT" '/$servicebus/websocket' \
    > "$state/log/ws-relay.log" 2>&1 < /dev/null &
  echo $! > "$state/ws-relay.pid"
  for _ in $(seq 1 50); do
    grep -q '^ready' "$state/log/ws-relay.log" 2>/dev/null && break
    kill -0 "$(cat "$state/ws-relay.pid")" 2>/dev/null || { log "ws-relay.py exited:"; tail -n 20 "$state/log/ws-relay.log" >&2; exit 1; }
    sleep 0.1
  done
  grep -q '^ready' "$state/log/ws-relay.log" || { log "ws-relay.py not ready after 5 s"; exit 1; }
  log "AMQP over WebSockets relay on 127.0.0.1:$WS_PORT"
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
  "$rmq/rabbitmqctl" -q eval "${decls} ok." > /dev/null
fi
for q in "$@"; do
  # Rejected (dead-lettered) messages of $q go to $q.dlq through the default exchange.
  "$rmq/rabbitmqctl" -q set_policy -p / --apply-to queues "dlx-$q" "^$(printf '%s' "$q" | sed 's/\./\\./g')\$" \
    "{\"dead-letter-exchange\":\"\",\"dead-letter-routing-key\":\"$q.dlq\"}" > /dev/null
  log "queue $q (dead letters: $q.dlq) declared"
done

url="amqp://guest:guest@127.0.0.1:$AMQP_PORT"
echo "$url" > "$state/amqp-url.tmp.$$"
publish "$state/amqp-url"
echo "export CARDBENCH_TEST_AMQP_URL=$url"
ws_url="ws://guest:guest@127.0.0.1:$WS_PORT/\$servicebus/websocket"
echo "$ws_url" > "$state/amqp-ws-url.tmp.$$"
publish "$state/amqp-ws-url"
# Single quotes: the path holds a `$`.
echo "export CARDBENCH_TEST_AMQP_WS_URL='$ws_url'"
