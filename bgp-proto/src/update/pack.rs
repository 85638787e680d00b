//! Packing many prefixes with one attribute set into as few UPDATEs as fit: the send path
//! of the daemon.
//!
//! The attribute block is encoded once per call; each message is then the header, the
//! block and as many NLRI as fit in the session's maximum (4,096 bytes, or 65,535 with
//! the extended message capability), written straight into the caller's buffer with one
//! reservation per message and no allocation per prefix.
//!
//! Layout of an announcement:
//!
//! ```text
//! IPv4 unicast, IPv4 next hop:    header | 0 | attr len | attributes (NEXT_HOP set) | NLRI...
//! IPv6 unicast, or IPv4 unicast   header | 0 | attr len | MP_REACH_NLRI(next hop, NLRI...)
//!   with an IPv6 next hop:                                | other attributes (no NEXT_HOP)
//! ```
//!
//! MP_REACH_NLRI comes first (RFC 7606 section 5.1). Withdrawals go in the Withdrawn
//! Routes field for IPv4 and in MP_UNREACH_NLRI for IPv6.

use bytes::{BufMut, BytesMut};

use crate::attr::{AttrFlags, NextHop, PathAttribute, PathAttributes, code};
use crate::ctx::{EncodeCtx, Family};
use crate::error::EncodeError;
use crate::header::{HEADER_LEN, MARKER, MessageType};
use crate::nlri::Nlri;

/// The two length fields of the UPDATE body.
const BODY_FIXED: usize = 4;

