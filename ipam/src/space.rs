//! The numbers a pool can hand out (addresses, or block indices of a pod pool), which are
//! taken, and where the next search starts.

use crate::interval::{Intervals, RunSet};

/// Hands out members of a fixed set of intervals, next free first.
///
/// The search starts at a cursor just past the last number handed out and wraps around, so
/// a number that was just released is only handed out again after every other free number
/// had its turn: a pod's address is not given to the next pod while something may still send
/// traffic to it.
///
/// Cost: `O((r + 1) log n)` per hand-out, where `r` is the number of configured intervals and
/// `n` the number of runs of taken numbers. Memory: one map entry per run of taken numbers.
#[derive(Clone, Debug)]
pub(crate) struct Space {
    usable: Intervals,
    taken: RunSet,
    capacity: u128,
    cursor: u128,
}

impl Space {
    pub(crate) fn new(usable: Intervals) -> Self {
        let capacity = usable.count();
        let cursor = usable.first().unwrap_or(0);
        Self {
            usable,
            taken: RunSet::default(),
            capacity,
            cursor,
        }
    }

    /// A copy with the same usable numbers and nothing taken.
    pub(crate) fn emptied(&self) -> Self {
        Self::new(self.usable.clone())
    }

    /// How many numbers can be handed out in all (saturating at `u128::MAX`).
    pub(crate) fn capacity(&self) -> u128 {
        self.capacity
    }

    pub(crate) fn taken_count(&self) -> u128 {
        self.taken.len()
    }

    pub(crate) fn is_usable(&self, x: u128) -> bool {
        self.usable.contains(x)
    }

    pub(crate) fn cursor(&self) -> u128 {
        self.cursor
    }

    /// Moves the place where the next search starts (any number is accepted).
    pub(crate) fn set_cursor(&mut self, cursor: u128) {
        self.cursor = cursor;
    }

    /// The first usable, free number at or after `x`.
    fn free_from(&self, mut x: u128) -> Option<u128> {
        loop {
            x = self.usable.first_at_or_after(x)?;
            let free = self.taken.first_absent_at_or_after(x)?;
            if free == x {
                return Some(x);
            }
            x = free;
        }
    }

    /// The number the next [`Space::take_next`] would hand out.
    pub(crate) fn next_free(&self) -> Option<u128> {
        if self.taken.len() >= self.capacity {
            return None;
        }
        self.free_from(self.cursor).or_else(|| self.free_from(0))
    }

    /// Hands out the next free number and moves the cursor past it.
    pub(crate) fn take_next(&mut self) -> Option<u128> {
        let x = self.next_free()?;
        self.taken.insert(x);
        self.cursor = x.wrapping_add(1);
        Some(x)
    }

    /// Takes a given usable number; false when it is taken already or not usable. The cursor
    /// does not move.
    pub(crate) fn take(&mut self, x: u128) -> bool {
        self.usable.contains(x) && self.taken.insert(x)
    }

    /// Gives a number back; false when it was not taken.
    pub(crate) fn release(&mut self, x: u128) -> bool {
        self.taken.remove(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(spans: &[(u128, u128)]) -> Space {
        Space::new(Intervals::union_of(spans.to_vec()))
    }

    #[test]
    fn released_number_is_not_reused_until_the_rest_had_a_turn() {
        let mut s = space(&[(10, 13)]);
        assert_eq!(s.take_next(), Some(10));
        assert_eq!(s.take_next(), Some(11));
        assert!(s.release(10));
        assert_eq!(s.take_next(), Some(12));
        assert_eq!(s.take_next(), Some(13));
        // Wraps around to the released one only now.
        assert_eq!(s.take_next(), Some(10));
        assert_eq!(s.take_next(), None);
    }

    #[test]
    fn skips_taken_runs_and_gaps_between_intervals() {
        let mut s = space(&[(0, 3), (100, 101), (1_000, 1_000)]);
        for x in [0, 1, 2, 3, 100] {
            assert!(s.take(x));
        }
        assert!(!s.take(50), "not usable");
        assert!(!s.take(100), "already taken");
        assert_eq!(s.take_next(), Some(101));
        assert_eq!(s.take_next(), Some(1_000));
        assert_eq!(s.take_next(), None);
        assert_eq!(s.taken_count(), s.capacity());
    }

    #[test]
    fn whole_ipv6_space_hands_out_from_the_top_without_overflow() {
        let mut s = space(&[(0, u128::MAX)]);
        s.set_cursor(u128::MAX);
        assert_eq!(s.take_next(), Some(u128::MAX));
        assert_eq!(s.take_next(), Some(0), "cursor wrapped to the start");
    }
}
