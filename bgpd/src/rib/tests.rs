//! The RIB task driven through its channels, with no sockets: what each peer receives.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use bgp_proto::attr::{AsPath, AttrValue, Communities, Community, Origin};
use bgp_proto::{DecodeCtx, EncodeCtx, Family, Message, Nlri, PathAttributes, Update};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::*;

const LOCAL_AS: u32 = 65000;

pub(crate) fn opts() -> RibOptions {
    RibOptions {
        local: LocalIdentity {
            asn: LOCAL_AS,
            router_id: Ipv4Addr::new(10, 0, 0, 1),
            cluster_id: Ipv4Addr::new(10, 0, 0, 1),
        },
        decision: bestpath::Options::default(),
        multipath: true,
    }
}

pub(crate) fn peer(id: PeerId, asn: u32, rr_client: bool) -> PeerInfo {
    PeerInfo {
        id,
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, u8::try_from(id).unwrap())),
        local_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
        asn,
        router_id: Ipv4Addr::new(10, 0, 0, u8::try_from(id + 1).unwrap()),
        ibgp: asn == LOCAL_AS,
        rr_client,
        families: vec![Family::IPV4_UNICAST],
        encode: EncodeCtx::modern(),
        llgr: false,
        rules: Arc::default(),
        peer_cmds: None,
        route_server_client: false,
        soft_in: false,
    }
}

pub(crate) fn announce(prefixes: &[&str], path: &[u32], extra: &[AttrValue]) -> Update {
    let mut attrs = PathAttributes::new()
        .with(AttrValue::Origin(Origin::Igp))
        .with(AttrValue::AsPath(AsPath::from_sequence(
            path.iter().copied(),
        )))
        .with(AttrValue::NextHop(Ipv4Addr::new(192, 0, 2, 50)));
    for a in extra {
        attrs = attrs.with(a.clone());
    }
    let nlri = prefixes
        .iter()
        .map(|p| Nlri {
            path_id: None,
            prefix: p.parse().unwrap(),
        })
        .collect();
    Update::announce(attrs, nlri)
}

pub(crate) fn withdraw(prefixes: &[&str]) -> Update {
    Update {
        withdrawn: prefixes
            .iter()
            .map(|p| Nlri {
                path_id: None,
                prefix: p.parse().unwrap(),
            })
            .collect(),
        ..Update::default()
    }
}

pub(crate) struct Harness {
    pub(crate) tx: mpsc::Sender<RibMsg>,
}

/// What one peer has received so far, decoded.
pub(crate) struct Inbox {
    pub(crate) rx: mpsc::Receiver<Bytes>,
    pub(crate) updates: Vec<Update>,
}

impl Inbox {
    /// Reads chunks until `done` holds for the updates received (at most 5 s).
    pub(crate) async fn until(&mut self, what: &str, done: impl Fn(&[Update]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !done(&self.updates) {
            let chunk = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; got {:?}", self.updates))
                .expect("channel open");
            let ctx = DecodeCtx::modern();
            let mut rest = &chunk[..];
            while !rest.is_empty() {
                let len = bgp_proto::frame_len(rest).unwrap();
                match Message::decode(&rest[..len], &ctx).unwrap() {
                    Message::Update(u) => self.updates.push(u),
                    other => panic!("unexpected {other:?}"),
                }
                rest = &rest[len..];
            }
        }
    }

    pub(crate) fn announced(&self, prefix: &str) -> Option<&Update> {
        let p: IpNet = prefix.parse().unwrap();
        self.updates
            .iter()
            .rev()
            .find(|u| {
                u.nlri.iter().any(|n| n.prefix == p) || u.withdrawn.iter().any(|n| n.prefix == p)
            })
            .filter(|u| u.nlri.iter().any(|n| n.prefix == p))
    }

    pub(crate) fn withdrawn(&self, prefix: &str) -> bool {
        let p: IpNet = prefix.parse().unwrap();
        self.updates
            .iter()
            .rev()
            .find(|u| {
                u.nlri.iter().any(|n| n.prefix == p) || u.withdrawn.iter().any(|n| n.prefix == p)
            })
            .is_some_and(|u| u.withdrawn.iter().any(|n| n.prefix == p))
    }
}

pub(crate) fn saw_eor(updates: &[Update]) -> bool {
    updates
        .iter()
        .any(|u| u.end_of_rib() == Some(Family::IPV4_UNICAST))
}

impl Harness {
    pub(crate) fn new() -> Self {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(Rib::new(opts()).run(rx));
        Harness { tx }
    }

