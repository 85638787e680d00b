//! Why a session went down, in terms an operator can act on, and how an operator stops one.

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use bgp_proto::notification::{cease_subcode, open_subcode};
use bgp_proto::{DecodeError, ErrorCode, MessageType, Notification};
use bytes::Bytes;

use super::State;

/// How an operator stops a session, and so which Cease (RFC 4486) the peer gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Cease / Administrative Shutdown with an optional RFC 9003 shutdown communication.
    Shutdown(Option<String>),
    /// Cease / Administrative Reset with an optional RFC 9003 shutdown communication; feed
    /// [`super::Event::ManualStart`] afterwards to bring the session back.
    Reset(Option<String>),
    /// Cease / Peer De-configured.
    Deconfigured,
    /// Close without any NOTIFICATION: a planned restart of bgpd with graceful restart,
    /// where a Cease would make the peer flush our routes (RFC 4724, RFC 8538).
    Silent,
}

impl Stop {
    /// Administrative Shutdown with a message.
    pub fn shutdown(message: impl Into<String>) -> Self {
        Stop::Shutdown(Some(message.into()))
    }

    /// The NOTIFICATION to send, if any. A message longer than the 255 bytes RFC 9003
    /// allows is cut at the last character boundary that fits.
    pub fn notification(&self) -> Option<Notification> {
        let (subcode, message) = match self {
            Stop::Shutdown(m) => (cease_subcode::ADMIN_SHUTDOWN, m.as_deref()),
            Stop::Reset(m) => (cease_subcode::ADMIN_RESET, m.as_deref()),
            Stop::Deconfigured => {
                return Some(Notification::new(
                    ErrorCode::Cease,
                    cease_subcode::PEER_DECONFIGURED,
                    Bytes::new(),
                ));
            }
            Stop::Silent => return None,
        };
        let Some(message) = message else {
            return Some(Notification::new(ErrorCode::Cease, subcode, Bytes::new()));
        };
        let mut end = message
            .len()
            .min(bgp_proto::notification::MAX_SHUTDOWN_MESSAGE_LEN);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let fitted = message.get(..end).unwrap_or_default();
        Notification::admin(subcode, fitted).ok()
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, message) = match self {
            Stop::Shutdown(m) => ("administratively shut down", m),
            Stop::Reset(m) => ("administratively reset", m),
            Stop::Deconfigured => return f.write_str("peer de-configured"),
            Stop::Silent => return f.write_str("stopped without notification (planned restart)"),
        };
        f.write_str(what)?;
        match message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => write!(f, ": \"{}\"", m.escape_debug()),
            None => Ok(()),
        }
    }
}

/// Why we rejected the peer's OPEN (RFC 4271 section 6.2, RFC 6286, RFC 9234).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenProblem {
    /// The peer is not in the AS we expect.
    BadPeerAs {
        /// The AS configured for the peer.
        expected: u32,
        /// The AS the peer announced (4-octet capability, else My AS).
        announced: u32,
    },
    /// The BGP Identifier is 0.0.0.0, or equals ours on an iBGP session.
    BadBgpIdentifier(Ipv4Addr),
    /// A hold time of 1 or 2 seconds.
    UnacceptableHoldTime(u16),
    /// The BGP roles do not fit together (RFC 9234 section 4.2).
    RoleMismatch,
}

impl OpenProblem {
    /// The NOTIFICATION for this problem.
    ///
    /// RFC 4271 names no data for Bad Peer AS; like FRR and Quagga we send the AS the
    /// peer announced, as 2 octets when it fits and as 4 when it does not.
    pub fn notification(&self) -> Notification {
        let (subcode, data) = match self {
            OpenProblem::BadPeerAs { announced, .. } => (
                open_subcode::BAD_PEER_AS,
                match u16::try_from(*announced) {
                    Ok(short) => Bytes::copy_from_slice(&short.to_be_bytes()),
                    Err(_) => Bytes::copy_from_slice(&announced.to_be_bytes()),
                },
            ),
            OpenProblem::BadBgpIdentifier(_) => (open_subcode::BAD_BGP_IDENTIFIER, Bytes::new()),
            OpenProblem::UnacceptableHoldTime(_) => {
                (open_subcode::UNACCEPTABLE_HOLD_TIME, Bytes::new())
            }
            OpenProblem::RoleMismatch => (open_subcode::ROLE_MISMATCH, Bytes::new()),
        };
        Notification::new(ErrorCode::Open, subcode, data)
    }
}

impl fmt::Display for OpenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenProblem::BadPeerAs {
                expected,
                announced,
            } => {
                write!(
                    f,
                    "peer announced AS {announced} but AS {expected} is configured"
                )
            }
            OpenProblem::BadBgpIdentifier(id) if id.is_unspecified() => {
                f.write_str("peer's BGP identifier is 0.0.0.0")
            }
            OpenProblem::BadBgpIdentifier(id) => write!(
                f,
                "peer's BGP identifier {id} is our own; iBGP peers need distinct identifiers"
            ),
            OpenProblem::UnacceptableHoldTime(h) => {
                write!(
                    f,
                    "peer proposed a hold time of {h} s (must be 0 or at least 3)"
                )
            }
            OpenProblem::RoleMismatch => f.write_str("BGP roles do not match (RFC 9234)"),
        }
    }
}

