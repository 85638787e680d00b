//! Reading the RIB from outside its task: chunked listings, counts and best-path events.
//!
//! Listings come in chunks of a bounded size, each answered by one message to the RIB
//! task, so that listing a million routes never holds the task for long and a slow
//! client only slows itself. A cursor (family and prefix id) says where the next chunk
//! starts; ids are stable while a prefix exists, so a prefix present during the whole
//! listing is listed exactly once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use bgp_proto::Family;
use ipnet::IpNet;

use super::export::{PeerState, exportable, transform};
use super::import::{LocalIdentity, RouteAttrs};
use super::table::Table;
use super::{FamilyKey, Path, PeerId, is_local};

/// Which table to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// The best paths (and, with `all_paths`, every path).
    Loc,
    /// What a peer sent us (post import checks).
    AdjIn(PeerId),
    /// What we sent a peer, as it received it.
    AdjOut(PeerId),
}

/// How a prefix filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixMatch {
    /// Exactly the prefix.
    Exact,
    /// The prefix and everything more specific inside it.
    Longer,
    /// The prefix and everything less specific covering it.
    Shorter,
}

/// A listing request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// The table.
    pub table: TableKind,
    /// One family, or both.
    pub family: Option<Family>,
    /// A prefix filter.
    pub prefix: Option<(IpNet, PrefixMatch)>,
    /// Loc-RIB: every path, not just the best.
    pub all_paths: bool,
    /// Most prefixes per chunk.
    pub limit: usize,
}

/// Where a listing continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    /// 0: IPv4, 1: IPv6.
    pub family: u8,
    /// The first prefix id not yet listed.
    pub id: u32,
}

/// One path, as the API shows it.
#[derive(Debug, Clone)]
pub struct PathView {
    /// The prefix.
    pub prefix: IpNet,
    /// Where it came from.
    pub peer: PeerId,
    /// The peer's address (none for our own paths).
    pub peer_addr: Option<IpAddr>,
    /// ADD-PATH path id.
    pub path_id: u32,
    /// Attributes and next hop.
    pub attrs: Arc<RouteAttrs>,
    /// The best path of its prefix.
    pub best: bool,
    /// In the multipath set.
    pub multipath: bool,
    /// Kept from a graceful-restart peer whose session is down, or that has not re-sent
    /// it yet (RFC 4724).
    pub stale: bool,
}

/// A chunk of a listing.
#[derive(Debug, Clone)]
pub struct ListChunk {
    /// The paths.
    pub paths: Vec<PathView>,
    /// Where to continue; `None` when done.
    pub next: Option<Cursor>,
}

/// A best-path change.
#[derive(Debug, Clone)]
pub struct BestPathChange {
    /// The prefix.
    pub prefix: IpNet,
    /// The new best path, `None` when the prefix is gone.
    pub best: Option<PathView>,
    /// The multipath set, the best included.
    pub multipath: Vec<PathView>,
    /// The prefix had a best path before this change.
    pub had_best: bool,
}

pub(super) struct Reader<'a> {
    pub(super) peers: &'a HashMap<PeerId, PeerState>,
    pub(super) local: &'a LocalIdentity,
    pub(super) gr: &'a super::stale::Graceful,
}

