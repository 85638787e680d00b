//! The path attribute list decoder, with the RFC 7606 rules for the list as a whole (see
//! [`super::error`] for the table).

use bytes::Bytes;

use super::aggregator::{Aggregator, decode_atomic_aggregate};
use super::error::{AttrAction, AttrError, AttrErrorKind, action_for};
use super::scalar::{decode_ipv4, decode_u32};
use super::{
    Aigp, AsPath, AttrFlags, AttrValue, ClusterList, Communities, ExtCommunities, LargeCommunities,
    MpReach, MpUnreach, Origin, PathAttribute, PathAttributes, UnknownAttr, code,
};
use crate::ctx::DecodeCtx;

/// A 256-bit set of type codes seen.
#[derive(Default)]
struct Seen([u64; 4]);

impl Seen {
    /// Marks `code`; returns whether it was marked before.
    fn insert(&mut self, code: u8) -> bool {
        let (word, bit) = (usize::from(code >> 6), 1u64 << (code & 63));
        match self.0.get_mut(word) {
            Some(w) => {
                let before = *w & bit != 0;
                *w |= bit;
                before
            }
            None => false,
        }
    }

    fn contains(&self, code: u8) -> bool {
        self.0
            .get(usize::from(code >> 6))
            .is_some_and(|w| w & (1u64 << (code & 63)) != 0)
    }
}

/// The result of a list that did not reset the session.
pub(crate) struct Decoded {
    pub(crate) attrs: PathAttributes,
    pub(crate) errors: Vec<AttrError>,
}

/// Decodes the path attribute list `block`, which starts `base` bytes into the message.
/// `ipv4_nlri` says whether the UPDATE's NLRI field is non-empty (for the mandatory
/// attribute check). Errors that reset the session come back as `Err`.
pub(crate) fn decode_attributes(
    block: &Bytes,
    base: usize,
    ctx: &DecodeCtx,
    ipv4_nlri: bool,
) -> Result<Decoded, AttrError> {
    let mut attrs = Vec::with_capacity(8);
    let mut errors = Vec::new();
    let mut seen = Seen::default();
    let mut overrun = false;
    let mut pos = 0;
    while pos < block.len() {
        let start = pos;
        let error = |type_code: u8, kind: AttrErrorKind, end: usize| AttrError {
            type_code,
            action: action_for(type_code, &kind),
            kind,
            offset: base + start,
            data: block.slice(start..end.min(block.len())),
        };
        // Header: flags, type, 1- or 2-octet length, all within the list.
        let rest = block.get(start..).unwrap_or_default();
        let (flags, type_code, hdr) = match *rest {
            [f, t, ..] => (
                AttrFlags(f),
                t,
                if f & AttrFlags::EXTENDED_LENGTH != 0 {
                    4
                } else {
                    3
                },
            ),
            _ => (AttrFlags(0), 0, 3),
        };
        let len = match (hdr, rest) {
            (3, [_, _, l, ..]) => Some(usize::from(*l)),
            (4, [_, _, h, l, ..]) => Some(usize::from(u16::from_be_bytes([*h, *l]))),
            _ => None,
        };
        let end = len.map(|l| start + hdr + l).filter(|&e| e <= block.len());
        let Some(end) = end else {
            // RFC 7606 section 4: treat-as-withdraw, the NLRI field being located by the
            // Total Path Attribute Length; a cut MP attribute resets the session.
            let e = error(type_code, AttrErrorKind::Overrun, block.len());
            if e.action == AttrAction::SessionReset {
                return Err(e);
            }
            errors.push(e);
            overrun = true;
            break;
        };
        pos = end;
        if seen.insert(type_code) {
            let e = error(type_code, AttrErrorKind::Duplicate, end);
            if e.action == AttrAction::SessionReset {
                return Err(e);
            }
            errors.push(e);
            continue;
        }
        let range = start + hdr..end;
        let Some(expected) = AttrFlags::for_type(type_code) else {
            if !flags.is_optional() {
                return Err(error(type_code, AttrErrorKind::UnrecognizedWellKnown, end));
            }
            attrs.push(PathAttribute {
                flags,
                value: AttrValue::Unknown(UnknownAttr {
                    type_code,
                    data: block.slice(range),
                }),
            });
            continue;
        };
        if matches!(type_code, code::AS4_PATH | code::AS4_AGGREGATOR) && ctx.four_octet_as {
            errors.push(error(type_code, AttrErrorKind::As4FromNewSpeaker, end));
            continue;
        }
        let role = AttrFlags::OPTIONAL | AttrFlags::TRANSITIVE;
        let flags_ok =
            flags.0 & role == expected.0 & role && (flags.is_optional() || !flags.is_partial());
        match decode_value(type_code, block, range, ctx) {
            Ok(v) => {
                if !flags_ok {
                    let e = error(type_code, AttrErrorKind::Flags(flags.0), end);
                    let keep = e.action != AttrAction::Discard;
                    errors.push(e);
                    if !keep {
                        continue;
                    }
                }
                attrs.push(PathAttribute { flags, value: v });
            }
            Err(kind) => {
                let e = error(type_code, kind, end);
                if e.action == AttrAction::SessionReset {
                    return Err(e);
                }
                errors.push(e);
            }
        }
    }
    // RFC 7606 3 d: ORIGIN and AS_PATH when routes are announced, NEXT_HOP when they are
    // in the IPv4 NLRI field (RFC 4760 makes it optional for MP_REACH_NLRI alone).
    if !overrun && (ipv4_nlri || seen.contains(code::MP_REACH_NLRI)) {
        let mandatory: &[u8] = if ipv4_nlri {
            &[code::ORIGIN, code::AS_PATH, code::NEXT_HOP]
        } else {
            &[code::ORIGIN, code::AS_PATH]
        };
        for &type_code in mandatory.iter().filter(|&&c| !seen.contains(c)) {
            errors.push(AttrError {
                type_code,
                action: AttrAction::TreatAsWithdraw,
                kind: AttrErrorKind::MissingWellKnown,
                offset: base + block.len(),
                data: Bytes::new(),
            });
        }
    }
    Ok(Decoded {
        attrs: PathAttributes::from_vec(attrs),
        errors,
    })
}

