//! Aggregation: ATOMIC_AGGREGATE (type code 6, well-known discretionary; RFC 4271
//! 5.1.6), AGGREGATOR (7, optional transitive; RFC 4271 5.1.7) and AS4_AGGREGATOR (18,
//! optional transitive; RFC 6793).
//!
//! ATOMIC_AGGREGATE has an empty value. AGGREGATOR and AS4_AGGREGATOR:
//!
//! ```text
//! +---------------------------------+----------------------------+
//! | AS number (2 octets, or 4 with  | IPv4 address of the        |
//! | 4-octet AS; AS4_AGGREGATOR: 4)  | aggregating speaker (4)    |
//! +---------------------------------+----------------------------+
//! ```
//!
//! Malformed (ATOMIC_AGGREGATE length not 0, AGGREGATOR length not 6 or 8 as the session
//! says, AS4_AGGREGATOR length not 8): attribute discard (RFC 7606 7.6, 7.7; RFC 6793 6).

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

use crate::attr::as_path::AS_TRANS;
use crate::attr::error::AttrErrorKind;

/// The AS and router that aggregated the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Aggregator {
    /// AS number of the aggregating speaker.
    pub asn: u32,
    /// Its BGP identifier (IPv4 address).
    pub address: Ipv4Addr,
}

impl Aggregator {
    /// Decodes an AGGREGATOR (`four_octet` as negotiated) or AS4_AGGREGATOR (always 4).
    pub(crate) fn decode(value: &[u8], four_octet: bool) -> Result<Self, AttrErrorKind> {
        match (value, four_octet) {
            (&[a, b, w, x, y, z], false) => Ok(Aggregator {
                asn: u32::from(u16::from_be_bytes([a, b])),
                address: Ipv4Addr::new(w, x, y, z),
            }),
            (&[a, b, c, d, w, x, y, z], true) => Ok(Aggregator {
                asn: u32::from_be_bytes([a, b, c, d]),
                address: Ipv4Addr::new(w, x, y, z),
            }),
            _ => Err(AttrErrorKind::Length(value.len())),
        }
    }

    pub(crate) fn encoded_len(four_octet: bool) -> usize {
        if four_octet { 8 } else { 6 }
    }

    /// Appends the value; on a 2-octet session an AS above 65535 becomes AS_TRANS (the
    /// caller checks that AS4_AGGREGATOR goes along).
    pub(crate) fn encode(&self, four_octet: bool, out: &mut BytesMut) {
        if four_octet {
            out.put_u32(self.asn);
        } else {
            out.put_u16(u16::try_from(self.asn).unwrap_or(AS_TRANS as u16));
        }
        out.put_slice(&self.address.octets());
    }
}

/// Checks the empty value of ATOMIC_AGGREGATE.
pub(crate) fn decode_atomic_aggregate(value: &[u8]) -> Result<(), AttrErrorKind> {
    if value.is_empty() {
        Ok(())
    } else {
        Err(AttrErrorKind::Length(value.len()))
    }
}
