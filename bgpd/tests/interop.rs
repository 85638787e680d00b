//! Interop with real routers: bgpd in network namespaces (the `containerlab/` topologies,
//! built by `petrel-lab`) peering with BIRD, FRR's bgpd and GoBGP. bgpd has no API yet, so
//! everything is checked from the peers' side, through their own CLIs.
//!
//! - `interop/`: eBGP with BIRD (AS 65001), FRR (65002) and GoBGP (65003), one session over
//!   IPv4 and one over IPv6 with each. Routes flow both ways with the right AS path, next
//!   hop, MED and communities; withdrawals propagate; a crashed peer is found by the hold
//!   timer; bgpd stopped or killed and started again re-learns and re-announces everything.
//! - `rr/`: iBGP, bgpd reflecting between BIRD and FRR.
//!
//! They need root and the `bird2`, `frr` and `gobgpd` packages; without them each test
//! prints why it skips. Every lab is torn down when its test ends, also on failure.

mod common;

use std::time::{Duration, Instant};

use common::{
    Kind, Peer, Want, eventually, has_routes, lab, lacks_routes, log_lines, sessions_down,
    sessions_established, skip_reason,
};
use petrel_lab::Lab;

/// How long sessions may take to come up and routes to arrive after a (re)start: BIRD waits
/// up to 5 s after an error, the others retry every second.
const CONVERGE: Duration = Duration::from_secs(30);
/// How long a withdrawal or a session going down may take to be seen at a peer.
const PROPAGATE: Duration = Duration::from_secs(10);
/// The hold time every lab config sets.
const HOLD_TIME: Duration = Duration::from_secs(9);

const BIRD: Peer = Peer {
    node: "bird",
    kind: Kind::Bird,
    asn: 65001,
    v4: "10.0.1.2",
    v6: "fd00:1::2",
    bgpd_v4: "10.0.1.1",
    bgpd_v6: "fd00:1::1",
};
const FRR: Peer = Peer {
    node: "frr",
    kind: Kind::Frr,
    asn: 65002,
    v4: "10.0.2.2",
    v6: "fd00:2::2",
    bgpd_v4: "10.0.2.1",
    bgpd_v6: "fd00:2::1",
};
const GOBGP: Peer = Peer {
    node: "gobgp",
    kind: Kind::Gobgp,
    asn: 65003,
    v4: "10.0.3.2",
    v6: "fd00:3::2",
    bgpd_v4: "10.0.3.1",
    bgpd_v6: "fd00:3::1",
};
const EBGP_PEERS: [Peer; 3] = [BIRD, FRR, GOBGP];

/// Starts the lab, or returns `None` after printing why the test is skipped.
fn start(topology: &str) -> Option<Lab> {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping interop test ({topology}): {reason}");
        return None;
    }
    Some(lab(topology))
}

// ----- what the interop lab announces (see containerlab/interop/interop.clab.yml) -----

/// The neighbour's number in the lab's address plan: AS 6500k announces 10.k.x.0/24.
fn k(peer: &Peer) -> u32 {
    peer.asn - 65000
}

/// Every prefix the neighbour announces.
fn prefixes_of(peer: &Peer) -> Vec<String> {
    let k = k(peer);
    let mut prefixes = vec![
        format!("10.{k}.1.0/24"),
        format!("10.{k}.2.0/24"),
        format!("fd01:{k}::/48"),
        format!("10.{k}.3.0/24"),
    ];
    prefixes.extend(withdrawable_of(peer));
    prefixes
}

/// The prefixes that tests withdraw and announce again (BIRD and GoBGP only).
fn withdrawable_of(peer: &Peer) -> Vec<String> {
    let k = k(peer);
    match peer.kind {
        Kind::Bird | Kind::Gobgp => vec![format!("10.{k}.9.0/24"), format!("fd01:{k}:9::/48")],
        Kind::Frr => Vec::new(),
    }
}

/// bgpd's own routes as `at` must see them: AS path `65000`, next hop bgpd's address on
/// the link, and the attributes the config gives 10.100.1.0/24.
fn bgpd_routes_at(at: &Peer) -> Vec<Want> {
    vec![
        Want::new("10.100.0.0/24", "65000", at.bgpd_v4).med(None),
        Want::new("fd01:100::/48", "65000", at.bgpd_v6).med(None),
        Want::new("10.100.1.0/24", "65000", at.bgpd_v4)
            .med(Some(50))
            .communities(&["65000:100".into()], &["65000:1:2".into()]),
    ]
}

