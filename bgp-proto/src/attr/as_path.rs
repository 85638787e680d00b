//! AS_PATH (type code 2, well-known mandatory; RFC 4271 section 4.3 and 5.1.2, RFC 5065,
//! RFC 6793) and the value of AS4_PATH (type code 17).
//!
//! The value is a sequence of path segments:
//!
//! ```text
//! +-----------------+-----------------+---------------------------------+
//! | segment type(1) | segment len (1) | segment len x AS number (2 or 4)|
//! +-----------------+-----------------+---------------------------------+
//! ```
//!
//! Segment types: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET. AS
//! numbers are 2 octets unless both speakers announced the 4-octet AS capability; AS4_PATH
//! always has 4-octet ones.
//!
//! [`AsPath`] keeps the 4-octet wire form (on 4-octet sessions a slice of the received
//! message, without a copy), so equality and hashing do not depend on the session it came
//! from. Every segment holds 1 to 255 AS numbers; the constructors split longer runs.
//!
//! Malformed (unknown segment type, empty segment, segment overrunning the attribute, a
//! lone trailing octet): treat-as-withdraw for AS_PATH (RFC 7606 7.2), attribute discard
//! for AS4_PATH (RFC 6793 section 6).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::attr::error::AttrErrorKind;

/// AS_TRANS (RFC 6793): stands in for a 4-octet AS number on a 2-octet session.
pub const AS_TRANS: u32 = 23456;

/// Most AS numbers in one segment.
const MAX_SEGMENT_LEN: usize = 255;

/// The kind of a path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentType {
    /// AS_SET (1): unordered, counts as one AS in the path length.
    Set,
    /// AS_SEQUENCE (2): ordered.
    Sequence,
    /// AS_CONFED_SEQUENCE (3, RFC 5065): ordered, within a confederation.
    ConfedSequence,
    /// AS_CONFED_SET (4, RFC 5065): unordered, within a confederation.
    ConfedSet,
}

impl SegmentType {
    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            SegmentType::Set => 1,
            SegmentType::Sequence => 2,
            SegmentType::ConfedSequence => 3,
            SegmentType::ConfedSet => 4,
        }
    }

    /// Maps the wire value; `None` for an unknown segment type.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(SegmentType::Set),
            2 => Some(SegmentType::Sequence),
            3 => Some(SegmentType::ConfedSequence),
            4 => Some(SegmentType::ConfedSet),
            _ => None,
        }
    }

    /// True for the two confederation segment types.
    pub fn is_confed(self) -> bool {
        matches!(self, SegmentType::ConfedSequence | SegmentType::ConfedSet)
    }
}

/// An AS path, in 4-octet form.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsPath {
    /// Segments in 4-octet wire form, each with 1..=255 AS numbers.
    bytes: Bytes,
}

/// One segment of an [`AsPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    kind: SegmentType,
    /// The AS numbers, 4 octets each.
    raw: &'a [u8],
}

impl<'a> Segment<'a> {
    /// The segment type.
    pub fn kind(&self) -> SegmentType {
        self.kind
    }

    /// Number of AS numbers in the segment.
    pub fn len(&self) -> usize {
        self.raw.len() / 4
    }

    /// Always false: segments are never empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The AS numbers, in order.
    pub fn asns(self) -> impl DoubleEndedIterator<Item = u32> + ExactSizeIterator + 'a {
        self.raw
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// Iterator over the segments of an [`AsPath`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let (&kind, rest) = self.rest.split_first()?;
        let (&count, rest) = rest.split_first()?;
        let kind = SegmentType::from_u8(kind)?;
        let n = usize::from(count) * 4;
        let raw = rest.get(..n)?;
        self.rest = rest.get(n..)?;
        Some(Segment { kind, raw })
    }
}

/// Builds the 4-octet wire form segment by segment, splitting runs over 255 AS numbers
/// and, when asked, joining adjacent segments of the same ordered type.
#[derive(Debug, Default)]
pub(crate) struct AsPathWriter {
    out: BytesMut,
    /// Position of the open segment's header, its type and count.
    open: Option<(usize, SegmentType, usize)>,
}

