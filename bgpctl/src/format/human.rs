//! The text that bgpctl prints for people: tables and `key: value` blocks.

use bgp_api::bgpd::v1::{
    GetGlobalResponse, GetTableCountsResponse, MessageCounters, Path, Peer, ReloadResponse,
    SessionState, WatchEvent, watch_event,
};

use super::names;
use super::table::{Align, Table, key_values};
use crate::parse::{fmt_as_path, fmt_community, fmt_ext_community, fmt_large_community};

/// A neighbor's chain and default, `None` when it has neither.
fn chain_text(chain: &[String], default: i32) -> Option<String> {
    let default = match bgp_api::bgpd::v1::PolicyDefault::try_from(default) {
        Ok(bgp_api::bgpd::v1::PolicyDefault::Accept) => Some("accept"),
        Ok(bgp_api::bgpd::v1::PolicyDefault::Reject) => Some("reject"),
        _ => None,
    };
    match (chain.is_empty(), default) {
        (true, None) => None,
        (true, Some(d)) => Some(format!("none (default {d})")),
        (false, None) => Some(chain.join(", ")),
        (false, Some(d)) => Some(format!("{} (default {d})", chain.join(", "))),
    }
}

/// `-` for an empty cell.
fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

/// `GetGlobal` as `key: value` lines.
pub(crate) fn global(g: &GetGlobalResponse) -> String {
    let listen = if g.listen_addresses.is_empty() {
        "none (outbound sessions only)".to_owned()
    } else {
        g.listen_addresses.join(", ")
    };
    key_values(
        "",
        &[
            ("AS", g.asn.to_string()),
            ("Router ID", g.router_id.clone()),
            ("Listen", listen),
            ("Uptime", names::uptime(g.uptime_seconds)),
            (
                "Peers",
                format!(
                    "{} configured, {} established",
                    g.peers, g.established_peers
                ),
            ),
            (
                "Prefixes",
                format!("{} IPv4, {} IPv6", g.ipv4_prefixes, g.ipv6_prefixes),
            ),
            ("Attribute sets", g.attribute_sets.to_string()),
            ("Version", or_dash(&g.version)),
            ("Instance ID", or_dash(&g.instance_id)),
        ],
    )
}

/// Whether the peer is administratively enabled.
fn enabled(p: &Peer) -> bool {
    match (&p.status, &p.config) {
        (Some(s), _) => s.enabled,
        (None, Some(c)) => c.enabled.unwrap_or(true),
        (None, None) => true,
    }
}

/// The state column: the FSM state, or `Idle (Admin)` for a disabled peer.
fn state_cell(p: &Peer) -> String {
    let state = p.status.as_ref().map_or(0, |s| s.state);
    if enabled(p) {
        names::state(state).to_owned()
    } else {
        format!("{} (Admin)", names::state(state))
    }
}

/// Prefixes received, accepted and advertised, over all families.
pub(crate) fn prefix_totals(p: &Peer) -> (u64, u64, u64) {
    let counters = p.status.iter().flat_map(|s| &s.prefixes);
    counters.fold((0, 0, 0), |(r, a, s), c| {
        (r + c.received, a + c.accepted, s + c.advertised)
    })
}

fn is_established(p: &Peer) -> bool {
    p.status
        .as_ref()
        .is_some_and(|s| s.state == SessionState::Established as i32)
}

