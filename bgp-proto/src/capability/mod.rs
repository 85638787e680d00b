//! Capabilities advertisement (RFC 5492): the triples carried in the Capabilities optional
//! parameter of an OPEN.
//!
//! ```text
//! +------------------------------+
//! | Capability Code (1 octet)    |
//! +------------------------------+
//! | Capability Length (1 octet)  |
//! +------------------------------+
//! | Capability Value (variable)  |
//! ~                              ~
//! +------------------------------+
//! ```
//!
//! Error handling. RFC 4271 section 6.2 says an optional parameter that is recognized but
//! malformed gets OPEN Message Error / Unspecific (subcode 0); a capability this crate
//! knows whose value has the wrong length or shape is such a parameter, so it becomes
//! [`OpenError::MalformedCapability`]. The capability RFCs themselves are silent on
//! malformed values, with two exceptions that this module follows:
//! - RFC 7911 section 4: an ADD-PATH Send/Receive value other than 1, 2 or 3 means the
//!   capability "SHOULD be treated as not understood and ignored", so it is kept as
//!   [`Capability::Unknown`];
//! - an FQDN capability (draft-walton-bgp-hostname-capability, informational) whose names
//!   are not UTF-8 is kept as [`Capability::Unknown`] too: its framing is sound, only the
//!   text cannot be represented, and nothing in the session depends on it.
//!
//! Unknown capability codes are kept as raw bytes (RFC 5492 says to ignore them, which is
//! the daemon's business), so every OPEN re-encodes to the bytes it was decoded from,
//! except that reserved bits and octets are sent as zero (RFC 4760, RFC 4724, RFC 9494
//! all say to ignore them on receipt).

mod add_path;
mod extended_next_hop;
mod fqdn;
mod graceful_restart;
mod role;

use bytes::{BufMut, Bytes, BytesMut};

pub use self::add_path::{AddPathFamily, AddPathMode};
pub use self::extended_next_hop::ExtendedNextHopEntry;
pub use self::fqdn::Fqdn;
pub use self::graceful_restart::{
    GracefulRestart, GracefulRestartFamily, LlgrFamily, LongLivedGracefulRestart,
};
pub use self::role::Role;
use crate::ctx::{Afi, Family, Safi};
use crate::error::EncodeError;
use crate::open::OpenError;
use crate::wire::{patch_len, reserve_len};

/// Capability codes (IANA "Capability Codes") that this crate decodes.
pub mod code {
    /// Multiprotocol Extensions (RFC 4760).
    pub const MULTIPROTOCOL: u8 = 1;
    /// Route Refresh (RFC 2918).
    pub const ROUTE_REFRESH: u8 = 2;
    /// Extended Next Hop Encoding (RFC 8950).
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    /// BGP Extended Message (RFC 8654).
    pub const EXTENDED_MESSAGE: u8 = 6;
    /// BGP Role (RFC 9234).
    pub const ROLE: u8 = 9;
    /// Graceful Restart (RFC 4724).
    pub const GRACEFUL_RESTART: u8 = 64;
    /// Support for 4-octet AS number (RFC 6793).
    pub const FOUR_OCTET_AS: u8 = 65;
    /// ADD-PATH (RFC 7911).
    pub const ADD_PATH: u8 = 69;
    /// Enhanced Route Refresh (RFC 7313).
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
    /// Long-Lived Graceful Restart (RFC 9494).
    pub const LONG_LIVED_GRACEFUL_RESTART: u8 = 71;
    /// FQDN (draft-walton-bgp-hostname-capability).
    pub const FQDN: u8 = 73;
    /// Pre-standard Cisco route refresh; kept as [`super::Capability::Unknown`].
    pub const ROUTE_REFRESH_CISCO: u8 = 128;
}

/// One capability from an OPEN.
///
/// Variants with a fixed value check its length on decode; a value that does not fit is
/// a malformed OPEN (see the module documentation).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Multiprotocol Extensions (code 1, RFC 4760): the speaker handles this family.
    ///
    /// ```text
    /// 0       7      15      23      31
    /// +-------+-------+-------+-------+
    /// |      AFI      | Res.  | SAFI  |
    /// +-------+-------+-------+-------+
    /// ```
    Multiprotocol(Family),
    /// Route Refresh (code 2, RFC 2918); empty value.
    RouteRefresh,
    /// Enhanced Route Refresh (code 70, RFC 7313); empty value.
    EnhancedRouteRefresh,
    /// 4-octet AS number support (code 65, RFC 6793); the value is the speaker's AS.
    FourOctetAs(u32),
    /// Graceful Restart (code 64, RFC 4724, RFC 8538).
    GracefulRestart(GracefulRestart),
    /// Long-Lived Graceful Restart (code 71, RFC 9494).
    LongLivedGracefulRestart(LongLivedGracefulRestart),
    /// ADD-PATH (code 69, RFC 7911): per family, whether the speaker sends and/or
    /// receives path identifiers.
    AddPath(Vec<AddPathFamily>),
    /// Extended Next Hop Encoding (code 5, RFC 8950).
    ExtendedNextHop(Vec<ExtendedNextHopEntry>),
    /// BGP Extended Message (code 6, RFC 8654); empty value.
    ExtendedMessage,
    /// Host and domain name (code 73, draft-walton-bgp-hostname-capability).
    Fqdn(Fqdn),
    /// BGP Role (code 9, RFC 9234).
    Role(Role),
    /// Any other capability, value kept as received.
    Unknown {
        /// Capability code.
        code: u8,
        /// Capability value.
        value: Bytes,
    },
}

