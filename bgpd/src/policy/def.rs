//! Policy definitions as an operator writes them (TOML file or API): defined sets,
//! policies of ordered statements, and the text forms of their values.
//!
//! These are plain data, compared by value: a reload or an API call that leaves a
//! neighbour's resolved chain equal leaves its routes alone. [`super::Engine::compile`]
//! checks names and regular expressions and turns them into the evaluated form.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use bgp_proto::Family;
use bgp_proto::attr::{Community, ExtAdmin, ExtCommunity, LargeCommunity, Origin};
use ipnet::IpNet;

/// Every defined set and policy, and the global defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyConfig {
    /// Prefix sets.
    pub prefix_sets: Vec<PrefixSetDef>,
    /// Neighbour sets.
    pub neighbor_sets: Vec<NeighborSetDef>,
    /// AS_PATH regular-expression sets.
    pub as_path_sets: Vec<PatternSetDef>,
    /// Community regular-expression sets (matched against `65000:100` or a well-known name).
    pub community_sets: Vec<PatternSetDef>,
    /// Extended-community sets (matched against `rt:65000:100`, `ro:192.0.2.1:7`, hex).
    pub ext_community_sets: Vec<PatternSetDef>,
    /// Large-community sets (matched against `65000:1:2`).
    pub large_community_sets: Vec<PatternSetDef>,
    /// Policies, by unique name.
    pub policies: Vec<PolicyDef>,
    /// What happens to a route no statement accepted or rejected, on import.
    pub default_import: Disposition,
    /// The same on export.
    pub default_export: Disposition,
}

/// The kinds of defined sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SetKind {
    /// `prefix_sets`.
    Prefix,
    /// `neighbor_sets`.
    Neighbor,
    /// `as_path_sets`.
    AsPath,
    /// `community_sets`.
    Community,
    /// `ext_community_sets`.
    ExtCommunity,
    /// `large_community_sets`.
    LargeCommunity,
}

impl SetKind {
    /// Every kind.
    pub const ALL: [SetKind; 6] = [
        SetKind::Prefix,
        SetKind::Neighbor,
        SetKind::AsPath,
        SetKind::Community,
        SetKind::ExtCommunity,
        SetKind::LargeCommunity,
    ];

    /// The name used in the file and the API: `prefix`, `neighbor`, `as-path`,
    /// `community`, `ext-community`, `large-community`.
    pub fn as_str(self) -> &'static str {
        match self {
            SetKind::Prefix => "prefix",
            SetKind::Neighbor => "neighbor",
            SetKind::AsPath => "as-path",
            SetKind::Community => "community",
            SetKind::ExtCommunity => "ext-community",
            SetKind::LargeCommunity => "large-community",
        }
    }
}

impl FromStr for SetKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SetKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a set kind; expected one of prefix, neighbor, as-path, \
                     community, ext-community, large-community"
                )
            })
    }
}

/// A defined set of any kind, with its members in text form (as listed by the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetDef {
    /// The kind.
    pub kind: SetKind,
    /// The name, unique within the kind.
    pub name: String,
    /// Members: prefix ranges, neighbour addresses or prefixes, or regular expressions.
    pub members: Vec<String>,
}

/// A prefix set: prefixes with mask-length ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixSetDef {
    /// The name.
    pub name: String,
    /// The members.
    pub prefixes: Vec<PrefixRange>,
}

/// A prefix and the lengths of the prefixes it matches: `10.0.0.0/8` matches only
/// itself, `10.0.0.0/8 16..24` matches every prefix inside 10.0.0.0/8 of length 16 to 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixRange {
    /// The covering prefix (host bits zero).
    pub prefix: IpNet,
    /// Shortest length matched (at least the prefix's own).
    pub min: u8,
    /// Longest length matched.
    pub max: u8,
}

