//! ADD-PATH send (RFC 7911): several paths per prefix to a peer that negotiated
//! receiving them, each with a path identifier of ours.
//!
//! Only peers that negotiated ADD-PATH send for a family have this state (a `Box` in their
//! export state); for the others export is unchanged and costs nothing more.
//!
//! A path keeps its identifier for as long as it is advertised: the state remembers,
//! per prefix, which path (source peer and the source's path id) went out under which
//! identifier, and with which attributes. When a prefix is exported again, the paths no
//! longer selected are withdrawn by identifier, the selected ones whose attributes changed
//! are announced again under their identifier, and new ones get the smallest identifier
//! free for that prefix. Unchanged paths are not sent again (except after a
//! ROUTE-REFRESH). The attributes are remembered as a `Weak`: it does not keep the
//! interned set alive, and its allocation cannot be reused by another set while held.
//!
//! Selection: of the paths that may go to the peer, the best path first, then the others
//! in the order the decision process ranks them (it is run again on what is left, so the
//! second is the path that would be best without the first, and so on); the first
//! `send_max` of them, or all.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use bgp_proto::Family;
use smallvec::SmallVec;

use super::bestpath::{self, Rank};
use super::import::RouteAttrs;
use super::table::Entry;
use super::{Path, PeerId, PeerInfo};

/// One path advertised to the peer.
#[derive(Debug, Clone)]
struct Sent {
    /// Where the path came from.
    peer: PeerId,
    /// The source's path id (0 without ADD-PATH from the source).
    source_id: u32,
    /// Our path id towards this peer.
    tx_id: u32,
    /// The attributes sent; a dangling `Weak` after a ROUTE-REFRESH (send again).
    attrs: Weak<RouteAttrs>,
}

impl Sent {
    fn is(&self, p: &Path) -> bool {
        self.peer == p.peer && self.source_id == p.path_id
    }
}

/// What to send for one prefix.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Path ids to withdraw.
    pub(crate) withdraw: Vec<u32>,
    /// Paths to announce: index into the entry's paths, and our path id.
    pub(crate) announce: Vec<(usize, u32)>,
}

/// ADD-PATH send state of one peer and family.
#[derive(Debug, Default)]
pub(crate) struct AddPathExport {
    send_max: Option<u32>,
    decision: bestpath::Options,
    sent: HashMap<u32, SmallVec<[Sent; 2]>>,
}

impl AddPathExport {
    /// The state for `to` in `family`, if the session sends ADD-PATH there.
    pub(crate) fn for_peer(
        to: &PeerInfo,
        family: Family,
        decision: bestpath::Options,
    ) -> Option<Box<Self>> {
        to.encode.add_path.contains(&family).then(|| {
            Box::new(AddPathExport {
                send_max: to.rules.add_path(family).and_then(|a| a.send_max),
                decision,
                sent: HashMap::new(),
            })
        })
    }

