//! The policy calls of the API: conversions between `petrel.bgpd.v1` policy messages and
//! the definitions of [`crate::policy::def`], each bad value reported with its field.

use bgp_api::bgpd::v1 as pb;
use bgp_proto::attr::{Community, LargeCommunity, Origin};
use tonic::Status;

use super::convert::{address, invalid};
use crate::control::{PolicyReply, PolicyRequest, SoftAction};
use crate::policy::def::{
    Actions, CommunityEdit, Conditions, LengthCmp, MatchHow, MedAction, NextHopAction, PolicyDef,
    Prepend, RouteType, SetDef, SetKind, SetMatch, StatementDef, parse_ext_community,
    parse_neighbor,
};
use crate::policy::{Direction, Disposition};

/// A defined set kind from the API; `None` for unspecified.
pub(crate) fn kind_from(field: &str, k: i32) -> Result<Option<SetKind>, Status> {
    use pb::DefinedSetKind as K;
    Ok(Some(match K::try_from(k) {
        Ok(K::Unspecified) => return Ok(None),
        Ok(K::Prefix) => SetKind::Prefix,
        Ok(K::Neighbor) => SetKind::Neighbor,
        Ok(K::AsPath) => SetKind::AsPath,
        Ok(K::Community) => SetKind::Community,
        Ok(K::ExtCommunity) => SetKind::ExtCommunity,
        Ok(K::LargeCommunity) => SetKind::LargeCommunity,
        Err(_) => return Err(invalid(field, format!("unknown kind {k}"))),
    }))
}

fn kind_to(k: SetKind) -> i32 {
    use pb::DefinedSetKind as K;
    (match k {
        SetKind::Prefix => K::Prefix,
        SetKind::Neighbor => K::Neighbor,
        SetKind::AsPath => K::AsPath,
        SetKind::Community => K::Community,
        SetKind::ExtCommunity => K::ExtCommunity,
        SetKind::LargeCommunity => K::LargeCommunity,
    }) as i32
}

/// A default action from the API; `None` for unspecified.
pub(crate) fn default_from(field: &str, d: i32) -> Result<Option<Disposition>, Status> {
    match pb::PolicyDefault::try_from(d) {
        Ok(pb::PolicyDefault::Unspecified) => Ok(None),
        Ok(pb::PolicyDefault::Accept) => Ok(Some(Disposition::Accept)),
        Ok(pb::PolicyDefault::Reject) => Ok(Some(Disposition::Reject)),
        Err(_) => Err(invalid(field, format!("unknown default {d}"))),
    }
}

/// A default action for the API.
pub(crate) fn default_to(d: Option<Disposition>) -> i32 {
    (match d {
        None => pb::PolicyDefault::Unspecified,
        Some(Disposition::Accept) => pb::PolicyDefault::Accept,
        Some(Disposition::Reject) => pb::PolicyDefault::Reject,
    }) as i32
}

/// The direction of an assignment.
pub(crate) fn direction_from(field: &str, d: i32) -> Result<Direction, Status> {
    match pb::PolicyDirection::try_from(d) {
        Ok(pb::PolicyDirection::Import) => Ok(Direction::Import),
        Ok(pb::PolicyDirection::Export) => Ok(Direction::Export),
        _ => Err(invalid(
            field,
            "expected POLICY_DIRECTION_IMPORT or POLICY_DIRECTION_EXPORT",
        )),
    }
}

/// A defined set from the API (members are checked by the control task).
pub(crate) fn set_from(s: Option<pb::DefinedSet>) -> Result<SetDef, Status> {
    let s = s.ok_or_else(|| invalid("set", "missing"))?;
    let kind = kind_from("set.kind", s.kind)?
        .ok_or_else(|| invalid("set.kind", "missing; expected a DEFINED_SET_KIND_* value"))?;
    Ok(SetDef {
        kind,
        name: s.name,
        members: s.members,
    })
}

/// A defined set for the API.
pub(crate) fn set_to(s: &SetDef) -> pb::DefinedSet {
    pb::DefinedSet {
        kind: kind_to(s.kind),
        name: s.name.clone(),
        members: s.members.clone(),
    }
}

