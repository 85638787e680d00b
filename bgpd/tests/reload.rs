//! Reloading the configuration file (the `Reload` call and `Daemon::reload`): only what
//! changed is applied, the other sessions are not touched, a file with errors changes
//! nothing, and what was added through the API stays.
//!
//! R (AS 65001, the daemon under test) is started from a file in a temporary directory,
//! listens on 127.0.0.1, and has passive neighbours; each remote daemon connects to it
//! from its own 127.0.0.x address.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod api_common;

use std::time::Duration;

use api_common::*;
use bgp_api::bgpd::v1 as pb;
use bgpd::control::ControlError;
use tonic::Code;

/// R's `[global]`: the same in every version of the file (a changed listener needs a restart).
fn r_global() -> String {
    global(65001, "10.0.0.1", "127.0.0.1:0", "")
}

/// R with X (127.0.0.2, AS 65002) and Y (127.0.0.3, AS 65003), both up.
async fn r_x_y(extra: &str) -> (Node, Node, Node) {
    let text = format!(
        "{}{}{}{extra}",
        r_global(),
        passive_neighbor("127.0.0.2", 65002, "description = \"x\""),
        passive_neighbor("127.0.0.3", 65003, "")
    );
    let mut r = start_file(&text).await;
    let x = remote(r.port(), "127.0.0.2", 65002, "10.0.0.2").await;
    let y = remote(r.port(), "127.0.0.3", 65003, "10.0.0.3").await;
    wait_session(&mut r.api, "127.0.0.2", true).await;
    wait_session(&mut r.api, "127.0.0.3", true).await;
    (r, x, y)
}

/// A watch of R's peer events.
async fn peer_watch(r: &Node) -> tonic::Streaming<pb::WatchResponse> {
    let req = pb::WatchRequest {
        peer_events: true,
        ..Default::default()
    };
    r.client().await.watch(req).await.unwrap().into_inner()
}

/// Reads peer events until one for `address` reaches `state`; returns all read.
async fn events_until(
    w: &mut tonic::Streaming<pb::WatchResponse>,
    address: &str,
    state: pb::SessionState,
) -> Vec<pb::PeerEvent> {
    let mut seen = Vec::new();
    loop {
        let r = next(w).await.expect("watch stream open");
        for e in r.events {
            if let Some(pb::watch_event::Event::Peer(p)) = e.event {
                let done = p.address == address && p.new_state == state as i32;
                seen.push(p);
                if done {
                    return seen;
                }
            }
        }
    }
}

/// Messages OPEN sent to the peer: a new session sends another.
async fn opens(api: &mut Client, address: &str) -> u64 {
    status(api, address).await.sent.unwrap().open
}

async fn reload(api: &mut Client) -> pb::ReloadResponse {
    api.reload(pb::ReloadRequest {})
        .await
        .unwrap_or_else(|s| panic!("reload: {s}"))
        .into_inner()
}

#[tokio::test]
async fn neighbours_added_removed_and_described_without_resetting_the_others() {
    let (mut r, x, mut y) = r_x_y("").await;
    let mut w = peer_watch(&r).await;
    let x_opens = opens(&mut r.api, "127.0.0.2").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let x_uptime = status(&mut r.api, "127.0.0.2").await.uptime_seconds;
    assert!(x_uptime >= 1);

    r.rewrite(&format!(
        "{}{}{}",
        r_global(),
        passive_neighbor("127.0.0.2", 65002, "description = \"x, rack 4\""),
        passive_neighbor("127.0.0.4", 65004, "")
    ));
    let report = reload(&mut r.api).await;
    assert_eq!(report.peers_added, ["127.0.0.4"]);
    assert_eq!(report.peers_removed, ["127.0.0.3"]);
    assert_eq!(report.peers_changed, ["127.0.0.2"]);
    assert!(report.peers_reset.is_empty(), "{report:?}");
    assert_eq!((report.originated_added, report.originated_removed), (0, 0));

    // The new neighbour comes up, the removed one is told, the changed one stays as it was.
    let z = remote(r.port(), "127.0.0.4", 65004, "10.0.0.4").await;
    let events = events_until(&mut w, "127.0.0.4", pb::SessionState::Established).await;
    assert!(
        events.iter().all(|e| e.address != "127.0.0.2"),
        "X's session was touched: {events:?}"
    );
    let s = wait_session(&mut y.api, "127.0.0.1", false).await;
    assert!(
        s.last_error.contains("de-configured"),
        "Y's last error: {}",
        s.last_error
    );
    let xs = status(&mut r.api, "127.0.0.2").await;
    assert_eq!(xs.state, pb::SessionState::Established as i32);
    assert_eq!(xs.sent.unwrap().open, x_opens, "no new session with X");
    assert!(
        xs.uptime_seconds >= x_uptime,
        "X's uptime went from {x_uptime} to {}",
        xs.uptime_seconds
    );
    let x_cfg = get_peer(&mut r.api, "127.0.0.2").await.config.unwrap();
    assert_eq!(x_cfg.description, "x, rack 4");
    let peers = r
        .api
        .list_peers(pb::ListPeersRequest {})
        .await
        .unwrap()
        .into_inner()
        .peers;
    let addrs: Vec<String> = peers
        .iter()
        .map(|p| p.config.as_ref().unwrap().address.clone())
        .collect();
    assert_eq!(addrs, ["127.0.0.2", "127.0.0.4"]);
    assert!(peers.iter().all(|p| p.source == "config"));

    // The same file again changes nothing.
    let report = reload(&mut r.api).await;
    assert_eq!(report, pb::ReloadResponse::default());
    for n in [z, y, x, r] {
        n.stop().await;
    }
}

