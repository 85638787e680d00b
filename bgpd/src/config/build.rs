//! Builds a [`Config`] from the parsed TOML tree: reads every section with the strict
//! [`reader`](super::reader), applies defaults and checks each rule, reporting every problem.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use ::config::{Map, Value, ValueKind};
use bgp_proto::Family;
use ipnet::IpNet;

use super::reader::{
    Problems, Reported, Table, boolean, integer, parsed, parsed_explained, string,
};
use super::{
    BGP_PORT, Community, Config, ConfigError, DEFAULT_CONNECT_RETRY, DEFAULT_CONNECT_RETRY_MAX,
    DEFAULT_HOLD_TIME, DEFAULT_LISTEN, Global, KNOWN_FAMILIES, LargeCommunity, Neighbor, Origin,
    Originate,
};

const ASN: &str = "an AS number 1..=4294967295 other than 23456 (AS_TRANS)";
const SECONDS: &str = "a number of seconds 1..=65535";
const HOLD_TIME: &str = "0 (no keepalives) or 3..=65535 seconds";
const MAX_DESCRIPTION: usize = 255;

/// Reads and validates the whole file.
pub(super) fn config(root: Map<String, Value>, file: &str) -> Result<Config, ConfigError> {
    let mut problems = Problems::new(file);
    let p = &mut problems;
    let mut root = Table::root(root);
    let global_table = root.table(p, "global");
    let neighbor_tables = root.tables(p, "neighbors");
    let originate_tables = root.tables(p, "originate");
    let api_table = root.table(p, "api").ok().flatten();
    let metrics_table = root.table(p, "metrics").ok().flatten();
    let gr_table = root.table(p, "graceful_restart").ok().flatten();
    let policy_sections = super::policy::take(&mut root, p);
    root.finish(p);
    let policy = super::policy::build(policy_sections, p);
    let api = super::services::api(api_table, p);
    let metrics = super::services::metrics(metrics_table, p);
    let graceful_restart = super::session::global(gr_table, p);
    let gr_defaults = graceful_restart
        .as_ref()
        .map(|g| g.defaults.clone())
        .unwrap_or_default();

    let (local_asn, global) = match global_table {
        Ok(Some(table)) => global(table, p),
        Ok(None) => {
            p.report(
                "global",
                "missing; expected a [global] section with at least asn and router_id",
            );
            (None, None)
        }
        Err(Reported) => (None, None),
    };
    let connect_retry = global
        .as_ref()
        .map_or(DEFAULT_CONNECT_RETRY, |g| g.connect_retry);

    let mut addresses = HashMap::new();
    let neighbors: Vec<Option<Neighbor>> = neighbor_tables
        .into_iter()
        .map(|t| neighbor(t, p, local_asn, connect_retry, &gr_defaults, &mut addresses))
        .collect();
    let mut prefixes = HashMap::new();
    let originate: Vec<Option<Originate>> = originate_tables
        .into_iter()
        .map(|t| originate(t, p, &mut prefixes))
        .collect();

    // Any `None` means a problem was reported, so `finish` returns the error.
    let config = global.and_then(|global| {
        Some(Config {
            global,
            neighbors: neighbors.into_iter().collect::<Option<_>>()?,
            originate: originate.into_iter().collect::<Option<_>>()?,
            api: api?,
            metrics: metrics?,
            graceful_restart: graceful_restart?,
            policy: policy?,
        })
    });
    if let Some(c) = &config {
        super::policy::check(&c.policy, &c.neighbors, p);
    }
    problems.finish(config)
}

