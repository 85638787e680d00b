//! Graceful restart in the RIB (RFC 4724): the stale routes of a restarting peer, and the
//! selection deferral of bgpd itself after a restart.
//!
//! Helper: when a graceful-restart peer's session goes down, its paths stay in the table
//! (still best, still exported, still in the FIB stream) and are marked stale, one bit per
//! prefix and family. A held [`PeerState`] without families keeps the peer's identity for
//! the decision process and export. Every UPDATE from the peer's next session clears the
//! bits of the prefixes it names; its End-of-RIB for a family removes what is still
//! stale. So does a timer: the peer's Restart Time until its new session is up, then our
//! `stale_routes_time`.
//!
//! Restarting speaker: after a restart, UPDATEs to every peer are held until each
//! graceful-restart neighbour sent End-of-RIB for each of its families, or until the
//! selection deferral timer runs out; then the whole table and End-of-RIB go out.

use std::collections::HashMap;
use std::time::Duration;

use bgp_proto::attr::{Communities, Community};
use bgp_proto::{Family, Nlri};
use ipnet::{Ipv4Net, Ipv6Net};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::info;

use super::bitset::BitSet;
use super::export::PeerState;
use super::{FamilyKey, FamilyRib, PeerId, Rib};

/// Graceful-restart messages to the RIB.
#[derive(Debug)]
pub enum GrMsg {
    /// The session of a graceful-restart peer went down: keep its routes of `families`
    /// as stale (and withdraw the others) until it comes back or `restart_time` ends.
    PeerDown {
        /// The session.
        peer: PeerId,
        /// The families to keep.
        families: Vec<Family>,
        /// The peer's Restart Time.
        restart_time: Duration,
        /// How long stale routes may stay once the peer is back.
        stale_time: Duration,
        /// Long-Lived Graceful Restart (RFC 9494): families kept past the restart time,
        /// as LLGR_STALE, for this long.
        llgr: Vec<(Family, Duration)>,
    },
    /// The peer's session is up again (sent after [`super::RibMsg::PeerUp`]).
    PeerUp {
        /// The session.
        peer: PeerId,
        /// The families the peer announced graceful restart for with the Forwarding
        /// State bit; stale routes of other families are removed at once.
        preserved: Vec<Family>,
        /// Both sides announced graceful restart.
        graceful: bool,
        /// The peer set the Restart State bit: it restarted too, and waits for our
        /// End-of-RIB; we must not wait for its own (RFC 4724 section 4.2), or both would.
        peer_restarted: bool,
        /// The session's families.
        families: Vec<Family>,
    },
    /// bgpd has restarted: hold UPDATEs until every one of `peers` sent End-of-RIB (or
    /// turned out not to do graceful restart), for at most `max`.
    Defer {
        /// The graceful-restart neighbours to wait for.
        peers: Vec<PeerId>,
        /// The selection deferral time.
        max: Duration,
    },
}

#[derive(Debug, Default)]
struct StalePeer {
    v4: BitSet,
    v6: BitSet,
    /// Families with stale routes, waiting for End-of-RIB.
    families: Vec<Family>,
    /// When whatever is still stale goes.
    deadline: Option<Instant>,
    stale_time: Duration,
    llgr: Vec<(Family, Duration)>,
    /// The peer's new session is up.
    up: bool,
    /// Past the restart time: the routes carry LLGR_STALE.
    long_lived: bool,
}

#[derive(Debug)]
struct Deferral {
    until: Instant,
    /// Peers still to send End-of-RIB, with the families they still owe.
    waiting: HashMap<PeerId, Option<Vec<Family>>>,
}

/// The graceful-restart state of the RIB.
#[derive(Debug, Default)]
pub(crate) struct Graceful {
    peers: HashMap<PeerId, StalePeer>,
    deferral: Option<Deferral>,
    /// Prefixes whose stale mark changed without a best-path change: watchers are told
    /// after the next decision run.
    marked: Vec<(Family, u32)>,
}

impl Graceful {
    /// Whether UPDATEs are held (selection deferral after a restart).
    pub(crate) fn holds_export(&self) -> bool {
        self.deferral.is_some()
    }

