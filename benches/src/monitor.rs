//! The monitor: reads the UPDATEs a daemon sends to one peer, keeps the state of every
//! benchmark prefix (absent, present with the expected route, present with another) and
//! stamps the moment the expected table is complete, and the moment it is empty again.
//!
//! UPDATEs are walked in place rather than decoded into `bgp_proto::Update`s: a monitor
//! sees up to ten million prefixes in a run, on the same two cores as the daemon, and it
//! must cost next to nothing. Only what the checks need is read: withdrawn routes, AS_PATH
//! (4-octet), NEXT_HOP, MP_REACH_NLRI / MP_UNREACH_NLRI and the NLRI field.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::encode::index_of;
use crate::scenario::{Family, GROUP_ASN_BASE, PREFIXES_PER_GROUP, Plan, SENDER_ASN_BASE};

const ABSENT: u8 = 0;
const RIGHT: u8 = 1;
const WRONG: u8 = 2;

/// A malformed UPDATE (the monitor resets the session on it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed UPDATE from the daemon: {0}")]
pub struct Malformed(pub &'static str);

/// What one receiving peer has seen so far.
#[derive(Debug)]
pub struct Tally {
    plan: Arc<Plan>,
    /// The receiver's own sender index (its own prefixes are not expected back).
    receiver: Option<u32>,
    family: Family,
    expected: u32,
    state: Vec<u8>,
    present: u32,
    right: u32,
    /// Counters for the report.
    pub counts: Counts,
    /// When the table last became complete (every expected prefix with its expected
    /// route), if it is complete now.
    pub complete_at: Option<Instant>,
    /// When the table last became empty after having had routes, if it is empty now.
    pub empty_at: Option<Instant>,
    dirty: bool,
    /// Address of each sender, by sender index.
    senders: Vec<IpAddr>,
}

/// Counters of one receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// UPDATE messages received.
    pub updates: u64,
    /// Announced prefixes received (all, repeats included).
    pub announced: u64,
    /// Withdrawn prefixes received.
    pub withdrawn: u64,
    /// Announcements of prefixes this receiver does not expect (not benchmark prefixes,
    /// or its own coming back).
    pub unexpected: u64,
    /// Announcements of expected prefixes with a route other than the expected final
    /// one (another AS_PATH, next hop or sender).
    pub wrong: u64,
    /// The first wrong route, described, for the report.
    pub first_wrong: Option<String>,
}

/// A snapshot of a receiver's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Prefixes it must end with.
    pub expected: u32,
    /// Expected prefixes present now.
    pub present: u32,
    /// Expected prefixes present with the expected route now.
    pub right: u32,
}

/// The route carried by one UPDATE, reduced to what the checks compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    /// (sender, group) when the AS_PATH has the benchmark's shape.
    origin: Option<(u32, u32)>,
    path_len: usize,
    next_hop: Option<IpAddr>,
}

impl Tally {
    /// A tally for the peer that is sender `receiver` (or a pure monitor).
    pub fn new(plan: Arc<Plan>, receiver: Option<u32>) -> Tally {
        let family = plan.shape.family;
        let expected = plan.expected_count(receiver);
        let size = plan.shape.prefix_count() as usize;
        let senders = (0..plan.shape.senders)
            .filter_map(|k| plan.sender_address(k))
            .collect();
        Tally {
            senders,
            plan,
            receiver,
            family,
            expected,
            state: vec![ABSENT; size],
            present: 0,
            right: 0,
            counts: Counts::default(),
            complete_at: None,
            empty_at: None,
            dirty: false,
        }
    }

    /// Progress so far.
    pub fn progress(&self) -> Progress {
        Progress {
            expected: self.expected,
            present: self.present,
            right: self.right,
        }
    }

    /// Whether every expected prefix is present with its expected route.
    pub fn complete(&self) -> bool {
        self.right == self.expected && self.present == self.expected
    }

