//! The attributes whose value is one 4-octet number or address.
//!
//! NEXT_HOP (type code 3, well-known mandatory for the IPv4 NLRI field; RFC 4271 5.1.3),
//! MULTI_EXIT_DISC (4, optional non-transitive; RFC 4271 5.1.4), LOCAL_PREF (5,
//! well-known, for internal peers; RFC 4271 5.1.5), ORIGINATOR_ID (9, optional
//! non-transitive; RFC 4456 section 8), ONLY_TO_CUSTOMER (35, optional transitive;
//! RFC 9234 section 5):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Next hop address / MED / LOCAL_PREF / Originator ID / OTC AS  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! A length other than 4 is malformed: treat-as-withdraw for all five (RFC 7606 7.3, 7.4,
//! 7.5, 7.9; RFC 9234 section 5). RFC 7606 7.5 also says a LOCAL_PREF from an external
//! peer is discarded, and RFC 4271 6.3 checks the NEXT_HOP against the session's own
//! addresses; both need to know the peer, so they are the daemon's.

use std::net::Ipv4Addr;

use crate::attr::error::AttrErrorKind;

/// Reads a 4-octet value.
pub(crate) fn decode_u32(value: &[u8]) -> Result<u32, AttrErrorKind> {
    match *value {
        [a, b, c, d] => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(AttrErrorKind::Length(value.len())),
    }
}

/// Reads a 4-octet IPv4 address.
pub(crate) fn decode_ipv4(value: &[u8]) -> Result<Ipv4Addr, AttrErrorKind> {
    decode_u32(value).map(Ipv4Addr::from)
}
