//! Conversions between the API's messages and the daemon's types. Every invalid argument
//! becomes `InvalidArgument` with a message that names the field.

use std::net::IpAddr;

use bgp_api::bgpd::v1 as pb;
use bgp_proto::Family;
use bgp_proto::PathAttributes;
use bgp_proto::attr::{
    AsPath, AttrValue, Communities, ExtCommunities, ExtCommunity, LargeCommunities, LargeCommunity,
    NextHop, Origin, SegmentType,
};
use ipnet::IpNet;
use tonic::Status;

use crate::config::{self, Neighbor};
use crate::control::PeerSnapshot;
use crate::fsm::State;
use crate::rib::query::PathView;
use crate::rib::{LocalRoute, PeerPrefixes};

/// `InvalidArgument` naming `field`.
pub(crate) fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    Status::invalid_argument(cap(format!("{field}: {message}")))
}

/// Longest status message: it travels in an HTTP/2 header, and a header larger than the
/// client accepts (16 KiB by default) makes it drop the whole connection.
const MAX_MESSAGE: usize = 4096;

/// `m`, cut to [`MAX_MESSAGE`] bytes.
pub(crate) fn cap(mut m: String) -> String {
    if m.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE - 3;
        while !m.is_char_boundary(end) {
            end -= 1;
        }
        m.truncate(end);
        m.push_str("...");
    }
    m
}

/// A client's text quoted in a message: at most 64 characters of it.
pub(crate) fn shown(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((end, _)) => format!(
            "{:?}... ({} bytes)",
            s.get(..end).unwrap_or_default(),
            s.len()
        ),
        None => format!("{s:?}"),
    }
}

pub(crate) fn address(field: &str, s: &str) -> Result<IpAddr, Status> {
    s.parse()
        .map_err(|_| invalid(field, format!("{} is not an IP address", shown(s))))
}

/// A prefix with its host bits zero.
pub(crate) fn prefix(field: &str, s: &str) -> Result<IpNet, Status> {
    let p: IpNet = s.parse().map_err(|_| {
        invalid(
            field,
            format!("{} is not a prefix such as \"192.0.2.0/24\"", shown(s)),
        )
    })?;
    if p.trunc() != p {
        return Err(invalid(
            field,
            format!("{p} has host bits set; did you mean {}?", p.trunc()),
        ));
    }
    Ok(p)
}

pub(crate) fn family_from(field: &str, f: i32) -> Result<Option<Family>, Status> {
    match pb::Family::try_from(f) {
        Ok(pb::Family::Unspecified) => Ok(None),
        Ok(pb::Family::Ipv4Unicast) => Ok(Some(Family::IPV4_UNICAST)),
        Ok(pb::Family::Ipv6Unicast) => Ok(Some(Family::IPV6_UNICAST)),
        Err(_) => Err(invalid(field, format!("unknown family {f}"))),
    }
}

pub(crate) fn family_to(f: Family) -> i32 {
    match f {
        Family::IPV4_UNICAST => pb::Family::Ipv4Unicast as i32,
        Family::IPV6_UNICAST => pb::Family::Ipv6Unicast as i32,
        _ => pb::Family::Unspecified as i32,
    }
}

