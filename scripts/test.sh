#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (real SQLite files, a real AMQP 1.0 broker on
# 127.0.0.1 started here), the crash-safety test, the front-end unit tests and the end-to-end tests
# of the desktop app in a real webview under Xvfb. Prints one closing line: "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh || { echo "setup failed"; echo "tests: 0 passed, 1 failed"; exit 1; }

logdir="$(mktemp -d)"
passed=0
failed=0
status=0

# Private services the tests need, each on loopback and stopped on exit. A start script prints
# the `export …` lines its tests read; a service that cannot start counts as a failure.
stops=()
trap 'for stop in "${stops[@]}"; do bash $stop >/dev/null 2>&1 || true; done' EXIT
start_service() {
  local what="$1" start="$2" stop="$3"; shift 3
  [ -f "$start" ] || return 0
  local exports
  if exports=$(bash "$start" "$@" 2>"$logdir/$what.log"); then
    eval "$exports"
    stops+=("$stop")
  else
    echo "could not start the test $what:"; tail -20 "$logdir/$what.log"
    failed=$((failed + 1)); status=1
  fi
}

# RabbitMQ with AMQP 1.0 for the AMQP tests; the queues they use are in tests/broker/queues.txt.
start_service broker tests/broker/start-rabbitmq.sh "tests/broker/stop-rabbitmq.sh --clean" \
  $(sed 's/#.*//' tests/broker/queues.txt 2>/dev/null | xargs)
# A second node in a network namespace of its own, reached over a veth pair, for the tests that
# cut the link for real (crates/cardbench-runtime/tests/outbound_outage.rs). Needs root (CI runs
# as root); without it those tests say they are skipped.
if [ "$(id -u)" = 0 ]; then
  start_service broker-netns tests/broker/start-rabbitmq.sh \
    "tests/broker/stop-rabbitmq.sh --netns cbtest-$$ --clean" --netns "cbtest-$$"
else
  echo "not root: the link-cut tests (broker in a network namespace) will be skipped"
fi
# CUPS for the printing tests: its test queue keeps each job's bytes.
start_service cups tests/cups/start-cupsd.sh tests/cups/stop-cupsd.sh
# pcscd with a virtual reader, and a virtual card the PC/SC tests put on and take off
# (tests/pcsc/). The tests fail without it unless CARDBENCH_SKIP_PCSC_TESTS=1.
start_service pcscd tests/pcsc/start-pcscd.sh tests/pcsc/stop-pcscd.sh
# PostgreSQL (Debian's package, a cluster of its own in target/test-postgres): the store and
# workflow tests run a second time on it, and the floor's tests use it.
start_service postgres tests/postgres/start-postgres.sh "tests/postgres/stop-postgres.sh --clean"

count_cargo() {
  # Sums "test result: ok. N passed; M failed" lines of a cargo test log.
  local p f
  p=$(grep -Eo '[0-9]+ passed' "$1" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '[0-9]+ failed' "$1" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
}

# The desktop app embeds ui/dist at compile time: build the front-end first.
if [ -f ui/package.json ]; then
  echo "== building ui/"
  (cd ui && npm run build --silent) || { status=1; failed=$((failed + 1)); }
fi

# cargo-nextest when the machine has it: each test in its own process, and one that hangs is
# killed after 6 minutes (.config/nextest.toml) and counted as failed. Plain `cargo test`
# otherwise, under an overall limit. The build itself gets the first part of the time limit.
if cargo nextest --version >/dev/null 2>&1; then
  echo "== cargo nextest run --workspace"
  timeout 3000 cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$logdir/cargo.log"
  rc=${PIPESTATUS[0]}
  summary=$(grep -E '^ *Summary \[' "$logdir/cargo.log" | tail -1)
  p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || true)
  f=$(echo "$summary" | grep -Eo '[0-9]+ (failed|timed out)' | grep -Eo '^[0-9]+' | awk '{s+=$1} END {print s+0}')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then
    status=1
    # A build failure or a killed run has no summary: count it so the closing line cannot read
    # as green.
    [ -n "$summary" ] && [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
  fi
else
  echo "== cargo test --workspace"
  timeout 3000 cargo test --workspace --no-fail-fast 2>&1 | tee "$logdir/cargo.log"
  rc=${PIPESTATUS[0]}
  count_cargo "$logdir/cargo.log"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -q "test result:" "$logdir/cargo.log" || failed=$((failed + 1))
  fi
fi

# The store, workflow, documents, card API and hooks tests again, on the PostgreSQL engine (each
# test on a schema of its own).
if [ -n "${CARDBENCH_TEST_PG_URL:-}" ]; then
  echo "== the store, workflow, documents, API and hooks tests on PostgreSQL"
  if cargo nextest --version >/dev/null 2>&1; then
    # The API's and the hooks' tests that open a store (the others run `cardbench run` on SQLite).
    # --workspace with a filter, not -p: the same features as the first pass, so nothing is built
    # again (a subset of packages unifies features differently and rebuilds dependencies).
    CARDBENCH_TEST_ENGINE=postgres timeout 900 cargo nextest run --workspace \
      -E 'package(cardbench-store) | package(cardbench-workflow) | package(cardbench-documents) | binary(openapi) | binary(forward_body)' \
      --no-fail-fast 2>&1 | tee "$logdir/cargo-pg.log"
    rc=${PIPESTATUS[0]}
    summary=$(grep -E '^ *Summary \[' "$logdir/cargo-pg.log" | tail -1)
    p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || true)
    f=$(echo "$summary" | grep -Eo '[0-9]+ (failed|timed out)' | grep -Eo '^[0-9]+' | awk '{s+=$1} END {print s+0}')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ]; then status=1; [ -n "$summary" ] && [ "${f:-0}" -gt 0 ] || failed=$((failed + 1)); fi
  else
    CARDBENCH_TEST_ENGINE=postgres timeout 900 cargo test -p cardbench-store -p cardbench-workflow -p cardbench-documents --no-fail-fast 2>&1 | tee "$logdir/cargo-pg.log"
    rc=${PIPESTATUS[0]}
    count_cargo "$logdir/cargo-pg.log"
    if [ "$rc" -ne 0 ]; then status=1; grep -q "test result:" "$logdir/cargo-pg.log" || failed=$((failed + 1)); fi
  fi
fi

if [ -f ui/package.json ] && grep -q '"test"' ui/package.json; then
  echo "== front-end unit tests"
  (cd ui && npm test --silent) 2>&1 | tee "$logdir/ui.log"
  rc=${PIPESTATUS[0]}
  # Vitest colours its summary even into a pipe: strip the colour codes before counting.
  p=$(sed 's/\x1b\[[0-9;]*m//g' "$logdir/ui.log" | grep -Eo 'Tests +[0-9]+ passed' | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p))
  if [ "$rc" -ne 0 ]; then status=1; failed=$((failed + 1)); fi
fi

if [ -x tests/e2e/run.sh ] || [ -f tests/e2e/run.sh ]; then
  echo "== end-to-end tests (desktop app under Xvfb)"
  bash tests/e2e/run.sh 2>&1 | tee "$logdir/e2e.log"
  rc=${PIPESTATUS[0]}
  # Each e2e script ends with "N passed, M failed".
  p=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$logdir/e2e.log" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$logdir/e2e.log" | awk '{s+=$3} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ]; then status=1; [ "$f" -gt 0 ] || failed=$((failed + 1)); fi
fi

echo "tests: $passed passed, $failed failed"
exit $status
