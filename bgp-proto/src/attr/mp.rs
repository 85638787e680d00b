//! MP_REACH_NLRI (type code 14) and MP_UNREACH_NLRI (15), both optional non-transitive
//! (RFC 4760 sections 3 and 4; next hops of RFC 2545 and RFC 8950).
//!
//! ```text
//! MP_REACH_NLRI                              MP_UNREACH_NLRI
//! +-------------------------------------+    +-------------------------------------+
//! | AFI (2 octets)                      |    | AFI (2 octets)                      |
//! +-------------------------------------+    +-------------------------------------+
//! | SAFI (1 octet)                      |    | SAFI (1 octet)                      |
//! +-------------------------------------+    +-------------------------------------+
//! | Length of Next Hop Address (1)      |    | Withdrawn Routes (variable)         |
//! +-------------------------------------+    +-------------------------------------+
//! | Network Address of Next Hop (var.)  |
//! +-------------------------------------+
//! | Reserved (1 octet)                  |
//! +-------------------------------------+
//! | NLRI (variable)                     |
//! +-------------------------------------+
//! ```
//!
//! IPv4 and IPv6 unicast are decoded: the next hop is 4 octets (IPv4 NLRI), 16 (global
//! IPv6) or 32 (global and link-local IPv6); IPv4 NLRI take an IPv6 next hop only when
//! the session negotiated it (RFC 8950). Every other family keeps its next hop and NLRI
//! as raw bytes. The reserved octet is written as zero (RFC 4760: ignored on receipt).
//!
//! Errors: a next hop length that does not fit the family, NLRI that do not parse, or an
//! attribute shorter than its fixed fields reset the session, since the routes cannot be
//! found to treat them as withdrawn (RFC 7606 7.11 and 5.3). The codec has no "AFI/SAFI
//! disable"; the error names the family so that a daemon could choose it instead.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, Bytes, BytesMut};
use ipnet::IpNet;

use crate::attr::error::AttrErrorKind;
use crate::ctx::{Afi, DecodeCtx, EncodeCtx, Family, Safi};
use crate::error::EncodeError;
use crate::nlri::{self, Nlri};

/// A next hop as carried in MP_REACH_NLRI (and, for IPv4, in NEXT_HOP).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// An IPv4 next hop (4 octets).
    V4(Ipv4Addr),
    /// An IPv6 next hop: global (16 octets) and optionally link-local (32 in all).
    V6 {
        /// Global address.
        global: Ipv6Addr,
        /// Link-local address, sent to peers on a shared link (RFC 2545).
        link_local: Option<Ipv6Addr>,
    },
    /// The next hop of a family this crate does not decode, as received.
    Opaque(Bytes),
}

impl NextHop {
    /// Length of the next hop field.
    pub fn encoded_len(&self) -> usize {
        match self {
            NextHop::V4(_) => 4,
            NextHop::V6 {
                link_local: None, ..
            } => 16,
            NextHop::V6 {
                link_local: Some(_),
                ..
            } => 32,
            NextHop::Opaque(b) => b.len(),
        }
    }

    /// Appends the next hop field (without its length octet).
    pub(crate) fn encode(&self, out: &mut BytesMut) {
        match self {
            NextHop::V4(a) => out.put_slice(&a.octets()),
            NextHop::V6 { global, link_local } => {
                out.put_slice(&global.octets());
                if let Some(ll) = link_local {
                    out.put_slice(&ll.octets());
                }
            }
            NextHop::Opaque(b) => out.put_slice(b),
        }
    }

    /// Checks that this next hop may go with `family` on the session.
    pub(crate) fn check(&self, family: Family, ctx: &EncodeCtx) -> Result<(), EncodeError> {
        let ok = match (self, family) {
            (NextHop::V4(_), Family::IPV4_UNICAST) => true,
            (NextHop::V6 { .. }, Family::IPV6_UNICAST) => true,
            (NextHop::V6 { .. }, Family::IPV4_UNICAST) => ctx.extended_next_hop(family),
            (NextHop::Opaque(b), f) => !f.is_unicast_ip() && b.len() <= 255,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(EncodeError::Invalid {
                field: "MP_REACH_NLRI next hop",
                reason: "next hop does not fit the family (an IPv6 next hop for IPv4 needs \
                         the extended next hop capability)",
            })
        }
    }
}

/// The NLRI of an MP attribute: prefixes for IPv4/IPv6 unicast, raw bytes otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MpNlri {
    /// Decoded prefixes (IPv4 or IPv6 unicast).
    Prefixes(Vec<Nlri>),
    /// The NLRI field of another family, as received.
    Opaque(Bytes),
}

impl MpNlri {
    fn detached(&self) -> Self {
        match self {
            MpNlri::Prefixes(p) => MpNlri::Prefixes(p.clone()),
            MpNlri::Opaque(b) => MpNlri::Opaque(Bytes::copy_from_slice(b)),
        }
    }

    /// True when the field is empty.
    pub fn is_empty(&self) -> bool {
        match self {
            MpNlri::Prefixes(p) => p.is_empty(),
            MpNlri::Opaque(b) => b.is_empty(),
        }
    }

