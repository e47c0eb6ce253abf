#!/usr/bin/env bash
# The floor's soak test alone (crates/cardbench-cli/tests/floor_soak.rs): three `cardbench run`
# stations on one PostgreSQL store and the test broker, CARDBENCH_SOAK_REQUESTS (default 3,000)
# requests produced and shipped through the CLI, on a quiet floor and then with the sending
# station killed -9 CARDBENCH_SOAK_KILLS (default 20) times. Prints each run's figures.
#
#   scripts/soak-floor.sh                                            # as scripts/test.sh runs it
#   CARDBENCH_SOAK_REQUESTS=10000 CARDBENCH_SOAK_KILLS=60 scripts/soak-floor.sh   # longer
#
# Starts the test broker (tests/broker/) and PostgreSQL (tests/postgres/) unless they run, and
# stops on exit only what it started.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

stops=()
trap 'for stop in "${stops[@]}"; do bash $stop >/dev/null 2>&1 || true; done' EXIT
# start NAME SCRIPT STOP WORDS [ARGS…]: runs SCRIPT, takes its exports, and stops it on exit
# when its log says it started the service (WORDS) rather than finding it running.
start() {
  local name="$1" script="$2" stop="$3" started="$4" exports log
  shift 4
  log="$(mktemp)"
  exports=$(bash "$script" "$@" 2>"$log") || { echo "could not start the test $name:"; tail -20 "$log"; exit 1; }
  eval "$exports"
  if grep -q "$started" "$log"; then stops+=("$stop"); fi
  rm -f "$log"
}
start broker tests/broker/start-rabbitmq.sh tests/broker/stop-rabbitmq.sh "starting node"
start postgres tests/postgres/start-postgres.sh tests/postgres/stop-postgres.sh "PostgreSQL on"

figures="$(mktemp)"
export CARDBENCH_SOAK_FIGURES="$figures"
status=0
SECONDS=0
cargo test -p cardbench-cli --test floor_soak -- --test-threads=1 || status=$?
echo "== floor soak: ${SECONDS} s in all (build included)"
cat "$figures"
rm -f "$figures"
exit "$status"
