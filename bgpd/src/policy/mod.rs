//! The policy engine: defined sets, policies of ordered statements, and per-neighbour
//! import and export chains with a default action.
//!
//! Pure: [`Engine::compile`] turns the definitions ([`def`]) and the neighbours'
//! assignments into compiled chains once (prefix sets as per-length hash maps, regular
//! expressions compiled into one `RegexSet` per set); [`Chain::evaluate`] then runs a
//! route through a chain without allocating unless an action changes the attributes.
//!
//! Semantics (as GoBGP's): the policies of a chain run in order, and the statements of a
//! policy in order. A statement whose conditions all hold applies its changes; if it has a
//! result (accept or reject) the chain stops there, otherwise evaluation goes on with the
//! changed route. A route that reaches the end gets the neighbour's default action, or
//! the global one.

pub mod def;
pub mod eval;
pub mod sets;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use self::def::{Conditions, PolicyDef};
pub use self::def::{Disposition, PolicyConfig, SetKind};
use self::eval::{CompiledActions, Cond, Scratch};
pub use self::eval::{Env, Route, Verdict, family_of};
use self::sets::{NeighborSet, PatternSet, PrefixSet};

/// The policy settings of one neighbour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// Import chain: policy names in order.
    pub import: Vec<String>,
    /// Export chain.
    pub export: Vec<String>,
    /// Default import action; `None`: the global one.
    pub default_import: Option<Disposition>,
    /// Default export action; `None`: the global one.
    pub default_export: Option<Disposition>,
}

/// Import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Routes received from the neighbour.
    Import,
    /// Routes sent to it.
    Export,
}

/// A problem found while compiling: where (`policies[1].statements[0].conditions
/// .prefix_set`) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct PolicyError {
    /// The key path inside the policy configuration.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug)]
struct Statement {
    conds: Vec<Cond>,
    actions: CompiledActions,
}

#[derive(Debug)]
struct Policy {
    statements: Vec<Statement>,
}

/// A compiled chain with the definitions it was made from, so that a change can be told
/// from a recompile that changed nothing.
#[derive(Debug, Clone)]
pub struct Chain {
    policies: Vec<Arc<Policy>>,
    default: Disposition,
    signature: Arc<Signature>,
}

/// What a chain depends on, by value.
#[derive(Debug, Default, PartialEq, Eq)]
struct Signature {
    policies: Vec<PolicyDef>,
    sets: Vec<def::SetDef>,
    default: Option<Disposition>,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            policies: Vec::new(),
            default: Disposition::Accept,
            signature: Arc::new(Signature {
                default: Some(Disposition::Accept),
                ..Signature::default()
            }),
        }
    }
}

impl Chain {
    /// True if every route passes unchanged (no policy, default accept).
    pub fn is_pass_through(&self) -> bool {
        self.policies.is_empty() && self.default == Disposition::Accept
    }

    /// Whether `other` would treat every route as this chain does (same definitions).
    pub fn same_as(&self, other: &Chain) -> bool {
        Arc::ptr_eq(&self.signature, &other.signature) || self.signature == other.signature
    }

    /// Runs `route` through the chain.
    pub fn evaluate<'a>(&self, route: &Route<'a>, env: &Env) -> Verdict<'a> {
        if self.policies.is_empty() {
            return match self.default {
                Disposition::Accept => Verdict::Accept(Cow::Borrowed(route.attrs)),
                Disposition::Reject => Verdict::Reject,
            };
        }
        let family = family_of(route.prefix);
        let mut cur: Cow<'a, _> = Cow::Borrowed(route.attrs);
        let mut scratch = Scratch::default();
        for policy in &self.policies {
            for st in &policy.statements {
                if !st.conds.iter().all(|c| c.holds(route, &cur, &mut scratch)) {
                    continue;
                }
                if st.actions.modifies() {
                    st.actions.apply(&mut cur, family, env);
                    scratch.clear();
                }
                match st.actions.def.result {
                    Some(Disposition::Accept) => return Verdict::Accept(cur),
                    Some(Disposition::Reject) => return Verdict::Reject,
                    None => {}
                }
            }
        }
        match self.default {
            Disposition::Accept => Verdict::Accept(cur),
            Disposition::Reject => Verdict::Reject,
        }
    }
}

