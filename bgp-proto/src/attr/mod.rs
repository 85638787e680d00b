//! Path attributes (RFC 4271 section 4.3 and 5, and the RFCs of the later attributes).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |O|T|P|E|  0    |  Type code    | Length (1 octet, or 2 with E) |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Value (Length octets)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!   O optional, T transitive, P partial, E extended length
//! ```
//!
//! [`PathAttributes`] is the list in the order received, each [`PathAttribute`] with its
//! flags as received, so re-encoding is byte-exact (the Extended Length bit is also set
//! when a value outgrows one length octet). The builders (`with_*`, `set_*`, [`set`])
//! produce canonical lists for routes we originate: MP_REACH_NLRI and MP_UNREACH_NLRI
//! first (RFC 7606 section 5.1), then by type code, with the flags of the type and an
//! extended length only where needed.
//!
//! Values with variable length share the bytes of the received message (one copy per
//! message, no allocation per attribute) and are `Clone + Eq + Hash`, so that the daemon
//! can intern whole attribute sets.
//!
//! [`set`]: PathAttributes::set

mod aggregator;
mod aigp;
mod as4;
mod as_path;
mod cluster_list;
mod communities;
mod decode;
pub mod error;
mod ext_communities;
mod large_communities;
mod list;
mod mp;
mod origin;
mod scalar;
mod text;
mod unknown;

use std::fmt;
use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

pub use self::aggregator::Aggregator;
pub use self::aigp::Aigp;
pub use self::as_path::{AS_TRANS, AsPath, Segment, SegmentType, Segments};
pub use self::as4::merge_as4_path;
pub use self::cluster_list::ClusterList;
pub use self::communities::{Communities, Community};
pub use self::error::{AttrAction, AttrError, AttrErrorKind};
pub use self::ext_communities::{ExtAdmin, ExtCommunities, ExtCommunity};
pub use self::large_communities::{LargeCommunities, LargeCommunity};
pub use self::list::PathAttributes;
pub use self::mp::{MpNlri, MpReach, MpUnreach, NextHop};
pub use self::origin::Origin;
pub use self::text::ParseAttrError;
pub use self::unknown::UnknownAttr;
pub(crate) use decode::decode_attributes;

use crate::ctx::EncodeCtx;
use crate::error::EncodeError;

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod code {
    /// ORIGIN (RFC 4271).
    pub const ORIGIN: u8 = 1;
    /// AS_PATH (RFC 4271).
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP (RFC 4271).
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC (RFC 4271).
    pub const MULTI_EXIT_DISC: u8 = 4;
    /// LOCAL_PREF (RFC 4271).
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE (RFC 4271).
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR (RFC 4271).
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES (RFC 1997).
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID (RFC 4456).
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST (RFC 4456).
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI (RFC 4760).
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI (RFC 4760).
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// EXTENDED_COMMUNITIES (RFC 4360).
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// AS4_PATH (RFC 6793).
    pub const AS4_PATH: u8 = 17;
    /// AS4_AGGREGATOR (RFC 6793).
    pub const AS4_AGGREGATOR: u8 = 18;
    /// AIGP (RFC 7311).
    pub const AIGP: u8 = 26;
    /// LARGE_COMMUNITY (RFC 8092).
    pub const LARGE_COMMUNITIES: u8 = 32;
    /// ONLY_TO_CUSTOMER (RFC 9234).
    pub const ONLY_TO_CUSTOMER: u8 = 35;

    /// The attribute's name, for logs.
    pub fn name(type_code: u8) -> &'static str {
        match type_code {
            ORIGIN => "ORIGIN",
            AS_PATH => "AS_PATH",
            NEXT_HOP => "NEXT_HOP",
            MULTI_EXIT_DISC => "MULTI_EXIT_DISC",
            LOCAL_PREF => "LOCAL_PREF",
            ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE",
            AGGREGATOR => "AGGREGATOR",
            COMMUNITIES => "COMMUNITIES",
            ORIGINATOR_ID => "ORIGINATOR_ID",
            CLUSTER_LIST => "CLUSTER_LIST",
            MP_REACH_NLRI => "MP_REACH_NLRI",
            MP_UNREACH_NLRI => "MP_UNREACH_NLRI",
            EXTENDED_COMMUNITIES => "EXTENDED_COMMUNITIES",
            AS4_PATH => "AS4_PATH",
            AS4_AGGREGATOR => "AS4_AGGREGATOR",
            AIGP => "AIGP",
            LARGE_COMMUNITIES => "LARGE_COMMUNITIES",
            ONLY_TO_CUSTOMER => "ONLY_TO_CUSTOMER",
            _ => "unknown attribute",
        }
    }
}

