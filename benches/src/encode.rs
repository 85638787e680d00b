//! Pre-encoding a sender's UPDATEs with `bgp_proto::update::pack`, before any session
//! exists, so that a run measures the daemon and not the injector.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_proto::attr::{AsPath, NextHop, Origin, PathAttributes};
use bgp_proto::nlri::{Nlri, Prefix};
use bgp_proto::update::{pack, pack_withdrawals};
use bgp_proto::{EncodeCtx, EncodeError};
use bytes::{Bytes, BytesMut};
use ipnet::{Ipv4Net, Ipv6Net};

use crate::scenario::{BASE_V4, BASE_V6, Family, Mode, PREFIXES_PER_GROUP, Plan, Shape, sent_path};

/// Messages are handed to the socket in pieces of about this size, always ending on a
/// message boundary, so that a KEEPALIVE can go between two pieces.
pub const PIECE: usize = 64 * 1024;

/// A sender's traffic, ready to write.
#[derive(Debug, Clone, Default)]
pub struct Encoded {
    /// The announcements, in pieces of whole messages.
    pub announce: Vec<Bytes>,
    /// The withdrawals of everything announced, in pieces of whole messages.
    pub withdraw: Vec<Bytes>,
    /// UPDATE messages in `announce`.
    pub announce_messages: usize,
    /// UPDATE messages in `withdraw`.
    pub withdraw_messages: usize,
}

/// Prefix number `i` of `family`.
pub fn prefix(family: Family, i: u32) -> Prefix {
    match family {
        Family::V4 => {
            let addr = Ipv4Addr::from(BASE_V4.wrapping_add(i << 8));
            Prefix::V4(Ipv4Net::new_assert(addr, 24))
        }
        Family::V6 => {
            let top = BASE_V6 + u64::from(i);
            let addr = Ipv6Addr::from(u128::from(top) << 80);
            Prefix::V6(Ipv6Net::new_assert(addr, 48))
        }
    }
}

/// The index of a prefix of `family` given its leading bytes as sent (3 for a /24, 6
/// for a /48), or `None` if it is not one of a benchmark's prefixes.
pub fn index_of(family: Family, len: u8, bytes: &[u8]) -> Option<u32> {
    match (family, len) {
        (Family::V4, 24) => {
            let [a, b, c] = *bytes.get(..3)?.first_chunk::<3>()?;
            let v = u32::from_be_bytes([a, b, c, 0]);
            v.checked_sub(BASE_V4).map(|d| d >> 8)
        }
        (Family::V6, 48) => {
            let six = bytes.get(..6)?;
            let mut v: u64 = 0;
            for b in six {
                v = (v << 8) | u64::from(*b);
            }
            u32::try_from(v.checked_sub(BASE_V6)?).ok()
        }
        _ => None,
    }
}

/// A small deterministic generator for the random order of S3 (xorshift64*).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// The groups sender `k` announces, in sending order.
fn groups(plan: &Plan, k: u32) -> Vec<u32> {
    let shape = &plan.shape;
    let per_group = PREFIXES_PER_GROUP;
    match shape.mode {
        Mode::Disjoint => {
            let first = k * shape.per_sender / per_group;
            (first..first + shape.per_sender / per_group).collect()
        }
        Mode::Churn => {
            let mut g: Vec<u32> = (0..shape.per_sender / per_group).collect();
            let mut rng = Rng((plan.seed ^ (u64::from(k) << 32)) | 1);
            rng.shuffle(&mut g);
            g
        }
    }
}

fn next_hop(address: IpAddr) -> NextHop {
    match address {
        IpAddr::V4(a) => NextHop::V4(a),
        IpAddr::V6(a) => NextHop::V6 {
            global: a,
            link_local: None,
        },
    }
}

fn bgp_family(family: Family) -> bgp_proto::Family {
    match family {
        Family::V4 => bgp_proto::Family::IPV4_UNICAST,
        Family::V6 => bgp_proto::Family::IPV6_UNICAST,
    }
}

/// Cuts `buf` into pieces at message boundaries once it holds at least [`PIECE`] bytes.
fn flush(buf: &mut BytesMut, out: &mut Vec<Bytes>, force: bool) {
    if buf.len() >= PIECE || (force && !buf.is_empty()) {
        out.push(buf.split().freeze());
    }
}

