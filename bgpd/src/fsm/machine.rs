//! The state machine itself: [`Fsm::handle`] and the transitions of RFC 4271 section 8.2.2.

use std::time::Duration;

use bgp_proto::notification::fsm_subcode;
use bgp_proto::{ErrorCode, MessageType, Negotiated, Notification, Open, negotiate};
use bytes::Bytes;

use super::collision::{Direction, Speaker};
use super::reason::{collision_notification, hold_timer_expired};
use super::{
    Action, Backoff, DownReason, Event, FsmConfig, FsmConfigError, OpenProblem, State, Stop, Timer,
};

/// The session state machine of one connection to a peer (see the [module
/// documentation](super) for how the peer task drives it).
#[derive(Debug, Clone)]
pub struct Fsm {
    config: FsmConfig,
    local_open: Open,
    state: State,
    /// Started by ManualStart or AutomaticStart and not stopped since.
    started: bool,
    /// Made by [`Fsm::fork`] for a second connection: never initiates or retries.
    secondary: bool,
    backoff: Backoff,
    running: Running,
    /// The duration the Hold timer was last armed with.
    hold_time: Duration,
    /// The negotiated keepalive interval.
    keepalive_time: Duration,
    direction: Option<Direction>,
    remote: Option<Open>,
    negotiated: Option<Negotiated>,
    /// Established for `backoff_reset_after` already.
    stable: bool,
    last_down: Option<DownReason>,
}

/// The timers the FSM has started and not yet seen stop or fire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Running(u8);

impl Running {
    fn bit(timer: Timer) -> u8 {
        1 << (timer as u8)
    }

    fn insert(&mut self, timer: Timer) {
        self.0 |= Self::bit(timer);
    }

    /// Clears `timer`; whether it was running.
    fn remove(&mut self, timer: Timer) -> bool {
        let was = self.contains(timer);
        self.0 &= !Self::bit(timer);
        was
    }

    fn contains(self, timer: Timer) -> bool {
        self.0 & Self::bit(timer) != 0
    }
}

/// What follows the closing of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// A failure: count it, then wait out the IdleHold timer before retrying.
    Retry,
    /// A failure in OpenSent: count it and listen again in Active (RFC 4271 section 8.2.2).
    Listen,
    /// An operator stopped the peer.
    Stop,
    /// Collision resolution closed this connection; the peer lives on in the other one.
    Dump,
}

impl Fsm {
    /// A stopped FSM in Idle; feed [`Event::ManualStart`] to bring the session up.
    pub fn new(config: FsmConfig) -> Result<Fsm, FsmConfigError> {
        config.validate()?;
        let local_open = Open::new(
            config.local_asn,
            config.hold_time,
            config.router_id,
            config.capabilities.clone(),
        );
        Ok(Fsm {
            local_open,
            state: State::Idle,
            started: false,
            secondary: false,
            backoff: Backoff::new(config.connect_retry, config.connect_retry_max),
            running: Running::default(),
            hold_time: config.open_hold_time,
            keepalive_time: Duration::ZERO,
            direction: None,
            remote: None,
            negotiated: None,
            stable: false,
            last_down: None,
            config,
        })
    }

    /// Handles one event: moves to the next state and returns what the peer task must do,
    /// in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        self.step(event, &mut out);
        out
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the peer is started (and not stopped by an operator since).
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The configuration.
    pub fn config(&self) -> &FsmConfig {
        &self.config
    }

    /// The OPEN we send.
    pub fn local_open(&self) -> &Open {
        &self.local_open
    }

    /// The peer's OPEN, once accepted (OpenConfirm and Established).
    pub fn remote_open(&self) -> Option<&Open> {
        self.remote.as_ref()
    }

    /// What was negotiated (OpenConfirm and Established). Decode the peer's messages with
    /// its `decode` context and encode ours with `encode`.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Who opened the current connection.
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// The retry back-off: consecutive failures and the current wait.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// Why the last session or attempt ended, for the operator.
    pub fn last_down_reason(&self) -> Option<&DownReason> {
        self.last_down.as_ref()
    }

    /// Whether the FSM counts `timer` as running (started, not stopped, not yet fired).
    pub fn is_timer_running(&self, timer: Timer) -> bool {
        self.running.contains(timer)
    }

    /// Our identifier and AS, for collision resolution.
    pub fn local_speaker(&self) -> Speaker {
        Speaker {
            bgp_id: self.config.router_id,
            asn: self.config.local_asn,
        }
    }

    /// The peer's identifier and AS from its accepted OPEN.
    pub fn remote_speaker(&self) -> Option<Speaker> {
        self.remote.as_ref().map(|open| Speaker {
            bgp_id: open.bgp_id,
            asn: open.asn(),
        })
    }