/// The attribute flags octet.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AttrFlags(pub u8);

impl AttrFlags {
    /// Optional (else well-known).
    pub const OPTIONAL: u8 = 0x80;
    /// Transitive.
    pub const TRANSITIVE: u8 = 0x40;
    /// Partial: an optional transitive attribute that some speaker passed on without
    /// recognizing it.
    pub const PARTIAL: u8 = 0x20;
    /// Extended Length: the length field has two octets.
    pub const EXTENDED_LENGTH: u8 = 0x10;

    /// Flags of a well-known attribute.
    pub const WELL_KNOWN: AttrFlags = AttrFlags(Self::TRANSITIVE);
    /// Flags of an optional transitive attribute.
    pub const OPTIONAL_TRANSITIVE: AttrFlags = AttrFlags(Self::OPTIONAL | Self::TRANSITIVE);
    /// Flags of an optional non-transitive attribute.
    pub const OPTIONAL_NON_TRANSITIVE: AttrFlags = AttrFlags(Self::OPTIONAL);

    /// The Optional bit.
    pub fn is_optional(self) -> bool {
        self.0 & Self::OPTIONAL != 0
    }

    /// The Transitive bit.
    pub fn is_transitive(self) -> bool {
        self.0 & Self::TRANSITIVE != 0
    }

    /// The Partial bit.
    pub fn is_partial(self) -> bool {
        self.0 & Self::PARTIAL != 0
    }

    /// The Extended Length bit.
    pub fn is_extended_length(self) -> bool {
        self.0 & Self::EXTENDED_LENGTH != 0
    }

    /// The canonical flags of a known attribute type (no Partial, no Extended Length).
    pub fn for_type(type_code: u8) -> Option<AttrFlags> {
        use code::*;
        Some(match type_code {
            ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => Self::WELL_KNOWN,
            AGGREGATOR | COMMUNITIES | EXTENDED_COMMUNITIES | AS4_PATH | AS4_AGGREGATOR
            | LARGE_COMMUNITIES | ONLY_TO_CUSTOMER => Self::OPTIONAL_TRANSITIVE,
            MULTI_EXIT_DISC | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH_NLRI | MP_UNREACH_NLRI
            | AIGP => Self::OPTIONAL_NON_TRANSITIVE,
            _ => return None,
        })
    }
}

impl fmt::Debug for AttrFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttrFlags({:#04x}", self.0)?;
        for (bit, name) in [
            (Self::OPTIONAL, " optional"),
            (Self::TRANSITIVE, " transitive"),
            (Self::PARTIAL, " partial"),
            (Self::EXTENDED_LENGTH, " extended-length"),
        ] {
            if self.0 & bit != 0 {
                f.write_str(name)?;
            }
        }
        f.write_str(")")
    }
}

/// The typed value of a path attribute.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttrValue {
    /// ORIGIN (1).
    Origin(Origin),
    /// AS_PATH (2), in 4-octet form whatever the session.
    AsPath(AsPath),
    /// NEXT_HOP (3).
    NextHop(Ipv4Addr),
    /// MULTI_EXIT_DISC (4).
    Med(u32),
    /// LOCAL_PREF (5).
    LocalPref(u32),
    /// ATOMIC_AGGREGATE (6).
    AtomicAggregate,
    /// AGGREGATOR (7), with a 4-octet AS whatever the session.
    Aggregator(Aggregator),
    /// COMMUNITIES (8).
    Communities(Communities),
    /// ORIGINATOR_ID (9).
    OriginatorId(Ipv4Addr),
    /// CLUSTER_LIST (10).
    ClusterList(ClusterList),
    /// MP_REACH_NLRI (14).
    MpReach(Box<MpReach>),
    /// MP_UNREACH_NLRI (15).
    MpUnreach(Box<MpUnreach>),
    /// EXTENDED_COMMUNITIES (16).
    ExtCommunities(ExtCommunities),
    /// AS4_PATH (17).
    As4Path(AsPath),
    /// AS4_AGGREGATOR (18).
    As4Aggregator(Aggregator),
    /// AIGP (26).
    Aigp(Aigp),
    /// LARGE_COMMUNITY (32).
    LargeCommunities(LargeCommunities),
    /// ONLY_TO_CUSTOMER (35): the AS that set it.
    Otc(u32),
    /// Any other attribute, raw.
    Unknown(UnknownAttr),
}

