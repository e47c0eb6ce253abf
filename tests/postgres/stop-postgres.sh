#!/usr/bin/env bash
# Stops the server start-postgres.sh started; --clean also deletes its data directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
if [ -n "$bin" ] && [ -d "$state/data" ]; then
  as_owner "$bin/pg_ctl" -D "$state/data" -m fast -w stop > /dev/null 2>&1 || true
fi
rm -f "$state/url"
if [ "${1:-}" = "--clean" ]; then rm -rf "$state"; fi