#[tokio::test]
async fn a_new_peer_as_resets_that_session_only() {
    let (mut r, x, y) = r_x_y("").await;
    let mut w = peer_watch(&r).await;
    let x_opens = opens(&mut r.api, "127.0.0.2").await;
    r.rewrite(&format!(
        "{}{}{}",
        r_global(),
        passive_neighbor("127.0.0.2", 65002, "description = \"x\""),
        passive_neighbor("127.0.0.3", 65099, "")
    ));
    let report = bounded("reload", r.daemon.reload()).await.unwrap();
    let y_addr: std::net::IpAddr = "127.0.0.3".parse().unwrap();
    assert_eq!(
        (report.changed.clone(), report.reset.clone()),
        (vec![y_addr], vec![y_addr])
    );
    assert!(report.added.is_empty() && report.removed.is_empty());

    // Y is reset, then rejected: it is in AS 65003.
    let events = events_until(&mut w, "127.0.0.3", pb::SessionState::Idle).await;
    assert!(
        events.iter().all(|e| e.address != "127.0.0.2"),
        "X's session was touched: {events:?}"
    );
    let s = eventually("Y rejected for its AS", async || {
        let s = status(&mut r.api, "127.0.0.3").await;
        s.last_error.contains("65099").then_some(s)
    })
    .await;
    assert_ne!(s.state, pb::SessionState::Established as i32);
    assert_eq!(
        get_peer(&mut r.api, "127.0.0.3")
            .await
            .config
            .unwrap()
            .peer_asn,
        65099
    );
    assert_eq!(
        opens(&mut r.api, "127.0.0.2").await,
        x_opens,
        "no new session with X"
    );
    assert_eq!(
        status(&mut r.api, "127.0.0.2").await.state,
        pb::SessionState::Established as i32
    );
    for n in [y, x, r] {
        n.stop().await;
    }
}

fn originate(prefix: &str, med: u32) -> String {
    format!("[[originate]]\nprefix = \"{prefix}\"\nmed = {med}\n")
}

