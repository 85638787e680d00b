//! The ADD-PATH capability (RFC 7911 section 4).

use bytes::{BufMut, BytesMut};

use super::{family, put_family};
use crate::ctx::Family;

/// Whether a speaker sends or receives ADD-PATH path identifiers for a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddPathMode {
    /// 1: able to receive multiple paths.
    Receive,
    /// 2: able to send multiple paths.
    Send,
    /// 3: both.
    Both,
}

impl AddPathMode {
    /// Maps the wire value; `None` for anything but 1, 2 and 3.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(AddPathMode::Receive),
            2 => Some(AddPathMode::Send),
            3 => Some(AddPathMode::Both),
            _ => None,
        }
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            AddPathMode::Receive => 1,
            AddPathMode::Send => 2,
            AddPathMode::Both => 3,
        }
    }

    /// True for [`AddPathMode::Send`] and [`AddPathMode::Both`].
    pub fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }

    /// True for [`AddPathMode::Receive`] and [`AddPathMode::Both`].
    pub fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }
}

/// One family of an ADD-PATH capability.
///
/// ```text
/// +------------------------------------------------+
/// | Address Family Identifier (2 octets)           |
/// +------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet) |
/// +------------------------------------------------+
/// | Send/Receive (1 octet)                         |
/// +------------------------------------------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddPathFamily {
    /// The family.
    pub family: Family,
    /// What the speaker does with path identifiers for it.
    pub mode: AddPathMode,
}

impl AddPathFamily {
    /// Decodes a whole capability value. `Ok(None)` when a Send/Receive value is not 1, 2
    /// or 3: RFC 7911 says such a capability "SHOULD be treated as not understood and
    /// ignored", so the caller keeps it raw.
    pub(super) fn decode_all(value: &[u8]) -> Result<Option<Vec<Self>>, &'static str> {
        let (tuples, rest) = value.as_chunks::<4>();
        if !rest.is_empty() {
            return Err("family tuples are not 4 bytes each");
        }
        Ok(tuples
            .iter()
            .map(|&[a0, a1, safi, mode]| {
                Some(AddPathFamily {
                    family: family(a0, a1, safi),
                    mode: AddPathMode::from_u8(mode)?,
                })
            })
            .collect())
    }

    pub(super) fn encode(&self, out: &mut BytesMut) {
        put_family(out, self.family);
        out.put_u8(self.mode.as_u8());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_send_receive_value_makes_the_whole_capability_unrecognized() {
        assert_eq!(
            AddPathFamily::decode_all(&[0, 1, 1, 3, 0, 2, 1, 4]),
            Ok(None)
        );
        assert_eq!(AddPathFamily::decode_all(&[0, 1, 1, 0]), Ok(None));
        assert!(AddPathFamily::decode_all(&[0, 1, 1]).is_err());
    }
}
