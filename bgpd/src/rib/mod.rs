//! The RIB task: the one owner of Adj-RIB-In, Loc-RIB and per-peer export state.
//!
//! Peer tasks send it decoded UPDATEs in batches ([`RibMsg::Updates`]); it interns the
//! attribute sets, updates the per-prefix path lists (which are the post-policy
//! Adj-RIB-In), runs the decision process on the prefixes the batch changed, and queues
//! those prefixes for export to every established peer.
//!
//! Export never blocks the RIB and never buffers without bound: each peer has a small
//! bounded channel of encoded UPDATE chunks. The RIB writes a chunk only when the channel
//! has room; until then the peer's pending work is a queue of prefix ids (at most one
//! entry per prefix) that coalesces further changes. A peer that stops reading therefore
//! costs at most a bit and a queue slot per prefix, and delays no other peer.

mod addpath;
pub mod asrules;
pub mod bestpath;
pub mod bitset;
mod decide;
mod export;
mod export_policy;
pub mod import;
pub mod intern;
pub mod max_prefix;
mod policy_hook;
#[cfg(test)]
mod policy_tests;
pub mod query;
mod stale;
#[cfg(test)]
mod stale_tests;
pub mod table;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_rules;

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bgp_proto::attr::{AsPath, NextHop};
use bgp_proto::{EncodeCtx, Family, Nlri, PathAttributes, Update};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info};

pub(crate) use self::decide::rank_path;
use self::decide::{DecideCtx, decide_dirty};
use self::export::PeerState;
pub use self::import::{LocalIdentity, RouteAttrs};
use self::intern::Interner;
pub use self::stale::GrMsg;
use self::table::{NO_BEST, Table};

/// Identifies a peer session inside the daemon.
pub type PeerId = u32;
/// The pseudo-peer that owns routes originated by the configuration file.
pub const LOCAL_PEER: PeerId = 0;
/// The pseudo-peer that owns routes originated through the API.
pub const API_PEER: PeerId = u32::MAX;

/// Whether paths of `peer` are originated by this router.
pub fn is_local(peer: PeerId) -> bool {
    peer == LOCAL_PEER || peer == API_PEER
}

/// Prefix counts of one peer, per family: (IPv4, IPv6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerPrefixes {
    /// Paths accepted from the peer (in its Adj-RIB-In).
    pub accepted: (u64, u64),
    /// Prefixes advertised to the peer.
    pub advertised: (u64, u64),
}
/// LOCAL_PREF assumed when a path has none.
pub const DEFAULT_LOCAL_PREF: u32 = 100;

/// What the RIB needs to know about an established session.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    /// The session's id.
    pub id: PeerId,
    /// The peer's address.
    pub addr: IpAddr,
    /// Our address on the session (next hop self).
    pub local_addr: IpAddr,
    /// The peer's AS.
    pub asn: u32,
    /// The peer's BGP identifier.
    pub router_id: Ipv4Addr,
    /// Same AS as ours.
    pub ibgp: bool,
    /// A route reflector client of ours.
    pub rr_client: bool,
    /// Negotiated families.
    pub families: Vec<Family>,
    /// How to encode for this peer.
    pub encode: EncodeCtx,
    /// The peer announced Long-Lived Graceful Restart (RFC 9494): it may be sent routes
    /// with LLGR_STALE.
    pub llgr: bool,
    /// The neighbour's session rules (AS_PATH rules, role, limits, ADD-PATH).
    pub rules: Arc<crate::config::SessionRules>,
    /// The peer task, told when a prefix limit is reached (see [`max_prefix`]).
    pub peer_cmds: Option<mpsc::WeakSender<crate::peer::PeerCmd>>,
    /// A route server client (RFC 7947).
    pub route_server_client: bool,
    /// Keep a pre-policy copy of its routes (soft reconfiguration inbound).
    pub soft_in: bool,
}

/// A route this router originates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRoute {
    /// The prefix.
    pub prefix: IpNet,
    /// Its attributes (ORIGIN is added if missing; AS_PATH starts empty).
    pub attrs: PathAttributes,
    /// An explicit next hop; `None` means this router (next hop self).
    pub next_hop: Option<IpAddr>,
}

