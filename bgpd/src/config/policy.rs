//! The policy sections of the file: `[policy]` (global defaults), the defined sets
//! (`[[prefix_sets]]`, `[[neighbor_sets]]`, `[[as_path_sets]]`, `[[community_sets]]`,
//! `[[ext_community_sets]]`, `[[large_community_sets]]`), `[[policies]]` with their
//! `[[policies.statements]]`, and the policy keys of `[[neighbors]]`.

use std::collections::HashMap;

use ::config::Value;
use bgp_proto::attr::{Community, LargeCommunity, Origin};

use super::reader::{Problems, Read, Reported, Table, boolean, integer, parsed_explained, string};
use super::{KNOWN_FAMILIES, Neighbor};
use crate::policy::def::{
    Actions, CommunityEdit, Conditions, Disposition, LengthCmp, MatchHow, MedAction,
    NeighborSetDef, NextHopAction, PatternSetDef, PolicyConfig, PolicyDef, PrefixRange,
    PrefixSetDef, Prepend, RouteType, SetMatch, StatementDef, check_name, parse_ext_community,
    parse_neighbor,
};
use crate::policy::{Assignment, Engine};

/// The policy sections, taken from the top-level table before it is finished.
pub(super) struct Sections {
    policy: Option<Table>,
    prefix_sets: Vec<Table>,
    neighbor_sets: Vec<Table>,
    pattern_sets: [(&'static str, Vec<Table>); 4],
    policies: Vec<Table>,
}

/// Reads a text holding only policy sections (`[policy]`, sets, `[[policies]]`), as the
/// API's LoadPolicy takes it. Names are resolved later, against the running policies.
pub(super) fn fragment(
    root: ::config::Map<String, Value>,
    file: &str,
) -> Result<PolicyConfig, super::ConfigError> {
    let mut p = Problems::new(file);
    let mut root = Table::root(root);
    let sections = take(&mut root, &mut p);
    root.finish(&mut p);
    let cfg = build(sections, &mut p);
    p.finish(cfg)
}

/// Takes the policy sections out of the top-level table.
pub(super) fn take(root: &mut Table, p: &mut Problems) -> Sections {
    Sections {
        policy: root.table(p, "policy").ok().flatten(),
        prefix_sets: root.tables(p, "prefix_sets"),
        neighbor_sets: root.tables(p, "neighbor_sets"),
        pattern_sets: [
            ("as_path_sets", root.tables(p, "as_path_sets")),
            ("community_sets", root.tables(p, "community_sets")),
            ("ext_community_sets", root.tables(p, "ext_community_sets")),
            (
                "large_community_sets",
                root.tables(p, "large_community_sets"),
            ),
        ],
        policies: root.tables(p, "policies"),
    }
}

fn disposition(v: Value) -> Result<Disposition, String> {
    parsed_explained(v, "\"accept\" or \"reject\"")
}

fn name(v: Value) -> Result<String, String> {
    let s = string(v, "a name")?;
    check_name(&s)?;
    Ok(s)
}

/// Reads the sections into a [`PolicyConfig`]; `None` if a problem was reported.
pub(super) fn build(s: Sections, p: &mut Problems) -> Option<PolicyConfig> {
    let reported = p.count();
    let mut cfg = PolicyConfig::default();
    if let Some(mut t) = s.policy {
        cfg.default_import = t
            .or(p, "default_import", Disposition::Accept, disposition)
            .unwrap_or_default();
        cfg.default_export = t
            .or(p, "default_export", Disposition::Accept, disposition)
            .unwrap_or_default();
        t.finish(p);
    }
    let mut names: HashMap<(&str, String), String> = HashMap::new();
    let mut unique = |p: &mut Problems, kind: &'static str, t: &Table, n: &str| {
        if let Some(first) = names.insert((kind, n.to_owned()), t.path().to_owned()) {
            p.report(
                t.key("name"),
                format!("{n:?} is already the name of {first}; expected each name once"),
            );
        }
    };
    for mut t in s.prefix_sets {
        let n = t.required(p, "name", "a name", name);
        let prefixes = t.list(
            p,
            "prefixes",
            "an array of strings such as [\"10.0.0.0/8 16..24\"]",
            |v| parsed_explained::<PrefixRange>(v, "a prefix range"),
        );
        if let Some(n) = &n {
            unique(p, "prefix", &t, n);
        }
        t.finish(p);
        if let (Some(name), Ok(prefixes)) = (n, prefixes) {
            cfg.prefix_sets.push(PrefixSetDef {
                name,
                prefixes: prefixes.unwrap_or_default(),
            });
        }
    }
    for mut t in s.neighbor_sets {
        let n = t.required(p, "name", "a name", name);
        let neighbors = t.list(p, "neighbors", "an array of addresses or prefixes", |v| {
            parse_neighbor(&string(v, "an address or prefix")?)
        });
        if let Some(n) = &n {
            unique(p, "neighbor", &t, n);
        }
        t.finish(p);
        if let (Some(name), Ok(neighbors)) = (n, neighbors) {
            cfg.neighbor_sets.push(NeighborSetDef {
                name,
                neighbors: neighbors.unwrap_or_default(),
            });
        }
    }
    for (key, tables) in s.pattern_sets {
        for mut t in tables {
            let n = t.required(p, "name", "a name", name);
            let patterns = t.list(p, "patterns", "an array of regular expressions", |v| {
                string(v, "a regular expression")
            });
            if let Some(n) = &n {
                unique(p, key, &t, n);
            }
            t.finish(p);
            if let (Some(name), Ok(patterns)) = (n, patterns) {
                let def = PatternSetDef {
                    name,
                    patterns: patterns.unwrap_or_default(),
                };
                match key {
                    "as_path_sets" => cfg.as_path_sets.push(def),
                    "community_sets" => cfg.community_sets.push(def),
                    "ext_community_sets" => cfg.ext_community_sets.push(def),
                    _ => cfg.large_community_sets.push(def),
                }
            }
        }
    }
    for mut t in s.policies {
        let n = t.required(p, "name", "a name", name);
        if let Some(n) = &n {
            unique(p, "policy", &t, n);
        }
        let statements: Vec<Option<StatementDef>> = t
            .tables(p, "statements")
            .into_iter()
            .map(|st| statement(st, p))
            .collect();
        t.finish(p);
        if let (Some(name), Some(statements)) = (n, statements.into_iter().collect()) {
            cfg.policies.push(PolicyDef { name, statements });
        }
    }
    (p.count() == reported).then_some(cfg)
}

fn set_match(
    t: &mut Table,
    p: &mut Problems,
    key: &'static str,
    how_key: &'static str,
) -> Read<SetMatch> {
    let set = t.get(p, key, name)?;
    let how = t.get(p, how_key, |v| {
        parsed_explained::<MatchHow>(v, "\"any\", \"all\" or \"invert\"")
    })?;
    match (set, how) {
        (Some(set), how) => Ok(Some(SetMatch {
            set,
            how: how.unwrap_or_default(),
        })),
        (None, Some(_)) => {
            p.report(
                t.key(how_key),
                format!("needs {key}; expected {key} beside it"),
            );
            Err(Reported)
        }
        (None, None) => Ok(None),
    }
}

fn statement(mut t: Table, p: &mut Problems) -> Option<StatementDef> {
    let reported = p.count();
    let n = t.or(p, "name", String::new(), name);
    let conditions = match t.table(p, "conditions") {
        Ok(Some(c)) => conditions(c, p),
        Ok(None) => Some(Conditions::default()),
        Err(Reported) => None,
    };
    let actions = match t.table(p, "actions") {
        Ok(Some(a)) => actions(a, p),
        Ok(None) => Some(Actions::default()),
        Err(Reported) => None,
    };
    t.finish(p);
    if p.count() > reported {
        return None;
    }
    Some(StatementDef {
        name: n?,
        conditions: conditions?,
        actions: actions?,
    })
}

fn conditions(mut t: Table, p: &mut Problems) -> Option<Conditions> {
    let reported = p.count();
    let prefix_set = set_match(&mut t, p, "prefix_set", "prefix_set_match");
    let neighbor_set = set_match(&mut t, p, "neighbor_set", "neighbor_set_match");
    let as_path_set = set_match(&mut t, p, "as_path_set", "as_path_set_match");
    let community_set = set_match(&mut t, p, "community_set", "community_set_match");
    let ext_community_set = set_match(&mut t, p, "ext_community_set", "ext_community_set_match");
    let large_community_set = set_match(
        &mut t,
        p,
        "large_community_set",
        "large_community_set_match",
    );
    let as_path_length = t.get(p, "as_path_length", |v| {
        parsed_explained::<LengthCmp>(v, "\"eq N\", \"ge N\" or \"le N\"")
    });
    let origin = t.get(p, "origin", |v| {
        parsed_explained::<Origin>(v, "\"igp\", \"egp\" or \"incomplete\"")
    });
    let next_hop = t.list(p, "next_hop", "an array of addresses or prefixes", |v| {
        parse_neighbor(&string(v, "an address or prefix")?)
    });
    let route_type = t.get(p, "route_type", |v| {
        parsed_explained::<RouteType>(v, "\"internal\", \"external\" or \"local\"")
    });
    let family = t.get(p, "family", |v| {
        let s = string(v, "a family name")?;
        KNOWN_FAMILIES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a known family; expected \"ipv4-unicast\" or \"ipv6-unicast\""
                )
            })
    });
    t.finish(p);
    if p.count() > reported {
        return None;
    }
    Some(Conditions {
        prefix_set: prefix_set.ok()?,
        neighbor_set: neighbor_set.ok()?,
        as_path_set: as_path_set.ok()?,
        community_set: community_set.ok()?,
        ext_community_set: ext_community_set.ok()?,
        large_community_set: large_community_set.ok()?,
        as_path_length: as_path_length.ok()?,
        origin: origin.ok()?,
        next_hop: next_hop.ok()?.unwrap_or_default(),
        route_type: route_type.ok()?,
        family: family.ok()?,
    })
}

