//! A neighbour's session rules (local-as, remove-private-as, allowas-in, AS override,
//! role, maximum prefixes, ADD-PATH) in `bgpctl neighbor` output, for people and JSON.

use bgp_api::bgpd::v1::{PeerConfig, PeerStatus};
use serde::Serialize;

use super::names;
use super::table::{Align, Table};

/// The session-rule options of `neighbor add`; prefix limits and ADD-PATH are set through
/// the configuration file or the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub(crate) struct RuleArgs {
    /// The AS to show the neighbor instead of ours (local-as).
    #[arg(long, value_name = "ASN", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) local_as: Option<u32>,
    /// With --local-as: do not prepend it to routes learned from the neighbor.
    #[arg(long, requires = "local_as")]
    pub(crate) local_as_no_prepend: bool,
    /// With --local-as: send only it, not our AS, to the neighbor.
    #[arg(long, requires = "local_as")]
    pub(crate) local_as_replace_as: bool,
    /// Private AS numbers in what the neighbor receives: removed, or replaced with ours.
    #[arg(long, value_enum, value_name = "HOW")]
    pub(crate) remove_private_as: Option<RemovePrivate>,
    /// Accept routes with our AS up to N times, 1..=10.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10))]
    pub(crate) allowas_in: Option<u32>,
    /// Replace the neighbor's AS with ours in what it receives.
    #[arg(long)]
    pub(crate) as_override: bool,
    /// Our BGP role on the session (RFC 9234).
    #[arg(long, value_enum)]
    pub(crate) role: Option<RoleArg>,
    /// With --role: refuse a neighbor that announces no role.
    #[arg(long, requires = "role")]
    pub(crate) role_strict: bool,
}

/// `--remove-private-as`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RemovePrivate {
    /// Remove every private AS number.
    All,
    /// Replace every private AS number with ours.
    Replace,
}

/// `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RoleArg {
    /// We are the neighbor's provider.
    Provider,
    /// We are the neighbor's customer.
    Customer,
    /// We are a route server; the neighbor is our client.
    Rs,
    /// We are a route server client.
    RsClient,
    /// Lateral peers.
    Peer,
}

impl RuleArgs {
    /// `c` with these options set.
    pub(crate) fn apply(&self, mut c: PeerConfig) -> PeerConfig {
        c.local_as = self.local_as.unwrap_or(0);
        c.local_as_no_prepend = self.local_as_no_prepend;
        c.local_as_replace_as = self.local_as_replace_as;
        c.remove_private_as = match self.remove_private_as {
            None => String::new(),
            Some(RemovePrivate::All) => "all".into(),
            Some(RemovePrivate::Replace) => "replace".into(),
        };
        c.allowas_in = self.allowas_in.unwrap_or(0);
        c.as_override = self.as_override;
        c.role = match self.role {
            None => "",
            Some(RoleArg::Provider) => "provider",
            Some(RoleArg::Customer) => "customer",
            Some(RoleArg::Rs) => "rs",
            Some(RoleArg::RsClient) => "rs-client",
            Some(RoleArg::Peer) => "peer",
        }
        .into();
        c.role_strict = self.role_strict;
        c
    }
}

/// `key: value` lines for the rules that are set, and for what the session negotiated.
pub(crate) fn pairs(
    c: &PeerConfig,
    s: &PeerStatus,
    established: bool,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if c.local_as != 0 {
        let mut v = c.local_as.to_string();
        if c.local_as_no_prepend {
            v.push_str(" no-prepend");
        }
        if c.local_as_replace_as {
            v.push_str(" replace-as");
        }
        out.push(("Local AS", v));
    }
    if !c.remove_private_as.is_empty() {
        out.push(("Remove private", c.remove_private_as.clone()));
    }
    if c.allowas_in != 0 {
        out.push(("Allowas-in", c.allowas_in.to_string()));
    }
    if c.as_override {
        out.push(("AS override", "yes".to_owned()));
    }
    if !c.role.is_empty() {
        let strict = if c.role_strict { " (strict)" } else { "" };
        let peer = if established {
            format!(", peer announced {}", or_none(&s.peer_role))
        } else {
            String::new()
        };
        out.push(("Role", format!("{}{strict}{peer}", c.role)));
    }
    for a in &c.add_path {
        let max = match (a.mode.as_str(), a.send_max) {
            ("receive", _) => String::new(),
            (_, 0) => ", all paths".to_owned(),
            (_, n) => format!(", best {n}"),
        };
        out.push((
            "ADD-PATH",
            format!("{} {}{max}", names::family(a.family), a.mode),
        ));
    }
    if established && !(s.add_path_send.is_empty() && s.add_path_receive.is_empty()) {
        let list = |fams: &[i32]| {
            let v: Vec<&str> = fams.iter().map(|f| names::family(*f)).collect();
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            }
        };
        out.push((
            "ADD-PATH in use",
            format!(
                "send {}; receive {}",
                list(&s.add_path_send),
                list(&s.add_path_receive)
            ),
        ));
    }
    if s.prefix_limit_restart_in != 0 {
        out.push((
            "Restart in",
            format!("{} s (prefix limit exceeded)", s.prefix_limit_restart_in),
        ));
    }
    out
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "none" } else { s }
}