impl FromStr for PrefixRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        const EXPECTED: &str = "a prefix with an optional length range, such as \
                                \"10.0.0.0/8\" or \"10.0.0.0/8 16..24\"";
        let mut words = s.split_whitespace();
        let (Some(p), range, None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("{s:?} is not valid; expected {EXPECTED}"));
        };
        let prefix: IpNet = p
            .parse()
            .map_err(|_| format!("{p:?} is not a prefix; expected {EXPECTED}"))?;
        if prefix.trunc() != prefix {
            return Err(format!(
                "{prefix} has host bits set; did you mean \"{}\"?",
                prefix.trunc()
            ));
        }
        let own = prefix.prefix_len();
        let (min, max) = match range {
            None => (own, own),
            Some(r) => {
                let (a, b) = r
                    .split_once("..")
                    .ok_or_else(|| format!("{r:?} is not a length range; expected {EXPECTED}"))?;
                let a: u8 = a
                    .parse()
                    .map_err(|_| format!("{r:?} is not a length range; expected {EXPECTED}"))?;
                let b: u8 = b
                    .parse()
                    .map_err(|_| format!("{r:?} is not a length range; expected {EXPECTED}"))?;
                (a, b)
            }
        };
        if min < own || min > max || max > prefix.max_prefix_len() {
            return Err(format!(
                "{s:?}: the length range {min}..{max} must lie within {own}..{} and not be \
                 empty",
                prefix.max_prefix_len()
            ));
        }
        Ok(PrefixRange { prefix, min, max })
    }
}

impl fmt::Display for PrefixRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.prefix.prefix_len() && self.max == self.min {
            write!(f, "{}", self.prefix)
        } else {
            write!(f, "{} {}..{}", self.prefix, self.min, self.max)
        }
    }
}

/// A neighbour set: addresses or prefixes of the peers routes were learned from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborSetDef {
    /// The name.
    pub name: String,
    /// Members; an address is a host prefix.
    pub neighbors: Vec<IpNet>,
}

/// A set of regular expressions (AS_PATH or community sets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternSetDef {
    /// The name.
    pub name: String,
    /// The expressions, as written.
    pub patterns: Vec<String>,
}

/// A policy: statements evaluated in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDef {
    /// The name.
    pub name: String,
    /// The statements.
    pub statements: Vec<StatementDef>,
}

/// A statement: if every condition holds, the actions apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementDef {
    /// The name (for logs and listings).
    pub name: String,
    /// Conditions; all must hold (none: always).
    pub conditions: Conditions,
    /// Actions.
    pub actions: Actions,
}

/// Accept or reject.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// The route passes.
    #[default]
    Accept,
    /// The route is dropped.
    Reject,
}

impl FromStr for Disposition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "accept" => Ok(Disposition::Accept),
            "reject" => Ok(Disposition::Reject),
            _ => Err(format!(
                "{s:?} is not valid; expected \"accept\" or \"reject\""
            )),
        }
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Disposition::Accept => "accept",
            Disposition::Reject => "reject",
        })
    }
}

/// How a route is compared with a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MatchHow {
    /// Something of the route matches some member.
    #[default]
    Any,
    /// Every member matches something of the route.
    All,
    /// Nothing of the route matches any member.
    Invert,
}

impl FromStr for MatchHow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "any" => Ok(MatchHow::Any),
            "all" => Ok(MatchHow::All),
            "invert" => Ok(MatchHow::Invert),
            _ => Err(format!(
                "{s:?} is not valid; expected \"any\", \"all\" or \"invert\""
            )),
        }
    }
}

impl fmt::Display for MatchHow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchHow::Any => "any",
            MatchHow::All => "all",
            MatchHow::Invert => "invert",
        })
    }
}

/// A reference to a defined set with how to match it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMatch {
    /// The set's name.
    pub set: String,
    /// How.
    pub how: MatchHow,
}

/// An AS_PATH length comparison: `eq 3`, `ge 2`, `le 5` (or `= 3`, `>= 2`, `<= 5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthCmp {
    /// The comparison.
    pub op: CmpOp,
    /// The length compared with (RFC 4271 counting: an AS_SET counts one).
    pub value: u32,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// Equal.
    Eq,
    /// Greater or equal.
    Ge,
    /// Less or equal.
    Le,
}

impl FromStr for LengthCmp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not valid; expected \"eq N\", \"ge N\" or \"le N\"");
        let t = s.trim();
        let (op, rest) = [
            ("eq", CmpOp::Eq),
            ("ge", CmpOp::Ge),
            ("le", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<=", CmpOp::Le),
            ("==", CmpOp::Eq),
            ("=", CmpOp::Eq),
        ]
        .into_iter()
        .find_map(|(w, op)| t.strip_prefix(w).map(|r| (op, r)))
        .ok_or_else(bad)?;
        let value = rest.trim().parse().map_err(|_| bad())?;
        Ok(LengthCmp { op, value })
    }
}

