//! API conversions of the session-security and graceful-restart fields (PeerConfig and
//! PeerStatus fields 50-59).

use bgp_api::bgpd::v1 as pb;

use super::convert::toml_string;
use crate::config::SessionOptions;
use crate::peer::status::GracefulStatus;

/// The neighbour keys these fields set, as TOML lines (checked by the configuration's
/// own rules, which name the field).
pub(super) fn neighbor_toml(p: &pb::PeerConfig) -> String {
    let mut toml = String::new();
    if !p.password.is_empty() {
        toml += &format!("password = {}\n", toml_string(&p.password));
    }
    if p.ttl_security != 0 {
        toml += &format!("ttl_security = {}\n", p.ttl_security);
    }
    if !p.bind_interface.is_empty() {
        toml += &format!("bind_interface = {}\n", toml_string(&p.bind_interface));
    }
    if let Some(gr) = p.graceful_restart {
        toml += &format!("graceful_restart = {gr}\n");
    }
    if p.restart_time != 0 {
        toml += &format!("restart_time = {}\n", p.restart_time);
    }
    if p.long_lived_stale_time != 0 {
        toml += &format!("long_lived_stale_time = {}\n", p.long_lived_stale_time);
    }
    if p.stale_routes_time != 0 {
        toml += &format!("stale_routes_time = {}\n", p.stale_routes_time);
    }
    toml
}

/// The fields of a neighbour's configuration; the password itself is never returned.
pub(super) fn peer_config(s: &SessionOptions) -> pb::PeerConfig {
    let gr = &s.graceful_restart;
    pb::PeerConfig {
        password_set: s.password.is_some(),
        ttl_security: s.ttl_security.map_or(0, u32::from),
        bind_interface: s.bind_interface.clone().unwrap_or_default(),
        graceful_restart: Some(gr.enabled),
        restart_time: u32::try_from(gr.restart_time.as_secs()).unwrap_or(u32::MAX),
        stale_routes_time: u32::try_from(gr.stale_routes_time.as_secs()).unwrap_or(u32::MAX),
        long_lived_stale_time: u32::try_from(gr.long_lived_stale_time.as_secs())
            .unwrap_or(u32::MAX),
        ..pb::PeerConfig::default()
    }
}

/// Graceful restart in PeerStatus.
pub(super) fn graceful_status(g: &GracefulStatus) -> pb::GracefulRestartStatus {
    pb::GracefulRestartStatus {
        enabled: g.enabled,
        restarted: g.restarted,
        negotiated: g.negotiated,
        notification: g.notification,
        peer_restart_time: g.peer_restart_time,
        peer_restarted: g.peer_restarted,
        helping: g.helping,
    }
}
