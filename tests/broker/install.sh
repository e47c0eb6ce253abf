#!/usr/bin/env bash
# Installs what the broker tests need: RabbitMQ 3.10 (its AMQP 1.0 plugin ships in the package) and
# Qpid Proton for python, the independent AMQP client the interop test uses, and python3-websockets
# for ws-relay.py (AMQP over WebSockets in front of the node). Idempotent: packages
# already present are not fetched again, and apt lists are refreshed only when something is missing.
set -euo pipefail

pkgs=(rabbitmq-server python3-qpid-proton python3-websockets)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install.sh: ${pkgs[*]} already installed" >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The package's postinst tries to start a system service; policy-rc.d usually forbids that in
# containers, which is fine: start-rabbitmq.sh runs its own node from /usr/lib/rabbitmq/bin.
$sudo apt-get install -y -qq "${missing[@]}"