/// `[global]`. Also returns the ASN on its own, so neighbors can be checked against it even
/// when another global key is wrong.
fn global(mut t: Table, p: &mut Problems) -> (Option<u32>, Option<Global>) {
    let reported = p.count();
    let asn = t.required(p, "asn", ASN, asn);
    let router_id = t.required(p, "router_id", "an IPv4 address other than 0.0.0.0", |v| {
        let id: Ipv4Addr = parsed(v, "an IPv4 address such as \"10.0.0.1\"")?;
        if id.is_unspecified() {
            return Err("0.0.0.0 is not a valid router id; expected another IPv4 address".into());
        }
        Ok(id)
    });
    let cluster_id = t.get(p, "cluster_id", cluster_id);
    let listen = t.list(
        p,
        "listen",
        "an array of \"IP:PORT\" strings",
        listen_address(),
    );
    let always_compare_med = t.or(p, "always_compare_med", false, boolean);
    let multipath = t.or(p, "multipath", false, boolean);
    let retry = t.or(p, "connect_retry", DEFAULT_CONNECT_RETRY, seconds);
    let retry_max = t.or(p, "connect_retry_max", DEFAULT_CONNECT_RETRY_MAX, seconds);
    if let (Some(retry), Some(max)) = (retry, retry_max)
        && max < retry
    {
        p.report(
            t.key("connect_retry_max"),
            format!(
                "{} is less than connect_retry ({}); expected at least connect_retry",
                max.as_secs(),
                retry.as_secs()
            ),
        );
    }
    t.finish(p);
    if p.count() > reported {
        return (asn, None);
    }

    let global = (|| {
        let router_id = router_id?;
        Some(Global {
            asn: asn?,
            router_id,
            cluster_id: cluster_id.ok()?.unwrap_or(router_id),
            listen: listen.ok()?.unwrap_or_else(|| DEFAULT_LISTEN.to_vec()),
            always_compare_med: always_compare_med?,
            multipath: multipath?,
            connect_retry: retry?,
            connect_retry_max: retry_max?,
        })
    })();
    (asn, global)
}

