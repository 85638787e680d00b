//! Sets of `u128` numbers kept as intervals, so that their memory grows with the number of
//! runs, never with the size of the span they cover (a /64 is 2^64 addresses).

use std::collections::BTreeMap;

use crate::addr::span_len;

/// A fixed set: sorted, disjoint, non-adjacent inclusive intervals. Used for the configured
/// shape of a pool (its ranges, its reservations, what is left to hand out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Intervals(Vec<(u128, u128)>);

impl Intervals {
    /// The union of the given inclusive intervals (any order, overlaps allowed).
    pub(crate) fn union_of(mut spans: Vec<(u128, u128)>) -> Self {
        spans.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(spans.len());
        for (first, last) in spans {
            match merged.last_mut() {
                Some(prev) if first <= prev.1.saturating_add(1) => prev.1 = prev.1.max(last),
                _ => merged.push((first, last)),
            }
        }
        Self(merged)
    }

    /// The numbers of `self` that are not in `other`.
    pub(crate) fn minus(&self, other: &Self) -> Self {
        let mut out = Vec::with_capacity(self.0.len());
        let mut cut = other.0.iter().peekable();
        for &(first, last) in &self.0 {
            let mut start = first;
            // Skip the cuts that end before this interval.
            while cut.next_if(|c| c.1 < start).is_some() {}
            let mut done = false;
            for &(cf, cl) in cut.clone() {
                if cf > last {
                    break;
                }
                if cf > start {
                    out.push((start, cf - 1));
                }
                if cl >= last {
                    done = true;
                    break;
                }
                start = cl + 1;
            }
            if !done {
                out.push((start, last));
            }
        }
        Self(out)
    }

    /// The numbers of `self` within `first..=last`.
    pub(crate) fn clip(&self, first: u128, last: u128) -> Self {
        let from = self.0.partition_point(|&(_, l)| l < first);
        let to = self.0.partition_point(|&(f, _)| f <= last);
        let spans = self.0.get(from..to).unwrap_or_default();
        Self(
            spans
                .iter()
                .map(|&(f, l)| (f.max(first), l.min(last)))
                .collect(),
        )
    }

    /// How many numbers the set holds, saturating at `u128::MAX`.
    pub(crate) fn count(&self) -> u128 {
        self.0
            .iter()
            .fold(0u128, |n, &(f, l)| n.saturating_add(span_len(f, l)))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn contains(&self, x: u128) -> bool {
        let i = self.0.partition_point(|&(_, l)| l < x);
        self.0.get(i).is_some_and(|&(f, _)| f <= x)
    }

    /// The smallest member that is `>= x`.
    pub(crate) fn first_at_or_after(&self, x: u128) -> Option<u128> {
        let i = self.0.partition_point(|&(_, l)| l < x);
        self.0.get(i).map(|&(f, _)| f.max(x))
    }

    pub(crate) fn first(&self) -> Option<u128> {
        self.0.first().map(|&(f, _)| f)
    }

    pub(crate) fn spans(&self) -> &[(u128, u128)] {
        &self.0
    }
}

/// A changing set kept as maximal runs of consecutive numbers (`start -> last`). Used for the
/// taken addresses of a pool: a full /16 is one entry, not 65,536.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunSet {
    runs: BTreeMap<u128, u128>,
    len: u128,
}

impl RunSet {
    /// The run that holds `x`, as `(start, last)`.
    fn run_of(&self, x: u128) -> Option<(u128, u128)> {
        self.runs
            .range(..=x)
            .next_back()
            .filter(|(_, last)| **last >= x)
            .map(|(s, l)| (*s, *l))
    }

    pub(crate) fn contains(&self, x: u128) -> bool {
        self.run_of(x).is_some()
    }

    pub(crate) fn len(&self) -> u128 {
        self.len
    }

    /// Adds `x`; false when it was already there.
    pub(crate) fn insert(&mut self, x: u128) -> bool {
        if self.contains(x) {
            return false;
        }
        let before = x
            .checked_sub(1)
            .and_then(|p| self.run_of(p))
            .map(|(start, _)| start);
        let after = x.checked_add(1).and_then(|n| self.runs.get(&n).copied());
        match (before, after) {
            (Some(start), Some(last)) => {
                self.runs.remove(&(x + 1));
                self.runs.insert(start, last);
            }
            (Some(start), None) => {
                self.runs.insert(start, x);
            }
            (None, Some(last)) => {
                self.runs.remove(&(x + 1));
                self.runs.insert(x, last);
            }
            (None, None) => {
                self.runs.insert(x, x);
            }
        }
        self.len += 1;
        true
    }

