//! What real routers show: their BGP sessions and routing tables, read through their own
//! CLIs (`birdc`, `vtysh`, `gobgp`) in a lab built by `petrel-lab`, turned into one shape
//! so that interop tests can compare them with what they expect.
//!
//! bgpd has no API yet, so every check is made at its peers. Each reader returns
//! `Err(text)` with what the peer printed when it cannot be read, and every check returns
//! `Err(message)` saying what was expected and what the peer showed, so that a test that
//! times out waiting for it can say why.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use petrel_lab::{Lab, LabOptions};
use serde_json::Value;

/// Which router a node runs; selects the CLI and the output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bird,
    Frr,
    Gobgp,
}

/// A neighbour of bgpd in a lab: its node, AS, addresses, and bgpd's addresses on its link.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    pub(crate) node: &'static str,
    pub(crate) kind: Kind,
    pub(crate) asn: u32,
    /// The peer's own addresses on the link to bgpd.
    pub(crate) v4: &'static str,
    pub(crate) v6: &'static str,
    /// bgpd's addresses on that link: the next hop it must announce to this peer.
    pub(crate) bgpd_v4: &'static str,
    pub(crate) bgpd_v6: &'static str,
}

impl Peer {
    /// bgpd's address on this peer's link in the family of `prefix`.
    pub(crate) fn bgpd_addr(&self, prefix: &str) -> &'static str {
        if prefix.contains(':') {
            self.bgpd_v6
        } else {
            self.bgpd_v4
        }
    }
}

/// The best route for one prefix as a peer shows it. Absent attributes are empty/`None`;
/// an empty AS path (a local or iBGP route) is `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) as_path: String,
    /// The first (global) next hop.
    pub(crate) next_hop: String,
    pub(crate) med: Option<u32>,
    pub(crate) local_pref: Option<u32>,
    /// `"ASN:VALUE"`.
    pub(crate) communities: Vec<String>,
    /// `"GLOBAL:LOCAL1:LOCAL2"`.
    pub(crate) large_communities: Vec<String>,
    pub(crate) originator_id: Option<String>,
    pub(crate) cluster_list: Vec<String>,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AS path `{}`, next hop {}",
            self.as_path,
            or_none(&self.next_hop)
        )?;
        if let Some(med) = self.med {
            write!(f, ", MED {med}")?;
        }
        if let Some(lp) = self.local_pref {
            write!(f, ", LOCAL_PREF {lp}")?;
        }
        if !self.communities.is_empty() {
            write!(f, ", communities {:?}", self.communities)?;
        }
        if !self.large_communities.is_empty() {
            write!(f, ", large communities {:?}", self.large_communities)?;
        }
        if let Some(id) = &self.originator_id {
            write!(f, ", ORIGINATOR_ID {id}")?;
        }
        if !self.cluster_list.is_empty() {
            write!(f, ", CLUSTER_LIST {:?}", self.cluster_list)?;
        }
        Ok(())
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

/// Best route per prefix, IPv4 and IPv6 together.
pub(crate) type Table = BTreeMap<String, Route>;

/// What a test expects of one route at one peer. AS path, next hop and communities are
/// always checked (no communities expected: none may be there); `None` fields are not.
#[derive(Debug, Clone, Default)]
pub(crate) struct Want {
    pub(crate) prefix: String,
    pub(crate) as_path: String,
    pub(crate) next_hop: String,
    pub(crate) communities: Vec<String>,
    pub(crate) large_communities: Vec<String>,
    /// `Some(None)`: the route must carry no MED.
    pub(crate) med: Option<Option<u32>>,
    pub(crate) local_pref: Option<u32>,
    /// `Some(None)`: the route must carry no ORIGINATOR_ID.
    pub(crate) originator_id: Option<Option<String>>,
    /// `Some(vec![])`: the route must carry no CLUSTER_LIST.
    pub(crate) cluster_list: Option<Vec<String>>,
}

impl Want {
    /// A route for `prefix` with this AS path (`""` for none) and next hop, and no
    /// communities.
    pub(crate) fn new(
        prefix: impl Into<String>,
        as_path: impl Into<String>,
        next_hop: &str,
    ) -> Want {
        Want {
            prefix: prefix.into(),
            as_path: as_path.into(),
            next_hop: next_hop.to_string(),
            ..Want::default()
        }
    }

    pub(crate) fn communities(mut self, standard: &[String], large: &[String]) -> Want {
        self.communities = standard.to_vec();
        self.large_communities = large.to_vec();
        self
    }

