#!/usr/bin/env bash
# Installs what Petrel's tests need on a fresh Debian machine and runs every check:
# rustfmt, clippy with -D warnings, and all tests of the workspace (unit, vectors,
# fixtures captured from real daemons, proptest, and the interop tests that start real
# BIRD, FRR and GoBGP in network namespaces).
#
# Run it as root (it installs Debian packages and creates network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    bird2 frr gobgpd          # real peers for the interop tests
    iproute2 iputils-ping     # network namespaces, veth pairs, routes
    protobuf-compiler         # protoc for the gRPC API
    clang libbpf-dev          # eBPF programs (fib-adapter / cni-shim datapath)
)

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: run as root (it installs packages and creates network namespaces)" >&2
    exit 1
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# FRR and BIRD are started by the tests themselves, never as system services.
for svc in frr bird; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
done

rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
echo "==> fuzz targets build"
cargo check --manifest-path fuzz/Cargo.toml --locked --quiet
echo "==> cargo test"
cargo test --workspace --all-features --locked