/// Encodes what sender `k` (with source `address`) sends: one UPDATE per group of four
/// prefixes, then, if the plan withdraws, packed withdrawals of all of them.
pub fn encode_sender(plan: &Plan, k: u32, address: IpAddr) -> Result<Encoded, EncodeError> {
    let shape: &Shape = &plan.shape;
    let ctx = EncodeCtx::modern();
    let family = bgp_family(shape.family);
    let nh = next_hop(address);
    let mut enc = Encoded::default();
    let mut buf = BytesMut::with_capacity(PIECE + 4096);
    let mut nlri = Vec::with_capacity(PREFIXES_PER_GROUP as usize);
    let order = groups(plan, k);
    for &g in &order {
        let attrs = PathAttributes::new()
            .with_origin(Origin::Igp)
            .with_as_path(AsPath::from_sequence(sent_path(shape, k, g)));
        nlri.clear();
        nlri.extend(
            (g * PREFIXES_PER_GROUP..(g + 1) * PREFIXES_PER_GROUP)
                .map(|i| Nlri::new(prefix(shape.family, i))),
        );
        enc.announce_messages += pack(&ctx, &attrs, &nh, family, &nlri, &mut buf)?;
        flush(&mut buf, &mut enc.announce, false);
    }
    flush(&mut buf, &mut enc.announce, true);
    if plan.withdraw {
        let mut all: Vec<Nlri> = Vec::with_capacity(order.len() * PREFIXES_PER_GROUP as usize);
        for &g in &order {
            all.extend(
                (g * PREFIXES_PER_GROUP..(g + 1) * PREFIXES_PER_GROUP)
                    .map(|i| Nlri::new(prefix(shape.family, i))),
            );
        }
        for chunk in all.chunks(2048) {
            enc.withdraw_messages += pack_withdrawals(&ctx, family, chunk, &mut buf)?;
            flush(&mut buf, &mut enc.withdraw, false);
        }
        flush(&mut buf, &mut enc.withdraw, true);
    }
    Ok(enc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use bgp_proto::{DecodeCtx, HEADER_LEN, Message, frame_len};

    fn messages(pieces: &[Bytes]) -> Vec<Message> {
        let ctx = DecodeCtx::modern();
        let mut out = Vec::new();
        for piece in pieces {
            let mut rest: &[u8] = piece;
            while !rest.is_empty() {
                let len = frame_len(rest).expect("whole messages in every piece");
                assert!(len >= HEADER_LEN);
                out.push(Message::decode(&rest[..len], &ctx).expect("decodes"));
                rest = &rest[len..];
            }
        }
        out
    }

    #[test]
    fn prefixes_round_trip_through_their_index() {
        for family in [Family::V4, Family::V6] {
            for i in [0, 1, 4095, 999_999] {
                let p = prefix(family, i);
                let bytes = match p {
                    Prefix::V4(n) => n.addr().octets().to_vec(),
                    Prefix::V6(n) => n.addr().octets().to_vec(),
                };
                assert_eq!(index_of(family, p.prefix_len(), &bytes), Some(i), "{p}");
            }
        }
        assert_eq!(index_of(Family::V4, 24, &[10, 0, 0]), None);
        assert_eq!(index_of(Family::V4, 25, &[16, 0, 0, 0]), None);
    }

    #[test]
    fn sender_announces_each_of_its_prefixes_once_with_its_path() {
        let plan = Plan::new(Scenario::S5, 0.0004, true, 10.0);
        assert_eq!(plan.shape.prefix_count(), 400);
        let sender = plan.peers[1].clone();
        let enc = encode_sender(&plan, 0, sender.address).expect("encodes");
        assert_eq!(enc.announce_messages, 100);
        let mut seen = vec![0u32; 400];
        for m in messages(&enc.announce) {
            let Message::Update(u) = m else {
                panic!("not an UPDATE")
            };
            let path: Vec<u32> = u.attributes.as_path().expect("AS_PATH").asns().collect();
            assert_eq!(path[0], sender.asn);
            assert_eq!(u.attributes.next_hop(), Some(Ipv4Addr::new(10, 0, 0, 3)));
            for (_, n) in u.announced() {
                let IpAddr::V4(a) = n.prefix.addr() else {
                    panic!("v4")
                };
                let i = index_of(Family::V4, 24, &a.octets()).expect("ours");
                assert_eq!(path[1], crate::scenario::GROUP_ASN_BASE + i / 4);
                seen[i as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
        let withdrawn: usize = messages(&enc.withdraw)
            .iter()
            .map(|m| match m {
                Message::Update(u) => u.withdrawals().count(),
                _ => 0,
            })
            .sum();
        assert_eq!(withdrawn, 400);
    }

    #[test]
    fn churn_order_is_shuffled_but_complete() {
        let plan = Plan::new(Scenario::S3, 0.001, true, 10.0);
        let a = groups(&plan, 0);
        let b = groups(&plan, 1);
        assert_ne!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..250).collect::<Vec<_>>());
    }
}