impl AsPathWriter {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        AsPathWriter {
            out: BytesMut::with_capacity(bytes),
            open: None,
        }
    }

    /// Starts a new segment of `kind` (an empty segment is dropped at finish).
    pub(crate) fn start(&mut self, kind: SegmentType) {
        self.close();
        self.open = Some((self.out.len(), kind, 0));
        self.out.put_u8(kind.as_u8());
        self.out.put_u8(0);
    }

    /// Continues the open segment if it is of `kind` and ordered (sequences may be joined
    /// without changing the path; sets may not), else starts one.
    pub(crate) fn continue_or_start(&mut self, kind: SegmentType) {
        match self.open {
            Some((_, open, _))
                if open == kind
                    && matches!(kind, SegmentType::Sequence | SegmentType::ConfedSequence) => {}
            _ => self.start(kind),
        }
    }

    pub(crate) fn push(&mut self, asn: u32) {
        let Some((_, kind, count)) = self.open else {
            self.start(SegmentType::Sequence);
            return self.push(asn);
        };
        if count == MAX_SEGMENT_LEN {
            self.start(kind);
            return self.push(asn);
        }
        self.out.put_u32(asn);
        if let Some((_, _, n)) = self.open.as_mut() {
            *n += 1;
        }
    }

    fn close(&mut self) {
        if let Some((at, _, count)) = self.open.take() {
            if count == 0 {
                self.out.truncate(at);
            } else if let Some(slot) = self.out.get_mut(at + 1) {
                // count <= 255, see push.
                *slot = u8::try_from(count).unwrap_or(u8::MAX);
            }
        }
    }

    pub(crate) fn finish(mut self) -> AsPath {
        self.close();
        AsPath {
            bytes: self.out.freeze(),
        }
    }
}

impl AsPath {
    /// A copy that owns its bytes instead of sharing the received message's.
    pub(crate) fn detached(&self) -> Self {
        AsPath {
            bytes: Bytes::copy_from_slice(&self.bytes),
        }
    }
    /// The empty path (what an internal peer sends for a locally originated route).
    pub fn new() -> Self {
        AsPath::default()
    }

    /// A path of one AS_SEQUENCE (split into segments of at most 255).
    pub fn from_sequence(asns: impl IntoIterator<Item = u32>) -> Self {
        AsPath::from_segments([(SegmentType::Sequence, asns)])
    }

    /// A path from segments as given; segments longer than 255 AS numbers are split into
    /// consecutive segments of the same type, empty ones are left out.
    pub fn from_segments<I, S>(segments: I) -> Self
    where
        I: IntoIterator<Item = (SegmentType, S)>,
        S: IntoIterator<Item = u32>,
    {
        let mut w = AsPathWriter::default();
        for (kind, asns) in segments {
            w.start(kind);
            for asn in asns {
                w.push(asn);
            }
        }
        w.finish()
    }

