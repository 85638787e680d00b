//! The Extended Next Hop Encoding capability (RFC 8950 section 3).

use bytes::{BufMut, BytesMut};

use crate::ctx::{Afi, Family, Safi};

/// One tuple of an Extended Next Hop Encoding capability: NLRI of this AFI/SAFI may carry
/// a next hop of `next_hop_afi`.
///
/// ```text
/// +-----------------------------------------------------+
/// | NLRI AFI - 1 (2 octets)                             |
/// +-----------------------------------------------------+
/// | NLRI SAFI - 1 (2 octets)                            |
/// +-----------------------------------------------------+
/// | Nexthop AFI - 1 (2 octets)                          |
/// +-----------------------------------------------------+
/// | ....                                                |
/// +-----------------------------------------------------+
/// ```
///
/// The SAFI is 16 bits here, unlike everywhere else; [`ExtendedNextHopEntry::family`]
/// gives the usual pair when it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedNextHopEntry {
    /// AFI of the NLRI.
    pub nlri_afi: Afi,
    /// SAFI of the NLRI, as the 16-bit field on the wire.
    pub nlri_safi: u16,
    /// AFI of the next hop that NLRI may carry.
    pub next_hop_afi: Afi,
}

impl ExtendedNextHopEntry {
    /// IPv4 NLRI of `safi` with an IPv6 next hop, the case RFC 8950 exists for.
    pub fn ipv4_over_ipv6(safi: Safi) -> Self {
        ExtendedNextHopEntry {
            nlri_afi: Afi::IPV4,
            nlri_safi: u16::from(safi.0),
            next_hop_afi: Afi::IPV6,
        }
    }

    /// The NLRI family, or `None` if the SAFI does not fit the usual 8 bits.
    pub fn family(&self) -> Option<Family> {
        let safi = u8::try_from(self.nlri_safi).ok()?;
        Some(Family::new(self.nlri_afi, Safi(safi)))
    }

    pub(super) fn decode_all(value: &[u8]) -> Result<Vec<Self>, &'static str> {
        let (tuples, rest) = value.as_chunks::<6>();
        if !rest.is_empty() {
            return Err("tuples are not 6 bytes each");
        }
        Ok(tuples
            .iter()
            .map(|&[a0, a1, s0, s1, n0, n1]| ExtendedNextHopEntry {
                nlri_afi: Afi(u16::from_be_bytes([a0, a1])),
                nlri_safi: u16::from_be_bytes([s0, s1]),
                next_hop_afi: Afi(u16::from_be_bytes([n0, n1])),
            })
            .collect())
    }

    pub(super) fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.nlri_afi.0);
        out.put_u16(self.nlri_safi);
        out.put_u16(self.next_hop_afi.0);
    }
}
