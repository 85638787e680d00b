//! Transport security and graceful restart of a neighbour, in both output formats.

use bgp_api::bgpd::v1::{GracefulRestartStatus, Peer};
use serde::Serialize;

/// The JSON object `session` of a neighbour.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Session {
    tcp_md5: bool,
    ttl_security: Option<u32>,
    bind_interface: Option<String>,
    graceful_restart: GracefulRestart,
}

/// Graceful restart in the JSON output.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct GracefulRestart {
    enabled: bool,
    restart_time: u32,
    stale_routes_time: u32,
    restarted: bool,
    negotiated: bool,
    notification: bool,
    peer_restart_time: u32,
    peer_restarted: bool,
    helping: bool,
}

impl From<&Peer> for Session {
    fn from(p: &Peer) -> Self {
        let c = p.config.clone().unwrap_or_default();
        let g = p
            .status
            .as_ref()
            .and_then(|s| s.graceful_restart)
            .unwrap_or_default();
        Session {
            tcp_md5: c.password_set,
            ttl_security: (c.ttl_security != 0).then_some(c.ttl_security),
            bind_interface: (!c.bind_interface.is_empty()).then(|| c.bind_interface.clone()),
            graceful_restart: GracefulRestart {
                enabled: c.graceful_restart.unwrap_or(g.enabled),
                restart_time: c.restart_time,
                stale_routes_time: c.stale_routes_time,
                restarted: g.restarted,
                negotiated: g.negotiated,
                notification: g.notification,
                peer_restart_time: g.peer_restart_time,
                peer_restarted: g.peer_restarted,
                helping: g.helping,
            },
        }
    }
}

fn graceful_line(enabled: bool, restart_time: u32, g: &GracefulRestartStatus) -> String {
    if !enabled {
        return "off".to_owned();
    }
    let mut parts = vec![format!("on, restart time {restart_time} s")];
    if g.restarted {
        parts.push("restarted (R bit sent)".to_owned());
    }
    if g.negotiated {
        let n = if g.notification { ", N bit" } else { "" };
        parts.push(format!(
            "negotiated (peer restart time {} s{n})",
            g.peer_restart_time
        ));
    }
    if g.helping {
        parts.push("HELPING: peer restarting, its routes kept stale".to_owned());
    }
    parts.join("; ")
}

/// The `neighbor show` lines: TCP MD5, TTL security, interface, graceful restart.
pub(crate) fn pairs(p: &Peer) -> Vec<(&'static str, String)> {
    let c = p.config.clone().unwrap_or_default();
    let g = p
        .status
        .as_ref()
        .and_then(|s| s.graceful_restart)
        .unwrap_or_default();
    let mut out = vec![(
        "TCP MD5",
        if c.password_set { "yes" } else { "no" }.to_owned(),
    )];
    if c.ttl_security != 0 {
        out.push(("TTL security", format!("{} hop(s)", c.ttl_security)));
    }
    if !c.bind_interface.is_empty() {
        out.push(("Interface", c.bind_interface.clone()));
    }
    let enabled = c.graceful_restart.unwrap_or(g.enabled);
    out.push((
        "Graceful restart",
        graceful_line(enabled, c.restart_time, &g),
    ));
    out
}

#[cfg(test)]
mod tests {
    use bgp_api::bgpd::v1::{PeerConfig, PeerStatus};

    use super::*;

    fn peer(helping: bool) -> Peer {
        Peer {
            config: Some(PeerConfig {
                password_set: true,
                ttl_security: 1,
                graceful_restart: Some(true),
                restart_time: 120,
                stale_routes_time: 360,
                ..PeerConfig::default()
            }),
            status: Some(PeerStatus {
                graceful_restart: Some(GracefulRestartStatus {
                    enabled: true,
                    negotiated: true,
                    notification: true,
                    peer_restart_time: 90,
                    helping,
                    ..GracefulRestartStatus::default()
                }),
                ..PeerStatus::default()
            }),
            source: "config".into(),
        }
    }

    #[test]
    fn human_lines_show_md5_gtsm_and_helper_state() {
        let lines = pairs(&peer(true));
        assert_eq!(lines[0], ("TCP MD5", "yes".to_owned()));
        assert_eq!(lines[1], ("TTL security", "1 hop(s)".to_owned()));
        assert_eq!(
            lines[2].1,
            "on, restart time 120 s; negotiated (peer restart time 90 s, N bit); \
             HELPING: peer restarting, its routes kept stale"
        );
    }

    #[test]
    fn json_never_carries_the_password() {
        let v = serde_json::to_value(Session::from(&peer(false))).unwrap();
        assert_eq!(v["tcp_md5"], true);
        assert_eq!(v["graceful_restart"]["helping"], false);
        assert_eq!(v["graceful_restart"]["peer_restart_time"], 90);
        assert!(!v.to_string().contains("password"));
    }
}
