//! Graceful Restart (RFC 4724, with the N bit of RFC 8538) and Long-Lived Graceful
//! Restart (RFC 9494) capabilities.

use bytes::{BufMut, BytesMut};

use super::{family, put_family};
use crate::ctx::Family;
use crate::error::EncodeError;

/// Restart State (R) bit of the Restart Flags, in the first 16 bits of the value.
const RESTART_STATE: u16 = 0x8000;
/// Graceful Notification (N) bit (RFC 8538).
const NOTIFICATION: u16 = 0x4000;
/// The 12-bit Restart Time.
const RESTART_TIME: u16 = 0x0fff;
/// Forwarding State (F) bit of the per-family flags, in both capabilities.
const FORWARDING_STATE: u8 = 0x80;
/// Largest 24-bit Long-lived Stale Time.
const MAX_STALE_TIME: u32 = 0x00ff_ffff;

/// The Graceful Restart capability (code 64, RFC 4724 section 3).
///
/// ```text
/// +--------------------------------------------------+
/// | Restart Flags (4 bits)                           |
/// +--------------------------------------------------+
/// | Restart Time in seconds (12 bits)                |
/// +--------------------------------------------------+
/// | Address Family Identifier (16 bits)              |
/// +--------------------------------------------------+
/// | Subsequent Address Family Identifier (8 bits)    |
/// +--------------------------------------------------+
/// | Flags for Address Family (8 bits)                |
/// +--------------------------------------------------+
/// | ...                                              |
/// +--------------------------------------------------+
///
/// Restart Flags:  0 1 2 3      Flags for Address Family:  0 1 2 3 4 5 6 7
///                +-+-+-+-+                               +-+-+-+-+-+-+-+-+
///                |R|N|   |                               |F|   Reserved  |
///                +-+-+-+-+                               +-+-+-+-+-+-+-+-+
/// ```
///
/// Reserved bits are ignored on receipt and sent as zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GracefulRestart {
    /// R: the speaker has restarted (its routes may still be in the peer's RIB).
    pub restart_state: bool,
    /// N: the speaker supports graceful restart on NOTIFICATION (RFC 8538).
    pub notification: bool,
    /// Seconds the peer should keep our routes after the session drops (at most 4095).
    pub restart_time: u16,
    /// Families whose forwarding state the speaker can preserve; empty for a speaker
    /// that only helps its peers restart.
    pub families: Vec<GracefulRestartFamily>,
}

/// One family of a [`GracefulRestart`] capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GracefulRestartFamily {
    /// The family.
    pub family: Family,
    /// F: forwarding state was preserved across the restart.
    pub forwarding_state: bool,
}

impl GracefulRestart {
    pub(super) fn decode(value: &[u8]) -> Result<Self, &'static str> {
        let (head, tuples) = value
            .split_first_chunk::<2>()
            .ok_or("shorter than its 2-byte header")?;
        let (tuples, rest) = tuples.as_chunks::<4>();
        if !rest.is_empty() {
            return Err("family tuples are not 4 bytes each");
        }
        let word = u16::from_be_bytes(*head);
        Ok(GracefulRestart {
            restart_state: word & RESTART_STATE != 0,
            notification: word & NOTIFICATION != 0,
            restart_time: word & RESTART_TIME,
            families: tuples
                .iter()
                .map(|&[a0, a1, safi, flags]| GracefulRestartFamily {
                    family: family(a0, a1, safi),
                    forwarding_state: flags & FORWARDING_STATE != 0,
                })
                .collect(),
        })
    }

    pub(super) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        if self.restart_time > RESTART_TIME {
            return Err(EncodeError::Invalid {
                field: "graceful restart time",
                reason: "exceeds the 12-bit maximum of 4095 seconds",
            });
        }
        let mut word = self.restart_time;
        if self.restart_state {
            word |= RESTART_STATE;
        }
        if self.notification {
            word |= NOTIFICATION;
        }
        out.put_u16(word);
        for f in &self.families {
            put_family(out, f.family);
            out.put_u8(if f.forwarding_state {
                FORWARDING_STATE
            } else {
                0
            });
        }
        Ok(())
    }
}

