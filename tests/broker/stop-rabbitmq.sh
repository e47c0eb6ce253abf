#!/usr/bin/env bash
# Stops the node started by start-rabbitmq.sh, its epmd (epmd outlives the node otherwise) and the
# WebSocket relays.
#   stop-rabbitmq.sh          keep data and ports: start-rabbitmq.sh brings the same node back
#   stop-rabbitmq.sh --clean  also delete the state directory
#   stop-rabbitmq.sh --netns NAME [--clean]
#                             the node start-rabbitmq.sh --netns NAME started; --clean also deletes
#                             the namespace and its veth pair
# Uses CARDBENCH_BROKER_DIR (CARDBENCH_NETNS_BROKER_DIR with --netns) like start-rabbitmq.sh. Ends
# only the pids recorded there.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rmq=/usr/lib/rabbitmq/bin
clean=false
netns=""
while [ $# -gt 0 ]; do
  case "$1" in
    --clean) clean=true; shift ;;
    --netns) netns="${2:-}"; shift 2 || break ;;
    *) echo "stop-rabbitmq: unknown argument $1" >&2; exit 1 ;;
  esac
done
if [ -n "$netns" ]; then
  state="${CARDBENCH_NETNS_BROKER_DIR:-$repo/target/test-broker-netns-$netns}"
  # The pair's addresses the start script chose (read now: --clean removes the state dir).
  net="${CARDBENCH_NETNS_NET:-$(cat "$state/net" 2>/dev/null || echo 10.213.7)}"
else
  state="${CARDBENCH_BROKER_DIR:-$repo/target/test-broker}"
fi
run_in() { if [ -n "$netns" ] && [ -e "/var/run/netns/$netns" ]; then ip netns exec "$netns" "$@"; else "$@"; fi; }

log() { echo "stop-rabbitmq: $*" >&2; }

wait_gone() { # pid, tenths of a second
  for _ in $(seq 1 "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

if [ -d "$state" ]; then
  if [ -f "$state/server.pid" ]; then
    pid="$(cat "$state/server.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      if [ -f "$state/env" ]; then
        # shellcheck disable=SC1091
        ( . "$state/env"; run_in "$rmq/rabbitmqctl" -q stop > /dev/null 2>&1 ) || true
      fi
      # The wrapper turns TERM into a clean stop; KILL only if that did not end it.
      wait_gone "$pid" 150 || { kill -TERM "$pid" 2>/dev/null; wait_gone "$pid" 100 || kill -KILL "$pid" 2>/dev/null; }
      log "node stopped"
    fi
    rm -f "$state/server.pid"
  fi
  for relay in ws-relay wss-relay; do
    [ -f "$state/$relay.pid" ] || continue
    pid="$(cat "$state/$relay.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null
      log "WebSocket relay $relay stopped"
    fi
    rm -f "$state/$relay.pid"
  done
  if [ -f "$state/epmd.pid" ]; then
    pid="$(cat "$state/epmd.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null
      log "epmd stopped"
    fi
    rm -f "$state/epmd.pid"
  fi
  if $clean; then
    rm -rf "$state"
    log "removed $state"
  fi
fi
if $clean && [ -n "$netns" ]; then
  # Deleting the namespace deletes the pair's end inside it, and with it the pair.
  if [ -e "/var/run/netns/$netns" ]; then
    ip netns del "$netns" && log "namespace $netns deleted"
  fi
  veth="cbh-${netns:0:11}"
  if ip link show "$veth" > /dev/null 2>&1; then ip link del "$veth" && log "veth $veth deleted"; fi
  ip route del blackhole "$net.0/30" 2>/dev/null || true
fi