    /// An FSM for a second, inbound connection to the same peer (see [`super::collision`]):
    /// same configuration, in Active, started, never initiating or retrying. Feed it
    /// [`Event::TcpConnectionConfirmed`].
    pub fn fork(&self) -> Fsm {
        Fsm {
            config: self.config.clone(),
            local_open: self.local_open.clone(),
            state: State::Active,
            started: true,
            secondary: true,
            backoff: self.backoff.clone(),
            running: Running::default(),
            hold_time: self.config.open_hold_time,
            keepalive_time: Duration::ZERO,
            direction: None,
            remote: None,
            negotiated: None,
            stable: false,
            last_down: None,
        }
    }

    /// Takes over the connection of `second` (made by [`Fsm::fork`]) after collision
    /// resolution chose it: its state, timers and negotiated parameters. Feed this FSM
    /// [`Event::OpenCollisionDump`] first, so that its own connection and timers are gone;
    /// its start/stop status and back-off stay. The peer task moves the second
    /// connection's socket and timers along.
    pub fn adopt(&mut self, second: Fsm) {
        self.state = second.state;
        self.running = second.running;
        self.hold_time = second.hold_time;
        self.keepalive_time = second.keepalive_time;
        self.direction = second.direction;
        self.remote = second.remote;
        self.negotiated = second.negotiated;
        self.stable = second.stable;
    }

    fn step(&mut self, event: Event, out: &mut Vec<Action>) {
        if let Some(timer) = event.timer()
            && !self.running.remove(timer)
        {
            // Stopped or never started: an expiry that raced with StopTimer.
            return;
        }
        let message = event.message_type();
        match event {
            Event::ManualStart => self.manual_start(out),
            Event::AutomaticStart => {
                if self.state == State::Idle
                    && !self.secondary
                    && !self.running.contains(Timer::IdleHold)
                {
                    self.started = true;
                    self.start_attempt(out);
                }
            }
            Event::ManualStop(stop) => self.manual_stop(stop, out),
            Event::AutomaticStop(notification) => {
                if self.state != State::Idle {
                    let sent = notification.clone();
                    self.close(
                        DownReason::AutomaticStop(notification),
                        Some(sent),
                        After::Retry,
                        out,
                    );
                }
            }
            Event::IdleHoldTimerExpires => {
                if self.state == State::Idle && self.started {
                    self.start_attempt(out);
                }
            }
            Event::ConnectRetryTimerExpires => self.connect_retry_expired(out),
            Event::BackoffResetTimerExpires => {
                if self.state == State::Established {
                    self.stable = true;
                    self.backoff.reset();
                }
            }
            Event::HoldTimerExpires => {
                if self.state.is_connected() {
                    let reason = DownReason::HoldTimerExpired {
                        hold_time: self.hold_time,
                    };
                    self.close(reason, Some(hold_timer_expired()), After::Retry, out);
                }
            }
            Event::KeepaliveTimerExpires => {
                if matches!(self.state, State::OpenConfirm | State::Established) {
                    out.push(Action::SendKeepalive);
                    self.start(Timer::Keepalive, self.keepalive_time, out);
                }
            }
            Event::TcpCrAcked => self.connected(Direction::Outbound, out),
            Event::TcpConnectionConfirmed => self.connected(Direction::Inbound, out),
            Event::TcpConnectionFails => self.connection_failed(out),
            Event::BgpOpen(open) => match self.state {
                State::OpenSent => self.receive_open(open, out),
                State::OpenConfirm | State::Established => self.unexpected(MessageType::Open, out),
                State::Idle | State::Connect | State::Active => {}
            },
            Event::MalformedMessage(error) => {
                if self.state.is_connected() {
                    let sent = error.notification();
                    let reason = DownReason::MalformedMessage {
                        error,
                        sent: sent.clone(),
                    };
                    self.close(reason, Some(sent), After::Retry, out);
                }
            }
            Event::NotifMsg(notification) => {
                // Never answered with a NOTIFICATION (RFC 4271 section 6.4).
                if self.state.is_connected() {
                    let reason = DownReason::NotificationReceived(notification);
                    self.close(reason, None, After::Retry, out);
                }
            }
            Event::KeepAliveMsg | Event::UpdateMsg | Event::RouteRefreshMsg => {
                let Some(message) = message else { return };
                match self.state {
                    State::OpenConfirm if message == MessageType::Keepalive => self.establish(out),
                    State::OpenSent | State::OpenConfirm => self.unexpected(message, out),
                    State::Established => self.restart_hold(out),
                    State::Idle | State::Connect | State::Active => {}
                }
            }
            Event::OpenCollisionDump => {
                if self.state == State::Idle {
                    self.stop_all(out);
                } else {
                    let sent = Some(collision_notification());
                    self.close(DownReason::CollisionResolution, sent, After::Dump, out);
                }
            }
        }
    }