    /// Removes `x`; false when it was not there.
    pub(crate) fn remove(&mut self, x: u128) -> bool {
        let Some((start, last)) = self.run_of(x) else {
            return false;
        };
        if start < x {
            self.runs.insert(start, x - 1);
        } else {
            self.runs.remove(&start);
        }
        if x < last {
            self.runs.insert(x + 1, last);
        }
        self.len -= 1;
        true
    }

    /// The smallest number `>= x` that is not in the set; `None` when all of `x..=u128::MAX`
    /// is taken.
    pub(crate) fn first_absent_at_or_after(&self, x: u128) -> Option<u128> {
        match self.run_of(x) {
            Some((_, last)) => last.checked_add(1),
            None => Some(x),
        }
    }

    /// Number of runs, i.e. the memory the set needs.
    #[cfg(test)]
    pub(crate) fn run_count(&self) -> usize {
        self.runs.len()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn minus_cuts_holes_and_ends() {
        let a = Intervals::union_of(vec![(0, 99), (200, 299)]);
        let cut = Intervals::union_of(vec![(0, 0), (50, 59), (99, 210), (299, 299)]);
        assert_eq!(a.minus(&cut).spans(), &[(1, 49), (60, 98), (211, 298)]);
        assert_eq!(a.minus(&cut).count(), 49 + 39 + 88);
    }

    #[test]
    fn union_merges_adjacent_and_overlapping() {
        let u = Intervals::union_of(vec![
            (10, 20),
            (0, 9),
            (15, 30),
            (32, 40),
            (u128::MAX, u128::MAX),
        ]);
        assert_eq!(u.spans(), &[(0, 30), (32, 40), (u128::MAX, u128::MAX)]);
        assert_eq!(Intervals::union_of(vec![(0, u128::MAX)]).count(), u128::MAX);
    }

    #[test]
    fn a_full_run_is_one_entry() {
        let mut s = RunSet::default();
        for x in (0..65_536).rev() {
            assert!(s.insert(x));
        }
        assert_eq!(s.run_count(), 1);
        assert_eq!(s.first_absent_at_or_after(0), Some(65_536));
        assert!(s.remove(100));
        assert_eq!(s.run_count(), 2);
        assert_eq!(s.first_absent_at_or_after(0), Some(100));
        assert_eq!(s.len(), 65_535);
    }

    proptest! {
        #[test]
        fn runset_behaves_like_a_set(ops in prop::collection::vec((any::<bool>(), 0u128..64), 0..200)) {
            let mut s = RunSet::default();
            let mut model = BTreeSet::new();
            for (add, x) in ops {
                if add {
                    prop_assert_eq!(s.insert(x), model.insert(x));
                } else {
                    prop_assert_eq!(s.remove(x), model.remove(&x));
                }
                prop_assert_eq!(s.len(), model.len() as u128);
                for y in 0..66u128 {
                    prop_assert_eq!(s.contains(y), model.contains(&y));
                    let expect = (y..).find(|z| !model.contains(z));
                    prop_assert_eq!(s.first_absent_at_or_after(y), expect);
                }
            }
        }

        #[test]
        fn minus_and_clip_match_sets(
            a in prop::collection::vec((0u128..100, 0u128..8), 0..6),
            b in prop::collection::vec((0u128..100, 0u128..8), 0..6),
            lo in 0u128..110, width in 0u128..40,
        ) {
            let to_iv = |v: &[(u128, u128)]| Intervals::union_of(v.iter().map(|&(f, w)| (f, f + w)).collect());
            let to_set = |iv: &Intervals| iv.spans().iter().flat_map(|&(f, l)| f..=l).collect::<BTreeSet<_>>();
            let (ia, ib) = (to_iv(&a), to_iv(&b));
            let diff: BTreeSet<_> = to_set(&ia).difference(&to_set(&ib)).copied().collect();
            prop_assert_eq!(to_set(&ia.minus(&ib)), diff);
            let hi = lo + width;
            let clipped: BTreeSet<_> = to_set(&ia).into_iter().filter(|x| (lo..=hi).contains(x)).collect();
            prop_assert_eq!(to_set(&ia.clip(lo, hi)), clipped.clone());
            for x in 0..120u128 {
                prop_assert_eq!(ia.contains(x), to_set(&ia).contains(&x));
                prop_assert_eq!(ia.first_at_or_after(x), to_set(&ia).range(x..).next().copied());
            }
        }
    }
}
