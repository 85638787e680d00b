use bgp_api::bgpd::v1::{
    BestPathEvent, GetTableCountsResponse, PeerEvent, ReloadResponse, SessionState, WatchEvent,
    best_path_event, watch_event,
};

use super::*;
use crate::format::fixtures;

#[test]
fn global_block() {
    assert_eq!(
        global(&fixtures::global()),
        "\
AS:              65000
Router ID:       10.0.0.1
Listen:          0.0.0.0:179, [::]:179
Uptime:          00:05:12
Peers:           2 configured, 1 established
Prefixes:        12 IPv4, 3 IPv6
Attribute sets:  7
Version:         0.1.0
Instance ID:     6f1c2a
"
    );
}

#[test]
fn neighbor_table() {
    assert_eq!(
        neighbors(&[fixtures::established(), fixtures::disabled()]),
        "\
Peer                 AS  State               Up  Rcvd  Accepted  Advertised  Description
10.0.0.2          65001  Established   1d02h03m    12        11           3  tor-1
2001:db8::9  4200000000  Idle (Admin)         -     0         0           0
"
    );
}

#[test]
fn neighbor_table_when_empty_is_the_header() {
    assert_eq!(
        neighbors(&[]),
        "Peer  AS  State  Up  Rcvd  Accepted  Advertised  Description\n"
    );
}

#[test]
fn neighbor_detail() {
    assert_eq!(
        neighbor(&fixtures::established()),
        "\
BGP neighbor 10.0.0.2, remote AS 65001
  Description:     tor-1
  Source:          config
  State:           Established, up for 1d02h03m
  Last error:      -
  Peer router ID:  10.0.0.2
  Port:            179
  Local address:   10.0.0.1
  Passive:         no
  Multihop TTL:    -
  RR client:       no
  Hold time:       90 s configured, 90 s negotiated
  Keepalive:       30 s configured, 30 s negotiated
  Families:        ipv4-unicast configured
  Negotiated:      ipv4-unicast
  Capabilities:    4-octet AS, route refresh

  TCP MD5:           no
  Graceful restart:  off

  Messages       Sent  Received
  Open              1         1
  Update            3        10
  Notification      0         0
  Keepalive      3125      3126
  Route refresh     0         0
  Total          3129      3137

  Family        Received  Accepted  Advertised
  ipv4-unicast        12        11           3
"
    );
}

#[test]
fn neighbor_detail_of_a_disabled_peer() {
    let text = neighbor(&fixtures::disabled());
    assert!(
        text.starts_with("BGP neighbor 2001:db8::9, remote AS 4200000000\n"),
        "{text}"
    );
    assert!(text.contains("  State:           Idle (Admin)\n"), "{text}");
    assert!(
        text.contains("  Last error:      administratively shut down\n"),
        "{text}"
    );
    assert!(text.contains("  Passive:         yes\n"), "{text}");
    assert!(
        text.contains("  Families:        unicast of the address configured\n"),
        "{text}"
    );
    assert!(!text.contains("Negotiated"), "{text}");
}

#[test]
fn route_table() {
    let paths = [
        fixtures::learned(),
        fixtures::multipath(),
        fixtures::originated(),
    ];
    assert_eq!(
        routes(&paths),
        concat!(
            "   Prefix           Next Hop  AS Path                    Origin  MED  LocPref  \
             Communities                               Peer\n",
            "*  192.0.2.0/24     10.0.0.2  65001 65002 {65003,65004}  i        10      100  \
             65000:1 no-export 65000:1:2 rt:65000:100  10.0.0.2\n",
            "=  192.0.2.0/24     10.0.0.3  65001 65002 {65003,65004}  i         -        -  \
             -                                         10.0.0.3\n",
            "*  198.51.100.0/24  self      -                          ?         -        -  \
             -                                         local (api)\n",
        )
    );
}

#[test]
fn counts_block() {
    let c = GetTableCountsResponse {
        ipv4_prefixes: 3,
        ipv6_prefixes: 1,
        paths: 5,
    };
    assert_eq!(
        counts("in", Some("10.0.0.2"), &c),
        "Table:          in (10.0.0.2)\nIPv4 prefixes:  3\nIPv6 prefixes:  1\nPaths:          5\n"
    );
}

#[test]
fn reload_summary() {
    let r = ReloadResponse {
        peers_added: vec!["10.0.0.3".into()],
        peers_changed: vec!["10.0.0.2".into(), "10.0.0.4".into()],
        peers_reset: vec!["10.0.0.2".into()],
        originated_added: 2,
        ..ReloadResponse::default()
    };
    assert_eq!(
        reload(&r),
        "\
Reloaded: neighbors 1 added, 0 removed, 2 changed (1 reset); originated prefixes 2 added, 0 removed
  added:    10.0.0.3
  changed:  10.0.0.2, 10.0.0.4
  reset:    10.0.0.2
"
    );
}

#[test]
fn monitor_lines() {
    let t = "2025-03-01T12:00:05Z";
    let peer = WatchEvent {
        event: Some(watch_event::Event::Peer(PeerEvent {
            address: "10.0.0.2".into(),
            old_state: SessionState::Established as i32,
            new_state: SessionState::Idle as i32,
            reason: "hold timer expired".into(),
        })),
    };
    assert_eq!(
        event(t, &peer).unwrap(),
        "2025-03-01T12:00:05Z peer 10.0.0.2 Established -> Idle: hold timer expired"
    );
    let added = WatchEvent {
        event: Some(watch_event::Event::BestPath(BestPathEvent {
            kind: best_path_event::Kind::Added as i32,
            prefix: "192.0.2.0/24".into(),
            best: Some(fixtures::learned()),
            multipath: vec![fixtures::learned(), fixtures::multipath()],
        })),
    };
    assert_eq!(
        event(t, &added).unwrap(),
        "2025-03-01T12:00:05Z route added 192.0.2.0/24 via 10.0.0.2 as-path [65001 65002 \
         {65003,65004}] origin igp communities [65000:1 no-export 65000:1:2 rt:65000:100] \
         from 10.0.0.2 multipath 2"
    );
    let withdrawn = WatchEvent {
        event: Some(watch_event::Event::BestPath(BestPathEvent {
            kind: best_path_event::Kind::Withdrawn as i32,
            prefix: "192.0.2.0/24".into(),
            best: None,
            multipath: vec![],
        })),
    };
    assert_eq!(
        event(t, &withdrawn).unwrap(),
        "2025-03-01T12:00:05Z route withdrawn 192.0.2.0/24"
    );
    assert_eq!(event(t, &WatchEvent { event: None }), None);
}

#[test]
fn neighbor_detail_shows_policy_only_when_set() {
    let mut p = fixtures::established();
    let c = p.config.as_mut().unwrap();
    c.route_server_client = true;
    c.import_policy = vec!["in".into(), "tag".into()];
    c.default_import = bgp_api::bgpd::v1::PolicyDefault::Reject as i32;
    c.default_export = bgp_api::bgpd::v1::PolicyDefault::Accept as i32;
    let text = neighbor(&p);
    assert!(text.contains("\n  RS client:       yes\n"), "{text}");
    assert!(
        text.contains("\n  Import policy:   in, tag (default reject)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  Export policy:   none (default accept)\n"),
        "{text}"
    );
    assert!(!text.contains("Soft reconfig"), "{text}");
    assert!(!neighbor(&fixtures::established()).contains("policy"));
}
