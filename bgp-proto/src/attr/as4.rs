//! AS4_PATH (type code 17) and AS4_AGGREGATOR (18), optional transitive (RFC 6793).
//!
//! A 2-octet ("OLD") speaker cannot carry 4-octet AS numbers: a 4-octet ("NEW") speaker
//! sending to it puts AS_TRANS in AS_PATH and AGGREGATOR and the real numbers in AS4_PATH
//! and AS4_AGGREGATOR, which the OLD speaker passes on untouched. A NEW speaker receiving
//! from an OLD one merges them back ([`PathAttributes::merge_as4`], RFC 6793 4.2.3):
//!
//! - If AGGREGATOR is present and its AS is not AS_TRANS, some OLD speaker aggregated the
//!   route after the AS4 attributes were added: both AS4_AGGREGATOR and AS4_PATH are
//!   ignored.
//! - Else, AGGREGATOR with AS_TRANS is replaced by AS4_AGGREGATOR when present.
//! - If AS_PATH is shorter than AS4_PATH (counted as in best-path selection), AS4_PATH is
//!   ignored. Otherwise the leading AS numbers of AS_PATH that AS4_PATH does not cover
//!   (those the OLD speakers prepended), with any confederation segments at the front,
//!   are put before AS4_PATH.
//! - Confederation segments in AS4_PATH are dropped (RFC 6793 section 6).
//!
//! The value format is that of AS_PATH ([`AsPath`]) and AGGREGATOR ([`Aggregator`]) with
//! 4-octet AS numbers.

use super::as_path::AsPathWriter;
use super::{
    AS_TRANS, Aggregator, AsPath, AttrValue, PathAttribute, PathAttributes, SegmentType, code,
};

/// The effective AS path from an AS_PATH received from a 2-octet speaker and its AS4_PATH
/// (RFC 6793 4.2.3; the AGGREGATOR rule is [`PathAttributes::merge_as4`]'s).
pub fn merge_as4_path(as_path: &AsPath, as4_path: &AsPath) -> AsPath {
    let as4 = as4_path.without_confed();
    let have = as_path.path_len();
    let want = as4.path_len();
    if have < want {
        return as_path.clone();
    }
    let mut need = have - want;
    let mut w = AsPathWriter::with_capacity(as_path.as_bytes().len() + as4.as_bytes().len());
    // Segments before AS4_PATH: the leading `need` AS numbers, with confederation segments
    // that lead or follow a taken segment.
    let mut prev_taken = true;
    for seg in as_path.segments() {
        if seg.kind().is_confed() {
            if need == 0 && !prev_taken {
                break;
            }
            w.start(seg.kind());
            seg.asns().for_each(|a| w.push(a));
            prev_taken = true;
            continue;
        }
        if need == 0 {
            break;
        }
        match seg.kind() {
            SegmentType::Set => {
                w.start(SegmentType::Set);
                seg.asns().for_each(|a| w.push(a));
                need -= 1;
            }
            _ => {
                w.continue_or_start(SegmentType::Sequence);
                let take = need.min(seg.len());
                seg.asns().take(take).for_each(|a| w.push(a));
                need -= take;
            }
        }
        prev_taken = true;
    }
    for seg in as4.segments() {
        match seg.kind() {
            SegmentType::Sequence => w.continue_or_start(SegmentType::Sequence),
            kind => w.start(kind),
        }
        seg.asns().for_each(|a| w.push(a));
    }
    w.finish()
}

impl PathAttributes {
    /// The effective AS path on a 2-octet session: AS_PATH merged with AS4_PATH, unless
    /// AGGREGATOR says an OLD speaker aggregated the route (see the module docs).
    pub fn as4_merged_as_path(&self) -> Option<AsPath> {
        let as_path = self.as_path()?;
        let aggregated_by_old = self.aggregator().is_some_and(|a| a.asn != AS_TRANS);
        match self.as4_path() {
            Some(as4) if !aggregated_by_old => Some(merge_as4_path(as_path, as4)),
            _ => Some(as_path.clone()),
        }
    }

    /// The effective aggregator on a 2-octet session: AS4_AGGREGATOR when AGGREGATOR
    /// carries AS_TRANS, else AGGREGATOR.
    pub fn as4_merged_aggregator(&self) -> Option<Aggregator> {
        let agg = self.aggregator()?;
        match self.as4_aggregator() {
            Some(real) if agg.asn == AS_TRANS => Some(real),
            _ => Some(agg),
        }
    }