/// One `[[neighbors]]` entry. `addresses` maps each address seen so far to its key path.
fn neighbor(
    mut t: Table,
    p: &mut Problems,
    local_asn: Option<u32>,
    global_connect_retry: Duration,
    gr_defaults: &super::GracefulRestart,
    addresses: &mut HashMap<IpAddr, String>,
) -> Option<Neighbor> {
    let reported = p.count();
    let address = t.required(p, "address", "an IPv4 or IPv6 unicast address", |v| {
        unicast_address(v, "an IPv4 or IPv6 unicast address")
    });
    if let Some(address) = address
        && let Some(first) = first_use(addresses, address, &t)
    {
        p.report(
            t.key("address"),
            format!(
                "{address} is already the address of {first}; expected each neighbor address once"
            ),
        );
    }
    let port = t.or(p, "port", BGP_PORT, |v| {
        integer(v, 1..=65535, "a TCP port 1..=65535")
    });
    let peer_asn = t.required(p, "peer_asn", ASN, asn);
    let description = t.get(p, "description", description);
    let enabled = t.or(p, "enabled", true, boolean);
    let passive = t.or(p, "passive", false, boolean);
    let hold_time = t.or(p, "hold_time", DEFAULT_HOLD_TIME, |v| {
        match integer::<u16>(v, 0..=65535, HOLD_TIME)? {
            n @ 1..=2 => Err(format!("{n} is too short; expected {HOLD_TIME}")),
            n => Ok(Duration::from_secs(n.into())),
        }
    });
    let keepalive = t.get(p, "keepalive", |v| {
        integer::<u16>(v, 0..=65535, "0..=65535 seconds, less than hold_time")
    });
    let keepalive = match (hold_time, keepalive) {
        (Some(hold), Ok(keepalive)) => check_keepalive(&t, p, hold, keepalive),
        _ => None,
    };
    let families = t.list(
        p,
        "families",
        "an array of family names such as [\"ipv4-unicast\"]",
        family(),
    );
    let families = match families {
        Ok(Some(families)) if families.is_empty() => {
            p.report(
                t.key("families"),
                format!("is empty; expected at least one of {}", family_names()),
            );
            None
        }
        Ok(Some(families)) => Some(families),
        Ok(None) => address.map(|a| vec![unicast_family(a)]),
        Err(Reported) => None,
    };
    let local_address = t.get(p, "local_address", |v| {
        unicast_address(v, "an IPv4 or IPv6 unicast address")
    });
    if let (Some(address), Ok(Some(local))) = (address, local_address)
        && address.is_ipv4() != local.is_ipv4()
    {
        p.report(
            t.key("local_address"),
            format!(
                "{local} is not of the same family as address {address}; expected an {} address",
                ip_version(address)
            ),
        );
    }
    let ibgp = match (local_asn, peer_asn) {
        (Some(local), Some(peer)) => Some(local == peer),
        _ => None,
    };
    let multihop_ttl = t.get(p, "multihop_ttl", |v| {
        integer::<u8>(v, 1..=255, "a TTL 1..=255")
    });
    if let (Some(true), Ok(Some(_))) = (ibgp, multihop_ttl) {
        p.report(
            t.key("multihop_ttl"),
            "is only for eBGP neighbors, and this one is iBGP (peer_asn equals global.asn); \
             expected no multihop_ttl key",
        );
    }
    let rr_client = t.or(p, "route_reflector_client", false, boolean);
    if let (Some(false), Some(true)) = (ibgp, rr_client) {
        p.report(
            t.key("route_reflector_client"),
            "is only for iBGP neighbors, and this one is eBGP (peer_asn differs from \
             global.asn); expected false or no route_reflector_client key",
        );
    }
    let connect_retry = t.or(p, "connect_retry", global_connect_retry, seconds);
    let multihop = matches!(multihop_ttl, Ok(Some(_)));
    let session = super::session::neighbor(&mut t, p, gr_defaults, multihop);
    let rules_cx = super::session_rules::Context {
        local_asn,
        peer_asn,
        families: families.as_deref(),
    };
    let rules = super::session_rules::read(&mut t, p, rules_cx);
    let policy = super::policy::neighbor(&mut t, p, ibgp);
    t.finish(p);
    if p.count() > reported {
        return None;
    }

    Some(Neighbor {
        address: address?,
        port: port?,
        peer_asn: peer_asn?,
        description: description.ok()?,
        enabled: enabled?,
        passive: passive?,
        hold_time: hold_time?,
        keepalive: keepalive?,
        families: families?,
        local_address: local_address.ok()?,
        multihop_ttl: multihop_ttl.ok()?,
        route_reflector_client: rr_client?,
        connect_retry: connect_retry?,
        session: session?,
        rules: rules?,
        policy: policy.as_ref()?.assignment.clone(),
        route_server_client: policy.as_ref()?.route_server_client,
        soft_reconfiguration_inbound: policy?.soft_reconfiguration_inbound,
    })
}

/// Applies the keepalive rules: less than the hold time, zero only with a zero hold time,
/// a third of the hold time when not set.
fn check_keepalive(
    t: &Table,
    p: &mut Problems,
    hold: Duration,
    keepalive: Option<u16>,
) -> Option<Duration> {
    let hold = hold.as_secs();
    let Some(keepalive) = keepalive else {
        return Some(Duration::from_secs(hold / 3));
    };
    let problem = match (hold, u64::from(keepalive)) {
        (0, 0) => None,
        (0, k) => Some(format!(
            "{k} needs a hold time, but hold_time is 0 (no keepalives); expected 0 or no \
             keepalive key"
        )),
        (h, 0) => Some(format!(
            "0 (no keepalives) needs hold_time 0, but hold_time is {h}; expected 1..={}",
            h - 1
        )),
        (h, k) if k >= h => Some(format!(
            "{k} is not less than hold_time {h}; expected 1..={} (default: hold_time / 3 = {})",
            h - 1,
            h / 3
        )),
        _ => None,
    };
    match problem {
        Some(message) => {
            p.report(t.key("keepalive"), message);
            None
        }
        None => Some(Duration::from_secs(keepalive.into())),
    }
}

