//! Retry back-off as the peer task sees it: the durations of the ConnectRetry and IdleHold
//! timers.

use super::*;

/// The duration of the last `StartTimer(timer, _)` in `actions`.
fn armed(actions: &[Action], timer: Timer) -> Option<Duration> {
    actions.iter().rev().find_map(|a| match a {
        Action::StartTimer(t, d) if *t == timer => Some(*d),
        _ => None,
    })
}

#[test]
fn refused_connects_double_the_retry_wait_up_to_the_max() {
    let mut f = fsm();
    let first = f.handle(Event::ManualStart);
    let mut waits = vec![armed(&first, Timer::ConnectRetry)];
    for _ in 0..7 {
        waits.push(armed(
            &f.handle(Event::TcpConnectionFails),
            Timer::ConnectRetry,
        ));
        // The retry itself keeps the wait: only failures double it.
        let retry = f.handle(Event::ConnectRetryTimerExpires);
        assert_eq!(
            armed(&retry, Timer::ConnectRetry),
            waits.last().copied().flatten()
        );
        assert!(retry.contains(&Action::InitiateConnection));
    }
    let expected = [5, 10, 20, 40, 80, 120, 120, 120].map(|s| Some(secs(s)));
    assert_eq!(waits, expected);
    assert_eq!(f.backoff().failures(), 7);
}

#[test]
fn sessions_that_die_soon_after_established_double_the_idle_hold_wait() {
    let mut f = established();
    let mut waits = Vec::new();
    for _ in 0..6 {
        // The session dies before the BackoffReset timer fires.
        let down = f.handle(Event::HoldTimerExpires);
        waits.push(armed(&down, Timer::IdleHold).unwrap());
        let retry = f.handle(Event::IdleHoldTimerExpires);
        // The next attempt's ConnectRetry timer uses the same wait.
        assert_eq!(armed(&retry, Timer::ConnectRetry), waits.last().copied());
        f.handle(Event::TcpCrAcked);
        f.handle(Event::BgpOpen(peer_open()));
        f.handle(Event::KeepAliveMsg);
        assert_eq!(f.state(), State::Established);
    }
    assert_eq!(waits, [10, 20, 40, 80, 120, 120].map(secs));
}

#[test]
fn a_session_that_stayed_established_resets_the_back_off() {
    let mut f = established();
    f.handle(Event::HoldTimerExpires);
    f.handle(Event::IdleHoldTimerExpires);
    f.handle(Event::TcpConnectionFails);
    assert_eq!(f.backoff().failures(), 2);
    f.handle(Event::ConnectRetryTimerExpires);
    f.handle(Event::TcpCrAcked);
    f.handle(Event::BgpOpen(peer_open()));
    f.handle(Event::KeepAliveMsg);
    // Stable for a minute.
    assert_eq!(f.handle(Event::BackoffResetTimerExpires), []);
    assert_eq!(f.backoff().failures(), 0);
    // A later failure starts from the base wait, and the reset timer needs no stopping.
    let down = f.handle(Event::NotifMsg(notification(ErrorCode::Cease, 4, &[])));
    assert!(!down.contains(&Action::StopTimer(Timer::BackoffReset)));
    assert_eq!(armed(&down, Timer::IdleHold), Some(secs(5)));
    assert_eq!(f.backoff().failures(), 0);
}

#[test]
fn manual_start_resets_the_back_off() {
    let mut f = fsm();
    f.handle(Event::ManualStart);
    for _ in 0..4 {
        f.handle(Event::TcpConnectionFails);
        f.handle(Event::ConnectRetryTimerExpires);
    }
    f.handle(Event::ManualStop(Stop::Shutdown(None)));
    assert_eq!(
        f.handle(Event::ManualStart),
        [
            Action::StartTimer(Timer::ConnectRetry, secs(5)),
            Action::InitiateConnection,
        ]
    );
}

#[test]
fn manual_start_during_idle_hold_connects_at_once() {
    let mut f = established();
    f.handle(Event::TcpConnectionFails);
    assert_eq!(
        f.handle(Event::ManualStart),
        [
            Action::StopTimer(Timer::IdleHold),
            Action::StartTimer(Timer::ConnectRetry, secs(5)),
            Action::InitiateConnection,
        ]
    );
}

#[test]
fn automatic_start_waits_for_the_idle_hold_timer() {
    let mut f = established();
    f.handle(Event::TcpConnectionFails);
    assert_eq!(f.handle(Event::AutomaticStart), []);
    assert_eq!(f.state(), State::Idle);
    let retry = f.handle(Event::IdleHoldTimerExpires);
    assert_eq!(
        retry,
        [
            Action::StartTimer(Timer::ConnectRetry, secs(10)),
            Action::InitiateConnection,
        ]
    );
}

#[test]
fn passive_peer_backs_off_in_idle_then_listens() {
    let mut f = Fsm::new(FsmConfig {
        passive: true,
        ..config()
    })
    .unwrap();
    f.handle(Event::ManualStart);
    f.handle(Event::TcpConnectionConfirmed);
    f.handle(Event::BgpOpen(peer_open()));
    let down = f.handle(Event::HoldTimerExpires);
    assert_eq!(armed(&down, Timer::IdleHold), Some(secs(10)));
    // Back to listening, without a retry timer.
    assert_eq!(f.handle(Event::IdleHoldTimerExpires), []);
    assert_eq!(f.state(), State::Active);
    // A connection lost in OpenSent also goes back to listening, with no timer.
    f.handle(Event::TcpConnectionConfirmed);
    assert_eq!(
        f.handle(Event::TcpConnectionFails),
        [
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
            Action::AttemptFailed(DownReason::ConnectionFailed),
        ]
    );
    assert_eq!(f.state(), State::Active);
}

#[test]
fn back_off_bounds_come_from_the_configuration() {
    let config = FsmConfig {
        connect_retry: secs(1),
        connect_retry_max: secs(3),
        ..config()
    };
    let mut f = Fsm::new(config).unwrap();
    f.handle(Event::ManualStart);
    let waits: Vec<_> = (0..3)
        .map(|_| {
            let w = armed(&f.handle(Event::TcpConnectionFails), Timer::ConnectRetry);
            f.handle(Event::ConnectRetryTimerExpires);
            w
        })
        .collect();
    assert_eq!(waits, [Some(secs(2)), Some(secs(3)), Some(secs(3))]);
}
