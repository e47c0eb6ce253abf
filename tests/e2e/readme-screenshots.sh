#!/usr/bin/env bash
# Refreshes the README's screenshots (docs/screenshots/*.png: those README.md names, and any
# other kept there) from what
# the last run of tests/e2e/run.sh saved in tests/artifacts/. Run it after a run in which every
# test passed (scripts/test.sh starts the CUPS queue and the virtual card reader some need):
#
#   bash tests/e2e/run.sh && bash tests/e2e/readme-screenshots.sh
#
# A screenshot the run did not take (or took more than an hour ago: another run's) is left
# as it is and named; the script then fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
status=0
for shot in $( (grep -o 'docs/screenshots/[A-Za-z0-9._-]*\.png' README.md; ls docs/screenshots/*.png) | sort -u); do
  name="$(basename "$shot")"
  new="tests/artifacts/$name"
  if [ -n "$(find "$new" -mmin -60 2>/dev/null)" ]; then
    cp "$new" "$shot"
    echo "refreshed $shot"
  else
    echo "not refreshed: $shot (no recent $new)" >&2
    status=1
  fi
done
exit "$status"