    /// The list a 4-octet speaker works with after receiving from a 2-octet one: AS_PATH
    /// and AGGREGATOR replaced by their merged values, AS4_PATH and AS4_AGGREGATOR gone.
    #[must_use]
    pub fn merge_as4(&self) -> PathAttributes {
        if !self.contains(code::AS4_PATH) && !self.contains(code::AS4_AGGREGATOR) {
            return self.clone();
        }
        let path = self.as4_merged_as_path();
        let agg = self.as4_merged_aggregator();
        let mut out = self.clone();
        out.remove(code::AS4_PATH);
        out.remove(code::AS4_AGGREGATOR);
        if let Some(p) = path {
            replace_value(&mut out, AttrValue::AsPath(p));
        }
        if let Some(a) = agg {
            replace_value(&mut out, AttrValue::Aggregator(a));
        }
        out
    }

    /// The list to send to a 2-octet speaker: AS4_PATH (without confederation segments)
    /// added when AS_PATH has an AS number above 65535, AS4_AGGREGATOR when AGGREGATOR
    /// has; stale AS4 attributes removed. The encoder writes AS_TRANS in their place.
    #[must_use]
    pub fn with_as4_for_two_octet_peer(&self) -> PathAttributes {
        let mut out = self.clone();
        out.remove(code::AS4_PATH);
        out.remove(code::AS4_AGGREGATOR);
        if let Some(p) = self.as_path().filter(|p| p.has_four_octet_asn()) {
            out.set(PathAttribute::new(AttrValue::As4Path(p.without_confed())));
        }
        if let Some(a) = self.aggregator().filter(|a| a.asn > u32::from(u16::MAX)) {
            out.set(PathAttribute::new(AttrValue::As4Aggregator(a)));
        }
        out
    }
}

/// Replaces the value of the attribute of the same type, keeping its flags.
fn replace_value(attrs: &mut PathAttributes, value: AttrValue) {
    let flags = attrs.get(value.type_code()).map(|a| a.flags);
    match flags {
        Some(flags) => {
            attrs.set(PathAttribute { flags, value });
        }
        None => {
            attrs.set(PathAttribute::new(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn seq(asns: &[u32]) -> AsPath {
        AsPath::from_sequence(asns.iter().copied())
    }

    #[test]
    fn old_speakers_prepends_are_kept_in_front_of_as4_path() {
        // Path: 65001 (OLD, prepended after) <- 4200000001 <- 4200000002.
        let as_path = seq(&[65001, AS_TRANS, AS_TRANS]);
        let as4 = seq(&[4_200_000_001, 4_200_000_002]);
        let merged = merge_as4_path(&as_path, &as4);
        assert_eq!(merged.to_string(), "65001 4200000001 4200000002");
        assert_eq!(merged.segments().count(), 1);
    }

    #[test]
    fn as4_path_longer_than_as_path_is_ignored() {
        let as_path = seq(&[65001]);
        let as4 = seq(&[4_200_000_001, 4_200_000_002]);
        assert_eq!(merge_as4_path(&as_path, &as4), as_path);
    }

    #[test]
    fn sets_count_once_and_confeds_in_as4_path_are_dropped() {
        let as_path = AsPath::from_segments([
            (SegmentType::ConfedSequence, vec![65100]),
            (SegmentType::Sequence, vec![65001, AS_TRANS]),
            (SegmentType::Set, vec![1, 2]),
        ]);
        let as4 = AsPath::from_segments([
            (SegmentType::ConfedSequence, vec![9]),
            (SegmentType::Sequence, vec![4_200_000_001]),
            (SegmentType::Set, vec![1, 2]),
        ]);
        let merged = merge_as4_path(&as_path, &as4);
        assert_eq!(merged.to_string(), "(65100) 65001 4200000001 {1 2}");
    }

    #[test]
    fn aggregator_not_as_trans_means_the_as4_attributes_are_ignored() {
        let agg = |asn| Aggregator {
            asn,
            address: Ipv4Addr::new(192, 0, 2, 9),
        };
        let base = PathAttributes::new()
            .with_as_path(seq(&[65001, AS_TRANS]))
            .with(AttrValue::As4Path(seq(&[4_200_000_001])))
            .with(AttrValue::As4Aggregator(agg(4_200_000_009)));
        let by_old = base.clone().with_aggregator(agg(65009)).merge_as4();
        assert_eq!(by_old.as_path(), Some(&seq(&[65001, AS_TRANS])));
        assert_eq!(by_old.aggregator(), Some(agg(65009)));
        assert!(by_old.as4_path().is_none() && by_old.as4_aggregator().is_none());

        let by_new = base.with_aggregator(agg(AS_TRANS)).merge_as4();
        assert_eq!(by_new.as_path(), Some(&seq(&[65001, 4_200_000_001])));
        assert_eq!(by_new.aggregator(), Some(agg(4_200_000_009)));
    }
}