/// One `[[originate]]` entry. `prefixes` maps each prefix seen so far to its key path.
fn originate(
    mut t: Table,
    p: &mut Problems,
    prefixes: &mut HashMap<IpNet, String>,
) -> Option<Originate> {
    let reported = p.count();
    let prefix = t.required(p, "prefix", "a prefix such as \"192.0.2.0/24\"", prefix);
    if let Some(prefix) = prefix
        && let Some(first) = first_use(prefixes, prefix, &t)
    {
        p.report(
            t.key("prefix"),
            format!("{prefix} is already originated by {first}; expected each prefix once"),
        );
    }
    let next_hop = t.get(p, "next_hop", |v| {
        unicast_address(v, "an IPv4 or IPv6 unicast address")
    });
    if let (Some(prefix), Ok(Some(next_hop))) = (prefix, next_hop)
        && prefix.addr().is_ipv4() != next_hop.is_ipv4()
    {
        p.report(
            t.key("next_hop"),
            format!(
                "{next_hop} is not of the same family as prefix {prefix}; expected an {} \
                 address",
                ip_version(prefix.addr())
            ),
        );
    }
    let communities = t.list(
        p,
        "communities",
        "an array of strings such as [\"65000:100\", \"no-export\"]",
        |v| parsed_explained::<Community>(v, "a community such as \"65000:100\""),
    );
    let large_communities = t.list(
        p,
        "large_communities",
        "an array of strings such as [\"65000:1:2\"]",
        |v| parsed_explained::<LargeCommunity>(v, "a large community such as \"65000:1:2\""),
    );
    let med = t.get(p, "med", |v| integer(v, 0..=u32::MAX, "0..=4294967295"));
    let local_pref = t.get(p, "local_pref", |v| {
        integer(v, 0..=u32::MAX, "0..=4294967295")
    });
    let origin = t.or(p, "origin", Origin::Igp, |v| {
        parsed_explained::<Origin>(v, "\"igp\", \"egp\" or \"incomplete\"")
    });
    t.finish(p);

    if p.count() > reported {
        return None;
    }
    Some(Originate {
        prefix: prefix?,
        next_hop: next_hop.ok()?,
        communities: communities.ok()?.unwrap_or_default(),
        large_communities: large_communities.ok()?.unwrap_or_default(),
        med: med.ok()?,
        local_pref: local_pref.ok()?,
        origin: origin?,
    })
}

/// Records that the entry `t` uses `value`; if an earlier entry did, returns its path.
fn first_use<K: Hash + Eq>(seen: &mut HashMap<K, String>, value: K, t: &Table) -> Option<String> {
    match seen.entry(value) {
        Entry::Occupied(first) => Some(first.get().clone()),
        Entry::Vacant(slot) => {
            slot.insert(t.path().to_owned());
            None
        }
    }
}

fn asn(v: Value) -> Result<u32, String> {
    match integer::<u32>(v, 1..=u32::MAX, ASN)? {
        23456 => Err(format!(
            "23456 is AS_TRANS, which stands in for 4-octet AS numbers in OPEN (RFC 6793); \
             expected {ASN}"
        )),
        asn => Ok(asn),
    }
}

fn seconds(v: Value) -> Result<Duration, String> {
    integer::<u16>(v, 1..=65535, SECONDS).map(|s| Duration::from_secs(s.into()))
}

/// A cluster id: an IPv4-style dotted quad or a 32-bit integer.
fn cluster_id(v: Value) -> Result<Ipv4Addr, String> {
    const EXPECTED: &str = "a dotted quad such as \"10.0.0.1\" or an integer 0..=4294967295";
    if let ValueKind::String(_) = v.kind {
        parsed(v, EXPECTED)
    } else {
        integer::<u32>(v, 0..=u32::MAX, EXPECTED).map(Ipv4Addr::from)
    }
}

