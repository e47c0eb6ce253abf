#!/usr/bin/env bash
# End-to-end tests of the desktop app in its real webview:
#   builds ui/ and the app, seeds a fresh data directory, starts Xvfb and tauri-driver
#   (which starts WebKitWebDriver and the app), runs tests/e2e/e2e.mjs, and stops everything.
# Screens are saved as PNGs in tests/artifacts/. Needs: xvfb, webkit2gtk-driver, tauri-driver
# (cargo install tauri-driver --locked), node. Every step has a time limit.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

for tool in Xvfb WebKitWebDriver tauri-driver node; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing (bash scripts/setup.sh installs it)" >&2; exit 1; }
done

if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then
  (cd ui && timeout 300 npm run build --silent)
  timeout 1500 cargo build -p cardbench-app -p cardbench-seed -p cardbench-cli --bins
fi
app="$CARGO_TARGET_DIR/debug/cardbench-app"
seed="$CARGO_TARGET_DIR/debug/cardbench-seed"

work="$(mktemp -d /tmp/cardbench-e2e.XXXXXX)"
# The webview keeps its own storage (the worklist's saved view, caches) under the user's data
# directory: give each run its own, so no run starts with what another left behind.
export XDG_DATA_HOME="$work/xdg-data" XDG_CACHE_HOME="$work/xdg-cache"
data="$work/data"
# Secrets (webhook secrets, the card API's token) in a directory of the run's own, not the desktop keyring.
export CARDBENCH_SECRETS_DIR="$work/secrets"
mkdir -p "$data" tests/artifacts
timeout 120 "$seed" --data-dir "$data" --demo
{
  printf 'operator = "E2E Operator"\n[workstation]\nmask_holder = false\nsound = false\n'
  printf '[documents.billing]\ndefault_cost_centre = "CC-E2E"\n'
  # The CUPS test queue (tests/cups/start-cupsd.sh, started by scripts/test.sh), when there is one.
  [ -z "${CARDBENCH_TEST_PRINTER:-}" ] || printf '[documents.print]\nprinter = "%s"\n' "$CARDBENCH_TEST_PRINTER"
} > "$work/screens.toml"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "${E2E_KEEP:-}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

display=":$(( 90 + RANDOM % 9 ))"
# A screen as large as the largest size the layout phase tests (1920×1080): the app's window opens
# fitted to it, so phases 1 and 2 run full-screen at that size.
Xvfb "$display" -screen 0 1920x1080x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY="$display"
sleep 1

# E2E_PHASES="layout" (or "screens flow", …) runs only those phases; all four by default (floor
# needs the test PostgreSQL, CARDBENCH_TEST_PG_URL).
phase() { [ -z "${E2E_PHASES:-}" ] || [[ " $E2E_PHASES " == *" $1 "* ]]; }
status=0
port=$(( 4444 + RANDOM % 400 * 2 ))

if phase screens; then
# Phase 1: screens on a seeded store, without the daemon (deterministic states).
CARDBENCH_CONFIG="$work/screens.toml" CARDBENCH_NO_DAEMON=true CARDBENCH_DATA_DIR="$data" \
  tauri-driver --port "$port" --native-port "$((port + 1))" >"$work/driver.log" 2>&1 &
pids+=($!)
E2E_DRIVER="http://127.0.0.1:$port" E2E_APP="$app" E2E_ARTIFACTS="$root/tests/artifacts" \
  timeout 600 node tests/e2e/e2e.mjs || status=1
kill "${pids[-1]}" 2>/dev/null || true
fi

if phase flow; then
# Phase 2: the full operator flow with the daemon and the NGOC simulator in the app.
flow="$work/flow"
mkdir -p "$flow"
# Duplicate detection off on the embedded queues: the resend test shows a resent message reach
# NGOC's side again (as it does on Service Bus once the 5-day window has passed).
printf 'operator = "E2E Operator"\nsimulator = true\nsimulator_requests_per_minute = 30\nembedded_duplicate_window_seconds = 0\n[workstation]\nmask_holder = true\nsound = false\n' > "$work/flow.toml"
port=$((port + 2))
CARDBENCH_CONFIG="$work/flow.toml" CARDBENCH_DATA_DIR="$flow" \
  tauri-driver --port "$port" --native-port "$((port + 1))" >"$work/driver2.log" 2>&1 &
