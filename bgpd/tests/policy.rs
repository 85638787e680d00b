//! Policy with real routers: bgpd in network namespaces (`containerlab/policy/`, built by
//! `petrel-lab`) with BIRD and FRR neighbours.
//!
//! - Import and export policies, assigned and changed at runtime through a reload and
//!   through the API, change what bgpd keeps and what FRR receives, and no session is
//!   reset: the sessions' uptime keeps counting and no second OPEN is sent.
//! - Route-server mode (RFC 7947): BIRD and FRR as clients each get their own best path
//!   after their own export policy, with bgpd's AS absent and next hop and MED unchanged.
//!
//! They need root and the `bird2` and `frr` packages; without them each test prints why it
//! skips. Every lab is torn down when its test ends, also on failure.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod api_common;
#[allow(dead_code)]
mod common;

use std::path::Path;
use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use common::{Kind, Peer, Want, eventually, has_routes, lacks_routes, skip_reason};
use petrel_lab::{Lab, LabOptions};

const CONVERGE: Duration = Duration::from_secs(30);

const BIRD: Peer = Peer {
    node: "bird",
    kind: Kind::Bird,
    asn: 65001,
    v4: "10.0.1.2",
    v6: "",
    bgpd_v4: "10.0.1.1",
    bgpd_v6: "",
};
const FRR: Peer = Peer {
    node: "frr",
    kind: Kind::Frr,
    asn: 65002,
    v4: "10.0.2.2",
    v6: "",
    bgpd_v4: "10.0.2.1",
    bgpd_v6: "",
};

/// A copy of the policy lab's directory with `bgpd.toml` replaced if `bgpd` is given, and
/// the lab built from it (so that tests can rewrite the file bgpd reloads).
fn start(bgpd: Option<&str>) -> Option<(tempfile::TempDir, Lab)> {
    start_with(bgpd, None)
}