/// A peer's settings, validated by the same rules as the configuration file: the request is
/// written as a `[[neighbors]]` entry and read back, and the file's key paths are renamed
/// to the request's field names.
pub(crate) fn neighbor(
    p: Option<pb::PeerConfig>,
    asn: u32,
    router_id: std::net::Ipv4Addr,
) -> Result<Neighbor, Status> {
    let p = p.ok_or_else(|| invalid("peer", "missing"))?;
    let addr = address("peer.address", &p.address)?;
    let mut toml = format!(
        "[global]\nasn = {asn}\nrouter_id = \"{router_id}\"\nlisten = []\n[[neighbors]]\naddress = \"{addr}\"\npeer_asn = {}\n",
        p.peer_asn
    );
    let q = toml_string;
    if p.port != 0 {
        toml += &format!("port = {}\n", p.port);
    }
    toml += &format!("passive = {}\n", p.passive);
    if p.hold_time != 0 {
        toml += &format!("hold_time = {}\n", p.hold_time);
    }
    if p.keepalive != 0 {
        toml += &format!("keepalive = {}\n", p.keepalive);
    }
    if !p.families.is_empty() {
        let mut names = Vec::new();
        for (i, f) in p.families.iter().enumerate() {
            let field = format!("peer.families[{i}]");
            let name = match family_from(&field, *f)? {
                Some(Family::IPV4_UNICAST) => "ipv4-unicast",
                Some(Family::IPV6_UNICAST) => "ipv6-unicast",
                _ => return Err(invalid(&field, "expected IPV4_UNICAST or IPV6_UNICAST")),
            };
            names.push(q(name));
        }
        toml += &format!("families = [{}]\n", names.join(", "));
    }
    if !p.local_address.is_empty() {
        let a = address("peer.local_address", &p.local_address)?;
        toml += &format!("local_address = \"{a}\"\n");
    }
    if p.multihop_ttl != 0 {
        toml += &format!("multihop_ttl = {}\n", p.multihop_ttl);
    }
    toml += &format!("route_reflector_client = {}\n", p.route_reflector_client);
    toml += &super::convert_session::neighbor_toml(&p);
    if !p.description.is_empty() {
        toml += &format!("description = {}\n", q(&p.description));
    }
    toml += &format!("enabled = {}\n", p.enabled.unwrap_or(true));
    toml += &format!("route_server_client = {}\n", p.route_server_client);
    toml += &format!(
        "soft_reconfiguration_inbound = {}\n",
        p.soft_reconfiguration_inbound
    );
    // Last: it may open `[[neighbors.max_prefix]]` / `[[neighbors.add_path]]` tables.
    super::session_rules::to_toml(&p, &mut toml)?;
    let assignment = super::policy::peer_assignment(&p)?;
    let cfg = config::from_str(&toml, "api").map_err(|e| {
        let first = e.errors().first().map(|p| {
            let key = p.key().unwrap_or("peer").replace("neighbors[0]", "peer");
            format!("{key}: {}", p.message())
        });
        Status::invalid_argument(cap(first.unwrap_or_else(|| e.to_string())))
    })?;
    let mut n = cfg
        .neighbors
        .into_iter()
        .next()
        .ok_or_else(|| invalid("peer", "not understood"))?;
    n.policy = assignment;
    Ok(n)
}

/// `s` as a TOML basic string. Every character outside printable ASCII is written as a
/// `\uXXXX` or `\UXXXXXXXX` escape, so that any text reaches the configuration's checks
/// (which name the field) instead of failing as a TOML syntax error.
pub(super) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xffff => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

pub(crate) fn peer_config(n: &Neighbor) -> pb::PeerConfig {
    let mut config = pb::PeerConfig {
        address: n.address.to_string(),
        port: u32::from(n.port),
        peer_asn: n.peer_asn,
        passive: n.passive,
        hold_time: u32::try_from(n.hold_time.as_secs()).unwrap_or(u32::MAX),
        keepalive: u32::try_from(n.keepalive.as_secs()).unwrap_or(u32::MAX),
        families: n.families.iter().map(|f| family_to(*f)).collect(),
        local_address: n.local_address.map(|a| a.to_string()).unwrap_or_default(),
        multihop_ttl: n.multihop_ttl.map_or(0, u32::from),
        route_reflector_client: n.route_reflector_client,
        description: n.description.clone().unwrap_or_default(),
        enabled: Some(n.enabled),
        import_policy: n.policy.import.clone(),
        export_policy: n.policy.export.clone(),
        default_import: super::policy::default_to(n.policy.default_import),
        default_export: super::policy::default_to(n.policy.default_export),
        route_server_client: n.route_server_client,
        soft_reconfiguration_inbound: n.soft_reconfiguration_inbound,
        ..super::convert_session::peer_config(&n.session)
    };
    super::session_rules::fill_config(n, &mut config);
    config
}

pub(crate) fn session_state(s: State) -> i32 {
    (match s {
        State::Idle => pb::SessionState::Idle,
        State::Connect => pb::SessionState::Connect,
        State::Active => pb::SessionState::Active,
        State::OpenSent => pb::SessionState::OpenSent,
        State::OpenConfirm => pb::SessionState::OpenConfirm,
        State::Established => pb::SessionState::Established,
    }) as i32
}

fn counters(c: [u64; 5]) -> pb::MessageCounters {
    pb::MessageCounters {
        open: c[0],
        update: c[1],
        notification: c[2],
        keepalive: c[3],
        route_refresh: c[4],
        total: c.iter().sum(),
    }
}

