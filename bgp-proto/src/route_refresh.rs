//! ROUTE-REFRESH messages (RFC 2918) with the message subtypes of Enhanced Route Refresh
//! (RFC 7313 section 3.2).
//!
//! ```text
//!  0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      |Subtype| SAFI  |
//! +-------+-------+-------+-------+
//! ```

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::ctx::{Afi, Family, Safi};
use crate::error::DecodeError;
use crate::header::{HEADER_LEN, MARKER, MessageType};
use crate::notification::{ErrorCode, Notification, route_refresh_subcode};

/// Length of a ROUTE-REFRESH body.
const BODY_LEN: usize = 4;

/// A request to re-advertise a family, or the markers around such a re-advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    /// The family to refresh.
    pub family: Family,
    /// What kind of ROUTE-REFRESH this is.
    pub subtype: RouteRefreshSubtype,
}

/// The Message Subtype octet (RFC 7313 section 3.2; reserved in RFC 2918).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteRefreshSubtype {
    /// 0: a normal route refresh request.
    Normal,
    /// 1: Beginning of Route Refresh (BoRR).
    BeginningOfRefresh,
    /// 2: End of Route Refresh (EoRR).
    EndOfRefresh,
    /// Any other value. RFC 7313 says the receiver MUST ignore such a message; that is the
    /// daemon's business, the codec keeps it.
    Other(u8),
}

impl RouteRefreshSubtype {
    /// Maps the wire value.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => RouteRefreshSubtype::Normal,
            1 => RouteRefreshSubtype::BeginningOfRefresh,
            2 => RouteRefreshSubtype::EndOfRefresh,
            v => RouteRefreshSubtype::Other(v),
        }
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            RouteRefreshSubtype::Normal => 0,
            RouteRefreshSubtype::BeginningOfRefresh => 1,
            RouteRefreshSubtype::EndOfRefresh => 2,
            RouteRefreshSubtype::Other(v) => v,
        }
    }
}

/// A ROUTE-REFRESH that cannot be decoded.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteRefreshError {
    /// The body is not exactly 4 bytes.
    #[error("body is {len} bytes; a ROUTE-REFRESH body is exactly 4")]
    InvalidLength {
        /// Body length received.
        len: usize,
        /// The complete message, header included, for the NOTIFICATION data.
        message: Bytes,
    },
}

impl RouteRefreshError {
    /// ROUTE-REFRESH Message Error / Invalid Message Length with the complete message as
    /// data (RFC 7313 section 5). RFC 7313 prescribes this for subtypes 1 and 2; we apply
    /// it to every subtype, since a normal request of the wrong length is no better.
    pub fn notification(&self) -> Notification {
        match self {
            RouteRefreshError::InvalidLength { message, .. } => Notification::new(
                ErrorCode::RouteRefresh,
                route_refresh_subcode::INVALID_MESSAGE_LENGTH,
                message.clone(),
            ),
        }
    }
}

impl RouteRefresh {
    /// A normal request to refresh `family`.
    pub fn new(family: Family) -> Self {
        RouteRefresh {
            family,
            subtype: RouteRefreshSubtype::Normal,
        }
    }

    /// Decodes the body (everything after the header). `offset` is where the body starts
    /// in the message. A body that is not 4 bytes is an error carrying the message,
    /// rebuilt with its header, for the NOTIFICATION.
    pub fn decode_body(body: &[u8], offset: usize) -> Result<RouteRefresh, DecodeError> {
        let Ok::<[u8; BODY_LEN], _>([a0, a1, subtype, safi]) = body.try_into() else {
            let mut message = BytesMut::with_capacity(HEADER_LEN + body.len());
            message.put_slice(&MARKER);
            // The header check bounds the length; saturate for a direct caller.
            message.put_u16(u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX));
            message.put_u8(MessageType::RouteRefresh as u8);
            message.put_slice(body);
            // The length field of the header is what is wrong.
            let at = offset.saturating_sub(HEADER_LEN - 16);
            return Err(DecodeError::new(
                at,
                RouteRefreshError::InvalidLength {
                    len: body.len(),
                    message: message.freeze(),
                },
            ));
        };
        Ok(RouteRefresh {
            family: Family::new(Afi(u16::from_be_bytes([a0, a1])), Safi(safi)),
            subtype: RouteRefreshSubtype::from_u8(subtype),
        })
    }

    /// Appends the body to `out`.
    pub fn encode_body(&self, out: &mut BytesMut) {
        out.put_u16(self.family.afi.0);
        out.put_u8(self.subtype.as_u8());
        out.put_u8(self.family.safi.0);
    }
}

impl fmt::Display for RouteRefresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subtype {
            RouteRefreshSubtype::Normal => write!(f, "route refresh {}", self.family),
            RouteRefreshSubtype::BeginningOfRefresh => write!(f, "BoRR {}", self.family),
            RouteRefreshSubtype::EndOfRefresh => write!(f, "EoRR {}", self.family),
            RouteRefreshSubtype::Other(v) => {
                write!(f, "route refresh subtype {v} {}", self.family)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_length_rebuilds_the_whole_message_for_the_notification() {
        let e = RouteRefresh::decode_body(&[0, 1, 1, 1, 9], HEADER_LEN).unwrap_err();
        assert_eq!(e.offset, 16);
        let n = e.notification();
        assert_eq!((n.code, n.subcode), (7, 1));
        let mut expected = MARKER.to_vec();
        expected.extend_from_slice(&[0, 24, 5, 0, 1, 1, 1, 9]);
        assert_eq!(&n.data[..], &expected[..]);
    }

    #[test]
    fn subtypes_round_trip_every_value() {
        for v in 0..=255u8 {
            assert_eq!(RouteRefreshSubtype::from_u8(v).as_u8(), v);
        }
        let rr = RouteRefresh::decode_body(&[0, 2, 2, 1], HEADER_LEN).unwrap();
        assert_eq!(rr.to_string(), "EoRR ipv6-unicast");
    }
}