/// Messages to the RIB task.
#[derive(Debug)]
pub enum RibMsg {
    /// A session reached Established. `out` carries encoded UPDATEs to its writer.
    PeerUp {
        /// The session.
        info: PeerInfo,
        /// Where this peer's UPDATE chunks go.
        out: mpsc::Sender<Bytes>,
    },
    /// UPDATEs received from a peer, in order.
    Updates {
        /// The session.
        peer: PeerId,
        /// The messages.
        updates: Vec<Update>,
    },
    /// A session left Established: its routes are withdrawn.
    PeerDown {
        /// The session.
        peer: PeerId,
    },
    /// The peer asked for our routes again (ROUTE-REFRESH).
    RouteRefresh {
        /// The session.
        peer: PeerId,
        /// The family to re-send.
        family: Family,
    },
    /// Replaces the whole set of routes originated by the configuration file.
    SetOriginated(Vec<LocalRoute>),
    /// Adds (or replaces) routes originated through the API.
    AddPaths(Vec<LocalRoute>),
    /// Withdraws a route originated through the API; answers whether there was one.
    DeletePath {
        /// The prefix.
        prefix: IpNet,
        /// Whether a path was removed.
        reply: oneshot::Sender<bool>,
    },
    /// One chunk of a listing.
    List {
        /// What to list.
        query: query::ListQuery,
        /// Where to start.
        cursor: query::Cursor,
        /// The chunk.
        reply: oneshot::Sender<query::ListChunk>,
    },
    /// Prefix and path counts of a table: (IPv4 prefixes, IPv6 prefixes, paths).
    Counts {
        /// The table.
        table: query::TableKind,
        /// The counts.
        reply: oneshot::Sender<(u64, u64, u64)>,
    },
    /// Prefix counts of every established peer.
    PeerPrefixes(oneshot::Sender<HashMap<PeerId, PeerPrefixes>>),
    /// Our AS and router id changed (only while no peer is up).
    SetIdentity(LocalIdentity),
    /// Table sizes.
    Stats(oneshot::Sender<RibStats>),
    /// Graceful restart: stale routes and selection deferral.
    Graceful(GrMsg),
    /// New policies: export changes are re-sent, import changes re-applied to the kept
    /// pre-policy routes of soft-reconfiguration peers.
    SetPolicy(Arc<crate::policy::Engine>),
    /// A copy of the Loc-RIB best routes, for inspection.
    Dump(oneshot::Sender<Vec<BestRoute>>),
}

/// Table sizes, as [`RibMsg::Stats`] reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RibStats {
    /// IPv4 prefixes with a best path.
    pub ipv4_prefixes: u64,
    /// IPv6 prefixes with a best path.
    pub ipv6_prefixes: u64,
    /// Distinct attribute sets held.
    pub attribute_sets: u64,
}

/// One best route, as [`RibMsg::Dump`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestRoute {
    /// The prefix.
    pub prefix: IpNet,
    /// The peer the best path came from ([`LOCAL_PEER`] for our own).
    pub peer: PeerId,
    /// Its attributes.
    pub attrs: Arc<RouteAttrs>,
    /// Number of paths in the multipath set.
    pub multipath: u32,
}

/// Settings of the RIB.
#[derive(Debug, Clone, Copy)]
pub struct RibOptions {
    /// Our identity.
    pub local: LocalIdentity,
    /// Decision process options.
    pub decision: bestpath::Options,
    /// Compute multipath sets.
    pub multipath: bool,
}

/// One path to a prefix.
#[derive(Debug, Clone)]
pub struct Path {
    /// Who sent it.
    pub peer: PeerId,
    /// ADD-PATH path id (0 without ADD-PATH).
    pub path_id: u32,
    /// Interned attributes.
    pub attrs: Arc<RouteAttrs>,
}

/// A prefix type of one family.
pub trait FamilyKey: Copy + Hash + Eq + std::fmt::Debug {
    /// The family.
    const FAMILY: Family;
    /// Narrows a prefix of any family (host bits cleared).
    fn from_prefix(prefix: IpNet) -> Option<Self>;
    /// Widens to a prefix.
    fn to_prefix(self) -> IpNet;
}