impl fmt::Display for LengthCmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            CmpOp::Eq => "eq",
            CmpOp::Ge => "ge",
            CmpOp::Le => "le",
        };
        write!(f, "{op} {}", self.value)
    }
}

/// Where a route came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteType {
    /// From an iBGP peer.
    Internal,
    /// From an eBGP peer.
    External,
    /// Originated by this router (file or API).
    Local,
}

impl FromStr for RouteType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "internal" => Ok(RouteType::Internal),
            "external" => Ok(RouteType::External),
            "local" => Ok(RouteType::Local),
            _ => Err(format!(
                "{s:?} is not valid; expected \"internal\", \"external\" or \"local\""
            )),
        }
    }
}

impl fmt::Display for RouteType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteType::Internal => "internal",
            RouteType::External => "external",
            RouteType::Local => "local",
        })
    }
}

/// The conditions of a statement; every one that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// The prefix is in a prefix set (`any`) or not (`invert`).
    pub prefix_set: Option<SetMatch>,
    /// The peer the route came from is in a neighbour set (`any`) or not (`invert`).
    pub neighbor_set: Option<SetMatch>,
    /// The AS_PATH matches the set's expressions.
    pub as_path_set: Option<SetMatch>,
    /// The communities match the set.
    pub community_set: Option<SetMatch>,
    /// The extended communities match the set.
    pub ext_community_set: Option<SetMatch>,
    /// The large communities match the set.
    pub large_community_set: Option<SetMatch>,
    /// AS_PATH length comparison.
    pub as_path_length: Option<LengthCmp>,
    /// ORIGIN equals.
    pub origin: Option<Origin>,
    /// The next hop is inside one of these prefixes.
    pub next_hop: Vec<IpNet>,
    /// Where the route came from.
    pub route_type: Option<RouteType>,
    /// The route's address family.
    pub family: Option<Family>,
}

/// A change to one kind of community list. Applied in the order set, remove, add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityEdit<T> {
    /// Replace the list with these (empty: remove them all).
    pub set: Option<Vec<T>>,
    /// Remove the communities whose text matches one of these expressions.
    pub remove: Vec<String>,
    /// Add these (if not present).
    pub add: Vec<T>,
}

impl<T> Default for CommunityEdit<T> {
    fn default() -> Self {
        CommunityEdit {
            set: None,
            remove: Vec::new(),
            add: Vec::new(),
        }
    }
}

impl<T> CommunityEdit<T> {
    /// True if it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_none() && self.remove.is_empty() && self.add.is_empty()
    }
}

/// A change of MULTI_EXIT_DISC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MedAction {
    /// Set to a value.
    Set(u32),
    /// Add (saturating; a route without MED gets the value).
    Add(u32),
    /// Subtract (saturating at 0; a route without MED gets 0).
    Subtract(u32),
}

/// AS_PATH prepending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepend {
    /// The AS to prepend; `None`: our own.
    pub asn: Option<u32>,
    /// How many times (1..=32).
    pub times: u8,
}

/// A next-hop change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHopAction {
    /// Our address on the session.
    SelfAddr,
    /// The next hop the route had when it arrived (export: what it was before our
    /// rules set next hop self).
    Unchanged,
    /// This address (ignored for a route of the other family).
    Address(IpAddr),
}

impl FromStr for NextHopAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "self" => Ok(NextHopAction::SelfAddr),
            "unchanged" => Ok(NextHopAction::Unchanged),
            other => other.parse().map(NextHopAction::Address).map_err(|_| {
                format!("{s:?} is not valid; expected \"self\", \"unchanged\" or an IP address")
            }),
        }
    }
}

impl fmt::Display for NextHopAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHopAction::SelfAddr => f.write_str("self"),
            NextHopAction::Unchanged => f.write_str("unchanged"),
            NextHopAction::Address(a) => write!(f, "{a}"),
        }
    }
}

