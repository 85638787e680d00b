//! Network Layer Reachability Information: IP prefixes, with and without the ADD-PATH path
//! identifier (RFC 4271 section 4.3, RFC 4760 section 5, RFC 7911 section 3).
//!
//! ```text
//! +---------------------------+
//! |   Path Identifier (4)     |   only when ADD-PATH is negotiated for the family
//! +---------------------------+
//! |   Length (1 octet)        |   prefix length in bits
//! +---------------------------+
//! |   Prefix (variable)       |   ceil(Length / 8) octets
//! +---------------------------+
//! ```
//!
//! # The prefix type
//!
//! [`Prefix`] is [`ipnet::IpNet`]: 18 bytes, `Copy`, alignment 1, with `Ord`, `Hash`,
//! `Display`/`FromStr` and containment tests that the daemon needs anyway. A RIB that holds
//! only one family can store the 5-byte [`ipnet::Ipv4Net`] (or 17-byte
//! [`ipnet::Ipv6Net`]) and convert at the edge; a hand-rolled type would save nothing over
//! those and would lose the ecosystem.
//!
//! # Trailing bits
//!
//! RFC 4271 lets the bits after the prefix length in the last octet be anything. The
//! decoder keeps them (the address of the decoded prefix holds the octets as sent, and the
//! octets after them are zero), so that re-encoding is byte-exact. A RIB that keys on
//! prefixes should store [`IpNet::trunc`] of the prefix; the encoder writes
//! `ceil(len / 8)` octets of the address as they are.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::ctx::Afi;

/// An IP prefix; see the module documentation for why this is [`ipnet::IpNet`].
pub type Prefix = IpNet;

/// One NLRI entry: a prefix and, when ADD-PATH is negotiated for its family, the path
/// identifier (RFC 7911).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nlri {
    /// ADD-PATH path identifier; `None` on sessions without ADD-PATH for the family.
    pub path_id: Option<u32>,
    /// The prefix.
    pub prefix: Prefix,
}

/// A malformed NLRI field.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NlriError {
    /// A prefix length above 32 (IPv4) or 128 (IPv6).
    #[error("prefix length {len} exceeds {max} at byte {offset}")]
    PrefixTooLong {
        /// The length read.
        len: u8,
        /// The family's maximum.
        max: u8,
        /// Offset of the length octet from the start of the field.
        offset: usize,
    },
    /// The field ends inside a path identifier, length octet or prefix.
    #[error("NLRI truncated at byte {offset}")]
    Truncated {
        /// Offset of the incomplete entry from the start of the field.
        offset: usize,
    },
    /// The family is not IPv4 or IPv6.
    #[error("AFI {0} has no IP prefixes")]
    NotIp(u16),
}

impl NlriError {
    /// Offset from the start of the NLRI field where the problem was found.
    pub fn offset(&self) -> usize {
        match *self {
            NlriError::PrefixTooLong { offset, .. } | NlriError::Truncated { offset } => offset,
            NlriError::NotIp(_) => 0,
        }
    }
}

impl Nlri {
    /// An NLRI without a path identifier.
    pub fn new(prefix: Prefix) -> Self {
        Nlri {
            path_id: None,
            prefix,
        }
    }

    /// An NLRI with an ADD-PATH path identifier.
    pub fn with_path_id(prefix: Prefix, path_id: u32) -> Self {
        Nlri {
            path_id: Some(path_id),
            prefix,
        }
    }

    /// Bytes this entry takes on the wire: path identifier (when `add_path`), length octet
    /// and `ceil(len / 8)` prefix octets.
    #[inline]
    pub fn encoded_len(&self, add_path: bool) -> usize {
        let id = if add_path { 4 } else { 0 };
        id + 1 + prefix_bytes(self.prefix.prefix_len())
    }

    /// Appends the entry. With `add_path` a missing path identifier is written as 0;
    /// without it the identifier is left out.
    #[inline]
    pub fn encode(&self, add_path: bool, out: &mut BytesMut) {
        if add_path {
            out.put_u32(self.path_id.unwrap_or(0));
        }
        let len = self.prefix.prefix_len();
        out.put_u8(len);
        let n = prefix_bytes(len);
        match self.prefix {
            IpNet::V4(p) => out.put_slice(p.addr().octets().get(..n).unwrap_or_default()),
            IpNet::V6(p) => out.put_slice(p.addr().octets().get(..n).unwrap_or_default()),
        }
    }

    /// Decodes a whole NLRI field of IPv4 (`Afi::IPV4`) or IPv6 (`Afi::IPV6`) prefixes.
    pub fn decode_all(buf: &[u8], afi: Afi, add_path: bool) -> Result<Vec<Nlri>, NlriError> {
        let mut out = Vec::new();
        decode_into(buf, afi, add_path, &mut out)?;
        Ok(out)
    }
}

impl From<Prefix> for Nlri {
    fn from(prefix: Prefix) -> Self {
        Nlri::new(prefix)
    }
}

#[inline]
fn prefix_bytes(len: u8) -> usize {
    usize::from(len).div_ceil(8)
}

