//! Where policy meets the RIB: import policy applied to received routes after the
//! receive-side rules (and the pre-policy copy kept for soft reconfiguration inbound),
//! and the reaction to new policies (soft out, soft in from the kept copy).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use bgp_proto::{Family, Nlri};
use ipnet::IpNet;
use tracing::info;

use super::import::{FamilyChanges, LocalIdentity, RouteAttrs};
use super::intern::Interner;
use super::{FamilyKey, FamilyRib, PeerId, PeerInfo, Rib};
use crate::policy::def::RouteType;
use crate::policy::{Chain, Direction, Engine, Env, Route, Verdict};

/// What import policy needs to know about the sending peer.
#[derive(Debug, Clone)]
pub(super) struct ImportView {
    pub(super) addr: IpAddr,
    pub(super) soft_in: bool,
    route_type: RouteType,
    env4: Env,
    env6: Env,
}

impl ImportView {
    pub(super) fn new(info: &PeerInfo, local: &LocalIdentity) -> Self {
        let env = |family| Env {
            local_asn: local.asn,
            self_next_hop: Some(super::export::self_next_hop(info, family, local)),
            original_next_hop: None,
        };
        ImportView {
            addr: info.addr,
            soft_in: info.soft_in,
            route_type: if info.ibgp {
                RouteType::Internal
            } else {
                RouteType::External
            },
            env4: env(Family::IPV4_UNICAST),
            env6: env(Family::IPV6_UNICAST),
        }
    }

    fn env(&self, family: Family) -> &Env {
        if family == Family::IPV6_UNICAST {
            &self.env6
        } else {
            &self.env4
        }
    }
}

/// The pre-policy routes of one peer (soft reconfiguration inbound).
#[derive(Debug, Default)]
pub(super) struct AdjIn {
    routes: HashMap<(IpNet, u32), Arc<RouteAttrs>>,
}

impl AdjIn {
    /// Gives every kept attribute set back to the interner.
    pub(super) fn release(self, interner: &mut Interner<RouteAttrs>) {
        for (_, a) in self.routes {
            interner.release(a);
        }
    }

    /// Number of routes kept.
    pub(super) fn len(&self) -> usize {
        self.routes.len()
    }
}

/// The outcome of a chain for one prefix: rejected, unchanged, or changed attributes.
enum Outcome {
    Reject,
    Same,
    Changed(RouteAttrs),
}

fn run(chain: &Chain, route: &Route<'_>, env: &Env) -> Outcome {
    match chain.evaluate(route, env) {
        Verdict::Reject => Outcome::Reject,
        Verdict::Accept(Cow::Borrowed(_)) => Outcome::Same,
        Verdict::Accept(Cow::Owned(a)) => Outcome::Changed(a),
    }
}

impl Rib {
    /// Applies one family's received changes through the import chain of `peer`.
    pub(super) fn import_with_policy(
        &mut self,
        peer: PeerId,
        view: &ImportView,
        change: FamilyChanges<'_>,
    ) -> (u64, u64) {
        let (mut added, mut removed) = (0, 0);
        let family = change.family;
        let policy = Arc::clone(&self.policy);
        let chain = policy.chain(view.addr, Direction::Import);
        let attrs = change
            .attrs
            .map(|a| self.interner.intern_with(a, |a| a.attrs.detach()));
        if view.soft_in {
            let adj = self.adj_in.entry(peer).or_default();
            for n in &change.withdrawn {
                if let Some(old) = adj
                    .routes
                    .remove(&(n.prefix.trunc(), n.path_id.unwrap_or(0)))
                {
                    self.interner.release(old);
                }
            }
            if let Some(a) = &attrs {
                for n in &change.announced {
                    let key = (n.prefix.trunc(), n.path_id.unwrap_or(0));
                    if let Some(old) = adj.routes.insert(key, Arc::clone(a)) {
                        self.interner.release(old);
                    }
                }
            }
        }
        for n in &change.withdrawn {
            if self.withdraw_any(n.prefix, peer, n.path_id.unwrap_or(0)) {
                removed += 1;
            }
        }
        if let Some(a) = attrs {
            for n in &change.announced {
                let (a, r) = self.import_one(peer, view, chain, family, n, &a);
                added += a;
                removed += r;
            }
            self.interner.release(a);
        }
        (added, removed)
    }

