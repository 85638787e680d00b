//! The JSON that `-o json` prints. Field names are stable: scripts rely on them. Every field
//! is always present; an absent value is `null`.

use bgp_api::bgpd::v1::{
    AsSegment, FamilyCounters, GetGlobalResponse, GetTableCountsResponse, MessageCounters, Path,
    Peer, ReloadResponse, WatchEvent, as_segment, watch_event,
};
use serde::Serialize;

use super::human::prefix_totals;
use super::names;
use crate::parse::{fmt_as_path, fmt_community, fmt_ext_community, fmt_large_community};

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[derive(Debug, Serialize)]
pub(crate) struct Global {
    asn: u32,
    router_id: String,
    listen_addresses: Vec<String>,
    instance_id: String,
    uptime_seconds: u64,
    peers: u32,
    established_peers: u32,
    ipv4_prefixes: u64,
    ipv6_prefixes: u64,
    attribute_sets: u64,
    version: String,
}

impl From<&GetGlobalResponse> for Global {
    fn from(g: &GetGlobalResponse) -> Self {
        Global {
            asn: g.asn,
            router_id: g.router_id.clone(),
            listen_addresses: g.listen_addresses.clone(),
            instance_id: g.instance_id.clone(),
            uptime_seconds: g.uptime_seconds,
            peers: g.peers,
            established_peers: g.established_peers,
            ipv4_prefixes: g.ipv4_prefixes,
            ipv6_prefixes: g.ipv6_prefixes,
            attribute_sets: g.attribute_sets,
            version: g.version.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Messages {
    open: u64,
    update: u64,
    notification: u64,
    keepalive: u64,
    route_refresh: u64,
    total: u64,
}

impl From<&MessageCounters> for Messages {
    fn from(m: &MessageCounters) -> Self {
        Messages {
            open: m.open,
            update: m.update,
            notification: m.notification,
            keepalive: m.keepalive,
            route_refresh: m.route_refresh,
            total: m.total,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Prefixes {
    family: &'static str,
    received: u64,
    accepted: u64,
    advertised: u64,
}

impl From<&FamilyCounters> for Prefixes {
    fn from(c: &FamilyCounters) -> Self {
        Prefixes {
            family: names::family(c.family),
            received: c.received,
            accepted: c.accepted,
            advertised: c.advertised,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Neighbor {
    address: String,
    peer_asn: u32,
    description: Option<String>,
    /// `config` or `api`.
    source: String,
    enabled: bool,
    state: &'static str,
    uptime_seconds: u64,
    last_error: Option<String>,
    prefixes_received: u64,
    prefixes_accepted: u64,
    prefixes_advertised: u64,
    port: u32,
    passive: bool,
    hold_time: u32,
    keepalive: u32,
    families: Vec<&'static str>,
    local_address: Option<String>,
    multihop_ttl: Option<u32>,
    route_reflector_client: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    route_server_client: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    soft_reconfiguration_inbound: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    import_policy: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    export_policy: Vec<String>,
    /// `accept`, `reject`, or absent for the global default.
    #[serde(skip_serializing_if = "Option::is_none")]
    default_import: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_export: Option<&'static str>,
    peer_router_id: Option<String>,
    negotiated_hold_time: u32,
    negotiated_keepalive: u32,
    negotiated_families: Vec<&'static str>,
    four_octet_as: bool,
    route_refresh: bool,
    extended_message: bool,
    messages_sent: Messages,
    messages_received: Messages,
    prefixes: Vec<Prefixes>,
    /// TCP MD5, GTSM, interface and graceful restart.
    session: super::session::Session,
    session_rules: super::rules::Rules,
}

/// A neighbor's default action, `None` for the global default.
fn policy_default(d: i32) -> Option<&'static str> {
    match bgp_api::bgpd::v1::PolicyDefault::try_from(d) {
        Ok(bgp_api::bgpd::v1::PolicyDefault::Accept) => Some("accept"),
        Ok(bgp_api::bgpd::v1::PolicyDefault::Reject) => Some("reject"),
        _ => None,
    }
}

impl From<&Peer> for Neighbor {
    fn from(p: &Peer) -> Self {
        let c = p.config.clone().unwrap_or_default();
        let s = p.status.clone().unwrap_or_default();
        let (received, accepted, advertised) = prefix_totals(p);
        let session_rules = super::rules::Rules::new(&c, &s);
        let enabled = match &p.status {
            Some(s) => s.enabled,
            None => c.enabled.unwrap_or(true),
        };
        Neighbor {
            address: c.address,
            peer_asn: c.peer_asn,
            description: non_empty(&c.description),
            source: p.source.clone(),
            enabled,
            state: names::state_json(s.state),
            uptime_seconds: s.uptime_seconds,
            last_error: non_empty(&s.last_error),
            prefixes_received: received,
            prefixes_accepted: accepted,
            prefixes_advertised: advertised,
            port: if c.port == 0 { 179 } else { c.port },
            passive: c.passive,
            hold_time: if c.hold_time == 0 { 90 } else { c.hold_time },
            keepalive: c.keepalive,
            families: c.families.iter().map(|f| names::family(*f)).collect(),
            local_address: non_empty(&s.local_address).or_else(|| non_empty(&c.local_address)),
            multihop_ttl: (c.multihop_ttl != 0).then_some(c.multihop_ttl),
            route_reflector_client: c.route_reflector_client,
            route_server_client: c.route_server_client,
            soft_reconfiguration_inbound: c.soft_reconfiguration_inbound,
            import_policy: c.import_policy.clone(),
            export_policy: c.export_policy.clone(),
            default_import: policy_default(c.default_import),
            default_export: policy_default(c.default_export),
            peer_router_id: non_empty(&s.peer_router_id),
            negotiated_hold_time: s.hold_time,
            negotiated_keepalive: s.keepalive,
            negotiated_families: s.families.iter().map(|f| names::family(*f)).collect(),
            four_octet_as: s.four_octet_as,
            route_refresh: s.route_refresh,
            extended_message: s.extended_message,
            messages_sent: (&s.sent.unwrap_or_default()).into(),
            messages_received: (&s.received.unwrap_or_default()).into(),
            prefixes: s.prefixes.iter().map(Prefixes::from).collect(),
            session: super::session::Session::from(p),
            session_rules,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Neighbors {
    neighbors: Vec<Neighbor>,
}

impl Neighbors {
    pub(crate) fn new(peers: &[Peer]) -> Self {
        Neighbors {
            neighbors: peers.iter().map(Neighbor::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Segment {
    /// `sequence`, `set`, `confed_sequence`, `confed_set`.
    r#type: &'static str,
    asns: Vec<u32>,
}

impl From<&AsSegment> for Segment {
    fn from(s: &AsSegment) -> Self {
        let r#type = match s.r#type() {
            as_segment::Type::Sequence => "sequence",
            as_segment::Type::Set => "set",
            as_segment::Type::ConfedSequence => "confed_sequence",
            as_segment::Type::ConfedSet => "confed_set",
        };
        Segment {
            r#type,
            asns: s.asns.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Route {
    prefix: String,
    /// `null` for "next hop self".
    next_hop: Option<String>,
    origin: &'static str,
    /// The path as text, `65001 {65002,65003}`.
    as_path: String,
    as_path_segments: Vec<Segment>,
    med: Option<u32>,
    local_pref: Option<u32>,
    communities: Vec<String>,
    large_communities: Vec<String>,
    extended_communities: Vec<String>,
    /// `null` for a path originated here.
    source_peer: Option<String>,
    /// `config`, `api` or `peer`.
    source: String,
    best: bool,
    multipath: bool,
    originator_id: Option<String>,
    cluster_list: Vec<String>,
    path_id: u32,
    atomic_aggregate: bool,
}

impl From<&Path> for Route {
    fn from(p: &Path) -> Self {
        Route {
            prefix: p.prefix.clone(),
            next_hop: non_empty(&p.next_hop),
            origin: names::origin(p.origin),
            as_path: fmt_as_path(&p.as_path),
            as_path_segments: p.as_path.iter().map(Segment::from).collect(),
            med: p.med,
            local_pref: p.local_pref,
            communities: p.communities.iter().map(|c| fmt_community(*c)).collect(),
            large_communities: p
                .large_communities
                .iter()
                .map(fmt_large_community)
                .collect(),
            extended_communities: p
                .extended_communities
                .iter()
                .map(|c| fmt_ext_community(*c))
                .collect(),
            source_peer: non_empty(&p.source_peer),
            source: p.source.clone(),
            best: p.best,
            multipath: p.multipath,
            originator_id: p.originator_id.clone(),
            cluster_list: p.cluster_list.clone(),
            path_id: p.path_id,
            atomic_aggregate: p.atomic_aggregate,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    pub(crate) fn new(paths: &[Path]) -> Self {
        Routes {
            routes: paths.iter().map(Route::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Counts {
    table: &'static str,
    peer: Option<String>,
    ipv4_prefixes: u64,
    ipv6_prefixes: u64,
    paths: u64,
}

impl Counts {
    pub(crate) fn new(table: &'static str, peer: Option<&str>, c: &GetTableCountsResponse) -> Self {
        Counts {
            table,
            peer: peer.map(str::to_owned),
            ipv4_prefixes: c.ipv4_prefixes,
            ipv6_prefixes: c.ipv6_prefixes,
            paths: c.paths,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Reload {
    peers_added: Vec<String>,
    peers_removed: Vec<String>,
    peers_changed: Vec<String>,
    peers_reset: Vec<String>,
    originated_added: u32,
    originated_removed: u32,
    /// Neighbours whose policy changed: address -> what it took.
    policy: Vec<PolicyEffect>,
}

/// A neighbour touched by a policy change.
#[derive(Debug, Serialize)]
pub(crate) struct PolicyEffect {
    pub(crate) address: String,
    pub(crate) action: String,
}

impl From<&bgp_api::bgpd::v1::PolicyEffect> for PolicyEffect {
    fn from(e: &bgp_api::bgpd::v1::PolicyEffect) -> Self {
        PolicyEffect {
            address: e.address.clone(),
            action: e.action.clone(),
        }
    }
}

impl From<&ReloadResponse> for Reload {
    fn from(r: &ReloadResponse) -> Self {
        Reload {
            peers_added: r.peers_added.clone(),
            peers_removed: r.peers_removed.clone(),
            peers_changed: r.peers_changed.clone(),
            peers_reset: r.peers_reset.clone(),
            originated_added: r.originated_added,
            originated_removed: r.originated_removed,
            policy: r.policy.iter().map(PolicyEffect::from).collect(),
        }
    }
}

/// One line of `monitor -o json`; `type` tells which.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Event {
    Peer {
        time: String,
        address: String,
        old_state: &'static str,
        new_state: &'static str,
        reason: Option<String>,
    },
    BestPath {
        time: String,
        /// `added`, `replaced`, `withdrawn`.
        kind: &'static str,
        prefix: String,
        best: Option<Box<Route>>,
        multipath: Vec<Route>,
    },
    /// The initial dump (`--dump`) is complete; what follows are changes.
    DumpDone { time: String },
    /// bgpd ended the stream because this client fell behind; the last line.
    Lagged { time: String },
}

impl Event {
    pub(crate) fn new(time: &str, e: &WatchEvent) -> Option<Self> {
        Some(match e.event.as_ref()? {
            watch_event::Event::Peer(p) => Event::Peer {
                time: time.to_owned(),
                address: p.address.clone(),
                old_state: names::state_json(p.old_state),
                new_state: names::state_json(p.new_state),
                reason: non_empty(&p.reason),
            },
            watch_event::Event::BestPath(b) => Event::BestPath {
                time: time.to_owned(),
                kind: names::best_path_kind(b.kind),
                prefix: b.prefix.clone(),
                best: b.best.as_ref().map(|p| Box::new(Route::from(p))),
                multipath: b.multipath.iter().map(Route::from).collect(),
            },
        })
    }
}

/// `{}` for a request whose answer carries nothing.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
