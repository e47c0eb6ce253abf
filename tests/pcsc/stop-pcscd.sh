#!/usr/bin/env bash
# Stops the private PC/SC stack started by start-pcscd.sh and removes its folder.
# Usage: stop-pcscd.sh [DIR]   (default: $CARDBENCH_PCSC_DIR)
set -uo pipefail
dir="${1:-${CARDBENCH_PCSC_DIR:-}}"
[ -n "$dir" ] && [ -f "$dir/pid" ] || { echo "stop-pcscd: nothing to stop" >&2; exit 0; }
pid="$(cat "$dir/pid")"
# The namespace's processes are one session (setsid): stop that group, and only it.
kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$pid" 2>/dev/null || true
case "$dir" in
  */cardbench-pcsc.*) rm -rf "$dir" ;;
esac
