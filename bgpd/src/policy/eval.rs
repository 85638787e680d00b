//! Compiled statements: conditions tested on a route and actions applied to its
//! attributes.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use bgp_proto::Family;
use bgp_proto::attr::{
    Communities, Community, ExtCommunities, ExtCommunity, LargeCommunities, LargeCommunity,
    NextHop, Origin, code,
};
use ipnet::IpNet;

use super::def::{
    Actions, CmpOp, CommunityEdit, LengthCmp, MatchHow, MedAction, NextHopAction, RouteType,
};
use super::sets::{NeighborSet, PatternSet, PrefixSet, RemoveSet};
use crate::rib::RouteAttrs;

/// A route as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    /// The prefix.
    pub prefix: IpNet,
    /// Its attributes and next hop.
    pub attrs: &'a RouteAttrs,
    /// The address of the peer it was learned from (`None`: originated here).
    pub source: Option<IpAddr>,
    /// Internal, external or local.
    pub route_type: RouteType,
}

/// What actions need from the session the policy runs for.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Our AS (prepend of our own AS).
    pub local_asn: u32,
    /// Our address on the session, in the route's family (next hop self).
    pub self_next_hop: Option<NextHop>,
    /// The next hop the route had before export rules changed it (next hop unchanged).
    pub original_next_hop: Option<NextHop>,
}

/// The outcome of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// The route passes with these attributes (borrowed when unchanged).
    Accept(Cow<'a, RouteAttrs>),
    /// The route is dropped.
    Reject,
}

impl Verdict<'_> {
    /// True if rejected.
    pub fn is_reject(&self) -> bool {
        matches!(self, Verdict::Reject)
    }
}

/// One compiled condition.
#[derive(Debug)]
pub(super) enum Cond {
    Prefix(Arc<PrefixSet>, MatchHow),
    Neighbor(Arc<NeighborSet>, MatchHow),
    AsPath(Arc<PatternSet>, MatchHow),
    Community(Arc<PatternSet>, MatchHow),
    ExtCommunity(Arc<PatternSet>, MatchHow),
    LargeCommunity(Arc<PatternSet>, MatchHow),
    AsPathLength(LengthCmp),
    Origin(Origin),
    NextHop(Vec<IpNet>),
    RouteType(RouteType),
    Family(Family),
}

/// Text forms rendered at most once per evaluation (until an action changes them).
#[derive(Debug, Default)]
pub(super) struct Scratch {
    as_path: Option<String>,
    communities: Option<Vec<String>>,
    ext: Option<Vec<String>>,
    large: Option<Vec<String>>,
}

impl Scratch {
    pub(super) fn clear(&mut self) {
        *self = Scratch::default();
    }
}

fn invert(hit: bool, how: MatchHow) -> bool {
    if how == MatchHow::Invert { !hit } else { hit }
}

/// The family of a prefix.
pub fn family_of(prefix: IpNet) -> Family {
    match prefix {
        IpNet::V4(_) => Family::IPV4_UNICAST,
        IpNet::V6(_) => Family::IPV6_UNICAST,
    }
}

impl Cond {
    pub(super) fn holds(&self, route: &Route<'_>, a: &RouteAttrs, s: &mut Scratch) -> bool {
        let attrs = &a.attrs;
        match self {
            Cond::Prefix(set, how) => invert(set.contains(route.prefix), *how),
            Cond::Neighbor(set, how) => invert(route.source.is_some_and(|n| set.contains(n)), *how),
            Cond::AsPath(set, how) => {
                let text = s.as_path.get_or_insert_with(|| {
                    attrs.as_path().map(ToString::to_string).unwrap_or_default()
                });
                set.matches_text(text, *how)
            }
            Cond::Community(set, how) => {
                let texts = s.communities.get_or_insert_with(|| {
                    attrs
                        .communities()
                        .map(|c| c.iter().map(|c| c.to_string()).collect())
                        .unwrap_or_default()
                });
                set.matches_list(texts, *how)
            }
            Cond::ExtCommunity(set, how) => {
                let texts = s.ext.get_or_insert_with(|| {
                    attrs
                        .ext_communities()
                        .map(|c| c.iter().map(|c| c.to_string()).collect())
                        .unwrap_or_default()
                });
                set.matches_list(texts, *how)
            }
            Cond::LargeCommunity(set, how) => {
                let texts = s.large.get_or_insert_with(|| {
                    attrs
                        .large_communities()
                        .map(|c| c.iter().map(|c| c.to_string()).collect())
                        .unwrap_or_default()
                });
                set.matches_list(texts, *how)
            }
            Cond::AsPathLength(cmp) => {
                let len = attrs
                    .as_path()
                    .map_or(0, |p| u32::try_from(p.path_len()).unwrap_or(u32::MAX));
                match cmp.op {
                    CmpOp::Eq => len == cmp.value,
                    CmpOp::Ge => len >= cmp.value,
                    CmpOp::Le => len <= cmp.value,
                }
            }
            Cond::Origin(o) => attrs.origin() == Some(*o),
            Cond::NextHop(nets) => a
                .next_hop_addr()
                .is_some_and(|nh| nets.iter().any(|n| n.contains(&nh))),
            Cond::RouteType(t) => route.route_type == *t,
            Cond::Family(f) => family_of(route.prefix) == *f,
        }
    }
}