impl Reader<'_> {
    fn view(&self, prefix: IpNet, p: &Path, best: bool, multipath: bool) -> PathView {
        PathView {
            prefix,
            peer: p.peer,
            peer_addr: self.peers.get(&p.peer).map(|s| s.info.addr),
            path_id: p.path_id,
            attrs: Arc::clone(&p.attrs),
            best,
            multipath,
            stale: false,
        }
    }

    /// `view` with its stale mark.
    fn marked(&self, mut view: PathView, family: Family, id: u32) -> PathView {
        view.stale = self.gr.is_stale(view.peer, family, id);
        view
    }

    /// The paths of one entry that `query` selects.
    fn entry_paths<K: FamilyKey>(
        &self,
        e: &super::table::Entry<K, Path>,
        id: u32,
        query: &ListQuery,
        out: &mut Vec<PathView>,
    ) {
        let prefix = e.prefix.to_prefix();
        if let Some((filter, mode)) = query.prefix {
            let hit = match mode {
                PrefixMatch::Exact => filter.trunc() == prefix,
                PrefixMatch::Longer => filter.contains(&prefix),
                PrefixMatch::Shorter => prefix.contains(&filter),
            };
            if !hit {
                return;
            }
        }
        let best = usize::from(e.best);
        match query.table {
            TableKind::Loc => {
                for (i, p) in e.paths.iter().enumerate() {
                    if i == best || query.all_paths {
                        let mp = i < 64 && e.multipath & (1 << i) != 0;
                        let v = self.view(prefix, p, i == best, mp);
                        out.push(self.marked(v, K::FAMILY, id));
                    }
                }
            }
            TableKind::AdjIn(peer) => {
                for (i, p) in e.paths.iter().enumerate().filter(|(_, p)| p.peer == peer) {
                    let v = self.view(prefix, p, i == best, false);
                    out.push(self.marked(v, K::FAMILY, id));
                }
            }
            TableKind::AdjOut(peer) => {
                let Some(to) = self.peers.get(&peer) else {
                    return;
                };
                let st = if K::FAMILY == Family::IPV4_UNICAST {
                    &to.v4
                } else {
                    &to.v6
                };
                // ADD-PATH: every path sent, under the path id the peer knows it by.
                if let Some(ap) = st.add_path.as_deref() {
                    for (i, tx_id) in ap.sent_paths(id, e) {
                        let p = &e.paths[i];
                        let source = self.peers.get(&p.peer).map(|s| &s.info);
                        let (attrs, next_hop) =
                            transform(&p.attrs, source, &to.info, K::FAMILY, self.local);
                        let mut view = self.view(prefix, p, i == best, false);
                        view.path_id = tx_id;
                        view.attrs = Arc::new(RouteAttrs { attrs, next_hop });
                        out.push(view);
                    }
                    return;
                }
                let advertised = st.is_advertised(id);
                let Some(p) = e.best().filter(|_| advertised) else {
                    return;
                };
                let source = self.peers.get(&p.peer).map(|s| &s.info);
                if !exportable(p, source, &to.info) {
                    return;
                }
                let (attrs, next_hop) =
                    transform(&p.attrs, source, &to.info, K::FAMILY, self.local);
                let mut view = self.view(prefix, p, true, false);
                view.attrs = Arc::new(RouteAttrs { attrs, next_hop });
                out.push(view);
            }
        }
    }

    /// Lists from `cursor` in one table, until `limit` prefixes were looked at.
    pub(super) fn list<K: FamilyKey>(
        &self,
        table: &Table<K, Path>,
        start: u32,
        query: &ListQuery,
        out: &mut Vec<PathView>,
        budget: &mut usize,
    ) -> Option<u32> {
        if let Some((p, PrefixMatch::Exact)) = query.prefix {
            if let Some(e) = K::from_prefix(p)
                .and_then(|k| table.id(&k))
                .and_then(|id| Some((id, table.get(id)?)))
            {
                self.entry_paths(e.1, e.0, query, out);
            }
            return None;
        }
        let bound = u32::try_from(table.id_bound()).unwrap_or(u32::MAX);
        let mut id = start;
        while id < bound {
            if *budget == 0 {
                return Some(id);
            }
            if let Some(e) = table.get(id) {
                *budget -= 1;
                self.entry_paths(e, id, query, out);
            }
            id += 1;
        }
        None
    }

    /// The change record for a prefix whose best path may have changed.
    pub(super) fn change<K: FamilyKey>(
        &self,
        e: &super::table::Entry<K, Path>,
        id: u32,
        had_best: bool,
    ) -> BestPathChange {
        let prefix = e.prefix.to_prefix();
        let best_index = usize::from(e.best);
        let best = e
            .best()
            .map(|p| self.marked(self.view(prefix, p, true, true), K::FAMILY, id));
        let multipath = e
            .paths
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 64 && e.multipath & (1 << i) != 0)
            .map(|(i, p)| self.marked(self.view(prefix, p, i == best_index, true), K::FAMILY, id))
            .collect();
        BestPathChange {
            prefix,
            best,
            multipath,
            had_best,
        }
    }
}

/// Prefix and path counts of one table.
pub(super) fn count<K: FamilyKey>(
    table: &Table<K, Path>,
    kind: TableKind,
    peers: &HashMap<PeerId, PeerState>,
) -> (u64, u64) {
    let (mut prefixes, mut paths) = (0u64, 0u64);
    for (id, e) in table.iter() {
        let n = match kind {
            TableKind::Loc => u64::from(e.best().is_some()),
            TableKind::AdjIn(peer) => e.paths.iter().filter(|p| p.peer == peer).count() as u64,
            TableKind::AdjOut(peer) => peers.get(&peer).map_or(0, |s| {
                u64::from(if K::FAMILY == Family::IPV4_UNICAST {
                    s.v4.is_advertised(id)
                } else {
                    s.v6.is_advertised(id)
                })
            }),
        };
        if n > 0 {
            prefixes += 1;
            paths += if kind == TableKind::Loc {
                e.paths.len() as u64
            } else {
                n
            };
        }
    }
    (prefixes, paths)
}

/// Paths accepted from each peer in one table.
pub(super) fn accepted<K: FamilyKey>(table: &Table<K, Path>, out: &mut HashMap<PeerId, u64>) {
    for (_, e) in table.iter() {
        for p in e.paths.iter().filter(|p| !is_local(p.peer)) {
            *out.entry(p.peer).or_default() += 1;
        }
    }
}
