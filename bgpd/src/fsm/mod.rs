//! The BGP session state machine of RFC 4271 section 8, as a pure function.
//!
//! [`Fsm::handle`] takes one [`Event`] and returns the [`Action`]s it calls for, updating
//! the [`State`] in place: `(state, event) -> (state, actions)`. Nothing in this module
//! touches a socket, a timer or the clock, and nothing is random, so every behaviour is a
//! unit test (the RustyBGP and Holo style). The peer task owns the TCP connection and the
//! timers, turns what happens to them into events, and carries out the actions in order.
//!
//! ```text
//!            socket reads (decoded with Negotiated::decode)      timer expiries
//!   peer ─TCP─> peer task ─ Event::BgpOpen / KeepAliveMsg / ... ─┐  ┌─ Event::HoldTimerExpires ...
//!                  ^                                             v  v
//!                  │                                        Fsm::handle(event)
//!                  │                                             │
//!                  └──────────────── Vec<Action> ────────────────┘
//!   SendOpen / SendKeepalive / SendNotification  -> encode and write to the socket
//!   InitiateConnection / DropConnection          -> start a connect / close the socket
//!   StartTimer(t, d) / StopTimer(t)              -> (re)arm or cancel timer t
//!   SessionEstablished / SessionDown             -> tell the RIB task (routes in and out)
//!   AttemptFailed                                -> log and record; nothing to withdraw
//! ```
//!
//! # Driving one connection
//!
//! - Feed [`Event::ManualStart`] (or [`Event::AutomaticStart`] at boot). Unless the peer is
//!   passive the FSM asks for [`Action::InitiateConnection`]; report the outcome as
//!   [`Event::TcpCrAcked`] or [`Event::TcpConnectionFails`]. Hand an accepted inbound
//!   connection over with [`Event::TcpConnectionConfirmed`] (but see the collision section).
//! - Decode every frame with the `DecodeCtx` of [`Fsm::negotiated`] (the default context
//!   until then) and feed [`Event::for_message`]; routes in UPDATEs go to the RIB task, the
//!   FSM only restarts the hold timer. A frame that does not decode is
//!   [`Event::MalformedMessage`]; the FSM answers with the error's NOTIFICATION and closes.
//! - Timers belong to the FSM that started them. `StartTimer(t, d)` (re)arms `t` to fire
//!   once after `d`, replacing any earlier deadline; when it fires, feed [`Timer::expired`].
//!   An expiry that races with a `StopTimer` is harmless: the FSM ignores expiries of timers
//!   it does not consider running.
//! - Execute actions in the order given: a NOTIFICATION must be written (and flushed, with
//!   a short deadline) before the `DropConnection` that follows it.
//! - Jitter: the FSM is deterministic. The task multiplies the durations of the
//!   ConnectRetry, IdleHold and Keepalive timers by a random factor in 0.75..=1.0, as RFC
//!   4271 section 10 recommends, so that peers that failed together do not retry together.
//!   The Hold timer is never jittered.
//!
//! # Back-off
//!
//! Peers that keep failing are retried less and less often ([`Backoff`]): each
//! consecutive failure (connect refused or timed out, or a session that dies before
//! Established or within [`FsmConfig::backoff_reset_after`] of reaching it) doubles the
//! ConnectRetry and IdleHold waits, from [`FsmConfig::connect_retry`] up to
//! [`FsmConfig::connect_retry_max`]. A session that stays Established that long resets it
//! (through [`Timer::BackoffReset`]), as do [`Event::ManualStart`] and
//! [`Event::ManualStop`]. After a failure with the TCP connection up, the FSM waits in Idle
//! on the IdleHold timer (RFC 4271 section 8.1.1, DampPeerOscillations) and refuses inbound
//! connections meanwhile; a connect that fails waits in Active, still accepting them.
//!
//! # Two connections: collision detection (RFC 4271 section 6.8)
//!
//! Both speakers may connect at the same time, so a peer can briefly have two TCP
//! connections. The task runs one `Fsm` per connection: `main`, which owns the peer's
//! lifecycle (start, stop, retries, back-off), and at most one `second` for an inbound
//! connection that arrived while `main` was busy. [`collision`] decides, purely, where an
//! inbound connection goes and which of two connections survives:
//!
//! ```text
//! on accept(socket):
//!     match collision::place_inbound(&main.fsm, second.is_some()) {
//!         Placement::Refuse => close socket
//!         Placement::Main   => main.socket = socket; run(main, main.fsm.handle(TcpConnectionConfirmed))
//!         Placement::Second => second = Some(Conn { fsm: main.fsm.fork(), socket, timers: new });
//!                              run(second, second.fsm.handle(TcpConnectionConfirmed))
//!     }
//! after every event fed to main or second, while second is Some:
//!     match collision::check(&main.fsm, &second.fsm) {
//!         None => {}                                   // undecided: keep both
//!         Some(Survivor::Main) => {                    // the second connection loses
//!             run(second, second.fsm.handle(OpenCollisionDump)); second = None
//!         }
//!         Some(Survivor::Second) => {                  // the main connection loses
//!             run(main, main.fsm.handle(OpenCollisionDump));
//!             let s = second.take(); main.fsm.adopt(s.fsm);
//!             main.socket = s.socket; main.timers = s.timers
//!         }
//!     }
//! ManualStop and AutomaticStop go to both FSMs, the second one first (so that it sends
//! the operator's Cease rather than a collision Cease), then main, then the check above.
//! ```
//!
//! `OpenCollisionDump` sends Cease / Connection Collision Resolution on a connection that
//! is up, closes it, stops its timers, and counts as no failure. The forked FSM never
//! initiates connections or schedules retries; once adopted, `main` keeps its own
//! lifecycle and back-off and takes over the connection's state. The operator sees the
//! more advanced of the two states (`State` is ordered as RFC 4271 numbers it).
//!
//! # Deviations and choices
//!
//! - A failed connect moves Connect to Active (listening) with the ConnectRetry timer
//!   running, rather than to Idle; RFC 4271 does the same when DelayOpen is in use.
//! - With a negotiated hold time of 0 neither Hold nor Keepalive timer runs once
//!   Established; until then the 240 s OpenSent hold timer keeps running, so a peer that
//!   never confirms cannot hold the connection open forever.
//! - Any message received in Established restarts the hold timer, ROUTE-REFRESH included.
//! - Not implemented: DelayOpen, the RFC 9687 send hold timer, RFC 8538 hard reset
//!   wrapping of the NOTIFICATIONs we send.

