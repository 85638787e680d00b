//! Exponential back-off for peers that keep failing.

use std::time::Duration;

/// How long to wait before the next connection attempt: `base * 2^failures`, at most
/// `max`, where `failures` counts consecutive failures since the last reset.
///
/// Deterministic on purpose; the peer task adds jitter when it arms the timer (see the
/// [module documentation](super)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A back-off starting at `base` and capped at `max` (raised to `base` if below it).
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max: max.max(base),
            failures: 0,
        }
    }

    /// The current wait.
    pub fn delay(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }

    /// Records one more consecutive failure, doubling the wait up to the maximum.
    pub fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    /// Forgets past failures: the wait is `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn doubles_per_failure_and_caps_at_max() {
        let mut b = Backoff::new(5 * S, 60 * S);
        let mut waits = vec![b.delay()];
        for _ in 0..6 {
            b.failed();
            waits.push(b.delay());
        }
        assert_eq!(
            waits,
            [5 * S, 10 * S, 20 * S, 40 * S, 60 * S, 60 * S, 60 * S]
        );
        assert_eq!(b.failures(), 6);
    }

    #[test]
    fn reset_returns_to_base() {
        let mut b = Backoff::new(2 * S, 100 * S);
        b.failed();
        b.failed();
        assert_eq!(b.delay(), 8 * S);
        b.reset();
        assert_eq!((b.delay(), b.failures()), (2 * S, 0));
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(u64::MAX / 2), Duration::MAX);
        b.failed();
        b.failed();
        assert_eq!(b.delay(), Duration::MAX);
        let mut b = Backoff::new(S, 300 * S);
        for _ in 0..100 {
            b.failed();
        }
        assert_eq!(b.delay(), 300 * S);
        b.failures = u32::MAX;
        b.failed();
        assert_eq!(b.delay(), 300 * S);
    }

    #[test]
    fn max_below_base_is_raised_to_base() {
        let mut b = Backoff::new(10 * S, S);
        b.failed();
        assert_eq!(b.delay(), 10 * S);
    }
}
