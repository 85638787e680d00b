//! The fixed message header and framing (RFC 4271 section 4.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                                                               +
//! |                           Marker                              |
//! +                                                               +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Length               |      Type     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::Bytes;

use crate::ctx::DecodeCtx;
use crate::error::DecodeError;
use crate::notification::{ErrorCode, Notification};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 19;
/// The all-ones marker.
pub const MARKER: [u8; 16] = [0xff; 16];

/// Message type codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// OPEN (1).
    Open = 1,
    /// UPDATE (2).
    Update = 2,
    /// NOTIFICATION (3).
    Notification = 3,
    /// KEEPALIVE (4).
    Keepalive = 4,
    /// ROUTE-REFRESH (5, RFC 2918).
    RouteRefresh = 5,
}

impl MessageType {
    /// Maps the wire value; `None` for a type this crate does not know.
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::Open,
            2 => Self::Update,
            3 => Self::Notification,
            4 => Self::Keepalive,
            5 => Self::RouteRefresh,
            _ => return None,
        })
    }

    /// The smallest valid length of a message of this type, header included.
    pub fn min_len(self) -> usize {
        match self {
            Self::Open => 29,
            Self::Update => 23,
            Self::Notification => 21,
            Self::Keepalive => 19,
            Self::RouteRefresh => 23,
        }
    }
}

/// A decoded, validated message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Total message length, header included.
    pub length: u16,
    /// Message type.
    pub kind: MessageType,
}

/// Errors in the message header (NOTIFICATION code 1).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Fewer bytes than the header or than the header's length field says.
    #[error("message truncated: need {needed} bytes, have {have}")]
    Truncated {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes given.
        have: usize,
    },
    /// The marker is not all ones.
    #[error("marker is not all ones (connection not synchronized)")]
    BadMarker,
    /// The length field is out of range for this message type or session.
    #[error("bad message length {0}")]
    BadLength(u16),
    /// An unknown message type.
    #[error("bad message type {0}")]
    BadType(u8),
}

impl HeaderError {
    /// The NOTIFICATION that RFC 4271 section 6.1 prescribes for this error.
    pub fn notification(&self) -> Notification {
        match self {
            // A caller that hands us a short buffer has a framing bug; from the peer's
            // point of view the length it sent does not match what arrived.
            HeaderError::Truncated { have, .. } => Notification::new(
                ErrorCode::MessageHeader,
                crate::notification::header_subcode::BAD_MESSAGE_LENGTH,
                Bytes::copy_from_slice(&u16::try_from(*have).unwrap_or(u16::MAX).to_be_bytes()),
            ),
            HeaderError::BadMarker => Notification::new(
                ErrorCode::MessageHeader,
                crate::notification::header_subcode::CONNECTION_NOT_SYNCHRONIZED,
                Bytes::new(),
            ),
            HeaderError::BadLength(len) => Notification::new(
                ErrorCode::MessageHeader,
                crate::notification::header_subcode::BAD_MESSAGE_LENGTH,
                Bytes::copy_from_slice(&len.to_be_bytes()),
            ),
            HeaderError::BadType(kind) => Notification::new(
                ErrorCode::MessageHeader,
                crate::notification::header_subcode::BAD_MESSAGE_TYPE,
                Bytes::copy_from_slice(&[*kind]),
            ),
        }
    }
}

/// How long the next message in `buf` is, once its header has arrived.
///
/// Returns `None` while fewer than [`HEADER_LEN`] bytes are buffered. The value is the
/// header's length field, but never less than [`HEADER_LEN`], so a framer that consumes
/// this many bytes always makes progress; [`check_header`] says whether the header is
/// valid. Never panics.
pub fn frame_len(buf: &[u8]) -> Option<usize> {
    let len = buf.get(16..18)?;
    let _type = buf.get(18)?;
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    Some(len.max(HEADER_LEN))
}

