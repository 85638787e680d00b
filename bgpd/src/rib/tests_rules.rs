//! The session rules through the RIB task: ADD-PATH export, prefix limits, RFC 9234 roles.

use std::sync::Arc;
use std::time::Duration;

use bgp_proto::attr::AttrValue;
use bgp_proto::capability::{AddPathMode, Role};
use bgp_proto::{DecodeCtx, EncodeCtx, Family, Message, Nlri, Update};
use tokio::sync::mpsc;

use super::max_prefix::LimitEvent;
use super::tests::{Harness, Inbox, announce, peer, withdraw};
use crate::config::{AddPath, MaxPrefix, SessionRules};
use crate::peer::PeerCmd;

/// Reads `inbox` (decoding with ADD-PATH for IPv4) until `done` holds, at most 5 s.
async fn until_add_path(inbox: &mut Inbox, what: &str, done: impl Fn(&[Update]) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let ctx = DecodeCtx {
        add_path: vec![Family::IPV4_UNICAST],
        ..DecodeCtx::modern()
    };
    while !done(&inbox.updates) {
        let chunk = tokio::time::timeout_at(deadline, inbox.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}; got {:?}", inbox.updates))
            .expect("channel open");
        let mut rest = &chunk[..];
        while let Some(len) = bgp_proto::frame_len(rest) {
            if let Message::Update(u) = Message::decode(&rest[..len], &ctx).unwrap() {
                inbox.updates.push(u);
            }
            rest = &rest[len..];
        }
    }
}

fn ids(updates: &[Update], announced: bool) -> Vec<u32> {
    updates
        .iter()
        .flat_map(|u| if announced { &u.nlri } else { &u.withdrawn })
        .filter_map(|n: &Nlri| n.path_id)
        .collect()
}

fn add_path_peer(id: u32, asn: u32, send_max: Option<u32>) -> super::PeerInfo {
    let mut p = peer(id, asn, false);
    p.encode = EncodeCtx {
        add_path: vec![Family::IPV4_UNICAST],
        ..EncodeCtx::modern()
    };
    p.rules = Arc::new(SessionRules {
        add_path: vec![AddPath {
            family: Family::IPV4_UNICAST,
            mode: AddPathMode::Both,
            send_max,
        }],
        ..SessionRules::default()
    });
    p
}

#[tokio::test]
async fn add_path_peers_get_every_path_with_stable_ids_and_single_withdrawals() {
    let rib = Harness::new();
    let _a = rib.up(peer(1, 65001, false), 64).await;
    let _b = rib.up(peer(2, 65002, false), 64).await;
    let mut c = rib.up(add_path_peer(3, 65003, None), 64).await;
    rib.send(1, announce(&["10.1.0.0/16"], &[65001], &[])).await;
    rib.send(2, announce(&["10.1.0.0/16"], &[65002, 65009], &[]))
        .await;
    until_add_path(&mut c, "two paths", |u| {
        let mut got = ids(u, true);
        got.sort_unstable();
        got.dedup();
        got == [1, 2]
    })
    .await;
    // The best (shorter AS_PATH, from peer 1) went out as path id 1.
    let first = c
        .updates
        .iter()
        .find(|u| u.nlri.iter().any(|n| n.path_id == Some(1)))
        .unwrap();
    let path: Vec<u32> = first.attributes.as_path().unwrap().asns().collect();
    assert_eq!(path, [65000, 65001]);
    // Peer 2's path goes away: only its id is withdrawn; id 1 is not touched.
    let seen = c.updates.len();
    rib.send(2, withdraw(&["10.1.0.0/16"])).await;
    until_add_path(&mut c, "withdrawal of id 2", |u| {
        ids(&u[seen..], false) == [2]
    })
    .await;
    assert!(ids(&c.updates[seen..], true).is_empty());
}

#[tokio::test]
async fn add_path_send_max_limits_the_paths_per_prefix() {
    let rib = Harness::new();
    // Kept open: a peer whose queue is closed is a session going down.
    let mut others = Vec::new();
    for id in 1..=3 {
        others.push(rib.up(peer(id, 65000 + id, false), 64).await);
    }
    let mut d = rib.up(add_path_peer(4, 65004, Some(2)), 64).await;
    for id in 1..=3 {
        rib.send(id, announce(&["10.2.0.0/16"], &[65000 + id], &[]))
            .await;
    }
    // Wait until the RIB settled on the three paths, then count what the peer holds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    until_add_path(&mut d, "two paths", |u| {
        let mut got = ids(u, true);
        got.sort_unstable();
        got.dedup();
        got.len() >= 2
    })
    .await;
    let mut got = ids(&d.updates, true);
    got.sort_unstable();
    got.dedup();
    assert_eq!(got, [1, 2], "never a third path id");
}

