//! Parsing and printing of the values given on the command line: prefixes, communities,
//! AS paths. Each parser is a clap `value_parser`, so a bad value is a usage error that
//! names the argument, and each printer is the inverse of its parser.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_api::bgpd::v1::{AsSegment, LargeCommunity, as_segment};

/// A value that could not be parsed; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct ParseError(String);

fn err<T>(message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(message.into()))
}

// ---- prefixes -----------------------------------------------------------------------------

/// An IP prefix whose bits after the length are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix {
    pub(crate) addr: IpAddr,
    pub(crate) len: u8,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn max_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// `addr` with every bit after the first `len` cleared.
fn masked(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

/// Parses `ADDR/LEN` (`192.0.2.0/24`, `2001:db8::/32`).
pub(crate) fn prefix(s: &str) -> Result<Prefix, ParseError> {
    let Some((addr, len)) = s.split_once('/') else {
        return err(format!(
            "{s:?} is not a prefix; expected ADDR/LEN such as 192.0.2.0/24 or 2001:db8::/32"
        ));
    };
    let Ok(addr) = addr.parse::<IpAddr>() else {
        return err(format!("{s:?}: {addr:?} is not an IPv4 or IPv6 address"));
    };
    let max = max_len(addr);
    let len = match len.parse::<u8>() {
        Ok(l) if l <= max => l,
        _ => return err(format!("{s:?}: prefix length {len:?} is not 0..={max}")),
    };
    let net = masked(addr, len);
    if net != addr {
        return err(format!(
            "{s:?} has host bits set; did you mean {}/{len}?",
            net
        ));
    }
    Ok(Prefix { addr, len })
}

/// A `rib list` filter: a prefix, or a bare address that stands for its host prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PrefixFilter {
    pub(crate) prefix: Prefix,
    /// Given as a bare address (`192.0.2.1`): look up the routes covering it.
    pub(crate) host: bool,
}

/// Parses `ADDR/LEN` or `ADDR` for `rib list`.
pub(crate) fn prefix_filter(s: &str) -> Result<PrefixFilter, ParseError> {
    if s.contains('/') {
        return prefix(s).map(|prefix| PrefixFilter {
            prefix,
            host: false,
        });
    }
    match s.parse::<IpAddr>() {
        Ok(addr) => Ok(PrefixFilter {
            prefix: Prefix {
                addr,
                len: max_len(addr),
            },
            host: true,
        }),
        Err(_) => err(format!(
            "{s:?} is neither a prefix (192.0.2.0/24) nor an address (192.0.2.1)"
        )),
    }
}

// ---- standard communities (RFC 1997) ------------------------------------------------------

/// The well-known communities by name, as bgpd's configuration spells them.
const WELL_KNOWN: &[(&str, u32)] = &[
    ("graceful-shutdown", 0xFFFF_0000),
    ("accept-own", 0xFFFF_0001),
    ("llgr-stale", 0xFFFF_0006),
    ("no-llgr", 0xFFFF_0007),
    ("blackhole", 0xFFFF_029A),
    ("no-export", 0xFFFF_FF01),
    ("no-advertise", 0xFFFF_FF02),
    ("no-export-subconfed", 0xFFFF_FF03),
    ("no-peer", 0xFFFF_FF04),
];

/// Parses `ASN:VALUE` (both 0..=65535) or a well-known name (`no-export`).
pub(crate) fn community(s: &str) -> Result<u32, ParseError> {
    let lower = s.to_ascii_lowercase();
    if let Some((_, v)) = WELL_KNOWN.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    let names = WELL_KNOWN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    let expected = format!("expected ASN:VALUE with both parts 0..=65535, or one of: {names}");
    let Some((asn, value)) = s.split_once(':') else {
        return err(format!("{s:?} is not a community; {expected}"));
    };
    match (asn.parse::<u16>(), value.parse::<u16>()) {
        (Ok(a), Ok(v)) => Ok(u32::from(a) << 16 | u32::from(v)),
        _ => err(format!("{s:?} is not a community; {expected}")),
    }
}

/// `no-export` for a well-known community, `65000:100` otherwise.
pub(crate) fn fmt_community(c: u32) -> String {
    match WELL_KNOWN.iter().find(|(_, v)| *v == c) {
        Some((name, _)) => (*name).to_owned(),
        None => format!("{}:{}", c >> 16, c & 0xFFFF),
    }
}

