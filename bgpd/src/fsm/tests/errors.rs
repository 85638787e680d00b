//! NOTIFICATIONs received, unexpected messages (RFC 6608), malformed messages, TCP
//! failures, and operator or daemon stops.

use bgp_proto::header::HeaderError;
use bgp_proto::notification::{cease_subcode, fsm_subcode, header_subcode, open_subcode};
use bgp_proto::open::OpenError;
use bgp_proto::{DecodeError, MessageType};

use super::*;

fn fsm_error(subcode: u8) -> Notification {
    notification(ErrorCode::Fsm, subcode, &[])
}

/// The timers `state` runs on the happy path, stopped when its connection closes.
fn stops_in(state: State) -> Vec<Action> {
    let timers: &[Timer] = match state {
        State::OpenSent => &[Timer::Hold],
        State::OpenConfirm => &[Timer::Hold, Timer::Keepalive],
        _ => &[Timer::Hold, Timer::Keepalive, Timer::BackoffReset],
    };
    timers.iter().map(|t| Action::StopTimer(*t)).collect()
}

/// What a connection in `state` does when it closes after a failure: optionally send
/// `sent`, drop, stop its timers, report `reason` and wait out the IdleHold timer.
fn failure(state: State, sent: Option<Notification>, reason: DownReason) -> Vec<Action> {
    let mut out: Vec<Action> = sent.into_iter().map(Action::SendNotification).collect();
    out.push(Action::DropConnection);
    out.extend(stops_in(state));
    out.push(match state {
        State::Established => Action::SessionDown(reason),
        _ => Action::AttemptFailed(reason),
    });
    out.push(Action::StartTimer(Timer::IdleHold, secs(10)));
    out
}

fn in_state(state: State) -> Fsm {
    match state {
        State::OpenSent => open_sent(),
        State::OpenConfirm => open_confirm(),
        _ => established(),
    }
}

#[test]
fn notification_received_closes_without_answering_in_every_connected_state() {
    let n = Notification::admin(cease_subcode::ADMIN_SHUTDOWN, "maintenance").unwrap();
    for state in [State::OpenSent, State::OpenConfirm, State::Established] {
        let mut f = in_state(state);
        let reason = DownReason::NotificationReceived(n.clone());
        assert_eq!(
            f.handle(Event::NotifMsg(n.clone())),
            failure(state, None, reason),
            "{state}"
        );
        assert_eq!(f.state(), State::Idle);
    }
    let reason = DownReason::NotificationReceived(n);
    assert_eq!(
        reason.to_string(),
        "peer sent NOTIFICATION: cease / administrative shutdown: \"maintenance\""
    );
    assert!(reason.notification_sent().is_none());
    assert!(reason.notification_received().is_some());
}

#[test]
fn notification_without_a_connection_is_ignored() {
    let n = notification(ErrorCode::Cease, 2, &[]);
    let mut f = fsm();
    assert_eq!(f.handle(Event::NotifMsg(n.clone())), []);
    f.handle(Event::ManualStart);
    assert_eq!(f.handle(Event::NotifMsg(n)), []);
    assert_eq!(f.state(), State::Connect);
}

#[test]
fn unexpected_messages_in_open_sent_are_fsm_error_subcode_1() {
    for (event, message) in [
        (Event::KeepAliveMsg, MessageType::Keepalive),
        (Event::UpdateMsg, MessageType::Update),
        (Event::RouteRefreshMsg, MessageType::RouteRefresh),
    ] {
        let mut f = open_sent();
        let sent = fsm_error(fsm_subcode::UNEXPECTED_IN_OPEN_SENT);
        let reason = DownReason::UnexpectedMessage {
            state: State::OpenSent,
            message,
            sent: sent.clone(),
        };
        assert_eq!(
            f.handle(event),
            failure(State::OpenSent, Some(sent), reason)
        );
    }
}

#[test]
fn unexpected_messages_in_open_confirm_are_fsm_error_subcode_2() {
    for (event, message) in [
        (Event::BgpOpen(peer_open()), MessageType::Open),
        (Event::UpdateMsg, MessageType::Update),
        (Event::RouteRefreshMsg, MessageType::RouteRefresh),
    ] {
        let mut f = open_confirm();
        let sent = fsm_error(fsm_subcode::UNEXPECTED_IN_OPEN_CONFIRM);
        let reason = DownReason::UnexpectedMessage {
            state: State::OpenConfirm,
            message,
            sent: sent.clone(),
        };
        assert_eq!(
            f.handle(event),
            failure(State::OpenConfirm, Some(sent), reason)
        );
    }
}

