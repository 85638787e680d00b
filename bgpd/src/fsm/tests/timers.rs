//! Hold and keepalive timers, hold time 0, and stale timer expiries.

use super::*;

fn hold_expired() -> Notification {
    notification(ErrorCode::HoldTimerExpired, 0, &[])
}

#[test]
fn negotiated_hold_is_the_minimum_and_keepalive_a_third() {
    // (ours, theirs) -> (hold, keepalive)
    for (ours, theirs, hold, keepalive) in [(90, 30, 30, 10), (20, 90, 20, 6), (3, 240, 3, 1)] {
        let mut f = open_sent_with(FsmConfig {
            hold_time: ours,
            ..config()
        });
        let peer = Open::new(PEER_AS, theirs, PEER_ID, vec![]);
        assert_eq!(
            f.handle(Event::BgpOpen(peer)),
            [
                Action::SendKeepalive,
                Action::StartTimer(Timer::Keepalive, secs(keepalive)),
                Action::StartTimer(Timer::Hold, secs(hold)),
            ]
        );
    }
}

#[test]
fn keepalive_timer_sends_and_rearms_in_open_confirm_and_established() {
    let expected = [
        Action::SendKeepalive,
        Action::StartTimer(Timer::Keepalive, secs(30)),
    ];
    let mut f = open_confirm();
    assert_eq!(f.handle(Event::KeepaliveTimerExpires), expected);
    f.handle(Event::KeepAliveMsg);
    for _ in 0..3 {
        assert_eq!(f.handle(Event::KeepaliveTimerExpires), expected);
    }
    assert_eq!(f.state(), State::Established);
}

#[test]
fn keepalive_and_update_restart_the_hold_timer_in_established() {
    let mut f = established();
    for event in [
        Event::KeepAliveMsg,
        Event::UpdateMsg,
        Event::RouteRefreshMsg,
    ] {
        assert_eq!(f.handle(event), [Action::StartTimer(Timer::Hold, secs(90))]);
        assert_eq!(f.state(), State::Established);
    }
}

#[test]
fn hold_timer_expiry_in_established_sends_code_4_closes_and_backs_off() {
    let mut f = established();
    let reason = DownReason::HoldTimerExpired {
        hold_time: secs(90),
    };
    assert_eq!(
        f.handle(Event::HoldTimerExpires),
        [
            Action::SendNotification(hold_expired()),
            Action::DropConnection,
            Action::StopTimer(Timer::Keepalive),
            Action::StopTimer(Timer::BackoffReset),
            Action::SessionDown(reason.clone()),
            Action::StartTimer(Timer::IdleHold, secs(10)),
        ]
    );
    assert_eq!(f.state(), State::Idle);
    assert_eq!(f.last_down_reason(), Some(&reason));
    assert_eq!(reason.notification_sent(), Some(hold_expired()));
    assert_eq!(
        reason.to_string(),
        "hold timer expired: nothing received from the peer for 90 s"
    );
    // After the IdleHold wait, it tries again with the backed-off retry time.
    assert_eq!(
        f.handle(Event::IdleHoldTimerExpires),
        [
            Action::StartTimer(Timer::ConnectRetry, secs(10)),
            Action::InitiateConnection,
        ]
    );
    assert_eq!(f.state(), State::Connect);
}

#[test]
fn hold_timer_expiry_in_open_sent_uses_the_large_initial_hold_time() {
    let mut f = open_sent();
    let reason = DownReason::HoldTimerExpired {
        hold_time: secs(240),
    };
    assert_eq!(
        f.handle(Event::HoldTimerExpires),
        [
            Action::SendNotification(hold_expired()),
            Action::DropConnection,
            Action::AttemptFailed(reason),
            Action::StartTimer(Timer::IdleHold, secs(10)),
        ]
    );
    assert_eq!(f.state(), State::Idle);
}