    fn manual_start(&mut self, out: &mut Vec<Action>) {
        if self.state != State::Idle || self.secondary {
            return;
        }
        self.started = true;
        self.backoff.reset();
        self.stop(Timer::IdleHold, out);
        self.start_attempt(out);
    }

    fn manual_stop(&mut self, stop: Stop, out: &mut Vec<Action>) {
        if self.state == State::Idle {
            self.started = false;
            self.backoff.reset();
            self.stop_all(out);
            return;
        }
        let sent = stop.notification();
        self.close(DownReason::AdminStop(stop), sent, After::Stop, out);
    }

    /// Idle to Connect (or to Active for a passive peer).
    fn start_attempt(&mut self, out: &mut Vec<Action>) {
        if self.config.passive {
            self.state = State::Active;
        } else {
            self.start(Timer::ConnectRetry, self.backoff.delay(), out);
            out.push(Action::InitiateConnection);
            self.state = State::Connect;
        }
    }

    fn connect_retry_expired(&mut self, out: &mut Vec<Action>) {
        match self.state {
            State::Connect => {
                // The connect hangs: give up on it and try again, later next time.
                self.backoff.failed();
                self.attempt_failed(DownReason::ConnectTimedOut, out);
                out.push(Action::DropConnection);
                self.start(Timer::ConnectRetry, self.backoff.delay(), out);
                out.push(Action::InitiateConnection);
            }
            State::Active if !self.config.passive && !self.secondary => {
                self.start(Timer::ConnectRetry, self.backoff.delay(), out);
                out.push(Action::InitiateConnection);
                self.state = State::Connect;
            }
            _ => {}
        }
    }

    /// A TCP connection is up, in either direction.
    fn connected(&mut self, direction: Direction, out: &mut Vec<Action>) {
        match self.state {
            // Idle refuses connections (RFC 4271 section 8.2.2).
            State::Idle => out.push(Action::DropConnection),
            State::Connect | State::Active => {
                self.stop(Timer::ConnectRetry, out);
                self.direction = Some(direction);
                out.push(Action::SendOpen(self.local_open.clone()));
                self.hold_time = self.config.open_hold_time;
                self.start(Timer::Hold, self.hold_time, out);
                self.state = State::OpenSent;
            }
            // This FSM has a connection already; a second one belongs to a fork.
            State::OpenSent | State::OpenConfirm | State::Established => {}
        }
    }

    fn connection_failed(&mut self, out: &mut Vec<Action>) {
        match self.state {
            State::Connect => {
                self.backoff.failed();
                self.attempt_failed(DownReason::ConnectionFailed, out);
                self.start(Timer::ConnectRetry, self.backoff.delay(), out);
                self.state = State::Active;
            }
            State::OpenSent => self.close(DownReason::ConnectionFailed, None, After::Listen, out),
            State::OpenConfirm | State::Established => {
                self.close(DownReason::ConnectionFailed, None, After::Retry, out);
            }
            State::Idle | State::Active => {}
        }
    }

    fn receive_open(&mut self, open: Open, out: &mut Vec<Action>) {
        let negotiated = negotiate(&self.local_open, &open);
        let problem = self.check_open(&open).or_else(|| {
            // Strict mode (RFC 9234 section 4.2): no role from the peer is a mismatch too.
            let strict_miss = self.config.role_strict && negotiated.peer_role.is_none();
            (negotiated.role_mismatch || strict_miss).then_some(OpenProblem::RoleMismatch)
        });
        if let Some(problem) = problem {
            let sent = problem.notification();
            let reason = DownReason::OpenRejected {
                problem,
                sent: sent.clone(),
            };
            return self.close(reason, Some(sent), After::Retry, out);
        }
        out.push(Action::SendKeepalive);
        if negotiated.hold_time > 0 {
            self.hold_time = secs(negotiated.hold_time);
            self.keepalive_time = secs(negotiated.keepalive);
            self.start(Timer::Keepalive, self.keepalive_time, out);
            self.start(Timer::Hold, self.hold_time, out);
        }
        // With a hold time of 0 the OpenSent hold timer keeps running until the peer
        // confirms; see the module documentation.
        self.remote = Some(open);
        self.negotiated = Some(negotiated);
        self.state = State::OpenConfirm;
    }

