//! Per-neighbour session rules against real routers, in the `containerlab/session-rules/`
//! lab: bgpd (AS 65000) between BIRD (AS 65001) and FRR (AS 65002).
//!
//! - allowas-in: BIRD's route with 65000 in its AS_PATH is taken and reaches FRR.
//! - local-as 65100 towards FRR: FRR (configured with remote-as 65100) establishes, sees
//!   65100 first in the AS_PATH, and BIRD sees 65100 prepended to FRR's routes.
//! - remove-private-as "all" towards FRR: only the public AS 174 is left of BIRD's path.
//! - BGP role provider (strict) towards FRR's customer: OTC 65100 on what FRR receives;
//!   changing our role to "peer" gets the session refused with Role Mismatch.
//! - ADD-PATH both ways with FRR: FRR holds two paths from bgpd for one prefix, and bgpd
//!   keeps FRR's path with FRR's path id.
//! - max-prefix on the IPv6 session with BIRD: 5 prefixes against a limit of 3 close the
//!   session with Cease / Maximum Number of Prefixes Reached, and it comes back after 3 s.
//!
//! Needs root and BIRD, FRR and GoBGP installed (else it prints why it skips). The lab is
//! torn down at the end, also on failure.

// Shared with the interop tests; this one uses only some of the helpers.
#[allow(dead_code)]
mod common;

use std::path::Path;
use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use common::{eventually, lab, log_lines, skip_reason};
use petrel_lab::Lab;
use serde_json::Value;
use tonic::transport::{Channel, Endpoint};

const CONVERGE: Duration = Duration::from_secs(30);

/// Runs `f` with a client of bgpd's API in the lab.
fn api<T>(lab: &Lab, f: impl AsyncFnOnce(&mut BgpdClient<Channel>) -> T) -> T {
    let socket = lab.bgpd_socket("bgpd").expect("bgpd's API socket");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let mut client = BgpdClient::new(channel(&socket).await);
        tokio::time::timeout(Duration::from_secs(20), f(&mut client))
            .await
            .expect("API call within 20 s")
    })
}

async fn channel(path: &Path) -> Channel {
    let path = path.to_path_buf();
    Endpoint::try_from("http://[::]:50051")
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_| {
            let p = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(p).await?,
                ))
            }
        }))
        .await
        .expect("connects to bgpd's API socket")
}

fn get_peer(lab: &Lab, address: &str) -> pb::Peer {
    api(lab, async |c| {
        c.get_peer(pb::GetPeerRequest {
            address: address.into(),
        })
        .await
        .expect("GetPeer")
        .into_inner()
        .peer
        .expect("peer")
    })
}

/// `ListPaths` of one prefix in a peer's table.
fn list(lab: &Lab, table: pb::Table, peer: &str, prefix: &str) -> Vec<pb::Path> {
    api(lab, async |c| {
        let mut stream = c
            .list_paths(pb::ListPathsRequest {
                table: table as i32,
                peer: peer.into(),
                prefix: prefix.into(),
                ..pb::ListPathsRequest::default()
            })
            .await
            .expect("ListPaths")
            .into_inner();
        let mut paths = Vec::new();
        while let Some(chunk) = stream.message().await.expect("ListPaths stream") {
            paths.extend(chunk.paths);
        }
        paths
    })
}

fn frr_json(lab: &Lab, command: &str) -> Result<Value, String> {
    let out = lab.vtysh("frr", command).map_err(|e| e.to_string())?;
    serde_json::from_str(&out).map_err(|e| format!("{command}: {e}: {out}"))
}

fn frr_established(lab: &Lab) -> Result<(), String> {
    let v = frr_json(lab, "show bgp neighbors 10.0.2.1 json")?;
    let state = v["10.0.2.1"]["bgpState"].as_str().unwrap_or_default();
    if state == "Established" {
        Ok(())
    } else {
        Err(format!("FRR's session with bgpd is {state:?}"))
    }
}