    pub(crate) async fn up(&self, info: PeerInfo, capacity: usize) -> Inbox {
        let (out, rx) = mpsc::channel(capacity);
        self.tx.send(RibMsg::PeerUp { info, out }).await.unwrap();
        Inbox {
            rx,
            updates: Vec::new(),
        }
    }

    pub(crate) async fn send(&self, peer: PeerId, u: Update) {
        self.tx
            .send(RibMsg::Updates {
                peer,
                updates: vec![u],
            })
            .await
            .unwrap();
    }

    pub(crate) async fn dump(&self) -> Vec<BestRoute> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(RibMsg::Dump(tx)).await.unwrap();
        rx.await.unwrap()
    }
}

#[tokio::test]
async fn ebgp_routes_go_to_other_peers_with_our_as_prepended_and_end_of_rib() {
    let h = Harness::new();
    let _a = h.up(peer(1, 65001, false), 8).await;
    let mut b = h.up(peer(2, 65002, false), 8).await;
    b.until("End-of-RIB", saw_eor).await;
    h.send(
        1,
        announce(&["198.51.100.0/24"], &[65001], &[AttrValue::LocalPref(300)]),
    )
    .await;
    b.until("the route", |u| b_has(u, "198.51.100.0/24")).await;
    let u = b.announced("198.51.100.0/24").unwrap();
    assert_eq!(u.attributes.as_path().unwrap().to_string(), "65000 65001");
    assert_eq!(
        u.attributes.next_hop(),
        Some(Ipv4Addr::new(192, 0, 2, 100)),
        "next hop self"
    );
    assert_eq!(u.attributes.local_pref(), None, "no LOCAL_PREF to eBGP");
}

pub(crate) fn b_has(updates: &[Update], prefix: &str) -> bool {
    let p: IpNet = prefix.parse().unwrap();
    updates.iter().any(|u| u.nlri.iter().any(|n| n.prefix == p))
}

pub(crate) fn b_withdrew(updates: &[Update], prefix: &str) -> bool {
    let p: IpNet = prefix.parse().unwrap();
    updates
        .iter()
        .any(|u| u.withdrawn.iter().any(|n| n.prefix == p))
}

#[tokio::test]
async fn a_better_path_replaces_and_a_lost_peer_falls_back_then_withdraws() {
    let h = Harness::new();
    let _a = h.up(peer(1, 65001, false), 8).await;
    let _b = h.up(peer(2, 65002, false), 8).await;
    let mut c = h.up(peer(3, 65003, false), 8).await;
    h.send(
        1,
        announce(&["203.0.113.0/24"], &[65001, 64512, 64513], &[]),
    )
    .await;
    c.until("first path", |u| b_has(u, "203.0.113.0/24")).await;
    // A shorter AS_PATH from B becomes best: C gets a replacement.
    h.send(2, announce(&["203.0.113.0/24"], &[65002], &[]))
        .await;
    c.until("replacement", |u| {
        u.iter()
            .rev()
            .find(|u| b_has(std::slice::from_ref(*u), "203.0.113.0/24"))
            .is_some_and(|u| u.attributes.as_path().unwrap().to_string() == "65000 65002")
    })
    .await;
    // B goes down: back to A's path.
    h.tx.send(RibMsg::PeerDown { peer: 2 }).await.unwrap();
    c.until("fallback", |u| {
        u.iter()
            .rev()
            .find(|u| b_has(std::slice::from_ref(*u), "203.0.113.0/24"))
            .is_some_and(|u| {
                u.attributes.as_path().unwrap().to_string() == "65000 65001 64512 64513"
            })
    })
    .await;
    // A withdraws: C gets a withdrawal and the Loc-RIB is empty.
    h.send(1, withdraw(&["203.0.113.0/24"])).await;
    c.until("withdrawal", |u| b_withdrew(u, "203.0.113.0/24"))
        .await;
    assert!(c.withdrawn("203.0.113.0/24"));
    assert!(h.dump().await.is_empty());
}

#[tokio::test]
async fn implicit_withdraw_with_new_attributes_is_propagated() {
    let h = Harness::new();
    let _a = h.up(peer(1, 65001, false), 8).await;
    let mut b = h.up(peer(2, 65002, false), 8).await;
    h.send(1, announce(&["192.0.2.0/25"], &[65001], &[])).await;
    b.until("route", |u| b_has(u, "192.0.2.0/25")).await;
    let c = Communities::new([Community::new(65001, 42)]);
    h.send(
        1,
        announce(&["192.0.2.0/25"], &[65001], &[AttrValue::Communities(c)]),
    )
    .await;
    b.until("updated route", |u| {
        u.iter()
            .rev()
            .find(|u| b_has(std::slice::from_ref(*u), "192.0.2.0/25"))
            .is_some_and(|u| u.attributes.communities().is_some())
    })
    .await;
}

