//! The gRPC API (`petrel.bgpd.v1`) against in-process daemons: every call, as a user of
//! `bgpctl` or an adapter would notice it. Daemons peer over loopback (127.0.0.x, port 0
//! listeners); each serves its API on a unix socket in its own temporary directory.
//!
//! This file holds identity, peers, sessions and paths; the Watch tests and the tests of
//! bad input are modules kept beside the helpers in `api_common/`.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod api_common;
#[path = "api_common/bad_input.rs"]
mod bad_input;
#[path = "api_common/watch.rs"]
mod watch;

use std::time::Duration;

use api_common::*;
use bgp_api::bgpd::v1 as pb;
use pb::ResetMode::{Hard, Soft, SoftIn, SoftOut};
use pb::Table::{AdjIn, AdjOut, Loc};
use tonic::Code;

pub(crate) const V4: i32 = pb::Family::Ipv4Unicast as i32;
pub(crate) const V6: i32 = pb::Family::Ipv6Unicast as i32;
pub(crate) const ESTABLISHED: i32 = pb::SessionState::Established as i32;

/// A (AS 65001, the daemon under test) listens on 127.0.0.1 with a passive neighbour
/// 127.0.0.2; B (AS 65002) connects from 127.0.0.2. `a_extra` follows A's neighbours.
async fn pair(a_extra: &str) -> (Node, Node) {
    let a_global = global(65001, "10.0.0.1", "127.0.0.1:0", "");
    let b_neighbor = passive_neighbor("127.0.0.2", 65002, "");
    let a = start(&format!("{a_global}{b_neighbor}{a_extra}")).await;
    let mut b = remote(a.port(), "127.0.0.2", 65002, "10.0.0.2").await;
    wait_session(&mut a.api.clone(), "127.0.0.2", true).await;
    wait_session(&mut b.api, "127.0.0.1", true).await;
    (a, b)
}

/// (received, advertised) prefixes of `family` in a peer's status.
fn prefixes(s: &pb::PeerStatus, family: i32) -> (u64, u64) {
    let c = s.prefixes.iter().find(|c| c.family == family);
    c.map_or((0, 0), |c| (c.received, c.advertised))
}

fn as_path(p: &pb::Path) -> Vec<u32> {
    p.as_path.iter().flat_map(|s| s.asns.clone()).collect()
}

/// Messages of each kind sent to / received from a peer.
async fn sent(api: &mut Client, address: &str) -> pb::MessageCounters {
    status(api, address).await.sent.unwrap()
}

async fn received(api: &mut Client, address: &str) -> pb::MessageCounters {
    status(api, address).await.received.unwrap()
}

fn set(asn: Option<u32>, router_id: Option<&str>) -> pb::SetGlobalRequest {
    pb::SetGlobalRequest {
        asn,
        router_id: router_id.map(Into::into),
    }
}

fn table(t: pb::Table, peer: &str) -> pb::ListPathsRequest {
    pb::ListPathsRequest {
        table: t as i32,
        peer: peer.into(),
        ..Default::default()
    }
}

fn filter(prefix: &str, m: pb::Match, all_paths: bool) -> pb::ListPathsRequest {
    let r#match = m as i32;
    pb::ListPathsRequest {
        prefix: prefix.into(),
        r#match,
        all_paths,
        ..Default::default()
    }
}

/// The prefixes of a listing, sorted.
async fn names(api: &mut Client, req: pb::ListPathsRequest) -> Vec<String> {
    let mut v: Vec<String> = list(api, req).await.into_iter().map(|p| p.prefix).collect();
    v.sort();
    v
}

