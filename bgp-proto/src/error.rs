//! Decode and encode errors. Every decode error knows the NOTIFICATION that RFC 4271 and
//! RFC 7606 prescribe for it; see [`DecodeError::notification`].

use crate::header::HeaderError;
use crate::notification::Notification;
use crate::open::OpenError;
use crate::route_refresh::RouteRefreshError;
use crate::update::UpdateError;

/// A message that could not be decoded, with the byte offset (from the start of the
/// message, header included) where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct DecodeError {
    /// Offset from the first byte of the message.
    pub offset: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// What is wrong, by message kind.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The fixed header.
    #[error("header: {0}")]
    Header(#[from] HeaderError),
    /// An OPEN message.
    #[error("OPEN: {0}")]
    Open(#[from] OpenError),
    /// An UPDATE message that must reset the session (the RFC 7606 outcomes that do not
    /// are reported inside [`crate::Update`]).
    #[error("UPDATE: {0}")]
    Update(#[from] UpdateError),
    /// A ROUTE-REFRESH message.
    #[error("ROUTE-REFRESH: {0}")]
    RouteRefresh(#[from] RouteRefreshError),
}

impl DecodeError {
    /// An error at `offset`.
    pub fn new(offset: usize, kind: impl Into<ErrorKind>) -> Self {
        DecodeError {
            offset,
            kind: kind.into(),
        }
    }

    /// Returns the same error with its offset moved by `by` bytes, for decoders of inner
    /// structures that count from their own start.
    #[must_use]
    pub fn shifted(mut self, by: usize) -> Self {
        self.offset = self.offset.saturating_add(by);
        self
    }

    /// The NOTIFICATION to send to the peer before closing the session.
    pub fn notification(&self) -> Notification {
        match &self.kind {
            ErrorKind::Header(e) => e.notification(),
            ErrorKind::Open(e) => e.notification(),
            ErrorKind::Update(e) => e.notification(),
            ErrorKind::RouteRefresh(e) => e.notification(),
        }
    }
}

/// A value that cannot be put on the wire.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message is longer than the session allows (4,096 bytes, or 65,535 with the
    /// extended message capability).
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    MessageTooLong {
        /// Encoded length.
        len: usize,
        /// Allowed length.
        max: usize,
    },
    /// A path attribute value longer than 65,535 bytes.
    #[error("path attribute {type_code} is {len} bytes long; at most 65535 fit")]
    AttributeTooLong {
        /// Attribute type code.
        type_code: u8,
        /// Encoded value length.
        len: usize,
    },
    /// A length-prefixed field whose value does not fit its length field.
    #[error("{field} is {len} bytes long; at most {max} fit")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Encoded length.
        len: usize,
        /// Allowed length.
        max: usize,
    },
    /// A value that does not fit where it is used, e.g. an IPv6 prefix in the IPv4 NLRI
    /// field or a 4-octet AS number on a 2-octet session where no AS_TRANS applies.
    #[error("invalid value for {field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}
