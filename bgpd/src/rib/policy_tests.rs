//! Policy in the RIB: import and export chains, changes at runtime, route-server clients.

use std::net::Ipv4Addr;

use bgp_proto::attr::{AttrValue, Community};

use super::tests::{Harness, announce, b_has, b_withdrew, peer, saw_eor};
use super::*;
use crate::policy::Engine;

/// Compiles the policy sections of `toml` with the neighbours it lists.
fn engine(toml: &str) -> Arc<Engine> {
    let text = format!("[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\nlisten = []\n{toml}");
    let cfg = crate::config::from_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let assignments = cfg.neighbors.iter().map(|n| (n.address, &n.policy));
    Arc::new(Engine::compile(&cfg.policy, assignments).unwrap())
}

const SETS: &str = r#"
[[prefix_sets]]
name = "special"
prefixes = ["198.51.100.0/24"]

[[neighbor_sets]]
name = "first"
neighbors = ["192.0.2.1"]
"#;

fn neighbor(n: u8, asn: u32, keys: &str) -> String {
    format!("[[neighbors]]\naddress = \"192.0.2.{n}\"\npeer_asn = {asn}\n{keys}\n")
}

impl Harness {
    async fn policy(&self, e: Arc<Engine>) {
        self.tx.send(RibMsg::SetPolicy(e)).await.unwrap();
    }
}

fn has(routes: &[BestRoute], prefix: &str) -> bool {
    let p: IpNet = prefix.parse().unwrap();
    routes.iter().any(|r| r.prefix == p)
}

#[tokio::test]
async fn import_policy_rejects_and_changes_routes_by_prefix() {
    let h = Harness::new();
    h.policy(engine(&format!(
        r#"{SETS}
[[policies]]
name = "in"
[[policies.statements]]
conditions = {{ prefix_set = "special" }}
actions = {{ result = "reject" }}
[[policies.statements]]
actions = {{ result = "accept", set_local_pref = 0, local_pref = 250, add_communities = ["65000:7"] }}
{}"#,
        neighbor(1, 65001, "import_policy = [\"in\"]")
    ).replace("set_local_pref = 0, ", "")))
    .await;
    let _a = h.up(peer(1, 65001, false), 8).await;
    h.send(
        1,
        announce(&["198.51.100.0/24", "203.0.113.0/24"], &[65001], &[]),
    )
    .await;
    let routes = h.dump().await;
    assert!(
        !has(&routes, "198.51.100.0/24"),
        "rejected by the prefix set"
    );
    let r = routes
        .iter()
        .find(|r| r.prefix.to_string() == "203.0.113.0/24")
        .unwrap();
    assert_eq!(r.attrs.attrs.local_pref(), Some(250));
    assert!(
        r.attrs
            .attrs
            .communities()
            .unwrap()
            .contains(Community::new(65000, 7))
    );
}

#[tokio::test]
async fn export_policy_changes_apply_at_runtime_without_a_new_session() {
    let h = Harness::new();
    let prepend = format!(
        r#"{SETS}
[[policies]]
name = "out"
[[policies.statements]]
conditions = {{ prefix_set = "special" }}
actions = {{ prepend = 2, set_med = 77 }}
{}{}"#,
        neighbor(1, 65001, ""),
        neighbor(2, 65002, "export_policy = [\"out\"]")
    );
    let _a = h.up(peer(1, 65001, false), 8).await;
    let mut b = h.up(peer(2, 65002, false), 8).await;
    b.until("End-of-RIB", saw_eor).await;
    h.send(
        1,
        announce(&["198.51.100.0/24", "203.0.113.0/24"], &[65001], &[]),
    )
    .await;
    b.until("both", |u| {
        b_has(u, "198.51.100.0/24") && b_has(u, "203.0.113.0/24")
    })
    .await;
    let plain = |b: &super::tests::Inbox, p: &str| {
        b.announced(p)
            .unwrap()
            .attributes
            .as_path()
            .unwrap()
            .to_string()
    };
    assert_eq!(plain(&b, "198.51.100.0/24"), "65000 65001", "no policy yet");
    h.policy(engine(&prepend)).await;
    b.until("the re-sent route", |u| {
        u.iter()
            .filter(|u| {
                u.nlri
                    .iter()
                    .any(|n| n.prefix.to_string() == "198.51.100.0/24")
            })
            .count()
            == 2
    })
    .await;
    let u = b.announced("198.51.100.0/24").unwrap();
    assert_eq!(
        u.attributes.as_path().unwrap().to_string(),
        "65000 65000 65000 65001"
    );
    assert_eq!(u.attributes.med(), Some(77));
    assert_eq!(
        plain(&b, "203.0.113.0/24"),
        "65000 65001",
        "outside the prefix set"
    );
    // Now reject it: the export state withdraws it.
    let reject = prepend.replace(
        "actions = { prepend = 2, set_med = 77 }",
        "actions = { result = \"reject\" }",
    );
    h.policy(engine(&reject)).await;
    b.until("the withdrawal", |u| b_withdrew(u, "198.51.100.0/24"))
        .await;
    assert!(b.withdrawn("198.51.100.0/24"));
    assert!(b.announced("203.0.113.0/24").is_some());
}

