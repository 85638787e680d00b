//! NOTIFICATION messages (RFC 4271 section 4.5) with every error code and subcode that
//! the IANA registry lists, the RFC 9003 shutdown communication and the RFC 8538 hard reset.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code    | Error subcode |   Data (variable)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

/// NOTIFICATION error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1: Message Header Error.
    MessageHeader,
    /// 2: OPEN Message Error.
    Open,
    /// 3: UPDATE Message Error.
    Update,
    /// 4: Hold Timer Expired.
    HoldTimerExpired,
    /// 5: Finite State Machine Error (subcodes in RFC 6608).
    Fsm,
    /// 6: Cease (subcodes in RFC 4486, RFC 8538).
    Cease,
    /// 7: ROUTE-REFRESH Message Error (RFC 7313).
    RouteRefresh,
    /// 8: Send Hold Timer Expired (RFC 9687).
    SendHoldTimerExpired,
    /// A code this crate does not know.
    Other(u8),
}

impl ErrorCode {
    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::MessageHeader => 1,
            Self::Open => 2,
            Self::Update => 3,
            Self::HoldTimerExpired => 4,
            Self::Fsm => 5,
            Self::Cease => 6,
            Self::RouteRefresh => 7,
            Self::SendHoldTimerExpired => 8,
            Self::Other(v) => v,
        }
    }

    /// Maps the wire value.
    pub fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::MessageHeader,
            2 => Self::Open,
            3 => Self::Update,
            4 => Self::HoldTimerExpired,
            5 => Self::Fsm,
            6 => Self::Cease,
            7 => Self::RouteRefresh,
            8 => Self::SendHoldTimerExpired,
            v => Self::Other(v),
        }
    }
}

/// Subcodes of Message Header Error (code 1).
pub mod header_subcode {
    /// Connection Not Synchronized.
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    /// Bad Message Length.
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    /// Bad Message Type.
    pub const BAD_MESSAGE_TYPE: u8 = 3;
}

/// Subcodes of OPEN Message Error (code 2).
pub mod open_subcode {
    /// Unspecific.
    pub const UNSPECIFIC: u8 = 0;
    /// Unsupported Version Number.
    pub const UNSUPPORTED_VERSION: u8 = 1;
    /// Bad Peer AS.
    pub const BAD_PEER_AS: u8 = 2;
    /// Bad BGP Identifier.
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    /// Unsupported Optional Parameter.
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    /// Unacceptable Hold Time.
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    /// Unsupported Capability (RFC 5492).
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    /// Role Mismatch (RFC 9234).
    pub const ROLE_MISMATCH: u8 = 11;
}

/// Subcodes of UPDATE Message Error (code 3).
pub mod update_subcode {
    /// Malformed Attribute List.
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    /// Unrecognized Well-known Attribute.
    pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
    /// Missing Well-known Attribute.
    pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
    /// Attribute Flags Error.
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    /// Attribute Length Error.
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    /// Invalid ORIGIN Attribute.
    pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
    /// Invalid NEXT_HOP Attribute.
    pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
    /// Optional Attribute Error.
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    /// Invalid Network Field.
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    /// Malformed AS_PATH.
    pub const MALFORMED_AS_PATH: u8 = 11;
}

/// Subcodes of Finite State Machine Error (code 5, RFC 6608).
pub mod fsm_subcode {
    /// Unspecified Error.
    pub const UNSPECIFIED: u8 = 0;
    /// Receive Unexpected Message in OpenSent State.
    pub const UNEXPECTED_IN_OPEN_SENT: u8 = 1;
    /// Receive Unexpected Message in OpenConfirm State.
    pub const UNEXPECTED_IN_OPEN_CONFIRM: u8 = 2;
    /// Receive Unexpected Message in Established State.
    pub const UNEXPECTED_IN_ESTABLISHED: u8 = 3;
}

/// Subcodes of Cease (code 6, RFC 4486, RFC 8538, RFC 9384).
pub mod cease_subcode {
    /// Maximum Number of Prefixes Reached.
    pub const MAX_PREFIXES: u8 = 1;
    /// Administrative Shutdown (may carry an RFC 9003 message).
    pub const ADMIN_SHUTDOWN: u8 = 2;
    /// Peer De-configured.
    pub const PEER_DECONFIGURED: u8 = 3;
    /// Administrative Reset (may carry an RFC 9003 message).
    pub const ADMIN_RESET: u8 = 4;
    /// Connection Rejected.
    pub const CONNECTION_REJECTED: u8 = 5;
    /// Other Configuration Change.
    pub const OTHER_CONFIG_CHANGE: u8 = 6;
    /// Connection Collision Resolution.
    pub const CONNECTION_COLLISION: u8 = 7;
    /// Out of Resources.
    pub const OUT_OF_RESOURCES: u8 = 8;
    /// Hard Reset (RFC 8538): the data is an encapsulated NOTIFICATION.
    pub const HARD_RESET: u8 = 9;
    /// BFD Down (RFC 9384).
    pub const BFD_DOWN: u8 = 10;
}

