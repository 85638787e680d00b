//! ORIGIN (type code 1, well-known mandatory; RFC 4271 section 4.3 and 5.1.1).
//!
//! ```text
//! +-+-+-+-+-+-+-+-+
//! |     Origin    |   0 = IGP, 1 = EGP, 2 = INCOMPLETE
//! +-+-+-+-+-+-+-+-+
//! ```
//!
//! Malformed (length other than 1, undefined value): treat-as-withdraw (RFC 7606 7.1).

use std::fmt;

use crate::attr::error::AttrErrorKind;

/// Where the route came from; lower is preferred in best-path selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Origin {
    /// Interior to the originating AS (0).
    #[default]
    Igp,
    /// Learned through EGP (1).
    Egp,
    /// Learned some other way (2).
    Incomplete,
}

impl Origin {
    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }

    /// Maps the wire value; `None` for an undefined one.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Origin::Igp),
            1 => Some(Origin::Egp),
            2 => Some(Origin::Incomplete),
            _ => None,
        }
    }

    pub(crate) fn decode(value: &[u8]) -> Result<Self, AttrErrorKind> {
        match *value {
            [v] => Origin::from_u8(v).ok_or(AttrErrorKind::InvalidOrigin(v)),
            _ => Err(AttrErrorKind::Length(value.len())),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Igp => "igp",
            Origin::Egp => "egp",
            Origin::Incomplete => "incomplete",
        })
    }
}
