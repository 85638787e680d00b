//! Graceful restart in the peer task (RFC 4724, RFC 8538): the capability we announce,
//! what was negotiated, whether a session that went down leaves its routes stale, and the
//! Hard Reset wrapping of our Cease NOTIFICATIONs.

use std::time::Duration;

use bgp_proto::capability::{
    Capability, GracefulRestart as GrCap, GracefulRestartFamily, LlgrFamily,
    LongLivedGracefulRestart,
};
use bgp_proto::notification::cease_subcode;
use bgp_proto::{ErrorCode, Family, Notification};

use crate::config::GracefulRestart;
use crate::fsm::{DownReason, Stop};

/// Our capabilities: Graceful Restart (the Restart State bit when bgpd has just restarted,
/// the N bit, every family with its Forwarding State bit) and, with a long-lived stale
/// time, Long-Lived Graceful Restart (RFC 9494).
pub(crate) fn capabilities(
    cfg: &GracefulRestart,
    restarted: bool,
    families: &[Family],
) -> Vec<Capability> {
    let mut caps = vec![capability(cfg, restarted, families)];
    let stale_time = u32::try_from(cfg.long_lived_stale_time.as_secs())
        .unwrap_or(u32::MAX)
        .min(0x00ff_ffff);
    if stale_time > 0 {
        caps.push(Capability::LongLivedGracefulRestart(
            LongLivedGracefulRestart {
                families: families
                    .iter()
                    .map(|f| LlgrFamily {
                        family: *f,
                        forwarding_state: cfg.forwarding_state,
                        stale_time,
                    })
                    .collect(),
            },
        ));
    }
    caps
}

fn capability(cfg: &GracefulRestart, restarted: bool, families: &[Family]) -> Capability {
    Capability::GracefulRestart(GrCap {
        restart_state: restarted,
        notification: cfg.notification,
        restart_time: u16::try_from(cfg.restart_time.as_secs())
            .unwrap_or(4095)
            .min(4095),
        families: families
            .iter()
            .map(|f| GracefulRestartFamily {
                family: *f,
                forwarding_state: cfg.forwarding_state,
            })
            .collect(),
    })
}

/// Graceful restart as negotiated on an established session (both sides announced it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrSession {
    /// Both sides set the N bit: NOTIFICATIONs other than Hard Reset keep routes too.
    pub(crate) notification: bool,
    /// The peer's Restart Time: how long to wait for it to come back.
    pub(crate) restart_time: Duration,
    /// The session's families the peer can preserve (listed in its capability).
    pub(crate) families: Vec<Family>,
    /// Of those, the ones with the Forwarding State bit set in this OPEN.
    pub(crate) forwarding: Vec<Family>,
    /// The peer announced the Restart State bit (it has just restarted).
    pub(crate) peer_restarted: bool,
    /// Long-Lived Graceful Restart (both sides announced it): the session's families the
    /// peer listed, with its long-lived stale time.
    pub(crate) llgr: Vec<(Family, Duration)>,
}

impl GrSession {
    /// What was negotiated, or `None` unless both sides announced graceful restart.
    pub(crate) fn negotiate(
        local: &GracefulRestart,
        peer: Option<&GrCap>,
        peer_llgr: Option<&LongLivedGracefulRestart>,
        session_families: &[Family],
    ) -> Option<GrSession> {
        let peer = peer.filter(|_| local.enabled)?;
        let listed = |f: &&Family| peer.families.iter().any(|p| p.family == **f);
        let families: Vec<Family> = session_families.iter().filter(listed).copied().collect();
        let forwarding = session_families
            .iter()
            .filter(|f| {
                peer.families
                    .iter()
                    .any(|p| p.family == **f && p.forwarding_state)
            })
            .copied()
            .collect();
        let llgr = peer_llgr
            .filter(|_| local.long_lived_stale_time > Duration::ZERO)
            .map(|l| {
                l.families
                    .iter()
                    .filter(|f| session_families.contains(&f.family) && f.stale_time > 0)
                    .map(|f| (f.family, Duration::from_secs(f.stale_time.into())))
                    .collect()
            })
            .unwrap_or_default();
        Some(GrSession {
            llgr,
            notification: local.notification && peer.notification,
            restart_time: Duration::from_secs(peer.restart_time.into()),
            families,
            forwarding,
            peer_restarted: peer.restart_state,
        })
    }

