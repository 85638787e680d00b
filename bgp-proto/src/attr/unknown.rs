//! Attributes this implementation does not know (RFC 4271 section 5 and 9.1.2).
//!
//! An unrecognized optional transitive attribute is passed on with the Partial bit set
//! ([`crate::PathAttributes::mark_unknown_partial`]); an unrecognized optional
//! non-transitive one is quietly dropped when the route is re-advertised
//! ([`crate::PathAttributes::drop_unknown_non_transitive`]). An unrecognized well-known
//! attribute resets the session (Unrecognized Well-known Attribute).

use bytes::Bytes;

/// An attribute kept as its type code and raw value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownAttr {
    /// Attribute type code.
    pub type_code: u8,
    /// The value, as received.
    pub data: Bytes,
}
