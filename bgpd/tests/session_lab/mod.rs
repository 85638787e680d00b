//! Helpers of the tests on the session lab (`containerlab/session/`): bgpd with BIRD and
//! FRR over IPv4, TCP MD5 with both, GTSM with FRR, graceful restart everywhere. bgpd is
//! read through its API on the lab's unix socket; the peers through their own CLIs.

use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use petrel_lab::Lab;
use tokio_stream::StreamExt;

use crate::api_common::{Client, connect};
use crate::common::{Kind, Peer};

pub(crate) const BIRD: Peer = Peer {
    node: "bird",
    kind: Kind::Bird,
    asn: 65001,
    v4: "10.0.1.2",
    v6: "",
    bgpd_v4: "10.0.1.1",
    bgpd_v6: "",
};

pub(crate) const FRR: Peer = Peer {
    node: "frr",
    kind: Kind::Frr,
    asn: 65002,
    v4: "10.0.2.2",
    v6: "",
    bgpd_v4: "10.0.2.1",
    bgpd_v6: "",
};

/// bgpd's own route.
pub(crate) const OURS: &str = "10.100.0.0/24";
/// How long sessions may take to come up (BIRD waits up to 5 s after an error).
pub(crate) const CONVERGE: Duration = Duration::from_secs(40);

/// A runtime for the API calls of a synchronous lab test.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// An API client of the lab's bgpd.
pub(crate) fn client(rt: &tokio::runtime::Runtime, lab: &Lab) -> Client {
    let socket = lab.bgpd_socket("bgpd").expect("bgpd socket");
    rt.block_on(connect(&socket))
}

/// The status of bgpd's session with `peer`.
pub(crate) fn status(
    rt: &tokio::runtime::Runtime,
    api: &mut Client,
    peer: &Peer,
) -> pb::PeerStatus {
    rt.block_on(async {
        api.get_peer(pb::GetPeerRequest {
            address: peer.v4.into(),
        })
        .await
        .unwrap_or_else(|s| panic!("GetPeer {}: {s}", peer.v4))
        .into_inner()
        .peer
        .and_then(|p| p.status)
        .expect("status")
    })
}

/// Whether bgpd's session with `peer` is Established.
pub(crate) fn established(rt: &tokio::runtime::Runtime, api: &mut Client, peer: &Peer) -> bool {
    status(rt, api, peer).state == pb::SessionState::Established as i32
}

/// bgpd's Loc-RIB best paths: prefix -> (source peer, stale).
pub(crate) fn best_paths(
    rt: &tokio::runtime::Runtime,
    api: &mut Client,
) -> Vec<(String, String, bool)> {
    rt.block_on(async {
        let mut stream = api
            .list_paths(pb::ListPathsRequest::default())
            .await
            .unwrap_or_else(|s| panic!("ListPaths: {s}"))
            .into_inner();
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            for p in chunk.expect("ListPaths chunk").paths {
                out.push((p.prefix, p.source_peer, p.stale));
            }
        }
        out.sort();
        out
    })
}

/// The prefixes of bgpd's best paths from `source` that carry LLGR_STALE (RFC 9494).
pub(crate) fn llgr_stale_from(
    rt: &tokio::runtime::Runtime,
    api: &mut Client,
    source: &str,
) -> Vec<String> {
    const LLGR_STALE: u32 = 0xFFFF_0006;
    rt.block_on(async {
        let mut stream = api
            .list_paths(pb::ListPathsRequest::default())
            .await
            .unwrap_or_else(|s| panic!("ListPaths: {s}"))
            .into_inner();
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            for p in chunk.expect("ListPaths chunk").paths {
                if p.source_peer == source && p.communities.contains(&LLGR_STALE) {
                    out.push(p.prefix);
                }
            }
        }
        out.sort();
        out
    })
}

/// Replaces bgpd's settings of `peer` through the API, changed by `change`.
pub(crate) fn update_peer(
    rt: &tokio::runtime::Runtime,
    api: &mut Client,
    peer: &Peer,
    change: impl FnOnce(&mut pb::PeerConfig),
) {
    rt.block_on(async {
        let mut config = api
            .get_peer(pb::GetPeerRequest {
                address: peer.v4.into(),
            })
            .await
            .unwrap_or_else(|s| panic!("GetPeer: {s}"))
            .into_inner()
            .peer
            .and_then(|p| p.config)
            .expect("config");
        change(&mut config);
        api.update_peer(pb::UpdatePeerRequest { peer: Some(config) })
            .await
            .unwrap_or_else(|s| panic!("UpdatePeer {}: {s}", peer.v4));
    });
}
