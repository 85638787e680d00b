//! Daemons peering with each other over loopback, in one process: sessions, route
//! propagation with the right AS_PATH and next hop, withdrawals, and session loss.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::Duration;

use bgpd::config;
use bgpd::daemon::Daemon;
use bgpd::fsm::State;
use bgpd::rib::BestRoute;
use ipnet::IpNet;

/// Starts a daemon; the API socket is off (several daemons share this process). Graceful
/// restart is off: these tests expect a stopped daemon's routes to go at once (with it,
/// the peers keep them; bgpd/tests/graceful_restart.rs).
async fn start(toml: &str) -> Daemon {
    let toml = format!("{toml}\n[graceful_restart]\nenabled = false\n[api]\nsocket = \"\"\n");
    let toml = toml.as_str();
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    let cfg = config::from_str(toml, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    Daemon::start(&cfg).await.expect("daemon starts")
}

/// Polls `f` every 50 ms for at most 15 s.
async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn route(d: &Daemon, prefix: &str) -> Option<BestRoute> {
    let p: IpNet = prefix.parse().unwrap();
    d.best_routes().await.into_iter().find(|r| r.prefix == p)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A listens on 127.0.0.1 (passive towards B); B connects from 127.0.0.2.
async fn pair(a_extra: &str, b_extra: &str) -> (Daemon, Daemon) {
    let a = start(&format!(
        r#"
[global]
asn = 65001
router_id = "10.0.0.1"
listen = ["127.0.0.1:0"]
[[neighbors]]
address = "127.0.0.2"
peer_asn = 65002
passive = true
hold_time = 9
families = ["ipv4-unicast", "ipv6-unicast"]
{a_extra}
"#
    ))
    .await;
    let port = a.local_addrs()[0].port();
    let b = start(&format!(
        r#"
[global]
asn = 65002
router_id = "10.0.0.2"
listen = []
connect_retry = 1
[[neighbors]]
address = "127.0.0.1"
port = {port}
local_address = "127.0.0.2"
peer_asn = 65001
hold_time = 9
families = ["ipv4-unicast", "ipv6-unicast"]
{b_extra}
"#
    ))
    .await;
    eventually("session established", async || {
        (a.peer_state(ip("127.0.0.2")).await == Some(State::Established)
            && b.peer_state(ip("127.0.0.1")).await == Some(State::Established))
        .then_some(())
    })
    .await;
    (a, b)
}

#[tokio::test]
async fn originated_routes_reach_the_peer_with_our_as_and_next_hop() {
    let (a, b) = pair(
        r#"
[[originate]]
prefix = "192.0.2.0/24"
communities = ["65001:7"]
[[originate]]
prefix = "2001:db8:1::/48"
"#,
        "",
    )
    .await;
    let r = eventually("IPv4 route at B", async || route(&b, "192.0.2.0/24").await).await;
    assert_eq!(
        r.attrs.attrs.as_path().map(ToString::to_string).as_deref(),
        Some("65001")
    );
    assert_eq!(r.attrs.next_hop_addr(), Some(ip("127.0.0.1")));
    let communities: Vec<u32> = r
        .attrs
        .attrs
        .communities()
        .map(|c| c.iter().map(|c| c.0).collect())
        .unwrap_or_default();
    assert_eq!(communities, vec![(65001 << 16) | 7]);
    let r6 = eventually("IPv6 route at B", async || {
        route(&b, "2001:db8:1::/48").await
    })
    .await;
    assert_eq!(
        r6.attrs.attrs.as_path().map(ToString::to_string).as_deref(),
        Some("65001")
    );
    // No LOCAL_PREF over eBGP.
    assert_eq!(r.attrs.attrs.local_pref(), None);
    b.shutdown("test over").await;
    a.shutdown("test over").await;
}

#[tokio::test]
async fn withdrawn_and_lost_routes_disappear() {
    let (a, b) = pair(
        "",
        r#"
[[originate]]
prefix = "198.51.100.0/24"
[[originate]]
prefix = "203.0.113.0/24"
"#,
    )
    .await;
    eventually("both routes at A", async || {
        (route(&a, "198.51.100.0/24").await.is_some()
            && route(&a, "203.0.113.0/24").await.is_some())
        .then_some(())
    })
    .await;
    // B stops originating one prefix: A sees the withdrawal.
    let keep = config::from_str(
        r#"
[global]
asn = 65002
router_id = "10.0.0.2"
[[originate]]
prefix = "203.0.113.0/24"
"#,
        "t",
    )
    .unwrap();
    b.set_originated(
        keep.originate
            .iter()
            .map(bgpd::daemon::local_route)
            .collect(),
    )
    .await;
    eventually("withdrawal at A", async || {
        route(&a, "198.51.100.0/24").await.is_none().then_some(())
    })
    .await;
    assert!(
        route(&a, "203.0.113.0/24").await.is_some(),
        "the other route stays"
    );
    // B goes away (Cease): A drops the session and B's routes.
    b.shutdown("maintenance").await;
    eventually("routes of a closed session dropped", async || {
        route(&a, "203.0.113.0/24").await.is_none().then_some(())
    })
    .await;
    assert_ne!(
        a.peer_state(ip("127.0.0.2")).await,
        Some(State::Established)
    );
    a.shutdown("test over").await;
}

#[tokio::test]
async fn routes_pass_through_a_middle_router_with_both_ases() {
    // A (65001) <- B (65002) <- C (65003): C's route reaches A through B.
    let a = start(
        r#"
[global]
asn = 65001
router_id = "10.0.0.1"
listen = ["127.0.0.11:0"]
[[neighbors]]
address = "127.0.0.12"
peer_asn = 65002
passive = true
hold_time = 9
"#,
    )
    .await;
    let pa = a.local_addrs()[0].port();
    let b = start(&format!(
        r#"
[global]
asn = 65002
router_id = "10.0.0.2"
listen = ["127.0.0.12:0"]
connect_retry = 1
[[neighbors]]
address = "127.0.0.11"
port = {pa}
local_address = "127.0.0.12"
peer_asn = 65001
hold_time = 9
[[neighbors]]
address = "127.0.0.13"
peer_asn = 65003
passive = true
hold_time = 9
"#
    ))
    .await;
    let pb = b.local_addrs()[0].port();
    let c = start(&format!(
        r#"
[global]
asn = 65003
router_id = "10.0.0.3"
listen = []
connect_retry = 1
[[neighbors]]
address = "127.0.0.12"
port = {pb}
local_address = "127.0.0.13"
peer_asn = 65002
hold_time = 9
[[originate]]
prefix = "10.99.0.0/16"
med = 50
"#
    ))
    .await;
    let r = eventually("C's route at A", async || route(&a, "10.99.0.0/16").await).await;
    assert_eq!(
        r.attrs.attrs.as_path().map(ToString::to_string).as_deref(),
        Some("65002 65003")
    );
    assert_eq!(
        r.attrs.next_hop_addr(),
        Some(ip("127.0.0.12")),
        "next hop self at B"
    );
    assert_eq!(
        r.attrs.attrs.med(),
        None,
        "MED is not passed on to a third AS"
    );
    c.shutdown("bye").await;
    eventually("withdrawal propagated to A", async || {
        route(&a, "10.99.0.0/16").await.is_none().then_some(())
    })
    .await;
    b.shutdown("bye").await;
    a.shutdown("bye").await;
}
