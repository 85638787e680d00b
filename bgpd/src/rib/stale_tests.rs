//! Graceful restart in the RIB task, driven through its channel: what the other peers
//! receive and what a listing shows while a peer restarts.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp_proto::attr::{AsPath, AttrValue, Communities, Community, Origin};
use bgp_proto::{DecodeCtx, EncodeCtx, Family, Message, Nlri, PathAttributes, Update};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::query::{Cursor, ListQuery, TableKind};
use super::*;

const V4: Family = Family::IPV4_UNICAST;

fn opts() -> RibOptions {
    RibOptions {
        local: LocalIdentity {
            asn: 65000,
            router_id: Ipv4Addr::new(10, 0, 0, 1),
            cluster_id: Ipv4Addr::new(10, 0, 0, 1),
        },
        decision: bestpath::Options::default(),
        multipath: false,
    }
}

fn peer(id: PeerId) -> PeerInfo {
    PeerInfo {
        id,
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, u8::try_from(id).unwrap())),
        local_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
        asn: 65000 + id,
        router_id: Ipv4Addr::new(10, 0, 0, u8::try_from(id + 1).unwrap()),
        ibgp: false,
        rr_client: false,
        families: vec![V4],
        encode: EncodeCtx::modern(),
        llgr: id != 3,
        rules: std::sync::Arc::default(),
        peer_cmds: None,
        route_server_client: false,
        soft_in: false,
    }
}

fn announce(id: PeerId, prefixes: &[&str]) -> Update {
    let attrs = PathAttributes::new()
        .with(AttrValue::Origin(Origin::Igp))
        .with(AttrValue::AsPath(AsPath::from_sequence([65000 + id])))
        .with(AttrValue::NextHop(Ipv4Addr::new(192, 0, 2, 50)));
    let nlri = prefixes
        .iter()
        .map(|p| Nlri {
            path_id: None,
            prefix: p.parse().unwrap(),
        })
        .collect();
    Update::announce(attrs, nlri)
}

struct Rx {
    rx: mpsc::Receiver<Bytes>,
    updates: Vec<Update>,
}

impl Rx {
    /// Everything received within `wait`.
    async fn drain(&mut self, wait: Duration) {
        while let Ok(Some(chunk)) = tokio::time::timeout(wait, self.rx.recv()).await {
            let mut rest = &chunk[..];
            while let Some(len) = bgp_proto::frame_len(rest) {
                if let Ok(Message::Update(u)) = Message::decode(&rest[..len], &DecodeCtx::modern())
                {
                    self.updates.push(u);
                }
                rest = &rest[len..];
            }
        }
    }

    fn withdrew(&self, prefix: &str) -> bool {
        let p: IpNet = prefix.parse().unwrap();
        self.updates
            .iter()
            .any(|u| u.withdrawn.iter().any(|n| n.prefix == p))
    }

    fn got(&self, prefix: &str) -> bool {
        let p: IpNet = prefix.parse().unwrap();
        self.updates
            .iter()
            .any(|u| u.nlri.iter().any(|n| n.prefix == p))
    }
}

struct H {
    tx: mpsc::Sender<RibMsg>,
    events: EventSender,
}

impl H {
    fn new() -> Self {
        let (tx, rx) = mpsc::channel(16);
        let rib = Rib::new(opts());
        let events = rib.events();
        tokio::spawn(rib.run(rx));
        H { tx, events }
    }

    async fn up(&self, id: PeerId) -> Rx {
        let (out, rx) = mpsc::channel(64);
        self.tx
            .send(RibMsg::PeerUp {
                info: peer(id),
                out,
            })
            .await
            .unwrap();
        Rx {
            rx,
            updates: Vec::new(),
        }
    }

    async fn gr(&self, msg: GrMsg) {
        self.tx.send(RibMsg::Graceful(msg)).await.unwrap();
    }

    async fn send(&self, id: PeerId, updates: Vec<Update>) {
        self.tx
            .send(RibMsg::Updates { peer: id, updates })
            .await
            .unwrap();
    }

    async fn graceful_down(&self, id: PeerId, restart: Duration) {
        self.gr(GrMsg::PeerDown {
            peer: id,
            families: vec![V4],
            restart_time: restart,
            stale_time: Duration::from_secs(300),
            llgr: vec![],
        })
        .await;
    }

    async fn graceful_up(&self, id: PeerId, preserved: Vec<Family>) -> Rx {
        let rx = self.up(id).await;
        self.gr(GrMsg::PeerUp {
            peer: id,
            preserved,
            graceful: true,
            peer_restarted: false,
            families: vec![V4],
        })
        .await;
        rx
    }

    /// (prefix, stale) of every best path.
    async fn best(&self) -> Vec<(String, bool)> {
        let (tx, rx) = oneshot::channel();
        let query = ListQuery {
            table: TableKind::Loc,
            family: None,
            prefix: None,
            all_paths: false,
            limit: 1000,
        };
        self.tx
            .send(RibMsg::List {
                query,
                cursor: Cursor::default(),
                reply: tx,
            })
            .await
            .unwrap();
        let mut out: Vec<(String, bool)> = rx
            .await
            .unwrap()
            .paths
            .iter()
            .map(|p| (p.prefix.to_string(), p.stale))
            .collect();
        out.sort();
        out
    }
}