    pub(crate) fn med(mut self, med: Option<u32>) -> Want {
        self.med = Some(med);
        self
    }

    pub(crate) fn local_pref(mut self, local_pref: u32) -> Want {
        self.local_pref = Some(local_pref);
        self
    }

    /// ORIGINATOR_ID and CLUSTER_LIST (`None` and `[]`: neither may be there).
    pub(crate) fn reflected(mut self, originator_id: Option<&str>, cluster_list: &[&str]) -> Want {
        self.originator_id = Some(originator_id.map(str::to_string));
        self.cluster_list = Some(cluster_list.iter().map(|s| s.to_string()).collect());
        self
    }

    fn matches(&self, route: &Route) -> bool {
        route.as_path == self.as_path
            && route.next_hop == self.next_hop
            && route.communities == self.communities
            && route.large_communities == self.large_communities
            && self.med.is_none_or(|med| route.med == med)
            && self
                .local_pref
                .is_none_or(|lp| route.local_pref == Some(lp))
            && self
                .originator_id
                .as_ref()
                .is_none_or(|id| route.originator_id == *id)
            && self
                .cluster_list
                .as_ref()
                .is_none_or(|list| route.cluster_list == *list)
    }
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} with AS path `{}`, next hop {}, communities {:?}, large communities {:?}",
            self.prefix, self.as_path, self.next_hop, self.communities, self.large_communities
        )?;
        match self.med {
            Some(Some(med)) => write!(f, ", MED {med}")?,
            Some(None) => write!(f, ", no MED")?,
            None => {}
        }
        if let Some(lp) = self.local_pref {
            write!(f, ", LOCAL_PREF {lp}")?;
        }
        match &self.originator_id {
            Some(Some(id)) => write!(f, ", ORIGINATOR_ID {id}")?,
            Some(None) => write!(f, ", no ORIGINATOR_ID")?,
            None => {}
        }
        match &self.cluster_list {
            Some(list) if list.is_empty() => write!(f, ", no CLUSTER_LIST")?,
            Some(list) => write!(f, ", CLUSTER_LIST {list:?}")?,
            None => {}
        }
        Ok(())
    }
}

/// Skips (returns the reason) unless we are root and every router binary is installed.
pub(crate) fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("not root (network namespaces need root)".to_string());
    }
    let missing: Vec<&str> = ["bird", "birdc", "vtysh", "gobgpd", "gobgp", "ip"]
        .into_iter()
        .filter(|b| find_in_path(b).is_none())
        .chain(Some("/usr/lib/frr/bgpd").filter(|p| !Path::new(p).is_file()))
        .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!(
            "missing {} (Debian packages bird2, frr, gobgpd, iproute2)",
            missing.join(", ")
        ))
    }
}

