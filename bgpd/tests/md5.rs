//! TCP MD5 (RFC 2385) and GTSM (RFC 5082) against real routers, in the session lab
//! (`containerlab/session/`, built by `petrel-lab`): bgpd with BIRD and FRR, a password
//! with each, GTSM with FRR.
//!
//! - Matching passwords: both sessions come up and routes flow.
//! - A wrong password (changed through the API): the session never comes up, and bgpd's
//!   status says that nothing answers while TCP MD5 is configured. The right one again:
//!   back up.
//! - GTSM: FRR (`ttl-security hops 1`) is up with bgpd's `ttl_security = 1`; BIRD, which
//!   sends with TTL 1 as a directly connected eBGP peer, is refused once bgpd asks for
//!   GTSM with it.
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

use common::{Want, eventually, has_routes, lab, skip_reason};
use session_lab::{BIRD, CONVERGE, FRR, OURS, client, established, runtime, status, update_peer};

/// How long a session with a wrong password or TTL is watched staying down.
const STAYS_DOWN: Duration = Duration::from_secs(12);

#[test]
fn md5_and_gtsm_with_bird_and_frr() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let lab = lab("session/session.clab.yml");
    let rt = runtime();
    let mut api = client(&rt, &lab);

    // Matching passwords (and GTSM with FRR): up, routes both ways.
    for peer in [&BIRD, &FRR] {
        eventually(
            &lab,
            CONVERGE,
            &format!("session with {} up", peer.node),
            || {
                if established(&rt, &mut api, peer) {
                    Ok(())
                } else {
                    Err(format!("{:?}", status(&rt, &mut api, peer)))
                }
            },
        );
        eventually(&lab, CONVERGE, "bgpd's route at the peer", || {
            has_routes(&lab, peer, &[Want::new(OURS, "65000", peer.bgpd_v4)])
        });
    }
    let frr = status(&rt, &mut api, &FRR);
    assert!(frr.last_error.is_empty() || frr.state == 6, "{frr:?}");

    // A wrong password: never established; the status names TCP MD5.
    update_peer(&rt, &mut api, &BIRD, |c| c.password = "wrong-secret".into());
    let start = Instant::now();
    let mut last = status(&rt, &mut api, &BIRD);
    while start.elapsed() < STAYS_DOWN {
        last = status(&rt, &mut api, &BIRD);
        assert_ne!(
            last.state, 6,
            "established with a wrong TCP MD5 password: {last:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        last.last_error.contains("TCP MD5"),
        "the status does not say that TCP MD5 may be why nothing answers: {:?}",
        last.last_error
    );
    let birds_view = lab.birdc("bird", "show protocols petrel").unwrap();
    assert!(
        !birds_view.contains("Established"),
        "BIRD established with a wrong password:\n{birds_view}"
    );

    // The right password again: back up.
    update_peer(&rt, &mut api, &BIRD, |c| c.password = "bird-secret".into());
    eventually(&lab, CONVERGE, "BIRD back with the right password", || {
        if established(&rt, &mut api, &BIRD) {
            Ok(())
        } else {
            Err(format!("{:?}", status(&rt, &mut api, &BIRD)))
        }
    });

    // GTSM with BIRD, which sends with TTL 1: refused, never established on either side.
    update_peer(&rt, &mut api, &BIRD, |c| {
        c.password = "bird-secret".into();
        c.ttl_security = 1;
    });
    let start = Instant::now();
    while start.elapsed() < STAYS_DOWN {
        let s = status(&rt, &mut api, &BIRD);
        assert_ne!(s.state, 6, "established with TTL 1 under GTSM: {s:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let birds_view = lab.birdc("bird", "show protocols petrel").unwrap();
    assert!(
        !birds_view.contains("Established"),
        "BIRD established although its packets arrive with TTL 1:\n{birds_view}"
    );
    // FRR, with GTSM on its side too, stayed up all along.
    assert!(established(&rt, &mut api, &FRR));
    drop(api);
    lab.down().expect("lab teardown");
}