/// Decodes the value of a known attribute at `range` of `block`. Fixed-size values are
/// read from the slice; only variable-size ones take a (reference-counted) `Bytes` slice.
fn decode_value(
    type_code: u8,
    block: &Bytes,
    range: std::ops::Range<usize>,
    ctx: &DecodeCtx,
) -> Result<AttrValue, AttrErrorKind> {
    let raw = block.get(range.clone()).unwrap_or_default();
    let value = || block.slice(range.clone());
    let four = ctx.four_octet_as;
    Ok(match type_code {
        code::ORIGIN => AttrValue::Origin(Origin::decode(raw)?),
        code::AS_PATH => AttrValue::AsPath(AsPath::decode(value(), four)?),
        code::NEXT_HOP => AttrValue::NextHop(decode_ipv4(raw)?),
        code::MULTI_EXIT_DISC => AttrValue::Med(decode_u32(raw)?),
        code::LOCAL_PREF => AttrValue::LocalPref(decode_u32(raw)?),
        code::ATOMIC_AGGREGATE => {
            decode_atomic_aggregate(raw)?;
            AttrValue::AtomicAggregate
        }
        code::AGGREGATOR => AttrValue::Aggregator(Aggregator::decode(raw, four)?),
        code::COMMUNITIES => AttrValue::Communities(Communities::decode(value())?),
        code::ORIGINATOR_ID => AttrValue::OriginatorId(decode_ipv4(raw)?),
        code::CLUSTER_LIST => AttrValue::ClusterList(ClusterList::decode(value())?),
        code::MP_REACH_NLRI => AttrValue::MpReach(Box::new(MpReach::decode(&value(), ctx)?)),
        code::MP_UNREACH_NLRI => AttrValue::MpUnreach(Box::new(MpUnreach::decode(&value(), ctx)?)),
        code::EXTENDED_COMMUNITIES => AttrValue::ExtCommunities(ExtCommunities::decode(value())?),
        code::AS4_PATH => AttrValue::As4Path(AsPath::decode(value(), true)?),
        code::AS4_AGGREGATOR => AttrValue::As4Aggregator(Aggregator::decode(raw, true)?),
        code::AIGP => AttrValue::Aigp(Aigp::decode(value())?),
        code::LARGE_COMMUNITIES => AttrValue::LargeCommunities(LargeCommunities::decode(value())?),
        code::ONLY_TO_CUSTOMER => AttrValue::Otc(decode_u32(raw)?),
        _ => AttrValue::Unknown(UnknownAttr {
            type_code,
            data: value(),
        }),
    })
}
