//! The Prometheus endpoint of a daemon with a live session shows what an operator graphs.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bgpd::config;
use bgpd::daemon::Daemon;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start(toml: &str) -> Daemon {
    let cfg = config::from_str(&format!("{toml}\n[api]\nsocket = \"\"\n"), "test.toml").unwrap();
    Daemon::start(&cfg).await.unwrap()
}

async fn scrape(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

#[tokio::test]
async fn sessions_prefixes_messages_and_latency_are_exported() {
    let a = start(
        r#"
[global]
asn = 65001
router_id = "10.0.0.1"
listen = ["127.0.0.21:0"]
[[neighbors]]
address = "127.0.0.22"
peer_asn = 65002
passive = true
hold_time = 9
[[originate]]
prefix = "192.0.2.0/24"
[metrics]
listen = "127.0.0.1:0"
"#,
    )
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
address = "127.0.0.21"
port = {port}
local_address = "127.0.0.22"
peer_asn = 65001
hold_time = 9
[[originate]]
prefix = "198.51.100.0/24"
[[originate]]
prefix = "203.0.113.0/24"
"#
    ))
    .await;
    let addr = a.metrics_addr().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let text = loop {
        let t = scrape(addr, "/metrics").await;
        if t.contains(r#"bgp_peer_prefixes_accepted{peer="127.0.0.22",family="ipv4-unicast"} 2"#) {
            break t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never converged:\n{t}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"),
        "{text}"
    );
    for line in [
        r#"bgp_peer_up{peer="127.0.0.22"} 1"#,
        r#"bgp_peer_state{peer="127.0.0.22"} 6"#,
        r#"bgp_peer_prefixes_advertised{peer="127.0.0.22",family="ipv4-unicast"} 1"#,
        r#"bgp_rib_prefixes{family="ipv4-unicast"} 3"#,
    ] {
        assert!(text.contains(line), "missing {line}:\n{text}");
    }
    let opens = text
        .lines()
        .find(|l| {
            l.starts_with(r#"bgp_peer_messages_received_total{peer="127.0.0.22",type="open"}"#)
        })
        .unwrap_or_else(|| panic!("no OPEN counter:\n{text}"));
    assert!(opens.ends_with(" 1"), "{opens}");
    let batches = text
        .lines()
        .find(|l| l.starts_with("bgp_update_processing_seconds_count"))
        .unwrap_or_else(|| panic!("no latency histogram:\n{text}"));
    assert!(!batches.ends_with(" 0"), "{batches}");
    assert!(scrape(addr, "/other").await.contains("404"));
    b.shutdown("done").await;
    a.shutdown("done").await;
}
