#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each, one after another (cargo-fuzz, libFuzzer,
# nightly toolchain; see docs/decisions/fuzzing-engine.md).
#
#   scripts/fuzz.sh 600            # every target, 10 minutes each
#   scripts/fuzz.sh 120 readout    # one target
#
# A crash stops that target and leaves its input in fuzz/artifacts/<target>/; fix it and copy the
# input to the crate's tests/fuzz-regressions/ (see DEVELOPERS.md), so the normal tests keep it.
# The corpus grows in fuzz/corpus/<target>/ (not committed). Exit status: non-zero if any
# target crashed. Needs: `cargo install cargo-fuzz`, `rustup toolchain install nightly`.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
seconds="${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}"
shift
cd "$repo/fuzz" || exit 2

if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz or the nightly toolchain is missing: cargo install cargo-fuzz; rustup toolchain install nightly" >&2
  exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
# One build for all targets (optimised, with debug assertions and AddressSanitizer).
cargo +nightly fuzz build -O || exit 2

failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "fuzz.sh: $t for ${seconds}s" >&2
  # -rss_limit_mb: a leak or a huge allocation is a finding too. -timeout: one input > 10 s is a hang.
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${targets[*]}" >&2