/// Converts `listen` entries, rejecting duplicates.
fn listen_address() -> impl FnMut(Value) -> Result<SocketAddr, String> {
    let mut seen = Vec::new();
    move |v| {
        const EXPECTED: &str = "\"IP:PORT\" such as \"0.0.0.0:179\" or \"[::]:179\"";
        let s = string(v, EXPECTED)?;
        let addr: SocketAddr = s.parse().map_err(|_| {
            let hint = match s.parse::<IpAddr>() {
                Ok(ip) => format!(" (did you mean \"{}\"?)", SocketAddr::new(ip, BGP_PORT)),
                Err(_) => String::new(),
            };
            format!("{s:?} is not a socket address{hint}; expected {EXPECTED}")
        })?;
        if seen.contains(&addr) {
            return Err(format!(
                "{addr} is listed twice; expected each address once"
            ));
        }
        seen.push(addr);
        Ok(addr)
    }
}

/// Converts `families` entries, rejecting unknown names and duplicates.
fn family() -> impl FnMut(Value) -> Result<Family, String> {
    let mut seen = Vec::new();
    move |v| {
        let expected = format!("one of {}", family_names());
        let s = string(v, &expected)?;
        let Some(&(_, family)) = KNOWN_FAMILIES.iter().find(|(name, _)| *name == s) else {
            return Err(format!("{s:?} is not a known family; expected {expected}"));
        };
        if seen.contains(&family) {
            return Err(format!("{s} is listed twice; expected each family once"));
        }
        seen.push(family);
        Ok(family)
    }
}

fn family_names() -> String {
    let names: Vec<String> = KNOWN_FAMILIES
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    names.join(", ")
}

fn unicast_family(address: IpAddr) -> Family {
    match address {
        IpAddr::V4(_) => Family::IPV4_UNICAST,
        IpAddr::V6(_) => Family::IPV6_UNICAST,
    }
}

fn ip_version(address: IpAddr) -> &'static str {
    if address.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// An address a host can have: not unspecified, multicast or broadcast.
fn unicast_address(v: Value, expected: &str) -> Result<IpAddr, String> {
    let address: IpAddr = parsed(v, expected)?;
    let bad = match address {
        IpAddr::V4(a) => a.is_unspecified() || a.is_multicast() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    };
    if bad {
        return Err(format!(
            "{address} is not a unicast address; expected {expected}"
        ));
    }
    Ok(address)
}

/// A prefix whose host bits are zero; suggests the corrected prefix otherwise.
fn prefix(v: Value) -> Result<IpNet, String> {
    const EXPECTED: &str = "a prefix such as \"192.0.2.0/24\" or \"2001:db8::/32\"";
    let s = string(v, EXPECTED)?;
    let prefix: IpNet = s.parse().map_err(|_| {
        let hint = match s.parse::<IpAddr>() {
            Ok(ip) => format!(" (did you mean \"{}\"?)", IpNet::from(ip)),
            Err(_) => String::new(),
        };
        format!("{s:?} is not a prefix{hint}; expected {EXPECTED}")
    })?;
    let network = prefix.trunc();
    if network != prefix {
        return Err(format!(
            "{prefix} has host bits set; did you mean \"{network}\"? Expected a prefix with \
             the bits after the length zero"
        ));
    }
    Ok(prefix)
}

/// Free text for logs and the API: at most 255 bytes, no control characters.
fn description(v: Value) -> Result<String, String> {
    let s = string(v, "a string of at most 255 bytes")?;
    if s.len() > MAX_DESCRIPTION {
        return Err(format!(
            "is {} bytes long; expected at most {MAX_DESCRIPTION} bytes",
            s.len()
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {c:?}; expected printable text (it appears in \
             logs and the API)"
        ));
    }
    Ok(s)
}