mod backoff;
pub mod collision;
mod config;
mod machine;
mod reason;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

use bgp_proto::{DecodeError, Message, MessageType, Negotiated, Notification, Open};

pub use self::backoff::Backoff;
pub use self::collision::Direction;
pub use self::config::{FsmConfig, FsmConfigError};
pub use self::machine::Fsm;
pub use self::reason::{DownReason, OpenProblem, Stop};

/// The session states of RFC 4271 section 8.2.2, ordered as the RFC numbers them (1 to 6),
/// so that the larger of two states is the more advanced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// Not trying: stopped, or waiting out the IdleHold timer after a failure.
    Idle,
    /// Waiting for an outbound TCP connection to complete.
    Connect,
    /// Listening for the peer to connect (and retrying later unless passive).
    Active,
    /// Connected; our OPEN is sent and we wait for the peer's.
    OpenSent,
    /// OPENs exchanged; we wait for the peer's KEEPALIVE.
    OpenConfirm,
    /// The session is up.
    Established,
}

impl State {
    /// Whether a TCP connection is up in this state.
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            State::OpenSent | State::OpenConfirm | State::Established
        )
    }

    /// The name operators know from every other BGP implementation.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The timers the peer task runs on the FSM's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Time until the next connection attempt (RFC 4271 ConnectRetryTimer), backed off.
    ConnectRetry,
    /// Time the peer may stay silent (RFC 4271 HoldTimer).
    Hold,
    /// Time until we send the next KEEPALIVE.
    Keepalive,
    /// Time to wait in Idle after a failure before trying again (RFC 4271 IdleHoldTimer),
    /// backed off.
    IdleHold,
    /// Time after which an Established session counts as stable and the back-off resets.
    BackoffReset,
}

impl Timer {
    /// Every timer.
    pub const ALL: [Timer; 5] = [
        Timer::ConnectRetry,
        Timer::Hold,
        Timer::Keepalive,
        Timer::IdleHold,
        Timer::BackoffReset,
    ];

    /// The event to feed when this timer fires.
    pub fn expired(self) -> Event {
        match self {
            Timer::ConnectRetry => Event::ConnectRetryTimerExpires,
            Timer::Hold => Event::HoldTimerExpires,
            Timer::Keepalive => Event::KeepaliveTimerExpires,
            Timer::IdleHold => Event::IdleHoldTimerExpires,
            Timer::BackoffReset => Event::BackoffResetTimerExpires,
        }
    }
}

