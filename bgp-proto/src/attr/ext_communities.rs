//! EXTENDED_COMMUNITIES (type code 16, optional transitive; RFC 4360, RFC 5668).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type high    |  Type low     |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+          Value                |  x N
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Each community is kept as its 8 raw octets; typed helpers read and build the route
//! target and route origin forms with a 2-octet AS (type 0x00), IPv4 address (0x01) or
//! 4-octet AS (0x02) global administrator.
//!
//! Malformed (length not a non-zero multiple of 8): treat-as-withdraw (RFC 7606 7.14).

use std::fmt;
use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::attr::error::AttrErrorKind;

/// One extended community, as its 8 octets.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExtCommunity(pub [u8; 8]);

/// The global and local administrator of the AS- and address-specific forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtAdmin {
    /// Two-octet AS specific (type 0x00): AS and a 4-octet local value.
    As2 {
        /// Global administrator.
        asn: u16,
        /// Local administrator.
        local: u32,
    },
    /// IPv4 address specific (type 0x01): address and a 2-octet local value.
    Ipv4 {
        /// Global administrator.
        address: Ipv4Addr,
        /// Local administrator.
        local: u16,
    },
    /// Four-octet AS specific (type 0x02, RFC 5668): AS and a 2-octet local value.
    As4 {
        /// Global administrator.
        asn: u32,
        /// Local administrator.
        local: u16,
    },
}

impl ExtCommunity {
    /// Sub-type of a route target.
    pub const SUBTYPE_ROUTE_TARGET: u8 = 0x02;
    /// Sub-type of a route origin.
    pub const SUBTYPE_ROUTE_ORIGIN: u8 = 0x03;

    /// The high type octet.
    pub fn type_high(self) -> u8 {
        self.0[0]
    }

    /// The low type octet (sub-type) of the extended types.
    pub fn subtype(self) -> u8 {
        self.0[1]
    }

    /// Whether the community may leave the AS (the Transitive bit, 0x40, is clear).
    pub fn is_transitive(self) -> bool {
        self.0[0] & 0x40 == 0
    }

    /// A transitive community of `subtype` with the given administrators.
    pub fn with_admin(subtype: u8, admin: ExtAdmin) -> Self {
        let mut b = [0u8; 8];
        b[1] = subtype;
        match admin {
            ExtAdmin::As2 { asn, local } => {
                b[0] = 0x00;
                b[2..4].copy_from_slice(&asn.to_be_bytes());
                b[4..8].copy_from_slice(&local.to_be_bytes());
            }
            ExtAdmin::Ipv4 { address, local } => {
                b[0] = 0x01;
                b[2..6].copy_from_slice(&address.octets());
                b[6..8].copy_from_slice(&local.to_be_bytes());
            }
            ExtAdmin::As4 { asn, local } => {
                b[0] = 0x02;
                b[2..6].copy_from_slice(&asn.to_be_bytes());
                b[6..8].copy_from_slice(&local.to_be_bytes());
            }
        }
        ExtCommunity(b)
    }

    /// A route target.
    pub fn route_target(admin: ExtAdmin) -> Self {
        ExtCommunity::with_admin(Self::SUBTYPE_ROUTE_TARGET, admin)
    }

    /// A route origin (site of origin).
    pub fn route_origin(admin: ExtAdmin) -> Self {
        ExtCommunity::with_admin(Self::SUBTYPE_ROUTE_ORIGIN, admin)
    }

    /// The administrators of a (transitive or not) AS- or IPv4-specific community.
    pub fn admin(self) -> Option<ExtAdmin> {
        let b = self.0;
        Some(match b[0] & !0x40 {
            0x00 => ExtAdmin::As2 {
                asn: u16::from_be_bytes([b[2], b[3]]),
                local: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            },
            0x01 => ExtAdmin::Ipv4 {
                address: Ipv4Addr::new(b[2], b[3], b[4], b[5]),
                local: u16::from_be_bytes([b[6], b[7]]),
            },
            0x02 => ExtAdmin::As4 {
                asn: u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                local: u16::from_be_bytes([b[6], b[7]]),
            },
            _ => return None,
        })
    }

