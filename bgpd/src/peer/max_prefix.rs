//! The peer task's side of maximum prefixes: the RIB counts accepted paths per family
//! (`rib/max_prefix.rs`) and reports a warning or an exceeded limit here. A warning is
//! logged and shown in the API; an exceeded limit closes the session with the Cease
//! NOTIFICATION of RFC 4486 (subcode 1, Maximum Number of Prefixes Reached, with the
//! AFI, SAFI and limit as data) and keeps it down: until `restart_after` has passed if
//! configured, else until an operator resets or enables the neighbour.

use bgp_proto::notification::cease_subcode;
use bgp_proto::{ErrorCode, Family, Notification};
use bytes::{BufMut, BytesMut};
use tokio::time::Instant;
use tracing::warn;

use super::{PeerTask, Which};
use crate::fsm::{Event, State, Stop};
use crate::rib::max_prefix::LimitEvent;

/// Maximum-prefix state of a neighbour, as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitStatus {
    /// Families whose count reached the warning threshold in the current session.
    pub warning: Vec<Family>,
    /// Sessions closed for exceeding the limit, per family, since bgpd started.
    pub teardowns: Vec<(Family, u64)>,
    /// When the session is brought back after the last teardown, if `restart_after` is
    /// configured.
    pub restart_at: Option<Instant>,
}

impl LimitStatus {
    /// Teardowns for `family`.
    pub fn teardowns(&self, family: Family) -> u64 {
        self.teardowns
            .iter()
            .find(|(f, _)| *f == family)
            .map_or(0, |(_, n)| *n)
    }
}

/// Cease / Maximum Number of Prefixes Reached with the data of RFC 4486 section 4:
/// AFI (2 octets), SAFI (1 octet), the upper bound (4 octets).
pub fn notification(family: Family, limit: u32) -> Notification {
    let mut data = BytesMut::with_capacity(7);
    data.put_u16(family.afi.0);
    data.put_u8(family.safi.0);
    data.put_u32(limit);
    Notification::new(ErrorCode::Cease, cease_subcode::MAX_PREFIXES, data.freeze())
}

impl PeerTask {
    /// Handles a report of the RIB about this session's prefix count.
    pub(super) async fn on_prefix_limit(&mut self, event: LimitEvent) {
        if self.main.fsm.state() != State::Established {
            return; // about a session that is gone already
        }
        match event {
            LimitEvent::Warning {
                family,
                count,
                limit,
            } => {
                warn!(%family, count, limit, "prefix count reached the warning threshold");
                self.status_tx.send_modify(|s| {
                    if !s.prefix_limit.warning.contains(&family) {
                        s.prefix_limit.warning.push(family);
                    }
                });
            }
            LimitEvent::Exceeded {
                family,
                count,
                limit,
            } => {
                let restart_after = self
                    .spec
                    .neighbor
                    .rules
                    .max_prefix(family)
                    .and_then(|m| m.restart_after);
                warn!(
                    %family, count, limit,
                    restart_after = ?restart_after,
                    "prefix limit exceeded: closing the session"
                );
                self.feed(
                    Which::Main,
                    Event::AutomaticStop(notification(family, limit)),
                )
                .await;
                // Stay down instead of the automatic retry.
                self.feed(Which::Main, Event::ManualStop(Stop::Silent))
                    .await;
                let restart_at = restart_after.map(|d| Instant::now() + d);
                self.limit_restart = restart_at;
                self.status_tx.send_modify(|s| {
                    let p = &mut s.prefix_limit;
                    p.warning.clear();
                    p.restart_at = restart_at;
                    match p.teardowns.iter_mut().find(|(f, _)| *f == family) {
                        Some((_, n)) => *n += 1,
                        None => p.teardowns.push((family, 1)),
                    }
                });
            }
        }
    }

    /// Brings the session back once `restart_after` has passed.
    pub(super) async fn on_limit_restart(&mut self, now: Instant) {
        if self.limit_restart.is_some_and(|at| at <= now) {
            self.cancel_limit_restart();
            self.feed(Which::Main, Event::ManualStart).await;
        }
    }

    /// Forgets a pending restart (an operator started or stopped the neighbour).
    pub(super) fn cancel_limit_restart(&mut self) {
        if self.limit_restart.take().is_some() {
            self.status_tx
                .send_modify(|s| s.prefix_limit.restart_at = None);
        }
    }
}

/// Registers the maximum-prefix metrics of `peers`: the limit, whether the warning
/// threshold is reached, and teardowns, per peer and family.
pub(crate) fn register_metrics(
    registry: &mut prometheus_client::registry::Registry,
    peers: &[crate::control::PeerSnapshot],
) {
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family as Metric;
    use prometheus_client::metrics::gauge::Gauge;
    type Labels = Vec<(&'static str, String)>;
    let limit = Metric::<Labels, Gauge>::default();
    let warning = Metric::<Labels, Gauge>::default();
    let teardowns = Metric::<Labels, Counter>::default();
    registry.register(
        "bgp_peer_prefix_limit",
        "Configured maximum of accepted paths (max_prefix)",
        limit.clone(),
    );
    registry.register(
        "bgp_peer_prefix_limit_warning",
        "1 while the accepted paths reached the warning threshold of the limit",
        warning.clone(),
    );
    registry.register(
        "bgp_peer_prefix_limit_teardowns",
        "Sessions closed for exceeding the prefix limit",
        teardowns.clone(),
    );
    for p in peers {
        for m in &p.neighbor.rules.max_prefix {
            let l = vec![
                ("peer", p.neighbor.address.to_string()),
                ("family", m.family.to_string()),
            ];
            limit.get_or_create(&l).set(i64::from(m.limit));
            warning
                .get_or_create(&l)
                .set(i64::from(p.status.prefix_limit.warning.contains(&m.family)));
            teardowns
                .get_or_create(&l)
                .inc_by(p.status.prefix_limit.teardowns(m.family));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_show_the_limit_the_warning_and_teardowns() {
        let config = crate::config::from_str(
            "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\n[[neighbors]]\n\
             address = \"10.0.0.2\"\npeer_asn = 65001\n[[neighbors.max_prefix]]\n\
             family = \"ipv4-unicast\"\nlimit = 100\n",
            "test",
        )
        .unwrap();
        let mut status = super::super::status::PeerStatus::new(true);
        status.prefix_limit.warning.push(Family::IPV4_UNICAST);
        status
            .prefix_limit
            .teardowns
            .push((Family::IPV4_UNICAST, 2));
        let snapshot = crate::control::PeerSnapshot {
            id: 1,
            neighbor: config.neighbors[0].clone(),
            source: crate::control::Source::Config,
            status,
            sent: [0; 5],
            received: [0; 5],
        };
        let mut registry = prometheus_client::registry::Registry::default();
        register_metrics(&mut registry, &[snapshot]);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        let labels = r#"{peer="10.0.0.2",family="ipv4-unicast"}"#;
        for line in [
            format!("bgp_peer_prefix_limit{labels} 100"),
            format!("bgp_peer_prefix_limit_warning{labels} 1"),
            format!("bgp_peer_prefix_limit_teardowns_total{labels} 2"),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing in:\n{text}"
            );
        }
    }

    #[test]
    fn the_cease_carries_afi_safi_and_the_limit() {
        let n = notification(Family::IPV6_UNICAST, 1000);
        assert_eq!(n.code, ErrorCode::Cease.as_u8());
        assert_eq!(n.subcode, 1);
        assert_eq!(&n.data[..], [0, 2, 1, 0, 0, 0x03, 0xe8]);
    }
}