    /// The families whose routes stay (stale) after the session went down for `reason`;
    /// `None`: withdraw everything at once.
    pub(crate) fn retained(&self, reason: &DownReason) -> Option<Vec<Family>> {
        let keep = match reason {
            // The TCP connection broke or the peer went silent (RFC 4724 section 4.2).
            DownReason::ConnectionFailed | DownReason::HoldTimerExpired { .. } => true,
            // RFC 8538: any NOTIFICATION but a Hard Reset, when both sides set N.
            DownReason::NotificationReceived(n) => {
                self.notification && n.hard_reset_inner().is_none()
            }
            DownReason::MalformedMessage { .. }
            | DownReason::UnexpectedMessage { .. }
            | DownReason::OpenRejected { .. } => self.notification,
            // Our own planned restart: the peer keeps our routes, we are going away.
            DownReason::AdminStop(Stop::Silent) => true,
            _ => false,
        };
        let mut families = if self.restart_time > Duration::ZERO {
            self.families.clone()
        } else {
            Vec::new()
        };
        for (f, _) in &self.llgr {
            if !families.contains(f) {
                families.push(*f);
            }
        }
        (keep && !families.is_empty()).then_some(families)
    }
}

/// The NOTIFICATION to send on a session with `gr` negotiated: with the N bit, the Cease
/// subcodes RFC 8538 section 5 says must end graceful restart (maximum prefixes,
/// administrative shutdown, peer de-configured, and the operator's hard reset) are sent
/// wrapped in a Cease / Hard Reset.
pub(crate) fn outgoing(n: Notification, gr: Option<&GrSession>) -> Notification {
    let hard = n.error_code() == ErrorCode::Cease
        && matches!(
            n.subcode,
            cease_subcode::MAX_PREFIXES
                | cease_subcode::ADMIN_SHUTDOWN
                | cease_subcode::PEER_DECONFIGURED
                | cease_subcode::ADMIN_RESET
        );
    match gr {
        Some(g) if g.notification && hard => Notification::hard_reset(&n),
        _ => n,
    }
}

