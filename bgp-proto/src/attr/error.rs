//! RFC 7606 outcomes for malformed path attributes.
//!
//! Every problem found in the path attribute list becomes an [`AttrError`] whose
//! [`AttrAction`] says what the receiver does about it (RFC 7606 section 2):
//!
//! | attribute | malformed (length, value, flags) |
//! |---|---|
//! | ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, EXTENDED_COMMUNITIES, LARGE_COMMUNITIES, ONLY_TO_CUSTOMER | treat-as-withdraw (RFC 7606 7.1-7.10, 7.14; RFC 8092 6; RFC 9234 5) |
//! | ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH, AS4_AGGREGATOR, AIGP | attribute discard (RFC 7606 7.6, 7.7; RFC 6793 6; RFC 7311 3.1) |
//! | MP_REACH_NLRI, MP_UNREACH_NLRI | session reset: the NLRI cannot be located (RFC 7606 7.11, 5.3); wrong flags alone are treat-as-withdraw, since the NLRI still parse |
//!
//! and for the list as a whole:
//!
//! - An attribute whose length overruns the list: treat-as-withdraw, the NLRI field being
//!   found from the Total Path Attribute Length (RFC 7606 section 4). Senders put
//!   MP_REACH_NLRI / MP_UNREACH_NLRI first (RFC 7606 section 5.1), so they have been
//!   parsed by then; if the overrunning attribute is itself one of them, its NLRI cannot be
//!   found and the session is reset.
//! - A repeated attribute: all but the first are discarded; a repeated MP_REACH_NLRI or
//!   MP_UNREACH_NLRI resets the session with Malformed Attribute List (RFC 7606 3 g).
//! - A missing ORIGIN or AS_PATH when the UPDATE announces routes, or a missing NEXT_HOP
//!   when it announces routes in the IPv4 NLRI field: treat-as-withdraw (RFC 7606 3 d).
//! - An unrecognized well-known attribute: session reset with Unrecognized Well-known
//!   Attribute (RFC 4271 6.3).
//! - AS4_PATH / AS4_AGGREGATOR on a session that negotiated 4-octet AS numbers: discarded
//!   (RFC 6793 section 6).
//!
//! Checks that need the session's role (LOCAL_PREF from an external peer, confederation
//! segments from a non-confederation peer, NEXT_HOP equal to our own address) are the
//! daemon's: the codec does not know who the peer is.

use std::fmt;

use bytes::Bytes;

use crate::attr::code;
use crate::ctx::Family;
use crate::nlri::NlriError;
use crate::notification::{ErrorCode, Notification, update_subcode};

/// What the receiver of a malformed attribute does (RFC 7606 section 2), weakest first:
/// when one UPDATE has several errors, the strongest action applies (RFC 7606 3 j).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttrAction {
    /// The attribute is dropped; the UPDATE is otherwise processed normally.
    Discard,
    /// Every route the UPDATE announces is withdrawn instead (as if listed as withdrawn).
    TreatAsWithdraw,
    /// The session is reset with a NOTIFICATION.
    SessionReset,
}

impl fmt::Display for AttrAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttrAction::Discard => "attribute discard",
            AttrAction::TreatAsWithdraw => "treat-as-withdraw",
            AttrAction::SessionReset => "session reset",
        })
    }
}