pids+=($!)
E2E_DRIVER="http://127.0.0.1:$port" E2E_APP="$app" E2E_ARTIFACTS="$root/tests/artifacts" \
  E2E_CLI="$CARGO_TARGET_DIR/debug/cardbench" E2E_DATA_DIR="$flow" E2E_CONFIG="$work/flow.toml" \
  timeout 600 node tests/e2e/flow.mjs || status=1
kill "${pids[-1]}" 2>/dev/null || true
fi

if phase layout; then
# Phase 3: layouts at 1280×800 and 1920×1080 on a fresh seeded store, without the daemon.
layout="$work/layout"
mkdir -p "$layout"
timeout 120 "$seed" --data-dir "$layout" --demo --sim-ids
port=$((port + 2))
CARDBENCH_CONFIG="$work/screens.toml" CARDBENCH_NO_DAEMON=true CARDBENCH_DATA_DIR="$layout" \
  tauri-driver --port "$port" --native-port "$((port + 1))" >"$work/driver3.log" 2>&1 &
pids+=($!)
E2E_DRIVER="http://127.0.0.1:$port" E2E_APP="$app" E2E_ARTIFACTS="$root/tests/artifacts" \
  timeout 600 node tests/e2e/layout.mjs || status=1
kill "${pids[-1]}" 2>/dev/null || true
fi
if phase floor && [ -n "${CARDBENCH_TEST_PG_URL:-}" ]; then
# Phase 4: two stations of a floor on one PostgreSQL database (a new one for this run): the app
# as LINE-1 without its daemon, the CLI as LINE-2. The seeded worklist is moved in with
# `cardbench store migrate`.
floordb="e2e_floor_$$_$RANDOM"
psql "$CARDBENCH_TEST_PG_URL" -qc "CREATE DATABASE $floordb" >/dev/null
floorurl="${CARDBENCH_TEST_PG_URL%/*}/$floordb"
floor="$work/floor"
mkdir -p "$floor/seed" "$floor/line1" "$floor/line2"
timeout 120 "$seed" --data-dir "$floor/seed" --demo
timeout 120 "$CARGO_TARGET_DIR/debug/cardbench" --data-dir "$floor/seed" store migrate --to "$floorurl" >/dev/null
printf 'operator = "E2E Operator"\n[workstation]\nmask_holder = false\nsound = false\n[store]\nurl = "%s"\nstation = "LINE-1"\n' "$floorurl" > "$work/floor1.toml"
printf '[store]\nurl = "%s"\nstation = "LINE-2"\n' "$floorurl" > "$work/floor2.toml"
port=$((port + 2))
CARDBENCH_CONFIG="$work/floor1.toml" CARDBENCH_NO_DAEMON=true CARDBENCH_DATA_DIR="$floor/line1" \
  tauri-driver --port "$port" --native-port "$((port + 1))" >"$work/driver4.log" 2>&1 &
pids+=($!)
E2E_DRIVER="http://127.0.0.1:$port" E2E_APP="$app" E2E_ARTIFACTS="$root/tests/artifacts" \
  E2E_CLI="$CARGO_TARGET_DIR/debug/cardbench" E2E_LINE2_CONFIG="$work/floor2.toml" E2E_LINE2_DATA="$floor/line2" E2E_FLOOR_DB="$floordb" \
  timeout 600 node tests/e2e/floor.mjs || status=1
kill "${pids[-1]}" 2>/dev/null || true
wait "${pids[-1]}" 2>/dev/null || true
psql "$CARDBENCH_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS $floordb WITH (FORCE)" >/dev/null || true
elif phase floor; then
  echo "e2e: no test PostgreSQL (CARDBENCH_TEST_PG_URL): the floor phase is skipped"
fi
exit "$status"