/// `t` with a "Path ID" column (ADD-PATH) at the right.
pub(crate) fn with_path_id_column(mut t: Table) -> Table {
    t.push_column(("Path ID", Align::Right));
    t
}

/// The prefix limits as a table; empty without limits.
pub(crate) fn limits_table(c: &PeerConfig, s: &PeerStatus) -> String {
    if s.prefix_limits.is_empty() {
        return String::new();
    }
    let mut t = Table::new(&[
        ("Family", Align::Left),
        ("Limit", Align::Right),
        ("Warn at", Align::Right),
        ("Accepted", Align::Right),
        ("Warning", Align::Left),
        ("Teardowns", Align::Right),
        ("Restart", Align::Left),
    ]);
    for l in &s.prefix_limits {
        let rule = c.max_prefix.iter().find(|m| m.family == l.family);
        let percent = rule.map_or(75, |m| {
            if m.warning_percent == 0 {
                75
            } else {
                m.warning_percent
            }
        });
        let restart = match rule.map_or(0, |m| m.restart_after) {
            0 => "manual".to_owned(),
            n => format!("after {n} s"),
        };
        t.row(vec![
            names::family(l.family).to_owned(),
            l.limit.to_string(),
            format!("{percent}%"),
            l.accepted.to_string(),
            if l.warning { "yes" } else { "no" }.to_owned(),
            l.teardowns.to_string(),
            restart,
        ]);
    }
    t.render()
}

/// The session rules in JSON; `null` fields where a rule is not set.
#[derive(Debug, Serialize)]
pub(crate) struct Rules {
    local_as: Option<u32>,
    local_as_no_prepend: bool,
    local_as_replace_as: bool,
    remove_private_as: Option<String>,
    allowas_in: u32,
    as_override: bool,
    role: Option<String>,
    role_strict: bool,
    peer_role: Option<String>,
    add_path: Vec<AddPath>,
    add_path_send: Vec<&'static str>,
    add_path_receive: Vec<&'static str>,
    prefix_limits: Vec<Limit>,
    prefix_limit_restart_in: Option<u64>,
}

#[derive(Debug, Serialize)]
struct AddPath {
    family: &'static str,
    mode: String,
    /// `null`: all paths.
    send_max: Option<u32>,
}

#[derive(Debug, Serialize)]
struct Limit {
    family: &'static str,
    limit: u32,
    warning_percent: u32,
    restart_after: Option<u32>,
    accepted: u64,
    warning: bool,
    teardowns: u64,
}

impl Rules {
    pub(crate) fn new(c: &PeerConfig, s: &PeerStatus) -> Self {
        let text = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        let fams = |v: &[i32]| v.iter().map(|f| names::family(*f)).collect();
        Rules {
            local_as: (c.local_as != 0).then_some(c.local_as),
            local_as_no_prepend: c.local_as_no_prepend,
            local_as_replace_as: c.local_as_replace_as,
            remove_private_as: text(&c.remove_private_as),
            allowas_in: c.allowas_in,
            as_override: c.as_override,
            role: text(&c.role),
            role_strict: c.role_strict,
            peer_role: text(&s.peer_role),
            add_path: c
                .add_path
                .iter()
                .map(|a| AddPath {
                    family: names::family(a.family),
                    mode: a.mode.clone(),
                    send_max: (a.send_max != 0).then_some(a.send_max),
                })
                .collect(),
            add_path_send: fams(&s.add_path_send),
            add_path_receive: fams(&s.add_path_receive),
            prefix_limits: c
                .max_prefix
                .iter()
                .map(|m| {
                    let st = s.prefix_limits.iter().find(|l| l.family == m.family);
                    Limit {
                        family: names::family(m.family),
                        limit: m.limit,
                        warning_percent: if m.warning_percent == 0 {
                            75
                        } else {
                            m.warning_percent
                        },
                        restart_after: (m.restart_after != 0).then_some(m.restart_after),
                        accepted: st.map_or(0, |l| l.accepted),
                        warning: st.is_some_and(|l| l.warning),
                        teardowns: st.map_or(0, |l| l.teardowns),
                    }
                })
                .collect(),
            prefix_limit_restart_in: (s.prefix_limit_restart_in != 0)
                .then_some(s.prefix_limit_restart_in),
        }
    }
}

#[cfg(test)]
mod tests {
    use bgp_api::bgpd::v1::{AddPathConfig, Family, MaxPrefixConfig, PrefixLimitStatus};

    use super::*;