    /// The next timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.peers
            .values()
            .filter_map(|p| p.deadline)
            .chain(self.deferral.as_ref().map(|d| d.until))
            .min()
    }

    /// Whether the path of `peer` at prefix `id` of `family` is stale.
    pub(crate) fn is_stale(&self, peer: PeerId, family: Family, id: u32) -> bool {
        self.peers.get(&peer).is_some_and(|p| {
            if family == Family::IPV4_UNICAST {
                p.v4.contains(id)
            } else {
                p.v6.contains(id)
            }
        })
    }

    /// Notes an UPDATE of `peer` for `family`: the prefixes it names are fresh again.
    pub(crate) fn refresh(
        &mut self,
        peer: PeerId,
        family: Family,
        v4: &FamilyRib<Ipv4Net>,
        v6: &FamilyRib<Ipv6Net>,
        nlri: [&[&Nlri]; 2],
    ) {
        let Some(entry) = self.peers.get_mut(&peer) else {
            return;
        };
        for list in nlri {
            if family == Family::IPV4_UNICAST {
                refresh(v4, &mut entry.v4, list, &mut self.marked);
            } else {
                refresh(v6, &mut entry.v6, list, &mut self.marked);
            }
        }
    }

    /// Forgets `peer` (its routes were withdrawn).
    pub(crate) fn forget(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
    }
}

fn mark_stale<K: FamilyKey>(
    rib: &FamilyRib<K>,
    peer: PeerId,
    bits: &mut BitSet,
    marked: &mut Vec<(Family, u32)>,
) -> usize {
    let mut n = 0;
    for (id, e) in rib.table.iter() {
        if e.paths.iter().any(|p| p.peer == peer) && bits.insert(id) {
            n += 1;
            marked.push((K::FAMILY, id));
        }
    }
    n
}

/// Clears the stale bits of the prefixes an UPDATE names.
fn refresh<K: FamilyKey>(
    rib: &FamilyRib<K>,
    bits: &mut BitSet,
    nlri: &[&Nlri],
    marked: &mut Vec<(Family, u32)>,
) {
    for n in nlri {
        if let Some(id) = K::from_prefix(n.prefix).and_then(|p| rib.table.id(&p))
            && bits.remove(id)
        {
            marked.push((K::FAMILY, id));
        }
    }
}

/// Removes every path of `peer` at the prefixes of `bits`.
fn sweep<K: FamilyKey>(
    rib: &mut FamilyRib<K>,
    interner: &mut super::intern::Interner<super::RouteAttrs>,
    peer: PeerId,
    bits: BitSet,
) -> usize {
    let mut n = 0;
    for id in bits.iter() {
        let Some(entry) = rib.table.get_mut(id) else {
            continue;
        };
        let mut i = 0;
        while i < entry.paths.len() {
            if entry.paths[i].peer == peer {
                interner.release(entry.remove_path(i).attrs);
                n += 1;
            } else {
                i += 1;
            }
        }
        rib.mark(id);
    }
    n
}

/// Marks the stale paths of `peer` at `bits` LLGR_STALE, removing those with NO_LLGR.
fn long_lived<K: FamilyKey>(
    rib: &mut FamilyRib<K>,
    interner: &mut super::intern::Interner<super::RouteAttrs>,
    peer: PeerId,
    bits: &mut BitSet,
) -> (usize, usize) {
    let (mut kept, mut dropped) = (0, 0);
    let ids: Vec<u32> = bits.iter().collect();
    for id in ids {
        let Some(entry) = rib.table.get_mut(id) else {
            continue;
        };
        let mut i = 0;
        while i < entry.paths.len() {
            if entry.paths[i].peer != peer {
                i += 1;
                continue;
            }
            let communities = entry.paths[i].attrs.attrs.communities();
            if communities.is_some_and(|c| c.contains(Community::NO_LLGR)) {
                interner.release(entry.remove_path(i).attrs);
                dropped += 1;
                continue;
            }
            let mut attrs = (*entry.paths[i].attrs).clone();
            let marked = communities.map_or_else(
                || Communities::new([Community::LLGR_STALE]),
                |c| c.with(Community::LLGR_STALE),
            );
            attrs.attrs.set_communities(marked);
            let new = interner.intern(attrs);
            let old = std::mem::replace(&mut entry.paths[i].attrs, new);
            entry.touch(i);
            interner.release(old);
            kept += 1;
            i += 1;
        }
        if !entry.paths.iter().any(|p| p.peer == peer) {
            bits.remove(id);
        }
        rib.mark(id);
    }
    (kept, dropped)
}