fn is_root() -> bool {
    // The effective uid, read from /proc to avoid a libc dependency in tests.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|rest| rest.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Builds a lab from a topology under `containerlab/`, with the `bgpd` built for this test.
pub(crate) fn lab(topology: &str) -> Lab {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../containerlab")
        .join(topology);
    let mut options = LabOptions::default();
    options.bgpd = Some(PathBuf::from(env!("CARGO_BIN_EXE_bgpd")));
    Lab::up(&path, options).unwrap_or_else(|e| panic!("lab {}: {e}", path.display()))
}

/// Polls `check` until it passes; after `timeout` panics with `what` and the last failure
/// (which says what was expected and what the peer showed). Returns the time it took.
#[track_caller]
pub(crate) fn eventually(
    lab: &Lab,
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> Result<(), String>,
) -> Duration {
    let start = Instant::now();
    let mut last = String::new();
    let outcome = lab.wait_for(timeout, what, || match check() {
        Ok(()) => true,
        Err(e) => {
            last = e;
            false
        }
    });
    if let Err(e) = outcome {
        panic!("{e}\nlast check: {last}");
    }
    start.elapsed()
}

/// Checks that the peer shows both of its sessions with bgpd (over IPv4 and over IPv6)
/// established.
pub(crate) fn sessions_established(lab: &Lab, peer: &Peer) -> Result<(), String> {
    let states = session_states(lab, peer)?;
    let up = |addr: &str| {
        states
            .iter()
            .any(|(a, s)| a == addr && s.eq_ignore_ascii_case("established"))
    };
    if up(peer.bgpd_v4) && up(peer.bgpd_v6) {
        Ok(())
    } else {
        Err(format!(
            "{}: expected sessions to bgpd at {} and {} Established; {} shows {states:?}",
            peer.node, peer.bgpd_v4, peer.bgpd_v6, peer.node
        ))
    }
}

/// Checks that neither session of the peer with bgpd is established.
pub(crate) fn sessions_down(lab: &Lab, peer: &Peer) -> Result<(), String> {
    let states = session_states(lab, peer)?;
    if states
        .iter()
        .any(|(_, s)| s.eq_ignore_ascii_case("established"))
    {
        Err(format!(
            "{}: expected no session with bgpd Established; {} shows {states:?}",
            peer.node, peer.node
        ))
    } else {
        Ok(())
    }
}

/// (bgpd's address, session state) for each session the peer has with bgpd.
fn session_states(lab: &Lab, peer: &Peer) -> Result<Vec<(String, String)>, String> {
    match peer.kind {
        Kind::Bird => {
            let out = lab
                .birdc(peer.node, "show protocols all")
                .map_err(|e| e.to_string())?;
            Ok(bird_sessions(&out))
        }
        Kind::Frr => {
            let out = lab
                .vtysh(peer.node, "show bgp summary json")
                .map_err(|e| e.to_string())?;
            let json: Value = serde_json::from_str(&out).map_err(|e| format!("{e}: {out}"))?;
            let mut states = Vec::new();
            for family in json.as_object().into_iter().flat_map(|o| o.values()) {
                for (addr, p) in family["peers"].as_object().into_iter().flatten() {
                    states.push((addr.clone(), p["state"].as_str().unwrap_or("?").into()));
                }
            }
            Ok(states)
        }
        Kind::Gobgp => {
            let out = lab
                .gobgp(peer.node, &["neighbor", "-j"])
                .map_err(|e| e.to_string())?;
            let json: Value = serde_json::from_str(&out).map_err(|e| format!("{e}: {out}"))?;
            Ok(json
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| {
                    let addr = n["conf"]["neighbor_address"].as_str().unwrap_or("?");
                    // The API's enum: 6 is ESTABLISHED; some versions print the name.
                    let state = match &n["state"]["session_state"] {
                        Value::Number(s) if s.as_u64() == Some(6) => "Established".to_string(),
                        Value::Number(s) => format!("state {s}"),
                        Value::String(s) => s.clone(),
                        _ => "Idle".to_string(),
                    };
                    (addr.to_string(), state)
                })
                .collect())
        }
    }
}

/// BIRD's `show protocols all`: each BGP protocol's neighbour address and BGP state.
fn bird_sessions(out: &str) -> Vec<(String, String)> {
    let mut sessions = Vec::new();
    let mut state = None;
    for line in out.lines().map(str::trim) {
        if let Some(s) = line.strip_prefix("BGP state:") {
            state = Some(s.trim().to_string());
        } else if let Some(addr) = line.strip_prefix("Neighbor address:")
            && let Some(s) = state.take()
        {
            sessions.push((addr.trim().to_string(), s));
        }
    }
    sessions
}

/// The peer's whole routing table, IPv4 and IPv6.
pub(crate) fn table(lab: &Lab, peer: &Peer) -> Result<Table, String> {
    match peer.kind {
        Kind::Bird => {
            let out = lab
                .birdc(peer.node, "show route all")
                .map_err(|e| e.to_string())?;
            Ok(bird_table(&out))
        }
        Kind::Frr => {
            let mut table = Table::new();
            for afi in ["ipv4", "ipv6"] {
                let out = lab
                    .vtysh(peer.node, &format!("show bgp {afi} unicast json detail"))
                    .map_err(|e| e.to_string())?;
                table.extend(frr_table(&out)?);
            }
            Ok(table)
        }
        Kind::Gobgp => {
            let mut table = Table::new();
            for afi in ["ipv4", "ipv6"] {
                let out = lab
                    .gobgp(peer.node, &["global", "rib", "-a", afi, "-j"])
                    .map_err(|e| e.to_string())?;
                table.extend(gobgp_table(&out)?);
            }
            Ok(table)
        }
    }
}