    fn config() -> PeerConfig {
        PeerConfig {
            local_as: 65100,
            local_as_no_prepend: true,
            role: "customer".into(),
            role_strict: true,
            max_prefix: vec![MaxPrefixConfig {
                family: Family::Ipv4Unicast as i32,
                limit: 100,
                warning_percent: 0,
                restart_after: 30,
            }],
            add_path: vec![AddPathConfig {
                family: Family::Ipv4Unicast as i32,
                mode: "both".into(),
                send_max: 2,
            }],
            ..PeerConfig::default()
        }
    }

    fn status() -> PeerStatus {
        PeerStatus {
            peer_role: "provider".into(),
            add_path_send: vec![Family::Ipv4Unicast as i32],
            prefix_limits: vec![PrefixLimitStatus {
                family: Family::Ipv4Unicast as i32,
                limit: 100,
                accepted: 80,
                warning: true,
                teardowns: 2,
            }],
            ..PeerStatus::default()
        }
    }

    #[test]
    fn detail_lines_show_the_rules_set_and_what_was_negotiated() {
        let lines = pairs(&config(), &status(), true);
        assert_eq!(
            lines,
            [
                ("Local AS", "65100 no-prepend".to_owned()),
                (
                    "Role",
                    "customer (strict), peer announced provider".to_owned()
                ),
                ("ADD-PATH", "ipv4-unicast both, best 2".to_owned()),
                ("ADD-PATH in use", "send ipv4-unicast; receive -".to_owned()),
            ]
        );
        assert!(pairs(&PeerConfig::default(), &PeerStatus::default(), true).is_empty());
    }

    #[test]
    fn the_limit_table_shows_counts_warnings_and_teardowns() {
        assert_eq!(
            limits_table(&config(), &status()),
            "\
Family        Limit  Warn at  Accepted  Warning  Teardowns  Restart
ipv4-unicast    100      75%        80  yes              2  after 30 s
"
        );
    }

    #[test]
    fn routes_with_path_ids_get_a_path_id_column() {
        use bgp_api::bgpd::v1::Path;
        let path = |id| Path {
            prefix: "10.1.2.0/24".into(),
            next_hop: "10.0.1.2".into(),
            source_peer: "10.0.1.2".into(),
            path_id: id,
            ..Path::default()
        };
        let text = super::super::human::routes(&[path(1), path(2)]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("Path ID"), "{text}");
        assert!(
            lines[1].ends_with(" 1") && lines[2].ends_with(" 2"),
            "{text}"
        );
        let plain = super::super::human::routes(&[path(0)]);
        assert!(!plain.contains("Path ID"), "{plain}");
    }

    #[test]
    fn neighbor_add_sets_the_session_rules() {
        use clap::Parser;

        use crate::cli::{Cli, Command, NeighborCmd};
        let cli = Cli::try_parse_from([
            "bgpctl",
            "neighbor",
            "add",
            "10.0.2.2",
            "--as",
            "65002",
            "--local-as",
            "65100",
            "--local-as-replace-as",
            "--remove-private-as",
            "replace",
            "--allowas-in",
            "2",
            "--role",
            "rs-client",
            "--role-strict",
        ])
        .unwrap();
        let Command::Neighbor {
            action: Some(NeighborCmd::Add(a)),
        } = cli.command
        else {
            panic!("not neighbor add");
        };
        let c = a.rules.apply(PeerConfig::default());
        assert_eq!(
            (c.local_as, c.local_as_replace_as, c.local_as_no_prepend),
            (65100, true, false)
        );
        assert_eq!(c.remove_private_as, "replace");
        assert_eq!((c.allowas_in, c.as_override), (2, false));
        assert_eq!((c.role.as_str(), c.role_strict), ("rs-client", true));
        // The flags that qualify another need it.
        let e = Cli::try_parse_from([
            "bgpctl",
            "neighbor",
            "add",
            "10.0.2.2",
            "--as",
            "65002",
            "--role-strict",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("--role"), "{e}");
        let e = Cli::try_parse_from([
            "bgpctl",
            "neighbor",
            "add",
            "10.0.2.2",
            "--as",
            "65002",
            "--allowas-in",
            "11",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("11"), "{e}");
    }

    #[test]
    fn json_has_nulls_for_rules_not_set() {
        let v = serde_json::to_value(Rules::new(&PeerConfig::default(), &PeerStatus::default()))
            .unwrap();
        assert_eq!(v["local_as"], serde_json::Value::Null);
        assert_eq!(v["allowas_in"], 0);
        let v = serde_json::to_value(Rules::new(&config(), &status())).unwrap();
        assert_eq!(v["prefix_limits"][0]["teardowns"], 2);
        assert_eq!(v["prefix_limits"][0]["warning_percent"], 75);
        assert_eq!(v["add_path"][0]["send_max"], 2);
        assert_eq!(v["peer_role"], "provider");
    }
}
