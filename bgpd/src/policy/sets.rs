//! Defined sets compiled once for fast matching: prefix sets as per-length hash maps,
//! regular expressions as one `RegexSet` per set.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::RegexSet;

use super::def::{MatchHow, PatternSetDef, PrefixRange, PrefixSetDef, SetKind};

/// Covering prefixes of one length, each with the length ranges it matches.
type ByPrefix = HashMap<IpNet, Vec<(u8, u8)>>;

/// A compiled prefix set. For a prefix of length L, only the set's distinct covering
/// lengths l <= L are looked up (one hash lookup each), so matching costs at most 33 or
/// 129 lookups whatever the set's size, and usually a handful.
#[derive(Debug, Default)]
pub struct PrefixSet {
    /// Covering prefixes by length, with their length ranges.
    by_len: HashMap<(bool, u8), ByPrefix>,
    /// The covering lengths present, per family (v6 = true), ascending.
    lens: [Vec<u8>; 2],
}

impl PrefixSet {
    /// Compiles a prefix set.
    pub fn new(def: &PrefixSetDef) -> Self {
        let mut set = PrefixSet::default();
        for r in &def.prefixes {
            set.insert(*r);
        }
        set
    }

    fn insert(&mut self, r: PrefixRange) {
        let v6 = matches!(r.prefix, IpNet::V6(_));
        let len = r.prefix.prefix_len();
        self.by_len
            .entry((v6, len))
            .or_default()
            .entry(r.prefix)
            .or_default()
            .push((r.min, r.max));
        let lens = &mut self.lens[usize::from(v6)];
        if let Err(i) = lens.binary_search(&len) {
            lens.insert(i, len);
        }
    }

    /// Whether `prefix` is matched by some member.
    pub fn contains(&self, prefix: IpNet) -> bool {
        let v6 = matches!(prefix, IpNet::V6(_));
        let len = prefix.prefix_len();
        for &l in self.lens[usize::from(v6)].iter().take_while(|l| **l <= len) {
            let Ok(cover) = IpNet::new(prefix.addr(), l) else {
                continue;
            };
            if let Some(ranges) = self
                .by_len
                .get(&(v6, l))
                .and_then(|m| m.get(&cover.trunc()))
                && ranges.iter().any(|(min, max)| (*min..=*max).contains(&len))
            {
                return true;
            }
        }
        false
    }
}

/// A compiled neighbour set.
#[derive(Debug, Default)]
pub struct NeighborSet {
    nets: Vec<IpNet>,
}

impl NeighborSet {
    /// Compiles a neighbour set.
    pub fn new(nets: &[IpNet]) -> Self {
        NeighborSet {
            nets: nets.to_vec(),
        }
    }

    /// Whether `addr` is in the set.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&addr))
    }
}

/// A compiled set of regular expressions, each anchored to the whole text of one
/// community, or (AS_PATH sets) searched in the rendered path.
#[derive(Debug)]
pub struct PatternSet {
    set: RegexSet,
}

/// Turns an AS_PATH expression into a regex: `_` stands for a boundary between ASNs
/// (start, end, space, or a set/confederation bracket), as on other routers.
fn as_path_regex(p: &str) -> String {
    p.replace('_', r"(?:^|$|[ {}()\[\]])")
}

/// Turns a community expression into one anchored to the whole community.
fn community_regex(p: &str) -> String {
    format!("^(?:{p})$")
}

fn regex_for(kind: SetKind, p: &str) -> String {
    if kind == SetKind::AsPath {
        as_path_regex(p)
    } else {
        community_regex(p)
    }
}

/// Checks one expression of a set of `kind`; the error says what is wrong.
pub fn check_pattern(kind: SetKind, p: &str) -> Result<(), String> {
    if p.len() > 1024 {
        return Err("is longer than 1024 bytes".into());
    }
    regex::RegexBuilder::new(&regex_for(kind, p))
        .size_limit(1 << 20)
        .build()
        .map(|_| ())
        .map_err(|e| {
            // The regex crate's message draws the pattern over several lines; its last
            // line says what is wrong.
            let text = e.to_string();
            let why = text.lines().last().unwrap_or_default().trim();
            let why = why.strip_prefix("error: ").unwrap_or(why);
            format!("{p:?} is not a valid regular expression: {why}")
        })
}

impl PatternSet {
    /// Compiles a set of `kind` (AS_PATH or one of the community kinds).
    pub fn new(kind: SetKind, def: &PatternSetDef) -> Result<Self, String> {
        for (i, p) in def.patterns.iter().enumerate() {
            check_pattern(kind, p).map_err(|e| format!("patterns[{i}]: {e}"))?;
        }
        let set = regex::RegexSetBuilder::new(def.patterns.iter().map(|p| regex_for(kind, p)))
            .size_limit(1 << 22)
            .build()
            .map_err(|e| format!("cannot compile: {e}"))?;
        Ok(PatternSet { set })
    }

    /// Matches one text (an AS_PATH): any, all (every expression matches) or invert.
    pub fn matches_text(&self, text: &str, how: MatchHow) -> bool {
        let m = self.set.matches(text);
        match how {
            MatchHow::Any => m.matched_any(),
            MatchHow::All => m.matched_all(),
            MatchHow::Invert => !m.matched_any(),
        }
    }

    /// Matches a list of texts (a route's communities): any (some community matches some
    /// expression), all (every expression matches some community) or invert (none does).
    pub fn matches_list<S: AsRef<str>>(&self, texts: &[S], how: MatchHow) -> bool {
        match how {
            MatchHow::Any => texts.iter().any(|t| self.set.is_match(t.as_ref())),
            MatchHow::Invert => !texts.iter().any(|t| self.set.is_match(t.as_ref())),
            MatchHow::All => {
                let mut seen = vec![false; self.set.len()];
                for t in texts {
                    for i in self.set.matches(t.as_ref()).iter() {
                        seen[i] = true;
                    }
                }
                !seen.is_empty() && seen.iter().all(|s| *s)
            }
        }
    }
}

/// Compiled expressions that select communities to remove (an action).
#[derive(Debug)]
pub struct RemoveSet {
    set: RegexSet,
}

impl RemoveSet {
    /// Compiles the expressions of a `remove` action (anchored to the whole community).
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        for (i, p) in patterns.iter().enumerate() {
            check_pattern(SetKind::Community, p).map_err(|e| format!("remove[{i}]: {e}"))?;
        }
        let set = regex::RegexSetBuilder::new(patterns.iter().map(|p| community_regex(p)))
            .size_limit(1 << 22)
            .build()
            .map_err(|e| format!("cannot compile: {e}"))?;
        Ok(RemoveSet { set })
    }

    /// Whether a community with this text is removed.
    pub fn matches(&self, text: &str) -> bool {
        self.set.is_match(text)
    }
}