// ---- large communities (RFC 8092) ---------------------------------------------------------

/// Parses `GLOBAL:LOCAL1:LOCAL2`, each 0..=4294967295.
pub(crate) fn large_community(s: &str) -> Result<LargeCommunity, ParseError> {
    let parts: Vec<_> = s.split(':').map(str::parse::<u32>).collect();
    match parts.as_slice() {
        [Ok(g), Ok(l1), Ok(l2)] => Ok(LargeCommunity {
            global_admin: *g,
            local_data1: *l1,
            local_data2: *l2,
        }),
        _ => err(format!(
            "{s:?} is not a large community; expected GLOBAL:LOCAL1:LOCAL2, each 0..=4294967295"
        )),
    }
}

/// `65000:1:2`.
pub(crate) fn fmt_large_community(c: &LargeCommunity) -> String {
    format!("{}:{}:{}", c.global_admin, c.local_data1, c.local_data2)
}

// ---- extended communities (RFC 4360, RFC 5668) --------------------------------------------

/// Transitive two-octet-AS-specific type.
const EXT_AS2: u8 = 0x00;
/// Transitive IPv4-address-specific type.
const EXT_IPV4: u8 = 0x01;
/// Transitive four-octet-AS-specific type (RFC 5668).
const EXT_AS4: u8 = 0x02;
/// Route target sub-type.
const SUB_RT: u8 = 0x02;
/// Route origin (site of origin) sub-type.
const SUB_SOO: u8 = 0x03;

/// Parses `rt:ASN:VALUE`, `rt:IPV4:VALUE`, `soo:...` (route origin) or 16 hex digits after
/// `0x` (any extended community, as its 8 octets).
pub(crate) fn ext_community(s: &str) -> Result<u64, ParseError> {
    let expected = "expected rt:ASN:VALUE, rt:IPV4:VALUE, soo:ASN:VALUE, soo:IPV4:VALUE \
                    or 0x followed by 16 hex digits";
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return match u64::from_str_radix(hex, 16) {
            Ok(v) if hex.len() == 16 => Ok(v),
            _ => err(format!("{s:?} is not an extended community; {expected}")),
        };
    }
    let mut parts = s.splitn(3, ':');
    let (Some(kind), Some(admin), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return err(format!("{s:?} is not an extended community; {expected}"));
    };
    let sub = match kind.to_ascii_lowercase().as_str() {
        "rt" => SUB_RT,
        "soo" | "ro" => SUB_SOO,
        _ => return err(format!("{s:?}: unknown kind {kind:?}; {expected}")),
    };
    let Ok(value) = value.parse::<u32>() else {
        return err(format!("{s:?}: {value:?} is not a number 0..=4294967295"));
    };
    let head = |ty: u8| u64::from(ty) << 56 | u64::from(sub) << 48;
    if let Ok(ip) = admin.parse::<Ipv4Addr>() {
        let Ok(value) = u16::try_from(value) else {
            return err(format!(
                "{s:?}: with an IPv4 address the value must be 0..=65535"
            ));
        };
        return Ok(head(EXT_IPV4) | u64::from(u32::from(ip)) << 16 | u64::from(value));
    }
    let Ok(asn) = admin.parse::<u32>() else {
        return err(format!(
            "{s:?}: {admin:?} is neither an AS number nor an IPv4 address"
        ));
    };
    if let Ok(asn) = u16::try_from(asn) {
        return Ok(head(EXT_AS2) | u64::from(asn) << 32 | u64::from(value));
    }
    let Ok(value) = u16::try_from(value) else {
        return err(format!(
            "{s:?}: with a 4-octet AS number (above 65535) the value must be 0..=65535"
        ));
    };
    Ok(head(EXT_AS4) | u64::from(asn) << 16 | u64::from(value))
}

