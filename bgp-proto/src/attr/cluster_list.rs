//! Route reflection (RFC 4456 section 8): ORIGINATOR_ID (type code 9, optional
//! non-transitive, one IPv4 address; decoded in [`super::scalar`]) and CLUSTER_LIST (10,
//! optional non-transitive).
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        CLUSTER_ID (4 octets)                  |  x N
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Malformed (ORIGINATOR_ID length not 4, CLUSTER_LIST length not a non-zero multiple of
//! 4): treat-as-withdraw (RFC 7606 7.9, 7.10).

use std::fmt;
use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::attr::error::AttrErrorKind;

/// The CLUSTER_LIST value: the clusters the route was reflected through, most recent
/// first.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ClusterList(Bytes);

impl ClusterList {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        Self(Bytes::copy_from_slice(&self.0))
    }
    /// A list from cluster IDs in order.
    pub fn new(ids: impl IntoIterator<Item = Ipv4Addr>) -> Self {
        let mut out = BytesMut::new();
        for id in ids {
            out.put_slice(&id.octets());
        }
        ClusterList(out.freeze())
    }

    /// The cluster IDs, most recent first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Ipv4Addr> + '_ {
        self.0
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
    }

    /// How many clusters.
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `id` is in the list (a reflection loop when it is our cluster ID).
    pub fn contains(&self, id: Ipv4Addr) -> bool {
        self.iter().any(|c| c == id)
    }

    /// The list with `id` prepended, as a route reflector does when reflecting.
    #[must_use]
    pub fn prepend(&self, id: Ipv4Addr) -> Self {
        ClusterList::new(std::iter::once(id).chain(self.iter()))
    }

    /// The wire value.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn decode(value: Bytes) -> Result<Self, AttrErrorKind> {
        if value.is_empty() || !value.len().is_multiple_of(4) {
            return Err(AttrErrorKind::Length(value.len()));
        }
        Ok(ClusterList(value))
    }
}

impl fmt::Debug for ClusterList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