pub(crate) fn peer(s: &PeerSnapshot, prefixes: Option<&PeerPrefixes>) -> pb::Peer {
    let session = s.status.session.as_ref();
    let p = prefixes.copied().unwrap_or_default();
    let fam = |family: Family, accepted: u64, advertised: u64| pb::FamilyCounters {
        family: family_to(family),
        received: accepted,
        accepted,
        advertised,
    };
    let mut status = pb::PeerStatus {
        state: session_state(s.status.state),
        uptime_seconds: session.map_or(0, |x| x.since.elapsed().as_secs()),
        last_error: s.status.last_error.clone().unwrap_or_default(),
        peer_router_id: session
            .map(|x| x.peer_router_id.to_string())
            .unwrap_or_default(),
        hold_time: session.map_or(0, |x| u32::from(x.hold_time)),
        keepalive: session.map_or(0, |x| u32::from(x.keepalive)),
        families: session
            .map(|x| x.families.iter().map(|f| family_to(*f)).collect())
            .unwrap_or_default(),
        four_octet_as: session.is_some_and(|x| x.four_octet_as),
        route_refresh: session.is_some_and(|x| x.route_refresh),
        extended_message: session.is_some_and(|x| x.extended_message),
        sent: Some(counters(s.sent)),
        received: Some(counters(s.received)),
        // The families of the session only.
        prefixes: session
            .map(|x| {
                [
                    fam(Family::IPV4_UNICAST, p.accepted.0, p.advertised.0),
                    fam(Family::IPV6_UNICAST, p.accepted.1, p.advertised.1),
                ]
                .into_iter()
                .filter(|c| x.families.iter().any(|f| family_to(*f) == c.family))
                .collect()
            })
            .unwrap_or_default(),
        local_address: session
            .map(|x| x.local.ip().to_string())
            .unwrap_or_default(),
        enabled: s.status.enabled,
        graceful_restart: Some(super::convert_session::graceful_status(&s.status.graceful)),
        ..pb::PeerStatus::default()
    };
    super::session_rules::fill_status(&s.neighbor, &s.status, &p, &mut status);
    pb::Peer {
        config: Some(peer_config(&s.neighbor)),
        status: Some(status),
        source: s.source.as_str().to_string(),
    }
}

/// A path to originate, from the API.
pub(crate) fn local_route(p: Option<pb::Path>) -> Result<LocalRoute, Status> {
    let p = p.ok_or_else(|| invalid("path", "missing"))?;
    let pfx = prefix("path.prefix", &p.prefix)?;
    let next_hop = if p.next_hop.is_empty() {
        None
    } else {
        let a = address("path.next_hop", &p.next_hop)?;
        if a.is_ipv4() != matches!(pfx, IpNet::V4(_)) {
            return Err(invalid(
                "path.next_hop",
                format!("{a} is not of the prefix's address family"),
            ));
        }
        if a.is_unspecified() || a.is_multicast() {
            return Err(invalid(
                "path.next_hop",
                format!("{a} is not a usable next hop"),
            ));
        }
        Some(a)
    };
    let origin = match pb::Origin::try_from(p.origin) {
        Ok(pb::Origin::Igp) => Origin::Igp,
        Ok(pb::Origin::Egp) => Origin::Egp,
        Ok(pb::Origin::Incomplete) => Origin::Incomplete,
        Err(_) => {
            return Err(invalid(
                "path.origin",
                format!("unknown origin {}", p.origin),
            ));
        }
    };
    let mut segments = Vec::new();
    for (i, s) in p.as_path.iter().enumerate() {
        let kind = match pb::as_segment::Type::try_from(s.r#type) {
            Ok(pb::as_segment::Type::Sequence) => SegmentType::Sequence,
            Ok(pb::as_segment::Type::Set) => SegmentType::Set,
            Ok(pb::as_segment::Type::ConfedSequence) => SegmentType::ConfedSequence,
            Ok(pb::as_segment::Type::ConfedSet) => SegmentType::ConfedSet,
            Err(_) => {
                return Err(invalid(
                    &format!("path.as_path[{i}].type"),
                    "unknown segment type",
                ));
            }
        };
        if s.asns.is_empty() {
            return Err(invalid(
                &format!("path.as_path[{i}].asns"),
                "a segment needs at least one AS",
            ));
        }
        segments.push((kind, s.asns.clone()));
    }
    let mut attrs = PathAttributes::new()
        .with(AttrValue::Origin(origin))
        .with(AttrValue::AsPath(AsPath::from_segments(segments)));
    if let Some(med) = p.med {
        attrs = attrs.with(AttrValue::Med(med));
    }
    if let Some(lp) = p.local_pref {
        attrs = attrs.with(AttrValue::LocalPref(lp));
    }
    if !p.communities.is_empty() {
        let c = Communities::new(p.communities.iter().map(|c| bgp_proto::attr::Community(*c)));
        attrs = attrs.with(AttrValue::Communities(c));
    }
    if !p.large_communities.is_empty() {
        let l = p
            .large_communities
            .iter()
            .map(|c| LargeCommunity::new(c.global_admin, c.local_data1, c.local_data2));
        attrs = attrs.with(AttrValue::LargeCommunities(LargeCommunities::new(l)));
    }
    if !p.extended_communities.is_empty() {
        let e = p
            .extended_communities
            .iter()
            .map(|c| ExtCommunity(c.to_be_bytes()));
        attrs = attrs.with(AttrValue::ExtCommunities(ExtCommunities::new(e)));
    }
    Ok(LocalRoute {
        prefix: pfx,
        attrs,
        next_hop,
    })
}

