//! UPDATE messages (RFC 4271 section 4.3), with the multiprotocol NLRI of RFC 4760, the
//! path identifiers of RFC 7911 and the error handling of RFC 7606.
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```
//!
//! [`Update`] is one message as received or to be sent. [`pack`] and
//! [`pack_withdrawals`] write many prefixes as few messages as fit, which is how the
//! daemon sends routes.

mod pack;

use bytes::{Bytes, BytesMut};

pub use self::pack::{pack, pack_withdrawals};
use crate::attr::{
    AttrAction, AttrError, AttrValue, MpNlri, MpUnreach, PathAttribute, PathAttributes,
    decode_attributes,
};
use crate::ctx::{Afi, DecodeCtx, EncodeCtx, Family};
use crate::error::{DecodeError, EncodeError};
use crate::nlri::{self, Nlri, NlriError};
use crate::notification::{ErrorCode, Notification, update_subcode};
use crate::wire::{patch_len, reserve_len};

/// An UPDATE message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// Withdrawn IPv4 unicast routes (the Withdrawn Routes field).
    pub withdrawn: Vec<Nlri>,
    /// The path attributes, in the order received. MP_REACH_NLRI / MP_UNREACH_NLRI
    /// carry the routes of other families.
    pub attributes: PathAttributes,
    /// Announced IPv4 unicast routes (the NLRI field).
    pub nlri: Vec<Nlri>,
    /// RFC 7606 outcomes found while decoding that did not reset the session. When any
    /// is [`AttrAction::TreatAsWithdraw`] (see [`Update::treat_as_withdraw`]) every
    /// route in [`Update::announced`] must be withdrawn instead. Ignored by the encoder.
    pub errors: Vec<AttrError>,
}

/// An UPDATE that resets the session: the NOTIFICATION is [`UpdateError::notification`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The body is too short for the two length fields.
    #[error("body of {0} bytes is too short for the length fields")]
    Truncated(usize),
    /// The Withdrawn Routes Length runs past the message (or leaves no room for the
    /// Total Path Attribute Length).
    #[error("withdrawn routes length {0} overruns the message")]
    WithdrawnLength(u16),
    /// The Total Path Attribute Length runs past the message.
    #[error("total path attribute length {0} overruns the message")]
    AttributeLength(u16),
    /// The Withdrawn Routes field does not parse (RFC 7606 5.3).
    #[error("withdrawn routes: {0}")]
    InvalidWithdrawn(NlriError),
    /// The NLRI field does not parse (RFC 7606 5.3).
    #[error("NLRI: {0}")]
    InvalidNlri(NlriError),
    /// A path attribute error whose RFC 7606 action is a session reset.
    #[error("{0}")]
    Attribute(AttrError),
}

impl UpdateError {
    /// The NOTIFICATION to send: code 3 (UPDATE Message Error) with Malformed Attribute
    /// List for length fields that overrun (RFC 4271 6.3), Invalid Network Field for
    /// NLRI that do not parse, and the attribute's own subcode and data otherwise.
    pub fn notification(&self) -> Notification {
        let plain = |subcode| Notification::new(ErrorCode::Update, subcode, Bytes::new());
        match self {
            UpdateError::Truncated(_)
            | UpdateError::WithdrawnLength(_)
            | UpdateError::AttributeLength(_) => plain(update_subcode::MALFORMED_ATTRIBUTE_LIST),
            UpdateError::InvalidWithdrawn(_) | UpdateError::InvalidNlri(_) => {
                plain(update_subcode::INVALID_NETWORK_FIELD)
            }
            UpdateError::Attribute(e) => e.notification(),
        }
    }
}

impl Update {
    /// An UPDATE announcing IPv4 unicast `nlri` with `attributes`.
    pub fn announce(attributes: PathAttributes, nlri: Vec<Nlri>) -> Self {
        Update {
            attributes,
            nlri,
            ..Update::default()
        }
    }

    /// Whether RFC 7606 says to treat every route this UPDATE announces as withdrawn.
    pub fn treat_as_withdraw(&self) -> bool {
        self.errors
            .iter()
            .any(|e| e.action == AttrAction::TreatAsWithdraw)
    }

    /// The End-of-RIB marker's family (RFC 4724 section 2), if this is one: an empty
    /// UPDATE for IPv4 unicast, or an UPDATE whose only content is an MP_UNREACH_NLRI
    /// without withdrawn routes for the other families.
    pub fn end_of_rib(&self) -> Option<Family> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() || !self.errors.is_empty() {
            return None;
        }
        let mut attrs = self.attributes.iter();
        match (attrs.next(), attrs.next()) {
            (None, _) => Some(Family::IPV4_UNICAST),
            (
                Some(PathAttribute {
                    value: AttrValue::MpUnreach(m),
                    ..
                }),
                None,
            ) if m.withdrawn.is_empty() => Some(m.family),
            _ => None,
        }
    }

    /// The End-of-RIB marker for `family`.
    pub fn end_of_rib_marker(family: Family) -> Update {
        if family == Family::IPV4_UNICAST {
            return Update::default();
        }
        let withdrawn = if family.is_unicast_ip() {
            MpNlri::Prefixes(Vec::new())
        } else {
            MpNlri::Opaque(Bytes::new())
        };
        let unreach = AttrValue::MpUnreach(Box::new(MpUnreach { family, withdrawn }));
        Update {
            attributes: PathAttributes::new().with(unreach),
            ..Update::default()
        }
    }

    /// Every announced route with its family: the IPv4 NLRI field, then MP_REACH_NLRI
    /// (IPv4 and IPv6 unicast; other families are in [`PathAttributes::mp_reach`]).
    pub fn announced(&self) -> impl Iterator<Item = (Family, &Nlri)> {
        let mp = self
            .attributes
            .mp_reach()
            .map(|m| (m.family, m.nlri.prefixes()));
        let (mp_family, mp) = mp.unwrap_or((Family::IPV4_UNICAST, &[]));
        self.nlri
            .iter()
            .map(|n| (Family::IPV4_UNICAST, n))
            .chain(mp.iter().map(move |n| (mp_family, n)))
    }

    /// Every withdrawn route with its family: the Withdrawn Routes field, then
    /// MP_UNREACH_NLRI (IPv4 and IPv6 unicast).
    pub fn withdrawals(&self) -> impl Iterator<Item = (Family, &Nlri)> {
        let mp = self
            .attributes
            .mp_unreach()
            .map(|m| (m.family, m.withdrawn.prefixes()));
        let (mp_family, mp) = mp.unwrap_or((Family::IPV4_UNICAST, &[]));
        self.withdrawn
            .iter()
            .map(|n| (Family::IPV4_UNICAST, n))
            .chain(mp.iter().map(move |n| (mp_family, n)))
    }

    /// Decodes the body of an UPDATE (everything after the header); `offset` is where the
    /// body starts in the message, so that error offsets count from the message start.
    pub fn decode_body(body: &[u8], offset: usize, ctx: &DecodeCtx) -> Result<Update, DecodeError> {
        let err = |at: usize, e: UpdateError| DecodeError::new(offset + at, e);
        let wlen = match *body {
            [a, b, ..] => u16::from_be_bytes([a, b]),
            _ => return Err(err(0, UpdateError::Truncated(body.len()))),
        };
        let w_end = 2 + usize::from(wlen);
        let withdrawn_raw = body
            .get(2..w_end)
            .ok_or(err(0, UpdateError::WithdrawnLength(wlen)))?;
        let alen = match body.get(w_end..w_end + 2) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => return Err(err(0, UpdateError::WithdrawnLength(wlen))),
        };
        let a_start = w_end + 2;
        let a_end = a_start + usize::from(alen);
        let attrs_raw = body
            .get(a_start..a_end)
            .ok_or(err(w_end, UpdateError::AttributeLength(alen)))?;
        let nlri_raw = body.get(a_end..).unwrap_or_default();

        let block = Bytes::copy_from_slice(attrs_raw);
        let decoded = decode_attributes(&block, offset + a_start, ctx, !nlri_raw.is_empty())
            .map_err(|e| DecodeError::new(e.offset, UpdateError::Attribute(e)))?;

        let add_path = ctx.add_path(Family::IPV4_UNICAST);
        let mut withdrawn = Vec::new();
        nlri::decode_into(withdrawn_raw, Afi::IPV4, add_path, &mut withdrawn)
            .map_err(|e| err(2 + e.offset(), UpdateError::InvalidWithdrawn(e)))?;
        let mut nlri = Vec::new();
        nlri::decode_into(nlri_raw, Afi::IPV4, add_path, &mut nlri)
            .map_err(|e| err(a_end + e.offset(), UpdateError::InvalidNlri(e)))?;
        Ok(Update {
            withdrawn,
            attributes: decoded.attrs,
            nlri,
            errors: decoded.errors,
        })
    }

    /// Appends the body: withdrawn routes, the attributes in their order, the NLRI. On
    /// error `out` is left as it was.
    pub fn encode_body(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.encode_fields(ctx, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_fields(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        let add_path = ctx.add_path(Family::IPV4_UNICAST);
        let at = reserve_len(out, 2);
        encode_ipv4(&self.withdrawn, add_path, out)?;
        patch_len(out, at, 2).ok_or(EncodeError::FieldTooLong {
            field: "withdrawn routes",
            len: out.len() - at - 2,
            max: usize::from(u16::MAX),
        })?;
        let at = reserve_len(out, 2);
        self.attributes.encode(ctx, out)?;
        patch_len(out, at, 2).ok_or(EncodeError::FieldTooLong {
            field: "path attributes",
            len: out.len() - at - 2,
            max: usize::from(u16::MAX),
        })?;
        encode_ipv4(&self.nlri, add_path, out)
    }
}

/// Appends IPv4 NLRI, refusing IPv6 prefixes.
fn encode_ipv4(list: &[Nlri], add_path: bool, out: &mut BytesMut) -> Result<(), EncodeError> {
    for n in list {
        if !n.prefix.addr().is_ipv4() {
            return Err(EncodeError::Invalid {
                field: "NLRI",
                reason: "IPv6 prefix in an IPv4 field (use MP_REACH_NLRI / MP_UNREACH_NLRI)",
            });
        }
        n.encode(add_path, out);
    }
    Ok(())
}