#[test]
fn open_in_established_is_fsm_error_subcode_3() {
    let mut f = established();
    let sent = fsm_error(fsm_subcode::UNEXPECTED_IN_ESTABLISHED);
    let reason = DownReason::UnexpectedMessage {
        state: State::Established,
        message: MessageType::Open,
        sent: sent.clone(),
    };
    assert_eq!(
        reason.to_string(),
        "peer sent OPEN in Established; sent NOTIFICATION: \
         finite state machine error / unexpected message in Established"
    );
    assert_eq!(
        f.handle(Event::BgpOpen(peer_open())),
        failure(State::Established, Some(sent), reason)
    );
}

#[test]
fn malformed_messages_send_the_decoders_notification() {
    let cases = [
        (
            State::OpenSent,
            DecodeError::new(0, HeaderError::BadMarker),
            notification(
                ErrorCode::MessageHeader,
                header_subcode::CONNECTION_NOT_SYNCHRONIZED,
                &[],
            ),
        ),
        (
            State::OpenSent,
            DecodeError::new(19, OpenError::UnsupportedVersion(3)),
            notification(ErrorCode::Open, open_subcode::UNSUPPORTED_VERSION, &[0, 4]),
        ),
        (
            State::OpenConfirm,
            DecodeError::new(16, HeaderError::BadLength(5000)),
            notification(
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                &[0x13, 0x88],
            ),
        ),
        (
            State::Established,
            DecodeError::new(18, HeaderError::BadType(9)),
            notification(
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_TYPE,
                &[9],
            ),
        ),
    ];
    for (state, error, sent) in cases {
        let mut f = in_state(state);
        let reason = DownReason::MalformedMessage {
            error: error.clone(),
            sent: sent.clone(),
        };
        let got = f.handle(Event::MalformedMessage(error));
        assert_eq!(got, failure(state, Some(sent), reason), "{state}");
    }
}

#[test]
fn malformed_message_reason_reads_well() {
    let error = DecodeError::new(18, HeaderError::BadType(9));
    let reason = DownReason::MalformedMessage {
        sent: error.notification(),
        error,
    };
    assert_eq!(
        reason.to_string(),
        "malformed message from peer, header: bad message type 9 (at byte 18); \
         sent NOTIFICATION: message header error / bad message type"
    );
}

#[test]
fn connect_failure_listens_and_retries_later() {
    let mut f = fsm();
    f.handle(Event::ManualStart);
    assert_eq!(
        f.handle(Event::TcpConnectionFails),
        [
            Action::AttemptFailed(DownReason::ConnectionFailed),
            Action::StartTimer(Timer::ConnectRetry, secs(10)),
        ]
    );
    assert_eq!(f.state(), State::Active);
    assert_eq!(
        f.handle(Event::ConnectRetryTimerExpires),
        [
            Action::StartTimer(Timer::ConnectRetry, secs(10)),
            Action::InitiateConnection,
        ]
    );
    assert_eq!(f.state(), State::Connect);
}

#[test]
fn connect_that_hangs_is_abandoned_and_retried() {
    let mut f = fsm();
    f.handle(Event::ManualStart);
    assert_eq!(
        f.handle(Event::ConnectRetryTimerExpires),
        [
            Action::AttemptFailed(DownReason::ConnectTimedOut),
            Action::DropConnection,
            Action::StartTimer(Timer::ConnectRetry, secs(10)),
            Action::InitiateConnection,
        ]
    );
    assert_eq!(f.state(), State::Connect);
}

#[test]
fn connection_lost_in_open_sent_goes_back_to_listening() {
    let mut f = open_sent();
    assert_eq!(
        f.handle(Event::TcpConnectionFails),
        [
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
            Action::AttemptFailed(DownReason::ConnectionFailed),
            Action::StartTimer(Timer::ConnectRetry, secs(10)),
        ]
    );
    assert_eq!(f.state(), State::Active);
    assert_eq!(f.direction(), None);
}

#[test]
fn connection_lost_in_open_confirm_and_established_waits_in_idle() {
    for state in [State::OpenConfirm, State::Established] {
        let mut f = in_state(state);
        let expected = failure(state, None, DownReason::ConnectionFailed);
        assert_eq!(f.handle(Event::TcpConnectionFails), expected, "{state}");
        assert_eq!(f.state(), State::Idle);
        // Idle refuses the peer's reconnection until the IdleHold timer fires.
        assert_eq!(
            f.handle(Event::TcpConnectionConfirmed),
            [Action::DropConnection]
        );
    }
}