/// [`start`], with one text of `bird.conf` replaced: `(from, to)`.
fn start_with(bgpd: Option<&str>, bird: Option<(&str, &str)>) -> Option<(tempfile::TempDir, Lab)> {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping policy lab test: {reason}");
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../containerlab/policy");
    let dir = tempfile::tempdir().unwrap();
    for f in ["policy.clab.yml", "bgpd.toml", "bird.conf", "frr.conf"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    if let Some(text) = bgpd {
        std::fs::write(dir.path().join("bgpd.toml"), text).unwrap();
    }
    if let Some((from, to)) = bird {
        let path = dir.path().join("bird.conf");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from:?} not in bird.conf");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    let mut options = LabOptions::default();
    options.bgpd = Some(env!("CARGO_BIN_EXE_bgpd").into());
    let lab = Lab::up(dir.path().join("policy.clab.yml"), options)
        .unwrap_or_else(|e| panic!("policy lab: {e}"));
    Some((dir, lab))
}

/// bgpd's view of its two sessions: (address, uptime seconds, OPENs sent).
async fn sessions(api: &mut api_common::Client) -> Vec<(String, u64, u64)> {
    let peers = api
        .list_peers(pb::ListPeersRequest {})
        .await
        .unwrap()
        .into_inner()
        .peers;
    peers
        .iter()
        .map(|p| {
            let s = p.status.as_ref().unwrap();
            let open = s.sent.as_ref().map_or(0, |c| c.open);
            let up = s.state == pb::SessionState::Established as i32;
            (
                p.config.as_ref().unwrap().address.clone(),
                if up { s.uptime_seconds } else { 0 },
                open,
            )
        })
        .collect()
}

/// Checks that both sessions are the ones seen in `before` (no new OPEN) and have been up
/// at least `since` longer.
async fn same_sessions(api: &mut api_common::Client, before: &[(String, u64, u64)], since: u64) {
    let now = sessions(api).await;
    for (b, n) in before.iter().zip(&now) {
        assert_eq!(b.0, n.0);
        assert_eq!(
            n.2, b.2,
            "{}: a new OPEN was sent, so the session was reset",
            n.0
        );
        assert!(
            n.1 >= b.1 + since,
            "{}: uptime {} s, was {} s {since} s ago: the session was reset",
            n.0,
            n.1,
            b.1
        );
    }
}

fn reload_file(dir: &Path, from: &str, to: &str) {
    let path = dir.join("bgpd.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from:?} not in bgpd.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn policies_changed_by_reload_and_api_apply_without_a_reset() {
    let Some((dir, lab)) = start(None) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut api = rt.block_on(api_common::connect(&lab.bgpd_socket("bgpd").unwrap()));
    let bird_routes = |at: &Peer| {
        vec![
            Want::new("10.1.1.0/24", "65000 65001", at.bgpd_v4),
            Want::new("10.1.2.0/24", "65000 65001", at.bgpd_v4),
        ]
    };
    eventually(&lab, CONVERGE, "FRR has BIRD's routes through bgpd", || {
        has_routes(&lab, &FRR, &bird_routes(&FRR))
    });
    // The file names the API socket the lab gave bgpd, so that a reload keeps it.
    let socket = lab.bgpd_socket("bgpd").unwrap();
    let path = dir.path().join("bgpd.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!(
            "{text}\n[api]\nsocket = {:?}\n",
            socket.display().to_string()
        ),
    )
    .unwrap();
    let before = rt.block_on(sessions(&mut api));
    assert!(before.iter().all(|s| s.1 > 0 || s.2 > 0), "{before:?}");
    let started = std::time::Instant::now();

    // 1. Reload: BIRD's import chain now drops 10.1.2.0/24. BIRD supports route refresh,
    //    so bgpd asks it to send its routes again and applies the new chain to them.
    reload_file(
        dir.path(),
        "description = \"BIRD\"",
        "description = \"BIRD\"\nimport_policy = [\"drop-bird-2\"]",
    );
    let report = rt
        .block_on(api.reload(pb::ReloadRequest {}))
        .unwrap()
        .into_inner();
    assert!(report.peers_reset.is_empty(), "{report:?}");
    assert!(
        report
            .policy
            .iter()
            .any(|e| e.address == "10.0.1.2" && e.action == "route-refresh"),
        "{report:?}"
    );
    eventually(
        &lab,
        CONVERGE,
        "FRR loses 10.1.2.0/24 (BIRD's import policy)",
        || {
            lacks_routes(&lab, &FRR, &["10.1.2.0/24"])?;
            has_routes(&lab, &FRR, &bird_routes(&FRR)[..1])
        },
    );

    // 2. API: a prefix set and a policy that prepends twice and tags, assigned to FRR's
    //    export chain.
    rt.block_on(api.add_defined_set(pb::AddDefinedSetRequest {
        set: Some(pb::DefinedSet {
            kind: pb::DefinedSetKind::Prefix as i32,
            name: "bird-1".into(),
            members: vec!["10.1.1.0/24".into()],
        }),
    }))
    .unwrap();
    let statement = pb::Statement {
        name: "tag".into(),
        conditions: Some(pb::Conditions {
            prefix_set: Some(pb::SetMatch {
                set: "bird-1".into(),
                r#match: pb::SetMatchKind::Any as i32,
            }),
            ..pb::Conditions::default()
        }),
        actions: Some(pb::Actions {
            result: "accept".into(),
            prepend: 2,
            communities: Some(pb::CommunityEdit {
                add: vec!["65000:99".into()],
                ..pb::CommunityEdit::default()
            }),
            ..pb::Actions::default()
        }),
    };
    rt.block_on(api.add_policy(pb::AddPolicyRequest {
        policy: Some(pb::Policy {
            name: "to-frr".into(),
            statements: vec![statement],
        }),
    }))
    .unwrap();
    let r = rt
        .block_on(api.set_policy_assignment(pb::SetPolicyAssignmentRequest {
            address: FRR.v4.into(),
            direction: pb::PolicyDirection::Export as i32,
            policies: vec!["to-frr".into()],
            default: pb::PolicyDefault::Unspecified as i32,
        }))
        .unwrap()
        .into_inner();
    assert_eq!(r.effects.len(), 1, "{r:?}");
    assert_eq!(
        (r.effects[0].address.as_str(), r.effects[0].action.as_str()),
        ("10.0.2.2", "resent")
    );
    eventually(
        &lab,
        CONVERGE,
        "FRR sees 10.1.1.0/24 prepended and tagged",
        || {
            has_routes(
                &lab,
                &FRR,
                &[
                    Want::new("10.1.1.0/24", "65000 65000 65000 65001", FRR.bgpd_v4)
                        .communities(&["65000:99".into()], &[]),
                ],
            )
        },
    );
    // BIRD's export is untouched: it still sees bgpd's own route plainly.
    has_routes(
        &lab,
        &BIRD,
        &[Want::new("10.100.0.0/24", "65000", BIRD.bgpd_v4)],
    )
    .unwrap();

    // 3. API: the set the import policy uses changes; 10.1.2.0/24 is accepted again.
    rt.block_on(api.add_defined_set(pb::AddDefinedSetRequest {
        set: Some(pb::DefinedSet {
            kind: pb::DefinedSetKind::Prefix as i32,
            name: "bird-2".into(),
            members: vec!["10.1.9.0/24".into()],
        }),
    }))
    .unwrap();
    eventually(&lab, CONVERGE, "FRR has 10.1.2.0/24 again", || {
        has_routes(&lab, &FRR, &bird_routes(&FRR)[1..])
    });

    // Bad input names the field.
    let err = rt
        .block_on(api.set_policy_assignment(pb::SetPolicyAssignmentRequest {
            address: FRR.v4.into(),
            direction: pb::PolicyDirection::Import as i32,
            policies: vec!["nope".into()],
            default: 0,
        }))
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message()
            .contains("policies[0]: no policy named \"nope\""),
        "{}",
        err.message()
    );

    let elapsed = started.elapsed().as_secs();
    rt.block_on(same_sessions(&mut api, &before, elapsed.saturating_sub(1)));
    lab.down().unwrap();
}

