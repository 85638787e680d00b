//! ACCUMULATED IGP METRIC (AIGP, type code 26, optional non-transitive; RFC 7311).
//!
//! The value is a list of TLVs; type 1 is the AIGP TLV with an 8-octet metric:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |         Length (incl. Type and Length)         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                             Value                             ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Malformed (a TLV shorter than 3 octets or overrunning the attribute, an AIGP TLV whose
//! length is not 11, a first AIGP TLV holding the maximum value): attribute discard
//! (RFC 7311 section 3.1). The TLVs are kept raw so that unknown ones pass through.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::attr::error::AttrErrorKind;

/// The AIGP TLV type.
const TLV_AIGP: u8 = 1;
/// Length of the AIGP TLV, header included.
const TLV_AIGP_LEN: u16 = 11;

/// The AIGP value: its TLVs, as received.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Aigp(Bytes);

impl Aigp {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        Self(Bytes::copy_from_slice(&self.0))
    }
    /// An attribute holding one AIGP TLV with `metric`.
    pub fn new(metric: u64) -> Self {
        let mut out = BytesMut::with_capacity(11);
        out.put_u8(TLV_AIGP);
        out.put_u16(TLV_AIGP_LEN);
        out.put_u64(metric);
        Aigp(out.freeze())
    }

    /// The metric of the first AIGP TLV.
    pub fn metric(&self) -> Option<u64> {
        tlvs(&self.0).find_map(|(t, v)| {
            (t == TLV_AIGP)
                .then(|| v.try_into().ok().map(u64::from_be_bytes))
                .flatten()
        })
    }

    /// The wire value (all TLVs).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn decode(value: Bytes) -> Result<Self, AttrErrorKind> {
        let mut pos = 0;
        let mut first_aigp = true;
        while pos < value.len() {
            let header = value
                .get(pos..pos + 3)
                .ok_or(AttrErrorKind::Malformed("AIGP TLV truncated"))?;
            let len = u16::from_be_bytes([header[1], header[2]]);
            if len < 3 || pos + usize::from(len) > value.len() {
                return Err(AttrErrorKind::Malformed("AIGP TLV length"));
            }
            if header[0] == TLV_AIGP {
                if len != TLV_AIGP_LEN {
                    return Err(AttrErrorKind::Malformed("AIGP TLV length is not 11"));
                }
                let metric = value.get(pos + 3..pos + 11).and_then(|m| m.try_into().ok());
                if first_aigp && metric.map(u64::from_be_bytes) == Some(u64::MAX) {
                    return Err(AttrErrorKind::Malformed("AIGP metric at its maximum"));
                }
                first_aigp = false;
            }
            pos += usize::from(len);
        }
        if value.is_empty() {
            return Err(AttrErrorKind::Length(0));
        }
        Ok(Aigp(value))
    }
}

/// The (type, value) pairs of well-formed TLVs.
fn tlvs(mut rest: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&t, tail) = rest.split_first()?;
        let len = usize::from(u16::from_be_bytes(tail.get(..2)?.try_into().ok()?));
        let value = rest.get(3..len)?;
        rest = rest.get(len..)?;
        Some((t, value))
    })
}

impl fmt::Debug for Aigp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.metric() {
            Some(m) if self.0.len() == 11 => write!(f, "Aigp({m})"),
            _ => write!(f, "Aigp({:02x?})", &self.0[..]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_tlv_round_trips_and_unknown_tlvs_pass() {
        let a = Aigp::new(300);
        assert_eq!(a.as_bytes(), &[1, 0, 11, 0, 0, 0, 0, 0, 0, 1, 44]);
        assert_eq!(
            Aigp::decode(Bytes::copy_from_slice(a.as_bytes()))
                .unwrap()
                .metric(),
            Some(300)
        );
        let with_unknown = Bytes::from_static(&[9, 0, 4, 0xaa, 1, 0, 11, 0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(Aigp::decode(with_unknown).unwrap().metric(), Some(5));
    }

    #[test]
    fn malformed_tlvs_are_rejected() {
        for bad in [
            &[1u8, 0, 10, 0, 0, 0, 0, 0, 0, 0][..],
            &[1, 0, 11, 0, 0, 0],
            &[1, 0, 2],
            &[1, 0],
            &[1, 0, 11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[],
        ] {
            assert!(
                Aigp::decode(Bytes::copy_from_slice(bad)).is_err(),
                "{bad:?}"
            );
        }
    }
}
