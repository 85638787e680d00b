//! Session rules through the API, with in-process daemons over loopback: the `PeerConfig`
//! fields 60–69 round trip and are checked like the file's keys, and a prefix limit closes
//! a session with the RFC 4486 Cease that the other daemon reports, counted in
//! `PeerStatus`.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod api_common;

use std::time::Duration;

use api_common::*;
use bgp_api::bgpd::v1 as pb;
use tonic::Code;

const V4: i32 = pb::Family::Ipv4Unicast as i32;

fn rules_config() -> pb::PeerConfig {
    pb::PeerConfig {
        local_as: 65100,
        local_as_no_prepend: true,
        remove_private_as: "replace".into(),
        allowas_in: 2,
        as_override: true,
        role: "rs-client".into(),
        role_strict: true,
        max_prefix: vec![pb::MaxPrefixConfig {
            family: V4,
            limit: 500,
            warning_percent: 80,
            restart_after: 30,
        }],
        add_path: vec![pb::AddPathConfig {
            family: V4,
            mode: "send".into(),
            send_max: 3,
        }],
        ..peer_config("127.0.0.9", 65009)
    }
}

#[tokio::test]
async fn session_rules_round_trip_and_are_checked_like_the_file() {
    let mut node = start(&global(65001, "10.0.0.1", "", "")).await;
    let api = &mut node.api;
    add_peer(api, rules_config()).await.unwrap();
    let got = get_peer(api, "127.0.0.9").await.config.unwrap();
    let want = pb::PeerConfig {
        // The API's defaults, filled in.
        hold_time: got.hold_time,
        keepalive: got.keepalive,
        families: got.families.clone(),
        enabled: got.enabled,
        port: got.port,
        graceful_restart: got.graceful_restart,
        restart_time: got.restart_time,
        stale_routes_time: got.stale_routes_time,
        long_lived_stale_time: got.long_lived_stale_time,
        ..rules_config()
    };
    assert_eq!(got, want);

    let bad = |f: fn(&mut pb::PeerConfig)| {
        let mut c = rules_config();
        c.address = "127.0.0.10".into();
        f(&mut c);
        c
    };
    assert_status(
        add_peer(api, bad(|c| c.max_prefix[0].limit = 0)).await,
        Code::InvalidArgument,
        &["peer.max_prefix[0].limit", "out of range"],
    );
    assert_status(
        add_peer(api, bad(|c| c.role = "boss".into())).await,
        Code::InvalidArgument,
        &["peer.role", "not a BGP role"],
    );
    assert_status(
        add_peer(api, bad(|c| c.add_path[0].mode = "all".into())).await,
        Code::InvalidArgument,
        &["peer.add_path[0].mode"],
    );
    assert_status(
        add_peer(api, bad(|c| c.local_as = 65001)).await,
        Code::InvalidArgument,
        &["peer.local_as", "global.asn"],
    );
    assert_status(
        add_peer(api, bad(|c| c.remove_private_as = "x\"y".into())).await,
        Code::InvalidArgument,
        &["peer.remove_private_as"],
    );
}

#[tokio::test]
async fn a_prefix_limit_closes_the_session_until_it_is_reset() {
    // A (AS 65001) limits B (AS 65002) to 2 IPv4 paths and does not restart by itself.
    let limit = "[[neighbors.max_prefix]]\nfamily = \"ipv4-unicast\"\nlimit = 2\n";
    let a_global = global(65001, "10.0.0.1", "127.0.0.1:0", "");
    let b_neighbor = passive_neighbor("127.0.0.2", 65002, limit);
    let mut a = start(&format!("{a_global}{b_neighbor}")).await;
    let mut b = remote(a.port(), "127.0.0.2", 65002, "10.0.0.2").await;
    wait_session(&mut a.api, "127.0.0.2", true).await;

    for p in ["10.9.1.0/24", "10.9.2.0/24"] {
        b.api
            .add_path(pb::AddPathRequest {
                path: Some(path(p)),
            })
            .await
            .unwrap();
    }
    let warned = eventually("the warning at 75% of 2", async || {
        let s = status(&mut a.api, "127.0.0.2").await;
        s.prefix_limits
            .first()
            .filter(|l| l.warning && l.accepted == 2)
            .cloned()
    })
    .await;
    assert_eq!((warned.limit, warned.teardowns), (2, 0));

    b.api
        .add_path(pb::AddPathRequest {
            path: Some(path("10.9.3.0/24")),
        })
        .await
        .unwrap();
    let down = eventually("the teardown", async || {
        let s = status(&mut a.api, "127.0.0.2").await;
        (s.prefix_limits.first().map(|l| l.teardowns) == Some(1)).then_some(s)
    })
    .await;
    assert_ne!(down.state, pb::SessionState::Established as i32);
    assert!(
        down.last_error.contains("maximum number of prefixes"),
        "{}",
        down.last_error
    );
    assert_eq!(down.prefix_limit_restart_in, 0, "no restart_after");
    // B was told why.
    let told = eventually("B sees the Cease", async || {
        let s = status(&mut b.api, "127.0.0.1").await;
        s.last_error
            .contains("maximum number of prefixes")
            .then_some(s.last_error)
    })
    .await;
    assert!(told.contains("peer sent NOTIFICATION"), "{told}");
    // No restart by itself: still down a while later (B retries every second).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let s = status(&mut a.api, "127.0.0.2").await;
    assert_ne!(s.state, pb::SessionState::Established as i32);
    // A reset brings it back, and B's 3 paths close it again.
    a.api
        .reset_peer(pb::ResetPeerRequest {
            address: "127.0.0.2".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    eventually("the second teardown", async || {
        let s = status(&mut a.api, "127.0.0.2").await;
        (s.prefix_limits.first().map(|l| l.teardowns) == Some(2)).then_some(())
    })
    .await;
}