    /// The segments, in order.
    pub fn segments(&self) -> Segments<'_> {
        Segments { rest: &self.bytes }
    }

    /// Every AS number of every segment, in order.
    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments().flat_map(|s| s.asns())
    }

    /// True when the path has no segments.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The path length used in best-path selection (RFC 4271 9.1.2.2): each AS in a
    /// sequence counts one, each AS_SET counts one, confederation segments count zero
    /// (RFC 5065 section 5.3).
    pub fn path_len(&self) -> usize {
        self.segments()
            .map(|s| match s.kind {
                SegmentType::Sequence => s.len(),
                SegmentType::Set => 1,
                SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
            })
            .sum()
    }

    /// The AS the route was learned from: the first AS of the path when it starts with an
    /// AS_SEQUENCE.
    pub fn neighbor_as(&self) -> Option<u32> {
        let first = self.segments().next()?;
        (first.kind == SegmentType::Sequence)
            .then(|| first.asns().next())
            .flatten()
    }

    /// The AS that originated the route: the last AS of the path when it ends with an
    /// AS_SEQUENCE.
    pub fn origin_as(&self) -> Option<u32> {
        let last = self.segments().last()?;
        (last.kind == SegmentType::Sequence)
            .then(|| last.asns().next_back())
            .flatten()
    }

    /// Whether `asn` appears anywhere in the path (loop detection).
    pub fn contains(&self, asn: u32) -> bool {
        self.asns().any(|a| a == asn)
    }

    /// Whether the path has AS_CONFED_SEQUENCE or AS_CONFED_SET segments.
    pub fn has_confed(&self) -> bool {
        self.segments().any(|s| s.kind.is_confed())
    }

    /// Whether some AS number does not fit 2 octets (and so needs AS4_PATH towards a
    /// 2-octet speaker).
    pub fn has_four_octet_asn(&self) -> bool {
        self.asns().any(|a| a > u32::from(u16::MAX))
    }

    /// The path with `asn` prepended `count` times (joining the leading AS_SEQUENCE).
    #[must_use]
    pub fn prepend(&self, asn: u32, count: usize) -> AsPath {
        let mut w = AsPathWriter::with_capacity(self.bytes.len() + 2 + 4 * count);
        w.start(SegmentType::Sequence);
        for _ in 0..count {
            w.push(asn);
        }
        for seg in self.segments() {
            w.continue_or_start(seg.kind);
            for a in seg.asns() {
                w.push(a);
            }
        }
        w.finish()
    }

    /// The path without its confederation segments.
    #[must_use]
    pub fn without_confed(&self) -> AsPath {
        if !self.has_confed() {
            return self.clone();
        }
        AsPath::from_segments(
            self.segments()
                .filter(|s| !s.kind.is_confed())
                .map(|s| (s.kind, s.asns())),
        )
    }

    /// The 4-octet wire form of the segments.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Decodes an AS_PATH value with 2- or 4-octet AS numbers (AS4_PATH: always 4).
    pub(crate) fn decode(value: Bytes, four_octet: bool) -> Result<AsPath, AttrErrorKind> {
        let width = if four_octet { 4 } else { 2 };
        let mut pos = 0;
        let mut asns = 0;
        while pos < value.len() {
            let header = value
                .get(pos..pos + 2)
                .ok_or(AttrErrorKind::MalformedAsPath)?;
            let count = usize::from(header[1]);
            if SegmentType::from_u8(header[0]).is_none() || count == 0 {
                return Err(AttrErrorKind::MalformedAsPath);
            }
            pos += 2 + count * width;
            if pos > value.len() {
                return Err(AttrErrorKind::MalformedAsPath);
            }
            asns += count;
        }
        if four_octet {
            return Ok(AsPath {
                bytes: value.clone(),
            });
        }
        let mut out = BytesMut::with_capacity(value.len() + 2 * asns);
        let mut rest: &[u8] = &value;
        while let [kind, count, tail @ ..] = rest {
            out.put_u8(*kind);
            out.put_u8(*count);
            let n = usize::from(*count) * 2;
            let (seg, tail) = tail
                .split_at_checked(n)
                .ok_or(AttrErrorKind::MalformedAsPath)?;
            for c in seg.chunks_exact(2) {
                out.put_u32(u32::from(u16::from_be_bytes([c[0], c[1]])));
            }
            rest = tail;
        }
        Ok(AsPath {
            bytes: out.freeze(),
        })
    }

    /// Length of the value with 2- or 4-octet AS numbers.
    pub(crate) fn encoded_len(&self, four_octet: bool) -> usize {
        if four_octet {
            self.bytes.len()
        } else {
            self.segments().map(|s| 2 + 2 * s.len()).sum()
        }
    }

    /// Appends the value with 2- or 4-octet AS numbers; on a 2-octet session AS numbers
    /// above 65535 become [`AS_TRANS`] (the caller checks that AS4_PATH goes along).
    pub(crate) fn encode(&self, four_octet: bool, out: &mut BytesMut) {
        if four_octet {
            out.put_slice(&self.bytes);
            return;
        }
        for seg in self.segments() {
            out.put_u8(seg.kind.as_u8());
            // Segments hold at most 255 AS numbers.
            out.put_u8(u8::try_from(seg.len()).unwrap_or(u8::MAX));
            for asn in seg.asns() {
                out.put_u16(u16::try_from(asn).unwrap_or(AS_TRANS as u16));
            }
        }
    }
}

