//! Graceful restart (RFC 4724, RFC 8538) against real routers, in the session lab
//! (`containerlab/session/`): bgpd with BIRD and FRR, graceful restart on every side.
//!
//! - bgpd restarts (SIGTERM, then SIGKILL): the peers' tables, read again and again during
//!   the whole restart, always hold bgpd's route (never withdrawn), no Cease reaches them on
//!   SIGTERM, and bgpd comes back announcing the Restart State bit.
//! - A peer restarts (SIGKILL and start): bgpd keeps its routes, marked stale in ListPaths
//!   and still passed on to the other peer, then fresh once the peer is back. BIRD, away
//!   for longer than its Restart Time, has its routes kept long-lived (RFC 9494): marked
//!   LLGR_STALE at bgpd and at FRR (which announced LLGR); after its long-lived stale
//!   time they are gone everywhere.
//!
//! Needs root and the bird2 and frr packages; without them it prints why and passes. The
//! lab is torn down when the test ends, also when it fails.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod api_common;
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod session_lab;

use std::time::{Duration, Instant};

use common::{Peer, Want, eventually, has_routes, lab, lacks_routes, log_lines, skip_reason};
use petrel_lab::Lab;
use session_lab::{BIRD, CONVERGE, FRR, OURS, best_paths, client, established, runtime, status};

/// How long bgpd stays away during a restart test.
const AWAY: Duration = Duration::from_secs(4);

/// Both peers hold bgpd's route, from bgpd.
fn peers_hold_ours(lab: &Lab) -> Result<(), String> {
    for peer in [&BIRD, &FRR] {
        has_routes(lab, peer, &[Want::new(OURS, "65000", peer.bgpd_v4)])?;
    }
    Ok(())
}

/// Checks [`peers_hold_ours`] again and again for `time`.
#[track_caller]
fn always_held(lab: &Lab, time: Duration, when: &str) {
    let start = Instant::now();
    let mut polls = 0;
    while start.elapsed() < time {
        if let Err(e) = peers_hold_ours(lab) {
            panic!("{when}: a peer lost bgpd's route after {polls} good polls: {e}");
        }
        polls += 1;
    }
    assert!(polls > 0);
}

fn wait_up(lab: &Lab, what: &str) {
    let rt = runtime();
    let mut api = client(&rt, lab);
    for peer in [&BIRD, &FRR] {
        eventually(
            lab,
            CONVERGE,
            &format!("{what}: session with {}", peer.node),
            || {
                if established(&rt, &mut api, peer) {
                    Ok(())
                } else {
                    Err(format!("{:?}", status(&rt, &mut api, peer)))
                }
            },
        );
    }
    eventually(
        lab,
        CONVERGE,
        &format!("{what}: routes at the peers"),
        || peers_hold_ours(lab),
    );
}

fn sigterm(lab: &Lab, node: &str) {
    let pid = lab.pid(node).unwrap().expect("running");
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM {pid}");
}

#[test]
fn bgpd_restart_keeps_its_routes_at_bird_and_frr() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let mut lab = lab("session/session.clab.yml");
    wait_up(&lab, "lab up");

    // SIGTERM: bgpd closes without a Cease; the peers keep its route the whole time.
    sigterm(&lab, "bgpd");
    always_held(&lab, Duration::from_secs(1), "bgpd stopping (SIGTERM)");
    lab.stop("bgpd").expect("bgpd stopped");
    always_held(&lab, AWAY, "bgpd away after SIGTERM");
    assert!(
        log_lines(&lab, "bird", &["Received: Administrative shutdown"]).is_empty(),
        "BIRD received a Cease from bgpd"
    );
    assert!(
        log_lines(&lab, "frr", &["received from neighbor 10.0.2.1 6/"]).is_empty(),
        "FRR received a Cease from bgpd"
    );
    lab.start("bgpd").expect("bgpd started");
    always_held(&lab, Duration::from_secs(1), "bgpd starting again");
    wait_up(&lab, "after SIGTERM");
    let rt = runtime();
    let mut api = client(&rt, &lab);
    let s = status(&rt, &mut api, &FRR);
    let gr = s.graceful_restart.unwrap_or_default();
    assert!(
        gr.restarted && gr.negotiated,
        "bgpd did not announce a restart to FRR: {gr:?}"
    );
    drop(api);

    // SIGKILL, as a crash.
    lab.kill("bgpd").expect("bgpd killed");
    always_held(&lab, AWAY, "bgpd away after SIGKILL");
    lab.start("bgpd").expect("bgpd started");
    always_held(&lab, Duration::from_secs(1), "bgpd starting again");
    wait_up(&lab, "after SIGKILL");
    always_held(&lab, Duration::from_secs(2), "bgpd back");
    lab.down().expect("lab teardown");
}

