//! The decision process run over the prefixes a batch changed: what each path ranks as,
//! and which prefixes changed their best path or multipath set.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use bgp_proto::attr::AsPath;
use smallvec::SmallVec;

use super::bestpath::{self, Rank};
use super::export::PeerState;
use super::import::LocalIdentity;
use super::table::{BEST_STALE, NO_BEST};
use super::{DEFAULT_LOCAL_PREF, FamilyKey, FamilyRib, Path, PeerId, RibOptions, is_local};

pub(super) struct DecideCtx<'a> {
    pub(super) peers: &'a HashMap<PeerId, PeerState>,
    pub(super) opts: &'a RibOptions,
}

impl DecideCtx<'_> {
    pub(super) fn rank(&self, path: &Path) -> Rank {
        rank_path(path, self.peers, &self.opts.local)
    }
}

/// What the decision process looks at for `path`, whose source is found in `peers`.
pub(crate) fn rank_path(
    path: &Path,
    peers: &HashMap<PeerId, PeerState>,
    local: &LocalIdentity,
) -> Rank {
    let a = &path.attrs.attrs;
    let (ebgp, router_id, peer_addr) = match peers.get(&path.peer) {
        Some(s) if !is_local(path.peer) => (!s.info.ibgp, s.info.router_id, s.info.addr),
        _ => (false, local.router_id, IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
    };
    let as_path = a.as_path();
    Rank {
        llgr_stale: a
            .communities()
            .is_some_and(|c| c.contains(bgp_proto::attr::Community::LLGR_STALE)),
        local_pref: a.local_pref().unwrap_or(DEFAULT_LOCAL_PREF),
        local: is_local(path.peer),
        as_path_len: as_path.map_or(0, |p| u32::try_from(p.path_len()).unwrap_or(u32::MAX)),
        origin: a.origin().map_or(2, |o| o.as_u8()),
        med: a.med().unwrap_or(0),
        neighbor_as: as_path.and_then(AsPath::neighbor_as).unwrap_or(local.asn),
        ebgp,
        router_id: a.originator_id().unwrap_or(router_id),
        cluster_len: a
            .cluster_list()
            .map_or(0, |c| u32::try_from(c.len()).unwrap_or(u32::MAX)),
        peer_addr,
    }
}

/// Decides every dirty prefix; returns the ids whose best path changed, and for each
/// whether it had a best path before.
pub(super) fn decide_dirty<K: FamilyKey>(
    rib: &mut FamilyRib<K>,
    ctx: &DecideCtx<'_>,
) -> (Vec<u32>, Vec<bool>) {
    let mut changed = Vec::new();
    let mut had = Vec::new();
    for id in std::mem::take(&mut rib.dirty) {
        rib.dirty_set.remove(id);
        let Some(entry) = rib.table.get_mut(id) else {
            continue;
        };
        // A stale best was changed or removed since the last decision.
        let stale = entry.best == BEST_STALE;
        let multipath_before = entry.multipath;
        let before = entry
            .best()
            .map(|p| (p.peer, p.path_id, Arc::as_ptr(&p.attrs)));
        match entry.paths.len() {
            0 => {
                entry.best = NO_BEST;
                entry.multipath = 0;
            }
            1 => {
                entry.best = 0;
                entry.multipath = 1;
            }
            _ => {
                let ranks: SmallVec<[Rank; 8]> = entry.paths.iter().map(|p| ctx.rank(p)).collect();
                if let Some(d) = bestpath::decide(&ranks, ctx.opts.decision) {
                    entry.best = u16::try_from(d.best).unwrap_or(NO_BEST);
                    entry.multipath = if ctx.opts.multipath {
                        d.multipath
                            .iter()
                            .filter(|i| **i < 64)
                            .fold(0, |m, i| m | (1 << i))
                    } else {
                        1 << d.best.min(63)
                    };
                }
            }
        }
        let after = entry
            .best()
            .map(|p| (p.peer, p.path_id, Arc::as_ptr(&p.attrs)));
        // A new multipath set with the same best path matters to the FIB.
        if stale || before != after || entry.multipath != multipath_before {
            changed.push(id);
            had.push(stale || before.is_some());
        } else if entry.paths.is_empty() {
            rib.table.remove_if_unused(id);
        }
    }
    (changed, had)
}