impl FamilyKey for Ipv4Net {
    const FAMILY: Family = Family::IPV4_UNICAST;
    fn from_prefix(prefix: IpNet) -> Option<Self> {
        match prefix {
            IpNet::V4(p) => Some(p.trunc()),
            IpNet::V6(_) => None,
        }
    }
    fn to_prefix(self) -> IpNet {
        IpNet::V4(self)
    }
}

impl FamilyKey for Ipv6Net {
    const FAMILY: Family = Family::IPV6_UNICAST;
    fn from_prefix(prefix: IpNet) -> Option<Self> {
        match prefix {
            IpNet::V6(p) => Some(p.trunc()),
            IpNet::V4(_) => None,
        }
    }
    fn to_prefix(self) -> IpNet {
        IpNet::V6(self)
    }
}

/// The routes of one family and the prefixes whose decision is pending.
#[derive(Debug)]
pub(crate) struct FamilyRib<K> {
    pub(crate) table: Table<K, Path>,
    dirty: Vec<u32>,
    dirty_set: bitset::BitSet,
}

impl<K: FamilyKey> Default for FamilyRib<K> {
    fn default() -> Self {
        FamilyRib {
            table: Table::default(),
            dirty: Vec::new(),
            dirty_set: bitset::BitSet::default(),
        }
    }
}

impl<K: FamilyKey> FamilyRib<K> {
    fn mark(&mut self, id: u32) {
        if self.dirty_set.insert(id) {
            self.dirty.push(id);
        }
    }

    /// Adds or replaces the path of (`peer`, `path_id`); returns whether it was added.
    fn announce(
        &mut self,
        prefix: K,
        peer: PeerId,
        path_id: u32,
        attrs: &Arc<RouteAttrs>,
        interner: &mut Interner<RouteAttrs>,
    ) -> bool {
        let id = self.table.get_or_insert(prefix);
        let Some(entry) = self.table.get_mut(id) else {
            return false;
        };
        let mut added = false;
        match entry
            .paths
            .iter()
            .position(|p| p.peer == peer && p.path_id == path_id)
        {
            Some(i) if Arc::ptr_eq(&entry.paths[i].attrs, attrs) => return false,
            Some(i) => {
                let old = std::mem::replace(&mut entry.paths[i].attrs, Arc::clone(attrs));
                entry.touch(i);
                interner.release(old);
            }
            None => {
                // Grow one at a time once on the heap: a prefix with ten paths would
                // otherwise hold room for sixteen.
                if entry.paths.spilled() && entry.paths.len() == entry.paths.capacity() {
                    entry.paths.reserve_exact(1);
                }
                added = true;
                entry.paths.push(Path {
                    peer,
                    path_id,
                    attrs: Arc::clone(attrs),
                });
            }
        }
        self.mark(id);
        added
    }

    /// Removes the path of (`peer`, `path_id`), if present.
    fn withdraw(
        &mut self,
        prefix: K,
        peer: PeerId,
        path_id: u32,
        interner: &mut Interner<RouteAttrs>,
    ) -> bool {
        let Some(id) = self.table.id(&prefix) else {
            return false;
        };
        let Some(entry) = self.table.get_mut(id) else {
            return false;
        };
        let Some(pos) = entry
            .paths
            .iter()
            .position(|p| p.peer == peer && p.path_id == path_id)
        else {
            return false;
        };
        let path = entry.remove_path(pos);
        interner.release(path.attrs);
        self.mark(id);
        true
    }

    /// Removes every path of `peer`.
    fn drop_peer(&mut self, peer: PeerId, interner: &mut Interner<RouteAttrs>) {
        let mut touched = Vec::new();
        for (id, entry) in self.table.iter() {
            if entry.paths.iter().any(|p| p.peer == peer) {
                touched.push(id);
            }
        }
        for id in touched {
            if let Some(entry) = self.table.get_mut(id) {
                let mut i = 0;
                while i < entry.paths.len() {
                    if entry.paths[i].peer == peer {
                        interner.release(entry.remove_path(i).attrs);
                    } else {
                        i += 1;
                    }
                }
            }
            self.mark(id);
        }
    }
}

