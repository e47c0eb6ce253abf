#!/usr/bin/env bash
# Starts a private CUPS scheduler on a free loopback port, with one raw queue `cardbench-test`
# whose device is a file: what is printed lands, byte for byte, in $state/printed/. The printing
# tests send real jobs through `lp` to it. Prints the environment to use:
#   export CUPS_SERVER=127.0.0.1:PORT CARDBENCH_TEST_PRINTER=cardbench-test CARDBENCH_TEST_PRINTED=DIR
# State lives in target/test-cups; stop with stop-cupsd.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
state="$root/target/test-cups"
command -v cupsd >/dev/null || { echo "start-cupsd: cupsd not installed (apt-get install cups-daemon cups-client)" >&2; exit 1; }
bash "$(dirname "$0")/stop-cupsd.sh" >/dev/null 2>&1 || true
rm -rf "$state"
mkdir -p "$state"/{conf,spool,cache,run,log,printed,serverbin/backend}
# CUPS's own filters and backends, plus `capture`: a backend that keeps each job's bytes as
# printed/job-N (a raw queue with a file: device completes jobs without writing them).
for d in /usr/lib/cups/*; do [ "$(basename "$d")" = backend ] || ln -s "$d" "$state/serverbin/"; done
for b in /usr/lib/cups/backend/*; do ln -s "$b" "$state/serverbin/backend/"; done
cat > "$state/serverbin/backend/capture" <<'BACKEND'
#!/bin/sh
# CUPS backend: no arguments = discovery (none); else argv 1..6 = job, user, title, copies, options, [file].
[ $# -eq 0 ] && exit 0
out="${DEVICE_URI#capture:}"
if [ -n "$6" ]; then cat "$6"; else cat; fi > "$out/job-$1.part" && chmod 0644 "$out/job-$1.part" && mv "$out/job-$1.part" "$out/job-$1"
BACKEND
chmod 0755 "$state/serverbin/backend/capture"
# The file device runs as the `lp` user: the output folder must be writable by it.
chmod 0777 "$state/printed"
chmod 0755 "$state" "$state/spool" || true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$state/conf/cupsd.conf" <<CONF
Listen 127.0.0.1:$port
LogLevel info
WebInterface No
Browsing No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Location /admin>
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
CONF
cat > "$state/conf/cups-files.conf" <<CONF
ServerBin $state/serverbin
ServerRoot $state/conf
RequestRoot $state/spool
CacheDir $state/cache
StateDir $state/run
TempDir $state/spool
ErrorLog $state/log/error_log
AccessLog $state/log/access_log
PageLog $state/log/page_log
CONF
cupsd -c "$state/conf/cupsd.conf" -s "$state/conf/cups-files.conf" >"$state/log/stdout" 2>&1
for _ in $(seq 1 50); do
  if lpstat -h "127.0.0.1:$port" -r 2>/dev/null | grep -q "is running"; then break; fi
  sleep 0.2
done
lpstat -h "127.0.0.1:$port" -r | grep -q "is running" || { echo "start-cupsd: scheduler did not start:" >&2; cat "$state/log/error_log" "$state/log/stdout" >&2 2>/dev/null; exit 1; }
# A raw queue (no driver): the job's bytes reach the device unchanged.
lpadmin -h "127.0.0.1:$port" -p cardbench-test -E -v "capture:$state/printed" 2>"$state/log/lpadmin" || { cat "$state/log/lpadmin" >&2; exit 1; }
echo "start-cupsd: CUPS on 127.0.0.1:$port with queue cardbench-test → $state/printed" >&2
echo "export CUPS_SERVER=127.0.0.1:$port CARDBENCH_TEST_PRINTER=cardbench-test CARDBENCH_TEST_PRINTED=$state/printed"