/// Checks that the peer has each wanted route, with the wanted attributes.
pub(crate) fn has_routes(lab: &Lab, peer: &Peer, wants: &[Want]) -> Result<(), String> {
    let table = table(lab, peer)?;
    let mut problems = Vec::new();
    for want in wants {
        match table.get(&want.prefix) {
            Some(route) if want.matches(route) => {}
            Some(route) => problems.push(format!(
                "expected {want}; {} shows {}: {route}",
                peer.node, want.prefix
            )),
            None => problems.push(format!(
                "expected {want}; {} has no route for {} (it has {:?})",
                peer.node,
                want.prefix,
                table.keys().collect::<Vec<_>>()
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}:\n  {}", peer.node, problems.join("\n  ")))
    }
}

/// Checks that the peer has no route for any of the prefixes.
pub(crate) fn lacks_routes(lab: &Lab, peer: &Peer, prefixes: &[&str]) -> Result<(), String> {
    let table = table(lab, peer)?;
    let present: Vec<String> = prefixes
        .iter()
        .filter_map(|p| table.get(*p).map(|r| format!("{p}: {r}")))
        .collect();
    if present.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: expected no route for {prefixes:?}; {} still shows {present:?}",
            peer.node, peer.node
        ))
    }
}

/// Parses BIRD 2's `show route all`: the first (best) route of each prefix.
fn bird_table(out: &str) -> Table {
    let mut table = Table::new();
    let mut current: Option<String> = None;
    for line in out.lines() {
        let starts_blank = line.starts_with([' ', '\t']);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("BIRD ") || trimmed.starts_with("Table ") {
            continue;
        }
        if !starts_blank {
            // `PREFIX  unicast [proto time] * (pref) [AS...]`: a new prefix, its best route.
            let prefix = trimmed.split_whitespace().next().unwrap_or("").to_string();
            table.insert(prefix.clone(), Route::default());
            current = Some(prefix);
            continue;
        }
        if line.starts_with(' ') && trimmed.contains(" [") {
            // An alternative route for the same prefix (indented with spaces): skip it.
            current = None;
            continue;
        }
        let Some(route) = current.as_ref().and_then(|p| table.get_mut(p)) else {
            continue;
        };
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "BGP.as_path" => route.as_path = value.to_string(),
            "BGP.next_hop" => {
                route.next_hop = value.split_whitespace().next().unwrap_or("").to_string()
            }
            "BGP.med" => route.med = value.parse().ok(),
            "BGP.local_pref" => route.local_pref = value.parse().ok(),
            "BGP.community" => route.communities = bird_tuples(value),
            "BGP.large_community" => route.large_communities = bird_tuples(value),
            "BGP.originator_id" => route.originator_id = Some(value.to_string()),
            "BGP.cluster_list" => {
                route.cluster_list = value.split_whitespace().map(str::to_string).collect()
            }
            _ => {}
        }
    }
    table
}

/// `(65001,42) (65001, 1, 2)` -> `["65001:42", "65001:1:2"]`.
fn bird_tuples(value: &str) -> Vec<String> {
    value
        .split(')')
        .filter_map(|t| t.trim().strip_prefix('('))
        .map(|t| t.split(',').map(str::trim).collect::<Vec<_>>().join(":"))
        .collect()
}

