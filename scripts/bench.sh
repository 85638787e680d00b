#!/usr/bin/env bash
# Runs Petrel's end-to-end benchmark (issue 6): bgpd beside BIRD 2, FRR and GoBGP on the
# same network-namespace topology, every scenario, one table. Run as root.
#
#   sudo scripts/bench.sh                           # everything, full size
#   sudo scripts/bench.sh -s S1,S1-100k -d bgpd,bird
#   sudo scripts/bench.sh --scale 0.1 --timeout 60  # smaller, shorter
#
# Arguments go to `petrel-bench run` (see `petrel-bench run --help`). Installs bird2, frr
# and gobgpd from Debian packages if missing, builds bgpd and petrel-bench in release.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/bench.sh: run as root (it installs packages and creates network namespaces)" >&2
    exit 1
fi
packages=(bird2 frr gobgpd iproute2 protobuf-compiler)  # protoc builds the gRPC API
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The daemons are started by the benchmark itself, never as system services.
for svc in frr bird; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
done

echo "==> cargo build --release -p bgpd -p petrel-benches" >&2
cargo build --release --locked -p bgpd -p petrel-benches >&2
target="${CARGO_TARGET_DIR:-target}"

echo "==> $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec "$target/release/petrel-bench" run --bgpd "$target/release/bgpd" "$@"
