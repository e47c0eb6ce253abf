#!/usr/bin/env bash
# Stops the server start-postgres.sh started; --clean also deletes its data directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# As root the cluster belongs to the `postgres` user, who may not be able to reach into the
# checkout (a home directory of mode 0700): its directory is then under /tmp, named after the
# checkout so the stop script finds it.
if [ -n "${CARDBENCH_PG_DIR:-}" ]; then
  state="$CARDBENCH_PG_DIR"
elif [ "$(id -u)" = 0 ]; then
  state="/tmp/cardbench-test-postgres-$(printf '%s' "$repo" | sha256sum | cut -c1-12)"
else
  state="$repo/target/test-postgres"
fi
bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bin="$d"; done
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -n "$bin" ] && [ -d "$state/data" ]; then
  as_owner "$bin/pg_ctl" -D "$state/data" -m fast -w stop > /dev/null 2>&1 || true
fi
rm -f "$state/url"
if [ "${1:-}" = "--clean" ]; then rm -rf "$state"; fi
