//! The compact text form of allocation state, small enough for a Kubernetes object's status.
//!
//! ```text
//! addresses (a service pool or one block):  a1|<cursor>|<entry>,<entry>,...
//! blocks (a pod pool):                      b1|<block cursor>|<block>;<block>;...
//!   block  = [<gap>] "=" <node> "=" <cursor> "|" <entry>,<entry>,...
//!   entry  = [<gap>] <owner>
//!   owner  = "u" <uuid, 22 chars base64url>               pod, interface eth0
//!          | "v" <uuid, 22 chars base64url> "/" <interface>
//!          | "p" <uid> "/" <interface>                     pod whose uid is not a UUID
//!          | "s" <namespace> "/" <name>                    service
//! ```
//!
//! Numbers are lowercase hex. Entries are in address order; `<gap>` is the number of
//! addresses skipped since the previous entry (or since the base: the block's first address,
//! or the lowest address of a service pool), left out when zero, so a dense block costs one
//! owner per address and nothing more. Blocks likewise, counted in blocks from the pool's
//! first block. Cursors are offsets from the same base (wrapping). Strings are
//! percent-escaped: every byte outside `A-Z a-z 0-9 . _ -` is written `%XX`.
//!
//! A pod whose uid is a UUID (as Kubernetes uids are) with interface `eth0` costs 23 bytes,
//! 24 with its separator: about 24 KB per 1,000 allocations.

use std::fmt::Write as _;

use crate::table::{Cursor, Table};
use crate::{Error, Owner};

pub(crate) const TABLE_TAG: &str = "a1|";
pub(crate) const BLOCKS_TAG: &str = "b1|";
const DEFAULT_INTERFACE: &str = "eth0";

/// Writes `<cursor>|<entries>` of a table whose addresses are counted from `base`.
pub(crate) fn encode_table(table: &Table, base: u128, out: &mut String) {
    write_hex(out, table.cursor().wrapping_sub(base));
    out.push('|');
    let mut next = base;
    for (i, (x, owner)) in table.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_gap(out, x - next);
        encode_owner(owner, out);
        // Wraps only after the very last address of IPv6, which nothing can follow.
        next = x.wrapping_add(1);
    }
}

/// Reads `<cursor>|<entries>` into an empty table. Every entry is checked as a fresh
/// allocation would be (in the pool, not reserved, not taken, owner unique).
pub(crate) fn decode_table(r: &mut Reader<'_>, table: &mut Table, base: u128) -> Result<(), Error> {
    let cursor = r.hex()?.ok_or_else(|| r.error("expected the cursor"))?;
    r.expect(b'|')?;
    // The lowest address the next entry may have; `None` after the last IPv6 address.
    let mut next = Some(base);
    while !r.at_end_of_section() {
        let entry = r.pos;
        let gap = r.hex()?.unwrap_or(0);
        let x = next
            .and_then(|n| n.checked_add(gap))
            .filter(|&x| x <= table.family().max())
            .ok_or(Error::Decode {
                offset: entry,
                reason: "address beyond the family",
            })?;
        let owner = decode_owner(r)?;
        table.allocate_addr(table.family().addr(x), &owner, Cursor::Keep)?;
        next = x.checked_add(1);
        if !r.eat(b',') {
            break;
        }
    }
    table.set_cursor(cursor.wrapping_add(base));
    Ok(())
}

fn write_hex(out: &mut String, n: u128) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{n:x}");
}

pub(crate) fn write_gap(out: &mut String, gap: u128) {
    if gap > 0 {
        write_hex(out, gap);
    }
}

fn encode_owner(owner: &Owner, out: &mut String) {
    match owner {
        Owner::Pod { uid, interface } => match uuid_bytes(uid) {
            Some(bytes) if interface == DEFAULT_INTERFACE => {
                out.push('u');
                base64url(&bytes, out);
            }
            Some(bytes) => {
                out.push('v');
                base64url(&bytes, out);
                out.push('/');
                escape(interface, out);
            }
            None => {
                out.push('p');
                escape(uid, out);
                out.push('/');
                escape(interface, out);
            }
        },
        Owner::Service { namespace, name } => {
            out.push('s');
            escape(namespace, out);
            out.push('/');
            escape(name, out);
        }
    }
}

fn decode_owner(r: &mut Reader<'_>) -> Result<Owner, Error> {
    let tag = r.next_byte().ok_or_else(|| r.error("expected an owner"))?;
    match tag {
        b'u' => Ok(Owner::pod(r.uuid()?, DEFAULT_INTERFACE)),
        b'v' => {
            let uid = r.uuid()?;
            r.expect(b'/')?;
            Ok(Owner::pod(uid, r.escaped()?))
        }
        b'p' => {
            let uid = r.escaped()?;
            r.expect(b'/')?;
            Ok(Owner::pod(uid, r.escaped()?))
        }
        b's' => {
            let namespace = r.escaped()?;
            r.expect(b'/')?;
            Ok(Owner::service(namespace, r.escaped()?))
        }
        _ => Err(r.error_before("unknown owner kind")),
    }
}

pub(crate) fn escape(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The 16 bytes of a canonical lowercase UUID (`8-4-4-4-12` hex digits), or `None`.
fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = b.iter().filter(|&&c| c != b'-');
    for byte in &mut out {
        let hi = lower_hex_value(*digits.next()?)?;
        let lo = lower_hex_value(*digits.next()?)?;
        *byte = (hi << 4) | lo;
    }
    Some(out)
}

