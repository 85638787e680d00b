//! The session rules of a neighbour in the API: `PeerConfig` fields 60–69 to the
//! configuration's keys (checked by the same rules as the file) and back, and the
//! `PeerStatus` fields 60–64.

use bgp_api::bgpd::v1 as pb;
use bgp_proto::Family;
use tonic::Status;

use super::convert::{family_from, family_to, invalid};
use crate::config::{Neighbor, ROLE_NAMES, RemovePrivateAs};
use crate::peer::status::PeerStatus;
use crate::rib::PeerPrefixes;

/// Appends the `[[neighbors]]` keys of the session-rule fields of `p` to `toml`.
pub(crate) fn to_toml(p: &pb::PeerConfig, toml: &mut String) -> Result<(), Status> {
    let mut line = |s: String| {
        toml.push_str(&s);
        toml.push('\n');
    };
    if p.local_as != 0 {
        line(format!("local_as = {}", p.local_as));
    }
    if p.local_as_no_prepend {
        line("local_as_no_prepend = true".into());
    }
    if p.local_as_replace_as {
        line("local_as_replace_as = true".into());
    }
    if !p.remove_private_as.is_empty() {
        line(format!(
            "remove_private_as = {}",
            quoted(&p.remove_private_as)
        ));
    }
    if p.allowas_in != 0 {
        line(format!("allowas_in = {}", p.allowas_in));
    }
    if p.as_override {
        line("as_override = true".into());
    }
    if !p.role.is_empty() {
        line(format!("role = {}", quoted(&p.role)));
    }
    if p.role_strict {
        line("role_strict = true".into());
    }
    // Sub-tables come last: every key after `[[neighbors.x]]` would belong to it.
    for (i, m) in p.max_prefix.iter().enumerate() {
        let family = family_name(&format!("peer.max_prefix[{i}].family"), m.family)?;
        line("[[neighbors.max_prefix]]".into());
        line(format!("family = \"{family}\""));
        line(format!("limit = {}", m.limit));
        if m.warning_percent != 0 {
            line(format!("warning_percent = {}", m.warning_percent));
        }
        if m.restart_after != 0 {
            line(format!("restart_after = {}", m.restart_after));
        }
    }
    for (i, a) in p.add_path.iter().enumerate() {
        let family = family_name(&format!("peer.add_path[{i}].family"), a.family)?;
        line("[[neighbors.add_path]]".into());
        line(format!("family = \"{family}\""));
        line(format!("mode = {}", quoted(&a.mode)));
        if a.send_max != 0 {
            line(format!("send_max = {}", a.send_max));
        }
    }
    Ok(())
}

fn family_name(field: &str, f: i32) -> Result<String, Status> {
    match family_from(field, f)? {
        Some(family) => Ok(family.to_string()),
        None => Err(invalid(field, "expected IPV4_UNICAST or IPV6_UNICAST")),
    }
}

/// A TOML basic string with every character outside printable ASCII escaped.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// Fills the session-rule fields of `out` from the neighbour's configuration.
pub(crate) fn fill_config(n: &Neighbor, out: &mut pb::PeerConfig) {
    let r = &n.rules;
    if let Some(l) = r.local_as {
        out.local_as = l.asn;
        out.local_as_no_prepend = l.no_prepend;
        out.local_as_replace_as = l.replace_as;
    }
    out.remove_private_as = match r.remove_private_as {
        None => String::new(),
        Some(RemovePrivateAs::All) => "all".into(),
        Some(RemovePrivateAs::Replace) => "replace".into(),
    };
    out.allowas_in = u32::from(r.allowas_in);
    out.as_override = r.as_override;
    out.role = r.role.map(role_name).unwrap_or_default();
    out.role_strict = r.role_strict;
    out.max_prefix = r
        .max_prefix
        .iter()
        .map(|m| pb::MaxPrefixConfig {
            family: family_to(m.family),
            limit: m.limit,
            warning_percent: u32::from(m.warning_percent),
            restart_after: m
                .restart_after
                .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
        })
        .collect();
    out.add_path = r
        .add_path
        .iter()
        .map(|a| pb::AddPathConfig {
            family: family_to(a.family),
            mode: match a.mode {
                bgp_proto::capability::AddPathMode::Receive => "receive",
                bgp_proto::capability::AddPathMode::Send => "send",
                bgp_proto::capability::AddPathMode::Both => "both",
            }
            .into(),
            send_max: a.send_max.unwrap_or(0),
        })
        .collect();
}

/// A role as the configuration spells it.
pub(crate) fn role_name(role: bgp_proto::capability::Role) -> String {
    ROLE_NAMES
        .iter()
        .find(|(_, r)| *r == role)
        .map_or_else(|| role.to_string(), |(n, _)| (*n).to_owned())
}

/// Fills the session-rule fields of `out` from the peer's status and prefix counts.
pub(crate) fn fill_status(
    n: &Neighbor,
    status: &PeerStatus,
    prefixes: &PeerPrefixes,
    out: &mut pb::PeerStatus,
) {
    let session = status.session.as_ref();
    out.prefix_limits = n
        .rules
        .max_prefix
        .iter()
        .map(|m| pb::PrefixLimitStatus {
            family: family_to(m.family),
            limit: m.limit,
            accepted: match session {
                None => 0,
                Some(_) if m.family == Family::IPV4_UNICAST => prefixes.accepted.0,
                Some(_) => prefixes.accepted.1,
            },
            warning: status.prefix_limit.warning.contains(&m.family),
            teardowns: status.prefix_limit.teardowns(m.family),
        })
        .collect();
    out.prefix_limit_restart_in = status.prefix_limit.restart_at.map_or(0, |at| {
        at.saturating_duration_since(tokio::time::Instant::now())
            .as_secs()
    });
    out.peer_role = session
        .and_then(|s| s.peer_role)
        .map(role_name)
        .unwrap_or_default();
    out.add_path_send = session
        .map(|s| s.add_path_send.iter().map(|f| family_to(*f)).collect())
        .unwrap_or_default();
    out.add_path_receive = session
        .map(|s| s.add_path_receive.iter().map(|f| family_to(*f)).collect())
        .unwrap_or_default();
}