#[tokio::test]
async fn originated_prefixes_follow_the_file_at_the_peer() {
    let neighbours = passive_neighbor("127.0.0.2", 65002, "");
    let text = |extra: &str| format!("{}{neighbours}{extra}", r_global());
    let mut r = start_file(&text(
        &(originate("192.0.2.0/24", 1) + &originate("203.0.113.0/24", 1)),
    ))
    .await;
    let mut x = remote(r.port(), "127.0.0.2", 65002, "10.0.0.2").await;
    let at_x = async |x: &mut Node, want: &[&str]| {
        let what = format!("{want:?} at X");
        eventually(&what, async || {
            let mut got = loc_prefixes(&mut x.api).await;
            got.sort();
            (got == want).then_some(())
        })
        .await;
    };
    at_x(&mut x, &["192.0.2.0/24", "203.0.113.0/24"]).await;

    // One prefix replaced by another, one kept with a new MED.
    r.rewrite(&text(
        &(originate("198.51.100.0/24", 1) + &originate("203.0.113.0/24", 7)),
    ));
    let report = reload(&mut r.api).await;
    assert_eq!((report.originated_added, report.originated_removed), (1, 1));
    assert!(report.peers_changed.is_empty() && report.peers_reset.is_empty());
    at_x(&mut x, &["198.51.100.0/24", "203.0.113.0/24"]).await;
    let q = pb::ListPathsRequest {
        prefix: "203.0.113.0/24".into(),
        ..Default::default()
    };
    eventually("the new MED at X", async || {
        let p = list(&mut x.api, q.clone()).await;
        (p.first().and_then(|p| p.med) == Some(7)).then_some(())
    })
    .await;
    // None left.
    r.rewrite(&text(""));
    assert_eq!(reload(&mut r.api).await.originated_removed, 2);
    at_x(&mut x, &[]).await;
    x.stop().await;
    r.stop().await;
}

#[tokio::test]
async fn a_file_with_errors_is_rejected_and_the_running_configuration_stays() {
    let (mut r, x, y) = r_x_y("").await;
    let x_opens = opens(&mut r.api, "127.0.0.2").await;
    let before = r
        .api
        .list_peers(pb::ListPeersRequest {})
        .await
        .unwrap()
        .into_inner();
    let good = std::fs::read_to_string(&r.config).unwrap();

    // Two mistakes: both reported, each on its own line, naming the key.
    r.rewrite(&format!(
        "{}{}{}",
        r_global(),
        passive_neighbor("127.0.0.2", 65002, "holdtime = 30"),
        passive_neighbor("127.0.0.5", 23456, "")
    ));
    let s = r.api.reload(pb::ReloadRequest {}).await.unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    let lines: Vec<&str> = s.message().lines().collect();
    assert_eq!(lines.len(), 2, "{}", s.message());
    assert!(
        lines[0].contains("neighbors[0].holdtime") && lines[0].contains("hold_time"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("neighbors[1].peer_asn") && lines[1].contains("23456"),
        "{}",
        lines[1]
    );
    assert!(matches!(
        bounded("reload", r.daemon.reload()).await,
        Err(ControlError::Config(_))
    ));

    // A syntax error, with its line; and a file with hundreds of mistakes still answers.
    r.rewrite(&format!(
        "{}[[neighbors]]\naddress = 127.0.0.9\n",
        r_global()
    ));
    let s = r.api.reload(pb::ReloadRequest {}).await.unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message().contains("TOML syntax error") && s.message().contains(":8:"),
        "{}",
        s.message()
    );
    let many: String = (0..300)
        .map(|i| {
            format!(
                "[[neighbors]]\naddress = \"127.1.{}.{}\"\npeer_asn = 0\n",
                i / 250,
                i % 250 + 1
            )
        })
        .collect();
    r.rewrite(&format!("{}{many}", r_global()));
    let s = r.api.reload(pb::ReloadRequest {}).await.unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message().contains("and 280 more problems"),
        "{}",
        s.message()
    );
    // What only a restart can change.
    r.rewrite(&good.replace("asn = 65001", "asn = 65111"));
    let s = r.api.reload(pb::ReloadRequest {}).await.unwrap_err();
    assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
    assert!(
        s.message().contains("global.asn") && s.message().contains("restart"),
        "{}",
        s.message()
    );

    // Nothing changed.
    let after = r
        .api
        .list_peers(pb::ListPeersRequest {})
        .await
        .unwrap()
        .into_inner();
    let configs =
        |l: &pb::ListPeersResponse| l.peers.iter().map(|p| p.config.clone()).collect::<Vec<_>>();
    assert_eq!(configs(&after), configs(&before));
    assert_eq!(opens(&mut r.api, "127.0.0.2").await, x_opens);
    assert_eq!(
        status(&mut r.api, "127.0.0.3").await.state,
        pb::SessionState::Established as i32
    );
    // The good file again: nothing to do.
    std::fs::write(&r.config, good).unwrap();
    assert_eq!(reload(&mut r.api).await, pb::ReloadResponse::default());
    for n in [y, x, r] {
        n.stop().await;
    }
}

