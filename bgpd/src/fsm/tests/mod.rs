//! Unit tests of the FSM: every test feeds events and asserts the exact actions a peer task
//! would carry out. No sockets, no clock.

mod backoff;
mod collision;
mod errors;
mod open;
mod simulation;
mod timers;

use std::net::Ipv4Addr;
use std::time::Duration;

use bgp_proto::{ErrorCode, Notification, Open, negotiate};
use bytes::Bytes;

use super::*;

const LOCAL_AS: u32 = 65001;
const PEER_AS: u32 = 65002;
const LOCAL_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER_ID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// eBGP, hold 90, retry 5 s doubling to 120 s, back-off reset after 60 s.
fn config() -> FsmConfig {
    FsmConfig::new(LOCAL_AS, LOCAL_ID, PEER_AS)
}

fn fsm() -> Fsm {
    Fsm::new(config()).unwrap()
}

fn local_open() -> Open {
    Open::new(LOCAL_AS, 90, LOCAL_ID, vec![])
}

fn peer_open() -> Open {
    Open::new(PEER_AS, 90, PEER_ID, vec![])
}

fn notification(code: ErrorCode, subcode: u8, data: &[u8]) -> Notification {
    Notification::new(code, subcode, Bytes::copy_from_slice(data))
}

fn open_sent_with(config: FsmConfig) -> Fsm {
    let mut f = Fsm::new(config).unwrap();
    f.handle(Event::ManualStart);
    f.handle(Event::TcpCrAcked);
    assert_eq!(f.state(), State::OpenSent);
    f
}

fn open_confirm_with(config: FsmConfig, peer: Open) -> Fsm {
    let mut f = open_sent_with(config);
    f.handle(Event::BgpOpen(peer));
    assert_eq!(f.state(), State::OpenConfirm);
    f
}

fn established_with(config: FsmConfig, peer: Open) -> Fsm {
    let mut f = open_confirm_with(config, peer);
    f.handle(Event::KeepAliveMsg);
    assert_eq!(f.state(), State::Established);
    f
}

fn open_sent() -> Fsm {
    open_sent_with(config())
}

fn open_confirm() -> Fsm {
    open_confirm_with(config(), peer_open())
}

fn established() -> Fsm {
    established_with(config(), peer_open())
}

#[test]
fn happy_path_active() {
    let mut f = fsm();
    assert_eq!(f.state(), State::Idle);
    assert_eq!(
        f.handle(Event::ManualStart),
        [
            Action::StartTimer(Timer::ConnectRetry, secs(5)),
            Action::InitiateConnection,
        ]
    );
    assert_eq!(f.state(), State::Connect);

    assert_eq!(
        f.handle(Event::TcpCrAcked),
        [
            Action::StopTimer(Timer::ConnectRetry),
            Action::SendOpen(local_open()),
            Action::StartTimer(Timer::Hold, secs(240)),
        ]
    );
    assert_eq!(
        (f.state(), f.direction()),
        (State::OpenSent, Some(Direction::Outbound))
    );

    assert_eq!(
        f.handle(Event::BgpOpen(peer_open())),
        [
            Action::SendKeepalive,
            Action::StartTimer(Timer::Keepalive, secs(30)),
            Action::StartTimer(Timer::Hold, secs(90)),
        ]
    );
    assert_eq!(f.state(), State::OpenConfirm);
    assert_eq!(f.remote_open(), Some(&peer_open()));

    let negotiated = negotiate(&local_open(), &peer_open());
    assert_eq!(
        f.handle(Event::KeepAliveMsg),
        [
            Action::StartTimer(Timer::Hold, secs(90)),
            Action::StartTimer(Timer::BackoffReset, secs(60)),
            Action::SessionEstablished(Box::new(negotiated.clone())),
        ]
    );
    assert_eq!(f.state(), State::Established);
    assert_eq!(f.negotiated(), Some(&negotiated));
    assert_eq!(f.last_down_reason(), None);
}

#[test]
fn happy_path_passive() {
    let mut f = Fsm::new(FsmConfig {
        passive: true,
        ..config()
    })
    .unwrap();
    // Passive: listen, never connect, no retry timer.
    assert_eq!(f.handle(Event::ManualStart), []);
    assert_eq!(f.state(), State::Active);
    assert!(!f.is_timer_running(Timer::ConnectRetry));

    assert_eq!(
        f.handle(Event::TcpConnectionConfirmed),
        [
            Action::SendOpen(local_open()),
            Action::StartTimer(Timer::Hold, secs(240)),
        ]
    );
    assert_eq!(
        (f.state(), f.direction()),
        (State::OpenSent, Some(Direction::Inbound))
    );
    assert_eq!(
        f.handle(Event::BgpOpen(peer_open())),
        [
            Action::SendKeepalive,
            Action::StartTimer(Timer::Keepalive, secs(30)),
            Action::StartTimer(Timer::Hold, secs(90)),
        ]
    );
    let actions = f.handle(Event::KeepAliveMsg);
    assert!(
        matches!(actions.last(), Some(Action::SessionEstablished(_))),
        "{actions:?}"
    );
    assert_eq!(f.state(), State::Established);
}