/// The RIB state, owned by one task.
#[derive(Debug)]
pub struct Rib {
    opts: RibOptions,
    v4: FamilyRib<Ipv4Net>,
    v6: FamilyRib<Ipv6Net>,
    interner: Interner<RouteAttrs>,
    peers: HashMap<PeerId, PeerState>,
    originated: Vec<LocalRoute>,
    gr: stale::Graceful,
    epoch: u64,
    events: tokio::sync::broadcast::Sender<Arc<Vec<query::BestPathChange>>>,
    latency: prometheus_client::metrics::histogram::Histogram,
    policy: Arc<crate::policy::Engine>,
    adj_in: HashMap<PeerId, policy_hook::AdjIn>,
}

/// Batches of best-path changes; a receiver that falls behind sees `Lagged`.
pub type EventSender = tokio::sync::broadcast::Sender<Arc<Vec<query::BestPathChange>>>;
/// Batches kept for watchers before a slow one lags.
pub const EVENT_BUFFER: usize = 1024;

type WriteReady = std::pin::Pin<
    Box<dyn std::future::Future<Output = (PeerId, u64, Option<mpsc::OwnedPermit<Bytes>>)> + Send>,
>;

impl Rib {
    /// An empty RIB.
    pub fn new(opts: RibOptions) -> Self {
        Rib {
            opts,
            v4: FamilyRib::default(),
            v6: FamilyRib::default(),
            interner: Interner::default(),
            peers: HashMap::new(),
            originated: Vec::new(),
            gr: stale::Graceful::default(),
            epoch: 0,
            events: tokio::sync::broadcast::channel(EVENT_BUFFER).0,
            latency: crate::metrics::update_latency_histogram(),
            policy: Arc::default(),
            adj_in: HashMap::new(),
        }
    }

    /// The histogram of time spent per batch of messages (shared with the metrics).
    pub fn latency(&self) -> prometheus_client::metrics::histogram::Histogram {
        self.latency.clone()
    }

    /// The sender of best-path change batches; subscribe to it to watch.
    pub fn events(&self) -> EventSender {
        self.events.clone()
    }