fn edit<T>(
    t: &mut Table,
    p: &mut Problems,
    keys: [&'static str; 3],
    expected: &str,
    parse: impl Fn(&str) -> Result<T, String> + Copy,
) -> Option<CommunityEdit<T>> {
    let conv = |v: Value| parse(&string(v, expected)?);
    let set = t.list(p, keys[0], expected, conv);
    let add = t.list(p, keys[1], expected, conv);
    let remove = t.list(p, keys[2], "an array of regular expressions", |v| {
        let s = string(v, "a regular expression")?;
        crate::policy::sets::check_pattern(crate::policy::SetKind::Community, &s)?;
        Ok(s)
    });
    Some(CommunityEdit {
        set: set.ok()?,
        add: add.ok()?.unwrap_or_default(),
        remove: remove.ok()?.unwrap_or_default(),
    })
}

fn actions(mut t: Table, p: &mut Problems) -> Option<Actions> {
    let reported = p.count();
    let result = t.get(p, "result", disposition);
    let communities = edit(
        &mut t,
        p,
        ["set_communities", "add_communities", "remove_communities"],
        "an array of communities such as [\"65000:100\"]",
        |s| s.parse::<Community>().map_err(|e| e.to_string()),
    );
    let ext_communities = edit(
        &mut t,
        p,
        [
            "set_ext_communities",
            "add_ext_communities",
            "remove_ext_communities",
        ],
        "an array of extended communities such as [\"rt:65000:100\"]",
        parse_ext_community,
    );
    let large_communities = edit(
        &mut t,
        p,
        [
            "set_large_communities",
            "add_large_communities",
            "remove_large_communities",
        ],
        "an array of large communities such as [\"65000:1:2\"]",
        |s| s.parse::<LargeCommunity>().map_err(|e| e.to_string()),
    );
    let u32_value = |v| integer::<u32>(v, 0..=u32::MAX, "0..=4294967295");
    let set_med = t.get(p, "set_med", u32_value);
    let add_med = t.get(p, "add_med", u32_value);
    let subtract_med = t.get(p, "subtract_med", u32_value);
    let med = match (set_med, add_med, subtract_med) {
        (Ok(s), Ok(a), Ok(d)) => {
            let given: Vec<MedAction> = [
                s.map(MedAction::Set),
                a.map(MedAction::Add),
                d.map(MedAction::Subtract),
            ]
            .into_iter()
            .flatten()
            .collect();
            if given.len() > 1 {
                p.report(
                    t.key("set_med"),
                    "set_med, add_med and subtract_med exclude each other; expected one of them",
                );
            }
            given.first().copied()
        }
        _ => None,
    };
    let local_pref = t.get(p, "local_pref", u32_value);
    let times = t.get(p, "prepend", |v| integer::<u8>(v, 1..=32, "1..=32 times"));
    let prepend_asn = t.get(p, "prepend_asn", |v| {
        integer::<u32>(v, 1..=u32::MAX, "an AS number 1..=4294967295")
    });
    let prepend = match (times, prepend_asn) {
        (Ok(Some(times)), Ok(asn)) => Some(Prepend { asn, times }),
        (Ok(None), Ok(Some(_))) => {
            p.report(
                t.key("prepend_asn"),
                "needs prepend (how many times); expected prepend beside it",
            );
            None
        }
        _ => None,
    };
    let next_hop = t.get(p, "next_hop", |v| {
        parsed_explained::<NextHopAction>(v, "\"self\", \"unchanged\" or an address")
    });
    let origin = t.get(p, "origin", |v| {
        parsed_explained::<Origin>(v, "\"igp\", \"egp\" or \"incomplete\"")
    });
    t.finish(p);
    if p.count() > reported {
        return None;
    }
    Some(Actions {
        result: result.ok()?,
        communities: communities?,
        ext_communities: ext_communities?,
        large_communities: large_communities?,
        med,
        local_pref: local_pref.ok()?,
        prepend,
        next_hop: next_hop.ok()?,
        origin: origin.ok()?,
    })
}

/// The policy keys of one `[[neighbors]]` entry.
pub(super) struct NeighborPolicy {
    pub(super) assignment: Assignment,
    pub(super) route_server_client: bool,
    pub(super) soft_reconfiguration_inbound: bool,
}

/// Reads the policy keys of a neighbour; `ibgp` is known when the ASNs are valid.
pub(super) fn neighbor(
    t: &mut Table,
    p: &mut Problems,
    ibgp: Option<bool>,
) -> Option<NeighborPolicy> {
    let names = "an array of policy names";
    let import = t.list(p, "import_policy", names, name);
    let export = t.list(p, "export_policy", names, name);
    let default_import = t.get(p, "default_import", disposition);
    let default_export = t.get(p, "default_export", disposition);
    let rs = t.or(p, "route_server_client", false, boolean);
    if let (Some(true), Some(true)) = (ibgp, rs) {
        p.report(
            t.key("route_server_client"),
            "is only for eBGP neighbors (RFC 7947), and this one is iBGP; expected false or no \
             route_server_client key",
        );
    }
    let soft = t.or(p, "soft_reconfiguration_inbound", false, boolean);
    Some(NeighborPolicy {
        assignment: Assignment {
            import: import.ok()?.unwrap_or_default(),
            export: export.ok()?.unwrap_or_default(),
            default_import: default_import.ok()?,
            default_export: default_export.ok()?,
        },
        route_server_client: rs?,
        soft_reconfiguration_inbound: soft?,
    })
}

/// Compiles the policies with the neighbours' assignments and reports what is wrong
/// (unknown set and policy names, bad regular expressions) at its key in the file.
pub(super) fn check(cfg: &PolicyConfig, neighbors: &[Neighbor], p: &mut Problems) {
    let assignments = neighbors.iter().map(|n| (n.address, &n.policy));
    if let Err(errors) = Engine::compile(cfg, assignments) {
        for e in errors {
            let mut key = e.key.clone();
            if let Some(rest) = key.strip_prefix("neighbors[")
                && let Some((addr, tail)) = rest.split_once(']')
                && let Some(i) = neighbors.iter().position(|n| n.address.to_string() == addr)
            {
                key = format!("neighbors[{i}]{tail}");
            }
            p.report(key, e.message);
        }
    }
}