fn lower_hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn format_uuid(bytes: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 16 bytes as 22 base64url characters (no padding).
fn base64url(bytes: &[u8; 16], out: &mut String) {
    let n = u128::from_be_bytes(*bytes);
    // 22 digits of 6 bits hold 132 bits: the first digit carries the top 2 bits.
    for i in (0..22).rev() {
        let digit = (n >> (i * 6)) & 0x3f;
        out.push(char::from(B64[digit as usize]));
    }
}

fn base64url_value(c: u8) -> Option<u128> {
    B64.iter().position(|&d| d == c).map(|v| v as u128)
}

/// A position in compact text, with errors that carry the byte offset.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            pos: 0,
        }
    }

    pub(crate) fn error(&self, reason: &'static str) -> Error {
        Error::Decode {
            offset: self.pos,
            reason,
        }
    }

    fn error_before(&self, reason: &'static str) -> Error {
        Error::Decode {
            offset: self.pos.saturating_sub(1),
            reason,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// At the end of the text or of a block section (`;`).
    pub(crate) fn at_end_of_section(&self) -> bool {
        matches!(self.peek(), None | Some(b';'))
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, b: u8) -> Result<(), Error> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(match b {
                b'|' => "expected '|'",
                b'/' => "expected '/'",
                b'=' => "expected '='",
                _ => "unexpected character",
            }))
        }
    }

    pub(crate) fn tag(&mut self, tag: &str) -> Result<(), Error> {
        if self.text.starts_with(tag.as_bytes()) {
            self.pos += tag.len();
            Ok(())
        } else {
            Err(self.error("unknown format or version"))
        }
    }

    /// Lowercase hex digits, `None` when there are none.
    pub(crate) fn hex(&mut self) -> Result<Option<u128>, Error> {
        let start = self.pos;
        let mut n: u128 = 0;
        while let Some(v) = self.peek().and_then(lower_hex_value) {
            n = n
                .checked_mul(16)
                .and_then(|n| n.checked_add(u128::from(v)))
                .ok_or_else(|| self.error("number too large"))?;
            self.pos += 1;
        }
        Ok((self.pos > start).then_some(n))
    }

    fn uuid(&mut self) -> Result<String, Error> {
        let mut n: u128 = 0;
        for i in 0..22 {
            let c = self
                .next_byte()
                .ok_or_else(|| self.error("uid cut short"))?;
            let v = base64url_value(c).ok_or_else(|| self.error_before("bad uid character"))?;
            if i == 0 && v > 3 {
                return Err(self.error_before("bad uid character"));
            }
            n = (n << 6) | v;
        }
        Ok(format_uuid(&n.to_be_bytes()))
    }

    /// A percent-escaped string, up to the next byte that is not part of one.
    pub(crate) fn escaped(&mut self) -> Result<String, Error> {
        let start = self.pos;
        let mut bytes = Vec::new();
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
                bytes.push(b);
                self.pos += 1;
            } else if b == b'%' {
                let hi = self
                    .text
                    .get(self.pos + 1)
                    .copied()
                    .and_then(upper_hex_value);
                let lo = self
                    .text
                    .get(self.pos + 2)
                    .copied()
                    .and_then(upper_hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(self.error("bad escape"));
                };
                bytes.push((hi << 4) | lo);
                self.pos += 3;
            } else {
                break;
            }
        }
        String::from_utf8(bytes).map_err(|_| Error::Decode {
            offset: start,
            reason: "escaped text is not UTF-8",
        })
    }
}

fn upper_hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_round_trip_through_base64url() {
        for uid in [
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b",
        ] {
            let mut out = String::new();
            encode_owner(&Owner::pod(uid, "eth0"), &mut out);
            assert_eq!(out.len(), 23, "{out}");
            let mut r = Reader::new(&out);
            assert_eq!(decode_owner(&mut r).unwrap(), Owner::pod(uid, "eth0"));
            assert!(r.is_done());
        }
    }

    #[test]
    fn odd_strings_are_escaped_and_come_back() {
        let owners = [
            Owner::pod("3F2B8C1E-9A4D-4E6F-8B7A-0C1D2E3F4A5B", "net1"),
            Owner::pod("not-a-uuid", "eth/0,;=|%é"),
            Owner::pod("", ""),
            Owner::service("kube-system", "dns"),
            Owner::pod("3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b", "net1"),
        ];
        for owner in owners {
            let mut out = String::new();
            encode_owner(&owner, &mut out);
            assert!(!out.contains([',', ';', '=', '|']), "{out}");
            let mut r = Reader::new(&out);
            assert_eq!(decode_owner(&mut r).unwrap(), owner, "{out}");
            assert!(r.is_done(), "{out}");
        }
    }

    #[test]
    fn corrupt_owners_give_offsets() {
        for (text, offset, reason) in [
            ("x", 0, "unknown owner kind"),
            ("uAAAA", 5, "uid cut short"),
            ("u!AAAAAAAAAAAAAAAAAAAAA", 1, "bad uid character"),
            ("_AAAAAAAAAAAAAAAAAAAAAA", 0, "unknown owner kind"),
            ("uEAAAAAAAAAAAAAAAAAAAAA", 1, "bad uid character"),
            ("sns", 3, "expected '/'"),
            ("sns/a%4", 5, "bad escape"),
            ("sns/%FF", 4, "escaped text is not UTF-8"),
        ] {
            let mut r = Reader::new(text);
            assert_eq!(
                decode_owner(&mut r),
                Err(Error::Decode { offset, reason }),
                "{text}"
            );
        }
    }
}