#[test]
fn inbound_connection_while_listening_after_a_failed_connect() {
    let mut f = fsm();
    f.handle(Event::ManualStart);
    f.handle(Event::TcpConnectionFails);
    assert_eq!(f.state(), State::Active);
    assert_eq!(
        f.handle(Event::TcpConnectionConfirmed),
        [
            Action::StopTimer(Timer::ConnectRetry),
            Action::SendOpen(local_open()),
            Action::StartTimer(Timer::Hold, secs(240)),
        ]
    );
    assert_eq!(f.direction(), Some(Direction::Inbound));
}

#[test]
fn local_open_carries_the_configured_capabilities_and_hold_time() {
    use bgp_proto::{Capability, Family};
    let caps = vec![
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::RouteRefresh,
    ];
    let f = Fsm::new(FsmConfig {
        capabilities: caps.clone(),
        hold_time: 30,
        ..config()
    })
    .unwrap();
    assert_eq!(f.local_open(), &Open::new(LOCAL_AS, 30, LOCAL_ID, caps));
}

#[test]
fn idle_refuses_connections() {
    let mut f = fsm();
    assert_eq!(
        f.handle(Event::TcpConnectionConfirmed),
        [Action::DropConnection]
    );
    assert_eq!(f.state(), State::Idle);
}

#[test]
fn start_events_are_ignored_once_started() {
    let mut f = open_sent();
    assert_eq!(f.handle(Event::ManualStart), []);
    assert_eq!(f.handle(Event::AutomaticStart), []);
    assert_eq!(f.state(), State::OpenSent);
}

#[test]
fn automatic_start_starts_like_manual_start() {
    let mut f = fsm();
    assert_eq!(
        f.handle(Event::AutomaticStart),
        [
            Action::StartTimer(Timer::ConnectRetry, secs(5)),
            Action::InitiateConnection,
        ]
    );
    assert!(f.is_started());
}

#[test]
fn invalid_configurations_are_refused() {
    let bad = [
        (
            FsmConfig {
                hold_time: 2,
                ..config()
            },
            FsmConfigError::HoldTime(2),
        ),
        (
            FsmConfig {
                router_id: Ipv4Addr::UNSPECIFIED,
                ..config()
            },
            FsmConfigError::RouterId,
        ),
        (
            FsmConfig {
                peer_asn: 0,
                ..config()
            },
            FsmConfigError::ZeroAsn,
        ),
        (
            FsmConfig {
                open_hold_time: Duration::ZERO,
                ..config()
            },
            FsmConfigError::OpenHoldTime,
        ),
        (
            FsmConfig {
                connect_retry: secs(10),
                connect_retry_max: secs(5),
                ..config()
            },
            FsmConfigError::ConnectRetry {
                base: secs(10),
                max: secs(5),
            },
        ),
    ];
    for (config, error) in bad {
        assert_eq!(Fsm::new(config).unwrap_err(), error);
    }
    assert!(
        Fsm::new(FsmConfig {
            hold_time: 0,
            ..config()
        })
        .is_ok()
    );
}

#[test]
fn event_for_message_maps_every_message_kind() {
    use bgp_proto::Message;
    let n = notification(ErrorCode::Cease, 2, &[]);
    assert_eq!(Event::for_message(&Message::Keepalive), Event::KeepAliveMsg);
    assert_eq!(
        Event::for_message(&Message::Notification(n.clone())),
        Event::NotifMsg(n)
    );
    assert_eq!(
        Event::for_message(&Message::Open(peer_open())),
        Event::BgpOpen(peer_open())
    );
    for timer in Timer::ALL {
        assert_eq!(Event::from(timer).timer(), Some(timer));
    }
}

#[test]
fn states_order_as_the_rfc_numbers_them() {
    assert!(State::Idle < State::Connect);
    assert!(State::Active < State::OpenSent);
    assert!(State::OpenConfirm < State::Established);
    assert_eq!(State::OpenConfirm.to_string(), "OpenConfirm");
}