    /// The checks of RFC 4271 section 6.2 that need the configuration, in its order.
    fn check_open(&self, open: &Open) -> Option<OpenProblem> {
        let announced = open.asn();
        if announced != self.config.peer_asn {
            return Some(OpenProblem::BadPeerAs {
                expected: self.config.peer_asn,
                announced,
            });
        }
        if matches!(open.hold_time, 1 | 2) {
            return Some(OpenProblem::UnacceptableHoldTime(open.hold_time));
        }
        // RFC 6286 section 2.2: any non-zero value, distinct from ours within an AS.
        if open.bgp_id.is_unspecified()
            || (self.config.is_internal() && open.bgp_id == self.config.router_id)
        {
            return Some(OpenProblem::BadBgpIdentifier(open.bgp_id));
        }
        None
    }

    /// OpenConfirm receives the peer's KEEPALIVE.
    fn establish(&mut self, out: &mut Vec<Action>) {
        let Some(negotiated) = self.negotiated.clone() else {
            return;
        };
        if negotiated.hold_time > 0 {
            self.start(Timer::Hold, self.hold_time, out);
        } else {
            self.stop(Timer::Hold, out);
        }
        self.start(Timer::BackoffReset, self.config.backoff_reset_after, out);
        self.state = State::Established;
        out.push(Action::SessionEstablished(Box::new(negotiated)));
    }

    fn restart_hold(&mut self, out: &mut Vec<Action>) {
        if self.negotiated.as_ref().is_some_and(|n| n.hold_time > 0) {
            self.start(Timer::Hold, self.hold_time, out);
        }
    }

    /// A message the current state does not allow: Finite State Machine Error with the
    /// subcode of RFC 6608.
    fn unexpected(&mut self, message: MessageType, out: &mut Vec<Action>) {
        let subcode = match self.state {
            State::OpenSent => fsm_subcode::UNEXPECTED_IN_OPEN_SENT,
            State::OpenConfirm => fsm_subcode::UNEXPECTED_IN_OPEN_CONFIRM,
            State::Established => fsm_subcode::UNEXPECTED_IN_ESTABLISHED,
            State::Idle | State::Connect | State::Active => fsm_subcode::UNSPECIFIED,
        };
        let sent = Notification::new(ErrorCode::Fsm, subcode, Bytes::new());
        let reason = DownReason::UnexpectedMessage {
            state: self.state,
            message,
            sent: sent.clone(),
        };
        self.close(reason, Some(sent), After::Retry, out);
    }

    /// Closes the connection (or abandons the attempt), reports why, and moves on as
    /// `after` says.
    fn close(
        &mut self,
        reason: DownReason,
        notification: Option<Notification>,
        after: After,
        out: &mut Vec<Action>,
    ) {
        let was = self.state;
        if was.is_connected() {
            if let Some(n) = notification {
                out.push(Action::SendNotification(n));
            }
            out.push(Action::DropConnection);
        } else if was == State::Connect {
            out.push(Action::DropConnection);
        }
        self.stop_all(out);
        let established = was == State::Established;
        let stable = std::mem::take(&mut self.stable);
        self.direction = None;
        self.remote = None;
        self.negotiated = None;
        self.state = State::Idle;
        let failure = matches!(after, After::Retry | After::Listen);
        if established {
            out.push(Action::SessionDown(reason.clone()));
        } else if failure {
            out.push(Action::AttemptFailed(reason.clone()));
        }
        self.last_down = Some(reason);
        if self.secondary {
            return;
        }
        match after {
            After::Retry => {
                if !(established && stable) {
                    self.backoff.failed();
                }
                self.start(Timer::IdleHold, self.backoff.delay(), out);
            }
            After::Listen => {
                self.backoff.failed();
                if !self.config.passive {
                    self.start(Timer::ConnectRetry, self.backoff.delay(), out);
                }
                self.state = State::Active;
            }
            After::Stop => {
                self.started = false;
                self.backoff.reset();
            }
            After::Dump => {}
        }
    }

    /// Reports a failed connect, without a connection to close.
    fn attempt_failed(&mut self, reason: DownReason, out: &mut Vec<Action>) {
        out.push(Action::AttemptFailed(reason.clone()));
        self.last_down = Some(reason);
    }

    fn start(&mut self, timer: Timer, after: Duration, out: &mut Vec<Action>) {
        self.running.insert(timer);
        out.push(Action::StartTimer(timer, after));
    }

    fn stop(&mut self, timer: Timer, out: &mut Vec<Action>) {
        if self.running.remove(timer) {
            out.push(Action::StopTimer(timer));
        }
    }

    fn stop_all(&mut self, out: &mut Vec<Action>) {
        for timer in Timer::ALL {
            self.stop(timer, out);
        }
    }
}

fn secs(s: u16) -> Duration {
    Duration::from_secs(u64::from(s))
}