const ROUTE_SERVER: &str = r#"
[global]
asn = 65000
router_id = "10.0.0.100"
listen = ["0.0.0.0:179"]
connect_retry = 1
connect_retry_max = 4

[[policies]]
name = "no-local"
[[policies.statements]]
conditions = { route_type = "local" }
actions = { result = "reject" }

[[neighbors]]
address = "10.0.1.2"
peer_asn = 65001
hold_time = 9
local_address = "10.0.1.1"
route_server_client = true
export_policy = ["no-local"]

[[neighbors]]
address = "10.0.2.2"
peer_asn = 65002
hold_time = 9
local_address = "10.0.2.1"
route_server_client = true

# Also announced by FRR: bgpd's own route is the Loc-RIB best.
[[originate]]
prefix = "10.50.0.0/24"
"#;

#[test]
fn route_server_clients_get_their_own_best_path_without_our_as() {
    let Some((_dir, lab)) = start(Some(ROUTE_SERVER)) else {
        return;
    };
    // FRR: BIRD's routes with BIRD's AS only and BIRD's next hop.
    eventually(
        &lab,
        CONVERGE,
        "FRR gets BIRD's routes transparently",
        || {
            has_routes(
                &lab,
                &FRR,
                &[
                    Want::new("10.1.1.0/24", "65001", BIRD.v4),
                    Want::new("10.1.2.0/24", "65001", BIRD.v4),
                ],
            )
        },
    );
    // BIRD's export policy drops bgpd's own routes, so its best for 10.50.0.0/24 is FRR's
    // (the longer path, not the Loc-RIB best), and FRR's MED reaches it.
    eventually(
        &lab,
        CONVERGE,
        "BIRD gets FRR's routes and its own best path",
        || {
            has_routes(
                &lab,
                &BIRD,
                &[
                    Want::new("10.2.1.0/24", "65002", FRR.v4).med(Some(33)),
                    Want::new("10.50.0.0/24", "65002 65002", FRR.v4),
                ],
            )
        },
    );
    lab.down().unwrap();
}

#[test]
fn soft_reconfiguration_inbound_applies_import_changes_without_route_refresh() {
    // BIRD does not offer route refresh; bgpd keeps a pre-policy copy of its routes.
    let config = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../containerlab/policy/bgpd.toml"),
    )
    .unwrap()
    .replacen(
        "description = \"BIRD\"",
        "description = \"BIRD\"\nimport_policy = [\"drop-bird-2\"]\nsoft_reconfiguration_inbound = true",
        1,
    );
    let Some((_dir, lab)) = start_with(
        Some(&config),
        Some(("  direct;\n", "  direct;\n  enable route refresh off;\n")),
    ) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut api = rt.block_on(api_common::connect(&lab.bgpd_socket("bgpd").unwrap()));
    eventually(
        &lab,
        CONVERGE,
        "FRR has 10.1.1.0/24 but not 10.1.2.0/24",
        || {
            has_routes(
                &lab,
                &FRR,
                &[Want::new("10.1.1.0/24", "65000 65001", FRR.bgpd_v4)],
            )?;
            lacks_routes(&lab, &FRR, &["10.1.2.0/24"])
        },
    );
    let peer = rt
        .block_on(api.get_peer(pb::GetPeerRequest {
            address: BIRD.v4.into(),
        }))
        .unwrap()
        .into_inner()
        .peer
        .unwrap();
    assert!(
        !peer.status.as_ref().unwrap().route_refresh,
        "BIRD must not offer route refresh"
    );
    let before = rt.block_on(sessions(&mut api));
    let started = std::time::Instant::now();
    let r = rt
        .block_on(api.set_policy_assignment(pb::SetPolicyAssignmentRequest {
            address: BIRD.v4.into(),
            direction: pb::PolicyDirection::Import as i32,
            policies: vec![],
            default: 0,
        }))
        .unwrap()
        .into_inner();
    assert_eq!(r.effects.len(), 1, "{r:?}");
    assert_eq!(r.effects[0].action, "reapplied");
    eventually(
        &lab,
        CONVERGE,
        "FRR gets 10.1.2.0/24 from the kept copy",
        || {
            has_routes(
                &lab,
                &FRR,
                &[Want::new("10.1.2.0/24", "65000 65001", FRR.bgpd_v4)],
            )
        },
    );
    let refreshes_sent = |api: &mut api_common::Client| {
        rt.block_on(api.get_peer(pb::GetPeerRequest {
            address: BIRD.v4.into(),
        }))
        .unwrap()
        .into_inner()
        .peer
        .unwrap()
        .status
        .unwrap()
        .sent
        .unwrap()
        .route_refresh
    };
    assert_eq!(
        refreshes_sent(&mut api),
        0,
        "no ROUTE-REFRESH was sent to BIRD"
    );
    rt.block_on(same_sessions(
        &mut api,
        &before,
        started.elapsed().as_secs().saturating_sub(1),
    ));
    lab.down().unwrap();
}