    /// Decides what to send for the prefix `id` whose paths are in `entry`; `allowed`
    /// says whether a path may go to the peer, `rank` what the decision process sees of
    /// it. Remembers the outcome.
    pub(crate) fn plan<K>(
        &mut self,
        id: u32,
        entry: &Entry<K, Path>,
        allowed: impl Fn(&Path) -> bool,
        rank: impl Fn(&Path) -> Rank,
    ) -> Plan {
        let max = self.send_max.map_or(usize::MAX, |n| n as usize);
        let chosen = order(entry, allowed, rank, self.decision, max);
        let before = self.sent.remove(&id).unwrap_or_default();
        let mut plan = Plan::default();
        let mut after: SmallVec<[Sent; 2]> = SmallVec::new();
        // Paths still chosen keep their ids; those whose attributes changed go again.
        for &i in &chosen {
            let p = &entry.paths[i];
            if let Some(s) = before.iter().find(|s| s.is(p)) {
                if !std::ptr::eq(s.attrs.as_ptr(), Arc::as_ptr(&p.attrs)) {
                    plan.announce.push((i, s.tx_id));
                }
                after.push(Sent {
                    attrs: Arc::downgrade(&p.attrs),
                    ..s.clone()
                });
            }
        }
        for s in &before {
            if !after.iter().any(|a| a.tx_id == s.tx_id) {
                plan.withdraw.push(s.tx_id);
            }
        }
        for &i in &chosen {
            let p = &entry.paths[i];
            if after.iter().any(|s| s.is(p)) {
                continue;
            }
            let tx_id = (1..)
                .find(|n| !after.iter().any(|s| s.tx_id == *n))
                .unwrap_or(u32::MAX);
            after.push(Sent {
                peer: p.peer,
                source_id: p.path_id,
                tx_id,
                attrs: Arc::downgrade(&p.attrs),
            });
            plan.announce.push((i, tx_id));
        }
        // An id withdrawn and reused at once is just replaced.
        plan.withdraw
            .retain(|id| !plan.announce.iter().any(|(_, tx)| tx == id));
        if !after.is_empty() {
            self.sent.insert(id, after);
        }
        plan
    }

    /// The paths of the prefix `id` (whose paths are in `entry`) advertised to the peer:
    /// index into the entry's paths, and our path id.
    pub(crate) fn sent_paths<'a, K>(
        &'a self,
        id: u32,
        entry: &'a Entry<K, Path>,
    ) -> impl Iterator<Item = (usize, u32)> + 'a {
        self.sent.get(&id).into_iter().flatten().filter_map(|s| {
            let i = entry.paths.iter().position(|p| s.is(p))?;
            Some((i, s.tx_id))
        })
    }

    /// Makes every advertised path go out again when its prefix is next exported (the
    /// peer asked for a ROUTE-REFRESH).
    pub(crate) fn resend_all(&mut self) {
        for sent in self.sent.values_mut() {
            for s in sent {
                s.attrs = Weak::new();
            }
        }
    }

    /// Paths advertised for the prefix `id`.
    #[cfg(test)]
    pub(crate) fn sent_count(&self, id: u32) -> usize {
        self.sent.get(&id).map_or(0, SmallVec::len)
    }
}

