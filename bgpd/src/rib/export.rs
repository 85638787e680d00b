//! Per-peer export: which best paths a peer may receive, with which attributes, and the
//! packed UPDATEs that carry them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use bgp_proto::attr::{AsPath, ClusterList, Community, NextHop, Origin, code};
use bgp_proto::update::{pack, pack_withdrawals};
use bgp_proto::{Family, Message, Nlri, PathAttributes, Update};
use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tracing::warn;

use super::asrules;
use super::bitset::BitSet;
use super::import::{LocalIdentity, RouteAttrs};
use super::table::Table;
use super::{DEFAULT_LOCAL_PREF, FamilyKey, Path, PeerId, PeerInfo, RibOptions, is_local};
use crate::policy::Engine;

/// Prefixes handled per chunk: bounds the time one peer holds the RIB task and the size
/// of one chunk (tens of kilobytes).
const CHUNK_PREFIXES: usize = 2048;

/// What one peer has been sent, and what is waiting, for one family.
#[derive(Debug, Default)]
pub(crate) struct ExportState {
    pub(super) advertised: BitSet,
    /// Prefixes waiting to be sent: a bitset rather than a list, so a peer that is
    /// sent a whole table costs one bit per prefix, not four bytes.
    queued: BitSet,
    /// How many ids `queued` holds.
    pending: usize,
    /// Where the sweep through `queued` goes on from.
    cursor: u32,
    eor_pending: bool,
    /// ADD-PATH send state; only for sessions that negotiated it.
    pub(crate) add_path: Option<Box<super::addpath::AddPathExport>>,
}

impl ExportState {
    /// Queues the whole table and an End-of-RIB after it (a new session).
    pub(crate) fn start<K: FamilyKey>(&mut self, table: &mut Table<K, Path>) {
        self.queue_all(table);
        self.eor_pending = true;
    }

    /// Queues every prefix with a best path (a new session or a ROUTE-REFRESH).
    pub(crate) fn queue_all<K: FamilyKey>(&mut self, table: &mut Table<K, Path>) {
        if let Some(ap) = self.add_path.as_deref_mut() {
            ap.resend_all();
        }
        let ids: Vec<u32> = table
            .iter()
            .filter(|(_, e)| e.best().is_some())
            .map(|(id, _)| id)
            .collect();
        self.queue(&ids, table);
    }

    /// Queues `ids` (each at most once).
    pub(crate) fn queue<K: FamilyKey>(&mut self, ids: &[u32], table: &mut Table<K, Path>) {
        for &id in ids {
            if !self.queued.insert(id) {
                continue;
            }
            if !self.advertised.contains(id)
                && let Some(e) = table.get_mut(id)
            {
                e.out_refs = e.out_refs.saturating_add(1);
            }
            self.pending += 1;
        }
    }

    /// Takes the next queued id: ascending from where the last one was taken, wrapping
    /// round, so an id queued behind the sweep waits at most one round.
    pub(super) fn pop(&mut self) -> Option<u32> {
        if self.pending == 0 {
            return None;
        }
        let id = self
            .queued
            .next_from(self.cursor)
            .or_else(|| self.queued.next_from(0))?;
        self.queued.remove(id);
        self.pending -= 1;
        self.cursor = id.wrapping_add(1);
        Some(id)
    }

    /// Drops this state, releasing the table entries it kept alive.
    pub(crate) fn release<K: FamilyKey>(self, table: &mut Table<K, Path>) {
        let held = self.advertised.iter().chain(
            self.queued
                .iter()
                .filter(|id| !self.advertised.contains(*id)),
        );
        for id in held {
            if let Some(e) = table.get_mut(id) {
                e.out_refs = e.out_refs.saturating_sub(1);
            }
            table.remove_if_unused(id);
        }
    }

    /// Drops the table reference a queued prefix held unless it is now advertised.
    pub(super) fn release_unless_advertised<K: FamilyKey>(
        &self,
        id: u32,
        table: &mut Table<K, Path>,
    ) {
        if !self.advertised.contains(id) {
            if let Some(e) = table.get_mut(id) {
                e.out_refs = e.out_refs.saturating_sub(1);
            }
            table.remove_if_unused(id);
        }
    }