const A: &str = "198.51.100.0/24";
const B: &str = "203.0.113.0/24";

#[tokio::test]
async fn restarting_peer_routes_stay_stale_then_are_replaced_and_swept_at_end_of_rib() {
    let h = H::new();
    let _one = h.up(1).await;
    let mut two = h.up(2).await;
    h.send(1, vec![announce(1, &[A, B])]).await;
    two.drain(Duration::from_millis(200)).await;
    assert!(two.got(A) && two.got(B));

    h.graceful_down(1, Duration::from_secs(60)).await;
    two.drain(Duration::from_millis(200)).await;
    assert!(
        !two.withdrew(A) && !two.withdrew(B),
        "stale routes were withdrawn"
    );
    assert_eq!(
        h.best().await,
        vec![(A.to_string(), true), (B.to_string(), true)]
    );

    // Back, re-sends A only, then End-of-RIB: B goes, A is fresh.
    let _one = h.graceful_up(1, vec![V4]).await;
    h.send(1, vec![announce(1, &[A])]).await;
    assert_eq!(
        h.best().await,
        vec![(A.to_string(), false), (B.to_string(), true)]
    );
    h.send(1, vec![Update::end_of_rib_marker(V4)]).await;
    two.drain(Duration::from_millis(200)).await;
    assert!(
        two.withdrew(B),
        "what was not re-sent is withdrawn at End-of-RIB"
    );
    assert!(!two.withdrew(A));
    assert_eq!(h.best().await, vec![(A.to_string(), false)]);
}

#[tokio::test(start_paused = true)]
async fn stale_routes_go_when_the_peer_does_not_come_back_in_its_restart_time() {
    let h = H::new();
    let _one = h.up(1).await;
    let mut two = h.up(2).await;
    h.send(1, vec![announce(1, &[A])]).await;
    two.drain(Duration::from_millis(100)).await;
    h.graceful_down(1, Duration::from_secs(30)).await;
    two.drain(Duration::from_secs(20)).await;
    assert!(!two.withdrew(A), "withdrawn before the restart time");
    two.drain(Duration::from_secs(20)).await;
    assert!(two.withdrew(A), "not withdrawn after the restart time");
    assert!(h.best().await.is_empty());
}

#[tokio::test]
async fn forwarding_state_not_preserved_removes_stale_routes_at_once() {
    let h = H::new();
    let _one = h.up(1).await;
    let mut two = h.up(2).await;
    h.send(1, vec![announce(1, &[A])]).await;
    two.drain(Duration::from_millis(200)).await;
    h.graceful_down(1, Duration::from_secs(60)).await;
    let _one = h.graceful_up(1, vec![]).await;
    two.drain(Duration::from_millis(200)).await;
    assert!(two.withdrew(A));
}

#[tokio::test]
async fn a_plain_session_loss_after_graceful_down_withdraws_everything() {
    let h = H::new();
    let _one = h.up(1).await;
    let mut two = h.up(2).await;
    h.send(1, vec![announce(1, &[A])]).await;
    two.drain(Duration::from_millis(200)).await;
    h.graceful_down(1, Duration::from_secs(60)).await;
    h.tx.send(RibMsg::PeerDown { peer: 1 }).await.unwrap();
    two.drain(Duration::from_millis(200)).await;
    assert!(two.withdrew(A));
    assert!(h.best().await.is_empty());
}

#[tokio::test]
async fn after_a_restart_nothing_is_sent_until_end_of_rib_from_graceful_peers() {
    let h = H::new();
    h.gr(GrMsg::Defer {
        peers: vec![1],
        max: Duration::from_secs(300),
    })
    .await;
    let _one = h.graceful_up(1, vec![V4]).await;
    let mut two = h.up(2).await;
    h.send(1, vec![announce(1, &[A])]).await;
    two.drain(Duration::from_millis(300)).await;
    assert!(
        two.updates.is_empty(),
        "sent during deferral: {:?}",
        two.updates
    );
    h.send(1, vec![Update::end_of_rib_marker(V4)]).await;
    two.drain(Duration::from_millis(300)).await;
    assert!(two.got(A));
    assert!(two.updates.iter().any(|u| u.end_of_rib() == Some(V4)));
}

#[tokio::test(start_paused = true)]
async fn selection_deferral_ends_with_its_timer() {
    let h = H::new();
    h.gr(GrMsg::Defer {
        peers: vec![1, 3],
        max: Duration::from_secs(60),
    })
    .await;
    let mut two = h.up(2).await;
    two.drain(Duration::from_secs(30)).await;
    assert!(two.updates.is_empty());
    two.drain(Duration::from_secs(40)).await;
    assert!(
        two.updates.iter().any(|u| u.end_of_rib() == Some(V4)),
        "no End-of-RIB after the deferral timer"
    );
}

