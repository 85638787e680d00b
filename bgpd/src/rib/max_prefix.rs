//! Maximum prefixes per neighbour and family: the RIB counts the paths it accepts from a
//! neighbour with a limit and tells that neighbour's peer task when the count reaches the
//! warning threshold or exceeds the limit. The peer task logs, shows it in the API and
//! tears the session down (see `peer/max_prefix.rs`).
//!
//! Only neighbours with a `max_prefix` entry have a guard; the others cost nothing.

use bgp_proto::Family;
use tokio::sync::mpsc;
use tracing::warn;

use crate::config::MaxPrefix;
use crate::peer::PeerCmd;

/// What the RIB tells a peer task about its prefix count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitEvent {
    /// The count reached the warning threshold.
    Warning {
        /// The family.
        family: Family,
        /// Paths accepted.
        count: u64,
        /// The configured limit.
        limit: u32,
    },
    /// The count exceeded the limit: the session must go down.
    Exceeded {
        /// The family.
        family: Family,
        /// Paths accepted.
        count: u64,
        /// The configured limit.
        limit: u32,
    },
}

/// The prefix counts of one session with limits.
#[derive(Debug)]
pub(crate) struct PrefixGuard {
    limits: Vec<Limit>,
    to_peer: mpsc::WeakSender<PeerCmd>,
    /// Set once the limit of some family was exceeded: no more routes are accepted.
    pub(crate) tripped: bool,
}

#[derive(Debug)]
struct Limit {
    rule: MaxPrefix,
    count: u64,
    warned: bool,
    /// Exceeded and not yet told to the peer task (its queue was full).
    unsent: bool,
}

impl PrefixGuard {
    /// A guard for `limits`, reporting to the peer task behind `to_peer`. `None` without
    /// limits.
    pub(crate) fn new(limits: &[MaxPrefix], to_peer: mpsc::WeakSender<PeerCmd>) -> Option<Self> {
        (!limits.is_empty()).then(|| PrefixGuard {
            limits: limits
                .iter()
                .map(|rule| Limit {
                    rule: *rule,
                    count: 0,
                    warned: false,
                    unsent: false,
                })
                .collect(),
            to_peer,
            tripped: false,
        })
    }

    /// Adds `added` and removes `removed` accepted paths of `family`, and tells the peer
    /// task when a threshold is crossed.
    pub(crate) fn record(&mut self, family: Family, added: u64, removed: u64) {
        let Some(limit) = self.limits.iter_mut().find(|l| l.rule.family == family) else {
            return;
        };
        limit.count = (limit.count + added).saturating_sub(removed);
        let (count, max) = (limit.count, limit.rule.limit);
        if count > u64::from(max) && !self.tripped {
            self.tripped = true;
            limit.unsent = true;
        } else if !limit.warned && count >= limit.rule.warning_at() && count <= u64::from(max) {
            limit.warned = true;
            let event = LimitEvent::Warning {
                family,
                count,
                limit: max,
            };
            // A warning that does not fit the queue is only logged.
            if !send(&self.to_peer, event) {
                warn!(%family, count, limit = max, "prefix count reached the warning threshold");
            }
        } else if limit.warned && count < limit.rule.warning_at() {
            limit.warned = false;
        }
        self.flush();
    }

    /// Retries telling the peer task that the limit was exceeded.
    pub(crate) fn flush(&mut self) {
        for limit in self.limits.iter_mut().filter(|l| l.unsent) {
            let event = LimitEvent::Exceeded {
                family: limit.rule.family,
                count: limit.count,
                limit: limit.rule.limit,
            };
            if send(&self.to_peer, event) {
                limit.unsent = false;
            }
        }
    }

    /// Paths accepted per limited family.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> impl Iterator<Item = (Family, u64)> + '_ {
        self.limits.iter().map(|l| (l.rule.family, l.count))
    }
}

/// Sends without waiting; false if the peer task is gone or its queue is full.
fn send(to: &mpsc::WeakSender<PeerCmd>, event: LimitEvent) -> bool {
    match to.upgrade() {
        Some(tx) => match tx.try_send(PeerCmd::PrefixLimit(event)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => true,
            Err(mpsc::error::TrySendError::Full(_)) => false,
        },
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sender is returned so that the weak one in the guard stays usable.
    fn guard(rules: &[MaxPrefix]) -> (PrefixGuard, mpsc::Receiver<PeerCmd>, mpsc::Sender<PeerCmd>) {
        let (tx, rx) = mpsc::channel(16);
        let g = PrefixGuard::new(rules, tx.downgrade()).unwrap();
        (g, rx, tx)
    }

    fn limit(family: Family, limit: u32, warning_percent: u8) -> MaxPrefix {
        MaxPrefix {
            family,
            limit,
            warning_percent,
            restart_after: None,
        }
    }

    fn events(rx: &mut mpsc::Receiver<PeerCmd>) -> Vec<LimitEvent> {
        let mut out = Vec::new();
        while let Ok(PeerCmd::PrefixLimit(e)) = rx.try_recv() {
            out.push(e);
        }
        out
    }

    #[test]
    fn counts_per_family_warn_once_then_trip_above_the_limit() {
        let v4 = Family::IPV4_UNICAST;
        let v6 = Family::IPV6_UNICAST;
        let (mut g, mut rx, _tx) = guard(&[limit(v4, 10, 80), limit(v6, 3, 100)]);
        g.record(v4, 7, 0);
        assert!(events(&mut rx).is_empty());
        g.record(v4, 1, 0);
        assert_eq!(
            events(&mut rx),
            [LimitEvent::Warning {
                family: v4,
                count: 8,
                limit: 10
            }]
        );
        // IPv6 counts on its own: 9 IPv4 paths do not touch the IPv6 limit.
        g.record(v6, 2, 0);
        g.record(v4, 2, 0);
        assert!(events(&mut rx).is_empty(), "10 is not above 10");
        assert!(!g.tripped);
        // Withdrawals count down.
        g.record(v4, 1, 1);
        g.record(v4, 1, 0);
        assert_eq!(
            events(&mut rx),
            [LimitEvent::Exceeded {
                family: v4,
                count: 11,
                limit: 10
            }]
        );
        assert!(g.tripped);
        g.record(v4, 5, 0);
        assert!(events(&mut rx).is_empty(), "told once");
        assert_eq!(g.counts().collect::<Vec<_>>(), [(v4, 16), (v6, 2)]);
    }

    #[test]
    fn the_warning_fires_again_after_the_count_fell_below_it() {
        let v4 = Family::IPV4_UNICAST;
        let (mut g, mut rx, _tx) = guard(&[limit(v4, 100, 50)]);
        g.record(v4, 50, 0);
        g.record(v4, 0, 10);
        g.record(v4, 20, 0);
        assert_eq!(events(&mut rx).len(), 2);
        assert_eq!(limit(v4, 3, 1).warning_at(), 1);
        assert_eq!(limit(v4, 1000, 75).warning_at(), 750);
    }
}