/// Parses FRR's `show bgp AFI unicast json detail`: the best path of each prefix.
fn frr_table(out: &str) -> Result<Table, String> {
    let json: Value = serde_json::from_str(out).map_err(|e| format!("{e}: {out}"))?;
    let mut table = Table::new();
    for (prefix, paths) in json["routes"].as_object().into_iter().flatten() {
        let paths = paths.as_array().map(Vec::as_slice).unwrap_or_default();
        // In `detail` output the first element describes the prefix; the paths follow.
        let best = paths
            .iter()
            .find(|p| p["bestpath"]["overall"].as_bool() == Some(true))
            .or_else(|| paths.iter().find(|p| p.get("aspath").is_some()));
        let Some(p) = best else { continue };
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        let as_path = p["aspath"]["string"].as_str().unwrap_or("");
        let nexthops = p["nexthops"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let next_hop = nexthops
            .iter()
            .find(|n| n["scope"].as_str() != Some("link-local"))
            .and_then(|n| n["ip"].as_str())
            .unwrap_or("");
        table.insert(
            prefix.clone(),
            Route {
                as_path: if as_path == "Local" { "" } else { as_path }.to_string(),
                next_hop: next_hop.to_string(),
                med: p["metric"].as_u64().and_then(|m| u32::try_from(m).ok()),
                local_pref: p["locPrf"].as_u64().and_then(|m| u32::try_from(m).ok()),
                communities: strings(&p["community"]["list"]),
                large_communities: strings(&p["largeCommunity"]["list"]),
                originator_id: p["originatorId"].as_str().map(str::to_string),
                cluster_list: strings(&p["clusterList"]["list"]),
            },
        );
    }
    Ok(table)
}

/// Parses `gobgp global rib -a AFI -j`: the best path of each prefix.
fn gobgp_table(out: &str) -> Result<Table, String> {
    let json: Value = serde_json::from_str(out).map_err(|e| format!("{e}: {out}"))?;
    let mut table = Table::new();
    for (prefix, paths) in json.as_object().into_iter().flatten() {
        let paths = paths.as_array().map(Vec::as_slice).unwrap_or_default();
        let Some(p) = paths
            .iter()
            .find(|p| p["best"].as_bool() == Some(true))
            .or(paths.first())
        else {
            continue;
        };
        let mut route = Route::default();
        let num = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
        for attr in p["attrs"].as_array().into_iter().flatten() {
            match attr["type"].as_u64() {
                Some(2) => {
                    route.as_path = attr["as_paths"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|seg| seg["asns"].as_array().cloned().unwrap_or_default())
                        .map(|asn| asn.to_string())
                        .collect::<Vec<_>>()
                        .join(" ");
                }
                Some(3 | 14) => {
                    route.next_hop = attr["nexthop"].as_str().unwrap_or("").to_string();
                }
                Some(4) => route.med = num(&attr["metric"]),
                Some(5) => route.local_pref = num(&attr["value"]),
                Some(8) => {
                    route.communities = attr["communities"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(num)
                        .map(|c| format!("{}:{}", c >> 16, c & 0xffff))
                        .collect();
                }
                Some(9) => route.originator_id = attr["value"].as_str().map(str::to_string),
                Some(10) => {
                    route.cluster_list = attr["value"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect();
                }
                Some(32) => {
                    route.large_communities = attr["value"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| {
                            let part = |k: &str| {
                                c.get(k)
                                    .or_else(|| c.get(k.to_ascii_lowercase()))
                                    .and_then(Value::as_u64)
                                    .unwrap_or(0)
                            };
                            format!(
                                "{}:{}:{}",
                                part("ASN"),
                                part("LocalData1"),
                                part("LocalData2")
                            )
                        })
                        .collect();
                }
                _ => {}
            }
        }
        table.insert(prefix.clone(), route);
    }
    Ok(table)
}

/// The lines of a node's daemon log that contain every one of `words` (ANSI colours
/// removed, compared case-insensitively).
pub(crate) fn log_lines(lab: &Lab, node: &str, words: &[&str]) -> Vec<String> {
    let path = lab.log_path(node).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(strip_ansi)
        .filter(|l| {
            let lower = l.to_lowercase();
            words.iter().all(|w| lower.contains(&w.to_lowercase()))
        })
        .collect()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn bird_route_blocks() {
        let out = "BIRD 2.0.12 ready.\nTable master4:\n\
            10.3.3.0/24          unicast [petrel_v4 01:51:32.511] * (100) [AS65003i]\n\
            \tvia 10.0.1.1 on eth1\n\tType: BGP univ\n\tBGP.origin: IGP\n\
            \tBGP.as_path: 65000 65003\n\tBGP.next_hop: 10.0.1.1\n\tBGP.med: 50\n\
            \tBGP.local_pref: 100\n\tBGP.community: (65003,42) (65003,43)\n\
            \tBGP.large_community: (65003, 1, 2)\n\
            10.1.1.0/24          blackhole [static4 01:51:30.619] * (200)\n\tType: static univ\n";
        let table = bird_table(out);
        assert_eq!(
            table["10.3.3.0/24"],
            Route {
                as_path: "65000 65003".into(),
                next_hop: "10.0.1.1".into(),
                med: Some(50),
                local_pref: Some(100),
                communities: vec!["65003:42".into(), "65003:43".into()],
                large_communities: vec!["65003:1:2".into()],
                ..Route::default()
            }
        );
        assert_eq!(table["10.1.1.0/24"], Route::default());
    }

    #[test]
    fn bird_protocols() {
        let out = "petrel_v4  BGP  ---  up  01:54:12.525  Established\n\
            \x20 Description:    Petrel over IPv4\n  BGP state:          Established\n\
            \x20   Neighbor address: 10.0.1.1\n";
        assert_eq!(
            bird_sessions(out),
            vec![("10.0.1.1".to_string(), "Established".to_string())]
        );
    }

    #[test]
    fn ansi_is_stripped() {
        assert_eq!(strip_ansi("\u{1b}[32m INFO\u{1b}[0m up"), " INFO up");
    }
}