/// What is wrong with an attribute.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AttrErrorKind {
    /// The Optional/Transitive bits do not match the attribute, or a well-known attribute
    /// has the Partial bit set.
    #[error("attribute flags {0:#04x} do not match the attribute type")]
    Flags(u8),
    /// The length does not fit the attribute type.
    #[error("bad attribute length {0}")]
    Length(usize),
    /// The attribute's length runs past the end of the path attribute list, or fewer
    /// bytes than an attribute header remain.
    #[error("attribute overruns the path attribute list")]
    Overrun,
    /// ORIGIN with a value other than 0, 1, 2.
    #[error("undefined ORIGIN value {0}")]
    InvalidOrigin(u8),
    /// AS_PATH or AS4_PATH with an unknown segment type, an empty segment, or a segment
    /// that overruns the attribute.
    #[error("malformed AS path")]
    MalformedAsPath,
    /// An optional attribute whose value is malformed in another way (e.g. AIGP TLVs).
    #[error("malformed attribute value: {0}")]
    Malformed(&'static str),
    /// The attribute appeared before in the same UPDATE.
    #[error("attribute repeated")]
    Duplicate,
    /// A well-known mandatory attribute is absent from an UPDATE that announces routes.
    #[error("missing well-known attribute")]
    MissingWellKnown,
    /// A well-known (non-optional) attribute that this implementation does not know.
    #[error("unrecognized well-known attribute")]
    UnrecognizedWellKnown,
    /// AS4_PATH or AS4_AGGREGATOR on a session with 4-octet AS numbers (RFC 6793 6).
    #[error("AS4 attribute received from a 4-octet AS speaker")]
    As4FromNewSpeaker,
    /// MP_REACH_NLRI / MP_UNREACH_NLRI shorter than its fixed fields.
    #[error("MP attribute truncated")]
    MpTruncated,
    /// MP_REACH_NLRI whose next hop length does not fit the family (RFC 7606 7.11).
    #[error("next hop length {len} does not fit {family}")]
    MpNextHopLength {
        /// The family of the attribute.
        family: Family,
        /// The Length of Next Hop Network Address.
        len: u8,
    },
    /// The NLRI inside MP_REACH_NLRI / MP_UNREACH_NLRI do not parse (RFC 7606 5.3).
    #[error("NLRI of {family}: {error}")]
    MpNlri {
        /// The family of the attribute.
        family: Family,
        /// What is wrong.
        error: NlriError,
    },
}

/// A problem with one path attribute and what RFC 7606 says to do about it.
///
/// Errors whose action is [`AttrAction::SessionReset`] end decoding: they come back as
/// [`crate::update::UpdateError::Attribute`]. The others are listed in
/// [`crate::Update::errors`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{} ({type_code}) at byte {offset}: {kind}; {action}", code::name(*.type_code))]
pub struct AttrError {
    /// Type code of the attribute (0 when the list ended before the type code).
    pub type_code: u8,
    /// What to do.
    pub action: AttrAction,
    /// What is wrong.
    pub kind: AttrErrorKind,
    /// Offset of the attribute's flags octet from the start of the message.
    pub offset: usize,
    /// The attribute as received (flags, type, length, value; possibly cut short on an
    /// overrun), which RFC 4271 puts in the NOTIFICATION data.
    pub data: Bytes,
}

impl AttrError {
    /// The NOTIFICATION that RFC 4271 section 6.3 (and RFC 7606 for duplicates of MP
    /// attributes) prescribes for this error: code 3 (UPDATE Message Error) with the
    /// subcode and data for the kind. For session resets this is what to send; for the
    /// other actions it is what a speaker without RFC 7606 would send.
    pub fn notification(&self) -> Notification {
        use update_subcode as s;
        let (subcode, data) = match &self.kind {
            AttrErrorKind::Flags(_) => (s::ATTRIBUTE_FLAGS_ERROR, self.data.clone()),
            AttrErrorKind::Length(_) | AttrErrorKind::Overrun => {
                (s::ATTRIBUTE_LENGTH_ERROR, self.data.clone())
            }
            AttrErrorKind::InvalidOrigin(_) => (s::INVALID_ORIGIN_ATTRIBUTE, self.data.clone()),
            AttrErrorKind::MalformedAsPath if self.type_code == code::AS_PATH => {
                (s::MALFORMED_AS_PATH, Bytes::new())
            }
            AttrErrorKind::MalformedAsPath
            | AttrErrorKind::Malformed(_)
            | AttrErrorKind::As4FromNewSpeaker
            | AttrErrorKind::MpTruncated
            | AttrErrorKind::MpNextHopLength { .. } => {
                (s::OPTIONAL_ATTRIBUTE_ERROR, self.data.clone())
            }
            AttrErrorKind::MpNlri { .. } => (s::INVALID_NETWORK_FIELD, Bytes::new()),
            AttrErrorKind::Duplicate => (s::MALFORMED_ATTRIBUTE_LIST, Bytes::new()),
            AttrErrorKind::MissingWellKnown => (
                s::MISSING_WELL_KNOWN_ATTRIBUTE,
                Bytes::copy_from_slice(&[self.type_code]),
            ),
            AttrErrorKind::UnrecognizedWellKnown => {
                (s::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, self.data.clone())
            }
        };
        Notification::new(ErrorCode::Update, subcode, data)
    }
}