    /// Runs one received route through `chain` and stores or removes it.
    fn import_one(
        &mut self,
        peer: PeerId,
        view: &ImportView,
        chain: &Chain,
        family: Family,
        n: &Nlri,
        attrs: &Arc<RouteAttrs>,
    ) -> (u64, u64) {
        let path_id = n.path_id.unwrap_or(0);
        let route = Route {
            prefix: n.prefix,
            attrs,
            source: Some(view.addr),
            route_type: view.route_type,
        };
        match run(chain, &route, view.env(family)) {
            Outcome::Reject => (0, u64::from(self.withdraw_any(n.prefix, peer, path_id))),
            Outcome::Same => (
                u64::from(self.announce_any(n.prefix, peer, path_id, attrs)),
                0,
            ),
            Outcome::Changed(a) => {
                let a = self.interner.intern(a);
                let added = self.announce_any(n.prefix, peer, path_id, &a);
                self.interner.release(a);
                (u64::from(added), 0)
            }
        }
    }

    fn announce_any(
        &mut self,
        prefix: IpNet,
        peer: PeerId,
        path_id: u32,
        a: &Arc<RouteAttrs>,
    ) -> bool {
        match prefix {
            IpNet::V4(p) => announce(
                &mut self.v4,
                p.trunc(),
                peer,
                path_id,
                a,
                &mut self.interner,
            ),
            IpNet::V6(p) => announce(
                &mut self.v6,
                p.trunc(),
                peer,
                path_id,
                a,
                &mut self.interner,
            ),
        }
    }

    fn withdraw_any(&mut self, prefix: IpNet, peer: PeerId, path_id: u32) -> bool {
        match prefix {
            IpNet::V4(p) => self
                .v4
                .withdraw(p.trunc(), peer, path_id, &mut self.interner),
            IpNet::V6(p) => self
                .v6
                .withdraw(p.trunc(), peer, path_id, &mut self.interner),
        }
    }

    /// Installs new policies: peers whose export chain changed get their table again
    /// (the export state withdraws what is no longer sent); peers with a kept pre-policy
    /// copy whose import chain changed have it run through the new chain.
    pub(super) fn set_policy(&mut self, engine: Arc<Engine>) {
        let old = std::mem::replace(&mut self.policy, Arc::clone(&engine));
        let mut reimport = Vec::new();
        for (id, state) in &mut self.peers {
            let addr = state.info.addr;
            if !old
                .chain(addr, Direction::Export)
                .same_as(engine.chain(addr, Direction::Export))
            {
                info!(peer = %addr, "export policy changed: sending the table again");
                if state.info.families.contains(&Family::IPV4_UNICAST) {
                    state.v4.queue_all(&mut self.v4.table);
                }
                if state.info.families.contains(&Family::IPV6_UNICAST) {
                    state.v6.queue_all(&mut self.v6.table);
                }
            }
            if !old
                .chain(addr, Direction::Import)
                .same_as(engine.chain(addr, Direction::Import))
                && state.info.soft_in
            {
                reimport.push((*id, ImportView::new(&state.info, &self.opts.local)));
            }
        }
        for (peer, view) in reimport {
            let Some(adj) = self.adj_in.remove(&peer) else {
                continue;
            };
            info!(peer = %view.addr, routes = adj.len(), "import policy changed: applying it to the kept routes");
            let chain = engine.chain(view.addr, Direction::Import);
            for ((prefix, path_id), attrs) in &adj.routes {
                let n = Nlri {
                    path_id: Some(*path_id),
                    prefix: *prefix,
                };
                let family = crate::policy::family_of(*prefix);
                let _ = self.import_one(peer, &view, chain, family, &n, attrs);
            }
            self.adj_in.insert(peer, adj);
        }
    }
}

fn announce<K: FamilyKey>(
    rib: &mut FamilyRib<K>,
    prefix: K,
    peer: PeerId,
    path_id: u32,
    attrs: &Arc<RouteAttrs>,
    interner: &mut Interner<RouteAttrs>,
) -> bool {
    rib.announce(prefix, peer, path_id, attrs, interner)
}
