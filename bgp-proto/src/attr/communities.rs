//! COMMUNITIES (type code 8, optional transitive; RFC 1997).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          AS number            |            Value              |  x N
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Malformed (length not a non-zero multiple of 4): treat-as-withdraw (RFC 7606 7.8).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::attr::error::AttrErrorKind;

/// One RFC 1997 community.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Community(pub u32);

impl Community {
    /// GRACEFUL_SHUTDOWN (RFC 8326).
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// ACCEPT_OWN (RFC 7611).
    pub const ACCEPT_OWN: Community = Community(0xFFFF_0001);
    /// LLGR_STALE (RFC 9494).
    pub const LLGR_STALE: Community = Community(0xFFFF_0006);
    /// NO_LLGR (RFC 9494).
    pub const NO_LLGR: Community = Community(0xFFFF_0007);
    /// BLACKHOLE (RFC 7999).
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);
    /// NO_EXPORT (RFC 1997): not advertised outside the AS (or confederation).
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// NO_ADVERTISE (RFC 1997): not advertised to any peer.
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// NO_EXPORT_SUBCONFED (RFC 1997): not advertised to external peers, including other
    /// members of the confederation.
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// NOPEER (RFC 3765).
    pub const NOPEER: Community = Community(0xFFFF_FF04);

    /// The community `asn:value`.
    pub const fn new(asn: u16, value: u16) -> Self {
        Community(((asn as u32) << 16) | value as u32)
    }

    /// The high 16 bits (by convention an AS number).
    pub const fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The low 16 bits.
    pub const fn value(self) -> u16 {
        self.0 as u16
    }

    /// The name of a well-known community.
    pub fn well_known_name(self) -> Option<&'static str> {
        Community::WELL_KNOWN
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(name, _)| *name)
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.well_known_name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}:{}", self.asn(), self.value()),
        }
    }
}

impl fmt::Debug for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Community({self})")
    }
}

/// The COMMUNITIES value: communities in the order received, duplicates kept.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Communities(Bytes);

impl Communities {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        Self(Bytes::copy_from_slice(&self.0))
    }
    /// A list from communities in order.
    pub fn new(communities: impl IntoIterator<Item = Community>) -> Self {
        let mut out = BytesMut::new();
        for c in communities {
            out.put_u32(c.0);
        }
        Communities(out.freeze())
    }

    /// The communities, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Community> + '_ {
        self.0
            .chunks_exact(4)
            .map(|c| Community(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }

    /// How many communities (duplicates included).
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// True when there are none (which the wire cannot carry: an empty COMMUNITIES is
    /// malformed).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `community` is in the list.
    pub fn contains(&self, community: Community) -> bool {
        self.iter().any(|c| c == community)
    }

    /// The list with `community` appended unless present.
    #[must_use]
    pub fn with(&self, community: Community) -> Self {
        if self.contains(community) {
            return self.clone();
        }
        Communities::new(self.iter().chain([community]))
    }

    /// The list without any `community`.
    #[must_use]
    pub fn without(&self, community: Community) -> Self {
        Communities::new(self.iter().filter(|&c| c != community))
    }

    /// The wire value.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn decode(value: Bytes) -> Result<Self, AttrErrorKind> {
        if value.is_empty() || !value.len().is_multiple_of(4) {
            return Err(AttrErrorKind::Length(value.len()));
        }
        Ok(Communities(value))
    }
}

impl FromIterator<Community> for Communities {
    fn from_iter<I: IntoIterator<Item = Community>>(iter: I) -> Self {
        Communities::new(iter)
    }
}

impl fmt::Debug for Communities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