impl Capability {
    /// The capability code.
    pub fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => code::MULTIPROTOCOL,
            Capability::RouteRefresh => code::ROUTE_REFRESH,
            Capability::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            Capability::FourOctetAs(_) => code::FOUR_OCTET_AS,
            Capability::GracefulRestart(_) => code::GRACEFUL_RESTART,
            Capability::LongLivedGracefulRestart(_) => code::LONG_LIVED_GRACEFUL_RESTART,
            Capability::AddPath(_) => code::ADD_PATH,
            Capability::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => code::EXTENDED_MESSAGE,
            Capability::Fqdn(_) => code::FQDN,
            Capability::Role(_) => code::ROLE,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// Decodes one capability from its code and value (the bytes after the length octet).
    pub fn decode(code: u8, value: &[u8]) -> Result<Capability, OpenError> {
        let malformed = |reason: &'static str| OpenError::MalformedCapability { code, reason };
        let unknown = || Capability::Unknown {
            code,
            value: Bytes::copy_from_slice(value),
        };
        Ok(match code {
            code::MULTIPROTOCOL => {
                let [a0, a1, _reserved, safi] =
                    array::<4>(value).ok_or(malformed("length is not 4"))?;
                Capability::Multiprotocol(family(a0, a1, safi))
            }
            code::ROUTE_REFRESH => {
                empty(value, Capability::RouteRefresh).ok_or(malformed("length is not 0"))?
            }
            code::ENHANCED_ROUTE_REFRESH => empty(value, Capability::EnhancedRouteRefresh)
                .ok_or(malformed("length is not 0"))?,
            code::EXTENDED_MESSAGE => {
                empty(value, Capability::ExtendedMessage).ok_or(malformed("length is not 0"))?
            }
            code::FOUR_OCTET_AS => {
                let asn = array::<4>(value).ok_or(malformed("length is not 4"))?;
                Capability::FourOctetAs(u32::from_be_bytes(asn))
            }
            code::GRACEFUL_RESTART => {
                Capability::GracefulRestart(GracefulRestart::decode(value).map_err(malformed)?)
            }
            code::LONG_LIVED_GRACEFUL_RESTART => Capability::LongLivedGracefulRestart(
                LongLivedGracefulRestart::decode(value).map_err(malformed)?,
            ),
            code::ADD_PATH => match AddPathFamily::decode_all(value).map_err(malformed)? {
                Some(families) => Capability::AddPath(families),
                None => unknown(),
            },
            code::EXTENDED_NEXT_HOP => Capability::ExtendedNextHop(
                ExtendedNextHopEntry::decode_all(value).map_err(malformed)?,
            ),
            code::FQDN => match Fqdn::decode(value).map_err(malformed)? {
                Some(fqdn) => Capability::Fqdn(fqdn),
                None => unknown(),
            },
            code::ROLE => {
                let [role] = array::<1>(value).ok_or(malformed("length is not 1"))?;
                Capability::Role(Role::from_u8(role))
            }
            _ => unknown(),
        })
    }

