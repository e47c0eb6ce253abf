#!/usr/bin/env bash
# Installs the package built by scripts/package.sh on this machine (as root: apt-get install) and
# checks it as a bureau's IT would: the sizes, what is in it and what is not, the CLI, the daemon
# as its service user with the unit's settings (start, SIGTERM, clean stop), the desktop app
# starting and painting (--bench under Xvfb), and that removing it leaves the data in place.
#
#   bash scripts/package-test.sh [PATH.deb]
#
# Not run by CI (it needs the release build of scripts/package.sh). Prints "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
deb="${1:-$(ls -t target/release/bundle/deb/*.deb 2>/dev/null | head -1)}"
[ -f "$deb" ] || { echo "no package: run scripts/package.sh first" >&2; exit 2; }
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
[ "$(id -u)" -eq 0 ] || { echo "package-test: run as root (it installs the package)" >&2; exit 2; }

passed=0; failed=0
check() { # check "what" command…
  local what="$1"; shift
  if "$@" >/tmp/package-test.out 2>&1; then
    echo "ok   $what"; passed=$((passed + 1))
  else
    echo "FAIL $what"; sed 's/^/     /' /tmp/package-test.out | tail -15; failed=$((failed + 1))
  fi
}

size=$(stat -c %s "$deb")
installed=$(( $(dpkg-deb -f "$deb" Installed-Size) * 1024 ))
echo "package $deb: $size bytes, installed $installed bytes"
check ".deb at most 30 MB" test "$size" -le $((30 * 1000 * 1000))
check "installed at most 100 MB" test "$installed" -le $((100 * 1000 * 1000))
check "has a description" sh -c "dpkg-deb -f '$deb' Description | grep -q 'production partner'"
check "recommends pcscd, cups-client and a keyring" sh -c \
  "dpkg-deb -f '$deb' Recommends | grep -q pcscd && dpkg-deb -f '$deb' Recommends | grep -q cups-client && dpkg-deb -f '$deb' Recommends | grep -q gnome-keyring"
contents=$(dpkg-deb -c "$deb")
ships() { echo "$contents" | grep -Eq " (\./)?$1\$"; }
check "ships the app, the CLI and the unit" sh -c "$(declare -f ships); contents='$contents'; ships usr/bin/cardbench-app && ships usr/bin/cardbench && ships lib/systemd/system/cardbench.service"
check "ships no test tool" sh -c "! echo '$contents' | grep -q cardbench-seed"

export DEBIAN_FRONTEND=noninteractive
check "apt-get install ./package" apt-get install -y -q "$deb"
check "cardbench --version" sh -c "cardbench --version | grep -q '^cardbench '"
check "binaries are stripped" sh -c "! file /usr/bin/cardbench /usr/bin/cardbench-app | grep -q 'not stripped'"
check "service user and private directories" sh -c \
  "getent passwd cardbench && test \"\$(stat -c %U:%a /var/lib/cardbench)\" = cardbench:700 && test \"\$(stat -c %U:%a /etc/cardbench/secrets)\" = cardbench:700"
check "unit file is valid" sh -c "systemd-analyze verify /lib/systemd/system/cardbench.service 2>&1 | { ! grep -v 'Failed to connect\|bus' ; }"
check "unit installed disabled" sh -c "! ls /etc/systemd/system/multi-user.target.wants/cardbench.service 2>/dev/null"

# A fresh data dir for the user who tries it.
tmp=$(mktemp -d); chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
check "cardbench status on a fresh data dir" sh -c \
  "CARDBENCH_DATA_DIR='$tmp/data' CARDBENCH_CONFIG='$tmp/config.toml' cardbench status"

# The daemon as the unit runs it (this machine has no systemd as PID 1, so systemctl cannot
# start it: the unit's user and environment are applied by hand, and SIGTERM is what
# `systemctl stop` sends).
unit_env=$(sed -n 's/^Environment=//p' /lib/systemd/system/cardbench.service | xargs)
service_run() {
  # setpriv execs the daemon itself (runuser would stay in between and SIGKILL it 2 s after
  # passing SIGTERM on), so the signal reaches the daemon as systemd's would.
  setpriv --reuid cardbench --regid cardbench --init-groups env $unit_env cardbench run >"$tmp/daemon.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do grep -q "cardbench running" "$tmp/daemon.log" && break; sleep 0.2; done
  grep -q "cardbench running" "$tmp/daemon.log" || { cat "$tmp/daemon.log"; kill -9 $pid; return 1; }
  kill -TERM $pid
  wait $pid
  local rc=$?
  cat "$tmp/daemon.log"
  [ $rc -eq 0 ] && grep -q "SIGTERM received" "$tmp/daemon.log" && test -f /var/lib/cardbench/cardbench.sqlite
}
check "daemon as the service user: starts, stops cleanly on SIGTERM" service_run

# The desktop app starts and paints its first worklist page (--bench prints JSON figures).
app_bench() {
  local display=":$(( 80 + RANDOM % 9 ))"
  Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  local xvfb=$!
  sleep 1
  DISPLAY="$display" CARDBENCH_DATA_DIR="$tmp/app" CARDBENCH_CONFIG="$tmp/app.toml" \
    timeout 180 cardbench-app --bench >"$tmp/bench.json" 2>"$tmp/bench.err"
  local rc=$?
  kill $xvfb 2>/dev/null
  cat "$tmp/bench.json"; tail -5 "$tmp/bench.err"
  [ $rc -eq 0 ] && grep -q first_paint_ms "$tmp/bench.json"
}
if command -v Xvfb >/dev/null; then
  check "cardbench-app --bench starts and paints" app_bench
else
  echo "skip cardbench-app --bench: no Xvfb"
fi

# Removing the package keeps the bureau's records.
echo keep > "$tmp/data/marker"
check "apt-get remove" apt-get remove -y -q cardbench
check "data kept after remove" sh -c "test -f /var/lib/cardbench/cardbench.sqlite && test -f '$tmp/data/marker' && test -f '$tmp/data/cardbench.sqlite'"
check "binaries gone after remove" sh -c "! test -e /usr/bin/cardbench && ! test -e /usr/bin/cardbench-app"

echo "package-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