/// Subcodes of ROUTE-REFRESH Message Error (code 7, RFC 7313).
pub mod route_refresh_subcode {
    /// Invalid Message Length.
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// Longest shutdown communication in bytes (RFC 9003).
pub const MAX_SHUTDOWN_MESSAGE_LEN: usize = 255;

/// A NOTIFICATION message. Code and subcode stay raw so that any value round-trips;
/// [`Notification::error_code`] gives the typed view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// Data, whose meaning depends on code and subcode.
    pub data: Bytes,
}

/// A shutdown communication that does not fit RFC 9003.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShutdownMessageError {
    /// Longer than 255 bytes of UTF-8.
    #[error("shutdown message is {0} bytes; RFC 9003 allows at most 255")]
    TooLong(usize),
}

impl Notification {
    /// Builds a NOTIFICATION.
    pub fn new(code: ErrorCode, subcode: u8, data: Bytes) -> Self {
        Notification {
            code: code.as_u8(),
            subcode,
            data,
        }
    }

    /// The typed error code.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_u8(self.code)
    }

    /// A Cease with subcode Administrative Shutdown or Administrative Reset carrying an
    /// RFC 9003 shutdown communication (empty `message` sends a zero-length one).
    pub fn admin(subcode: u8, message: &str) -> Result<Self, ShutdownMessageError> {
        let len = message.len();
        let len8 = u8::try_from(len).map_err(|_| ShutdownMessageError::TooLong(len))?;
        let mut data = BytesMut::with_capacity(1 + len);
        data.put_u8(len8);
        data.put_slice(message.as_bytes());
        Ok(Notification::new(ErrorCode::Cease, subcode, data.freeze()))
    }

    /// The RFC 9003 shutdown communication of an Administrative Shutdown or Reset, if the
    /// data holds a well-formed one. A malformed communication is not an error of the
    /// session (RFC 9003 section 4); it yields `None`.
    pub fn shutdown_message(&self) -> Option<&str> {
        if self.error_code() != ErrorCode::Cease
            || !matches!(
                self.subcode,
                cease_subcode::ADMIN_SHUTDOWN | cease_subcode::ADMIN_RESET
            )
        {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len))?;
        std::str::from_utf8(text).ok()
    }

    /// Wraps `inner` in a Cease / Hard Reset (RFC 8538).
    pub fn hard_reset(inner: &Notification) -> Self {
        let mut data = BytesMut::with_capacity(2 + inner.data.len());
        data.put_u8(inner.code);
        data.put_u8(inner.subcode);
        data.put_slice(&inner.data);
        Notification::new(ErrorCode::Cease, cease_subcode::HARD_RESET, data.freeze())
    }

    /// The NOTIFICATION encapsulated in a Hard Reset (RFC 8538), if this is one.
    pub fn hard_reset_inner(&self) -> Option<Notification> {
        if self.error_code() != ErrorCode::Cease || self.subcode != cease_subcode::HARD_RESET {
            return None;
        }
        let code = *self.data.first()?;
        let subcode = *self.data.get(1)?;
        Some(Notification {
            code,
            subcode,
            data: self.data.slice(2..),
        })
    }

    /// Decodes the body (everything after the header). The header check guarantees at
    /// least two bytes; a shorter body still decodes, with zero code and subcode, since a
    /// NOTIFICATION is never answered with another.
    pub fn decode_body(body: &[u8]) -> Self {
        Notification {
            code: body.first().copied().unwrap_or(0),
            subcode: body.get(1).copied().unwrap_or(0),
            data: Bytes::copy_from_slice(body.get(2..).unwrap_or_default()),
        }
    }

    /// Appends the body to `out`.
    pub fn encode_body(&self, out: &mut BytesMut) {
        out.put_u8(self.code);
        out.put_u8(self.subcode);
        out.put_slice(&self.data);
    }

    /// A short description of code and subcode, as operators read them in logs.
    pub fn describe(&self) -> String {
        let code = match self.error_code() {
            ErrorCode::MessageHeader => "message header error",
            ErrorCode::Open => "OPEN message error",
            ErrorCode::Update => "UPDATE message error",
            ErrorCode::HoldTimerExpired => "hold timer expired",
            ErrorCode::Fsm => "finite state machine error",
            ErrorCode::Cease => "cease",
            ErrorCode::RouteRefresh => "ROUTE-REFRESH message error",
            ErrorCode::SendHoldTimerExpired => "send hold timer expired",
            ErrorCode::Other(_) => "unknown error code",
        };
        let sub = subcode_name(self.error_code(), self.subcode);
        match sub {
            Some(s) => format!("{code} / {s}"),
            None => format!("{code} / subcode {}", self.subcode),
        }
    }
}