    /// Appends the capability triple (code, length, value) to `out`. Fails, leaving `out`
    /// as it was, if the value does not fit the one-octet length or a field is out of range.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_u8(self.code());
        let at = reserve_len(out, 1);
        let result = self.encode_value(out).and_then(|()| {
            patch_len(out, at, 1)
                .map(|_| ())
                .ok_or(EncodeError::FieldTooLong {
                    field: "capability value",
                    len: out.len() - at - 1,
                    max: usize::from(u8::MAX),
                })
        });
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_value(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Capability::Multiprotocol(family) => {
                out.put_u16(family.afi.0);
                out.put_u8(0);
                out.put_u8(family.safi.0);
            }
            Capability::RouteRefresh
            | Capability::EnhancedRouteRefresh
            | Capability::ExtendedMessage => {}
            Capability::FourOctetAs(asn) => out.put_u32(*asn),
            Capability::GracefulRestart(gr) => gr.encode(out)?,
            Capability::LongLivedGracefulRestart(llgr) => llgr.encode(out)?,
            Capability::AddPath(families) => {
                for f in families {
                    f.encode(out);
                }
            }
            Capability::ExtendedNextHop(entries) => {
                for e in entries {
                    e.encode(out);
                }
            }
            Capability::Fqdn(fqdn) => fqdn.encode(out)?,
            Capability::Role(role) => out.put_u8(role.as_u8()),
            Capability::Unknown { value, .. } => out.put_slice(value),
        }
        Ok(())
    }

    /// Decodes the value of a Capabilities optional parameter: a run of triples. On error,
    /// returns the offset within `input` of the offending triple.
    pub(crate) fn decode_list(input: &[u8]) -> Result<Vec<Capability>, (usize, OpenError)> {
        let mut caps = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let at = crate::wire::offset(input, rest);
            let (code, value, tail) = split_triple(rest).ok_or((
                at,
                OpenError::MalformedParameters(
                    "capability length runs past the end of its optional parameter",
                ),
            ))?;
            caps.push(Capability::decode(code, value).map_err(|e| (at, e))?);
            rest = tail;
        }
        Ok(caps)
    }
}

/// Splits `code, length, value` off the front of `input`, checking the length.
fn split_triple(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let ([code, len], rest) = input.split_first_chunk::<2>()?;
    let value = rest.get(..usize::from(*len))?;
    let tail = rest.get(usize::from(*len)..)?;
    Some((*code, value, tail))
}

/// The value as a fixed-size array, if it has exactly that length.
fn array<const N: usize>(value: &[u8]) -> Option<[u8; N]> {
    value.try_into().ok()
}

/// `cap` if `value` is empty, as RFC 2918, RFC 7313 and RFC 8654 require.
fn empty(value: &[u8], cap: Capability) -> Option<Capability> {
    value.is_empty().then_some(cap)
}

/// A family from the wire's two AFI octets and one SAFI octet.
fn family(a0: u8, a1: u8, safi: u8) -> Family {
    Family::new(Afi(u16::from_be_bytes([a0, a1])), Safi(safi))
}

/// Writes AFI (2 octets) and SAFI (1 octet).
fn put_family(out: &mut BytesMut, family: Family) {
    out.put_u16(family.afi.0);
    out.put_u8(family.safi.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(cap: &Capability) -> Vec<u8> {
        let mut out = BytesMut::new();
        cap.encode(&mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn multiprotocol_ignores_the_reserved_octet_and_sends_zero() {
        let cap = Capability::decode(1, &[0, 2, 0xaa, 1]).unwrap();
        assert_eq!(cap, Capability::Multiprotocol(Family::IPV6_UNICAST));
        assert_eq!(encode(&cap), [1, 4, 0, 2, 0, 1]);
    }

    #[test]
    fn fixed_length_capabilities_with_the_wrong_length_are_malformed() {
        for (code, value) in [
            (1u8, &[0u8, 1, 0][..]),
            (2, &[0][..]),
            (6, &[1][..]),
            (9, &[][..]),
            (9, &[1, 2][..]),
            (65, &[0, 0, 1][..]),
            (70, &[0, 0][..]),
        ] {
            let err = Capability::decode(code, value).unwrap_err();
            assert!(
                matches!(err, OpenError::MalformedCapability { code: c, .. } if c == code),
                "code {code}: {err:?}"
            );
            let n = err.notification();
            assert_eq!((n.code, n.subcode), (2, 0), "code {code}");
        }
    }

    #[test]
    fn a_value_over_255_bytes_is_refused_and_leaves_the_buffer_alone() {
        let mut out = BytesMut::from(&b"xy"[..]);
        let cap = Capability::Unknown {
            code: 200,
            value: Bytes::from(vec![0; 256]),
        };
        let err = cap.encode(&mut out).unwrap_err();
        assert_eq!(
            err,
            EncodeError::FieldTooLong {
                field: "capability value",
                len: 256,
                max: 255
            }
        );
        assert_eq!(&out[..], b"xy");
    }

    #[test]
    fn list_reports_the_offset_of_the_bad_triple() {
        // Route refresh, then 4-octet AS with a 3-byte value.
        let input = [2, 0, 65, 3, 0, 0, 1];
        let (at, err) = Capability::decode_list(&input).unwrap_err();
        assert_eq!(at, 2);
        assert!(matches!(
            err,
            OpenError::MalformedCapability { code: 65, .. }
        ));
        // Length running past the end.
        let (at, err) = Capability::decode_list(&[2, 0, 64, 9, 0]).unwrap_err();
        assert_eq!(at, 2);
        assert!(matches!(err, OpenError::MalformedParameters(_)));
    }
}
