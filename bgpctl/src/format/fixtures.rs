//! Sample API answers for the golden tests of the human and JSON output.

use bgp_api::bgpd::v1::{
    AsSegment, Family, FamilyCounters, GetGlobalResponse, LargeCommunity, MessageCounters, Origin,
    Path, Peer, PeerConfig, PeerStatus, SessionState, as_segment,
};

pub(crate) fn global() -> GetGlobalResponse {
    GetGlobalResponse {
        asn: 65000,
        router_id: "10.0.0.1".into(),
        listen_addresses: vec!["0.0.0.0:179".into(), "[::]:179".into()],
        instance_id: "6f1c2a".into(),
        uptime_seconds: 312,
        peers: 2,
        established_peers: 1,
        ipv4_prefixes: 12,
        ipv6_prefixes: 3,
        attribute_sets: 7,
        version: "0.1.0".into(),
    }
}

/// An established eBGP peer with counters.
pub(crate) fn established() -> Peer {
    Peer {
        config: Some(PeerConfig {
            address: "10.0.0.2".into(),
            peer_asn: 65001,
            hold_time: 90,
            families: vec![Family::Ipv4Unicast as i32],
            description: "tor-1".into(),
            ..PeerConfig::default()
        }),
        status: Some(PeerStatus {
            state: SessionState::Established as i32,
            uptime_seconds: 93_784,
            peer_router_id: "10.0.0.2".into(),
            hold_time: 90,
            keepalive: 30,
            families: vec![Family::Ipv4Unicast as i32],
            four_octet_as: true,
            route_refresh: true,
            sent: Some(MessageCounters {
                open: 1,
                update: 3,
                keepalive: 3125,
                total: 3129,
                ..Default::default()
            }),
            received: Some(MessageCounters {
                open: 1,
                update: 10,
                keepalive: 3126,
                total: 3137,
                ..Default::default()
            }),
            prefixes: vec![FamilyCounters {
                family: Family::Ipv4Unicast as i32,
                received: 12,
                accepted: 11,
                advertised: 3,
            }],
            local_address: "10.0.0.1".into(),
            enabled: true,
            ..PeerStatus::default()
        }),
        source: "config".into(),
    }
}

/// A disabled passive IPv6 peer added through the API.
pub(crate) fn disabled() -> Peer {
    Peer {
        config: Some(PeerConfig {
            address: "2001:db8::9".into(),
            peer_asn: 4_200_000_000,
            passive: true,
            enabled: Some(false),
            ..PeerConfig::default()
        }),
        status: Some(PeerStatus {
            state: SessionState::Idle as i32,
            last_error: "administratively shut down".into(),
            enabled: false,
            ..PeerStatus::default()
        }),
        source: "api".into(),
    }
}

/// A best path learned from a peer, with every kind of community.
pub(crate) fn learned() -> Path {
    Path {
        prefix: "192.0.2.0/24".into(),
        next_hop: "10.0.0.2".into(),
        origin: Origin::Igp as i32,
        as_path: vec![
            AsSegment {
                r#type: as_segment::Type::Sequence as i32,
                asns: vec![65001, 65002],
            },
            AsSegment {
                r#type: as_segment::Type::Set as i32,
                asns: vec![65003, 65004],
            },
        ],
        med: Some(10),
        local_pref: Some(100),
        communities: vec![65000 << 16 | 1, 0xFFFF_FF01],
        large_communities: vec![LargeCommunity {
            global_admin: 65000,
            local_data1: 1,
            local_data2: 2,
        }],
        extended_communities: vec![0x0002_fde8_0000_0064],
        source_peer: "10.0.0.2".into(),
        source: "peer".into(),
        best: true,
        ..Path::default()
    }
}

/// A path originated through the API with next hop self.
pub(crate) fn originated() -> Path {
    Path {
        prefix: "198.51.100.0/24".into(),
        origin: Origin::Incomplete as i32,
        source: "api".into(),
        best: true,
        ..Path::default()
    }
}

/// A path that is not best (for `rib list --all`) but in the multipath set.
pub(crate) fn multipath() -> Path {
    Path {
        next_hop: "10.0.0.3".into(),
        source_peer: "10.0.0.3".into(),
        best: false,
        multipath: true,
        med: None,
        local_pref: None,
        communities: vec![],
        large_communities: vec![],
        extended_communities: vec![],
        ..learned()
    }
}