impl fmt::Display for AsPath {
    /// `65001 65002 {65003 65004} (65010) [65011 65012]`: sets in braces, confederation
    /// sequences in parentheses, confederation sets in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in self.segments() {
            let (open, close) = match seg.kind {
                SegmentType::Sequence => ("", ""),
                SegmentType::Set => ("{", "}"),
                SegmentType::ConfedSequence => ("(", ")"),
                SegmentType::ConfedSet => ("[", "]"),
            };
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(open)?;
            for (i, asn) in seg.asns().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{asn}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

impl fmt::Debug for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsPath({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_octet_paths_widen_and_narrow_back() {
        let wire = Bytes::from_static(&[2, 2, 0xfd, 0xe9, 0x5b, 0xa0, 1, 1, 0, 1]);
        let p = AsPath::decode(wire.clone(), false).unwrap();
        assert_eq!(p.to_string(), "65001 23456 {1}");
        assert_eq!(p.encoded_len(false), wire.len());
        let mut out = BytesMut::new();
        p.encode(false, &mut out);
        assert_eq!(&out[..], &wire[..]);
        assert_eq!(p.encoded_len(true), 16);
    }

    #[test]
    fn malformed_segments_are_rejected() {
        for bad in [
            &[2u8, 0][..],
            &[5, 1, 0, 0, 0, 1],
            &[2, 2, 0, 0, 0, 1],
            &[2],
            &[2, 1, 0, 0, 0, 1, 2],
        ] {
            assert_eq!(
                AsPath::decode(Bytes::copy_from_slice(bad), true),
                Err(AttrErrorKind::MalformedAsPath),
                "{bad:?}"
            );
        }
        assert!(AsPath::decode(Bytes::new(), true).unwrap().is_empty());
    }

    #[test]
    fn long_sequences_are_split_at_255() {
        let p = AsPath::from_sequence(1..=600);
        let lens: Vec<usize> = p.segments().map(|s| s.len()).collect();
        assert_eq!(lens, [255, 255, 90]);
        assert_eq!(p.path_len(), 600);
        assert_eq!(p.neighbor_as(), Some(1));
        assert_eq!(p.origin_as(), Some(600));
    }

    #[test]
    fn path_length_counts_sets_once_and_confeds_not_at_all() {
        let p = AsPath::from_segments([
            (SegmentType::ConfedSequence, vec![65010, 65011]),
            (SegmentType::Sequence, vec![1, 2]),
            (SegmentType::Set, vec![3, 4, 5]),
        ]);
        assert_eq!(p.path_len(), 3);
        assert_eq!(p.neighbor_as(), None);
        assert_eq!(p.origin_as(), None);
        assert!(p.has_confed());
        assert_eq!(p.without_confed().to_string(), "1 2 {3 4 5}");
        assert_eq!(p.to_string(), "(65010 65011) 1 2 {3 4 5}");
    }

    #[test]
    fn prepend_joins_the_leading_sequence() {
        let p = AsPath::from_sequence([2, 3]).prepend(1, 2);
        assert_eq!(p.segments().count(), 1);
        assert_eq!(p.to_string(), "1 1 2 3");
        let s = AsPath::from_segments([(SegmentType::Set, [7, 8])]).prepend(1, 1);
        assert_eq!(s.to_string(), "1 {7 8}");
        assert_eq!(AsPath::new().prepend(9, 0), AsPath::new());
    }
}