/// The paths bgpd holds from `peer`: (prefix, stale).
fn from_peer(rt: &tokio::runtime::Runtime, lab: &Lab, peer: &Peer) -> Vec<(String, bool)> {
    let mut api = client(rt, lab);
    best_paths(rt, &mut api)
        .into_iter()
        .filter(|(_, source, _)| source == peer.v4)
        .map(|(prefix, _, stale)| (prefix, stale))
        .collect()
}

fn prefixes(peer: &Peer) -> Vec<String> {
    let k = peer.asn - 65000;
    vec![format!("10.{k}.1.0/24"), format!("10.{k}.2.0/24")]
}

/// `peer`'s routes at bgpd, each `stale` or not.
fn held(rt: &tokio::runtime::Runtime, lab: &Lab, peer: &Peer, stale: bool) -> Result<(), String> {
    let want: Vec<(String, bool)> = prefixes(peer).into_iter().map(|p| (p, stale)).collect();
    let got = from_peer(rt, lab, peer);
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "expected {want:?} from {}; bgpd has {got:?}",
            peer.node
        ))
    }
}

/// `from`'s routes, through bgpd, at `at`.
fn passed_on(lab: &Lab, from: &Peer, at: &Peer) -> Result<(), String> {
    let path = format!("65000 {}", from.asn);
    let wants: Vec<Want> = prefixes(from)
        .into_iter()
        .map(|p| Want::new(p, path.clone(), at.bgpd_v4))
        .collect();
    has_routes(lab, at, &wants)
}

#[test]
fn restarting_peers_routes_are_kept_stale_then_fresh_or_dropped_in_time() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let mut lab = lab("session/session.clab.yml");
    wait_up(&lab, "lab up");
    let rt = runtime();
    for (peer, other) in [(&BIRD, &FRR), (&FRR, &BIRD)] {
        eventually(&lab, CONVERGE, "routes fresh", || {
            held(&rt, &lab, peer, false)
        });
        lab.kill(peer.node).expect("peer killed");
        eventually(&lab, CONVERGE, "routes kept stale", || {
            held(&rt, &lab, peer, true)
        });
        let mut api = client(&rt, &lab);
        let gr = status(&rt, &mut api, peer)
            .graceful_restart
            .unwrap_or_default();
        assert!(gr.helping, "status does not show helper mode: {gr:?}");
        // Still best, so still passed on.
        passed_on(&lab, peer, other).unwrap();
        lab.start(peer.node).expect("peer started");
        eventually(&lab, CONVERGE, "routes fresh again", || {
            held(&rt, &lab, peer, false)
        });
        eventually(&lab, CONVERGE, "still passed on", || {
            passed_on(&lab, peer, other)
        });
    }

    // BIRD away for longer than its Restart Time (10 s): long-lived stale, kept with
    // LLGR_STALE and passed on so to FRR (which announced LLGR too; the refusal towards
    // peers without LLGR is tested in rib::stale_tests); after BIRD's long-lived stale
    // time (10 s more), gone everywhere.
    lab.kill("bird").expect("BIRD killed");
    eventually(&lab, CONVERGE, "stale", || held(&rt, &lab, &BIRD, true));
    let gone = prefixes(&BIRD);
    let gone: Vec<&str> = gone.iter().map(String::as_str).collect();
    eventually(
        &lab,
        Duration::from_secs(20),
        "BIRD's routes long-lived stale",
        || {
            let mut api = client(&rt, &lab);
            let marked = session_lab::llgr_stale_from(&rt, &mut api, BIRD.v4);
            if marked != prefixes(&BIRD) {
                return Err(format!("LLGR_STALE routes from BIRD at bgpd: {marked:?}"));
            }
            // FRR announced LLGR too: it gets them, marked.
            let frr = common::table(&lab, &FRR)?;
            for p in &gone {
                let marked = frr
                    .get(*p)
                    .is_some_and(|r| r.communities.iter().any(|c| c == "llgrStale"));
                if !marked {
                    return Err(format!("FRR's route for {p}: {:?}", frr.get(*p)));
                }
            }
            Ok(())
        },
    );
    eventually(
        &lab,
        Duration::from_secs(25),
        "BIRD's routes gone after its long-lived stale time",
        || {
            let left = from_peer(&rt, &lab, &BIRD);
            if !left.is_empty() {
                return Err(format!("bgpd still has {left:?}"));
            }
            lacks_routes(&lab, &FRR, &gone)
        },
    );
    lab.down().expect("lab teardown");
}
