#!/usr/bin/env bash
# Builds the Debian package from a checkout: the desktop app and the `cardbench` CLI as release
# binaries (stripped: [profile.release] in Cargo.toml), the systemd unit and the maintainer
# scripts (assets/packaging/). Prints the package's path and its sizes.
#
#   bash scripts/package.sh            # → target/release/bundle/deb/Cardbench_<version>_amd64.deb
#
# Test tools (cardbench-seed) are a package of their own and are not in it. Not run by CI: the
# release build alone takes longer than CI's budget allows beside the tests.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
# tauri.conf.json names ../target/release/cardbench: build into the checkout's own target folder.
export CARGO_TARGET_DIR="$root/target"

(cd ui && npm run build --silent)
cargo build --release --locked -p cardbench-cli
# The Tauri CLI builds the app (release) and bundles it with the files listed in tauri.conf.json.
(cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb --ci)

deb=$(ls -t target/release/bundle/deb/*.deb | head -1)
installed_kib=$(dpkg-deb -f "$deb" Installed-Size)
echo "package: $deb"
echo "size: $(stat -c %s "$deb") bytes; installed: $((installed_kib * 1024)) bytes (Installed-Size ${installed_kib} KiB)"
