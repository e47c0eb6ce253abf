#!/usr/bin/env bash
# Runs Cardbench. With no Service Bus configured it runs on the embedded transport with the NGOC
# simulator playing the other side. Extra arguments go to the program.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
if [ -d src-tauri ] && [ -f ui/package.json ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${CARDBENCH_HEADLESS:-0}" != 1 ]; then
  (cd ui && npm run build --silent)
  exec cargo run --release -p cardbench-app -- "$@"
fi
# No display (or no desktop app in this checkout): the daemon with the simulator, in the terminal.
cargo build --release -p cardbench-cli
exec target/release/cardbench run "$@"