    /// The administrators if this is a transitive route target.
    pub fn as_route_target(self) -> Option<ExtAdmin> {
        (self.is_transitive() && self.subtype() == Self::SUBTYPE_ROUTE_TARGET)
            .then(|| self.admin())
            .flatten()
    }

    /// The administrators if this is a transitive route origin.
    pub fn as_route_origin(self) -> Option<ExtAdmin> {
        (self.is_transitive() && self.subtype() == Self::SUBTYPE_ROUTE_ORIGIN)
            .then(|| self.admin())
            .flatten()
    }
}

impl fmt::Display for ExtAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtAdmin::As2 { asn, local } => write!(f, "{asn}:{local}"),
            ExtAdmin::Ipv4 { address, local } => write!(f, "{address}:{local}"),
            ExtAdmin::As4 { asn, local } => write!(f, "{asn}:{local}"),
        }
    }
}

impl fmt::Display for ExtCommunity {
    /// `rt:65000:100`, `ro:192.0.2.1:7`, or the 8 octets in hex for other types.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.as_route_target() {
            return write!(f, "rt:{a}");
        }
        if let Some(a) = self.as_route_origin() {
            return write!(f, "ro:{a}");
        }
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ExtCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtCommunity({self})")
    }
}

/// The EXTENDED_COMMUNITIES value, in the order received.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ExtCommunities(Bytes);

impl ExtCommunities {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        Self(Bytes::copy_from_slice(&self.0))
    }
    /// A list from communities in order.
    pub fn new(communities: impl IntoIterator<Item = ExtCommunity>) -> Self {
        let mut out = BytesMut::new();
        for c in communities {
            out.put_slice(&c.0);
        }
        ExtCommunities(out.freeze())
    }

    /// The communities, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ExtCommunity> + '_ {
        self.0.chunks_exact(8).map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            ExtCommunity(b)
        })
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len() / 8
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `community` is in the list.
    pub fn contains(&self, community: ExtCommunity) -> bool {
        self.iter().any(|c| c == community)
    }

    /// The wire value.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn decode(value: Bytes) -> Result<Self, AttrErrorKind> {
        if value.is_empty() || !value.len().is_multiple_of(8) {
            return Err(AttrErrorKind::Length(value.len()));
        }
        Ok(ExtCommunities(value))
    }
}

impl FromIterator<ExtCommunity> for ExtCommunities {
    fn from_iter<I: IntoIterator<Item = ExtCommunity>>(iter: I) -> Self {
        ExtCommunities::new(iter)
    }
}

impl fmt::Debug for ExtCommunities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_targets_of_all_three_forms_round_trip() {
        let rt2 = ExtCommunity::route_target(ExtAdmin::As2 {
            asn: 65000,
            local: 100,
        });
        assert_eq!(rt2.0, [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100]);
        assert_eq!(rt2.to_string(), "rt:65000:100");
        let ro4 = ExtCommunity::route_origin(ExtAdmin::Ipv4 {
            address: Ipv4Addr::new(192, 0, 2, 1),
            local: 7,
        });
        assert_eq!(ro4.0, [0x01, 0x03, 192, 0, 2, 1, 0, 7]);
        assert_eq!(ro4.to_string(), "ro:192.0.2.1:7");
        let rt4 = ExtCommunity::route_target(ExtAdmin::As4 {
            asn: 4_200_000_000,
            local: 1,
        });
        assert_eq!(rt4.0, [0x02, 0x02, 0xfa, 0x56, 0xea, 0x00, 0, 1]);
        assert_eq!(
            rt4.as_route_target(),
            Some(ExtAdmin::As4 {
                asn: 4_200_000_000,
                local: 1
            })
        );
        assert_eq!(rt4.as_route_origin(), None);
    }

    #[test]
    fn non_transitive_and_unknown_types_are_not_route_targets() {
        let nt = ExtCommunity([0x40, 0x02, 0, 1, 0, 0, 0, 1]);
        assert!(!nt.is_transitive());
        assert_eq!(nt.as_route_target(), None);
        assert_eq!(nt.admin(), Some(ExtAdmin::As2 { asn: 1, local: 1 }));
        let other = ExtCommunity([0x03, 0x0c, 0, 0, 0, 0, 0, 8]);
        assert_eq!(other.to_string(), "030c000000000008");
    }
}
