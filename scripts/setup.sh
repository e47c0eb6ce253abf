#!/usr/bin/env bash
# Installs everything Cardbench needs to build, run and test on Debian/Ubuntu. Idempotent: what is
# already there is not fetched again. Called by run.sh and test.sh, so a fresh machine needs no
# other step. System packages come from tests/apt-packages.txt (one per line, # comments allowed).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# System packages.
mapfile -t wanted < <(cat tests/apt-packages.txt 2>/dev/null | sed 's/#.*//' | awk 'NF{print $1}' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Rust toolchain: expected from rustup on the machine; say so clearly if it is missing.
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust with rustup (https://rustup.rs) and run again" >&2
  exit 1
fi

# Front-end dependencies, when the desktop app is part of this checkout.
if [ -f ui/package.json ]; then
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "setup: npm ci in ui/" >&2
    # npm 11 can refuse `npm ci` over optional platform packages of @tauri-apps/cli that the lock
    # leaves out; `npm install` resolves the same versions from the lock.
    (cd ui && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error; })
  fi
fi

# WebDriver bridge for the end-to-end tests of the desktop app.
if [ -d src-tauri ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: cargo install tauri-driver" >&2
  cargo install tauri-driver --locked --quiet
fi