/// The Long-Lived Graceful Restart capability (code 71, RFC 9494 section 3.1): one
/// 7-byte tuple per family.
///
/// ```text
/// +--------------------------------------------------+
/// | Address Family Identifier (16 bits)              |
/// +--------------------------------------------------+
/// | Subsequent Address Family Identifier (8 bits)    |
/// +--------------------------------------------------+
/// | Flags for Address Family (8 bits)                |
/// +--------------------------------------------------+
/// | Long-lived Stale Time (24 bits)                  |
/// +--------------------------------------------------+
/// | ...                                              |
/// +--------------------------------------------------+
/// ```
///
/// RFC 9494 section 4.1: the capability is disregarded unless Graceful Restart is
/// advertised too; [`crate::negotiate()`] applies that rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LongLivedGracefulRestart {
    /// Per-family parameters.
    pub families: Vec<LlgrFamily>,
}

/// One family of a [`LongLivedGracefulRestart`] capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LlgrFamily {
    /// The family.
    pub family: Family,
    /// F: forwarding state was preserved.
    pub forwarding_state: bool,
    /// Seconds stale routes are kept after the restart time ends (24 bits).
    pub stale_time: u32,
}

impl LongLivedGracefulRestart {
    pub(super) fn decode(value: &[u8]) -> Result<Self, &'static str> {
        let (tuples, rest) = value.as_chunks::<7>();
        if !rest.is_empty() {
            return Err("family tuples are not 7 bytes each");
        }
        Ok(LongLivedGracefulRestart {
            families: tuples
                .iter()
                .map(|&[a0, a1, safi, flags, t0, t1, t2]| LlgrFamily {
                    family: family(a0, a1, safi),
                    forwarding_state: flags & FORWARDING_STATE != 0,
                    stale_time: u32::from_be_bytes([0, t0, t1, t2]),
                })
                .collect(),
        })
    }

    pub(super) fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        if self.families.iter().any(|f| f.stale_time > MAX_STALE_TIME) {
            return Err(EncodeError::Invalid {
                field: "long-lived stale time",
                reason: "exceeds the 24-bit maximum of 16777215 seconds",
            });
        }
        for f in &self.families {
            put_family(out, f.family);
            out.put_u8(if f.forwarding_state {
                FORWARDING_STATE
            } else {
                0
            });
            let [_, t0, t1, t2] = f.stale_time.to_be_bytes();
            out.put_slice(&[t0, t1, t2]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_flag_bits_are_ignored() {
        // R and N set plus two reserved bits; restart time 4095; F plus reserved bits.
        let gr = GracefulRestart::decode(&[0xff, 0xff, 0, 1, 1, 0xff]).unwrap();
        assert!(gr.restart_state && gr.notification);
        assert_eq!(gr.restart_time, 4095);
        assert_eq!(
            gr.families,
            [GracefulRestartFamily {
                family: Family::IPV4_UNICAST,
                forwarding_state: true
            }]
        );
        let mut out = BytesMut::new();
        gr.encode(&mut out).unwrap();
        assert_eq!(&out[..], [0xcf, 0xff, 0, 1, 1, 0x80]);
    }

    #[test]
    fn out_of_range_times_are_refused_on_encode() {
        let gr = GracefulRestart {
            restart_time: 4096,
            ..GracefulRestart::default()
        };
        assert!(matches!(
            gr.encode(&mut BytesMut::new()),
            Err(EncodeError::Invalid { .. })
        ));
        let llgr = LongLivedGracefulRestart {
            families: vec![LlgrFamily {
                family: Family::IPV4_UNICAST,
                forwarding_state: false,
                stale_time: 1 << 24,
            }],
        };
        assert!(matches!(
            llgr.encode(&mut BytesMut::new()),
            Err(EncodeError::Invalid { .. })
        ));
    }

    #[test]
    fn ragged_tuples_are_malformed() {
        assert!(GracefulRestart::decode(&[0]).is_err());
        assert!(GracefulRestart::decode(&[0, 0, 0, 1, 1]).is_err());
        assert!(LongLivedGracefulRestart::decode(&[0, 1, 1, 0, 0, 0]).is_err());
        assert_eq!(
            LongLivedGracefulRestart::decode(&[]),
            Ok(LongLivedGracefulRestart::default())
        );
    }
}