/// Validates the header at the start of `buf` against the session context: marker, type,
/// and length within the type's bounds and the negotiated maximum. Only the first
/// [`HEADER_LEN`] bytes are read.
pub fn check_header(buf: &[u8], ctx: &DecodeCtx) -> Result<Header, DecodeError> {
    let header = buf.get(..HEADER_LEN).ok_or(DecodeError::new(
        0,
        HeaderError::Truncated {
            needed: HEADER_LEN,
            have: buf.len(),
        },
    ))?;
    if header[..16] != MARKER {
        return Err(DecodeError::new(0, HeaderError::BadMarker));
    }
    let length = u16::from_be_bytes([header[16], header[17]]);
    let kind = MessageType::from_u8(header[18])
        .ok_or(DecodeError::new(18, HeaderError::BadType(header[18])))?;
    let len = usize::from(length);
    let max = match kind {
        // RFC 8654: OPEN and KEEPALIVE stay within 4096 bytes even on extended sessions.
        MessageType::Open | MessageType::Keepalive => crate::ctx::MAX_MESSAGE_LEN,
        _ => ctx.max_message_len(),
    };
    // ROUTE-REFRESH length errors have their own NOTIFICATION (RFC 7313 section 5),
    // raised by its decoder at any length other than 23.
    let min = if kind == MessageType::RouteRefresh {
        HEADER_LEN
    } else {
        kind.min_len()
    };
    let bad_len = len < min || len > max || (kind == MessageType::Keepalive && len != HEADER_LEN);
    if bad_len {
        return Err(DecodeError::new(16, HeaderError::BadLength(length)));
    }
    Ok(Header { length, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u16, kind: u8) -> Vec<u8> {
        let mut v = MARKER.to_vec();
        v.extend_from_slice(&len.to_be_bytes());
        v.push(kind);
        v
    }

    #[test]
    fn frame_len_waits_for_header_and_never_returns_less_than_it() {
        let h = header(23, 2);
        for n in 0..HEADER_LEN {
            assert_eq!(frame_len(&h[..n]), None);
        }
        assert_eq!(frame_len(&h), Some(23));
        assert_eq!(frame_len(&header(0, 2)), Some(HEADER_LEN));
    }

    #[test]
    fn header_errors_map_to_rfc4271_notifications() {
        let ctx = DecodeCtx::default();
        let mut bad_marker = header(19, 4);
        bad_marker[3] = 0;
        let e = check_header(&bad_marker, &ctx).unwrap_err();
        let n = e.notification();
        assert_eq!((n.code, n.subcode), (1, 1));

        let e = check_header(&header(20, 4), &ctx).unwrap_err();
        let n = e.notification();
        assert_eq!((n.code, n.subcode, &n.data[..]), (1, 2, &[0, 20][..]));

        let e = check_header(&header(19, 9), &ctx).unwrap_err();
        let n = e.notification();
        assert_eq!((n.code, n.subcode, &n.data[..]), (1, 3, &[9][..]));
    }

    #[test]
    fn extended_message_raises_the_update_limit_but_not_the_open_limit() {
        let mut ctx = DecodeCtx::default();
        assert!(check_header(&header(5000, 2), &ctx).is_err());
        ctx.extended_message = true;
        assert!(check_header(&header(5000, 2), &ctx).is_ok());
        assert!(check_header(&header(5000, 1), &ctx).is_err());
    }

    #[test]
    fn minimum_lengths_per_type() {
        let ctx = DecodeCtx::default();
        for (kind, min) in [(1u8, 29u16), (2, 23), (3, 21)] {
            assert!(
                check_header(&header(min - 1, kind), &ctx).is_err(),
                "type {kind}"
            );
            assert!(
                check_header(&header(min, kind), &ctx).is_ok(),
                "type {kind}"
            );
        }
        // A short ROUTE-REFRESH passes the header check: its own decoder answers with
        // ROUTE-REFRESH / Invalid Message Length (RFC 7313).
        assert!(check_header(&header(20, 5), &ctx).is_ok());
    }
}