    fn has_work(&self) -> bool {
        self.pending > 0 || self.eor_pending
    }

    /// Whether the prefix `id` is advertised to this peer.
    pub(crate) fn is_advertised(&self, id: u32) -> bool {
        self.advertised.contains(id)
    }

    /// How many prefixes are advertised to this peer.
    pub(crate) fn advertised_count(&self) -> u64 {
        self.advertised.iter().count() as u64
    }
}

/// An established peer, as the RIB sees it.
#[derive(Debug)]
pub(crate) struct PeerState {
    pub(crate) info: PeerInfo,
    pub(crate) out: mpsc::Sender<Bytes>,
    /// Distinguishes this session from earlier ones of the same peer id.
    pub(crate) epoch: u64,
    /// A write slot has been asked for and not yet used.
    pub(crate) writing: bool,
    pub(crate) v4: ExportState,
    pub(crate) v6: ExportState,
    /// Prefix limits, for neighbours with `max_prefix`.
    pub(crate) guard: Option<super::max_prefix::PrefixGuard>,
}

impl PeerState {
    pub(crate) fn new(info: PeerInfo, out: mpsc::Sender<Bytes>, epoch: u64) -> Self {
        PeerState {
            info,
            out,
            epoch,
            writing: false,
            v4: ExportState::default(),
            v6: ExportState::default(),
            guard: None,
        }
    }

    pub(crate) fn has_work(&self) -> bool {
        self.v4.has_work() || self.v6.has_work()
    }
}

/// Encodes the next chunk of UPDATEs for `state`'s peer.
pub(crate) fn build_chunk<K4: FamilyKey, K6: FamilyKey>(
    state: &mut PeerState,
    v4: &mut Table<K4, Path>,
    v6: &mut Table<K6, Path>,
    sources: &HashMap<PeerId, PeerState>,
    opts: &RibOptions,
    policy: &Engine,
) -> Bytes {
    let mut out = BytesMut::new();
    let mut budget = CHUNK_PREFIXES;
    let chain = policy.chain(state.info.addr, crate::policy::Direction::Export);
    let ctx = super::export_policy::ExportCtx::new(&state.info, sources, opts, chain);
    export_family(&mut state.v4, v4, &ctx, &mut out, &mut budget);
    export_family(&mut state.v6, v6, &ctx, &mut out, &mut budget);
    out.freeze()
}