/// About the encoded size of `p` in bytes (an upper bound for the usual fields), to keep
/// responses small.
pub(crate) fn path_size(p: &pb::Path) -> usize {
    let text = |s: &str| 2 + s.len();
    64 + text(&p.prefix)
        + text(&p.next_hop)
        + text(&p.source_peer)
        + text(&p.source)
        + p.as_path
            .iter()
            .map(|s| 4 + 5 * s.asns.len())
            .sum::<usize>()
        + 5 * p.communities.len()
        + 17 * p.large_communities.len()
        + 9 * p.extended_communities.len()
        + p.cluster_list.iter().map(|c| text(c)).sum::<usize>()
}

/// A path as the API shows it.
pub(crate) fn path(v: &PathView) -> pb::Path {
    let a = &v.attrs.attrs;
    let as_path = a
        .as_path()
        .map(|p| {
            p.segments()
                .map(|s| pb::AsSegment {
                    r#type: (match s.kind() {
                        SegmentType::Sequence => pb::as_segment::Type::Sequence,
                        SegmentType::Set => pb::as_segment::Type::Set,
                        SegmentType::ConfedSequence => pb::as_segment::Type::ConfedSequence,
                        SegmentType::ConfedSet => pb::as_segment::Type::ConfedSet,
                    }) as i32,
                    asns: s.asns().collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    let next_hop = match &v.attrs.next_hop {
        NextHop::V4(x) if !x.is_unspecified() => x.to_string(),
        NextHop::V6 { global, .. } if !global.is_unspecified() => global.to_string(),
        _ => String::new(),
    };
    pb::Path {
        prefix: v.prefix.to_string(),
        next_hop,
        origin: a
            .origin()
            .map_or(pb::Origin::Incomplete as i32, |o| i32::from(o.as_u8())),
        as_path,
        med: a.med(),
        local_pref: a.local_pref(),
        communities: a
            .communities()
            .map(|c| c.iter().map(|c| c.0).collect())
            .unwrap_or_default(),
        large_communities: a
            .large_communities()
            .map(|c| {
                c.iter()
                    .map(|c| pb::LargeCommunity {
                        global_admin: c.global,
                        local_data1: c.local1,
                        local_data2: c.local2,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        extended_communities: a
            .ext_communities()
            .map(|c| c.iter().map(|c| u64::from_be_bytes(c.0)).collect())
            .unwrap_or_default(),
        source_peer: v.peer_addr.map(|a| a.to_string()).unwrap_or_default(),
        source: (match v.peer {
            crate::rib::LOCAL_PEER => "config",
            crate::rib::API_PEER => "api",
            _ => "peer",
        })
        .to_string(),
        best: v.best,
        multipath: v.multipath,
        originator_id: a.originator_id().map(|x| x.to_string()),
        cluster_list: a
            .cluster_list()
            .map(|c| c.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default(),
        path_id: v.path_id,
        atomic_aggregate: a.atomic_aggregate(),
        stale: v.stale,
    }
}