/// What happened: operator commands, timer expiries, TCP outcomes and received messages
/// (named after the events of RFC 4271 section 8.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The operator enables the peer (event 1). Resets the back-off.
    ManualStart,
    /// The operator disables the peer (event 2); what to tell the peer is in [`Stop`].
    ManualStop(Stop),
    /// The daemon starts the peer, e.g. from configuration at boot (event 3). Ignored while
    /// the IdleHold timer runs.
    AutomaticStart,
    /// The daemon closes the session with this NOTIFICATION (event 8), e.g. Cease /
    /// Maximum Number of Prefixes Reached. Counts as a failure and retries after back-off;
    /// follow with `ManualStop(Stop::Silent)` to stay down.
    AutomaticStop(Notification),
    /// Event 9.
    ConnectRetryTimerExpires,
    /// Event 10.
    HoldTimerExpires,
    /// Event 11.
    KeepaliveTimerExpires,
    /// Event 13.
    IdleHoldTimerExpires,
    /// The session has been Established for [`FsmConfig::backoff_reset_after`].
    BackoffResetTimerExpires,
    /// Our outbound connection completed (event 16).
    TcpCrAcked,
    /// An inbound connection from the peer was accepted (event 17).
    TcpConnectionConfirmed,
    /// The connection, or the attempt to make it, failed or was closed by the peer
    /// (event 18).
    TcpConnectionFails,
    /// A valid OPEN arrived (event 19).
    BgpOpen(Open),
    /// A message could not be decoded (events 21, 22 and 28): header, OPEN, UPDATE or
    /// ROUTE-REFRESH errors that reset the session.
    MalformedMessage(DecodeError),
    /// A NOTIFICATION arrived (event 25).
    NotifMsg(Notification),
    /// A KEEPALIVE arrived (event 26).
    KeepAliveMsg,
    /// An UPDATE arrived (event 27); its routes are the RIB's business.
    UpdateMsg,
    /// A ROUTE-REFRESH arrived.
    RouteRefreshMsg,
    /// Collision resolution closes this connection (event 23); see [`collision`].
    OpenCollisionDump,
}

impl Event {
    /// The event for a received message. UPDATE and ROUTE-REFRESH contents are not
    /// copied; the task hands them to the RIB itself.
    pub fn for_message(message: &Message) -> Event {
        match message {
            Message::Open(open) => Event::BgpOpen(open.clone()),
            Message::Update(_) => Event::UpdateMsg,
            Message::Notification(n) => Event::NotifMsg(n.clone()),
            Message::Keepalive => Event::KeepAliveMsg,
            Message::RouteRefresh(_) => Event::RouteRefreshMsg,
        }
    }

    /// The timer whose expiry this event reports.
    fn timer(&self) -> Option<Timer> {
        Some(match self {
            Event::ConnectRetryTimerExpires => Timer::ConnectRetry,
            Event::HoldTimerExpires => Timer::Hold,
            Event::KeepaliveTimerExpires => Timer::Keepalive,
            Event::IdleHoldTimerExpires => Timer::IdleHold,
            Event::BackoffResetTimerExpires => Timer::BackoffReset,
            _ => return None,
        })
    }

    /// The message type of a received-message event.
    fn message_type(&self) -> Option<MessageType> {
        Some(match self {
            Event::BgpOpen(_) => MessageType::Open,
            Event::UpdateMsg => MessageType::Update,
            Event::NotifMsg(_) => MessageType::Notification,
            Event::KeepAliveMsg => MessageType::Keepalive,
            Event::RouteRefreshMsg => MessageType::RouteRefresh,
            _ => return None,
        })
    }
}

impl From<Timer> for Event {
    fn from(timer: Timer) -> Event {
        timer.expired()
    }
}

/// What the peer task must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start a TCP connection to the peer; report [`Event::TcpCrAcked`] or
    /// [`Event::TcpConnectionFails`].
    InitiateConnection,
    /// Close this FSM's TCP connection, or abandon the connect in progress (or, in Idle,
    /// refuse the connection just handed over).
    DropConnection,
    /// Send this OPEN.
    SendOpen(Open),
    /// Send a KEEPALIVE.
    SendKeepalive,
    /// Send this NOTIFICATION (and flush it before a following `DropConnection`).
    SendNotification(Notification),
    /// (Re)arm the timer to fire once after the duration, replacing any earlier deadline.
    StartTimer(Timer, Duration),
    /// Cancel the timer.
    StopTimer(Timer),
    /// The session is up with these parameters: decode and encode with its contexts and
    /// tell the RIB task to start sending routes.
    SessionEstablished(Box<Negotiated>),
    /// The Established session is down: the RIB task withdraws the peer's routes.
    SessionDown(DownReason),
    /// An attempt failed before the session was Established: a connect that failed or
    /// timed out, or a connection closed before the peer confirmed. Nothing to withdraw;
    /// log it and show it as the peer's last error.
    AttemptFailed(DownReason),
}