#[tokio::test]
async fn global_shows_identity_listeners_instance_and_counts() {
    let text = global(65001, "10.0.0.1", "127.0.0.1:0", "");
    let mut a = start(&text).await;
    let mut b = start(&global(65002, "10.0.0.2", "127.0.0.1:0", "")).await;
    let g = global_of(&mut a.api).await;
    assert_eq!((g.asn, g.router_id.as_str()), (65001, "10.0.0.1"));
    assert_eq!(g.listen_addresses, vec![format!("127.0.0.1:{}", a.port())]);
    assert_eq!((g.peers, g.established_peers), (0, 0));
    assert_eq!((g.ipv4_prefixes, g.ipv6_prefixes), (0, 0));
    assert_eq!(g.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(g.instance_id.len(), 32, "a random id: {}", g.instance_id);
    let other = global_of(&mut b.api).await.instance_id;
    assert_ne!(g.instance_id, other, "two daemons");

    // Paths move the counts; one attribute set is shared by the paths that have it.
    let paths = [
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "2001:db8::/32",
    ];
    let mut paths: Vec<pb::Path> = paths.iter().map(|p| path(p)).collect();
    paths.push(path("2001:db8:1::/48"));
    assert_eq!(add_stream(&mut a.api, paths).await.unwrap(), 5);
    let g2 = eventually("counts", async || {
        let g = global_of(&mut a.api).await;
        (g.ipv4_prefixes == 3 && g.ipv6_prefixes == 2).then_some(g)
    })
    .await;
    assert!(
        (1..=2).contains(&g2.attribute_sets),
        "{} sets",
        g2.attribute_sets
    );
    assert!(g2.uptime_seconds < 60);

    // A restart is a new instance.
    a.stop().await;
    let mut a = start(&text).await;
    let id = global_of(&mut a.api).await.instance_id;
    assert_ne!(id, g.instance_id, "a restart");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn set_global_changes_an_empty_daemon_only() {
    let mut a = start(&global(65001, "10.0.0.1", "", "")).await;
    let api = &mut a.api;
    api.set_global(set(Some(4_200_000_001), Some("10.9.9.9")))
        .await
        .unwrap();
    let g = global_of(api).await;
    assert_eq!((g.asn, g.router_id.as_str()), (4_200_000_001, "10.9.9.9"));
    api.set_global(set(None, Some("10.9.9.10"))).await.unwrap();
    assert_eq!(
        global_of(api).await.asn,
        4_200_000_001,
        "an absent field stays"
    );

    let invalid = Code::InvalidArgument;
    assert_status(api.set_global(set(Some(0), None)).await, invalid, &["asn"]);
    assert_status(
        api.set_global(set(Some(23456), None)).await,
        invalid,
        &["asn", "23456"],
    );
    let r = api.set_global(set(None, Some("0.0.0.0"))).await;
    assert_status(r, invalid, &["router_id"]);
    assert_status(
        api.set_global(set(None, Some("::1"))).await,
        invalid,
        &["router_id"],
    );
    // A request with one bad field changes nothing.
    let r = api.set_global(set(Some(65100), Some("0.0.0.0"))).await;
    assert_status(r, invalid, &["router_id"]);
    let g = global_of(api).await;
    assert_eq!((g.asn, g.router_id.as_str()), (4_200_000_001, "10.9.9.10"));

    // Once there is a peer, the identity is fixed.
    add_peer(api, peer_config("127.0.0.9", 65009))
        .await
        .unwrap();
    let r = api.set_global(set(Some(65100), None)).await;
    assert_status(r, Code::FailedPrecondition, &["neighbor"]);
    delete_peer(api, "127.0.0.9").await.unwrap();
    api.set_global(set(Some(65100), None)).await.unwrap();
    a.stop().await;
}

#[tokio::test]
async fn the_api_is_served_on_a_tcp_address() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let api = format!("[api]\nsocket = \"\"\nlisten = [\"127.0.0.1:{port}\"]\n");
    let text = format!("{}{api}", global(65001, "10.0.0.1", "", ""));
    let cfg = bgpd::config::from_str(&text, "test.toml").unwrap();
    let daemon = bounded("start", bgpd::daemon::Daemon::start(&cfg))
        .await
        .unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let endpoint = tonic::transport::Endpoint::from_shared(endpoint).unwrap();
    let channel = endpoint.timeout(WAIT).connect().await.unwrap();
    let mut api = pb::bgpd_client::BgpdClient::new(channel);
    assert_eq!(global_of(&mut api).await.asn, 65001);
    bounded("shutdown", daemon.shutdown("test over")).await;
}

#[tokio::test]
async fn peers_are_added_shown_updated_and_deleted() {
    let mut a = start(&global(65001, "10.0.0.1", "127.0.0.1:0", "")).await;
    let mut b = remote(a.port(), "127.0.0.2", 65002, "10.0.0.2").await;
    let (aa, ba) = (&mut a.api, &mut b.api);
    let mut cfg = pb::PeerConfig {
        passive: true,
        hold_time: 30,
        families: vec![V4, V6],
        description: "b".into(),
        ..peer_config("127.0.0.2", 65002)
    };
    add_peer(aa, cfg.clone()).await.unwrap();
    let again = add_peer(aa, cfg.clone()).await;
    assert_status(again, Code::AlreadyExists, &["127.0.0.2"]);

    let p = get_peer(aa, "127.0.0.2").await;
    assert_eq!(p.source, "api");
    let c = p.config.unwrap();
    assert_eq!((c.peer_asn, c.port, c.passive), (65002, 179, true));
    assert_eq!((c.hold_time, c.keepalive), (30, 10));
    assert_eq!(
        (c.families, c.description.as_str(), c.enabled),
        (vec![V4, V6], "b", Some(true))
    );

    // The session: negotiated values and counters.
    let s = wait_session(aa, "127.0.0.2", true).await;
    assert_eq!(
        (s.hold_time, s.keepalive),
        (9, 3),
        "the smaller hold time of both"
    );
    assert_eq!(
        (s.peer_router_id.as_str(), s.local_address.as_str()),
        ("10.0.0.2", "127.0.0.1")
    );
    assert_eq!(s.families, vec![V4, V6]);
    assert!(s.four_octet_as && s.route_refresh && s.extended_message && s.enabled);
    let (out, inc) = (s.sent.unwrap(), s.received.unwrap());
    assert_eq!((out.open, inc.open), (1, 1));
    assert!(out.keepalive >= 1 && inc.keepalive >= 1);
    let sum = out.open + out.update + out.notification + out.keepalive + out.route_refresh;
    assert_eq!(out.total, sum);
    let all = peers(aa).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].config.as_ref().unwrap().address, "127.0.0.2");

    // Prefixes received and advertised, per family, on both sides.
    let from_b = [
        "198.51.100.0/24",
        "198.51.101.0/24",
        "198.51.102.0/24",
        "2001:db8:1::/48",
    ];
    let mut from_b: Vec<pb::Path> = from_b.iter().map(|p| path(p)).collect();
    from_b.push(path("2001:db8:2::/48"));
    assert_eq!(add_stream(ba, from_b).await.unwrap(), 5);
    add_path(aa, path("192.0.2.0/24")).await.unwrap();
    let s = eventually("A's prefix counts", async || {
        let s = status(aa, "127.0.0.2").await;
        (prefixes(&s, V4) == (3, 1) && prefixes(&s, V6) == (2, 0)).then_some(s)
    })
    .await;
    assert!(
        s.received.unwrap().update >= 2,
        "B's routes came in UPDATEs"
    );
    eventually("B's prefix counts", async || {
        let s = status(ba, "127.0.0.1").await;
        (prefixes(&s, V4) == (1, 3) && prefixes(&s, V6) == (0, 2)).then_some(())
    })
    .await;
    let g = global_of(aa).await;
    assert_eq!((g.peers, g.established_peers), (1, 1));
    assert_eq!((g.ipv4_prefixes, g.ipv6_prefixes), (4, 2));

    // A new description is applied in place: same session, its uptime keeps counting.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = status(aa, "127.0.0.2").await;
    cfg.description = "b, rack 4".into();
    assert!(!update_peer(aa, cfg.clone()).await.unwrap(), "no reset");
    let after = status(aa, "127.0.0.2").await;
    assert_eq!(after.state, ESTABLISHED);
    assert_eq!(
        after.sent.unwrap().open,
        before.sent.unwrap().open,
        "no new session"
    );
    assert!(after.uptime_seconds >= 1 && after.uptime_seconds >= before.uptime_seconds);
    let description = get_peer(aa, "127.0.0.2").await.config.unwrap().description;
    assert_eq!(description, "b, rack 4");

    // The same on a peer from the configuration file, given back as GetPeer shows it.
    let opens = sent(ba, "127.0.0.1").await.open;
    let mut bc = get_peer(ba, "127.0.0.1").await.config.unwrap();
    bc.description = "a".into();
    assert!(
        !update_peer(ba, bc).await.unwrap(),
        "a description never resets a session"
    );
    assert_eq!(sent(ba, "127.0.0.1").await.open, opens);

    // A new AS resets the session: B is not in AS 65099.
    cfg.peer_asn = 65099;
    assert!(update_peer(aa, cfg.clone()).await.unwrap(), "reset");
    let s = eventually("B rejected for its AS", async || {
        let s = status(aa, "127.0.0.2").await;
        s.last_error.contains("65099").then_some(s)
    })
    .await;
    assert_ne!(s.state, ESTABLISHED, "{s:?}");
    cfg.peer_asn = 65002;
    assert!(update_peer(aa, cfg.clone()).await.unwrap(), "reset");
    wait_session(aa, "127.0.0.2", true).await;
    let unknown = update_peer(aa, peer_config("127.0.0.77", 65077)).await;
    assert_status(unknown, Code::NotFound, &["127.0.0.77"]);

    // Deleted: gone here, and B is told why.
    delete_peer(aa, "127.0.0.2").await.unwrap();
    let r = aa
        .get_peer(pb::GetPeerRequest {
            address: "127.0.0.2".into(),
        })
        .await;
    assert_status(r, Code::NotFound, &["127.0.0.2"]);
    assert_status(
        delete_peer(aa, "127.0.0.2").await,
        Code::NotFound,
        &["127.0.0.2"],
    );
    let s = wait_session(ba, "127.0.0.1", false).await;
    assert!(
        s.last_error.contains("de-configured"),
        "B's last error: {}",
        s.last_error
    );
    eventually("B's routes gone with it", async || {
        (loc_prefixes(aa).await == ["192.0.2.0/24"]).then_some(())
    })
    .await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn disable_enable_and_resets() {
    let (mut a, mut b) = pair("[[originate]]\nprefix = \"192.0.2.0/24\"\n").await;
    let (aa, ba) = (&mut a.api, &mut b.api);
    // B shuts its session down with a message: A shows the session down and why.
    let message = "maintenance till 14:00".to_string();
    let disable = pb::DisablePeerRequest {
        address: "127.0.0.1".into(),
        message,
    };
    ba.disable_peer(disable).await.unwrap();
    let s = wait_session(aa, "127.0.0.2", false).await;
    assert!(
        s.last_error.contains("maintenance till 14:00"),
        "A's error: {}",
        s.last_error
    );
    let s = status(ba, "127.0.0.1").await;
    assert!(
        !s.enabled && s.state == pb::SessionState::Idle as i32,
        "{s:?}"
    );
    let enabled = get_peer(ba, "127.0.0.1").await.config.unwrap().enabled;
    assert_eq!(enabled, Some(false));
    // Soft resets need a session.
    for mode in [SoftIn, SoftOut, Soft] {
        let r = reset(ba, "127.0.0.1", mode, "").await;
        assert_status(r, Code::FailedPrecondition, &["not established"]);
    }
    ba.enable_peer(pb::EnablePeerRequest {
        address: "127.0.0.1".into(),
    })
    .await
    .unwrap();
    wait_session(ba, "127.0.0.1", true).await;
    wait_session(aa, "127.0.0.2", true).await;
    let enabled = get_peer(ba, "127.0.0.1").await.config.unwrap().enabled;
    assert_eq!(enabled, Some(true));

    // Hard reset: a new session (a second OPEN), B learns why, the route comes back.
    let opens = sent(aa, "127.0.0.2").await.open;
    reset(aa, "127.0.0.2", Hard, "new policy").await.unwrap();
    let s = eventually("a new session", async || {
        let s = status(aa, "127.0.0.2").await;
        (s.state == ESTABLISHED && s.sent.unwrap().open > opens).then_some(s)
    })
    .await;
    assert_eq!(prefixes(&s, V4).1, 1);
    let s = wait_session(ba, "127.0.0.1", true).await;
    assert!(
        s.last_error.contains("new policy"),
        "B's last error: {}",
        s.last_error
    );
    eventually("route back at B", async || {
        (loc_prefixes(ba).await == ["192.0.2.0/24"]).then_some(())
    })
    .await;

    // Soft in: a ROUTE-REFRESH goes to B.
    let (b_sent, b_received) = (sent(ba, "127.0.0.1").await, received(ba, "127.0.0.1").await);
    reset(aa, "127.0.0.2", SoftIn, "").await.unwrap();
    eventually("ROUTE-REFRESH at B", async || {
        let r = received(ba, "127.0.0.1").await;
        (r.route_refresh > b_received.route_refresh).then_some(())
    })
    .await;
    // Soft out: our routes are sent again, in the same session.
    reset(aa, "127.0.0.2", SoftOut, "").await.unwrap();
    eventually("UPDATE re-sent to B", async || {
        (received(ba, "127.0.0.1").await.update > b_received.update).then_some(())
    })
    .await;
    assert_eq!(
        sent(ba, "127.0.0.1").await.open,
        b_sent.open,
        "the session stayed"
    );
    reset(aa, "127.0.0.2", Soft, "").await.unwrap();
    assert_eq!(status(aa, "127.0.0.2").await.state, ESTABLISHED);
    let unknown = reset(aa, "127.0.0.99", Hard, "").await;
    assert_status(unknown, Code::NotFound, &["127.0.0.99"]);
    let unknown = aa
        .enable_peer(pb::EnablePeerRequest {
            address: "127.0.0.99".into(),
        })
        .await;
    assert_status(unknown, Code::NotFound, &["127.0.0.99"]);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_shutdown_message_stays_shown_while_the_peer_retries() {
    let (mut a, mut b) = pair("").await;
    // A, the passive side, shuts the session down; B keeps connecting and is refused.
    let message = "maintenance till 14:00".to_string();
    let disable = pb::DisablePeerRequest {
        address: "127.0.0.2".into(),
        message,
    };
    a.api.disable_peer(disable).await.unwrap();
    wait_session(&mut b.api, "127.0.0.1", false).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let s = status(&mut b.api, "127.0.0.1").await;
    assert!(
        s.last_error.contains("maintenance till 14:00"),
        "B's error: {}",
        s.last_error
    );
    b.stop().await;
    a.stop().await;
}

/// A path with every attribute the API takes.
fn full_path(prefix: &str) -> pb::Path {
    let segment = |t: pb::as_segment::Type, asns: Vec<u32>| pb::AsSegment {
        r#type: t as i32,
        asns,
    };
    let large = pb::LargeCommunity {
        global_admin: 65001,
        local_data1: 1,
        local_data2: 2,
    };
    pb::Path {
        origin: pb::Origin::Egp as i32,
        as_path: vec![
            segment(pb::as_segment::Type::Sequence, vec![65010, 4_200_000_000]),
            segment(pb::as_segment::Type::Set, vec![65020, 65021]),
        ],
        med: Some(7),
        local_pref: Some(200),
        communities: vec![(65001 << 16) | 100],
        large_communities: vec![large],
        extended_communities: vec![0x0002_fde9_0000_0064],
        next_hop: "192.0.2.1".into(),
        ..path(prefix)
    }
}

#[tokio::test]
async fn paths_are_added_listed_filtered_and_deleted() {
    let originate = "[[originate]]\nprefix = \"10.1.0.0/16\"\nmed = 1\n";
    let mut a = start(&format!("{}{originate}", global(65001, "10.0.0.1", "", ""))).await;
    let api = &mut a.api;
    add_path(api, full_path("10.0.0.0/8")).await.unwrap();
    for p in [
        "10.1.0.0/16",
        "10.1.2.0/24",
        "10.1.2.128/25",
        "10.2.0.0/16",
        "2001:db8::/32",
    ] {
        add_path(api, path(p)).await.unwrap();
    }
    let all = list(api, pb::ListPathsRequest::default()).await;
    assert_eq!(all.len(), 6, "{all:?}");
    let got = all.iter().find(|p| p.prefix == "10.0.0.0/8").unwrap();
    assert_eq!(
        (got.source.as_str(), got.best, got.source_peer.as_str()),
        ("api", true, "")
    );
    let plain = pb::Path {
        source: String::new(),
        best: false,
        multipath: false,
        ..got.clone()
    };
    assert_eq!(plain, full_path("10.0.0.0/8"), "every attribute as given");
    let own = all.iter().find(|p| p.prefix == "10.2.0.0/16").unwrap();
    assert_eq!(
        (own.next_hop.as_str(), own.origin),
        ("", pb::Origin::Igp as i32)
    );
    assert!(own.as_path.is_empty(), "{own:?}");

    // The configuration's path and the API's path of 10.1.0.0/16 are both kept.
    let both = list(api, filter("10.1.0.0/16", pb::Match::Exact, true)).await;
    let mut sources: Vec<(&str, bool)> = both.iter().map(|p| (p.source.as_str(), p.best)).collect();
    sources.sort();
    assert_eq!(sources.len(), 2, "{both:?}");
    assert_eq!(both.iter().filter(|p| p.best).count(), 1);
    assert!(sources.iter().any(|s| s.0 == "config") && sources.iter().any(|s| s.0 == "api"));
    let exact = names(api, filter("10.1.0.0/16", pb::Match::Exact, false)).await;
    assert_eq!(exact, ["10.1.0.0/16"]);
    let longer = names(api, filter("10.1.0.0/16", pb::Match::Longer, false)).await;
    assert_eq!(longer, ["10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25"]);
    let shorter = names(api, filter("10.1.2.0/24", pb::Match::Shorter, false)).await;
    assert_eq!(shorter, ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"]);
    let lookup = names(api, filter("10.1.2.200", pb::Match::Shorter, false)).await;
    assert_eq!(lookup.len(), 4, "an address: every prefix that covers it");
    assert!(
        names(api, filter("172.16.0.0/12", pb::Match::Longer, false))
            .await
            .is_empty()
    );
    let v6 = pb::ListPathsRequest {
        family: V6,
        ..Default::default()
    };
    assert_eq!(names(api, v6).await, ["2001:db8::/32"]);
    assert_eq!(counts(api, Loc, "").await, (5, 1, 7));

    // Replacing and deleting.
    add_path(
        api,
        pb::Path {
            med: Some(42),
            ..path("10.2.0.0/16")
        },
    )
    .await
    .unwrap();
    let got = list(api, filter("10.2.0.0/16", pb::Match::Exact, true)).await;
    assert_eq!(
        got.iter().map(|p| p.med).collect::<Vec<_>>(),
        [Some(42)],
        "replaced"
    );
    delete_path(api, "10.2.0.0/16").await.unwrap();
    let again = delete_path(api, "10.2.0.0/16").await;
    assert_status(again, Code::NotFound, &["10.2.0.0/16"]);
    delete_path(api, "10.1.0.0/16").await.unwrap();
    let again = delete_path(api, "10.1.0.0/16").await;
    assert_status(again, Code::NotFound, &["10.1.0.0/16"]);
    let left = list(api, filter("10.1.0.0/16", pb::Match::Exact, false)).await;
    let left: Vec<&str> = left.iter().map(|p| p.source.as_str()).collect();
    assert_eq!(left, ["config"], "the file's path stays");
    assert_eq!(counts(api, Loc, "").await, (4, 1, 5));
    a.stop().await;
}

#[tokio::test]
async fn add_path_stream_adds_ten_thousand_paths_listed_in_batches() {
    let mut a = start(&global(65001, "10.0.0.1", "", "")).await;
    let api = &mut a.api;
    assert_eq!(add_stream(api, many(10_000, None)).await.unwrap(), 10_000);
    let (paths, batches) = list_batches(api, pb::ListPathsRequest::default()).await;
    assert_eq!(paths.len(), 10_000, "every path, once");
    let mut names: Vec<&str> = paths.iter().map(|p| p.prefix.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 10_000);
    assert!(
        batches >= 10,
        "{batches} responses: a listing comes in batches"
    );
    assert_eq!(counts(api, Loc, "").await, (10_000, 0, 10_000));

    // A bad request in a stream is named by its position; the ones before it are added.
    let mut reqs: Vec<pb::Path> = (0..10).map(|i| path(&format!("172.16.{i}.0/24"))).collect();
    reqs[5].prefix = "172.16.5.1/24".into();
    let r = add_stream(api, reqs).await;
    assert_status(r, Code::InvalidArgument, &["request 5", "path.prefix"]);
    assert_eq!(counts(api, Loc, "").await.0, 10_005);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn tables_read_right_after_a_stream_show_all_of_it() {
    let mut a = start(&global(65001, "10.0.0.1", "", "")).await;
    // A watcher and big attribute sets give the RIB more work per path than the stream.
    let _w = watch(&mut a.client().await, false, true, false).await;
    let api = &mut a.api;
    let communities: Vec<u32> = (0..200).collect();
    for round in 0..3 {
        let paths = many(30_000, Some(round)).into_iter();
        let paths = paths.map(|p| pb::Path {
            communities: communities.clone(),
            ..p
        });
        assert_eq!(add_stream(api, paths.collect()).await.unwrap(), 30_000);
        assert_eq!(
            counts(api, Loc, "").await.0,
            30_000,
            "round {round}: counts"
        );
        let paths = list(api, pb::ListPathsRequest::default()).await;
        let decided = paths.iter().filter(|p| p.med == Some(round)).count();
        assert_eq!(decided, 30_000, "round {round}: listed");
    }
    a.stop().await;
}

#[tokio::test]
async fn adj_rib_in_and_out_show_what_the_peer_sent_and_receives() {
    let (mut a, mut b) = pair("").await;
    let (aa, ba) = (&mut a.api, &mut b.api);
    let sent = pb::Path {
        as_path: sequence(&[65010]),
        med: Some(5),
        ..path("203.0.113.0/24")
    };
    add_path(ba, sent).await.unwrap();
    let community = (65001 << 16) | 1;
    let ours = pb::Path {
        med: Some(9),
        communities: vec![community],
        ..path("198.51.100.0/24")
    };
    add_path(aa, ours).await.unwrap();
    let one = async |api: &mut Client, t: pb::Table, peer: &str| {
        let what = format!("a path in {t:?} of {peer}");
        eventually(&what, async || {
            let v = list(api, table(t, peer)).await;
            (!v.is_empty()).then_some(v)
        })
        .await
    };

    let adj_in = one(aa, AdjIn, "127.0.0.2").await;
    assert_eq!(adj_in.len(), 1, "{adj_in:?}");
    let p = &adj_in[0];
    assert_eq!(
        (p.prefix.as_str(), p.source.as_str()),
        ("203.0.113.0/24", "peer")
    );
    assert_eq!(
        (p.source_peer.as_str(), p.next_hop.as_str()),
        ("127.0.0.2", "127.0.0.2")
    );
    assert_eq!((as_path(p), p.med), (vec![65002, 65010], Some(5)));

    // What B receives: our AS prepended, our address as next hop, MED kept for our own
    // route, no LOCAL_PREF over eBGP; and not B's own route back.
    let adj_out = one(aa, AdjOut, "127.0.0.2").await;
    assert_eq!(adj_out.len(), 1, "{adj_out:?}");
    let p = &adj_out[0];
    assert_eq!(
        (p.prefix.as_str(), p.next_hop.as_str()),
        ("198.51.100.0/24", "127.0.0.1")
    );
    assert_eq!(
        (as_path(p), p.med, p.local_pref),
        (vec![65001], Some(9), None)
    );
    assert_eq!(p.communities, [community]);
    let at_b = one(ba, AdjIn, "127.0.0.1").await;
    let p = &at_b[0];
    assert_eq!(
        (as_path(p), p.next_hop.as_str(), p.med),
        (vec![65001], "127.0.0.1", Some(9))
    );

    assert_eq!(counts(aa, AdjIn, "127.0.0.2").await, (1, 0, 1));
    assert_eq!(counts(aa, AdjOut, "127.0.0.2").await, (1, 0, 1));
    assert_status(
        aa.list_paths(table(AdjOut, "")).await,
        Code::InvalidArgument,
        &["peer"],
    );
    let r = aa.list_paths(table(AdjIn, "127.0.0.99")).await;
    assert_status(r, Code::NotFound, &["127.0.0.99"]);
    b.stop().await;
    a.stop().await;
}