/// The stop to use when the daemon shuts down: silently for a session with graceful
/// restart (a Cease would make the peer flush our routes), with a Cease otherwise.
pub(crate) fn daemon_stop(gr: Option<&GrSession>, message: String) -> Stop {
    match gr {
        Some(_) => Stop::Silent,
        None => Stop::shutdown(message),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const V4: Family = Family::IPV4_UNICAST;
    const V6: Family = Family::IPV6_UNICAST;

    fn peer_cap(notification: bool, families: &[(Family, bool)]) -> GrCap {
        GrCap {
            restart_state: false,
            notification,
            restart_time: 90,
            families: families
                .iter()
                .map(|(f, fwd)| GracefulRestartFamily {
                    family: *f,
                    forwarding_state: *fwd,
                })
                .collect(),
        }
    }

    fn session(n: bool) -> GrSession {
        GrSession::negotiate(
            &GracefulRestart::default(),
            Some(&peer_cap(n, &[(V4, true), (V6, false)])),
            None,
            &[V4, V6],
        )
        .unwrap()
    }

    fn cease(subcode: u8) -> Notification {
        Notification::new(ErrorCode::Cease, subcode, Bytes::new())
    }

    #[test]
    fn negotiation_needs_both_sides_and_keeps_the_peers_families() {
        let local = GracefulRestart::default();
        assert_eq!(GrSession::negotiate(&local, None, None, &[V4]), None);
        let off = GracefulRestart {
            enabled: false,
            ..GracefulRestart::default()
        };
        let cap = peer_cap(true, &[(V4, true)]);
        assert_eq!(GrSession::negotiate(&off, Some(&cap), None, &[V4]), None);
        let s = GrSession::negotiate(&local, Some(&cap), None, &[V4, V6]).unwrap();
        assert_eq!(s.families, vec![V4]);
        assert_eq!(s.forwarding, vec![V4]);
        assert_eq!(s.restart_time, Duration::from_secs(90));
        assert!(s.notification);
        let s = session(true);
        assert_eq!((s.families.len(), s.forwarding), (2, vec![V4]));
    }

    #[test]
    fn tcp_loss_and_hold_expiry_keep_routes() {
        let s = session(false);
        assert_eq!(
            s.retained(&DownReason::ConnectionFailed),
            Some(vec![V4, V6])
        );
        let hold = DownReason::HoldTimerExpired {
            hold_time: Duration::from_secs(9),
        };
        assert!(s.retained(&hold).is_some());
    }

    #[test]
    fn notification_keeps_routes_only_with_n_bit_and_not_on_hard_reset() {
        let admin = DownReason::NotificationReceived(cease(cease_subcode::ADMIN_RESET));
        assert_eq!(session(false).retained(&admin), None);
        assert!(session(true).retained(&admin).is_some());
        let hard = DownReason::NotificationReceived(Notification::hard_reset(&cease(
            cease_subcode::ADMIN_RESET,
        )));
        assert_eq!(session(true).retained(&hard), None);
    }

    #[test]
    fn operator_stop_withdraws_at_once() {
        let stop = DownReason::AdminStop(Stop::shutdown("maintenance"));
        assert_eq!(session(true).retained(&stop), None);
    }

    #[test]
    fn zero_restart_time_means_no_retention() {
        let mut s = session(true);
        s.restart_time = Duration::ZERO;
        assert_eq!(s.retained(&DownReason::ConnectionFailed), None);
    }

    #[test]
    fn hard_reset_wraps_shutdown_and_reset_with_n_bit() {
        let s = session(true);
        let shut = Stop::shutdown("bye").notification().unwrap();
        let out = outgoing(shut.clone(), Some(&s));
        assert_eq!(out.subcode, cease_subcode::HARD_RESET);
        assert_eq!(out.hard_reset_inner(), Some(shut.clone()));
        let reset = outgoing(cease(cease_subcode::ADMIN_RESET), Some(&s));
        assert_eq!(reset.subcode, cease_subcode::HARD_RESET);
        // Without N, or for a graceful subcode, unchanged.
        assert_eq!(outgoing(shut.clone(), Some(&session(false))), shut);
        assert_eq!(outgoing(shut.clone(), None), shut);
        let other = cease(cease_subcode::OUT_OF_RESOURCES);
        assert_eq!(outgoing(other.clone(), Some(&s)), other);
    }

    #[test]
    fn daemon_stop_is_silent_only_with_graceful_restart() {
        assert_eq!(daemon_stop(Some(&session(false)), "x".into()), Stop::Silent);
        assert_eq!(
            daemon_stop(None, "x".into()),
            Stop::Shutdown(Some("x".into()))
        );
    }

    #[test]
    fn long_lived_is_announced_negotiated_and_keeps_routes_without_restart_time() {
        let cfg = GracefulRestart {
            long_lived_stale_time: Duration::from_secs(3600),
            ..GracefulRestart::default()
        };
        let caps = capabilities(&cfg, false, &[V4]);
        let Some(Capability::LongLivedGracefulRestart(l)) = caps.get(1) else {
            panic!("no LLGR capability: {caps:?}");
        };
        assert_eq!(l.families[0].stale_time, 3600);
        assert_eq!(
            capabilities(&GracefulRestart::default(), false, &[V4]).len(),
            1
        );
        let peer_llgr = LongLivedGracefulRestart {
            families: vec![LlgrFamily {
                family: V4,
                forwarding_state: true,
                stale_time: 600,
            }],
        };
        let mut cap = peer_cap(false, &[(V4, true)]);
        cap.restart_time = 0;
        let s = GrSession::negotiate(&cfg, Some(&cap), Some(&peer_llgr), &[V4]).unwrap();
        assert_eq!(s.llgr, vec![(V4, Duration::from_secs(600))]);
        // A restart time of zero: straight to long-lived retention.
        assert_eq!(s.retained(&DownReason::ConnectionFailed), Some(vec![V4]));
        // Without LLGR on our side the peer's capability is not used.
        let plain = GrSession::negotiate(
            &GracefulRestart::default(),
            Some(&cap),
            Some(&peer_llgr),
            &[V4],
        )
        .unwrap();
        assert!(plain.llgr.is_empty());
        assert_eq!(plain.retained(&DownReason::ConnectionFailed), None);
    }

    #[test]
    fn capability_announces_restart_and_forwarding() {
        let cfg = GracefulRestart::default();
        let Capability::GracefulRestart(c) = capability(&cfg, true, &[V4, V6]) else {
            panic!("not a graceful restart capability");
        };
        assert!(c.restart_state && c.notification);
        assert_eq!(c.restart_time, 120);
        assert!(c.families.iter().all(|f| f.forwarding_state));
        assert_eq!(c.families.len(), 2);
    }
}
