#!/usr/bin/env bash
# Starts a private PC/SC stack for the tests: pcscd with the vpcd virtual reader driver, and a
# virtual card (tests/pcsc/vcard.py) the tests put on and take off the reader through a Unix socket.
#
# Private: pcscd runs in its own mount and network namespaces. Its fixed socket directory
# (/run/pcscd) is a folder of ours bind-mounted there, so a system pcscd is neither seen nor
# disturbed; vpcd's card port exists only on that namespace's loopback. Clients reach this pcscd
# by PCSCLITE_CSOCK_NAME (honoured by libpcsclite).
#
# Prints `export` lines for eval (as tests/broker/start-rabbitmq.sh does):
#   PCSCLITE_CSOCK_NAME       the private pcscd's socket
#   CARDBENCH_PCSC_CARD       the virtual card's control socket
#   CARDBENCH_PCSC_READER     the virtual reader's name
#   CARDBENCH_PCSC_DIR        where logs and the pid file are (stop-pcscd.sh cleans it)
# Logs go to stderr and $CARDBENCH_PCSC_DIR/*.log. Needs: pcscd, vsmartcard-vpcd, python3,
# util-linux (unshare), iproute2; root, or unprivileged user namespaces.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
for need in pcscd python3 unshare ip; do
  command -v "$need" >/dev/null 2>&1 || { echo "start-pcscd: $need is missing (tests/apt-packages.txt)" >&2; exit 1; }
done
[ -f "$driver" ] || { echo "start-pcscd: $driver is missing (package vsmartcard-vpcd)" >&2; exit 1; }

dir="$(mktemp -d "${TMPDIR:-/tmp}/cardbench-pcsc.XXXXXX")"
mkdir -p "$dir/run" "$dir/conf"
# vpcd's port is inside our own network namespace: the default is free there.
port=35963
cat > "$dir/conf/vpcd" <<CONF
FRIENDLYNAME "Cardbench Virtual PCD"
DEVICENAME   /dev/null:$port
LIBPATH      $driver
CHANNELID    $port
CONF

userns=()
[ "$(id -u)" -eq 0 ] || userns=(--user --map-root-user)

# The inner script runs in the new namespaces and stays until stopped.
cat > "$dir/inner.sh" <<INNER
set -eu
ip link set lo up
mount -t tmpfs -o mode=755 cardbench-run /run
mkdir -p /run/pcscd
mount --bind "$dir/run" /run/pcscd
pcscd --foreground --debug --config "$dir/conf" > "$dir/pcscd.log" 2>&1 &
python3 "$here/vcard.py" --port $port --control "$dir/card.sock" > "$dir/vcard.log" 2>&1 &
wait
INNER
setsid unshare "${userns[@]}" --mount --net --fork --kill-child bash "$dir/inner.sh" > "$dir/inner.log" 2>&1 < /dev/null &
echo $! > "$dir/pid"

# Ready when pcscd's socket and the card's control socket exist and pcscd lists the reader.
for _ in $(seq 1 100); do
  if [ -S "$dir/run/pcscd.comm" ] && [ -S "$dir/card.sock" ] && grep -q "daemon ready" "$dir/pcscd.log" 2>/dev/null; then
    echo "export PCSCLITE_CSOCK_NAME='$dir/run/pcscd.comm'"
    echo "export CARDBENCH_PCSC_CARD='$dir/card.sock'"
    echo "export CARDBENCH_PCSC_READER='Cardbench Virtual PCD 00 00'"
    echo "export CARDBENCH_PCSC_DIR='$dir'"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "start-pcscd: the private pcscd did not come up; logs:" >&2
tail -n 20 "$dir"/*.log >&2 || true
bash "$here/stop-pcscd.sh" "$dir" >/dev/null 2>&1 || true
exit 1
