//! OPEN messages (RFC 4271 section 4.2) with the extended optional parameters length of
//! RFC 9072.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Each parameter:  | Parm. Type (1) | Parm. Length (1) | Parameter Value (variable) |
//! ```
//!
//! RFC 9072 form, when the parameters do not fit one-octet lengths:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Non-Ext OP Len.|Non-Ext OP Type|  Extended Opt. Parm. Length   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Each parameter:  | Parm. Type (1) | Parameter Length (2) | Parameter Value (variable) |
//! ```
//!
//! Non-Ext OP Len and Non-Ext OP Type are both 255 on the wire. The extended form is
//! recognised when Non-Ext OP Len is not zero and the next octet is 255; the Non-Ext OP
//! Len value itself is then ignored (RFC 9072 section 2), and re-encoded as 255.

use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};

use crate::capability::Capability;
use crate::error::{DecodeError, EncodeError};
use crate::notification::{ErrorCode, Notification, open_subcode};
use crate::wire::offset;

/// The only BGP version there is.
pub const BGP_VERSION: u8 = 4;
/// The 2-octet AS number that stands in for a 4-octet one (RFC 6793).
pub const AS_TRANS: u16 = 23456;
/// Optional parameter type of the Capabilities parameter (RFC 5492).
pub const PARAM_CAPABILITIES: u8 = 2;
/// Non-Ext OP Type announcing the RFC 9072 extended form.
const PARAM_EXTENDED_LENGTH: u8 = 255;
/// Version, My AS, Hold Time, BGP Identifier and the one-octet parameters length.
const FIXED_LEN: usize = 10;

/// An OPEN message.
///
/// The version is always 4 and is not stored. Decoding keeps the optional parameters as
/// they were grouped on the wire and records which length form was used, so encoding a
/// decoded OPEN gives back its bytes (reserved bits and Non-Ext OP Len aside, which are
/// sent as zero and 255).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Open {
    /// My Autonomous System: the sender's AS, or [`AS_TRANS`] if it does not fit 16 bits
    /// (see [`Open::asn`]).
    pub my_as: u16,
    /// Proposed hold time in seconds: 0 or at least 3.
    pub hold_time: u16,
    /// BGP Identifier; never 0.0.0.0.
    pub bgp_id: Ipv4Addr,
    /// Optional parameters, in wire order.
    pub params: Vec<OptionalParam>,
    /// Whether the RFC 9072 extended form was received, or is wanted on encode even if
    /// the parameters would fit the classic form. Encoding also uses it when they do not.
    pub extended_params: bool,
}

/// An optional parameter of an OPEN.
///
/// Only the Capabilities parameter is defined today (type 1, Authentication, was
/// deprecated by RFC 5492); any other type is an [`OpenError::UnsupportedOptionalParameter`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OptionalParam {
    /// Capabilities (type 2, RFC 5492). Some speakers send all capabilities in one such
    /// parameter, others one parameter per capability; both are kept as received. An
    /// empty list is accepted and kept.
    Capabilities(Vec<Capability>),
}

impl OptionalParam {
    /// The parameter type.
    pub fn kind(&self) -> u8 {
        match self {
            OptionalParam::Capabilities(_) => PARAM_CAPABILITIES,
        }
    }

    fn encode_value(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            OptionalParam::Capabilities(caps) => {
                caps.iter().try_for_each(|c| c.encode(out))?;
            }
        }
        Ok(())
    }
}

/// What is wrong with an OPEN. Each maps to the NOTIFICATION of RFC 4271 section 6.2.
///
/// Bad Peer AS (subcode 2) is not here: whether an AS is acceptable depends on the
/// configured peer, so the daemon decides it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The body is shorter than the 10 fixed octets. The header check makes this
    /// unreachable from [`crate::Message::decode`]; RFC 4271 names no subcode for it, so it
    /// maps to Unspecific.
    #[error("body of {0} bytes is shorter than the 10 fixed octets")]
    Truncated(usize),
    /// A version other than 4; the NOTIFICATION data is the version we support (RFC 4271
    /// section 6.2: "the largest, locally-supported version number less than the version
    /// the remote BGP peer bid", 2 octets).
    #[error("unsupported BGP version {0}; this speaker supports version 4")]
    UnsupportedVersion(u8),
    /// A hold time of one or two seconds, which RFC 4271 section 4.2 says MUST be
    /// rejected.
    #[error("hold time of {0} seconds is unacceptable (must be 0 or at least 3)")]
    UnacceptableHoldTime(u16),
    /// A BGP Identifier of 0.0.0.0 (RFC 6286 section 2.2 allows any other value).
    #[error("BGP identifier {0} is not valid")]
    BadBgpIdentifier(Ipv4Addr),
    /// An optional parameter type other than Capabilities, including 255 anywhere but
    /// first (RFC 9072 section 3).
    #[error("unsupported optional parameter type {0}")]
    UnsupportedOptionalParameter(u8),
    /// The optional parameter lengths do not add up. RFC 4271 and RFC 9072 name no subcode
    /// for this; as a recognised parameter that is malformed it maps to Unspecific.
    #[error("malformed optional parameters: {0}")]
    MalformedParameters(&'static str),
    /// A capability this crate knows with a value of the wrong length or shape: a
    /// recognised parameter that is malformed, so Unspecific (RFC 4271 section 6.2).
    #[error("malformed capability {code}: {reason}")]
    MalformedCapability {
        /// Capability code.
        code: u8,
        /// What is wrong.
        reason: &'static str,
    },
}