#[test]
fn hold_timer_expiry_in_open_confirm() {
    let mut f = open_confirm();
    let reason = DownReason::HoldTimerExpired {
        hold_time: secs(90),
    };
    assert_eq!(
        f.handle(Event::HoldTimerExpires),
        [
            Action::SendNotification(hold_expired()),
            Action::DropConnection,
            Action::StopTimer(Timer::Keepalive),
            Action::AttemptFailed(reason),
            Action::StartTimer(Timer::IdleHold, secs(10)),
        ]
    );
}

#[test]
fn hold_time_zero_runs_neither_timer_once_established() {
    let mut f = open_sent();
    let peer = Open::new(PEER_AS, 0, PEER_ID, vec![]);
    // Only the KEEPALIVE that confirms the OPEN; no keepalive timer.
    assert_eq!(
        f.handle(Event::BgpOpen(peer.clone())),
        [Action::SendKeepalive]
    );
    // Until the peer confirms, the OpenSent hold timer still guards the connection.
    assert!(f.is_timer_running(Timer::Hold));
    let negotiated = negotiate(&local_open(), &peer);
    assert_eq!(negotiated.hold_time, 0);
    assert_eq!(
        f.handle(Event::KeepAliveMsg),
        [
            Action::StopTimer(Timer::Hold),
            Action::StartTimer(Timer::BackoffReset, secs(60)),
            Action::SessionEstablished(Box::new(negotiated)),
        ]
    );
    // Messages do not arm a hold timer, and no keepalives are due.
    assert_eq!(f.handle(Event::KeepAliveMsg), []);
    assert_eq!(f.handle(Event::UpdateMsg), []);
    assert_eq!(f.handle(Event::KeepaliveTimerExpires), []);
    assert_eq!(f.handle(Event::HoldTimerExpires), []);
    assert_eq!(f.state(), State::Established);
}

#[test]
fn local_hold_time_zero_wins_over_the_peers() {
    let mut f = open_sent_with(FsmConfig {
        hold_time: 0,
        ..config()
    });
    assert_eq!(
        f.handle(Event::BgpOpen(peer_open())),
        [Action::SendKeepalive]
    );
    assert_eq!(f.negotiated().map(|n| n.hold_time), Some(0));
}

#[test]
fn open_sent_hold_timer_expires_even_with_hold_time_zero() {
    // A peer that never confirms cannot keep the connection open forever.
    let mut f = open_sent_with(FsmConfig {
        hold_time: 0,
        ..config()
    });
    f.handle(Event::BgpOpen(peer_open()));
    let actions = f.handle(Event::HoldTimerExpires);
    assert_eq!(
        actions.first(),
        Some(&Action::SendNotification(hold_expired()))
    );
    assert_eq!(f.state(), State::Idle);
}

#[test]
fn stale_timer_expiries_are_ignored() {
    // ConnectRetry fired just as the connection came up: the FSM stopped it already.
    let mut f = open_sent();
    assert_eq!(f.handle(Event::ConnectRetryTimerExpires), []);
    assert_eq!(f.handle(Event::KeepaliveTimerExpires), []);
    assert_eq!(f.handle(Event::IdleHoldTimerExpires), []);
    assert_eq!(f.handle(Event::BackoffResetTimerExpires), []);
    assert_eq!(f.state(), State::OpenSent);
    // A timer fires once: a second expiry of the same arming is stale too.
    let mut f = established();
    f.handle(Event::HoldTimerExpires);
    assert_eq!(f.handle(Event::HoldTimerExpires), []);
    // Stopped by ManualStop.
    let mut f = established();
    f.handle(Event::ManualStop(Stop::Shutdown(None)));
    assert_eq!(f.handle(Event::KeepaliveTimerExpires), []);
    assert_eq!(f.handle(Event::IdleHoldTimerExpires), []);
    assert_eq!(f.state(), State::Idle);
}

#[test]
fn timer_bookkeeping_matches_the_actions() {
    let f = established();
    for (timer, running) in [
        (Timer::ConnectRetry, false),
        (Timer::Hold, true),
        (Timer::Keepalive, true),
        (Timer::IdleHold, false),
        (Timer::BackoffReset, true),
    ] {
        assert_eq!(f.is_timer_running(timer), running, "{timer:?}");
    }
}