/// The RFC 7606 action for a malformed instance of `type_code` (section 7 and the RFCs of
/// the later attributes). Unknown optional attributes are never malformed.
pub(crate) fn malformed_action(type_code: u8) -> AttrAction {
    match type_code {
        code::ATOMIC_AGGREGATE
        | code::AGGREGATOR
        | code::AS4_PATH
        | code::AS4_AGGREGATOR
        | code::AIGP => AttrAction::Discard,
        code::MP_REACH_NLRI | code::MP_UNREACH_NLRI => AttrAction::SessionReset,
        _ => AttrAction::TreatAsWithdraw,
    }
}

/// The action for `kind` found in attribute `type_code`.
pub(crate) fn action_for(type_code: u8, kind: &AttrErrorKind) -> AttrAction {
    let mp = matches!(type_code, code::MP_REACH_NLRI | code::MP_UNREACH_NLRI);
    match kind {
        AttrErrorKind::Duplicate if mp => AttrAction::SessionReset,
        AttrErrorKind::Duplicate | AttrErrorKind::As4FromNewSpeaker => AttrAction::Discard,
        AttrErrorKind::Flags(_) if mp => AttrAction::TreatAsWithdraw,
        AttrErrorKind::Overrun if mp => AttrAction::SessionReset,
        AttrErrorKind::Overrun | AttrErrorKind::MissingWellKnown => AttrAction::TreatAsWithdraw,
        AttrErrorKind::UnrecognizedWellKnown => AttrAction::SessionReset,
        _ => malformed_action(type_code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(type_code: u8, kind: AttrErrorKind) -> AttrError {
        AttrError {
            type_code,
            action: action_for(type_code, &kind),
            kind,
            offset: 23,
            data: Bytes::from_static(&[0x40, 1, 1, 7]),
        }
    }

    #[test]
    fn actions_follow_rfc7606_section_7() {
        let len = AttrErrorKind::Length(3);
        assert_eq!(action_for(code::ORIGIN, &len), AttrAction::TreatAsWithdraw);
        assert_eq!(
            action_for(code::ATOMIC_AGGREGATE, &len),
            AttrAction::Discard
        );
        assert_eq!(action_for(code::AGGREGATOR, &len), AttrAction::Discard);
        assert_eq!(
            action_for(code::MP_REACH_NLRI, &len),
            AttrAction::SessionReset
        );
        assert_eq!(
            action_for(code::MP_REACH_NLRI, &AttrErrorKind::Flags(0)),
            AttrAction::TreatAsWithdraw
        );
        assert_eq!(
            action_for(code::COMMUNITIES, &AttrErrorKind::Duplicate),
            AttrAction::Discard
        );
        assert_eq!(
            action_for(code::MP_UNREACH_NLRI, &AttrErrorKind::Duplicate),
            AttrAction::SessionReset
        );
        assert!(AttrAction::Discard < AttrAction::TreatAsWithdraw);
        assert!(AttrAction::TreatAsWithdraw < AttrAction::SessionReset);
    }

    #[test]
    fn notification_carries_the_attribute_or_the_type_code() {
        let n = err(code::ORIGIN, AttrErrorKind::InvalidOrigin(7)).notification();
        assert_eq!(
            (n.code, n.subcode, &n.data[..]),
            (3, 6, &[0x40, 1, 1, 7][..])
        );
        let n = err(code::AS_PATH, AttrErrorKind::MissingWellKnown).notification();
        assert_eq!((n.code, n.subcode, &n.data[..]), (3, 3, &[2][..]));
        let n = err(code::MP_REACH_NLRI, AttrErrorKind::Duplicate).notification();
        assert_eq!((n.code, n.subcode, n.data.len()), (3, 1, 0));
        let e = err(code::ORIGIN, AttrErrorKind::InvalidOrigin(7));
        assert_eq!(
            e.to_string(),
            "ORIGIN (1) at byte 23: undefined ORIGIN value 7; treat-as-withdraw"
        );
    }
}