fn export_family<K: FamilyKey>(
    st: &mut ExportState,
    table: &mut Table<K, Path>,
    ctx: &super::export_policy::ExportCtx<'_>,
    out: &mut BytesMut,
    budget: &mut usize,
) {
    let (to, sources, local) = (ctx.to, ctx.sources, &ctx.opts.local);
    let family = K::FAMILY;
    if ctx.with_policy() {
        super::export_policy::export_with_policy(st, table, ctx, out, budget);
        return;
    }
    // Prefixes grouped by (source attributes, source peer): one attribute
    // transformation and one packed run of UPDATEs per group.
    let mut index: HashMap<(*const RouteAttrs, PeerId), usize, foldhash::fast::RandomState> =
        HashMap::default();
    let mut groups: Vec<(Arc<RouteAttrs>, PeerId, Vec<Nlri>)> = Vec::new();
    let mut withdrawals: Vec<Nlri> = Vec::new();
    while *budget > 0 {
        let Some(id) = st.pop() else {
            break;
        };
        *budget -= 1;
        let Some(entry) = table.get_mut(id) else {
            continue;
        };
        let nlri = Nlri {
            path_id: None,
            prefix: entry.prefix.to_prefix(),
        };
        let source = |p: &Path| sources.get(&p.peer).map(|s| &s.info);
        if let Some(ap) = st.add_path.as_deref_mut() {
            let plan = ap.plan(
                id,
                entry,
                |p| exportable(p, source(p), to),
                |p| super::rank_path(p, sources, local),
            );
            let prefix = entry.prefix.to_prefix();
            for tx in plan.withdraw {
                withdrawals.push(Nlri {
                    path_id: Some(tx),
                    prefix,
                });
            }
            if plan.announce.is_empty() {
                st.advertised.remove(id);
            } else {
                st.advertised.insert(id);
            }
            for (i, tx) in plan.announce {
                let Some(p) = entry.paths.get(i) else {
                    continue;
                };
                let key = (Arc::as_ptr(&p.attrs), p.peer);
                let slot = *index.entry(key).or_insert_with(|| {
                    groups.push((Arc::clone(&p.attrs), p.peer, Vec::new()));
                    groups.len() - 1
                });
                groups[slot].2.push(Nlri {
                    path_id: Some(tx),
                    prefix,
                });
            }
        } else {
            match entry.best().filter(|p| exportable(p, source(p), to)) {
                Some(best) => {
                    st.advertised.insert(id);
                    let key = (Arc::as_ptr(&best.attrs), best.peer);
                    let slot = *index.entry(key).or_insert_with(|| {
                        groups.push((Arc::clone(&best.attrs), best.peer, Vec::new()));
                        groups.len() - 1
                    });
                    groups[slot].2.push(nlri);
                }
                None => {
                    if st.advertised.remove(id) {
                        withdrawals.push(nlri);
                    }
                }
            }
        }
        st.release_unless_advertised(id, table);
    }
    write_withdrawals(to, family, &withdrawals, out);
    for (attrs, source, nlri) in &groups {
        let source = sources.get(source).map(|s| &s.info);
        let (attrs, next_hop) = transform(attrs, source, to, family, local);
        if let Err(e) = pack(&to.encode, &attrs, &next_hop, family, nlri, out) {
            warn!(peer = %to.addr, %family, error = %e, "cannot encode routes; not sent");
        }
    }
    end_of_rib(st, to, family, out, *budget);
}

/// Writes the End-of-RIB marker once the initial table is out.
pub(super) fn end_of_rib(
    st: &mut ExportState,
    to: &PeerInfo,
    family: Family,
    out: &mut BytesMut,
    budget: usize,
) {
    if st.pending == 0 && st.eor_pending && budget > 0 {
        st.eor_pending = false;
        if let Err(e) = Message::Update(Update::end_of_rib_marker(family)).encode(&to.encode, out) {
            warn!(peer = %to.addr, %family, error = %e, "cannot encode End-of-RIB");
        }
    }
}

/// Encodes `withdrawals` of `family` for `to` into `out`.
pub(super) fn write_withdrawals(
    to: &PeerInfo,
    family: Family,
    withdrawals: &[Nlri],
    out: &mut BytesMut,
) {
    if !withdrawals.is_empty()
        && let Err(e) = pack_withdrawals(&to.encode, family, withdrawals, out)
    {
        warn!(peer = %to.addr, %family, error = %e, "cannot encode withdrawals");
    }
}

/// Whether `path` may be advertised to `to` (RFC 4271 9.1.3, RFC 1997, RFC 4456).
pub(super) fn exportable(path: &Path, source: Option<&PeerInfo>, to: &PeerInfo) -> bool {
    if path.peer == to.id {
        return false;
    }
    let a = &path.attrs.attrs;
    if let Some(c) = a.communities() {
        // RFC 9494 section 4.3: long-lived stale routes only to peers that know them.
        if c.contains(Community::LLGR_STALE) && !to.llgr {
            return false;
        }
        if c.contains(Community::NO_ADVERTISE) {
            return false;
        }
        if !to.ibgp
            && (c.contains(Community::NO_EXPORT) || c.contains(Community::NO_EXPORT_SUBCONFED))
        {
            return false;
        }
    }
    let allowed = match source {
        // Only our own routes have no source peer.
        None => is_local(path.peer),
        // iBGP-learned paths go to iBGP peers only by route reflection.
        Some(s) if s.ibgp && to.ibgp => s.rr_client || to.rr_client,
        Some(_) => true,
    };
    // Sender-side loop check: the peer would drop a path that holds its own AS.
    allowed
        && (to.ibgp
            || (asrules::otc_allows(a, to)
                && !(asrules::loop_check_applies(to)
                    && a.as_path().is_some_and(|p| p.contains(to.asn)))))
}