/// At most `max` indexes of allowed paths in the order they are offered: the best, then
/// by the decision process run on what is left. None without a best path.
fn order<K>(
    entry: &Entry<K, Path>,
    allowed: impl Fn(&Path) -> bool,
    rank: impl Fn(&Path) -> Rank,
    decision: bestpath::Options,
    max: usize,
) -> Vec<usize> {
    let Some(best) = entry.best().map(|_| usize::from(entry.best)) else {
        return Vec::new();
    };
    let mut rest: Vec<usize> = (0..entry.paths.len())
        .filter(|&i| allowed(&entry.paths[i]))
        .collect();
    let mut out = Vec::with_capacity(rest.len().min(max));
    if let Some(at) = rest.iter().position(|&i| i == best) {
        out.push(rest.remove(at));
    }
    let mut ranks: Vec<Rank> = rest.iter().map(|&i| rank(&entry.paths[i])).collect();
    while out.len() < max {
        let Some(d) = bestpath::decide(&ranks, decision) else {
            break;
        };
        ranks.remove(d.best);
        out.push(rest.remove(d.best));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bgp_proto::PathAttributes;
    use bgp_proto::attr::NextHop;

    use super::*;
    use crate::rib::import::RouteAttrs;

    fn path(peer: PeerId, path_id: u32) -> Path {
        Path {
            peer,
            path_id,
            attrs: Arc::new(RouteAttrs {
                attrs: PathAttributes::new(),
                next_hop: NextHop::V4(std::net::Ipv4Addr::LOCALHOST),
            }),
        }
    }

    fn entry(paths: Vec<Path>, best: u16, multipath: u64) -> Entry<u32, Path> {
        Entry {
            prefix: 1,
            paths: paths.into_iter().collect(),
            best,
            multipath,
            out_refs: 0,
        }
    }

    fn state(send_max: Option<u32>) -> AddPathExport {
        AddPathExport {
            send_max,
            decision: bestpath::Options::default(),
            sent: HashMap::new(),
        }
    }

    /// A rank where a lower peer id has a higher LOCAL_PREF: peer 1 ranks before peer 2.
    fn rank(p: &Path) -> Rank {
        Rank {
            llgr_stale: false,
            local_pref: 1000 - p.peer,
            local: false,
            as_path_len: 1,
            origin: 0,
            med: 0,
            neighbor_as: 65000 + p.peer,
            ebgp: true,
            router_id: std::net::Ipv4Addr::new(10, 0, 0, 1),
            cluster_len: 0,
            peer_addr: std::net::IpAddr::from([192, 0, 2, 1]),
        }
    }

    #[test]
    fn best_n_are_sent_best_first_and_keep_their_ids() {
        let mut st = state(Some(2));
        let (p1, p2, p3) = (path(1, 0), path(2, 0), path(3, 0));
        // Peer 3's path is best; of the others, peer 1's ranks higher (see `rank`), though
        // it arrived later than peer 2's.
        let e = entry(vec![p2.clone(), p1, p3.clone()], 2, 0b100);
        let plan = state(Some(2)).plan(7, &e, |_| true, rank);
        assert_eq!(plan.announce, [(2, 1), (1, 2)]);
        let e = entry(vec![path(1, 0), p2.clone(), p3.clone()], 2, 0b101);
        let plan = st.plan(7, &e, |_| true, rank);
        assert_eq!(plan.announce, [(2, 1), (0, 2)]);
        assert!(plan.withdraw.is_empty());
        // Peer 1's path goes away: peer 2's is offered next under the freed id; the best
        // is unchanged and not sent again.
        let e = entry(vec![p2.clone(), p3], 1, 0b10);
        let plan = st.plan(7, &e, |_| true, rank);
        assert_eq!(plan.announce, [(0, 2)]);
        assert!(plan.withdraw.is_empty(), "id 2 is replaced, not withdrawn");
        assert_eq!(st.sent_count(7), 2);
        // New attributes on the best path: only it goes again, under its id.
        let e = entry(vec![p2, path(3, 0)], 1, 0b10);
        assert_eq!(st.plan(7, &e, |_| true, rank).announce, [(1, 1)]);
        // After a ROUTE-REFRESH both go again.
        st.resend_all();
        assert_eq!(st.plan(7, &e, |_| true, rank).announce, [(1, 1), (0, 2)]);
    }

    #[test]
    fn paths_not_allowed_are_skipped_and_vanished_ones_withdrawn() {
        let mut st = state(None);
        let e = entry(vec![path(1, 0), path(1, 5), path(2, 9)], 0, 0b1);
        let plan = st.plan(3, &e, |_| true, rank);
        assert_eq!(plan.announce, [(0, 1), (1, 2), (2, 3)]);
        assert_eq!(
            st.sent_paths(3, &e).collect::<Vec<_>>(),
            [(0, 1), (1, 2), (2, 3)]
        );
        // The peer's own path (peer 2) may not go back to it.
        let plan = st.plan(3, &e, |p| p.peer != 2, rank);
        assert!(plan.announce.is_empty(), "nothing changed for ids 1 and 2");
        assert_eq!(plan.withdraw, [3]);
        // No best path any more: everything is withdrawn and the prefix forgotten.
        let empty = entry(vec![], crate::rib::table::NO_BEST, 0);
        let plan = st.plan(3, &empty, |_| true, rank);
        assert!(plan.announce.is_empty());
        assert_eq!(plan.withdraw, [1, 2]);
        assert_eq!(st.sent_count(3), 0);
    }
}
