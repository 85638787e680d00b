use bgp_api::bgpd::v1::{
    BestPathEvent, GetTableCountsResponse, PeerEvent, SessionState, best_path_event,
};
use serde_json::{Value, json};

use super::*;
use crate::format::fixtures;

fn value(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn global_fields() {
    assert_eq!(
        value(Global::from(&fixtures::global())),
        json!({
            "asn": 65000,
            "router_id": "10.0.0.1",
            "listen_addresses": ["0.0.0.0:179", "[::]:179"],
            "instance_id": "6f1c2a",
            "uptime_seconds": 312,
            "peers": 2,
            "established_peers": 1,
            "ipv4_prefixes": 12,
            "ipv6_prefixes": 3,
            "attribute_sets": 7,
            "version": "0.1.0"
        })
    );
}

#[test]
fn route_fields() {
    assert_eq!(
        value(Route::from(&fixtures::learned())),
        json!({
            "prefix": "192.0.2.0/24",
            "next_hop": "10.0.0.2",
            "origin": "igp",
            "as_path": "65001 65002 {65003,65004}",
            "as_path_segments": [
                {"type": "sequence", "asns": [65001, 65002]},
                {"type": "set", "asns": [65003, 65004]}
            ],
            "med": 10,
            "local_pref": 100,
            "communities": ["65000:1", "no-export"],
            "large_communities": ["65000:1:2"],
            "extended_communities": ["rt:65000:100"],
            "source_peer": "10.0.0.2",
            "source": "peer",
            "best": true,
            "multipath": false,
            "originator_id": null,
            "cluster_list": [],
            "path_id": 0,
            "atomic_aggregate": false
        })
    );
}

#[test]
fn originated_route_has_nulls_not_empty_strings() {
    let v = value(Route::from(&fixtures::originated()));
    assert_eq!(v["next_hop"], Value::Null);
    assert_eq!(v["source_peer"], Value::Null);
    assert_eq!(v["med"], Value::Null);
    assert_eq!(v["as_path"], "");
    assert_eq!(v["origin"], "incomplete");
    assert_eq!(v["source"], "api");
}

#[test]
fn routes_document() {
    let v = value(Routes::new(&[fixtures::learned(), fixtures::originated()]));
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[1]["prefix"], "198.51.100.0/24");
}

#[test]
fn neighbor_fields() {
    let mut v = value(Neighbor::from(&fixtures::established()));
    // The session object has its own tests (format/session.rs).
    let session = v.as_object_mut().unwrap().remove("session").unwrap();
    assert_eq!(session["tcp_md5"], false);
    assert_eq!(session["graceful_restart"]["helping"], false);
    let rules = v
        .as_object_mut()
        .and_then(|o| o.remove("session_rules"))
        .expect("session_rules");
    assert_eq!(rules["local_as"], Value::Null);
    assert_eq!(rules["prefix_limits"], json!([]));
    assert_eq!(
        v,
        json!({
            "address": "10.0.0.2",
            "peer_asn": 65001,
            "description": "tor-1",
            "source": "config",
            "enabled": true,
            "state": "established",
            "uptime_seconds": 93784,
            "last_error": null,
            "prefixes_received": 12,
            "prefixes_accepted": 11,
            "prefixes_advertised": 3,
            "port": 179,
            "passive": false,
            "hold_time": 90,
            "keepalive": 0,
            "families": ["ipv4-unicast"],
            "local_address": "10.0.0.1",
            "multihop_ttl": null,
            "route_reflector_client": false,
            "peer_router_id": "10.0.0.2",
            "negotiated_hold_time": 90,
            "negotiated_keepalive": 30,
            "negotiated_families": ["ipv4-unicast"],
            "four_octet_as": true,
            "route_refresh": true,
            "extended_message": false,
            "messages_sent": {
                "open": 1, "update": 3, "notification": 0, "keepalive": 3125,
                "route_refresh": 0, "total": 3129
            },
            "messages_received": {
                "open": 1, "update": 10, "notification": 0, "keepalive": 3126,
                "route_refresh": 0, "total": 3137
            },
            "prefixes": [
                {"family": "ipv4-unicast", "received": 12, "accepted": 11, "advertised": 3}
            ]
        })
    );
}

#[test]
fn disabled_neighbor() {
    let v = value(Neighbors::new(&[fixtures::disabled()]));
    let n = &v["neighbors"][0];
    assert_eq!(n["enabled"], false);
    assert_eq!(n["state"], "idle");
    assert_eq!(n["passive"], true);
    assert_eq!(n["peer_asn"], 4_200_000_000_u32);
    assert_eq!(n["last_error"], "administratively shut down");
    assert_eq!(n["description"], Value::Null);
}

#[test]
fn counts_fields() {
    let c = GetTableCountsResponse {
        ipv4_prefixes: 3,
        ipv6_prefixes: 1,
        paths: 5,
    };
    assert_eq!(
        value(Counts::new("loc", None, &c)),
        json!({"table": "loc", "peer": null, "ipv4_prefixes": 3, "ipv6_prefixes": 1, "paths": 5})
    );
}

#[test]
fn events_are_tagged_by_type() {
    let t = "2025-03-01T12:00:05Z";
    let peer = WatchEvent {
        event: Some(watch_event::Event::Peer(PeerEvent {
            address: "10.0.0.2".into(),
            old_state: SessionState::OpenConfirm as i32,
            new_state: SessionState::Established as i32,
            reason: String::new(),
        })),
    };
    assert_eq!(
        serde_json::to_string(&Event::new(t, &peer).unwrap()).unwrap(),
        r#"{"type":"peer","time":"2025-03-01T12:00:05Z","address":"10.0.0.2","old_state":"open_confirm","new_state":"established","reason":null}"#
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
        serde_json::to_string(&Event::new(t, &withdrawn).unwrap()).unwrap(),
        r#"{"type":"best_path","time":"2025-03-01T12:00:05Z","kind":"withdrawn","prefix":"192.0.2.0/24","best":null,"multipath":[]}"#
    );
    assert_eq!(
        serde_json::to_string(&Event::Lagged { time: t.into() }).unwrap(),
        r#"{"type":"lagged","time":"2025-03-01T12:00:05Z"}"#
    );
}

#[test]
fn neighbor_policy_fields_appear_when_set() {
    let mut p = fixtures::established();
    let c = p.config.as_mut().unwrap();
    c.export_policy = vec!["out".into()];
    c.default_export = bgp_api::bgpd::v1::PolicyDefault::Reject as i32;
    c.soft_reconfiguration_inbound = true;
    let v = serde_json::to_value(Neighbor::from(&p)).unwrap();
    assert_eq!(v["export_policy"], serde_json::json!(["out"]));
    assert_eq!(v["default_export"], "reject");
    assert_eq!(v["soft_reconfiguration_inbound"], true);
    assert!(v.get("import_policy").is_none() && v.get("default_import").is_none());
    assert!(v.get("route_server_client").is_none());
}