#[tokio::test]
async fn what_the_api_added_survives_a_reload() {
    let text = |description: &str| {
        format!(
            "{}{}",
            r_global(),
            passive_neighbor(
                "127.0.0.2",
                65002,
                &format!("description = \"{description}\"")
            )
        )
    };
    let mut r = start_file(&text("x")).await;
    let x = remote(r.port(), "127.0.0.2", 65002, "10.0.0.2").await;
    let mut z = remote(r.port(), "127.0.0.4", 65004, "10.0.0.4").await;
    let z_peer = pb::PeerConfig {
        passive: true,
        ..peer_config("127.0.0.4", 65004)
    };
    r.api
        .add_peer(pb::AddPeerRequest { peer: Some(z_peer) })
        .await
        .unwrap();
    r.api
        .add_path(pb::AddPathRequest {
            path: Some(path("203.0.113.0/24")),
        })
        .await
        .unwrap();
    wait_session(&mut r.api, "127.0.0.2", true).await;
    wait_session(&mut r.api, "127.0.0.4", true).await;
    eventually("the API's path at Z", async || {
        (loc_prefixes(&mut z.api).await == ["203.0.113.0/24"]).then_some(())
    })
    .await;
    let z_opens = opens(&mut r.api, "127.0.0.4").await;

    r.rewrite(&text("x, rack 4"));
    let report = reload(&mut r.api).await;
    assert_eq!(report.peers_changed, ["127.0.0.2"]);
    assert!(
        report.peers_removed.is_empty(),
        "the API's peer is not the file's to remove"
    );
    let zp = get_peer(&mut r.api, "127.0.0.4").await;
    assert_eq!(
        (zp.source.as_str(), zp.status.unwrap().state),
        ("api", pb::SessionState::Established as i32)
    );
    assert_eq!(opens(&mut r.api, "127.0.0.4").await, z_opens);
    let paths = list(&mut r.api, pb::ListPathsRequest::default()).await;
    assert_eq!(
        paths
            .iter()
            .map(|p| (p.prefix.as_str(), p.source.as_str()))
            .collect::<Vec<_>>(),
        [("203.0.113.0/24", "api")]
    );
    assert_eq!(loc_prefixes(&mut z.api).await, ["203.0.113.0/24"]);

    // The file may not take over a peer the API added.
    r.rewrite(&(text("x, rack 5") + &passive_neighbor("127.0.0.4", 65004, "")));
    let s = r.api.reload(pb::ReloadRequest {}).await.unwrap_err();
    assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
    assert!(
        s.message().contains("127.0.0.4") && s.message().contains("API"),
        "{}",
        s.message()
    );
    assert_eq!(
        get_peer(&mut r.api, "127.0.0.2")
            .await
            .config
            .unwrap()
            .description,
        "x, rack 4",
        "nothing reloaded"
    );
    for n in [z, x, r] {
        n.stop().await;
    }
}

#[tokio::test]

async fn a_reload_keeps_what_the_api_changed_on_the_files_peers() {
    let (mut r, x, y) = r_x_y("").await;
    // X is shut down and Y described through the API.
    let disable = pb::DisablePeerRequest {
        address: "127.0.0.2".into(),
        message: "flapping".into(),
    };
    r.api.disable_peer(disable).await.unwrap();
    wait_session(&mut r.api, "127.0.0.2", false).await;
    let mut yc = get_peer(&mut r.api, "127.0.0.3").await.config.unwrap();
    yc.description = "y, from the API".into();
    assert!(!update_peer(&mut r.api, yc).await.unwrap());
    // A reload for something else (a prefix) leaves both alone.
    r.rewrite(&format!(
        "{}{}{}{}",
        r_global(),
        passive_neighbor("127.0.0.2", 65002, "description = \"x\""),
        passive_neighbor("127.0.0.3", 65003, ""),
        "[[originate]]\nprefix = \"192.0.2.0/24\"\n"
    ));
    let report = reload(&mut r.api).await;
    assert!(report.peers_changed.is_empty(), "{report:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let xs = status(&mut r.api, "127.0.0.2").await;
    assert!(
        !xs.enabled && xs.state != pb::SessionState::Established as i32,
        "{xs:?}"
    );
    let description = get_peer(&mut r.api, "127.0.0.3")
        .await
        .config
        .unwrap()
        .description;
    assert_eq!(description, "y, from the API");
    for n in [y, x, r] {
        n.stop().await;
    }
}