impl Rib {
    /// Tells watchers about prefixes whose best path became stale or fresh again.
    pub(super) fn graceful_events(&mut self) {
        let marked = std::mem::take(&mut self.gr.marked);
        if marked.is_empty() || self.events.receiver_count() == 0 {
            return;
        }
        let reader = super::query::Reader {
            peers: &self.peers,
            local: &self.opts.local,
            gr: &self.gr,
        };
        let mut batch = Vec::new();
        for (family, id) in marked {
            let change = if family == Family::IPV4_UNICAST {
                self.v4.table.get(id).map(|e| reader.change(e, id, true))
            } else {
                self.v6.table.get(id).map(|e| reader.change(e, id, true))
            };
            batch.extend(change.filter(|c| c.best.is_some()));
        }
        if !batch.is_empty() {
            let _ = self.events.send(std::sync::Arc::new(batch));
        }
    }

    /// Applies a graceful-restart message.
    pub(super) fn graceful(&mut self, msg: GrMsg) {
        match msg {
            GrMsg::PeerDown {
                peer,
                families,
                restart_time,
                stale_time,
                llgr,
            } => {
                self.graceful_down(peer, &families, restart_time, stale_time);
                if let Some(entry) = self.gr.peers.get_mut(&peer) {
                    entry.llgr = llgr;
                }
            }
            GrMsg::PeerUp {
                peer,
                preserved,
                graceful,
                peer_restarted,
                families,
            } => self.graceful_up(peer, &preserved, graceful && !peer_restarted, families),
            GrMsg::Defer { peers, max } => {
                info!(
                    peers = peers.len(),
                    max_secs = max.as_secs(),
                    "restarted: holding route selection until End-of-RIB from graceful-restart peers"
                );
                self.gr.deferral = Some(Deferral {
                    until: Instant::now() + max,
                    waiting: peers.into_iter().map(|p| (p, None)).collect(),
                });
                self.end_deferral_if_done();
            }
        }
    }

    fn graceful_down(
        &mut self,
        peer: PeerId,
        families: &[Family],
        restart_time: Duration,
        stale_time: Duration,
    ) {
        let Some(state) = self.peers.remove(&peer) else {
            return;
        };
        let mut info = state.info.clone();
        self.release_export(state);
        // Keep the peer's identity for the decision process and export; no families, so
        // nothing is ever queued to it.
        info.families.clear();
        self.epoch += 1;
        let (closed, _) = mpsc::channel(1);
        let addr = info.addr;
        self.peers
            .insert(peer, PeerState::new(info, closed, self.epoch));
        let entry = self.gr.peers.entry(peer).or_default();
        let mut count = 0;
        if families.contains(&Family::IPV4_UNICAST) {
            count += mark_stale(&self.v4, peer, &mut entry.v4, &mut self.gr.marked);
        } else {
            self.v4.drop_peer(peer, &mut self.interner);
        }
        if families.contains(&Family::IPV6_UNICAST) {
            count += mark_stale(&self.v6, peer, &mut entry.v6, &mut self.gr.marked);
        } else {
            self.v6.drop_peer(peer, &mut self.interner);
        }
        for f in families {
            if !entry.families.contains(f) {
                entry.families.push(*f);
            }
        }
        entry.deadline = Some(Instant::now() + restart_time);
        entry.stale_time = stale_time;
        entry.up = false;
        entry.long_lived = false;
        info!(
            peer = %addr,
            stale = count,
            restart_secs = restart_time.as_secs(),
            "graceful restart: session down, keeping its routes as stale"
        );
    }

    /// A graceful-restart peer is up; `wait_eor`: selection deferral waits for its
    /// End-of-RIB.
    fn graceful_up(
        &mut self,
        peer: PeerId,
        preserved: &[Family],
        wait_eor: bool,
        families: Vec<Family>,
    ) {
        if let Some(d) = &mut self.gr.deferral
            && let Some(owed) = d.waiting.get_mut(&peer)
        {
            if wait_eor {
                *owed = Some(families);
            } else {
                d.waiting.remove(&peer);
            }
        }
        self.end_deferral_if_done();
        let Some(entry) = self.gr.peers.get_mut(&peer) else {
            return;
        };
        let gone: Vec<Family> = entry
            .families
            .iter()
            .filter(|f| !preserved.contains(f))
            .copied()
            .collect();
        entry.deadline = Some(Instant::now() + entry.stale_time);
        entry.up = true;
        for f in gone {
            info!(peer, family = %f, "graceful restart: forwarding state not preserved; stale routes removed");
            self.sweep_family(peer, f);
        }
    }