fn update(path: &[u32], communities: &[Community], prefix: &str) -> Update {
    let mut attrs = PathAttributes::new()
        .with(AttrValue::Origin(Origin::Igp))
        .with(AttrValue::AsPath(AsPath::from_sequence(
            path.iter().copied(),
        )))
        .with(AttrValue::NextHop(Ipv4Addr::new(192, 0, 2, 50)));
    if !communities.is_empty() {
        attrs = attrs.with(AttrValue::Communities(Communities::new(
            communities.iter().copied(),
        )));
    }
    Update::announce(
        attrs,
        vec![Nlri {
            path_id: None,
            prefix: prefix.parse().unwrap(),
        }],
    )
}

fn last_for<'a>(rx: &'a Rx, prefix: &str) -> Option<&'a Update> {
    let p: IpNet = prefix.parse().unwrap();
    rx.updates
        .iter()
        .rev()
        .find(|u| u.nlri.iter().any(|n| n.prefix == p) || u.withdrawn.iter().any(|n| n.prefix == p))
}

const C: &str = "192.0.2.0/24";

#[tokio::test(start_paused = true)]
async fn long_lived_stale_routes_are_least_preferred_marked_and_only_sent_to_llgr_peers() {
    let h = H::new();
    let _one = h.up(1).await;
    let mut two = h.up(2).await; // announced LLGR
    let mut three = h.up(3).await; // did not
    let _four = h.up(4).await;
    h.send(
        1,
        vec![
            update(&[65001], &[], A),
            update(&[65001], &[Community::NO_LLGR], B),
            update(&[65001], &[], C),
        ],
    )
    .await;
    h.send(4, vec![update(&[65004, 64512, 64513], &[], C)])
        .await;
    two.drain(Duration::from_millis(100)).await;
    three.drain(Duration::from_millis(100)).await;
    h.gr(GrMsg::PeerDown {
        peer: 1,
        families: vec![V4],
        restart_time: Duration::from_secs(10),
        stale_time: Duration::from_secs(300),
        llgr: vec![(V4, Duration::from_secs(100))],
    })
    .await;
    two.drain(Duration::from_secs(5)).await;
    assert!(
        !two.withdrew(A) && !two.withdrew(B),
        "withdrawn within the restart time"
    );
    two.drain(Duration::from_secs(10)).await;
    three.drain(Duration::from_millis(100)).await;

    // Past the restart time: A kept with LLGR_STALE, only towards the LLGR peer.
    let a = last_for(&two, A).expect("A at the LLGR peer");
    assert!(
        a.attributes
            .communities()
            .is_some_and(|c| c.contains(Community::LLGR_STALE)),
        "A not marked LLGR_STALE: {a:?}"
    );
    assert!(
        three.withdrew(A),
        "LLGR_STALE route sent to a peer without LLGR"
    );
    // NO_LLGR: gone.
    assert!(two.withdrew(B) && three.withdrew(B));
    // C: the longer path of peer 4 now wins over the long-lived stale one.
    let c = last_for(&two, C).expect("C");
    assert_eq!(
        c.attributes.as_path().unwrap().to_string(),
        "65000 65004 64512 64513"
    );
    assert_eq!(
        h.best().await,
        vec![(C.to_string(), false), (A.to_string(), true)]
    );

    // Past the long-lived stale time: A goes too.
    two.drain(Duration::from_secs(100)).await;
    assert!(two.withdrew(A));
}

#[tokio::test]
async fn a_peer_that_restarted_too_is_not_waited_for() {
    let h = H::new();
    h.gr(GrMsg::Defer {
        peers: vec![1],
        max: Duration::from_secs(300),
    })
    .await;
    let _one = h.up(1).await;
    h.gr(GrMsg::PeerUp {
        peer: 1,
        preserved: vec![V4],
        graceful: true,
        peer_restarted: true,
        families: vec![V4],
    })
    .await;
    let mut two = h.up(2).await;
    two.drain(Duration::from_millis(300)).await;
    assert!(
        two.updates.iter().any(|u| u.end_of_rib() == Some(V4)),
        "deferral waited for a peer that restarted too (both would wait forever)"
    );
}

#[tokio::test]
async fn watchers_see_routes_turn_stale_and_fresh_again() {
    let h = H::new();
    let mut watch = h.events.subscribe();
    let _one = h.up(1).await;
    h.send(1, vec![announce(1, &[A])]).await;
    // (prefix, best is stale) of the next batch that names A.
    let mut next_a = async || loop {
        let batch = tokio::time::timeout(Duration::from_secs(5), watch.recv())
            .await
            .expect("an event batch")
            .expect("watch open");
        if let Some(c) = batch.iter().find(|c| c.prefix.to_string() == A) {
            return c.best.as_ref().map(|b| b.stale);
        }
    };
    assert_eq!(next_a().await, Some(false));
    h.graceful_down(1, Duration::from_secs(60)).await;
    assert_eq!(next_a().await, Some(true), "no event for the stale mark");
    let _one = h.graceful_up(1, vec![V4]).await;
    // The same route again: the best path does not change, but it is fresh.
    h.send(1, vec![announce(1, &[A])]).await;
    assert_eq!(next_a().await, Some(false), "no event when fresh again");
}