fn opt<T>(
    field: &str,
    s: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, Status> {
    if s.is_empty() {
        return Ok(None);
    }
    parse(s).map(Some).map_err(|e| invalid(field, e))
}

fn set_match(field: &str, m: Option<pb::SetMatch>) -> Result<Option<SetMatch>, Status> {
    let Some(m) = m else {
        return Ok(None);
    };
    if m.set.is_empty() {
        return Err(invalid(
            &format!("{field}.set"),
            "missing; expected a set name",
        ));
    }
    let how = match pb::SetMatchKind::try_from(m.r#match) {
        Ok(pb::SetMatchKind::Any) => MatchHow::Any,
        Ok(pb::SetMatchKind::All) => MatchHow::All,
        Ok(pb::SetMatchKind::Invert) => MatchHow::Invert,
        Err(_) => {
            return Err(invalid(
                &format!("{field}.match"),
                format!("unknown value {}", m.r#match),
            ));
        }
    };
    Ok(Some(SetMatch { set: m.set, how }))
}

fn conditions(field: &str, c: Option<pb::Conditions>) -> Result<Conditions, Status> {
    let Some(c) = c else {
        return Ok(Conditions::default());
    };
    let f = |k: &str| format!("{field}.{k}");
    let mut next_hop = Vec::new();
    for (i, n) in c.next_hop.iter().enumerate() {
        next_hop.push(parse_neighbor(n).map_err(|e| invalid(&f(&format!("next_hop[{i}]")), e))?);
    }
    Ok(Conditions {
        prefix_set: set_match(&f("prefix_set"), c.prefix_set)?,
        neighbor_set: set_match(&f("neighbor_set"), c.neighbor_set)?,
        as_path_set: set_match(&f("as_path_set"), c.as_path_set)?,
        community_set: set_match(&f("community_set"), c.community_set)?,
        ext_community_set: set_match(&f("ext_community_set"), c.ext_community_set)?,
        large_community_set: set_match(&f("large_community_set"), c.large_community_set)?,
        as_path_length: opt(&f("as_path_length"), &c.as_path_length, |s| {
            s.parse::<LengthCmp>()
        })?,
        origin: opt(&f("origin"), &c.origin, |s| {
            s.parse::<Origin>().map_err(|e| e.to_string())
        })?,
        next_hop,
        route_type: opt(&f("route_type"), &c.route_type, |s| s.parse::<RouteType>())?,
        family: opt(&f("family"), &c.family, |s| {
            crate::config::KNOWN_FAMILIES
                .iter()
                .find(|(n, _)| *n == s)
                .map(|(_, f)| *f)
                .ok_or_else(|| {
                    format!(
                        "{s:?} is not a known family; expected \"ipv4-unicast\" or \"ipv6-unicast\""
                    )
                })
        })?,
    })
}

fn edit<T>(
    field: &str,
    e: Option<pb::CommunityEdit>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<CommunityEdit<T>, Status> {
    let Some(e) = e else {
        return Ok(CommunityEdit::default());
    };
    let list = |name: &str, v: &[String]| -> Result<Vec<T>, Status> {
        v.iter()
            .enumerate()
            .map(|(i, s)| parse(s).map_err(|m| invalid(&format!("{field}.{name}[{i}]"), m)))
            .collect()
    };
    for (i, r) in e.remove.iter().enumerate() {
        crate::policy::sets::check_pattern(SetKind::Community, r)
            .map_err(|m| invalid(&format!("{field}.remove[{i}]"), m))?;
    }
    Ok(CommunityEdit {
        set: if e.replace {
            Some(list("set", &e.set)?)
        } else {
            None
        },
        add: list("add", &e.add)?,
        remove: e.remove,
    })
}

fn actions(field: &str, a: Option<pb::Actions>) -> Result<Actions, Status> {
    let Some(a) = a else {
        return Ok(Actions::default());
    };
    let f = |k: &str| format!("{field}.{k}");
    let med = opt(&f("med"), &a.med, |s| {
        let (op, n) = s.split_once(' ').ok_or_else(|| {
            format!("{s:?} is not valid; expected \"set N\", \"add N\" or \"subtract N\"")
        })?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{n:?} is not a number 0..=4294967295"))?;
        match op {
            "set" => Ok(MedAction::Set(n)),
            "add" => Ok(MedAction::Add(n)),
            "subtract" => Ok(MedAction::Subtract(n)),
            _ => Err(format!(
                "{op:?} is not valid; expected \"set\", \"add\" or \"subtract\""
            )),
        }
    })?;
    let prepend = match (a.prepend, a.prepend_asn) {
        (0, 0) => None,
        (0, _) => return Err(invalid(&f("prepend_asn"), "needs prepend (how many times)")),
        (n @ 1..=32, asn) => Some(Prepend {
            asn: (asn != 0).then_some(asn),
            times: u8::try_from(n).unwrap_or(32),
        }),
        (n, _) => {
            return Err(invalid(
                &f("prepend"),
                format!("{n} is out of range; expected 1..=32"),
            ));
        }
    };
    Ok(Actions {
        result: opt(&f("result"), &a.result, |s| s.parse::<Disposition>())?,
        communities: edit(&f("communities"), a.communities, |s| {
            s.parse::<Community>().map_err(|e| e.to_string())
        })?,
        ext_communities: edit(
            &f("ext_communities"),
            a.ext_communities,
            parse_ext_community,
        )?,
        large_communities: edit(&f("large_communities"), a.large_communities, |s| {
            s.parse::<LargeCommunity>().map_err(|e| e.to_string())
        })?,
        med,
        local_pref: a.local_pref,
        prepend,
        next_hop: opt(&f("next_hop"), &a.next_hop, |s| s.parse::<NextHopAction>())?,
        origin: opt(&f("origin"), &a.origin, |s| {
            s.parse::<Origin>().map_err(|e| e.to_string())
        })?,
    })
}

/// A policy from the API (set and policy names are resolved by the control task).
pub(crate) fn policy_from(p: Option<pb::Policy>) -> Result<PolicyDef, Status> {
    let p = p.ok_or_else(|| invalid("policy", "missing"))?;
    let mut statements = Vec::new();
    for (i, s) in p.statements.into_iter().enumerate() {
        let at = format!("policy.statements[{i}]");
        statements.push(StatementDef {
            name: s.name,
            conditions: conditions(&format!("{at}.conditions"), s.conditions)?,
            actions: actions(&format!("{at}.actions"), s.actions)?,
        });
    }
    Ok(PolicyDef {
        name: p.name,
        statements,
    })
}

fn set_match_to(m: &Option<SetMatch>) -> Option<pb::SetMatch> {
    m.as_ref().map(|m| pb::SetMatch {
        set: m.set.clone(),
        r#match: (match m.how {
            MatchHow::Any => pb::SetMatchKind::Any,
            MatchHow::All => pb::SetMatchKind::All,
            MatchHow::Invert => pb::SetMatchKind::Invert,
        }) as i32,
    })
}

fn edit_to<T: ToString>(e: &CommunityEdit<T>) -> Option<pb::CommunityEdit> {
    if e.is_empty() {
        return None;
    }
    let text = |v: &[T]| v.iter().map(ToString::to_string).collect();
    Some(pb::CommunityEdit {
        replace: e.set.is_some(),
        set: e.set.as_deref().map(text).unwrap_or_default(),
        add: text(&e.add),
        remove: e.remove.clone(),
    })
}

fn text<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// A policy for the API.
pub(crate) fn policy_to(p: &PolicyDef) -> pb::Policy {
    pb::Policy {
        name: p.name.clone(),
        statements: p
            .statements
            .iter()
            .map(|s| {
                let c = &s.conditions;
                let a = &s.actions;
                pb::Statement {
                    name: s.name.clone(),
                    conditions: Some(pb::Conditions {
                        prefix_set: set_match_to(&c.prefix_set),
                        neighbor_set: set_match_to(&c.neighbor_set),
                        as_path_set: set_match_to(&c.as_path_set),
                        community_set: set_match_to(&c.community_set),
                        ext_community_set: set_match_to(&c.ext_community_set),
                        large_community_set: set_match_to(&c.large_community_set),
                        as_path_length: text(&c.as_path_length),
                        origin: c.origin.map(origin_text).unwrap_or_default(),
                        next_hop: c.next_hop.iter().map(ToString::to_string).collect(),
                        route_type: text(&c.route_type),
                        family: c
                            .family
                            .and_then(|f| {
                                crate::config::KNOWN_FAMILIES
                                    .iter()
                                    .find(|(_, k)| *k == f)
                                    .map(|(n, _)| (*n).to_owned())
                            })
                            .unwrap_or_default(),
                    }),
                    actions: Some(pb::Actions {
                        result: text(&a.result),
                        communities: edit_to(&a.communities),
                        ext_communities: edit_to(&a.ext_communities),
                        large_communities: edit_to(&a.large_communities),
                        med: match a.med {
                            None => String::new(),
                            Some(MedAction::Set(n)) => format!("set {n}"),
                            Some(MedAction::Add(n)) => format!("add {n}"),
                            Some(MedAction::Subtract(n)) => format!("subtract {n}"),
                        },
                        local_pref: a.local_pref,
                        prepend: a.prepend.map_or(0, |p| u32::from(p.times)),
                        prepend_asn: a.prepend.and_then(|p| p.asn).unwrap_or(0),
                        next_hop: text(&a.next_hop),
                        origin: a.origin.map(origin_text).unwrap_or_default(),
                    }),
                }
            })
            .collect(),
    }
}

fn origin_text(o: Origin) -> String {
    match o {
        Origin::Igp => "igp",
        Origin::Egp => "egp",
        Origin::Incomplete => "incomplete",
    }
    .to_owned()
}

/// What a change did, for the API.
pub(crate) fn effects(v: &[(std::net::IpAddr, SoftAction)]) -> Vec<pb::PolicyEffect> {
    v.iter()
        .map(|(a, e)| pb::PolicyEffect {
            address: a.to_string(),
            action: e.as_str().to_owned(),
        })
        .collect()
}

/// The answer to a change.
pub(crate) fn change_response(r: &PolicyReply) -> pb::PolicyChangeResponse {
    pb::PolicyChangeResponse {
        effects: effects(&r.effects),
    }
}

/// An assignment request.
pub(crate) fn assignment(r: pb::SetPolicyAssignmentRequest) -> Result<PolicyRequest, Status> {
    Ok(PolicyRequest::Assign {
        address: address("address", &r.address)?,
        direction: direction_from("direction", r.direction)?,
        policies: r.policies,
        default: default_from("default", r.default)?,
    })
}

/// The sets and policies of a TOML text in the configuration file's form.
pub(crate) fn load(text: &str) -> Result<PolicyRequest, Status> {
    let cfg = crate::config::policy_from_str(text, "toml").map_err(|e| {
        let lines: Vec<String> = e
            .errors()
            .iter()
            .take(20)
            .map(ToString::to_string)
            .collect();
        Status::invalid_argument(lines.join("\n"))
    })?;
    Ok(PolicyRequest::Load(Box::new(cfg)))
}

/// The policy assignment of a `PeerConfig` (names are resolved by the control task).
pub(crate) fn peer_assignment(p: &pb::PeerConfig) -> Result<crate::policy::Assignment, Status> {
    for (key, names) in [
        ("peer.import_policy", &p.import_policy),
        ("peer.export_policy", &p.export_policy),
    ] {
        for (i, n) in names.iter().enumerate() {
            crate::policy::def::check_name(n).map_err(|e| invalid(&format!("{key}[{i}]"), e))?;
        }
    }
    Ok(crate::policy::Assignment {
        import: p.import_policy.clone(),
        export: p.export_policy.clone(),
        default_import: default_from("peer.default_import", p.default_import)?,
        default_export: default_from("peer.default_export", p.default_export)?,
    })
}