    /// Updates the completion stamps after a batch of messages read at `now`.
    pub fn stamp(&mut self, now: Instant) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        if self.complete() {
            self.complete_at.get_or_insert(now);
        } else {
            self.complete_at = None;
        }
        if self.present == 0 && self.counts.withdrawn > 0 {
            self.empty_at.get_or_insert(now);
        } else {
            self.empty_at = None;
        }
    }

    fn announce(&mut self, i: Option<u32>, route: &Route) {
        self.counts.announced += 1;
        let Some(i) = i.filter(|&i| self.plan.expected_at(self.receiver, i)) else {
            self.counts.unexpected += 1;
            return;
        };
        let owner = self.plan.owner(i);
        let right = route.origin == Some((owner, i / PREFIXES_PER_GROUP))
            && (route.next_hop == self.expected_next_hop(owner)
                || (self.plan.prepend
                    && !self.plan.strict_next_hop
                    && route.next_hop == self.senders.get(owner as usize).copied()));
        if !right {
            self.counts.wrong += 1;
            if self.counts.first_wrong.is_none() {
                self.counts.first_wrong = Some(format!(
                    "prefix #{i}: got origin {:?} (path length {}) via {:?}, want sender {owner} \
                     group {} via {:?}",
                    route.origin,
                    route.path_len,
                    route.next_hop,
                    i / PREFIXES_PER_GROUP,
                    self.expected_next_hop(owner)
                ));
            }
        }
        let Some(slot) = self.state.get_mut(i as usize) else {
            return;
        };
        let old = *slot;
        let new = if right { RIGHT } else { WRONG };
        *slot = new;
        if old == ABSENT {
            self.present += 1;
        }
        if old == RIGHT && new != RIGHT {
            self.right -= 1;
        }
        if old != RIGHT && new == RIGHT {
            self.right += 1;
        }
        self.dirty = true;
    }

    fn withdraw(&mut self, i: Option<u32>) {
        self.counts.withdrawn += 1;
        let Some(i) = i else { return };
        let Some(slot) = self.state.get_mut(i as usize) else {
            return;
        };
        match *slot {
            ABSENT => {}
            RIGHT => {
                self.right -= 1;
                self.present -= 1;
            }
            _ => self.present -= 1,
        }
        *slot = ABSENT;
        self.dirty = true;
    }

    fn expected_next_hop(&self, owner: u32) -> Option<IpAddr> {
        if self.plan.prepend {
            Some(self.plan.dut)
        } else {
            self.senders.get(owner as usize).copied()
        }
    }

    /// Takes one UPDATE body (after the 19-byte header) on a 4-octet-AS session without
    /// ADD-PATH.
    pub fn update(&mut self, body: &[u8]) -> Result<(), Malformed> {
        self.counts.updates += 1;
        let (withdrawn, rest) = split_len16(body).ok_or(Malformed("withdrawn routes length"))?;
        let (attrs, nlri) = split_len16(rest).ok_or(Malformed("path attribute length"))?;
        let v4 = self.family == Family::V4;
        walk_prefixes(withdrawn, |len, bytes| {
            let i = if v4 {
                index_of(Family::V4, len, bytes)
            } else {
                None
            };
            self.withdraw(i);
        })?;
        let mut route = Route {
            origin: None,
            path_len: 0,
            next_hop: None,
        };
        let mut reach: &[u8] = &[];
        let mut unreach: &[u8] = &[];
        let mut a = attrs;
        while !a.is_empty() {
            let (&flags, r) = a.split_first().ok_or(Malformed("attribute flags"))?;
            let (&code, r) = r.split_first().ok_or(Malformed("attribute type"))?;
            let (len, r) = if flags & 0x10 != 0 {
                let (l, r) = r
                    .split_first_chunk::<2>()
                    .ok_or(Malformed("attribute length"))?;
                (usize::from(u16::from_be_bytes(*l)), r)
            } else {
                let (&l, r) = r.split_first().ok_or(Malformed("attribute length"))?;
                (usize::from(l), r)
            };
            let value = r.get(..len).ok_or(Malformed("attribute value"))?;
            a = r.get(len..).ok_or(Malformed("attribute value"))?;
            match code {
                2 => self.read_path(value, &mut route)?,
                3 => {
                    if let Some(b) = value.first_chunk::<4>() {
                        route.next_hop.get_or_insert(IpAddr::from(*b));
                    }
                }
                14 => {
                    let nh_len = usize::from(*value.get(3).ok_or(Malformed("MP_REACH"))?);
                    let nh = value
                        .get(4..4 + nh_len)
                        .ok_or(Malformed("MP_REACH next hop"))?;
                    if let Some(b) = nh.first_chunk::<16>() {
                        route.next_hop = Some(IpAddr::from(*b));
                    } else if let Some(b) = nh.first_chunk::<4>() {
                        route.next_hop = Some(IpAddr::from(*b));
                    }
                    reach = value.get(5 + nh_len..).ok_or(Malformed("MP_REACH NLRI"))?;
                }
                15 => unreach = value.get(3..).ok_or(Malformed("MP_UNREACH"))?,
                _ => {}
            }
        }
        let family = self.family;
        walk_prefixes(unreach, |len, bytes| {
            self.withdraw(index_of(family, len, bytes));
        })?;
        let announced = if v4 { nlri } else { reach };
        walk_prefixes(announced, |len, bytes| {
            self.announce(index_of(family, len, bytes), &route);
        })?;
        Ok(())
    }

    fn read_path(&self, value: &[u8], route: &mut Route) -> Result<(), Malformed> {
        let mut asns = [0u32; 4];
        let mut n = 0usize;
        let mut v = value;
        while !v.is_empty() {
            let (&[_kind, count], r) = v.split_first_chunk::<2>().ok_or(Malformed("AS_PATH"))?;
            let bytes = usize::from(count) * 4;
            let seg = r.get(..bytes).ok_or(Malformed("AS_PATH segment"))?;
            for asn in seg.chunks_exact(4) {
                if let (Some(slot), Some(b)) = (asns.get_mut(n), asn.first_chunk::<4>()) {
                    *slot = u32::from_be_bytes(*b);
                }
                n += 1;
            }
            v = r.get(bytes..).ok_or(Malformed("AS_PATH segment"))?;
        }
        route.path_len = n;
        let skip = usize::from(self.plan.prepend);
        let head_ok = !self.plan.prepend || asns[0] == self.plan.dut_asn;
        if head_ok && n == 2 + skip {
            let (s, g) = (asns[skip], asns[skip + 1]);
            if let (Some(s), Some(g)) = (
                s.checked_sub(SENDER_ASN_BASE),
                g.checked_sub(GROUP_ASN_BASE),
            ) {
                route.origin = Some((s, g));
            }
        }
        Ok(())
    }
}