/// Why a session, or an attempt to establish one, ended.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// Nothing arrived from the peer within the hold time; we sent Hold Timer Expired.
    HoldTimerExpired {
        /// The hold time that ran out.
        hold_time: Duration,
    },
    /// The peer sent this NOTIFICATION.
    NotificationReceived(Notification),
    /// We rejected the peer's OPEN and sent `sent`.
    OpenRejected {
        /// What was wrong.
        problem: OpenProblem,
        /// The NOTIFICATION we sent.
        sent: Notification,
    },
    /// The peer sent a message its state does not allow; we sent a Finite State Machine
    /// Error with the RFC 6608 subcode of `state`.
    UnexpectedMessage {
        /// Our state when it arrived.
        state: State,
        /// The message type.
        message: MessageType,
        /// The NOTIFICATION we sent.
        sent: Notification,
    },
    /// A message from the peer did not decode; we sent the NOTIFICATION it calls for.
    MalformedMessage {
        /// The decode error, with its byte offset.
        error: DecodeError,
        /// The NOTIFICATION we sent.
        sent: Notification,
    },
    /// The TCP connection failed or the peer closed it.
    ConnectionFailed,
    /// The connect did not complete before the ConnectRetry timer fired.
    ConnectTimedOut,
    /// An operator stopped the session.
    AdminStop(Stop),
    /// The daemon closed the session with this NOTIFICATION (e.g. a prefix limit).
    AutomaticStop(Notification),
    /// Collision resolution closed this connection in favour of the other one.
    CollisionResolution,
}

impl DownReason {
    /// The NOTIFICATION we sent, if we sent one.
    pub fn notification_sent(&self) -> Option<Notification> {
        match self {
            DownReason::HoldTimerExpired { .. } => Some(hold_timer_expired()),
            DownReason::OpenRejected { sent, .. }
            | DownReason::UnexpectedMessage { sent, .. }
            | DownReason::MalformedMessage { sent, .. }
            | DownReason::AutomaticStop(sent) => Some(sent.clone()),
            DownReason::AdminStop(stop) => stop.notification(),
            DownReason::CollisionResolution => Some(collision_notification()),
            DownReason::NotificationReceived(_)
            | DownReason::ConnectionFailed
            | DownReason::ConnectTimedOut => None,
        }
    }

    /// The NOTIFICATION the peer sent, if that is why.
    pub fn notification_received(&self) -> Option<&Notification> {
        match self {
            DownReason::NotificationReceived(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::HoldTimerExpired { hold_time } => write!(
                f,
                "hold timer expired: nothing received from the peer for {} s",
                hold_time.as_secs()
            ),
            DownReason::NotificationReceived(n) => write!(f, "peer sent NOTIFICATION: {n}"),
            DownReason::OpenRejected { problem, sent } => {
                write!(f, "OPEN rejected, {problem}; sent NOTIFICATION: {sent}")
            }
            DownReason::UnexpectedMessage {
                state,
                message,
                sent,
            } => write!(
                f,
                "peer sent {} in {state}; sent NOTIFICATION: {sent}",
                message_name(*message)
            ),
            DownReason::MalformedMessage { error, sent } => {
                write!(
                    f,
                    "malformed message from peer, {error}; sent NOTIFICATION: {sent}"
                )
            }
            DownReason::ConnectionFailed => f.write_str("TCP connection failed or closed"),
            DownReason::ConnectTimedOut => f.write_str("TCP connection attempt timed out"),
            DownReason::AdminStop(stop) => stop.fmt(f),
            DownReason::AutomaticStop(n) => write!(f, "closed by bgpd; sent NOTIFICATION: {n}"),
            DownReason::CollisionResolution => {
                f.write_str("connection collision: closed in favour of the other connection")
            }
        }
    }
}

fn message_name(kind: MessageType) -> &'static str {
    match kind {
        MessageType::Open => "OPEN",
        MessageType::Update => "UPDATE",
        MessageType::Notification => "NOTIFICATION",
        MessageType::Keepalive => "KEEPALIVE",
        MessageType::RouteRefresh => "ROUTE-REFRESH",
    }
}

/// Hold Timer Expired (code 4); RFC 4271 defines no subcode or data.
pub(super) fn hold_timer_expired() -> Notification {
    Notification::new(ErrorCode::HoldTimerExpired, 0, Bytes::new())
}

/// Cease / Connection Collision Resolution.
pub(super) fn collision_notification() -> Notification {
    Notification::new(
        ErrorCode::Cease,
        cease_subcode::CONNECTION_COLLISION,
        Bytes::new(),
    )
}