fn subcode_name(code: ErrorCode, subcode: u8) -> Option<&'static str> {
    use ErrorCode as C;
    Some(match (code, subcode) {
        (C::MessageHeader, 1) => "connection not synchronized",
        (C::MessageHeader, 2) => "bad message length",
        (C::MessageHeader, 3) => "bad message type",
        (C::Open, 0) => "unspecific",
        (C::Open, 1) => "unsupported version number",
        (C::Open, 2) => "bad peer AS",
        (C::Open, 3) => "bad BGP identifier",
        (C::Open, 4) => "unsupported optional parameter",
        (C::Open, 6) => "unacceptable hold time",
        (C::Open, 7) => "unsupported capability",
        (C::Open, 11) => "role mismatch",
        (C::Update, 1) => "malformed attribute list",
        (C::Update, 2) => "unrecognized well-known attribute",
        (C::Update, 3) => "missing well-known attribute",
        (C::Update, 4) => "attribute flags error",
        (C::Update, 5) => "attribute length error",
        (C::Update, 6) => "invalid ORIGIN attribute",
        (C::Update, 8) => "invalid NEXT_HOP attribute",
        (C::Update, 9) => "optional attribute error",
        (C::Update, 10) => "invalid network field",
        (C::Update, 11) => "malformed AS_PATH",
        (C::Fsm, 0) => "unspecified",
        (C::Fsm, 1) => "unexpected message in OpenSent",
        (C::Fsm, 2) => "unexpected message in OpenConfirm",
        (C::Fsm, 3) => "unexpected message in Established",
        (C::Cease, 1) => "maximum number of prefixes reached",
        (C::Cease, 2) => "administrative shutdown",
        (C::Cease, 3) => "peer de-configured",
        (C::Cease, 4) => "administrative reset",
        (C::Cease, 5) => "connection rejected",
        (C::Cease, 6) => "other configuration change",
        (C::Cease, 7) => "connection collision resolution",
        (C::Cease, 8) => "out of resources",
        (C::Cease, 9) => "hard reset",
        (C::Cease, 10) => "BFD down",
        (C::RouteRefresh, 1) => "invalid message length",
        _ => return None,
    })
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())?;
        if let Some(msg) = self.shutdown_message().filter(|m| !m.is_empty()) {
            write!(f, ": \"{}\"", msg.escape_debug())?;
        } else if let Some(inner) = self.hard_reset_inner() {
            // The inner NOTIFICATION in full: an RFC 9003 message inside it is shown too.
            write!(f, " ({inner})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_communication_round_trips_and_shows_in_display() {
        let n = Notification::admin(cease_subcode::ADMIN_SHUTDOWN, "maintenance, back at 14:00")
            .unwrap();
        let mut out = BytesMut::new();
        n.encode_body(&mut out);
        assert_eq!(&out[..3], &[6, 2, 26]);
        let back = Notification::decode_body(&out);
        assert_eq!(back, n);
        assert_eq!(back.shutdown_message(), Some("maintenance, back at 14:00"));
        assert_eq!(
            back.to_string(),
            "cease / administrative shutdown: \"maintenance, back at 14:00\""
        );
    }

    #[test]
    fn hard_reset_shows_the_inner_shutdown_message() {
        let inner = Notification::admin(cease_subcode::ADMIN_SHUTDOWN, "maintenance").unwrap();
        let n = Notification::hard_reset(&inner);
        assert_eq!(
            n.to_string(),
            "cease / hard reset (cease / administrative shutdown: \"maintenance\")"
        );
    }

    #[test]
    fn shutdown_message_over_255_bytes_is_refused() {
        let long = "x".repeat(256);
        assert_eq!(
            Notification::admin(cease_subcode::ADMIN_RESET, &long),
            Err(ShutdownMessageError::TooLong(256))
        );
    }

    #[test]
    fn malformed_shutdown_communication_is_ignored_not_an_error() {
        // Length byte says 10, only 3 bytes follow.
        let n = Notification::decode_body(&[6, 2, 10, b'a', b'b', b'c']);
        assert_eq!(n.shutdown_message(), None);
        assert_eq!(n.to_string(), "cease / administrative shutdown");
        // Invalid UTF-8.
        let n = Notification::decode_body(&[6, 4, 2, 0xff, 0xfe]);
        assert_eq!(n.shutdown_message(), None);
    }

    #[test]
    fn hard_reset_encapsulates_the_original_notification() {
        let inner = Notification::new(ErrorCode::HoldTimerExpired, 0, Bytes::new());
        let hr = Notification::hard_reset(&inner);
        assert_eq!((hr.code, hr.subcode, &hr.data[..]), (6, 9, &[4, 0][..]));
        assert_eq!(hr.hard_reset_inner(), Some(inner));
        assert_eq!(
            hr.to_string(),
            "cease / hard reset (hold timer expired / subcode 0)"
        );
    }

    #[test]
    fn unknown_codes_round_trip() {
        let n = Notification::decode_body(&[200, 77, 1, 2, 3]);
        assert_eq!(n.error_code(), ErrorCode::Other(200));
        let mut out = BytesMut::new();
        n.encode_body(&mut out);
        assert_eq!(&out[..], &[200, 77, 1, 2, 3]);
        assert_eq!(n.to_string(), "unknown error code / subcode 77");
    }
}
