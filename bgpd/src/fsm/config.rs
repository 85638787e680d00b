//! The settings one session runs with.

use std::net::Ipv4Addr;
use std::time::Duration;

use bgp_proto::Capability;

/// What the FSM needs to know about the peer and about us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsmConfig {
    /// Our AS.
    pub local_asn: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// The AS the peer must announce in its OPEN.
    pub peer_asn: u32,
    /// Capabilities for our OPEN (4-octet AS is always added, see [`bgp_proto::Open::new`]).
    pub capabilities: Vec<Capability>,
    /// Never initiate connections; only accept the peer's.
    pub passive: bool,
    /// The hold time we propose, in seconds: 0 (no keepalives) or at least 3.
    pub hold_time: u16,
    /// The hold timer while waiting for the peer's OPEN (RFC 4271 suggests 4 minutes).
    pub open_hold_time: Duration,
    /// The first ConnectRetry / IdleHold wait; it doubles on each consecutive failure.
    pub connect_retry: Duration,
    /// The longest wait the back-off reaches.
    pub connect_retry_max: Duration,
    /// How long a session must stay Established for the back-off to reset.
    pub backoff_reset_after: Duration,
    /// RFC 9234 strict mode: refuse a peer that announces no BGP Role (Role Mismatch).
    pub role_strict: bool,
}

/// Defaults for the settings that have them.
impl FsmConfig {
    /// Default proposed hold time in seconds (RFC 4271 section 10 suggests 90).
    pub const DEFAULT_HOLD_TIME: u16 = 90;
    /// The large hold time of OpenSent that RFC 4271 section 8.2.2 suggests.
    pub const DEFAULT_OPEN_HOLD_TIME: Duration = Duration::from_secs(240);
    /// Default first retry wait.
    pub const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
    /// Default longest retry wait.
    pub const DEFAULT_CONNECT_RETRY_MAX: Duration = Duration::from_secs(120);
    /// Default time Established before the back-off resets.
    pub const DEFAULT_BACKOFF_RESET_AFTER: Duration = Duration::from_secs(60);

    /// A configuration with no capabilities beyond 4-octet AS, active, and the defaults
    /// above.
    pub fn new(local_asn: u32, router_id: Ipv4Addr, peer_asn: u32) -> Self {
        FsmConfig {
            local_asn,
            router_id,
            peer_asn,
            capabilities: Vec::new(),
            passive: false,
            hold_time: Self::DEFAULT_HOLD_TIME,
            open_hold_time: Self::DEFAULT_OPEN_HOLD_TIME,
            connect_retry: Self::DEFAULT_CONNECT_RETRY,
            connect_retry_max: Self::DEFAULT_CONNECT_RETRY_MAX,
            backoff_reset_after: Self::DEFAULT_BACKOFF_RESET_AFTER,
            role_strict: false,
        }
    }

    /// Whether the peer is in our AS.
    pub fn is_internal(&self) -> bool {
        self.local_asn == self.peer_asn
    }

    /// Checks what would otherwise fail later, on the wire or in a timer.
    pub fn validate(&self) -> Result<(), FsmConfigError> {
        if matches!(self.hold_time, 1 | 2) {
            return Err(FsmConfigError::HoldTime(self.hold_time));
        }
        if self.router_id.is_unspecified() {
            return Err(FsmConfigError::RouterId);
        }
        if self.local_asn == 0 || self.peer_asn == 0 {
            return Err(FsmConfigError::ZeroAsn);
        }
        if self.connect_retry.is_zero() || self.connect_retry_max < self.connect_retry {
            return Err(FsmConfigError::ConnectRetry {
                base: self.connect_retry,
                max: self.connect_retry_max,
            });
        }
        if self.open_hold_time.is_zero() {
            return Err(FsmConfigError::OpenHoldTime);
        }
        Ok(())
    }
}

/// A session configuration the FSM cannot run with.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsmConfigError {
    /// RFC 4271 forbids hold times of 1 and 2 seconds.
    #[error("hold time of {0} s is not allowed: use 0 (no keepalives) or at least 3")]
    HoldTime(u16),
    /// 0.0.0.0 is not a BGP Identifier (RFC 6286).
    #[error("router id 0.0.0.0 is not a valid BGP identifier")]
    RouterId,
    /// AS 0 is reserved (RFC 7607).
    #[error("AS 0 is reserved and cannot be used for a session")]
    ZeroAsn,
    /// The retry wait is zero, or its maximum below its start.
    #[error("connect retry must be above zero and at most its maximum (got {base:?}, max {max:?})")]
    ConnectRetry {
        /// The first wait.
        base: Duration,
        /// The longest wait.
        max: Duration,
    },
    /// A zero OpenSent hold time would expire at once.
    #[error("the OpenSent hold time must be above zero")]
    OpenHoldTime,
}