/// The chains of one neighbour.
#[derive(Debug, Clone, Default)]
pub struct NeighborChains {
    /// Import.
    pub import: Chain,
    /// Export.
    pub export: Chain,
}

/// Every neighbour's compiled chains. Neighbours without an assignment get the global
/// defaults.
#[derive(Debug, Default)]
pub struct Engine {
    neighbors: HashMap<IpAddr, NeighborChains>,
    fallback: NeighborChains,
}

#[derive(Default)]
struct Compiled {
    prefix: HashMap<String, Arc<PrefixSet>>,
    neighbor: HashMap<String, Arc<NeighborSet>>,
    patterns: HashMap<(SetKind, String), Arc<PatternSet>>,
    policies: HashMap<String, Arc<Policy>>,
}

impl Engine {
    /// Compiles the definitions and every neighbour's assignment. Every problem is
    /// returned, each with its key path (`neighbors[192.0.2.1].import_policy[0]` for an
    /// unknown policy name).
    pub fn compile<'a>(
        config: &PolicyConfig,
        assignments: impl IntoIterator<Item = (IpAddr, &'a Assignment)>,
    ) -> Result<Engine, Vec<PolicyError>> {
        let mut errors = Vec::new();
        let mut c = Compiled::default();
        let mut err = |key: String, message: String| errors.push(PolicyError { key, message });
        for s in &config.prefix_sets {
            c.prefix.insert(s.name.clone(), Arc::new(PrefixSet::new(s)));
        }
        for s in &config.neighbor_sets {
            c.neighbor
                .insert(s.name.clone(), Arc::new(NeighborSet::new(&s.neighbors)));
        }
        for (kind, key, list) in [
            (SetKind::AsPath, "as_path_sets", &config.as_path_sets),
            (SetKind::Community, "community_sets", &config.community_sets),
            (
                SetKind::ExtCommunity,
                "ext_community_sets",
                &config.ext_community_sets,
            ),
            (
                SetKind::LargeCommunity,
                "large_community_sets",
                &config.large_community_sets,
            ),
        ] {
            for (i, s) in list.iter().enumerate() {
                match PatternSet::new(kind, s) {
                    Ok(set) => {
                        c.patterns.insert((kind, s.name.clone()), Arc::new(set));
                    }
                    Err(e) => err(format!("{key}[{i}].{e}"), String::new()),
                }
            }
        }
        for (i, p) in config.policies.iter().enumerate() {
            let mut statements = Vec::new();
            for (j, st) in p.statements.iter().enumerate() {
                let at = format!("policies[{i}].statements[{j}]");
                let conds = match compile_conditions(&st.conditions, &c) {
                    Ok(conds) => conds,
                    Err((key, message)) => {
                        err(format!("{at}.conditions.{key}"), message);
                        continue;
                    }
                };
                match CompiledActions::new(&st.actions) {
                    Ok(actions) => statements.push(Statement { conds, actions }),
                    Err(e) => err(format!("{at}.actions.{e}"), String::new()),
                }
            }
            c.policies
                .insert(p.name.clone(), Arc::new(Policy { statements }));
        }
        let sets = config.sets();
        let chain = |names: &[String], default: Option<Disposition>, global: Disposition| {
            let mut sig = Signature {
                default: Some(default.unwrap_or(global)),
                ..Signature::default()
            };
            let mut policies = Vec::new();
            let mut missing = Vec::new();
            for (k, name) in names.iter().enumerate() {
                match (c.policies.get(name), config.policy(name)) {
                    (Some(p), Some(d)) => {
                        policies.push(Arc::clone(p));
                        for st in &d.statements {
                            for (kind, m) in st.conditions.set_refs() {
                                if let Some(s) =
                                    sets.iter().find(|s| s.kind == kind && s.name == m.set)
                                    && !sig.sets.contains(s)
                                {
                                    sig.sets.push(s.clone());
                                }
                            }
                        }
                        sig.policies.push(d.clone());
                    }
                    _ => missing.push((k, name.clone())),
                }
            }
            (
                Chain {
                    policies,
                    default: default.unwrap_or(global),
                    signature: Arc::new(sig),
                },
                missing,
            )
        };
        let mut engine = Engine {
            neighbors: HashMap::new(),
            fallback: NeighborChains {
                import: chain(&[], None, config.default_import).0,
                export: chain(&[], None, config.default_export).0,
            },
        };
        for (addr, a) in assignments {
            let (import, missing_in) = chain(&a.import, a.default_import, config.default_import);
            let (export, missing_out) = chain(&a.export, a.default_export, config.default_export);
            for (key, missing) in [
                ("import_policy", missing_in),
                ("export_policy", missing_out),
            ] {
                for (k, name) in missing {
                    err(
                        format!("neighbors[{addr}].{key}[{k}]"),
                        format!("no policy named {name:?}"),
                    );
                }
            }
            engine
                .neighbors
                .insert(addr, NeighborChains { import, export });
        }
        // Errors of a set carry their message in the key already.
        for e in &mut errors {
            if e.message.is_empty()
                && let Some((key, message)) = e.key.split_once(": ")
            {
                let (key, message) = (key.to_owned(), message.to_owned());
                e.key = key;
                e.message = message;
            }
        }
        if errors.is_empty() {
            Ok(engine)
        } else {
            Err(errors)
        }
    }