#[tokio::test]
async fn exceeding_the_prefix_limit_tells_the_peer_task_and_stops_accepting() {
    let rib = Harness::new();
    let (cmds, mut cmd_rx) = mpsc::channel(16);
    let mut a = peer(1, 65001, false);
    a.rules = Arc::new(SessionRules {
        max_prefix: vec![MaxPrefix {
            family: Family::IPV4_UNICAST,
            limit: 2,
            warning_percent: 50,
            restart_after: None,
        }],
        ..SessionRules::default()
    });
    a.peer_cmds = Some(cmds.downgrade());
    let _a = rib.up(a, 64).await;
    rib.send(1, announce(&["10.0.1.0/24"], &[65001], &[])).await;
    rib.send(1, announce(&["10.0.2.0/24"], &[65001], &[])).await;
    rib.send(1, announce(&["10.0.3.0/24"], &[65001], &[])).await;
    rib.send(1, announce(&["10.0.4.0/24"], &[65001], &[])).await;
    let mut events = Vec::new();
    while events.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), cmd_rx.recv()).await {
            Ok(Some(PeerCmd::PrefixLimit(e))) => events.push(e),
            other => panic!("expected prefix-limit reports, got {other:?}"),
        }
    }
    let v4 = Family::IPV4_UNICAST;
    assert_eq!(
        events,
        [
            LimitEvent::Warning {
                family: v4,
                count: 1,
                limit: 2
            },
            LimitEvent::Exceeded {
                family: v4,
                count: 3,
                limit: 2
            }
        ]
    );
    // The fourth prefix came after the limit tripped and was not taken.
    let best = rib.dump().await;
    assert_eq!(best.len(), 3);
    drop(cmds);
}

#[tokio::test]
async fn roles_mark_routes_from_providers_and_keep_them_from_other_providers() {
    let rib = Harness::new();
    let with_role = |id, asn, role| {
        let mut p = peer(id, asn, false);
        p.rules = Arc::new(SessionRules {
            role: Some(role),
            ..SessionRules::default()
        });
        p
    };
    // We are the customer of 65001 and of 65002, and the provider of 65003.
    let _provider = rib.up(with_role(1, 65001, Role::Customer), 64).await;
    let mut other_provider = rib.up(with_role(2, 65002, Role::Customer), 64).await;
    let mut customer = rib.up(with_role(3, 65003, Role::Provider), 64).await;
    rib.send(1, announce(&["10.9.0.0/16"], &[65001], &[])).await;
    customer
        .until("the provider's route", |u| {
            u.iter().any(|u| !u.nlri.is_empty())
        })
        .await;
    let got = customer.announced("10.9.0.0/16").unwrap();
    assert_eq!(got.attributes.otc(), Some(65001), "OTC added on import");
    // A route our customer sends with OTC set is a leak and is dropped.
    rib.send(
        3,
        announce(&["10.10.0.0/16"], &[65003], &[AttrValue::Otc(64999)]),
    )
    .await;
    rib.send(3, announce(&["10.11.0.0/16"], &[65003], &[]))
        .await;
    other_provider
        .until("the customer's clean route", |u| {
            u.iter()
                .flat_map(|u| &u.nlri)
                .any(|n| n.prefix.to_string() == "10.11.0.0/16")
        })
        .await;
    assert!(
        other_provider.announced("10.9.0.0/16").is_none(),
        "no valley"
    );
    assert!(
        other_provider.announced("10.10.0.0/16").is_none(),
        "leak dropped"
    );
    let best = rib.dump().await;
    assert!(!best.iter().any(|r| r.prefix.to_string() == "10.10.0.0/16"));
}

#[tokio::test]
async fn several_paths_from_one_add_path_peer_are_all_kept() {
    let rib = Harness::new();
    let _a = rib.up(add_path_peer(1, 65001, None), 64).await;
    let mut c = rib.up(add_path_peer(3, 65003, None), 64).await;
    let with_id = |id: u32, path: &[u32]| {
        let mut u = announce(&["10.5.0.0/16"], path, &[]);
        for n in &mut u.nlri {
            n.path_id = Some(id);
        }
        u
    };
    rib.send(1, with_id(7, &[65001])).await;
    rib.send(1, with_id(9, &[65001, 65010])).await;
    // Both paths of peer 1 are kept (and so both go on to the ADD-PATH peer).
    until_add_path(&mut c, "both of peer 1's paths", |u| {
        let mut got = ids(u, true);
        got.sort_unstable();
        got.dedup();
        got == [1, 2]
    })
    .await;
    // Withdrawing path id 9 removes only that path.
    let seen = c.updates.len();
    let mut w = withdraw(&["10.5.0.0/16"]);
    w.withdrawn[0].path_id = Some(9);
    rib.send(1, w).await;
    until_add_path(&mut c, "one withdrawal", |u| {
        ids(&u[seen..], false).len() == 1
    })
    .await;
    let best = rib.dump().await;
    let kept: Vec<_> = best
        .iter()
        .filter(|r| r.prefix.to_string() == "10.5.0.0/16")
        .collect();
    assert_eq!(kept.len(), 1, "the prefix still has its other path");
    let path: Vec<u32> = kept[0].attrs.attrs.as_path().unwrap().asns().collect();
    assert_eq!(path, [65001]);
}