#[test]
fn manual_stop_with_message_sends_cease_admin_shutdown() {
    let mut f = established();
    let stop = Stop::shutdown("maintenance until 14:00");
    let sent =
        Notification::admin(cease_subcode::ADMIN_SHUTDOWN, "maintenance until 14:00").unwrap();
    assert_eq!(sent.data[0], 23);
    assert_eq!(
        f.handle(Event::ManualStop(stop.clone())),
        [
            Action::SendNotification(sent),
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
            Action::StopTimer(Timer::Keepalive),
            Action::StopTimer(Timer::BackoffReset),
            Action::SessionDown(DownReason::AdminStop(stop.clone())),
        ]
    );
    assert_eq!((f.state(), f.is_started()), (State::Idle, false));
    assert_eq!(
        DownReason::AdminStop(stop).to_string(),
        "administratively shut down: \"maintenance until 14:00\""
    );
    // Stays down: no IdleHold, and nothing restarts it but a start event.
    assert!(!f.is_timer_running(Timer::IdleHold));
    assert_eq!(f.handle(Event::IdleHoldTimerExpires), []);
}

#[test]
fn manual_stop_kinds_map_to_cease_subcodes() {
    let cases = [
        (
            Stop::Shutdown(None),
            Some(notification(
                ErrorCode::Cease,
                cease_subcode::ADMIN_SHUTDOWN,
                &[],
            )),
        ),
        (
            Stop::Reset(Some("upgrade".into())),
            Some(notification(ErrorCode::Cease, 4, b"\x07upgrade")),
        ),
        (
            Stop::Deconfigured,
            Some(notification(
                ErrorCode::Cease,
                cease_subcode::PEER_DECONFIGURED,
                &[],
            )),
        ),
        (Stop::Silent, None),
    ];
    for (stop, sent) in cases {
        let mut f = open_sent();
        let mut expected: Vec<Action> = sent.into_iter().map(Action::SendNotification).collect();
        expected.extend([Action::DropConnection, Action::StopTimer(Timer::Hold)]);
        // Before Established an operator stop is no failure: nothing to report.
        assert_eq!(
            f.handle(Event::ManualStop(stop.clone())),
            expected,
            "{stop:?}"
        );
        assert_eq!(f.last_down_reason(), Some(&DownReason::AdminStop(stop)));
    }
}

#[test]
fn shutdown_message_over_255_bytes_is_cut_at_a_character_boundary() {
    let long = "é".repeat(200); // 400 bytes
    let n = Stop::shutdown(long).notification().unwrap();
    assert_eq!(n.data[0], 254);
    assert_eq!(n.shutdown_message(), Some("é".repeat(127).as_str()));
}

#[test]
fn manual_stop_while_connecting_abandons_the_attempt() {
    let mut f = fsm();
    f.handle(Event::ManualStart);
    assert_eq!(
        f.handle(Event::ManualStop(Stop::Shutdown(None))),
        [
            Action::DropConnection,
            Action::StopTimer(Timer::ConnectRetry),
        ]
    );
    assert_eq!(f.state(), State::Idle);
    // Listening: nothing to drop.
    f.handle(Event::ManualStart);
    f.handle(Event::TcpConnectionFails);
    assert_eq!(
        f.handle(Event::ManualStop(Stop::Shutdown(None))),
        [Action::StopTimer(Timer::ConnectRetry)]
    );
}

#[test]
fn manual_stop_in_idle_cancels_the_idle_hold_wait() {
    let mut f = established();
    f.handle(Event::TcpConnectionFails);
    assert_eq!(
        f.handle(Event::ManualStop(Stop::Shutdown(None))),
        [Action::StopTimer(Timer::IdleHold)]
    );
    assert!(!f.is_started());
}

#[test]
fn automatic_stop_sends_its_notification_and_backs_off() {
    let mut f = established();
    let sent = notification(
        ErrorCode::Cease,
        cease_subcode::MAX_PREFIXES,
        &[0, 1, 0, 0, 0, 100],
    );
    let reason = DownReason::AutomaticStop(sent.clone());
    assert_eq!(
        f.handle(Event::AutomaticStop(sent.clone())),
        failure(State::Established, Some(sent), reason)
    );
    assert!(f.is_started());
}

#[test]
fn messages_before_a_connection_are_ignored() {
    let mut f = fsm();
    f.handle(Event::ManualStart);
    for event in [
        Event::KeepAliveMsg,
        Event::UpdateMsg,
        Event::BgpOpen(peer_open()),
        Event::MalformedMessage(DecodeError::new(0, HeaderError::BadMarker)),
    ] {
        let mut g = f.clone();
        assert_eq!(g.handle(event), []);
        assert_eq!(g.state(), State::Connect);
    }
}