#[tokio::test]
async fn soft_reconfiguration_inbound_reapplies_import_policy_from_the_kept_copy() {
    let h = Harness::new();
    let reject_all = format!(
        "{SETS}\n[[policies]]\nname = \"in\"\n[[policies.statements]]\nconditions = {{ prefix_set = \"special\" }}\nactions = {{ result = \"reject\" }}\n{}",
        neighbor(
            1,
            65001,
            "import_policy = [\"in\"]\nsoft_reconfiguration_inbound = true"
        )
    );
    h.policy(engine(&reject_all)).await;
    let mut info = peer(1, 65001, false);
    info.soft_in = true;
    let _a = h.up(info, 8).await;
    h.send(
        1,
        announce(&["198.51.100.0/24", "203.0.113.0/24"], &[65001], &[]),
    )
    .await;
    assert!(!has(&h.dump().await, "198.51.100.0/24"));
    h.policy(engine(
        &reject_all.replace("import_policy = [\"in\"]\n", ""),
    ))
    .await;
    let routes = h.dump().await;
    assert!(
        has(&routes, "198.51.100.0/24"),
        "accepted again without the peer re-sending"
    );
    assert!(has(&routes, "203.0.113.0/24"));
    // And back: rejected again.
    h.policy(engine(&reject_all)).await;
    assert!(!has(&h.dump().await, "198.51.100.0/24"));
}

#[tokio::test]
async fn route_server_clients_get_their_own_best_path_transparently() {
    let h = Harness::new();
    // Client 3 does not take routes from client 1.
    h.policy(engine(&format!(
        r#"{SETS}
[[policies]]
name = "not-from-first"
[[policies.statements]]
conditions = {{ neighbor_set = "first" }}
actions = {{ result = "reject" }}
{}{}{}{}"#,
        neighbor(1, 65001, "route_server_client = true"),
        neighbor(2, 65002, "route_server_client = true"),
        neighbor(
            3,
            65003,
            "route_server_client = true\nexport_policy = [\"not-from-first\"]"
        ),
        neighbor(4, 65004, "route_server_client = true"),
    )))
    .await;
    let rs = |id, asn| {
        let mut p = peer(id, asn, false);
        p.route_server_client = true;
        p
    };
    let _a = h.up(rs(1, 65001), 8).await;
    let _b = h.up(rs(2, 65002), 8).await;
    let mut c = h.up(rs(3, 65003), 8).await;
    let mut d = h.up(rs(4, 65004), 8).await;
    // Client 1's path is shorter, so it is the Loc-RIB best.
    h.send(
        1,
        announce(&["198.51.100.0/24"], &[65001], &[AttrValue::Med(5)]),
    )
    .await;
    h.send(
        2,
        announce(&["198.51.100.0/24"], &[65002, 64999], &[AttrValue::Med(9)]),
    )
    .await;
    c.until("client 2's path", |u| {
        b_has(u, "198.51.100.0/24")
            && u.iter()
                .rev()
                .find(|u| !u.nlri.is_empty())
                .is_some_and(|u| {
                    u.attributes.as_path().map(|p| p.to_string()) == Some("65002 64999".into())
                })
    })
    .await;
    let u = c.announced("198.51.100.0/24").unwrap();
    assert_eq!(
        u.attributes.as_path().unwrap().to_string(),
        "65002 64999",
        "no 65000"
    );
    assert_eq!(u.attributes.med(), Some(9), "MED passed unchanged");
    assert_eq!(
        u.attributes.next_hop(),
        Some(Ipv4Addr::new(192, 0, 2, 50)),
        "next hop unchanged"
    );
    d.until("client 1's path", |u| b_has(u, "198.51.100.0/24"))
        .await;
    let u = d.announced("198.51.100.0/24").unwrap();
    assert_eq!(u.attributes.as_path().unwrap().to_string(), "65001");
    assert_eq!(u.attributes.med(), Some(5));
}

#[tokio::test]
async fn next_hop_unchanged_on_export_keeps_the_received_one_and_never_sends_none() {
    let h = Harness::new();
    h.policy(engine(&format!(
        "[[policies]]\nname = \"keep\"\n[[policies.statements]]\nactions = {{ next_hop = \"unchanged\" }}\n{}{}",
        neighbor(1, 65001, ""),
        neighbor(2, 65002, "export_policy = [\"keep\"]")
    )))
    .await;
    let _a = h.up(peer(1, 65001, false), 8).await;
    let mut b = h.up(peer(2, 65002, false), 8).await;
    h.tx.send(RibMsg::AddPaths(vec![LocalRoute {
        prefix: "192.0.2.0/24".parse().unwrap(),
        attrs: PathAttributes::new(),
        next_hop: None,
    }]))
    .await
    .unwrap();
    h.send(1, announce(&["198.51.100.0/24"], &[65001], &[]))
        .await;
    b.until("both", |u| {
        b_has(u, "198.51.100.0/24") && b_has(u, "192.0.2.0/24")
    })
    .await;
    let nh = |p| b.announced(p).unwrap().attributes.next_hop();
    assert_eq!(
        nh("198.51.100.0/24"),
        Some(Ipv4Addr::new(192, 0, 2, 50)),
        "as received"
    );
    assert_eq!(
        nh("192.0.2.0/24"),
        Some(Ipv4Addr::new(192, 0, 2, 100)),
        "ours: next hop self"
    );
}
