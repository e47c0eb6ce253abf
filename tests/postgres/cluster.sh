# Sourced by start-postgres.sh and stop-postgres.sh: where the test cluster lives and which
# PostgreSQL binaries run it, so both scripts find the same one.
#
# CARDBENCH_PG_DIR, when set, is the state directory. As root the cluster belongs to the
# `postgres` user (initdb refuses root), who may not be able to reach into the checkout (a home
# directory of mode 0700): its directory is then under /tmp, named after the checkout. Otherwise
# it is <repo>/target/test-postgres.
pg_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -n "${CARDBENCH_PG_DIR:-}" ]; then
  state="$CARDBENCH_PG_DIR"
elif [ "$(id -u)" = 0 ]; then
  state="/tmp/cardbench-test-postgres-$(printf '%s' "$pg_repo" | sha256sum | cut -c1-12)"
else
  state="$pg_repo/target/test-postgres"
fi
# The newest installed PostgreSQL (Debian keeps each major version in its own directory).
bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bin="$d"; done
# Runs a server command as the cluster's owner.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