/// Writes UPDATEs announcing `prefixes` of `family` (IPv4 or IPv6 unicast) with
/// `attrs` and `next_hop`, back to back at the end of `out`. Returns how many messages
/// were written (0 for no prefixes).
///
/// - IPv4 unicast with [`NextHop::V4`]: the NLRI field, with NEXT_HOP set to `next_hop`
///   (replacing any in `attrs`).
/// - IPv6 unicast, and IPv4 unicast with [`NextHop::V6`] when
///   `ctx.extended_next_hop(family)` (RFC 8950): MP_REACH_NLRI; NEXT_HOP is left out.
///
/// MP_REACH_NLRI / MP_UNREACH_NLRI in `attrs` are ignored. Path identifiers are written
/// when `ctx.add_path(family)` (a missing one as 0) and left out otherwise. On error `out`
/// is left as it was.
pub fn pack(
    ctx: &EncodeCtx,
    attrs: &PathAttributes,
    next_hop: &NextHop,
    family: Family,
    prefixes: &[Nlri],
    out: &mut BytesMut,
) -> Result<usize, EncodeError> {
    check_prefixes(family, prefixes)?;
    if prefixes.is_empty() {
        return Ok(0);
    }
    let mut block = BytesMut::with_capacity(256);
    let start = out.len();
    let result = match (family, next_hop) {
        (Family::IPV4_UNICAST, NextHop::V4(nh)) => {
            encode_with_next_hop(attrs, ctx, *nh, &mut block)?;
            write_messages(
                ctx,
                prefixes,
                family,
                out,
                |out, nlri_len| {
                    put_header(out, BODY_FIXED + block.len() + nlri_len)?;
                    out.put_u16(0);
                    put_u16(out, block.len())?;
                    out.put_slice(&block);
                    Ok(())
                },
                BODY_FIXED + block.len(),
                |_| Ok(()),
            )
        }
        _ => {
            next_hop.check(family, ctx)?;
            attrs.encode_filtered(ctx, &mut block, |c| {
                !matches!(
                    c,
                    code::NEXT_HOP | code::MP_REACH_NLRI | code::MP_UNREACH_NLRI
                )
            })?;
            let nh_len = next_hop.encoded_len();
            let mp_fixed = 5 + nh_len;
            let overhead = BODY_FIXED + 4 + mp_fixed + block.len();
            write_messages(
                ctx,
                prefixes,
                family,
                out,
                |out, nlri_len| {
                    let value = mp_fixed + nlri_len;
                    let hdr = if value > 255 { 4 } else { 3 };
                    put_header(out, BODY_FIXED + hdr + value + block.len())?;
                    out.put_u16(0);
                    put_u16(out, hdr + value + block.len())?;
                    put_attr_header(out, code::MP_REACH_NLRI, value)?;
                    out.put_u16(family.afi.0);
                    out.put_u8(family.safi.0);
                    out.put_u8(u8::try_from(nh_len).unwrap_or(u8::MAX));
                    next_hop.encode(out);
                    out.put_u8(0);
                    Ok(())
                },
                overhead,
                |out| {
                    out.put_slice(&block);
                    Ok(())
                },
            )
        }
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Writes UPDATEs withdrawing `prefixes` of `family` (IPv4 unicast: the Withdrawn Routes
/// field; IPv6 unicast: MP_UNREACH_NLRI). Returns how many messages were written. On
/// error `out` is left as it was.
pub fn pack_withdrawals(
    ctx: &EncodeCtx,
    family: Family,
    prefixes: &[Nlri],
    out: &mut BytesMut,
) -> Result<usize, EncodeError> {
    check_prefixes(family, prefixes)?;
    let start = out.len();
    let result = if family == Family::IPV4_UNICAST {
        write_messages(
            ctx,
            prefixes,
            family,
            out,
            |out, nlri_len| {
                put_header(out, BODY_FIXED + nlri_len)?;
                put_u16(out, nlri_len)
            },
            BODY_FIXED,
            |out| {
                out.put_u16(0);
                Ok(())
            },
        )
    } else {
        write_messages(
            ctx,
            prefixes,
            family,
            out,
            |out, nlri_len| {
                let value = 3 + nlri_len;
                let hdr = if value > 255 { 4 } else { 3 };
                put_header(out, BODY_FIXED + hdr + value)?;
                out.put_u16(0);
                put_u16(out, hdr + value)?;
                put_attr_header(out, code::MP_UNREACH_NLRI, value)?;
                out.put_u16(family.afi.0);
                out.put_u8(family.safi.0);
                Ok(())
            },
            BODY_FIXED + 4 + 3,
            |_| Ok(()),
        )
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Refuses families other than IPv4/IPv6 unicast and prefixes of the wrong family.
fn check_prefixes(family: Family, prefixes: &[Nlri]) -> Result<(), EncodeError> {
    if !family.is_unicast_ip() {
        return Err(EncodeError::Invalid {
            field: "family",
            reason: "pack handles IPv4 and IPv6 unicast; encode other families as an Update",
        });
    }
    let v4 = family == Family::IPV4_UNICAST;
    if prefixes.iter().any(|n| n.prefix.addr().is_ipv4() != v4) {
        return Err(EncodeError::Invalid {
            field: "NLRI",
            reason: "prefix of another family",
        });
    }
    Ok(())
}

/// The message loop: for each run of prefixes that fits beside `overhead` body bytes,
/// `head` writes everything before the NLRI (given their length), then the NLRI, then
/// `tail` what follows them.
fn write_messages(
    ctx: &EncodeCtx,
    prefixes: &[Nlri],
    family: Family,
    out: &mut BytesMut,
    mut head: impl FnMut(&mut BytesMut, usize) -> Result<(), EncodeError>,
    overhead: usize,
    mut tail: impl FnMut(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<usize, EncodeError> {
    let add_path = ctx.add_path(family);
    let max = ctx.max_message_len();
    let budget = max.saturating_sub(HEADER_LEN + overhead);
    let mut rest = prefixes;
    let mut messages = 0;
    while !rest.is_empty() {
        let mut used = 0;
        let mut count = 0;
        for n in rest {
            let len = n.encoded_len(add_path);
            if used + len > budget {
                break;
            }
            used += len;
            count += 1;
        }
        let (run, tail_prefixes) = rest.split_at_checked(count).unwrap_or((rest, &[]));
        if run.is_empty() {
            let len = HEADER_LEN + overhead + rest.first().map_or(0, |n| n.encoded_len(add_path));
            return Err(EncodeError::MessageTooLong { len, max });
        }
        out.reserve(HEADER_LEN + overhead + used);
        head(out, used)?;
        for n in run {
            n.encode(add_path, out);
        }
        tail(out)?;
        messages += 1;
        rest = tail_prefixes;
    }
    Ok(messages)
}

/// Writes the message header for a body of `body_len` bytes.
fn put_header(out: &mut BytesMut, body_len: usize) -> Result<(), EncodeError> {
    out.put_slice(&MARKER);
    put_u16(out, HEADER_LEN + body_len)?;
    out.put_u8(MessageType::Update as u8);
    Ok(())
}

fn put_u16(out: &mut BytesMut, value: usize) -> Result<(), EncodeError> {
    let v = u16::try_from(value).map_err(|_| EncodeError::MessageTooLong {
        len: value,
        max: usize::from(u16::MAX),
    })?;
    out.put_u16(v);
    Ok(())
}

/// Writes the flags, type and length of an optional non-transitive MP attribute, with
/// an extended length only when needed.
fn put_attr_header(out: &mut BytesMut, type_code: u8, len: usize) -> Result<(), EncodeError> {
    if len > 255 {
        out.put_u8(AttrFlags::OPTIONAL | AttrFlags::EXTENDED_LENGTH);
        out.put_u8(type_code);
        put_u16(out, len)
    } else {
        out.put_u8(AttrFlags::OPTIONAL);
        out.put_u8(type_code);
        out.put_u8(len as u8);
        Ok(())
    }
}

/// Encodes `attrs` without MP attributes and with NEXT_HOP `nh`: in the place of the
/// NEXT_HOP in `attrs` (keeping its flags), else before the first higher type code.
fn encode_with_next_hop(
    attrs: &PathAttributes,
    ctx: &EncodeCtx,
    nh: std::net::Ipv4Addr,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    attrs.check_as4(ctx)?;
    let ours = |flags| PathAttribute {
        flags,
        value: crate::attr::AttrValue::NextHop(nh),
    };
    let mut written = false;
    for a in attrs {
        let c = a.type_code();
        if matches!(c, code::MP_REACH_NLRI | code::MP_UNREACH_NLRI) {
            continue;
        }
        if c == code::NEXT_HOP {
            if !written {
                ours(a.flags).encode(ctx, out)?;
                written = true;
            }
            continue;
        }
        if !written && c > code::NEXT_HOP {
            ours(AttrFlags::WELL_KNOWN).encode(ctx, out)?;
            written = true;
        }
        a.encode(ctx, out)?;
    }
    if !written {
        ours(AttrFlags::WELL_KNOWN).encode(ctx, out)?;
    }
    Ok(())
}