/// `rt:65000:100`, `soo:192.0.2.1:7`, or `0x` and 16 hex digits for other kinds.
pub(crate) fn fmt_ext_community(c: u64) -> String {
    let [ty, sub, b @ ..] = c.to_be_bytes();
    let kind = match sub {
        SUB_RT => "rt",
        SUB_SOO => "soo",
        _ => return format!("0x{c:016x}"),
    };
    match ty {
        EXT_AS2 => {
            let asn = u16::from_be_bytes([b[0], b[1]]);
            let value = u32::from_be_bytes([b[2], b[3], b[4], b[5]]);
            format!("{kind}:{asn}:{value}")
        }
        EXT_IPV4 => {
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            format!("{kind}:{ip}:{}", u16::from_be_bytes([b[4], b[5]]))
        }
        EXT_AS4 => {
            let asn = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            format!("{kind}:{asn}:{}", u16::from_be_bytes([b[4], b[5]]))
        }
        _ => format!("0x{c:016x}"),
    }
}

// ---- AS paths -----------------------------------------------------------------------------

/// The brackets of each segment type other than AS_SEQUENCE: `{}` AS_SET, `()`
/// AS_CONFED_SEQUENCE, `[]` AS_CONFED_SET.
const BRACKETS: &[(char, char, as_segment::Type)] = &[
    ('{', '}', as_segment::Type::Set),
    ('(', ')', as_segment::Type::ConfedSequence),
    ('[', ']', as_segment::Type::ConfedSet),
];

/// A parsed AS path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AsPath(pub(crate) Vec<AsSegment>);

/// Parses an AS path: AS numbers separated by spaces (`65001 65002`), with `{..}` for an
/// AS_SET, `(..)` for an AS_CONFED_SEQUENCE and `[..]` for an AS_CONFED_SET; inside brackets
/// commas may separate too. The empty string is the empty path.
pub(crate) fn as_path(s: &str) -> Result<AsPath, ParseError> {
    let mut segments: Vec<AsSegment> = Vec::new();
    // The bracketed segment being read: its closing bracket and contents.
    let mut open: Option<(char, AsSegment)> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() || (c == ',' && open.is_some()) {
            continue;
        }
        if c.is_ascii_digit() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let Ok(asn) = s[i..end].parse::<u32>() else {
                return err(format!(
                    "AS path {s:?}: {} is not 0..=4294967295",
                    &s[i..end]
                ));
            };
            match &mut open {
                Some((_, seg)) => seg.asns.push(asn),
                None => match segments.last_mut() {
                    Some(seg) if seg.r#type == as_segment::Type::Sequence as i32 => {
                        seg.asns.push(asn)
                    }
                    _ => segments.push(AsSegment {
                        r#type: as_segment::Type::Sequence as i32,
                        asns: vec![asn],
                    }),
                },
            }
            continue;
        }
        if let Some(&(_, close, ty)) = BRACKETS.iter().find(|(o, _, _)| *o == c) {
            if open.is_some() {
                return err(format!("AS path {s:?}: brackets cannot nest"));
            }
            open = Some((
                close,
                AsSegment {
                    r#type: ty as i32,
                    asns: Vec::new(),
                },
            ));
            continue;
        }
        match open.take() {
            Some((close, seg)) if close == c => {
                if seg.asns.is_empty() {
                    return err(format!("AS path {s:?}: empty {c} segment"));
                }
                segments.push(seg);
            }
            _ => {
                return err(format!(
                    "AS path {s:?}: unexpected {c:?}; expected AS numbers separated by \
                     spaces, with {{..}} for a set, (..) and [..] for confederation segments"
                ));
            }
        }
    }
    if let Some((close, _)) = open {
        return err(format!("AS path {s:?}: missing {close:?}"));
    }
    Ok(AsPath(segments))
}

/// `65001 65002 {65003,65004}`; empty for the empty path.
pub(crate) fn fmt_as_path(segments: &[AsSegment]) -> String {
    let mut parts = Vec::with_capacity(segments.len());
    for seg in segments {
        let asns = seg.asns.iter().map(u32::to_string);
        let bracketed = |open: char, close: char| {
            format!(
                "{open}{}{close}",
                asns.clone().collect::<Vec<_>>().join(",")
            )
        };
        parts.push(match seg.r#type() {
            as_segment::Type::Sequence => asns.clone().collect::<Vec<_>>().join(" "),
            as_segment::Type::Set => bracketed('{', '}'),
            as_segment::Type::ConfedSequence => {
                format!("({})", asns.clone().collect::<Vec<_>>().join(" "))
            }
            as_segment::Type::ConfedSet => bracketed('[', ']'),
        });
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" ")
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
