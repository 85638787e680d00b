//! What a peer task publishes about its session: state, uptime, last error, negotiated
//! parameters and message counters. Read by the API and the metrics; never by the
//! protocol code.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use bgp_proto::{Family, MessageType};
use tokio::time::Instant;

use crate::fsm::State;

/// Messages of each type, counted as they are read or written.
#[derive(Debug, Default)]
pub struct MessageCounters {
    by_type: [AtomicU64; 5],
}

impl MessageCounters {
    /// Counts one message of `kind`.
    pub fn count(&self, kind: MessageType) {
        self.add(kind, 1);
    }

    /// Counts `n` messages of `kind`.
    pub fn add(&self, kind: MessageType, n: u64) {
        let i = kind as usize - 1;
        if let Some(c) = self.by_type.get(i) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts the messages in a buffer of whole encoded messages.
    pub fn count_frames(&self, mut buf: &[u8]) {
        while let Some(len) = bgp_proto::frame_len(buf) {
            if let Some(kind) = buf.get(18).copied().and_then(MessageType::from_u8) {
                self.count(kind);
            }
            buf = buf.get(len..).unwrap_or_default();
        }
    }

    /// OPEN, UPDATE, NOTIFICATION, KEEPALIVE and ROUTE-REFRESH counts.
    pub fn snapshot(&self) -> [u64; 5] {
        std::array::from_fn(|i| self.by_type[i].load(Ordering::Relaxed))
    }
}

/// Sent and received message counters of a peer, over all its sessions.
#[derive(Debug, Default)]
pub struct PeerCounters {
    /// Messages we wrote.
    pub sent: MessageCounters,
    /// Messages we read.
    pub received: MessageCounters,
}

/// What the OPEN exchange settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The peer's BGP identifier.
    pub peer_router_id: Ipv4Addr,
    /// The peer's AS.
    pub peer_asn: u32,
    /// Negotiated hold time, seconds.
    pub hold_time: u16,
    /// Keepalive interval, seconds.
    pub keepalive: u16,
    /// Families in use.
    pub families: Vec<Family>,
    /// 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Both sides support route refresh.
    pub route_refresh: bool,
    /// Extended messages.
    pub extended_message: bool,
    /// Our end of the connection.
    pub local: SocketAddr,
    /// The BGP role the peer announced (RFC 9234).
    pub peer_role: Option<bgp_proto::capability::Role>,
    /// Families where we send ADD-PATH path ids.
    pub add_path_send: Vec<Family>,
    /// Families where the peer sends ADD-PATH path ids.
    pub add_path_receive: Vec<Family>,
    /// When it was established.
    pub since: Instant,
}

/// The session as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// FSM state (the more advanced of two connections during a collision).
    pub state: State,
    /// Set while Established.
    pub session: Option<SessionInfo>,
    /// Why the session last went down or failed to come up.
    pub last_error: Option<String>,
    /// Administratively enabled.
    pub enabled: bool,
    /// `last_error` says why an Established session went down (kept over later failed
    /// attempts until the session is up again).
    pub down_reason: bool,
    /// Maximum-prefix state: warnings, teardowns, a pending restart.
    pub prefix_limit: super::max_prefix::LimitStatus,
    /// Graceful restart (RFC 4724, RFC 8538).
    pub graceful: GracefulStatus,
}

/// Graceful restart as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GracefulStatus {
    /// We announce graceful restart to this neighbour.
    pub enabled: bool,
    /// We announced the Restart State bit (bgpd has just restarted).
    pub restarted: bool,
    /// The last session negotiated graceful restart (both sides announced it).
    pub negotiated: bool,
    /// Both sides announced the N bit (RFC 8538).
    pub notification: bool,
    /// The peer's Restart Time, seconds.
    pub peer_restart_time: u32,
    /// The peer announced the Restart State bit in its last OPEN.
    pub peer_restarted: bool,
    /// The session went down and the peer's routes are kept as stale (helper mode).
    pub helping: bool,
}

impl PeerStatus {
    pub(crate) fn new(enabled: bool) -> Self {
        PeerStatus {
            state: State::Idle,
            session: None,
            last_error: None,
            enabled,
            down_reason: false,
            graceful: GracefulStatus::default(),
            prefix_limit: super::max_prefix::LimitStatus::default(),
        }
    }
}