/// The actions of a statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// Accept or reject and stop; `None`: apply the changes and go on to the next
    /// statement.
    pub result: Option<Disposition>,
    /// Standard communities.
    pub communities: CommunityEdit<Community>,
    /// Extended communities.
    pub ext_communities: CommunityEdit<ExtCommunity>,
    /// Large communities.
    pub large_communities: CommunityEdit<LargeCommunity>,
    /// MED.
    pub med: Option<MedAction>,
    /// LOCAL_PREF (not sent to eBGP peers).
    pub local_pref: Option<u32>,
    /// AS_PATH prepend.
    pub prepend: Option<Prepend>,
    /// Next hop.
    pub next_hop: Option<NextHopAction>,
    /// ORIGIN.
    pub origin: Option<Origin>,
}

/// Parses an extended community: `rt:65000:100`, `ro:192.0.2.1:7`, `rt:4200000000:1`
/// (4-octet AS) or 16 hex digits.
pub fn parse_ext_community(s: &str) -> Result<ExtCommunity, String> {
    const EXPECTED: &str = "\"rt:ASN:N\", \"ro:ASN:N\", \"rt:IPv4:N\" or 16 hex digits";
    let bad = || format!("{s:?} is not an extended community; expected {EXPECTED}");
    if s.len() == 16 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        let mut b = [0u8; 8];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
                .map_err(|_| bad())?;
        }
        return Ok(ExtCommunity(b));
    }
    let mut parts = s.splitn(3, ':');
    let (Some(kind), Some(global), Some(local)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let admin = if let Ok(address) = global.parse() {
        ExtAdmin::Ipv4 {
            address,
            local: local.parse().map_err(|_| bad())?,
        }
    } else {
        let asn: u32 = global.parse().map_err(|_| bad())?;
        match u16::try_from(asn) {
            Ok(asn) => ExtAdmin::As2 {
                asn,
                local: local.parse().map_err(|_| bad())?,
            },
            Err(_) => ExtAdmin::As4 {
                asn,
                local: local.parse().map_err(|_| bad())?,
            },
        }
    };
    match kind {
        "rt" => Ok(ExtCommunity::route_target(admin)),
        "ro" => Ok(ExtCommunity::route_origin(admin)),
        _ => Err(bad()),
    }
}

impl PolicyConfig {
    /// Every defined set in its generic form, in kind then file order.
    pub fn sets(&self) -> Vec<SetDef> {
        let mut out = Vec::new();
        for s in &self.prefix_sets {
            out.push(SetDef {
                kind: SetKind::Prefix,
                name: s.name.clone(),
                members: s.prefixes.iter().map(ToString::to_string).collect(),
            });
        }
        for s in &self.neighbor_sets {
            out.push(SetDef {
                kind: SetKind::Neighbor,
                name: s.name.clone(),
                members: s.neighbors.iter().map(ToString::to_string).collect(),
            });
        }
        for (kind, list) in [
            (SetKind::AsPath, &self.as_path_sets),
            (SetKind::Community, &self.community_sets),
            (SetKind::ExtCommunity, &self.ext_community_sets),
            (SetKind::LargeCommunity, &self.large_community_sets),
        ] {
            for s in list {
                out.push(SetDef {
                    kind,
                    name: s.name.clone(),
                    members: s.patterns.clone(),
                });
            }
        }
        out
    }

    /// Whether a set of `kind` named `name` exists.
    pub fn has_set(&self, kind: SetKind, name: &str) -> bool {
        match kind {
            SetKind::Prefix => self.prefix_sets.iter().any(|s| s.name == name),
            SetKind::Neighbor => self.neighbor_sets.iter().any(|s| s.name == name),
            SetKind::AsPath => self.as_path_sets.iter().any(|s| s.name == name),
            SetKind::Community => self.community_sets.iter().any(|s| s.name == name),
            SetKind::ExtCommunity => self.ext_community_sets.iter().any(|s| s.name == name),
            SetKind::LargeCommunity => self.large_community_sets.iter().any(|s| s.name == name),
        }
    }