impl OpenError {
    /// The NOTIFICATION to send: OPEN Message Error with the subcode of RFC 4271 section
    /// 6.2. Only Unsupported Version Number carries data.
    pub fn notification(&self) -> Notification {
        let (subcode, data) = match self {
            OpenError::UnsupportedVersion(_) => (
                open_subcode::UNSUPPORTED_VERSION,
                Bytes::copy_from_slice(&u16::from(BGP_VERSION).to_be_bytes()),
            ),
            OpenError::UnacceptableHoldTime(_) => {
                (open_subcode::UNACCEPTABLE_HOLD_TIME, Bytes::new())
            }
            OpenError::BadBgpIdentifier(_) => (open_subcode::BAD_BGP_IDENTIFIER, Bytes::new()),
            OpenError::UnsupportedOptionalParameter(_) => {
                (open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER, Bytes::new())
            }
            OpenError::Truncated(_)
            | OpenError::MalformedParameters(_)
            | OpenError::MalformedCapability { .. } => (open_subcode::UNSPECIFIC, Bytes::new()),
        };
        Notification::new(ErrorCode::Open, subcode, data)
    }
}

impl Open {
    /// An OPEN for AS `asn` with `caps` in one Capabilities parameter.
    ///
    /// My AS is `asn`, or [`AS_TRANS`] when `asn` does not fit 16 bits; a
    /// [`Capability::FourOctetAs`] carrying `asn` is always added (any in `caps` is
    /// replaced), since every modern speaker announces it.
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, caps: Vec<Capability>) -> Open {
        let mut caps: Vec<Capability> = caps
            .into_iter()
            .filter(|c| !matches!(c, Capability::FourOctetAs(_)))
            .collect();
        caps.push(Capability::FourOctetAs(asn));
        Open {
            my_as: u16::try_from(asn).unwrap_or(AS_TRANS),
            hold_time,
            bgp_id,
            params: vec![OptionalParam::Capabilities(caps)],
            extended_params: false,
        }
    }

    /// The sender's AS: the value of its first 4-octet AS capability if it sent one,
    /// otherwise My AS.
    pub fn asn(&self) -> u32 {
        self.capabilities()
            .find_map(|c| match c {
                Capability::FourOctetAs(asn) => Some(*asn),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as))
    }

    /// Every capability of every Capabilities parameter, in wire order.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> + '_ {
        self.params.iter().flat_map(|p| match p {
            OptionalParam::Capabilities(caps) => caps.iter(),
        })
    }

    /// Whether [`Open::encode_body`] writes the RFC 9072 extended form: when
    /// [`Open::extended_params`] is set, or when the parameters do not fit one-octet
    /// lengths.
    pub fn uses_extended_params(&self) -> bool {
        self.extended_params
            || self
                .encode_params()
                .is_ok_and(|params| !fits_classic(&params))
    }

    /// Decodes the body (everything after the header). `offset` is where the body starts
    /// in the message, so that error offsets count from the start of the message.
    pub fn decode_body(body: &[u8], offset: usize) -> Result<Open, DecodeError> {
        let err = |at: usize, e: OpenError| DecodeError::new(offset.saturating_add(at), e);
        let (fixed, rest) = body
            .split_first_chunk::<FIXED_LEN>()
            .ok_or(err(0, OpenError::Truncated(body.len())))?;
        let [version, as0, as1, h0, h1, id0, id1, id2, id3, non_ext_len] = *fixed;
        if version != BGP_VERSION {
            return Err(err(0, OpenError::UnsupportedVersion(version)));
        }
        let hold_time = u16::from_be_bytes([h0, h1]);
        if matches!(hold_time, 1 | 2) {
            return Err(err(3, OpenError::UnacceptableHoldTime(hold_time)));
        }
        let bgp_id = Ipv4Addr::new(id0, id1, id2, id3);
        if bgp_id.is_unspecified() {
            return Err(err(5, OpenError::BadBgpIdentifier(bgp_id)));
        }

        let extended = non_ext_len != 0 && rest.first() == Some(&PARAM_EXTENDED_LENGTH);
        let (params_at, params) = if extended {
            let ([_, l0, l1], params) = rest.split_first_chunk::<3>().ok_or(err(
                FIXED_LEN,
                OpenError::MalformedParameters("extended optional parameters length is missing"),
            ))?;
            if params.len() != usize::from(u16::from_be_bytes([*l0, *l1])) {
                return Err(err(
                    FIXED_LEN + 1,
                    OpenError::MalformedParameters(
                        "extended optional parameters length disagrees with the message length",
                    ),
                ));
            }
            (FIXED_LEN + 3, params)
        } else {
            if rest.len() != usize::from(non_ext_len) {
                return Err(err(
                    FIXED_LEN - 1,
                    OpenError::MalformedParameters(
                        "optional parameters length disagrees with the message length",
                    ),
                ));
            }
            (FIXED_LEN, rest)
        };
        let params = decode_params(params, extended).map_err(|(at, e)| err(params_at + at, e))?;
        Ok(Open {
            my_as: u16::from_be_bytes([as0, as1]),
            hold_time,
            bgp_id,
            params,
            extended_params: extended,
        })
    }

    /// Appends the body to `out`. Refuses a hold time of 1 or 2, a BGP Identifier of
    /// 0.0.0.0 and parameters that do not fit even the extended form, writing nothing.
    pub fn encode_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        if matches!(self.hold_time, 1 | 2) {
            return Err(EncodeError::Invalid {
                field: "hold time",
                reason: "must be 0 or at least 3 seconds",
            });
        }
        if self.bgp_id.is_unspecified() {
            return Err(EncodeError::Invalid {
                field: "BGP identifier",
                reason: "must not be 0.0.0.0",
            });
        }
        let params = self.encode_params()?;
        let extended = self.extended_params || !fits_classic(&params);
        let total: usize = params
            .iter()
            .map(|(_, v)| if extended { 3 } else { 2 } + v.len())
            .sum();

        out.put_u8(BGP_VERSION);
        out.put_u16(self.my_as);
        out.put_u16(self.hold_time);
        out.put_slice(&self.bgp_id.octets());
        if extended {
            let total = u16::try_from(total).map_err(|_| EncodeError::FieldTooLong {
                field: "extended optional parameters",
                len: total,
                max: usize::from(u16::MAX),
            })?;
            out.put_u8(u8::MAX);
            out.put_u8(PARAM_EXTENDED_LENGTH);
            out.put_u16(total);
            for (kind, value) in &params {
                out.put_u8(*kind);
                // Each value is at most `total`, which fits 16 bits.
                out.put_u16(u16::try_from(value.len()).unwrap_or(u16::MAX));
                out.put_slice(value);
            }
        } else {
            // `fits_classic` checked every length below.
            out.put_u8(u8::try_from(total).unwrap_or(u8::MAX));
            for (kind, value) in &params {
                out.put_u8(*kind);
                out.put_u8(u8::try_from(value.len()).unwrap_or(u8::MAX));
                out.put_slice(value);
            }
        }
        Ok(())
    }

    /// Each parameter's type and encoded value.
    fn encode_params(&self) -> Result<Vec<(u8, BytesMut)>, EncodeError> {
        self.params
            .iter()
            .map(|p| {
                let mut value = BytesMut::new();
                p.encode_value(&mut value)?;
                Ok((p.kind(), value))
            })
            .collect()
    }
}