    /// The decoded prefixes; empty for other families.
    pub fn prefixes(&self) -> &[Nlri] {
        match self {
            MpNlri::Prefixes(p) => p,
            MpNlri::Opaque(_) => &[],
        }
    }

    fn decode(
        value: &Bytes,
        at: usize,
        family: Family,
        add_path: bool,
    ) -> Result<MpNlri, AttrErrorKind> {
        let raw = value.get(at..).ok_or(AttrErrorKind::MpTruncated)?;
        if !family.is_unicast_ip() {
            return Ok(MpNlri::Opaque(value.slice(at..)));
        }
        let mut out = Vec::new();
        nlri::decode_into(raw, family.afi, add_path, &mut out)
            .map_err(|error| AttrErrorKind::MpNlri { family, error })?;
        Ok(MpNlri::Prefixes(out))
    }

    fn encoded_len(&self, add_path: bool) -> usize {
        match self {
            MpNlri::Prefixes(p) => p.iter().map(|n| n.encoded_len(add_path)).sum(),
            MpNlri::Opaque(b) => b.len(),
        }
    }

    fn check(&self, family: Family) -> Result<(), EncodeError> {
        let ok = match self {
            MpNlri::Opaque(_) => !family.is_unicast_ip(),
            MpNlri::Prefixes(p) => {
                family.is_unicast_ip() && p.iter().all(|n| prefix_fits(n.prefix, family.afi))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(EncodeError::Invalid {
                field: "MP NLRI",
                reason: "prefixes must be of the attribute's family, and only IPv4/IPv6 \
                         unicast carry decoded prefixes",
            })
        }
    }

    fn encode(&self, add_path: bool, out: &mut BytesMut) {
        match self {
            MpNlri::Prefixes(p) => {
                for n in p {
                    n.encode(add_path, out);
                }
            }
            MpNlri::Opaque(b) => out.put_slice(b),
        }
    }
}

/// Whether `prefix` belongs to `afi`.
pub(crate) fn prefix_fits(prefix: IpNet, afi: Afi) -> bool {
    matches!(
        (prefix, afi),
        (IpNet::V4(_), Afi::IPV4) | (IpNet::V6(_), Afi::IPV6)
    )
}

/// MP_REACH_NLRI: routes of one family with their next hop.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReach {
    /// The family of the NLRI.
    pub family: Family,
    /// The next hop.
    pub next_hop: NextHop,
    /// The announced routes.
    pub nlri: MpNlri,
}

/// MP_UNREACH_NLRI: withdrawn routes of one family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    /// The family of the NLRI.
    pub family: Family,
    /// The withdrawn routes.
    pub withdrawn: MpNlri,
}

fn family_at(value: &[u8]) -> Result<Family, AttrErrorKind> {
    match *value {
        [a, b, s, ..] => Ok(Family::new(Afi(u16::from_be_bytes([a, b])), Safi(s))),
        _ => Err(AttrErrorKind::MpTruncated),
    }
}

impl MpReach {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        let next_hop = match &self.next_hop {
            NextHop::Opaque(b) => NextHop::Opaque(Bytes::copy_from_slice(b)),
            other => other.clone(),
        };
        MpReach {
            family: self.family,
            next_hop,
            nlri: self.nlri.detached(),
        }
    }

    pub(crate) fn decode(value: &Bytes, ctx: &DecodeCtx) -> Result<Self, AttrErrorKind> {
        let family = family_at(value)?;
        let nh_len = *value.get(3).ok_or(AttrErrorKind::MpTruncated)?;
        let nh_end = 4 + usize::from(nh_len);
        // The next hop and the reserved octet must fit.
        let nh = value.get(4..nh_end).ok_or(AttrErrorKind::MpTruncated)?;
        value.get(nh_end).ok_or(AttrErrorKind::MpTruncated)?;
        let next_hop = if family.is_unicast_ip() {
            let v6 = |nh: &[u8]| {
                let mut g = [0u8; 16];
                g.copy_from_slice(nh.get(..16)?);
                let ll = match nh.get(16..32) {
                    Some(l) => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(l);
                        Some(Ipv6Addr::from(a))
                    }
                    None => None,
                };
                Some(NextHop::V6 {
                    global: Ipv6Addr::from(g),
                    link_local: ll,
                })
            };
            match (family.afi, nh_len) {
                (Afi::IPV4, 4) => crate::attr::scalar::decode_ipv4(nh).map(NextHop::V4).ok(),
                (Afi::IPV4, 16 | 32) if ctx.extended_next_hop(family) => v6(nh),
                (Afi::IPV6, 16 | 32) => v6(nh),
                _ => None,
            }
            .ok_or(AttrErrorKind::MpNextHopLength {
                family,
                len: nh_len,
            })?
        } else {
            NextHop::Opaque(value.slice(4..nh_end))
        };
        let nlri = MpNlri::decode(value, nh_end + 1, family, ctx.add_path(family))?;
        Ok(MpReach {
            family,
            next_hop,
            nlri,
        })
    }

    pub(crate) fn encoded_len(&self, ctx: &EncodeCtx) -> usize {
        5 + self.next_hop.encoded_len() + self.nlri.encoded_len(ctx.add_path(self.family))
    }

    pub(crate) fn encode(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.next_hop.check(self.family, ctx)?;
        self.nlri.check(self.family)?;
        out.put_u16(self.family.afi.0);
        out.put_u8(self.family.safi.0);
        // check() bounds the next hop to 255 octets.
        out.put_u8(u8::try_from(self.next_hop.encoded_len()).unwrap_or(u8::MAX));
        self.next_hop.encode(out);
        out.put_u8(0);
        self.nlri.encode(ctx.add_path(self.family), out);
        Ok(())
    }
}