/// `ListPeers` as a table.
pub(crate) fn neighbors(peers: &[Peer]) -> String {
    let mut t = Table::new(&[
        ("Peer", Align::Left),
        ("AS", Align::Right),
        ("State", Align::Left),
        ("Up", Align::Right),
        ("Rcvd", Align::Right),
        ("Accepted", Align::Right),
        ("Advertised", Align::Right),
        ("Description", Align::Left),
    ]);
    for p in peers {
        let config = p.config.clone().unwrap_or_default();
        let uptime = match &p.status {
            Some(s) if is_established(p) => names::uptime(s.uptime_seconds),
            _ => "-".to_owned(),
        };
        let (rcvd, accepted, advertised) = prefix_totals(p);
        t.row(vec![
            config.address,
            config.peer_asn.to_string(),
            state_cell(p),
            uptime,
            rcvd.to_string(),
            accepted.to_string(),
            advertised.to_string(),
            config.description,
        ]);
    }
    t.render()
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// Indents every line of `text`.
fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// `GetPeer` in detail.
pub(crate) fn neighbor(p: &Peer) -> String {
    let c = p.config.clone().unwrap_or_default();
    let s = p.status.clone().unwrap_or_default();
    let mut out = format!("BGP neighbor {}, remote AS {}\n", c.address, c.peer_asn);
    let state = if is_established(p) {
        format!(
            "{}, up for {}",
            state_cell(p),
            names::uptime(s.uptime_seconds)
        )
    } else {
        state_cell(p)
    };
    let configured_families = if c.families.is_empty() {
        "unicast of the address".to_owned()
    } else {
        c.families
            .iter()
            .map(|f| names::family(*f))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let negotiated = |v: u32| {
        if is_established(p) {
            format!(", {v} s negotiated")
        } else {
            String::new()
        }
    };
    let hold = if c.hold_time == 0 { 90 } else { c.hold_time };
    let keepalive = if c.keepalive == 0 {
        format!("{} s", hold / 3)
    } else {
        format!("{} s", c.keepalive)
    };
    let mut caps = Vec::new();
    if s.four_octet_as {
        caps.push("4-octet AS");
    }
    if s.route_refresh {
        caps.push("route refresh");
    }
    if s.extended_message {
        caps.push("extended message");
    }
    let mut pairs = vec![
        ("Description", or_dash(&c.description)),
        ("Source", or_dash(&p.source)),
        ("State", state),
        ("Last error", or_dash(&s.last_error)),
        ("Peer router ID", or_dash(&s.peer_router_id)),
        ("Port", if c.port == 0 { 179 } else { c.port }.to_string()),
        (
            "Local address",
            or_dash(if s.local_address.is_empty() {
                &c.local_address
            } else {
                &s.local_address
            }),
        ),
        ("Passive", yes_no(c.passive)),
        (
            "Multihop TTL",
            if c.multihop_ttl == 0 {
                "-".to_owned()
            } else {
                c.multihop_ttl.to_string()
            },
        ),
        ("RR client", yes_no(c.route_reflector_client)),
        (
            "Hold time",
            format!("{hold} s configured{}", negotiated(s.hold_time)),
        ),
        (
            "Keepalive",
            format!("{keepalive} configured{}", negotiated(s.keepalive)),
        ),
        ("Families", format!("{configured_families} configured")),
    ];
    // Policy lines only for neighbors that have any.
    if c.route_server_client {
        pairs.push(("RS client", "yes".to_owned()));
    }
    if c.soft_reconfiguration_inbound {
        pairs.push(("Soft reconfig", "inbound (pre-policy copy kept)".to_owned()));
    }
    for (key, chain, default) in [
        ("Import policy", &c.import_policy, c.default_import),
        ("Export policy", &c.export_policy, c.default_export),
    ] {
        if let Some(text) = chain_text(chain, default) {
            pairs.push((key, text));
        }
    }
    if is_established(p) {
        let fams = s
            .families
            .iter()
            .map(|f| names::family(*f))
            .collect::<Vec<_>>()
            .join(", ");
        pairs.push(("Negotiated", or_dash(&fams)));
        pairs.push(("Capabilities", or_dash(&caps.join(", "))));
    }
    pairs.extend(super::rules::pairs(&c, &s, is_established(p)));
    out.push_str(&key_values("  ", &pairs));
    out.push('\n');
    out.push_str(&key_values("  ", &super::session::pairs(p)));

    out.push('\n');
    let mut msgs = Table::new(&[
        ("Messages", Align::Left),
        ("Sent", Align::Right),
        ("Received", Align::Right),
    ]);
    let (sent, rcvd) = (s.sent.unwrap_or_default(), s.received.unwrap_or_default());
    let counts = |m: &MessageCounters| {
        [
            m.open,
            m.update,
            m.notification,
            m.keepalive,
            m.route_refresh,
            m.total,
        ]
    };
    let kinds = [
        "Open",
        "Update",
        "Notification",
        "Keepalive",
        "Route refresh",
        "Total",
    ];
    for ((kind, sent), rcvd) in kinds.into_iter().zip(counts(&sent)).zip(counts(&rcvd)) {
        msgs.row(vec![kind.to_owned(), sent.to_string(), rcvd.to_string()]);
    }
    out.push_str(&indent(&msgs.render(), "  "));
    let limits = super::rules::limits_table(&c, &s);
    if !limits.is_empty() {
        out.push('\n');
        out.push_str(&indent(&limits, "  "));
    }

    if s.prefixes.is_empty() {
        return out;
    }
    out.push('\n');
    let mut fams = Table::new(&[
        ("Family", Align::Left),
        ("Received", Align::Right),
        ("Accepted", Align::Right),
        ("Advertised", Align::Right),
    ]);
    for f in &s.prefixes {
        fams.row(vec![
            names::family(f.family).to_owned(),
            f.received.to_string(),
            f.accepted.to_string(),
            f.advertised.to_string(),
        ]);
    }
    out.push_str(&indent(&fams.render(), "  "));
    out
}

/// All communities of a path, standard then large then extended.
pub(crate) fn communities(p: &Path) -> Vec<String> {
    let std = p.communities.iter().map(|c| fmt_community(*c));
    let large = p.large_communities.iter().map(fmt_large_community);
    let ext = p.extended_communities.iter().map(|c| fmt_ext_community(*c));
    std.chain(large).chain(ext).collect()
}

/// Where a path came from: the peer's address, or `local` (with how: `api`, `config`).
fn source_cell(p: &Path) -> String {
    match (p.source_peer.as_str(), p.source.as_str()) {
        ("", "") => "local".to_owned(),
        ("", how) => format!("local ({how})"),
        (peer, _) => peer.to_owned(),
    }
}

/// `ListPaths` as a table; `*` marks the best path, `=` another path of the multipath set.
pub(crate) fn routes(paths: &[Path]) -> String {
    let mut t = Table::new(&[
        ("", Align::Left),
        ("Prefix", Align::Left),
        ("Next Hop", Align::Left),
        ("AS Path", Align::Left),
        ("Origin", Align::Left),
        ("MED", Align::Right),
        ("LocPref", Align::Right),
        ("Communities", Align::Left),
        ("Peer", Align::Left),
    ]);
    // ADD-PATH path ids, only when some path has one.
    let ids = paths.iter().any(|p| p.path_id != 0);
    if ids {
        t = super::rules::with_path_id_column(t);
    }
    let opt = |v: Option<u32>| v.map_or("-".to_owned(), |v| v.to_string());
    for p in paths {
        let mark = if p.best {
            "*"
        } else if p.multipath {
            "="
        } else {
            ""
        };
        t.row(vec![
            mark.to_owned(),
            p.prefix.clone(),
            if p.next_hop.is_empty() {
                "self".to_owned()
            } else {
                p.next_hop.clone()
            },
            or_dash(&fmt_as_path(&p.as_path)),
            names::origin_letter(p.origin).to_owned(),
            opt(p.med),
            opt(p.local_pref),
            or_dash(&communities(p).join(" ")),
            source_cell(p),
        ]);
        if ids {
            t.set_last_cell(p.path_id.to_string());
        }
    }
    t.render()
}

/// `GetTableCounts` as `key: value` lines.
pub(crate) fn counts(table: &str, peer: Option<&str>, c: &GetTableCountsResponse) -> String {
    let table = match peer {
        Some(peer) => format!("{table} ({peer})"),
        None => table.to_owned(),
    };
    key_values(
        "",
        &[
            ("Table", table),
            ("IPv4 prefixes", c.ipv4_prefixes.to_string()),
            ("IPv6 prefixes", c.ipv6_prefixes.to_string()),
            ("Paths", c.paths.to_string()),
        ],
    )
}

/// `Reload`'s answer: a summary line, then one line per non-empty list of peers.
pub(crate) fn reload(r: &ReloadResponse) -> String {
    let mut out = format!(
        "Reloaded: neighbors {} added, {} removed, {} changed ({} reset); \
         originated prefixes {} added, {} removed\n",
        r.peers_added.len(),
        r.peers_removed.len(),
        r.peers_changed.len(),
        r.peers_reset.len(),
        r.originated_added,
        r.originated_removed
    );
    let lists = [
        ("added", &r.peers_added),
        ("removed", &r.peers_removed),
        ("changed", &r.peers_changed),
        ("reset", &r.peers_reset),
    ];
    let pairs: Vec<_> = lists
        .iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(k, l)| (*k, l.join(", ")))
        .collect();
    out.push_str(&key_values("  ", &pairs));
    for e in &r.policy {
        out.push_str(&format!("  policy {}: {}\n", e.address, e.action));
    }
    out
}

/// One `monitor` line for an event, after its time.
pub(crate) fn event(time: &str, e: &WatchEvent) -> Option<String> {
    match e.event.as_ref()? {
        watch_event::Event::Peer(p) => {
            let reason = if p.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", p.reason)
            };
            Some(format!(
                "{time} peer {} {} -> {}{reason}",
                p.address,
                names::state(p.old_state),
                names::state(p.new_state)
            ))
        }
        watch_event::Event::BestPath(b) => {
            let kind = names::best_path_kind(b.kind);
            let Some(best) = &b.best else {
                return Some(format!("{time} route {kind} {}", b.prefix));
            };
            let nh = if best.next_hop.is_empty() {
                "self"
            } else {
                &best.next_hop
            };
            let mut line = format!(
                "{time} route {kind} {} via {nh} as-path [{}] origin {}",
                b.prefix,
                fmt_as_path(&best.as_path),
                names::origin(best.origin)
            );
            let communities = communities(best);
            if !communities.is_empty() {
                line.push_str(&format!(" communities [{}]", communities.join(" ")));
            }
            line.push_str(&format!(" from {}", source_cell(best)));
            if b.multipath.len() > 1 {
                line.push_str(&format!(" multipath {}", b.multipath.len()));
            }
            Some(line)
        }
    }
}

#[cfg(test)]
#[path = "human_tests.rs"]
mod tests;