/// Compiled actions: the definition plus the compiled `remove` expressions.
#[derive(Debug)]
pub(super) struct CompiledActions {
    pub(super) def: Actions,
    remove_communities: Option<RemoveSet>,
    remove_ext: Option<RemoveSet>,
    remove_large: Option<RemoveSet>,
}

fn remove_set(patterns: &[String], key: &str) -> Result<Option<RemoveSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    RemoveSet::new(patterns)
        .map(Some)
        .map_err(|e| format!("{key}.{e}"))
}

impl CompiledActions {
    pub(super) fn new(def: &Actions) -> Result<Self, String> {
        Ok(CompiledActions {
            remove_communities: remove_set(&def.communities.remove, "communities")?,
            remove_ext: remove_set(&def.ext_communities.remove, "ext_communities")?,
            remove_large: remove_set(&def.large_communities.remove, "large_communities")?,
            def: def.clone(),
        })
    }

    /// True if the actions change attributes (as opposed to only deciding).
    pub(super) fn modifies(&self) -> bool {
        let d = &self.def;
        !d.communities.is_empty()
            || !d.ext_communities.is_empty()
            || !d.large_communities.is_empty()
            || d.med.is_some()
            || d.local_pref.is_some()
            || d.prepend.is_some()
            || d.next_hop.is_some()
            || d.origin.is_some()
    }

    /// Applies the changes to `r`.
    pub(super) fn apply(&self, r: &mut Cow<'_, RouteAttrs>, family: Family, env: &Env) {
        let d = &self.def;
        if !d.communities.is_empty() {
            let now: Vec<Community> = r
                .attrs
                .communities()
                .map(|c| c.iter().collect())
                .unwrap_or_default();
            let new = edit(&now, &d.communities, self.remove_communities.as_ref());
            if new != now {
                let a = &mut r.to_mut().attrs;
                if new.is_empty() {
                    a.remove(code::COMMUNITIES);
                } else {
                    a.set_communities(Communities::new(new));
                }
            }
        }
        if !d.ext_communities.is_empty() {
            let now: Vec<ExtCommunity> = r
                .attrs
                .ext_communities()
                .map(|c| c.iter().collect())
                .unwrap_or_default();
            let new = edit(&now, &d.ext_communities, self.remove_ext.as_ref());
            if new != now {
                let a = &mut r.to_mut().attrs;
                if new.is_empty() {
                    a.remove(code::EXTENDED_COMMUNITIES);
                } else {
                    a.set_ext_communities(ExtCommunities::new(new));
                }
            }
        }
        if !d.large_communities.is_empty() {
            let now: Vec<LargeCommunity> = r
                .attrs
                .large_communities()
                .map(|c| c.iter().collect())
                .unwrap_or_default();
            let new = edit(&now, &d.large_communities, self.remove_large.as_ref());
            if new != now {
                let a = &mut r.to_mut().attrs;
                if new.is_empty() {
                    a.remove(code::LARGE_COMMUNITIES);
                } else {
                    a.set_large_communities(LargeCommunities::new(new));
                }
            }
        }
        if let Some(m) = d.med {
            let old = r.attrs.med();
            let new = match m {
                MedAction::Set(v) => v,
                MedAction::Add(v) => old.map_or(v, |o| o.saturating_add(v)),
                MedAction::Subtract(v) => old.map_or(0, |o| o.saturating_sub(v)),
            };
            if old != Some(new) {
                r.to_mut().attrs.set_med(new);
            }
        }
        if let Some(lp) = d.local_pref
            && r.attrs.local_pref() != Some(lp)
        {
            r.to_mut().attrs.set_local_pref(lp);
        }
        if let Some(p) = d.prepend {
            let asn = p.asn.unwrap_or(env.local_asn);
            let path = r.attrs.as_path().cloned().unwrap_or_default();
            r.to_mut()
                .attrs
                .set_as_path(path.prepend(asn, usize::from(p.times)));
        }
        if let Some(nh) = d.next_hop {
            let new = match nh {
                NextHopAction::SelfAddr => env.self_next_hop.clone(),
                NextHopAction::Unchanged => env.original_next_hop.clone(),
                NextHopAction::Address(IpAddr::V4(a)) if family == Family::IPV4_UNICAST => {
                    Some(NextHop::V4(a))
                }
                NextHopAction::Address(IpAddr::V6(a)) if family == Family::IPV6_UNICAST => {
                    Some(NextHop::V6 {
                        global: a,
                        link_local: None,
                    })
                }
                NextHopAction::Address(_) => None,
            };
            if let Some(new) = new
                && r.next_hop != new
            {
                r.to_mut().next_hop = new;
            }
        }
        if let Some(o) = d.origin
            && r.attrs.origin() != Some(o)
        {
            r.to_mut().attrs.set_origin(o);
        }
    }
}

/// Applies a community edit: set, then remove (by text), then add (if absent).
fn edit<T: Copy + PartialEq + std::fmt::Display>(
    now: &[T],
    e: &CommunityEdit<T>,
    remove: Option<&RemoveSet>,
) -> Vec<T> {
    let mut out: Vec<T> = match &e.set {
        Some(v) => v.clone(),
        None => now.to_vec(),
    };
    if let Some(r) = remove {
        out.retain(|c| !r.matches(&c.to_string()));
    }
    for c in &e.add {
        if !out.contains(c) {
            out.push(*c);
        }
    }
    out
}
