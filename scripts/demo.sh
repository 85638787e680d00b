#!/usr/bin/env bash
# The demo: Petrel's bgpd (AS 65000) peering with real BIRD (AS 65001) and FRR (AS 65002)
# routers over IPv4 and IPv6, each router in a network namespace of its own
# (containerlab/demo/demo.clab.yml, built by the petrel-lab runner; nothing touches the
# host's network). It prints bgpd's sessions and routes with bgpctl, the same as the peers
# see them, and bgpd's log.
#
# Run as root, on Debian, from anywhere in the repository: ./scripts/demo.sh
# It installs bird2, frr and iproute2 if they are missing, builds bgpd and petrel-lab, and
# tears the lab down when it ends, also on Ctrl-C or error.
set -euo pipefail

SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$SELF")/.."

# How long the sessions and routes may take to appear.
WAIT_SECONDS=30

# ---------------------------------------------------------------------------------------
# Inside the lab: petrel-lab runs this script again with PLAB_DIR and PLAB_NS_<NODE> set.
# ---------------------------------------------------------------------------------------
birdc_() { ip netns exec "$PLAB_NS_BIRD" birdc -s "$PLAB_DIR/bird/bird.ctl" "$@"; }
vtysh_() {
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    ip netns exec "$PLAB_NS_FRR" vtysh --vty_socket "$PLAB_DIR/frr" -d bgpd "${args[@]}"
}
bgpctl_() { "$BGPCTL" --api "unix://$PLAB_DIR/bgpd/bgpd.sock" "$@"; }
section() { printf '\n===== %s =====\n' "$*"; }

# True once both peers show both sessions with bgpd up and a route through bgpd from the
# other peer (so both directions and the transit work).
converged() {
    [ "$(birdc_ show protocols 2>/dev/null | grep -c 'Established')" -ge 2 ] &&
        [ "$(vtysh_ 'show bgp summary json' 2>/dev/null | grep -c '"state":"Established"')" -ge 2 ] &&
        birdc_ show route 10.2.1.0/24 2>/dev/null | grep -q 'AS65002' &&
        birdc_ show route fd01:2::/48 2>/dev/null | grep -q 'AS65002' &&
        vtysh_ 'show bgp ipv4 unicast 10.1.1.0/24' 2>/dev/null | grep -q '65000 65001' &&
        vtysh_ 'show bgp ipv6 unicast fd01:1::/48' 2>/dev/null | grep -q '65000 65001'
}

inside_lab() {
    printf 'waiting up to %s s for the sessions and routes' "$WAIT_SECONDS"
    local waited=0
    until converged; do
        if [ "$waited" -ge $((WAIT_SECONDS * 2)) ]; then
            printf '\ndemo: the sessions or routes did not come up within %s s; what there is:\n' \
                "$WAIT_SECONDS" >&2
            show_all
            return 1
        fi
        sleep 0.5
        waited=$((waited + 1))
        [ $((waited % 2)) -eq 0 ] && printf '.'
    done
    printf ' up after about %s s\n' $((waited / 2))
    show_all
}

show_all() {
    section "bgpd's sessions: bgpctl neighbor list"
    bgpctl_ neighbor list || true
    section "bgpd's routes (Loc-RIB): bgpctl rib list"
    echo "(* marks the best path; BIRD's and FRR's routes learned over eBGP, bgpd's own from config)"
    bgpctl_ rib list || true

    section "bgpd's sessions as BIRD (AS 65001) sees them: birdc show protocols"
    birdc_ show protocols || true
    section "bgpd's sessions as FRR (AS 65002) sees them: vtysh show bgp summary"
    vtysh_ 'show bgp summary' || true

    section "Routes at BIRD: birdc show route"
    echo "(10.100.0.0/24 and fd01:100::/48 are bgpd's own, AS path 65000; FRR's arrive through"
    echo " bgpd with AS path 65000 65002 and bgpd's address as next hop)"
    birdc_ show route || true
    section "Routes at FRR: vtysh show bgp ipv4 unicast / show bgp ipv6 unicast"
    echo "(bgpd's own with Path 65000; BIRD's through bgpd with Path 65000 65001)"
    vtysh_ 'show bgp ipv4 unicast' 'show bgp ipv6 unicast' || true

    section "bgpd's log (last lines)"
    # Without the colour codes tracing writes.
    sed 's/\x1b\[[0-9;]*m//g' "$PLAB_DIR/bgpd/daemon.log" | tail -n 14
}

if [ "${1:-}" = "--inside-lab" ]; then
    inside_lab
    exit
fi

# ---------------------------------------------------------------------------------------
# Outside: install, build, and run the lab with this script inside it.
# ---------------------------------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root (it creates network namespaces and may install packages)" >&2
    exit 1
fi

missing=()
for bin in bird birdc vtysh ip; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
[ -x /usr/lib/frr/bgpd ] || missing+=(/usr/lib/frr/bgpd)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> missing ${missing[*]}: installing bird2 frr iproute2"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y bird2 frr iproute2
    # The demo starts its own routers in namespaces; the packages' system services would
    # only sit in the host's namespace.
    for svc in frr bird; do
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    done
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "demo: cargo not found; install Rust (https://rustup.rs) and make cargo reachable for root" >&2
    exit 1
fi
echo "==> cargo build -p bgpd -p bgpctl -p petrel-lab"
cargo build -p bgpd -p bgpctl -p petrel-lab
target="${CARGO_TARGET_DIR:-target}/debug"
export BGPCTL="$(cd "$target" && pwd)/bgpctl"

# A lab whose runner was killed outright leaves namespaces behind; petrel-lab clean removes
# those of runs that are gone (never a running one).
trap '"$target/petrel-lab" clean >/dev/null 2>&1 || true' EXIT

cat <<'EOF'

==> Petrel demo: bgpd (AS 65000) with BIRD (AS 65001) and FRR (AS 65002), eBGP over IPv4 and
    over IPv6, each router in a network namespace. bgpd's sessions and routes are shown with
    bgpctl, and then as the peers see them (birdc, vtysh).

EOF
# petrel-lab builds the lab, runs this script inside it, and tears it down afterwards, also
# on Ctrl-C.
"$target/petrel-lab" --bgpd "$target/bgpd" run containerlab/demo/demo.clab.yml -- "$SELF" --inside-lab
echo
echo "==> demo done; lab torn down"
