#!/usr/bin/env bash
# Stops the node started by start-rabbitmq.sh, its epmd (epmd outlives the node otherwise) and the
# WebSocket relays.
#   stop-rabbitmq.sh          keep data and ports: start-rabbitmq.sh brings the same node back
#   stop-rabbitmq.sh --clean  also delete the state directory
# Uses CARDBENCH_BROKER_DIR like start-rabbitmq.sh. Ends only the pids recorded there.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${CARDBENCH_BROKER_DIR:-$repo/target/test-broker}"
rmq=/usr/lib/rabbitmq/bin
clean=false
[ "${1:-}" = "--clean" ] && clean=true

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
        ( . "$state/env"; "$rmq/rabbitmqctl" -q stop > /dev/null 2>&1 ) || true
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