fn split_len16(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (l, r) = b.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*l));
    Some((r.get(..len)?, r.get(len..)?))
}

/// Calls `f(length, address bytes)` for every prefix of an NLRI field (no path ids).
fn walk_prefixes(mut b: &[u8], mut f: impl FnMut(u8, &[u8])) -> Result<(), Malformed> {
    while let Some((&len, r)) = b.split_first() {
        let n = usize::from(len).div_ceil(8);
        let bytes = r.get(..n).ok_or(Malformed("prefix"))?;
        f(len, bytes);
        b = r.get(n..).ok_or(Malformed("prefix"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encode_sender;
    use crate::scenario::Scenario;
    use bgp_proto::attr::{AsPath, NextHop, Origin, PathAttributes};
    use bgp_proto::nlri::Nlri;
    use bgp_proto::update::pack;
    use bgp_proto::{EncodeCtx, HEADER_LEN, frame_len};
    use bytes::BytesMut;

    fn feed(t: &mut Tally, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let len = frame_len(rest).expect("frame");
            t.update(&rest[HEADER_LEN..len]).expect("well formed");
            rest = &rest[len..];
        }
        t.stamp(Instant::now());
    }

    /// What a route server passes on unchanged is exactly what the sender sent, so the
    /// sender's own bytes fed to a monitor in route-server mode must complete it.
    #[test]
    fn route_server_view_of_the_senders_bytes_is_complete_then_empty() {
        for sc in [Scenario::S5, Scenario::S6] {
            let mut plan = Plan::new(sc, 0.0004, false, 10.0);
            plan.withdraw = true;
            let plan = Arc::new(plan);
            let sender = plan.peers[1].address;
            let enc = encode_sender(&plan, 0, sender).expect("encodes");
            let mut t = Tally::new(plan.clone(), None);
            for piece in &enc.announce {
                assert!(!t.complete());
                feed(&mut t, piece);
            }
            assert!(t.complete(), "{sc}: {:?} {:?}", t.progress(), t.counts);
            assert!(t.complete_at.is_some());
            assert_eq!(t.counts.wrong, 0);
            for piece in &enc.withdraw {
                feed(&mut t, piece);
            }
            assert_eq!(t.progress().present, 0);
            assert!(t.empty_at.is_some());
        }
    }

    #[test]
    fn ebgp_view_needs_the_daemons_as_and_next_hop() {
        let mut plan = Plan::new(Scenario::S1, 0.000_004, true, 10.0);
        plan.strict_next_hop = true;
        let plan = Arc::new(plan);
        let ctx = EncodeCtx::modern();
        let nlri: Vec<Nlri> = (0..4)
            .map(|i| Nlri::new(crate::encode::prefix(Family::V4, i)))
            .collect();
        let send = |path: Vec<u32>, nh: [u8; 4]| {
            let attrs = PathAttributes::new()
                .with_origin(Origin::Igp)
                .with_as_path(AsPath::from_sequence(path));
            let mut out = BytesMut::new();
            pack(
                &ctx,
                &attrs,
                &NextHop::V4(nh.into()),
                bgp_proto::Family::IPV4_UNICAST,
                &nlri,
                &mut out,
            )
            .expect("packs");
            out
        };
        let mut t = Tally::new(plan, None);
        // Without the daemon's AS: wrong.
        feed(&mut t, &send(vec![65100, 200_000], [10, 0, 0, 1]));
        assert!(!t.complete());
        assert_eq!(t.counts.wrong, 4);
        assert_eq!(t.progress().present, 4);
        // Wrong next hop: still wrong.
        feed(&mut t, &send(vec![65000, 65100, 200_000], [10, 0, 0, 3]));
        assert!(!t.complete());
        // Right route replaces the wrong ones.
        feed(&mut t, &send(vec![65000, 65100, 200_000], [10, 0, 0, 1]));
        assert!(t.complete());
        // A longer path for the same prefixes undoes it.
        feed(
            &mut t,
            &send(vec![65000, 65100, 200_000, 200_000], [10, 0, 0, 1]),
        );
        assert!(!t.complete());
        assert_eq!(t.progress().right, 0);
    }
}
