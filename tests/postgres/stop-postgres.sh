#!/usr/bin/env bash
# Stops the server start-postgres.sh started; --clean also deletes its data directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${CARDBENCH_PG_DIR:-$repo/target/test-postgres}"
bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bin="$d"; done
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -n "$bin" ] && [ -d "$state/data" ]; then
  as_owner "$bin/pg_ctl" -D "$state/data" -m fast -w stop > /dev/null 2>&1 || true
fi
rm -f "$state/url"
if [ "${1:-}" = "--clean" ]; then rm -rf "$state"; fi