    /// The chains of the neighbour at `addr`.
    pub fn chains(&self, addr: IpAddr) -> &NeighborChains {
        self.neighbors.get(&addr).unwrap_or(&self.fallback)
    }

    /// The chain of `addr` in `dir`.
    pub fn chain(&self, addr: IpAddr, dir: Direction) -> &Chain {
        let c = self.chains(addr);
        match dir {
            Direction::Import => &c.import,
            Direction::Export => &c.export,
        }
    }
}

fn compile_conditions(c: &Conditions, sets: &Compiled) -> Result<Vec<Cond>, (String, String)> {
    let mut out = Vec::new();
    let missing = |key: &str, kind: SetKind, name: &str| {
        (
            key.to_owned(),
            format!("no {} set named {name:?}", kind.as_str()),
        )
    };
    if let Some(m) = &c.prefix_set {
        let set = sets
            .prefix
            .get(&m.set)
            .ok_or_else(|| missing("prefix_set", SetKind::Prefix, &m.set))?;
        if m.how == def::MatchHow::All {
            return Err((
                "prefix_set".into(),
                "\"all\" does not apply to a prefix set; expected \"any\" or \"invert\"".into(),
            ));
        }
        out.push(Cond::Prefix(Arc::clone(set), m.how));
    }
    if let Some(m) = &c.neighbor_set {
        let set = sets
            .neighbor
            .get(&m.set)
            .ok_or_else(|| missing("neighbor_set", SetKind::Neighbor, &m.set))?;
        if m.how == def::MatchHow::All {
            return Err((
                "neighbor_set".into(),
                "\"all\" does not apply to a neighbor set; expected \"any\" or \"invert\"".into(),
            ));
        }
        out.push(Cond::Neighbor(Arc::clone(set), m.how));
    }
    for (key, kind, m, make) in [
        (
            "as_path_set",
            SetKind::AsPath,
            &c.as_path_set,
            Cond::AsPath as fn(_, _) -> Cond,
        ),
        (
            "community_set",
            SetKind::Community,
            &c.community_set,
            Cond::Community,
        ),
        (
            "ext_community_set",
            SetKind::ExtCommunity,
            &c.ext_community_set,
            Cond::ExtCommunity,
        ),
        (
            "large_community_set",
            SetKind::LargeCommunity,
            &c.large_community_set,
            Cond::LargeCommunity,
        ),
    ] {
        if let Some(m) = m {
            let set = sets
                .patterns
                .get(&(kind, m.set.clone()))
                .ok_or_else(|| missing(key, kind, &m.set))?;
            out.push(make(Arc::clone(set), m.how));
        }
    }
    if let Some(l) = c.as_path_length {
        out.push(Cond::AsPathLength(l));
    }
    if let Some(o) = c.origin {
        out.push(Cond::Origin(o));
    }
    if !c.next_hop.is_empty() {
        out.push(Cond::NextHop(c.next_hop.clone()));
    }
    if let Some(t) = c.route_type {
        out.push(Cond::RouteType(t));
    }
    if let Some(f) = c.family {
        out.push(Cond::Family(f));
    }
    Ok(out)
}
