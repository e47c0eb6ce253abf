#!/usr/bin/env bash
# Stops the private CUPS scheduler started by start-cupsd.sh (found by its config path).
root="$(cd "$(dirname "$0")/../.." && pwd)"
pkill -f "cupsd -[cC] $root/target/test-cups/conf/cupsd.conf" 2>/dev/null
exit 0
