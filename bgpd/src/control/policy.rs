//! Policy in the control task: the running definitions (file plus API changes), the
//! compile-and-install step every change goes through, and soft reconfiguration of the
//! neighbours whose chains changed.

use std::net::IpAddr;
use std::sync::Arc;

use tracing::{info, warn};

use super::{Control, ControlError};
use crate::config::Neighbor;
use crate::fsm::State;
use crate::peer::PeerCmd;
use crate::policy::def::{PolicyDef, SetDef, SetKind, check_name};
use crate::policy::{Assignment, Direction, Disposition, Engine};
use crate::rib::RibMsg;

/// A change or query of policy, through the API.
#[derive(Debug, Clone)]
pub enum PolicyRequest {
    /// Add or replace a defined set.
    PutSet(SetDef),
    /// Delete a defined set (refused while a policy uses it).
    DeleteSet(SetKind, String),
    /// Every defined set.
    ListSets,
    /// Add or replace a policy.
    PutPolicy(PolicyDef),
    /// Delete a policy (refused while a neighbour uses it).
    DeletePolicy(String),
    /// Every policy.
    ListPolicies,
    /// Set one direction of a neighbour's chain and default.
    Assign {
        /// The neighbour.
        address: IpAddr,
        /// Import or export.
        direction: Direction,
        /// Policy names in order.
        policies: Vec<String>,
        /// Default action; `None`: the global default.
        default: Option<Disposition>,
    },
    /// Add or replace every set and policy of a parsed text.
    Load(Box<crate::policy::PolicyConfig>),
    /// Set the global default actions.
    SetDefaults {
        /// On import.
        import: Option<Disposition>,
        /// On export.
        export: Option<Disposition>,
    },
}

/// What a neighbour went through because its policy changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftAction {
    /// Export changed: the table was queued again (soft out).
    Resent,
    /// Import changed: the kept pre-policy routes were run through the new chain.
    Reapplied,
    /// Import changed: ROUTE-REFRESH was sent (soft in).
    RouteRefresh,
    /// Import changed for an established peer without route refresh or a kept copy: the
    /// new import policy applies to routes it sends from now on; a reset applies it to all.
    ResetNeeded,
}

impl SoftAction {
    /// `resent`, `reapplied`, `route-refresh`, `reset-needed`.
    pub fn as_str(self) -> &'static str {
        match self {
            SoftAction::Resent => "resent",
            SoftAction::Reapplied => "reapplied",
            SoftAction::RouteRefresh => "route-refresh",
            SoftAction::ResetNeeded => "reset-needed",
        }
    }
}

/// The answer to a [`PolicyRequest`].
#[derive(Debug, Clone, Default)]
pub struct PolicyReply {
    /// Listed sets.
    pub sets: Vec<SetDef>,
    /// Listed policies.
    pub policies: Vec<PolicyDef>,
    /// Global default import action.
    pub default_import: Disposition,
    /// Global default export action.
    pub default_export: Disposition,
    /// Neighbours affected by a change, and how.
    pub effects: Vec<(IpAddr, SoftAction)>,
}

fn invalid(e: Vec<crate::policy::PolicyError>) -> ControlError {
    let text: Vec<String> = e.iter().map(ToString::to_string).collect();
    ControlError::Invalid(text.join("; "))
}