impl AttrValue {
    /// The attribute type code.
    pub fn type_code(&self) -> u8 {
        match self {
            AttrValue::Origin(_) => code::ORIGIN,
            AttrValue::AsPath(_) => code::AS_PATH,
            AttrValue::NextHop(_) => code::NEXT_HOP,
            AttrValue::Med(_) => code::MULTI_EXIT_DISC,
            AttrValue::LocalPref(_) => code::LOCAL_PREF,
            AttrValue::AtomicAggregate => code::ATOMIC_AGGREGATE,
            AttrValue::Aggregator(_) => code::AGGREGATOR,
            AttrValue::Communities(_) => code::COMMUNITIES,
            AttrValue::OriginatorId(_) => code::ORIGINATOR_ID,
            AttrValue::ClusterList(_) => code::CLUSTER_LIST,
            AttrValue::MpReach(_) => code::MP_REACH_NLRI,
            AttrValue::MpUnreach(_) => code::MP_UNREACH_NLRI,
            AttrValue::ExtCommunities(_) => code::EXTENDED_COMMUNITIES,
            AttrValue::As4Path(_) => code::AS4_PATH,
            AttrValue::As4Aggregator(_) => code::AS4_AGGREGATOR,
            AttrValue::Aigp(_) => code::AIGP,
            AttrValue::LargeCommunities(_) => code::LARGE_COMMUNITIES,
            AttrValue::Otc(_) => code::ONLY_TO_CUSTOMER,
            AttrValue::Unknown(u) => u.type_code,
        }
    }

    /// A copy whose variable-length values own their bytes.
    fn detached(&self) -> Self {
        match self {
            AttrValue::AsPath(p) => AttrValue::AsPath(p.detached()),
            AttrValue::As4Path(p) => AttrValue::As4Path(p.detached()),
            AttrValue::Communities(c) => AttrValue::Communities(c.detached()),
            AttrValue::ClusterList(c) => AttrValue::ClusterList(c.detached()),
            AttrValue::ExtCommunities(c) => AttrValue::ExtCommunities(c.detached()),
            AttrValue::LargeCommunities(c) => AttrValue::LargeCommunities(c.detached()),
            AttrValue::Aigp(a) => AttrValue::Aigp(a.detached()),
            AttrValue::MpReach(m) => AttrValue::MpReach(Box::new(m.detached())),
            AttrValue::MpUnreach(m) => AttrValue::MpUnreach(Box::new(m.detached())),
            AttrValue::Unknown(u) => AttrValue::Unknown(UnknownAttr {
                type_code: u.type_code,
                data: bytes::Bytes::copy_from_slice(&u.data),
            }),
            other => other.clone(),
        }
    }

    fn encoded_len(&self, ctx: &EncodeCtx) -> usize {
        let four = ctx.four_octet_as;
        match self {
            AttrValue::Origin(_) => 1,
            AttrValue::AsPath(p) => p.encoded_len(four),
            AttrValue::NextHop(_)
            | AttrValue::Med(_)
            | AttrValue::LocalPref(_)
            | AttrValue::OriginatorId(_)
            | AttrValue::Otc(_) => 4,
            AttrValue::AtomicAggregate => 0,
            AttrValue::Aggregator(_) => Aggregator::encoded_len(four),
            AttrValue::Communities(c) => c.as_bytes().len(),
            AttrValue::ClusterList(c) => c.as_bytes().len(),
            AttrValue::MpReach(m) => m.encoded_len(ctx),
            AttrValue::MpUnreach(m) => m.encoded_len(ctx),
            AttrValue::ExtCommunities(c) => c.as_bytes().len(),
            AttrValue::As4Path(p) => p.encoded_len(true),
            AttrValue::As4Aggregator(_) => 8,
            AttrValue::Aigp(a) => a.as_bytes().len(),
            AttrValue::LargeCommunities(c) => c.as_bytes().len(),
            AttrValue::Unknown(u) => u.data.len(),
        }
    }