/// The attributes and next hop `to` receives for a path learned from `source` (None:
/// originated here).
pub(super) fn transform(
    route: &RouteAttrs,
    source: Option<&PeerInfo>,
    to: &PeerInfo,
    family: Family,
    local: &LocalIdentity,
) -> (PathAttributes, NextHop) {
    let mut a = route.attrs.clone();
    if source.is_some() {
        a.prepare_for_readvertisement();
    }
    if a.origin().is_none() {
        a.set_origin(Origin::Igp);
    }
    let path = a.as_path().cloned().unwrap_or_default();
    let self_next_hop = || self_next_hop(to, family, local);
    let next_hop = if to.route_server_client {
        // RFC 7947: transparent. No AS of ours, next hop and MED as received; our own
        // routes are announced as from any eBGP speaker.
        a.set_as_path(match source {
            None => path.prepend(local.asn, 1),
            Some(_) => path,
        });
        a.remove(code::LOCAL_PREF);
        a.remove(code::ORIGINATOR_ID);
        a.remove(code::CLUSTER_LIST);
        if is_unspecified(&route.next_hop) {
            self_next_hop()
        } else {
            route.next_hop.clone()
        }
    } else if !to.ibgp {
        a.set_as_path(asrules::export_as_path(&path, to, local));
        asrules::otc_export(&mut a, to, local);
        a.remove(code::LOCAL_PREF);
        a.remove(code::ORIGINATOR_ID);
        a.remove(code::CLUSTER_LIST);
        // MED is not passed from one neighbouring AS to another (RFC 4271 5.1.4).
        if source.is_some() {
            a.remove(code::MULTI_EXIT_DISC);
        }
        match source {
            // Our own route with a next hop set explicitly: the operator's choice.
            None if !is_unspecified(&route.next_hop) => route.next_hop.clone(),
            _ => self_next_hop(),
        }
    } else {
        a.set_as_path(path);
        if a.local_pref().is_none() {
            a.set_local_pref(DEFAULT_LOCAL_PREF);
        }
        if let Some(s) = source.filter(|s| s.ibgp) {
            // Reflection (RFC 4456 section 8).
            if a.originator_id().is_none() {
                a.set_originator_id(s.router_id);
            }
            let list = a
                .cluster_list()
                .cloned()
                .unwrap_or_else(|| ClusterList::new([]));
            a.set_cluster_list(list.prepend(local.cluster_id));
        }
        match source {
            Some(_) if !is_unspecified(&route.next_hop) => route.next_hop.clone(),
            _ => self_next_hop(),
        }
    };
    if !to.encode.four_octet_as {
        a = a.with_as4_for_two_octet_peer();
    }
    let _ = AsPath::new;
    (a, next_hop)
}

pub(super) fn is_unspecified(nh: &NextHop) -> bool {
    match nh {
        NextHop::V4(a) => a.is_unspecified(),
        NextHop::V6 { global, .. } => global.is_unspecified(),
        _ => true,
    }
}

/// Our own address as the next hop for `to` in `family`.
pub(super) fn self_next_hop(to: &PeerInfo, family: Family, local: &LocalIdentity) -> NextHop {
    match (family == Family::IPV6_UNICAST, to.local_addr) {
        (false, IpAddr::V4(a)) => NextHop::V4(a),
        // IPv4 routes over an IPv6 session without an IPv4 address of ours: the router id
        // is the one IPv4 address we know.
        (false, IpAddr::V6(_)) => NextHop::V4(local.router_id),
        (true, IpAddr::V6(a)) => NextHop::V6 {
            global: a,
            link_local: None,
        },
        // IPv6 routes over an IPv4 session: the IPv4-mapped address (as FRR and BIRD do).
        (true, IpAddr::V4(a)) => NextHop::V6 {
            global: a.to_ipv6_mapped(),
            link_local: None,
        },
    }
}