/// Decodes the NLRI entries in `buf`, appending them to `out`.
pub(crate) fn decode_into(
    buf: &[u8],
    afi: Afi,
    add_path: bool,
    out: &mut Vec<Nlri>,
) -> Result<(), NlriError> {
    let v6 = match afi {
        Afi::IPV4 => false,
        Afi::IPV6 => true,
        Afi(other) => return Err(NlriError::NotIp(other)),
    };
    // Smallest entry: a length octet (plus the path id); most IPv4 routes take 4 bytes.
    out.reserve(buf.len() / if add_path { 8 } else { 4 });
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let path_id = if add_path {
            let id = buf
                .get(pos..pos + 4)
                .ok_or(NlriError::Truncated { offset: start })?;
            pos += 4;
            Some(u32::from_be_bytes([id[0], id[1], id[2], id[3]]))
        } else {
            None
        };
        let len = *buf.get(pos).ok_or(NlriError::Truncated { offset: start })?;
        let max = if v6 { 128 } else { 32 };
        if len > max {
            return Err(NlriError::PrefixTooLong {
                len,
                max,
                offset: pos,
            });
        }
        let n = prefix_bytes(len);
        let bytes = buf
            .get(pos + 1..pos + 1 + n)
            .ok_or(NlriError::Truncated { offset: start })?;
        pos += 1 + n;
        let prefix = if v6 {
            let mut a = [0u8; 16];
            // n <= 16 because len <= 128 was checked above.
            a[..n].copy_from_slice(bytes);
            Ipv6Net::new(Ipv6Addr::from(a), len).map(IpNet::V6)
        } else {
            let mut a = [0u8; 4];
            // n <= 4 because len <= 32 was checked above.
            a[..n].copy_from_slice(bytes);
            Ipv4Net::new(Ipv4Addr::from(a), len).map(IpNet::V4)
        }
        .map_err(|_| NlriError::PrefixTooLong {
            len,
            max,
            offset: start,
        })?;
        out.push(Nlri { path_id, prefix });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_prefixes_use_only_the_needed_octets() {
        let buf = [24, 10, 1, 2, 0, 32, 192, 0, 2, 1, 9, 10, 128];
        let got = Nlri::decode_all(&buf, Afi::IPV4, false).unwrap();
        assert_eq!(
            got,
            vec![
                Nlri::new(p("10.1.2.0/24")),
                Nlri::new(p("0.0.0.0/0")),
                Nlri::new(p("192.0.2.1/32")),
                Nlri::new(p("10.128.0.0/9")),
            ]
        );
        let mut out = BytesMut::new();
        for n in &got {
            n.encode(false, &mut out);
        }
        assert_eq!(&out[..], &buf[..]);
    }

    #[test]
    fn trailing_bits_survive_a_round_trip() {
        // 10.255/9: the low seven bits of the second octet are not part of the prefix.
        let buf = [9, 10, 255];
        let got = Nlri::decode_all(&buf, Afi::IPV4, false).unwrap();
        assert_eq!(got[0].prefix.to_string(), "10.255.0.0/9");
        assert_eq!(got[0].prefix.trunc().to_string(), "10.128.0.0/9");
        let mut out = BytesMut::new();
        got[0].encode(false, &mut out);
        assert_eq!(&out[..], &buf[..]);
    }

    #[test]
    fn add_path_ids_precede_each_prefix() {
        let buf = [0, 0, 0, 7, 16, 10, 1, 0, 0, 0, 9, 0];
        let got = Nlri::decode_all(&buf, Afi::IPV4, true).unwrap();
        assert_eq!(
            got,
            vec![
                Nlri::with_path_id(p("10.1.0.0/16"), 7),
                Nlri::with_path_id(p("0.0.0.0/0"), 9)
            ]
        );
        assert_eq!(got[0].encoded_len(true), 7);
    }

    #[test]
    fn ipv6_prefixes_decode() {
        let buf = [
            64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 1,
        ];
        let got = Nlri::decode_all(&buf, Afi::IPV6, false).unwrap();
        assert_eq!(
            got,
            vec![Nlri::new(p("2001:db8:1:2::/64")), Nlri::new(p("::1/128"))]
        );
    }

    #[test]
    fn overlong_and_truncated_prefixes_are_errors() {
        assert_eq!(
            Nlri::decode_all(&[33, 1, 2, 3, 4, 5], Afi::IPV4, false),
            Err(NlriError::PrefixTooLong {
                len: 33,
                max: 32,
                offset: 0
            })
        );
        assert_eq!(
            Nlri::decode_all(&[8, 1, 129], Afi::IPV6, false),
            Err(NlriError::PrefixTooLong {
                len: 129,
                max: 128,
                offset: 2
            })
        );
        assert_eq!(
            Nlri::decode_all(&[8, 1, 24, 10, 0], Afi::IPV4, false),
            Err(NlriError::Truncated { offset: 2 })
        );
        assert_eq!(
            Nlri::decode_all(&[0, 0, 1], Afi::IPV4, true),
            Err(NlriError::Truncated { offset: 0 })
        );
        assert_eq!(
            Nlri::decode_all(&[0], Afi(25), false),
            Err(NlriError::NotIp(25))
        );
    }
}