/// Whether the parameters fit the classic form: every value and the whole run within
/// one-octet lengths.
fn fits_classic(params: &[(u8, BytesMut)]) -> bool {
    let max = usize::from(u8::MAX);
    params.iter().all(|(_, v)| v.len() <= max)
        && params.iter().map(|(_, v)| 2 + v.len()).sum::<usize>() <= max
}

/// Decodes the optional parameters. On error, returns the offset within `input`.
fn decode_params(input: &[u8], extended: bool) -> Result<Vec<OptionalParam>, (usize, OpenError)> {
    let header_len = if extended { 3 } else { 2 };
    let mut params = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let at = offset(input, rest);
        let (kind, value, tail) = split_param(rest, extended).ok_or((
            at,
            OpenError::MalformedParameters("parameter length runs past the end of the parameters"),
        ))?;
        let param = match kind {
            PARAM_CAPABILITIES => OptionalParam::Capabilities(
                Capability::decode_list(value).map_err(|(a, e)| (at + header_len + a, e))?,
            ),
            other => return Err((at, OpenError::UnsupportedOptionalParameter(other))),
        };
        params.push(param);
        rest = tail;
    }
    Ok(params)
}

/// Splits type, length (one octet, or two in the extended form) and value off `input`.
fn split_param(input: &[u8], extended: bool) -> Option<(u8, &[u8], &[u8])> {
    use nom::number::complete::{be_u8, be_u16};

    let parse = |i| -> crate::wire::IResult<'_, (u8, &[u8])> {
        let (i, kind) = be_u8(i)?;
        let (i, len) = if extended {
            be_u16(i)?
        } else {
            be_u8(i).map(|(i, l)| (i, u16::from(l)))?
        };
        let (i, value) = nom::bytes::complete::take(len)(i)?;
        Ok((i, (kind, value)))
    };
    let (tail, (kind, value)) = parse(input).ok()?;
    Some((kind, value, tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctx::Family;

    fn body(open: &Open) -> Vec<u8> {
        let mut out = BytesMut::new();
        open.encode_body(&mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn new_uses_as_trans_for_wide_asns_and_always_announces_four_octets() {
        let id = Ipv4Addr::new(192, 0, 2, 1);
        let open = Open::new(4_200_000_001, 90, id, vec![Capability::FourOctetAs(1)]);
        assert_eq!(open.my_as, AS_TRANS);
        assert_eq!(open.asn(), 4_200_000_001);
        assert_eq!(
            open.capabilities().collect::<Vec<_>>(),
            [&Capability::FourOctetAs(4_200_000_001)]
        );
        let open = Open::new(65001, 90, id, vec![Capability::RouteRefresh]);
        assert_eq!(open.my_as, 65001);
        assert_eq!(
            open.capabilities().cloned().collect::<Vec<_>>(),
            [Capability::RouteRefresh, Capability::FourOctetAs(65001)]
        );
    }

    #[test]
    fn asn_falls_back_to_my_as_without_the_capability() {
        let open = Open {
            my_as: 64512,
            hold_time: 0,
            bgp_id: Ipv4Addr::new(1, 1, 1, 1),
            params: vec![],
            extended_params: false,
        };
        assert_eq!(open.asn(), 64512);
    }

    #[test]
    fn parameters_over_255_bytes_switch_to_the_extended_form() {
        // 64 MP capabilities of 6 bytes: 384 bytes in one parameter.
        let caps = (0..64u16)
            .map(|i| Capability::Multiprotocol(Family::new(crate::Afi(i), crate::Safi(1))))
            .collect();
        let open = Open::new(65001, 90, Ipv4Addr::new(10, 0, 0, 1), caps);
        assert!(!open.extended_params && open.uses_extended_params());
        let b = body(&open);
        assert_eq!(&b[9..11], [255, 255]);
        let len = usize::from(u16::from_be_bytes([b[11], b[12]]));
        assert_eq!(len, b.len() - 13);
        assert_eq!(&b[13..16], [2, 0x01, 0x86]); // type 2, 390 bytes
        let back = Open::decode_body(&b, 19).unwrap();
        assert_eq!(
            back,
            Open {
                extended_params: true,
                ..open
            }
        );
    }

    #[test]
    fn encode_refuses_what_decode_would_reject() {
        let mut open = Open::new(65001, 2, Ipv4Addr::new(10, 0, 0, 1), vec![]);
        assert!(matches!(
            open.encode_body(&mut BytesMut::new()),
            Err(EncodeError::Invalid { .. })
        ));
        open.hold_time = 3;
        open.bgp_id = Ipv4Addr::UNSPECIFIED;
        let mut out = BytesMut::new();
        assert!(matches!(
            open.encode_body(&mut out),
            Err(EncodeError::Invalid { .. })
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn error_offsets_count_from_the_start_of_the_message() {
        let open = Open::new(
            65001,
            90,
            Ipv4Addr::new(10, 0, 0, 1),
            vec![Capability::RouteRefresh],
        );
        let mut b = body(&open);
        b[13] = 1; // route refresh capability length 0 -> 1 (now swallows the next byte)
        let e = Open::decode_body(&b, 19).unwrap_err();
        // Parameter at body 10, its value at 12, the route refresh triple first in it.
        assert_eq!(e.offset, 19 + 12);
    }
}
