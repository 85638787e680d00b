//! LARGE_COMMUNITIES (type code 32, optional transitive; RFC 8092).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Global Administrator                     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Local Data Part 1                       |  x N
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Local Data Part 2                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Malformed (length not a non-zero multiple of 12): treat-as-withdraw (RFC 8092 section
//! 6). Duplicates are not an error and are kept as received.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::attr::error::AttrErrorKind;

/// One large community `global:local1:local2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LargeCommunity {
    /// Global administrator (an AS number).
    pub global: u32,
    /// Local data part 1.
    pub local1: u32,
    /// Local data part 2.
    pub local2: u32,
}

impl LargeCommunity {
    /// The community `global:local1:local2`.
    pub const fn new(global: u32, local1: u32, local2: u32) -> Self {
        LargeCommunity {
            global,
            local1,
            local2,
        }
    }
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

/// The LARGE_COMMUNITIES value, in the order received.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct LargeCommunities(Bytes);

fn read(c: &[u8]) -> LargeCommunity {
    let word = |i: usize| {
        c.get(i..i + 4)
            .map_or(0, |w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    };
    LargeCommunity {
        global: word(0),
        local1: word(4),
        local2: word(8),
    }
}

impl LargeCommunities {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        Self(Bytes::copy_from_slice(&self.0))
    }
    /// A list from communities in order.
    pub fn new(communities: impl IntoIterator<Item = LargeCommunity>) -> Self {
        let mut out = BytesMut::new();
        for c in communities {
            out.put_u32(c.global);
            out.put_u32(c.local1);
            out.put_u32(c.local2);
        }
        LargeCommunities(out.freeze())
    }

    /// The communities, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = LargeCommunity> + '_ {
        self.0.chunks_exact(12).map(read)
    }

    /// How many (duplicates included).
    pub fn len(&self) -> usize {
        self.0.len() / 12
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `community` is in the list.
    pub fn contains(&self, community: LargeCommunity) -> bool {
        self.iter().any(|c| c == community)
    }

    /// The wire value.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn decode(value: Bytes) -> Result<Self, AttrErrorKind> {
        if value.is_empty() || !value.len().is_multiple_of(12) {
            return Err(AttrErrorKind::Length(value.len()));
        }
        Ok(LargeCommunities(value))
    }
}

impl FromIterator<LargeCommunity> for LargeCommunities {
    fn from_iter<I: IntoIterator<Item = LargeCommunity>>(iter: I) -> Self {
        LargeCommunities::new(iter)
    }
}

impl fmt::Debug for LargeCommunities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