#[tokio::test]
async fn ibgp_routes_are_reflected_only_by_a_route_reflector_with_originator_and_cluster() {
    let h = Harness::new();
    let _client = h.up(peer(1, LOCAL_AS, true), 8).await;
    let mut nonclient = h.up(peer(2, LOCAL_AS, false), 8).await;
    let mut other_nonclient = h.up(peer(3, LOCAL_AS, false), 8).await;
    let mut ebgp = h.up(peer(4, 65004, false), 8).await;
    // From a client: reflected to the non-client with ORIGINATOR_ID and CLUSTER_LIST.
    h.send(
        1,
        announce(&["10.1.0.0/16"], &[], &[AttrValue::LocalPref(120)]),
    )
    .await;
    nonclient
        .until("reflected route", |u| b_has(u, "10.1.0.0/16"))
        .await;
    let u = nonclient.announced("10.1.0.0/16").unwrap();
    assert_eq!(
        u.attributes.originator_id(),
        Some(Ipv4Addr::new(10, 0, 0, 2))
    );
    let clusters: Vec<Ipv4Addr> = u.attributes.cluster_list().unwrap().iter().collect();
    assert_eq!(clusters, vec![Ipv4Addr::new(10, 0, 0, 1)]);
    assert_eq!(u.attributes.local_pref(), Some(120));
    assert_eq!(
        u.attributes.next_hop(),
        Some(Ipv4Addr::new(192, 0, 2, 50)),
        "next hop unchanged"
    );
    // From a non-client: not to the other non-client (only clients would get it).
    h.send(2, announce(&["10.2.0.0/16"], &[], &[])).await;
    ebgp.until("non-client route at eBGP peer", |u| b_has(u, "10.2.0.0/16"))
        .await;
    // A route from the client is reflected to every non-client, queued after 10.2/16 would
    // have been: once it arrives, 10.2/16 must not have.
    h.send(1, announce(&["10.3.0.0/16"], &[], &[])).await;
    other_nonclient
        .until("the marker route", |u| b_has(u, "10.3.0.0/16"))
        .await;
    assert!(
        !b_has(&other_nonclient.updates, "10.2.0.0/16"),
        "a non-client got an iBGP route from another non-client"
    );
}

#[tokio::test]
async fn no_export_stays_inside_the_as() {
    let h = Harness::new();
    let _a = h.up(peer(1, 65001, false), 8).await;
    let mut ibgp = h.up(peer(2, LOCAL_AS, false), 8).await;
    let mut ebgp = h.up(peer(3, 65003, false), 8).await;
    let c = Communities::new([Community::NO_EXPORT]);
    h.send(
        1,
        announce(&["100.64.0.0/10"], &[65001], &[AttrValue::Communities(c)]),
    )
    .await;
    h.send(1, announce(&["100.65.0.0/16"], &[65001], &[])).await;
    ibgp.until("NO_EXPORT route over iBGP", |u| b_has(u, "100.64.0.0/10"))
        .await;
    ebgp.until("the plain route", |u| b_has(u, "100.65.0.0/16"))
        .await;
    assert!(
        !b_has(&ebgp.updates, "100.64.0.0/10"),
        "NO_EXPORT route leaked to eBGP"
    );
}

#[tokio::test]
async fn a_peer_that_never_reads_does_not_stall_the_rib_or_other_peers() {
    let h = Harness::new();
    let _src = h.up(peer(1, 65001, false), 8).await;
    // Capacity 1 and never read.
    let _stuck = h.up(peer(2, 65002, false), 1).await;
    let mut fast = h.up(peer(3, 65003, false), 64).await;
    for batch in 0..20u32 {
        let prefixes: Vec<String> = (0..1000u32)
            .map(|i| {
                let n = batch * 1000 + i;
                format!("10.{}.{}.0/24", n / 256, n % 256)
            })
            .collect();
        let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
        h.send(1, announce(&refs, &[65001, batch + 1], &[])).await;
    }
    // Every prefix reaches the reading peer while the other one is stuck.
    fast.until("20,000 prefixes", |u| {
        u.iter().map(|u| u.nlri.len()).sum::<usize>() >= 20_000
    })
    .await;
    let dump = tokio::time::timeout(Duration::from_secs(5), h.dump())
        .await
        .expect("RIB answers");
    assert_eq!(dump.len(), 20_000);
}