impl MpUnreach {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        MpUnreach {
            family: self.family,
            withdrawn: self.withdrawn.detached(),
        }
    }

    pub(crate) fn decode(value: &Bytes, ctx: &DecodeCtx) -> Result<Self, AttrErrorKind> {
        let family = family_at(value)?;
        let withdrawn = MpNlri::decode(value, 3, family, ctx.add_path(family))?;
        Ok(MpUnreach { family, withdrawn })
    }

    pub(crate) fn encoded_len(&self, ctx: &EncodeCtx) -> usize {
        3 + self.withdrawn.encoded_len(ctx.add_path(self.family))
    }

    pub(crate) fn encode(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.withdrawn.check(self.family)?;
        out.put_u16(self.family.afi.0);
        out.put_u8(self.family.safi.0);
        self.withdrawn.encode(ctx.add_path(self.family), out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_next_hop_with_and_without_link_local() {
        let ctx = DecodeCtx::default();
        let mut v = vec![0, 2, 1, 16];
        v.extend_from_slice(&v6("2001:db8::1").octets());
        v.extend_from_slice(&[0, 32, 0x20, 0x01, 0x0d, 0xb8]);
        let r = MpReach::decode(&Bytes::from(v), &ctx).unwrap();
        assert_eq!(
            r.next_hop,
            NextHop::V6 {
                global: v6("2001:db8::1"),
                link_local: None
            }
        );
        assert_eq!(r.nlri.prefixes()[0].prefix.to_string(), "2001:db8::/32");

        let mut v = vec![0, 2, 1, 32];
        v.extend_from_slice(&v6("2001:db8::1").octets());
        v.extend_from_slice(&v6("fe80::1").octets());
        v.push(0);
        let r = MpReach::decode(&Bytes::from(v), &ctx).unwrap();
        assert_eq!(
            r.next_hop,
            NextHop::V6 {
                global: v6("2001:db8::1"),
                link_local: Some(v6("fe80::1"))
            }
        );
        assert!(r.nlri.is_empty());
    }

    #[test]
    fn ipv4_nlri_take_an_ipv6_next_hop_only_when_negotiated() {
        let mut v = vec![0, 1, 1, 16];
        v.extend_from_slice(&v6("2001:db8::1").octets());
        v.extend_from_slice(&[0, 8, 10]);
        let v = Bytes::from(v);
        assert_eq!(
            MpReach::decode(&v, &DecodeCtx::default()),
            Err(AttrErrorKind::MpNextHopLength {
                family: Family::IPV4_UNICAST,
                len: 16
            })
        );
        let ctx = DecodeCtx {
            extended_next_hop: vec![Family::IPV4_UNICAST],
            ..DecodeCtx::default()
        };
        let r = MpReach::decode(&v, &ctx).unwrap();
        assert_eq!(r.nlri.prefixes()[0].prefix.to_string(), "10.0.0.0/8");
    }

    #[test]
    fn other_families_stay_opaque() {
        // L3VPN IPv4 (AFI 1, SAFI 128): 12-octet next hop (RD + address), labelled NLRI.
        let v = Bytes::from_static(&[
            0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1, 0, 0xaa, 0xbb,
        ]);
        let r = MpReach::decode(&v, &DecodeCtx::default()).unwrap();
        assert_eq!(r.family, Family::new(Afi::IPV4, Safi(128)));
        assert_eq!(r.next_hop, NextHop::Opaque(v.slice(4..16)));
        assert_eq!(r.nlri, MpNlri::Opaque(v.slice(17..)));
        let mut out = BytesMut::new();
        r.encode(&EncodeCtx::default(), &mut out).unwrap();
        assert_eq!(&out[..], &v[..]);
    }

    #[test]
    fn truncated_attributes_are_errors() {
        let ctx = DecodeCtx::default();
        for bad in [&[0u8, 2][..], &[0, 2, 1], &[0, 2, 1, 16, 0], &[0, 2, 1, 0]] {
            assert!(
                MpReach::decode(&Bytes::copy_from_slice(bad), &ctx).is_err(),
                "{bad:?}"
            );
        }
        assert!(MpUnreach::decode(&Bytes::from_static(&[0, 2]), &ctx).is_err());
        let u = MpUnreach::decode(&Bytes::from_static(&[0, 2, 1]), &ctx).unwrap();
        assert!(u.withdrawn.is_empty());
    }
}