    /// The peer's End-of-RIB for `family`.
    pub(super) fn end_of_rib(&mut self, peer: PeerId, family: Family) {
        if self.gr.peers.contains_key(&peer) {
            self.sweep_family(peer, family);
        }
        if let Some(d) = &mut self.gr.deferral
            && let Some(Some(owed)) = d.waiting.get_mut(&peer)
        {
            owed.retain(|f| *f != family);
            if owed.is_empty() {
                d.waiting.remove(&peer);
            }
        }
        self.end_deferral_if_done();
    }

    fn end_deferral_if_done(&mut self) {
        let done = self
            .gr
            .deferral
            .as_ref()
            .is_some_and(|d| d.waiting.is_empty() || d.until <= Instant::now());
        if done {
            self.gr.deferral = None;
            info!("graceful restart: selection deferral over; sending routes and End-of-RIB");
        }
    }

    /// Removes what is still stale of `peer` in `family`.
    fn sweep_family(&mut self, peer: PeerId, family: Family) {
        let Some(entry) = self.gr.peers.get_mut(&peer) else {
            return;
        };
        entry.families.retain(|f| *f != family);
        let removed = if family == Family::IPV4_UNICAST {
            sweep(
                &mut self.v4,
                &mut self.interner,
                peer,
                std::mem::take(&mut entry.v4),
            )
        } else {
            sweep(
                &mut self.v6,
                &mut self.interner,
                peer,
                std::mem::take(&mut entry.v6),
            )
        };
        if entry.families.is_empty() {
            self.gr.peers.remove(&peer);
        }
        if removed > 0 {
            info!(peer, %family, removed, "graceful restart: stale routes removed");
        }
    }

    /// At the end of the restart time of a peer that is not back: the families it asked
    /// Long-Lived Graceful Restart for keep their routes, with LLGR_STALE (least preferred,
    /// sent only to LLGR peers) and without those marked NO_LLGR; the others go. Returns
    /// whether routes are kept.
    fn enter_long_lived(&mut self, peer: PeerId, now: Instant) -> bool {
        let Some(entry) = self.gr.peers.get_mut(&peer) else {
            return false;
        };
        if entry.up || entry.long_lived || entry.llgr.is_empty() {
            return false;
        }
        entry.long_lived = true;
        let llgr = entry.llgr.clone();
        let longest = llgr.iter().map(|(_, t)| *t).max().unwrap_or_default();
        entry.deadline = Some(now + longest);
        for family in entry.families.clone() {
            if !llgr.iter().any(|(f, _)| *f == family) {
                self.sweep_family(peer, family);
                continue;
            }
            let Some(entry) = self.gr.peers.get_mut(&peer) else {
                break;
            };
            let (kept, dropped) = if family == Family::IPV4_UNICAST {
                long_lived(&mut self.v4, &mut self.interner, peer, &mut entry.v4)
            } else {
                long_lived(&mut self.v6, &mut self.interner, peer, &mut entry.v6)
            };
            info!(peer, %family, kept, dropped, secs = longest.as_secs(), "long-lived graceful restart: stale routes kept as LLGR_STALE");
        }
        self.gr.peers.contains_key(&peer)
    }

    /// Runs the timers due now: stale routes whose time ran out, the selection deferral.
    pub(super) fn graceful_timers(&mut self) {
        let now = Instant::now();
        let due: Vec<PeerId> = self
            .gr
            .peers
            .iter()
            .filter(|(_, p)| p.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for peer in due {
            if self.enter_long_lived(peer, now) {
                continue;
            }
            let families = self
                .gr
                .peers
                .get(&peer)
                .map(|p| p.families.clone())
                .unwrap_or_default();
            info!(
                peer,
                "graceful restart: time is up; removing the stale routes left"
            );
            for f in families {
                self.sweep_family(peer, f);
            }
            self.gr.peers.remove(&peer);
            // A peer that never came back leaves nothing behind.
            if self
                .peers
                .get(&peer)
                .is_some_and(|s| s.info.families.is_empty())
                && let Some(state) = self.peers.remove(&peer)
            {
                self.release_export(state);
                self.v4.drop_peer(peer, &mut self.interner);
                self.v6.drop_peer(peer, &mut self.interner);
            }
        }
        self.end_deferral_if_done();
    }
}