impl Control {
    /// The assignments of every running neighbour, with `replace` instead of the one of
    /// its address.
    fn assignments<'a>(&'a self, replace: Option<&'a Neighbor>) -> Vec<(IpAddr, &'a Assignment)> {
        let mut out: Vec<(IpAddr, &Assignment)> = self
            .peers
            .iter()
            .filter(|(a, _)| replace.is_none_or(|n| n.address != **a))
            .map(|(a, e)| (*a, &e.neighbor.policy))
            .collect();
        if let Some(n) = replace {
            out.push((n.address, &n.policy));
        }
        out
    }

    /// Checks that `neighbor`'s policy names exist in the running policies (which compiled
    /// when they were installed, so names are all that can be wrong).
    pub(super) fn check_assignment(&self, neighbor: &Neighbor) -> Result<(), ControlError> {
        let a = &neighbor.policy;
        let mut problems = Vec::new();
        for (key, names) in [("import_policy", &a.import), ("export_policy", &a.export)] {
            for (i, name) in names.iter().enumerate() {
                if self.policy.policy(name).is_none() {
                    problems.push(format!("peer.{key}[{i}]: no policy named {name:?}"));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ControlError::Invalid(problems.join("; ")))
        }
    }

    /// Compiles the running policies with every neighbour's assignment, installs them in
    /// the RIB, and soft-reconfigures the neighbours whose chains changed.
    pub(super) async fn install_policy(
        &mut self,
    ) -> Result<Vec<(IpAddr, SoftAction)>, ControlError> {
        let engine =
            Arc::new(Engine::compile(&self.policy, self.assignments(None)).map_err(invalid)?);
        let old = std::mem::replace(&mut self.engine, Arc::clone(&engine));
        let _ = self.rib.send(RibMsg::SetPolicy(Arc::clone(&engine))).await;
        let mut effects = Vec::new();
        let mut addrs: Vec<IpAddr> = self.peers.keys().copied().collect();
        addrs.sort();
        for addr in addrs {
            let Some(entry) = self.peers.get(&addr) else {
                continue;
            };
            let status = entry.handle.status.borrow().clone();
            if status.state != State::Established {
                continue;
            }
            let changed = |dir| !old.chain(addr, dir).same_as(engine.chain(addr, dir));
            if changed(Direction::Export) {
                effects.push((addr, SoftAction::Resent));
            }
            if !changed(Direction::Import) {
                continue;
            }
            let action = if entry.neighbor.soft_reconfiguration_inbound {
                SoftAction::Reapplied
            } else if status.session.is_some_and(|s| s.route_refresh) {
                let _ = entry.handle.cmds.send(PeerCmd::RefreshIn).await;
                SoftAction::RouteRefresh
            } else {
                warn!(peer = %addr, "import policy changed, but the peer supports no route refresh and soft_reconfiguration_inbound is off: routes already received keep the old policy until the session is reset");
                SoftAction::ResetNeeded
            };
            info!(peer = %addr, action = action.as_str(), "import policy changed");
            effects.push((addr, action));
        }
        Ok(effects)
    }

    /// Serves one policy request.
    pub(super) async fn policy_request(
        &mut self,
        req: PolicyRequest,
    ) -> Result<PolicyReply, ControlError> {
        let mut next = self.policy.clone();
        let mut assign: Option<Neighbor> = None;
        // Key prefixes of compile errors as the request names them: (in `next`, in the
        // request).
        let mut renames: Vec<(String, String)> = Vec::new();
        match req {
            PolicyRequest::ListSets => {
                return Ok(PolicyReply {
                    sets: self.policy.sets(),
                    ..self.reply()
                });
            }
            PolicyRequest::ListPolicies => {
                return Ok(PolicyReply {
                    policies: self.policy.policies.clone(),
                    ..self.reply()
                });
            }
            PolicyRequest::PutSet(set) => {
                next.put_set(set)
                    .map_err(|e| ControlError::Invalid(format!("set.{e}")))?;
            }
            PolicyRequest::DeleteSet(kind, name) => {
                let users = next.users_of_set(kind, &name);
                if !users.is_empty() {
                    return Err(ControlError::Precondition(format!(
                        "the {} set {name:?} is used by policy {}; change those first",
                        kind.as_str(),
                        users.join(", ")
                    )));
                }
                if !next.remove_set(kind, &name) {
                    return Err(ControlError::NotFound(format!(
                        "no {} set named {name:?}",
                        kind.as_str()
                    )));
                }
            }
            PolicyRequest::PutPolicy(p) => {
                check_name(&p.name)
                    .map_err(|e| ControlError::Invalid(format!("policy.name: {e}")))?;
                let i = match next.policies.iter().position(|q| q.name == p.name) {
                    Some(i) => {
                        next.policies[i] = p;
                        i
                    }
                    None => {
                        next.policies.push(p);
                        next.policies.len() - 1
                    }
                };
                renames.push((format!("policies[{i}]."), "policy.".into()));
            }
            PolicyRequest::DeletePolicy(name) => {
                let mut users: Vec<String> = self
                    .peers
                    .iter()
                    .filter(|(_, e)| {
                        e.neighbor.policy.import.contains(&name)
                            || e.neighbor.policy.export.contains(&name)
                    })
                    .map(|(a, _)| a.to_string())
                    .collect();
                if !users.is_empty() {
                    users.sort();
                    return Err(ControlError::Precondition(format!(
                        "policy {name:?} is used by neighbor {}; change those first",
                        users.join(", ")
                    )));
                }
                let before = next.policies.len();
                next.policies.retain(|p| p.name != name);
                if next.policies.len() == before {
                    return Err(ControlError::NotFound(format!("no policy named {name:?}")));
                }
            }
            PolicyRequest::Assign {
                address,
                direction,
                policies,
                default,
            } => {
                let entry = self
                    .peers
                    .get(&address)
                    .ok_or(ControlError::NoSuchPeer(address))?;
                let mut n = entry.neighbor.clone();
                for (i, name) in policies.iter().enumerate() {
                    check_name(name)
                        .map_err(|e| ControlError::Invalid(format!("policies[{i}]: {e}")))?;
                    if next.policy(name).is_none() {
                        return Err(ControlError::Invalid(format!(
                            "policies[{i}]: no policy named {name:?}"
                        )));
                    }
                }
                match direction {
                    Direction::Import => {
                        n.policy.import = policies;
                        n.policy.default_import = default;
                    }
                    Direction::Export => {
                        n.policy.export = policies;
                        n.policy.default_export = default;
                    }
                }
                assign = Some(n);
            }
            PolicyRequest::Load(cfg) => {
                for set in cfg.sets() {
                    next.put_set(set).map_err(ControlError::Invalid)?;
                }
                for (j, p) in cfg.policies.into_iter().enumerate() {
                    let i = match next.policies.iter().position(|q| q.name == p.name) {
                        Some(i) => {
                            next.policies[i] = p;
                            i
                        }
                        None => {
                            next.policies.push(p);
                            next.policies.len() - 1
                        }
                    };
                    renames.push((format!("policies[{i}]."), format!("policies[{j}].")));
                }
            }
            PolicyRequest::SetDefaults { import, export } => {
                if let Some(d) = import {
                    next.default_import = d;
                }
                if let Some(d) = export {
                    next.default_export = d;
                }
            }
        }
        let assignments = self.assignments(assign.as_ref());
        if let Err(mut errors) = Engine::compile(&next, assignments) {
            for e in &mut errors {
                if let Some((rest, to)) = renames
                    .iter()
                    .find_map(|(from, to)| e.key.strip_prefix(from.as_str()).map(|r| (r, to)))
                {
                    e.key = format!("{to}{rest}");
                }
            }
            return Err(invalid(errors));
        }
        self.policy = next;
        if let Some(n) = assign
            && let Some(entry) = self.peers.get_mut(&n.address)
        {
            entry.neighbor = n;
        }
        let effects = self.install_policy().await?;
        Ok(PolicyReply {
            effects,
            ..self.reply()
        })
    }

    fn reply(&self) -> PolicyReply {
        PolicyReply {
            default_import: self.policy.default_import,
            default_export: self.policy.default_export,
            ..PolicyReply::default()
        }
    }
}