    /// Runs the RIB task until every sender of `rx` is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<RibMsg>) {
        let mut writes: FuturesUnordered<WriteReady> = FuturesUnordered::new();
        loop {
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    let started = std::time::Instant::now();
                    self.handle(msg);
                    // Take what is already queued as one batch before deciding.
                    for _ in 0..256 {
                        match rx.try_recv() {
                            Ok(msg) => self.handle(msg),
                            Err(_) => break,
                        }
                    }
                    self.run_decisions();
                    self.latency.observe(started.elapsed().as_secs_f64());
                }
                () = sleep_until_opt(self.gr.next_deadline()) => {
                    self.graceful_timers();
                    self.run_decisions();
                }
                Some((peer, epoch, permit)) = writes.next(), if !writes.is_empty() => {
                    if let Some(state) = self.peers.get_mut(&peer).filter(|s| s.epoch == epoch) {
                        state.writing = false;
                        if let Some(permit) = permit {
                            self.write_chunk(peer, permit);
                        }
                    }
                }
            }
            self.schedule_writes(&mut writes);
        }
        debug!("RIB task stopped");
    }

    fn schedule_writes(&mut self, writes: &mut FuturesUnordered<WriteReady>) {
        if self.gr.holds_export() {
            return;
        }
        for (id, state) in &mut self.peers {
            if state.writing || !state.has_work() {
                continue;
            }
            state.writing = true;
            let (id, epoch, out) = (*id, state.epoch, state.out.clone());
            writes.push(Box::pin(async move {
                (id, epoch, out.reserve_owned().await.ok())
            }));
        }
    }

    /// Applies one message. Decisions run later, per batch ([`Rib::run_decisions`]).
    pub fn handle(&mut self, msg: RibMsg) {
        // Queries are answered with the batch so far decided.
        if matches!(
            msg,
            RibMsg::List { .. }
                | RibMsg::Counts { .. }
                | RibMsg::PeerPrefixes(_)
                | RibMsg::Stats(_)
                | RibMsg::Dump(_)
        ) {
            self.run_decisions();
        }
        match msg {
            RibMsg::PeerUp { info, out } => self.peer_up(info, out),
            RibMsg::Updates { peer, updates } => {
                for u in &updates {
                    self.apply_update(peer, u);
                    if let Some(family) = u.end_of_rib() {
                        self.end_of_rib(peer, family);
                    }
                }
            }
            RibMsg::PeerDown { peer } => self.peer_down(peer),
            RibMsg::RouteRefresh { peer, family } => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    if family == Family::IPV4_UNICAST {
                        state.v4.queue_all(&mut self.v4.table);
                    } else if family == Family::IPV6_UNICAST {
                        state.v6.queue_all(&mut self.v6.table);
                    }
                }
            }
            RibMsg::SetOriginated(routes) => self.set_originated(routes),
            RibMsg::AddPaths(routes) => {
                for r in &routes {
                    self.announce_local(API_PEER, r);
                }
            }
            RibMsg::DeletePath { prefix, reply } => {
                let removed = match prefix {
                    IpNet::V4(p) => self.v4.withdraw(p.trunc(), API_PEER, 0, &mut self.interner),
                    IpNet::V6(p) => self.v6.withdraw(p.trunc(), API_PEER, 0, &mut self.interner),
                };
                let _ = reply.send(removed);
            }
            RibMsg::List {
                query,
                cursor,
                reply,
            } => {
                let _ = reply.send(self.list(&query, cursor));
            }
            RibMsg::Counts { table, reply } => {
                let (v4, p4) = query::count(&self.v4.table, table, &self.peers);
                let (v6, p6) = query::count(&self.v6.table, table, &self.peers);
                let _ = reply.send((v4, v6, p4 + p6));
            }
            RibMsg::PeerPrefixes(reply) => {
                let _ = reply.send(self.peer_prefixes());
            }
            RibMsg::SetIdentity(local) => self.opts.local = local,
            RibMsg::Stats(reply) => {
                let (v4, v6) = self.counts();
                let _ = reply.send(RibStats {
                    ipv4_prefixes: v4 as u64,
                    ipv6_prefixes: v6 as u64,
                    attribute_sets: self.interner.len() as u64,
                });
            }
            RibMsg::Dump(reply) => {
                let _ = reply.send(self.dump());
            }
            RibMsg::Graceful(msg) => self.graceful(msg),
            RibMsg::SetPolicy(engine) => self.set_policy(engine),
        }
    }

    fn peer_up(&mut self, info: PeerInfo, out: mpsc::Sender<Bytes>) {
        self.epoch += 1;
        info!(peer = %info.addr, families = %crate::peer::family_list(&info.families), "session up: sending our table");
        let mut state = PeerState::new(info, out, self.epoch);
        if let Some(to_peer) = &state.info.peer_cmds {
            state.guard =
                max_prefix::PrefixGuard::new(&state.info.rules.max_prefix, to_peer.clone());
        }
        let decision = self.opts.decision;
        state.v4.add_path =
            addpath::AddPathExport::for_peer(&state.info, Family::IPV4_UNICAST, decision);
        state.v6.add_path =
            addpath::AddPathExport::for_peer(&state.info, Family::IPV6_UNICAST, decision);
        if state.info.families.contains(&Family::IPV4_UNICAST) {
            state.v4.start(&mut self.v4.table);
        }
        if state.info.families.contains(&Family::IPV6_UNICAST) {
            state.v6.start(&mut self.v6.table);
        }
        if let Some(old) = self.peers.insert(state.info.id, state) {
            self.release_export(old);
        }
    }

    fn peer_down(&mut self, peer: PeerId) {
        if let Some(state) = self.peers.remove(&peer) {
            info!(peer = %state.info.addr, "session down: withdrawing its routes");
            self.release_export(state);
        }
        self.v4.drop_peer(peer, &mut self.interner);
        self.v6.drop_peer(peer, &mut self.interner);
        self.gr.forget(peer);
        if let Some(adj) = self.adj_in.remove(&peer) {
            adj.release(&mut self.interner);
        }
    }

    fn release_export(&mut self, state: PeerState) {
        state.v4.release(&mut self.v4.table);
        state.v6.release(&mut self.v6.table);
    }

    fn apply_update(&mut self, peer: PeerId, update: &Update) {
        let Some(state) = self.peers.get_mut(&peer) else {
            debug!(peer, "UPDATE for a session that is not up; ignored");
            return;
        };
        // Over its prefix limit: the session is going down; take nothing more from it.
        if state.guard.as_ref().is_some_and(|g| g.tripped) {
            return;
        }
        let mut guard = state.guard.take();
        let info = &state.info;
        let view = policy_hook::ImportView::new(info, &self.opts.local);
        for change in import::split(update, info, &self.opts.local) {
            if let Some(why) = change.rejected {
                debug!(peer = %view.addr, ?why, count = change.withdrawn.len(), "routes not accepted");
            }
            if view.soft_in
                || !self
                    .policy
                    .chain(view.addr, crate::policy::Direction::Import)
                    .is_pass_through()
            {
                self.gr.refresh(
                    peer,
                    change.family,
                    &self.v4,
                    &self.v6,
                    [&change.withdrawn, &change.announced],
                );
                let family = change.family;
                let counted = self.import_with_policy(peer, &view, change);
                if let Some(g) = guard.as_mut() {
                    g.record(family, counted.0, counted.1);
                }
                continue;
            }
            // Received values share the message's buffer; a stored set gets its own copy
            // so that it does not keep the whole message alive.
            self.gr.refresh(
                peer,
                change.family,
                &self.v4,
                &self.v6,
                [&change.withdrawn, &change.announced],
            );
            let attrs = change
                .attrs
                .map(|a| self.interner.intern_with(a, |a| a.attrs.detach()));
            let counted = if change.family == Family::IPV4_UNICAST {
                apply(
                    &mut self.v4,
                    &mut self.interner,
                    peer,
                    &change.withdrawn,
                    &change.announced,
                    attrs.as_ref(),
                )
            } else {
                apply(
                    &mut self.v6,
                    &mut self.interner,
                    peer,
                    &change.withdrawn,
                    &change.announced,
                    attrs.as_ref(),
                )
            };
            if let Some(g) = guard.as_mut() {
                g.record(change.family, counted.0, counted.1);
            }
            if let Some(a) = attrs {
                self.interner.release(a);
            }
        }
        if let Some(state) = self.peers.get_mut(&peer) {
            state.guard = guard;
        }
    }

    fn set_originated(&mut self, routes: Vec<LocalRoute>) {
        for old in std::mem::take(&mut self.originated) {
            if !routes.iter().any(|r| r.prefix == old.prefix) {
                let _ = match old.prefix {
                    IpNet::V4(p) => self
                        .v4
                        .withdraw(p.trunc(), LOCAL_PEER, 0, &mut self.interner),
                    IpNet::V6(p) => self
                        .v6
                        .withdraw(p.trunc(), LOCAL_PEER, 0, &mut self.interner),
                };
            }
        }
        for r in &routes {
            self.announce_local(LOCAL_PEER, r);
        }
        self.originated = routes;
    }

    fn announce_local(&mut self, owner: PeerId, r: &LocalRoute) {
        let family = match r.prefix {
            IpNet::V4(_) => Family::IPV4_UNICAST,
            IpNet::V6(_) => Family::IPV6_UNICAST,
        };
        let next_hop = match r.next_hop {
            Some(IpAddr::V4(a)) => NextHop::V4(a),
            Some(IpAddr::V6(a)) => NextHop::V6 {
                global: a,
                link_local: None,
            },
            None => RouteAttrs::unspecified_next_hop(family),
        };
        let mut attrs = r.attrs.clone();
        if attrs.origin().is_none() {
            attrs.set_origin(bgp_proto::attr::Origin::Igp);
        }
        if attrs.as_path().is_none() {
            attrs.set_as_path(AsPath::new());
        }
        let a = self.interner.intern(RouteAttrs { attrs, next_hop });
        let _added = match r.prefix {
            IpNet::V4(p) => self
                .v4
                .announce(p.trunc(), owner, 0, &a, &mut self.interner),
            IpNet::V6(p) => self
                .v6
                .announce(p.trunc(), owner, 0, &a, &mut self.interner),
        };
        self.interner.release(a);
    }

    fn list(&self, query: &query::ListQuery, cursor: query::Cursor) -> query::ListChunk {
        let reader = query::Reader {
            peers: &self.peers,
            local: &self.opts.local,
            gr: &self.gr,
        };
        let mut paths = Vec::new();
        let mut budget = query.limit.max(1);
        let wants = |f: Family| query.family.is_none_or(|q| q == f);
        if cursor.family == 0
            && wants(Family::IPV4_UNICAST)
            && let Some(id) = reader.list(&self.v4.table, cursor.id, query, &mut paths, &mut budget)
        {
            return query::ListChunk {
                paths,
                next: Some(query::Cursor { family: 0, id }),
            };
        }
        let start = if cursor.family == 1 { cursor.id } else { 0 };
        let next = if wants(Family::IPV6_UNICAST) {
            reader
                .list(&self.v6.table, start, query, &mut paths, &mut budget)
                .map(|id| query::Cursor { family: 1, id })
        } else {
            None
        };
        query::ListChunk { paths, next }
    }

    fn peer_prefixes(&self) -> HashMap<PeerId, PeerPrefixes> {
        let mut v4 = HashMap::new();
        let mut v6 = HashMap::new();
        query::accepted(&self.v4.table, &mut v4);
        query::accepted(&self.v6.table, &mut v6);
        self.peers
            .iter()
            .map(|(id, s)| {
                let counts = PeerPrefixes {
                    accepted: (
                        v4.get(id).copied().unwrap_or(0),
                        v6.get(id).copied().unwrap_or(0),
                    ),
                    advertised: (s.v4.advertised_count(), s.v6.advertised_count()),
                };
                (*id, counts)
            })
            .collect()
    }

    /// Runs the decision process on every prefix changed since the last run and queues
    /// the prefixes whose best path changed for export.
    pub fn run_decisions(&mut self) {
        let ctx = DecideCtx {
            peers: &self.peers,
            opts: &self.opts,
        };
        // ADD-PATH senders need every prefix whose paths changed, not only new bests.
        let add_path = self
            .peers
            .values()
            .any(|s| s.v4.add_path.is_some() || s.v6.add_path.is_some());
        let (touched_v4, touched_v6) = if add_path {
            (self.v4.dirty.clone(), self.v6.dirty.clone())
        } else {
            (Vec::new(), Vec::new())
        };
        // Route server clients get their own best path: any change of a prefix's paths
        // may change it.
        let touched = self
            .peers
            .values()
            .any(|s| s.info.route_server_client)
            .then(|| (self.v4.dirty.clone(), self.v6.dirty.clone()));
        let (changed_v4, had_v4) = decide_dirty(&mut self.v4, &ctx);
        let (changed_v6, had_v6) = decide_dirty(&mut self.v6, &ctx);
        if self.events.receiver_count() > 0 && !(changed_v4.is_empty() && changed_v6.is_empty()) {
            let reader = query::Reader {
                peers: &self.peers,
                local: &self.opts.local,
                gr: &self.gr,
            };
            let mut batch = Vec::with_capacity(changed_v4.len() + changed_v6.len());
            for (id, had) in changed_v4.iter().zip(had_v4) {
                if let Some(e) = self.v4.table.get(*id) {
                    batch.push(reader.change(e, *id, had));
                }
            }
            for (id, had) in changed_v6.iter().zip(had_v6) {
                if let Some(e) = self.v6.table.get(*id) {
                    batch.push(reader.change(e, *id, had));
                }
            }
            // Never blocks; a watcher that fell behind sees `Lagged`.
            let _ = self.events.send(Arc::new(batch));
        }
        for state in self.peers.values_mut() {
            if state.info.families.contains(&Family::IPV4_UNICAST) {
                let ids = if state.v4.add_path.is_some() {
                    &touched_v4
                } else {
                    &changed_v4
                };
                state.v4.queue(ids, &mut self.v4.table);
            }
            if state.info.families.contains(&Family::IPV6_UNICAST) {
                let ids = if state.v6.add_path.is_some() {
                    &touched_v6
                } else {
                    &changed_v6
                };
                state.v6.queue(ids, &mut self.v6.table);
            }
        }
        if let Some((t4, t6)) = touched {
            for state in self
                .peers
                .values_mut()
                .filter(|s| s.info.route_server_client)
            {
                if state.info.families.contains(&Family::IPV4_UNICAST) {
                    state.v4.queue(&t4, &mut self.v4.table);
                }
                if state.info.families.contains(&Family::IPV6_UNICAST) {
                    state.v6.queue(&t6, &mut self.v6.table);
                }
            }
            for id in t4 {
                self.v4.table.remove_if_unused(id);
            }
            for id in t6 {
                self.v6.table.remove_if_unused(id);
            }
        }
        for id in changed_v4 {
            self.v4.table.remove_if_unused(id);
        }
        for id in changed_v6 {
            self.v6.table.remove_if_unused(id);
        }
        self.graceful_events();
    }

    fn write_chunk(&mut self, peer: PeerId, permit: mpsc::OwnedPermit<Bytes>) {
        // Take the peer out of the map so that the others can be read as route sources.
        let Some(mut state) = self.peers.remove(&peer) else {
            return;
        };
        let chunk = export::build_chunk(
            &mut state,
            &mut self.v4.table,
            &mut self.v6.table,
            &self.peers,
            &self.opts,
            &self.policy,
        );
        self.peers.insert(peer, state);
        if !chunk.is_empty() {
            permit.send(chunk);
        }
    }

    /// Every best route, IPv4 first.
    pub fn dump(&self) -> Vec<BestRoute> {
        let mut out = Vec::new();
        collect_best(&self.v4.table, &mut out);
        collect_best(&self.v6.table, &mut out);
        out
    }

    /// Number of prefixes with a best path, per family (IPv4, IPv6).
    pub fn counts(&self) -> (usize, usize) {
        (best_count(&self.v4.table), best_count(&self.v6.table))
    }

    /// Number of distinct attribute sets held.
    pub fn attribute_sets(&self) -> usize {
        self.interner.len()
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn best_count<K: FamilyKey>(table: &Table<K, Path>) -> usize {
    table.iter().filter(|(_, e)| e.best != NO_BEST).count()
}

fn collect_best<K: FamilyKey>(table: &Table<K, Path>, out: &mut Vec<BestRoute>) {
    for (_, e) in table.iter() {
        if let Some(best) = e.best() {
            out.push(BestRoute {
                prefix: e.prefix.to_prefix(),
                peer: best.peer,
                attrs: Arc::clone(&best.attrs),
                multipath: e.multipath.count_ones(),
            });
        }
    }
}

/// Applies one family's changes; returns how many paths were (added, removed).
fn apply<K: FamilyKey>(
    rib: &mut FamilyRib<K>,
    interner: &mut Interner<RouteAttrs>,
    peer: PeerId,
    withdrawn: &[&Nlri],
    announced: &[&Nlri],
    attrs: Option<&Arc<RouteAttrs>>,
) -> (u64, u64) {
    let (mut added, mut removed) = (0, 0);
    for n in withdrawn {
        if let Some(p) = K::from_prefix(n.prefix)
            && rib.withdraw(p, peer, n.path_id.unwrap_or(0), interner)
        {
            removed += 1;
        }
    }
    if let Some(attrs) = attrs {
        for n in announced {
            if let Some(p) = K::from_prefix(n.prefix)
                && rib.announce(p, peer, n.path_id.unwrap_or(0), attrs, interner)
            {
                added += 1;
            }
        }
    }
    (added, removed)
}