/// The AS_PATH strings and OTC values of FRR's paths for `prefix` from bgpd.
fn frr_paths(lab: &Lab, prefix: &str) -> Result<Vec<(String, Option<u64>)>, String> {
    let v = frr_json(lab, &format!("show bgp ipv4 unicast {prefix} json"))?;
    let paths = v["paths"].as_array().cloned().unwrap_or_default();
    Ok(paths
        .iter()
        .filter(|p| p["peer"]["peerId"] == "10.0.2.1")
        .map(|p| {
            (
                p["aspath"]["string"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                p["otc"].as_u64(),
            )
        })
        .collect())
}

fn bird_route(lab: &Lab, prefix: &str) -> Result<String, String> {
    lab.birdc("bird", &format!("show route {prefix} all"))
        .map_err(|e| e.to_string())
}

#[test]
fn session_rules_against_bird_and_frr() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping session-rules test: {reason}");
        return;
    }
    let lab = lab("session-rules/session-rules.clab.yml");

    // local-as: FRR expects AS 65100 in our OPEN, or it would refuse the session.
    eventually(
        &lab,
        CONVERGE,
        "FRR established with local-as 65100",
        || frr_established(&lab),
    );

    // ADD-PATH send, local-as, remove-private-as and OTC, seen from FRR: two paths for
    // 10.1.2.0/24 (ours and BIRD's), 65100 first, private ASes gone, OTC our local-as.
    eventually(&lab, CONVERGE, "two paths for 10.1.2.0/24 at FRR", || {
        let mut paths = frr_paths(&lab, "10.1.2.0/24")?;
        paths.sort();
        let want = vec![
            ("65100 65000".to_owned(), Some(65100)),
            ("65100 65000 174".to_owned(), Some(65100)),
        ];
        if paths == want {
            Ok(())
        } else {
            Err(format!("FRR holds {paths:?}; expected {want:?}"))
        }
    });

    // allowas-in: BIRD's route whose path holds 65000 was taken and passed on.
    eventually(&lab, CONVERGE, "10.1.1.0/24 (allowas-in) at FRR", || {
        let paths = frr_paths(&lab, "10.1.1.0/24")?;
        if paths.iter().any(|(p, _)| p == "65100 65000") {
            Ok(())
        } else {
            Err(format!("FRR holds {paths:?} for 10.1.1.0/24"))
        }
    });

    // local-as on import: FRR's route reaches BIRD with 65100 between us and FRR.
    eventually(&lab, CONVERGE, "FRR's route at BIRD via local-as", || {
        let out = bird_route(&lab, "10.2.1.0/24")?;
        if out.contains("BGP.as_path: 65000 65100 65002") {
            Ok(())
        } else {
            Err(format!("BIRD shows:\n{out}"))
        }
    });

    // ADD-PATH receive and the role, seen through bgpd's API.
    let frr = get_peer(&lab, "10.0.2.2");
    let status = frr.status.expect("status");
    assert_eq!(status.peer_role, "customer");
    let v4 = pb::Family::Ipv4Unicast as i32;
    assert_eq!(status.add_path_send, [v4]);
    assert_eq!(status.add_path_receive, [v4]);
    let adj_in = list(&lab, pb::Table::AdjIn, "10.0.2.2", "10.2.1.0/24");
    assert_eq!(adj_in.len(), 1, "{adj_in:?}");
    assert_ne!(adj_in[0].path_id, 0, "FRR's path id is kept: {adj_in:?}");
    // What FRR was sent: both paths of 10.1.2.0/24, each under its own path id.
    let adj_out = list(&lab, pb::Table::AdjOut, "10.0.2.2", "10.1.2.0/24");
    let mut ids: Vec<u32> = adj_out.iter().map(|p| p.path_id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2], "{adj_out:?}");

    // max-prefix: BIRD's IPv6 session sends 5 prefixes against a limit of 3. BIRD is told
    // why, and the session comes back after 3 s only to be closed again.
    eventually(&lab, CONVERGE, "BIRD told of the prefix limit", || {
        let out = lab
            .birdc("bird", "show protocols all petrel_v6")
            .map_err(|e| e.to_string())?;
        if out.contains("Maximum number of prefixes reached") {
            Ok(())
        } else {
            Err(format!("BIRD shows:\n{out}"))
        }
    });
    eventually(
        &lab,
        CONVERGE,
        "a second teardown after the restart",
        || {
            let lines = log_lines(&lab, "bgpd", &["prefix limit exceeded"]);
            if lines.len() >= 2 {
                Ok(())
            } else {
                Err(format!("bgpd logged {lines:?}"))
            }
        },
    );
    let bird6 = get_peer(&lab, "fd00:1::2");
    let limits = bird6.status.expect("status").prefix_limits;
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert_eq!(limits[0].limit, 3);
    assert!(limits[0].teardowns >= 2, "{limits:?}");
    // The IPv4 session with BIRD is not affected by the IPv6 one's limit.
    let out = bird_route(&lab, "10.2.1.0/24").expect("birdc");
    assert!(out.contains("10.2.1.0/24"), "{out}");

    // Role mismatch: as FRR's "peer" instead of its provider, the session is refused.
    let mut config = frr.config.expect("config");
    config.role = "peer".into();
    api(&lab, async |c| {
        c.update_peer(pb::UpdatePeerRequest { peer: Some(config) })
            .await
            .expect("UpdatePeer")
    });
    eventually(&lab, CONVERGE, "Role Mismatch sent to FRR", || {
        let lines = log_lines(&lab, "bgpd", &["role mismatch"]);
        if lines.is_empty() {
            Err("no Role Mismatch in bgpd's log yet".into())
        } else {
            Ok(())
        }
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        frr_established(&lab).is_err(),
        "FRR must not be established"
    );
    lab.down().expect("lab down");
}