    /// Adds a set from its generic form, replacing one of the same kind and name.
    /// Members are checked; the error names the bad member (`members[2]: ...`).
    pub fn put_set(&mut self, set: SetDef) -> Result<(), String> {
        let name = set.name.clone();
        check_name(&name).map_err(|e| format!("name: {e}"))?;
        macro_rules! put {
            ($list:expr, $value:expr) => {{
                let value = $value;
                match $list.iter_mut().find(|s| s.name == name) {
                    Some(old) => *old = value,
                    None => $list.push(value),
                }
            }};
        }
        match set.kind {
            SetKind::Prefix => {
                let prefixes = parse_members(&set.members, |m| m.parse::<PrefixRange>())?;
                put!(
                    self.prefix_sets,
                    PrefixSetDef {
                        name: name.clone(),
                        prefixes
                    }
                );
            }
            SetKind::Neighbor => {
                let neighbors = parse_members(&set.members, parse_neighbor)?;
                put!(
                    self.neighbor_sets,
                    NeighborSetDef {
                        name: name.clone(),
                        neighbors
                    }
                );
            }
            kind => {
                parse_members(&set.members, |m| super::sets::check_pattern(kind, m))?;
                let def = PatternSetDef {
                    name: name.clone(),
                    patterns: set.members,
                };
                match kind {
                    SetKind::AsPath => put!(self.as_path_sets, def),
                    SetKind::Community => put!(self.community_sets, def),
                    SetKind::ExtCommunity => put!(self.ext_community_sets, def),
                    _ => put!(self.large_community_sets, def),
                }
            }
        }
        Ok(())
    }

    /// Removes a set; false if there was none.
    pub fn remove_set(&mut self, kind: SetKind, name: &str) -> bool {
        fn drop_named<T>(v: &mut Vec<T>, name: &str, get: impl Fn(&T) -> &str) -> bool {
            let before = v.len();
            v.retain(|s| get(s) != name);
            v.len() != before
        }
        match kind {
            SetKind::Prefix => drop_named(&mut self.prefix_sets, name, |s| &s.name),
            SetKind::Neighbor => drop_named(&mut self.neighbor_sets, name, |s| &s.name),
            SetKind::AsPath => drop_named(&mut self.as_path_sets, name, |s| &s.name),
            SetKind::Community => drop_named(&mut self.community_sets, name, |s| &s.name),
            SetKind::ExtCommunity => drop_named(&mut self.ext_community_sets, name, |s| &s.name),
            SetKind::LargeCommunity => {
                drop_named(&mut self.large_community_sets, name, |s| &s.name)
            }
        }
    }

    /// The policy named `name`.
    pub fn policy(&self, name: &str) -> Option<&PolicyDef> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// Names of the policies that use the set (`kind`, `name`).
    pub fn users_of_set(&self, kind: SetKind, name: &str) -> Vec<String> {
        self.policies
            .iter()
            .filter(|p| {
                p.statements.iter().any(|s| {
                    s.conditions
                        .set_refs()
                        .any(|(k, m)| k == kind && m.set == name)
                })
            })
            .map(|p| p.name.clone())
            .collect()
    }
}

impl Conditions {
    /// The set references of these conditions.
    pub fn set_refs(&self) -> impl Iterator<Item = (SetKind, &SetMatch)> {
        [
            (SetKind::Prefix, &self.prefix_set),
            (SetKind::Neighbor, &self.neighbor_set),
            (SetKind::AsPath, &self.as_path_set),
            (SetKind::Community, &self.community_set),
            (SetKind::ExtCommunity, &self.ext_community_set),
            (SetKind::LargeCommunity, &self.large_community_set),
        ]
        .into_iter()
        .filter_map(|(k, m)| m.as_ref().map(|m| (k, m)))
    }
}

/// A set, policy or statement name: 1..=64 characters of letters, digits, `-`, `_`, `.`.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid name; expected 1 to 64 letters, digits, '-', '_' or '.'"
        ))
    }
}

/// A neighbour set member: an address or a prefix.
pub fn parse_neighbor(s: &str) -> Result<IpNet, String> {
    if let Ok(a) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(a));
    }
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not an address or prefix"))
}

fn parse_members<T>(
    members: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    members
        .iter()
        .enumerate()
        .map(|(i, m)| parse(m).map_err(|e| format!("members[{i}]: {e}")))
        .collect()
}