    fn encode(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        let four = ctx.four_octet_as;
        match self {
            AttrValue::Origin(o) => out.put_u8(o.as_u8()),
            AttrValue::AsPath(p) => p.encode(four, out),
            AttrValue::NextHop(a) | AttrValue::OriginatorId(a) => out.put_slice(&a.octets()),
            AttrValue::Med(v) | AttrValue::LocalPref(v) | AttrValue::Otc(v) => out.put_u32(*v),
            AttrValue::AtomicAggregate => {}
            AttrValue::Aggregator(a) => a.encode(four, out),
            AttrValue::Communities(c) => out.put_slice(c.as_bytes()),
            AttrValue::ClusterList(c) => out.put_slice(c.as_bytes()),
            AttrValue::MpReach(m) => m.encode(ctx, out)?,
            AttrValue::MpUnreach(m) => m.encode(ctx, out)?,
            AttrValue::ExtCommunities(c) => out.put_slice(c.as_bytes()),
            AttrValue::As4Path(p) => p.encode(true, out),
            AttrValue::As4Aggregator(a) => a.encode(true, out),
            AttrValue::Aigp(a) => out.put_slice(a.as_bytes()),
            AttrValue::LargeCommunities(c) => out.put_slice(c.as_bytes()),
            AttrValue::Unknown(u) => out.put_slice(&u.data),
        }
        Ok(())
    }
}

/// One path attribute: flags as received (or canonical for the type) and value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathAttribute {
    /// The flags octet. The Extended Length bit is kept as received; the encoder also
    /// sets it when the value is longer than 255 octets.
    pub flags: AttrFlags,
    /// The value.
    pub value: AttrValue,
}

impl PathAttribute {
    /// An attribute with the canonical flags of its type (optional transitive for an
    /// [`AttrValue::Unknown`]; use [`PathAttribute::unknown`] to choose its flags).
    pub fn new(value: AttrValue) -> Self {
        let flags =
            AttrFlags::for_type(value.type_code()).unwrap_or(AttrFlags::OPTIONAL_TRANSITIVE);
        PathAttribute { flags, value }
    }

    /// An attribute this crate does not know, with explicit flags.
    pub fn unknown(flags: AttrFlags, type_code: u8, data: bytes::Bytes) -> Self {
        PathAttribute {
            flags,
            value: AttrValue::Unknown(UnknownAttr { type_code, data }),
        }
    }

    /// The attribute type code.
    pub fn type_code(&self) -> u8 {
        self.value.type_code()
    }

    /// Appends flags, type, length and value. `ctx` decides 2- or 4-octet AS numbers;
    /// the caller has checked AS_TRANS use (see [`PathAttributes::encode`]).
    pub(crate) fn encode(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        let len = self.value.encoded_len(ctx);
        let type_code = self.type_code();
        let len16 =
            u16::try_from(len).map_err(|_| EncodeError::AttributeTooLong { type_code, len })?;
        let extended = self.flags.is_extended_length() || len > 255;
        let start = out.len();
        out.reserve(4 + len);
        if extended {
            out.put_u8(self.flags.0 | AttrFlags::EXTENDED_LENGTH);
            out.put_u8(type_code);
            out.put_u16(len16);
        } else {
            out.put_u8(self.flags.0);
            out.put_u8(type_code);
            out.put_u8(len16 as u8);
        }
        if let Err(e) = self.value.encode(ctx, out) {
            out.truncate(start);
            return Err(e);
        }
        Ok(())
    }
}

impl From<AttrValue> for PathAttribute {
    fn from(value: AttrValue) -> Self {
        PathAttribute::new(value)
    }
}