/// `from`'s routes as `at` must see them through bgpd: AS path `65000 <from>`, next hop
/// bgpd's address on `at`'s link, no MED (it is not passed between ASes), and 10.k.3.0/24
/// with the communities `from` set.
fn routes_through_bgpd(from: &Peer, at: &Peer) -> Vec<Want> {
    let path = format!("65000 {}", from.asn);
    prefixes_of(from)
        .into_iter()
        .map(|prefix| {
            let communities = prefix.ends_with(".3.0/24");
            let want = Want::new(prefix.clone(), path.clone(), at.bgpd_addr(&prefix)).med(None);
            if communities {
                want.communities(
                    &[format!("{}:42", from.asn)],
                    &[format!("{}:1:2", from.asn)],
                )
            } else {
                want
            }
        })
        .collect()
}

/// Everything `at` must have learned from bgpd.
fn expected_at(at: &Peer) -> Vec<Want> {
    let mut wants = bgpd_routes_at(at);
    for from in EBGP_PEERS.iter().filter(|p| p.node != at.node) {
        wants.extend(routes_through_bgpd(from, at));
    }
    wants
}

/// Both sessions of every peer are up and every peer has every route it should have.
fn converged(lab: &Lab) -> Result<(), String> {
    for peer in &EBGP_PEERS {
        sessions_established(lab, peer)?;
        has_routes(lab, peer, &expected_at(peer))?;
    }
    Ok(())
}

#[track_caller]
fn wait_converged(lab: &Lab, when: &str) {
    eventually(
        lab,
        CONVERGE,
        &format!(
            "{when}: BIRD, FRR and GoBGP with both sessions to bgpd established and every \
             route announced by bgpd and by the two others"
        ),
        || converged(lab),
    );
}

/// Runs a shell line in a node's namespace and fails the test if it fails.
#[track_caller]
fn sh(lab: &Lab, node: &str, script: &str) {
    let out = lab
        .sh(node, script)
        .unwrap_or_else(|e| panic!("{node}: `{script}`: {e}"));
    assert!(
        out.status.success(),
        "{node}: `{script}` failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[track_caller]
fn birdc(lab: &Lab, command: &str, expect: &str) {
    let out = lab
        .birdc(BIRD.node, command)
        .unwrap_or_else(|e| panic!("birdc {command}: {e}"));
    assert!(
        out.contains(expect),
        "birdc {command}: expected `{expect}` in its answer, got: {out}"
    );
}

/// `gobgp global rib add|del -a AFI PREFIX` on the GoBGP node.
#[track_caller]
fn gobgp_rib(lab: &Lab, op: &str, prefix: &str) {
    let afi = if prefix.contains(':') { "ipv6" } else { "ipv4" };
    let mut args = vec!["global", "rib", op, "-a", afi, prefix];
    if op == "add" {
        args.extend(["origin", "igp"]);
    }
    if let Err(e) = lab.gobgp(GOBGP.node, &args) {
        panic!("gobgp {}: {e}", args.join(" "));
    }
}

/// Waits until the withdrawn prefixes are gone from `at` while `from`'s other routes stay.
#[track_caller]
fn wait_withdrawn(lab: &Lab, from: &Peer, at: &Peer, withdrawn: &[String]) {
    let stays: Vec<Want> = routes_through_bgpd(from, at)
        .into_iter()
        .filter(|w| !withdrawn.contains(&w.prefix))
        .collect();
    let gone: Vec<&str> = withdrawn.iter().map(String::as_str).collect();
    eventually(
        lab,
        PROPAGATE,
        &format!(
            "{} withdrew {gone:?}: gone from {} through bgpd, its other routes still there",
            from.node, at.node
        ),
        || {
            lacks_routes(lab, at, &gone)?;
            has_routes(lab, at, &stays)
        },
    );
}

#[track_caller]
fn wait_announced(lab: &Lab, from: &Peer, at: &Peer, what: &str) {
    eventually(
        lab,
        PROPAGATE,
        &format!("{what}: {}'s routes at {} through bgpd", from.node, at.node),
        || has_routes(lab, at, &routes_through_bgpd(from, at)),
    );
}

#[test]
fn ebgp_sessions_routes_withdrawals_and_a_crashed_peer() {
    let Some(mut lab) = start("interop/interop.clab.yml") else {
        return;
    };
    // Sessions over IPv4 and IPv6 with each, routes both ways with their attributes.
    wait_converged(&lab, "lab up");

    // BIRD withdraws a static protocol's routes, then announces them again.
    let bird_w = withdrawable_of(&BIRD);
    for protocol in ["static_w4", "static_w6"] {
        birdc(&lab, &format!("disable {protocol}"), "disabled");
    }
    for at in [FRR, GOBGP] {
        wait_withdrawn(&lab, &BIRD, &at, &bird_w);
    }
    for protocol in ["static_w4", "static_w6"] {
        birdc(&lab, &format!("enable {protocol}"), "enabled");
    }
    for at in [FRR, GOBGP] {
        wait_announced(
            &lab,
            &BIRD,
            &at,
            "BIRD announced its withdrawn routes again",
        );
    }

    // GoBGP deletes routes from its RIB, then adds them again.
    let gobgp_w = withdrawable_of(&GOBGP);
    for prefix in &gobgp_w {
        gobgp_rib(&lab, "del", prefix);
    }
    for at in [BIRD, FRR] {
        wait_withdrawn(&lab, &GOBGP, &at, &gobgp_w);
    }
    for prefix in &gobgp_w {
        gobgp_rib(&lab, "add", prefix);
    }
    for at in [BIRD, FRR] {
        wait_announced(&lab, &GOBGP, &at, "GoBGP added its deleted routes again");
    }

    crashed_peer_is_found_by_the_hold_timer(&mut lab, &FRR);
    lab.down().expect("lab teardown");
}

/// SIGKILLs `crashed` with its link cut first, as when its machine dies: no FIN or RST
/// reaches bgpd, so only the hold timer can find out. Its routes must then vanish from the
/// other peers, and come back when it is started again.
fn crashed_peer_is_found_by_the_hold_timer(lab: &mut Lab, crashed: &Peer) {
    let others: Vec<Peer> = EBGP_PEERS
        .into_iter()
        .filter(|p| p.node != crashed.node)
        .collect();
    // Keep its IPv6 address across link down/up (Linux drops it by default).
    sh(
        lab,
        crashed.node,
        "echo 1 > /proc/sys/net/ipv6/conf/eth1/keep_addr_on_down && ip link set eth1 down",
    );
    let cut = Instant::now();
    lab.kill(crashed.node).expect("kill the peer");
    let prefixes = prefixes_of(crashed);
    let gone: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    eventually(
        lab,
        HOLD_TIME + PROPAGATE,
        &format!(
            "{} cut off and killed: its routes withdrawn from {} once bgpd's hold timer \
             ({HOLD_TIME:?}) expires",
            crashed.node,
            others
                .iter()
                .map(|p| p.node)
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        || others.iter().try_for_each(|p| lacks_routes(lab, p, &gone)),
    );
    let after = cut.elapsed();
    // The peer's last KEEPALIVE came at most 3 s before the cut, so the hold timer cannot
    // expire sooner than 6 s after it.
    assert!(
        after >= Duration::from_secs(5),
        "{}'s routes were withdrawn {after:?} after its link was cut: too soon for the \
         {HOLD_TIME:?} hold timer, so bgpd found out some other way",
        crashed.node
    );
    for addr in [crashed.v4, crashed.v6] {
        let lines = log_lines(lab, "bgpd", &["hold timer", addr]);
        assert!(
            !lines.is_empty(),
            "expected bgpd's log to say that the hold timer of {addr} expired; it has no \
             line with both `hold timer` and `{addr}`; lines mentioning {addr}:\n{}",
            log_lines(lab, "bgpd", &[addr]).join("\n")
        );
    }
    eprintln!(
        "{} crash: routes withdrawn {after:?} after the cut",
        crashed.node
    );

    sh(lab, crashed.node, "ip link set eth1 up");
    lab.start(crashed.node).expect("start the peer again");
    wait_converged(lab, &format!("{} started again", crashed.node));
}

#[test]
fn bgpd_stopped_or_killed_and_started_again_relearns_everything() {
    let Some(mut lab) = start("interop/interop.clab.yml") else {
        return;
    };
    wait_converged(&lab, "lab up");

    // SIGTERM: bgpd says goodbye with a Cease NOTIFICATION, so the peers drop at once.
    lab.stop("bgpd").expect("stop bgpd");
    wait_peers_lost_bgpd(&lab, "bgpd stopped (SIGTERM)");
    for peer in &EBGP_PEERS {
        eventually(
            &lab,
            PROPAGATE,
            &format!(
                "{} logs a Cease/Administrative Shutdown NOTIFICATION from the stopped bgpd \
                 on both sessions",
                peer.node
            ),
            || received_cease(&lab, peer),
        );
    }
    lab.start("bgpd").expect("start bgpd");
    wait_converged(&lab, "bgpd started again after SIGTERM");

    // SIGKILL: no NOTIFICATION, the peers see the connections close.
    lab.kill("bgpd").expect("kill bgpd");
    wait_peers_lost_bgpd(&lab, "bgpd killed (SIGKILL)");
    lab.start("bgpd").expect("start bgpd");
    wait_converged(&lab, "bgpd started again after SIGKILL");
    lab.down().expect("lab teardown");
}

/// Checks the peer's log for a Cease/Administrative Shutdown NOTIFICATION received on
/// each of its sessions with bgpd. (The log, not the session state: the peers retry at
/// once, and the new error replaces the NOTIFICATION in what they show.)
fn received_cease(lab: &Lab, peer: &Peer) -> Result<(), String> {
    for (session, addr) in [("petrel_v4", peer.bgpd_v4), ("petrel_v6", peer.bgpd_v6)] {
        let key = format!("\"key\":\"{addr}\"");
        let frr = format!("notification: received from neighbor {addr} 6/2");
        let words: Vec<&str> = match peer.kind {
            Kind::Bird => vec![session, "received: administrative shutdown"],
            Kind::Frr => vec![&frr],
            Kind::Gobgp => vec![&key, "code 6(cease) subcode 2(administrative shutdown)"],
        };
        if log_lines(lab, peer.node, &words).is_empty() {
            return Err(format!(
                "expected {}'s log to show a Cease/Administrative Shutdown from bgpd at {addr} \
                 (a line with {words:?}); its lines about NOTIFICATIONs and shutdowns:\n{}",
                peer.node,
                [
                    log_lines(lab, peer.node, &["notification"]),
                    log_lines(lab, peer.node, &["shutdown"])
                ]
                .concat()
                .join("\n")
            ));
        }
    }
    Ok(())
}

/// Every peer shows its sessions with bgpd down and nothing learned through it.
#[track_caller]
fn wait_peers_lost_bgpd(lab: &Lab, what: &str) {
    eventually(
        lab,
        PROPAGATE,
        &format!("{what}: every peer's sessions with bgpd down and its routes through bgpd gone"),
        || {
            for at in &EBGP_PEERS {
                sessions_down(lab, at)?;
                let learned: Vec<String> = expected_at(at).into_iter().map(|w| w.prefix).collect();
                let learned: Vec<&str> = learned.iter().map(String::as_str).collect();
                lacks_routes(lab, at, &learned)?;
            }
            Ok(())
        },
    );
}

// ----- route reflection (containerlab/rr/rr.clab.yml) -----

/// bgpd's CLUSTER_ID in `rr/bgpd.toml` (not its router id, 10.0.0.100).
const CLUSTER_ID: &str = "10.0.0.200";

#[test]
fn route_reflector_reflects_between_ibgp_clients() {
    let Some(lab) = start("rr/rr.clab.yml") else {
        return;
    };
    let bird = Peer { asn: 65000, ..BIRD };
    let frr = Peer { asn: 65000, ..FRR };
    let bird_id = "10.0.0.1";
    let frr_id = "10.0.0.2";
    // A client's route reaches the other client with the next hop it was announced with
    // (reflection never changes it), ORIGINATOR_ID = the client's router id and CLUSTER_LIST
    // = [bgpd's cluster id]; bgpd's own routes reach both with LOCAL_PREF 100, next hop
    // self, and neither attribute.
    let reflected = |prefixes: [&str; 3], from: &Peer, from_id: &str| -> Vec<Want> {
        prefixes
            .into_iter()
            .map(|p| {
                let nh = if p.contains(':') { from.v6 } else { from.v4 };
                Want::new(p, "", nh)
                    .local_pref(100)
                    .reflected(Some(from_id), &[CLUSTER_ID])
            })
            .collect()
    };
    let own = |at: &Peer| -> Vec<Want> {
        [("10.100.0.0/24", at.bgpd_v4), ("fd01:100::/48", at.bgpd_v6)]
            .into_iter()
            .map(|(p, nh)| Want::new(p, "", nh).local_pref(100).reflected(None, &[]))
            .collect()
    };
    let mut at_frr = reflected(
        ["10.1.1.0/24", "10.1.2.0/24", "fd01:1::/48"],
        &bird,
        bird_id,
    );
    at_frr.extend(own(&frr));
    let mut at_bird = reflected(["10.2.1.0/24", "10.2.2.0/24", "fd01:2::/48"], &frr, frr_id);
    at_bird.extend(own(&bird));

    eventually(
        &lab,
        CONVERGE,
        "iBGP sessions of BIRD and FRR with bgpd (route reflector) established, each client's \
         routes reflected to the other, bgpd's own at both",
        || {
            sessions_established(&lab, &bird)?;
            sessions_established(&lab, &frr)?;
            has_routes(&lab, &frr, &at_frr)?;
            has_routes(&lab, &bird, &at_bird)
        },
    );

    // The same, as the brief puts it: FRR's own view of one reflected prefix.
    let detail = lab
        .vtysh(frr.node, "show bgp ipv4 unicast 10.1.1.0/24 json")
        .expect("vtysh");
    let json: serde_json::Value = serde_json::from_str(&detail).expect("FRR's JSON");
    let path = &json["paths"][0];
    assert_eq!(
        (
            path["originatorId"].as_str(),
            path["clusterList"]["list"][0].as_str()
        ),
        (Some(bird_id), Some(CLUSTER_ID)),
        "expected FRR to show 10.1.1.0/24 with ORIGINATOR_ID {bird_id} and CLUSTER_LIST \
         [{CLUSTER_ID}]; FRR shows:\n{detail}"
    );
    lab.down().expect("lab teardown");
}
