//! Two connections to one peer: where inbound connections go, which one survives, and
//! what the loser sends.

use bgp_proto::notification::cease_subcode;

use super::*;
use crate::fsm::collision::{Placement, Survivor, check, place_inbound};

fn collision_cease() -> Notification {
    notification(ErrorCode::Cease, cease_subcode::CONNECTION_COLLISION, &[])
}

/// Main with an outbound connection in `main_state` (OpenSent, OpenConfirm or
/// Established) and a second, inbound one in OpenSent; our identifier is `local_id`.
fn pair(local_id: Ipv4Addr, main_state: State) -> (Fsm, Fsm) {
    let config = FsmConfig {
        router_id: local_id,
        ..config()
    };
    let mut main = open_sent_with(config);
    if main_state >= State::OpenConfirm {
        main.handle(Event::BgpOpen(peer_open()));
    }
    if main_state == State::Established {
        main.handle(Event::KeepAliveMsg);
    }
    assert_eq!(main.state(), main_state);
    assert_eq!(place_inbound(&main, false), Placement::Second);
    let mut second = main.fork();
    assert_eq!(
        second.handle(Event::TcpConnectionConfirmed),
        [
            Action::SendOpen(main.local_open().clone()),
            Action::StartTimer(Timer::Hold, secs(240)),
        ]
    );
    (main, second)
}

#[test]
fn inbound_placement_follows_the_main_state() {
    let mut f = fsm();
    assert_eq!(place_inbound(&f, false), Placement::Refuse, "stopped");
    f.handle(Event::ManualStart);
    assert_eq!(
        place_inbound(&f, false),
        Placement::Second,
        "connect pending"
    );
    assert_eq!(
        place_inbound(&f, true),
        Placement::Refuse,
        "two connections already"
    );
    f.handle(Event::TcpConnectionFails);
    assert_eq!(place_inbound(&f, false), Placement::Main, "listening");
    assert_eq!(place_inbound(&established(), false), Placement::Second);
    let mut backing_off = established();
    backing_off.handle(Event::TcpConnectionFails);
    assert_eq!(
        place_inbound(&backing_off, false),
        Placement::Refuse,
        "IdleHold"
    );
}

#[test]
fn undecided_until_an_open_names_the_peer() {
    let (main, second) = pair(Ipv4Addr::new(10, 0, 0, 9), State::OpenSent);
    assert_eq!(check(&main, &second), None);
}

#[test]
fn higher_local_id_keeps_main_outbound_and_dumps_the_inbound() {
    let (main, mut second) = pair(Ipv4Addr::new(10, 0, 0, 9), State::OpenConfirm);
    assert_eq!(check(&main, &second), Some(Survivor::Main));
    // The second connection learns the same identifier: same answer.
    second.handle(Event::BgpOpen(peer_open()));
    assert_eq!(check(&main, &second), Some(Survivor::Main));
    assert_eq!(
        second.handle(Event::OpenCollisionDump),
        [
            Action::SendNotification(collision_cease()),
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
            Action::StopTimer(Timer::Keepalive),
        ]
    );
    assert_eq!(second.state(), State::Idle);
}

#[test]
fn lower_local_id_gives_way_to_the_peers_connection() {
    // 10.0.0.1 < the peer's 10.0.0.2: keep the connection the peer opened.
    let (mut main, mut second) = pair(LOCAL_ID, State::OpenConfirm);
    second.handle(Event::BgpOpen(peer_open()));
    assert_eq!(check(&main, &second), Some(Survivor::Second));
    let failures = main.backoff().failures();
    // The loser sends Cease / Connection Collision Resolution; it is no failure.
    assert_eq!(
        main.handle(Event::OpenCollisionDump),
        [
            Action::SendNotification(collision_cease()),
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
            Action::StopTimer(Timer::Keepalive),
        ]
    );
    assert_eq!(main.backoff().failures(), failures);
    main.adopt(second);
    assert_eq!(
        (main.state(), main.direction()),
        (State::OpenConfirm, Some(Direction::Inbound))
    );
    assert!(main.is_timer_running(Timer::Hold) && main.is_timer_running(Timer::Keepalive));
    // The adopted connection comes up as main, which keeps the peer's lifecycle.
    let actions = main.handle(Event::KeepAliveMsg);
    assert!(matches!(
        actions.last(),
        Some(Action::SessionEstablished(_))
    ));
    assert!(main.is_started());
    let down = main.handle(Event::TcpConnectionFails);
    assert!(
        down.contains(&Action::StartTimer(Timer::IdleHold, secs(10))),
        "{down:?}"
    );
}

#[test]
fn established_connection_survives_a_new_one_whatever_the_ids() {
    // Our identifier is lower, which would favour the inbound connection.
    let (main, mut second) = pair(LOCAL_ID, State::Established);
    assert_eq!(check(&main, &second), Some(Survivor::Main));
    assert_eq!(
        second.handle(Event::OpenCollisionDump),
        [
            Action::SendNotification(collision_cease()),
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
        ]
    );
}

#[test]
fn dumping_an_established_connection_reports_the_session_down() {
    let mut f = established();
    let actions = f.handle(Event::OpenCollisionDump);
    assert_eq!(
        actions.last(),
        Some(&Action::SessionDown(DownReason::CollisionResolution))
    );
    assert!(!f.is_timer_running(Timer::IdleHold));
}

#[test]
fn pending_connect_waits_unless_the_inbound_is_established() {
    let mut main = fsm();
    main.handle(Event::ManualStart);
    let mut second = main.fork();
    second.handle(Event::TcpConnectionConfirmed);
    second.handle(Event::BgpOpen(peer_open()));
    // Our connect might still complete and collide: keep both.
    assert_eq!(check(&main, &second), None);
    second.handle(Event::KeepAliveMsg);
    assert_eq!(check(&main, &second), Some(Survivor::Second));
    // Dumping main abandons its connect and its retry timer.
    assert_eq!(
        main.handle(Event::OpenCollisionDump),
        [
            Action::DropConnection,
            Action::StopTimer(Timer::ConnectRetry),
        ]
    );
    main.adopt(second);
    assert_eq!(main.state(), State::Established);
}

#[test]
fn failed_connect_gives_way_to_the_inbound_connection() {
    let mut main = fsm();
    main.handle(Event::ManualStart);
    let mut second = main.fork();
    second.handle(Event::TcpConnectionConfirmed);
    main.handle(Event::TcpConnectionFails);
    assert_eq!(check(&main, &second), Some(Survivor::Second));
    assert_eq!(
        main.handle(Event::OpenCollisionDump),
        [Action::StopTimer(Timer::ConnectRetry)]
    );
}

#[test]
fn a_closed_second_connection_is_dropped_and_never_retries() {
    let (main, mut second) = pair(LOCAL_ID, State::OpenSent);
    let n = notification(ErrorCode::Cease, cease_subcode::CONNECTION_REJECTED, &[]);
    let reason = DownReason::NotificationReceived(n.clone());
    assert_eq!(
        second.handle(Event::NotifMsg(n)),
        [
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
            Action::AttemptFailed(reason),
        ]
    );
    assert_eq!(check(&main, &second), Some(Survivor::Main));
    assert_eq!(second.handle(Event::OpenCollisionDump), []);
}

#[test]
fn forked_fsm_never_initiates() {
    let mut second = established().fork();
    assert_eq!(second.handle(Event::ManualStart), []);
    assert_eq!(second.handle(Event::AutomaticStart), []);
    assert_eq!(second.state(), State::Active);
}

#[test]
fn stopped_peer_drops_the_second_connection() {
    let (mut main, mut second) = pair(LOCAL_ID, State::OpenSent);
    let stop = Stop::shutdown("bye");
    let closed = [
        Action::SendNotification(stop.notification().unwrap()),
        Action::DropConnection,
        Action::StopTimer(Timer::Hold),
    ];
    // Both connections get the operator's Cease, the second first.
    assert_eq!(second.handle(Event::ManualStop(stop.clone())), closed);
    assert_eq!(main.handle(Event::ManualStop(stop)), closed);
    assert_eq!(check(&main, &second), Some(Survivor::Main));
    assert_eq!(second.handle(Event::OpenCollisionDump), []);
}

#[test]
fn reconnection_from_the_same_direction_keeps_the_newer_unless_established() {
    let mut main = Fsm::new(FsmConfig {
        passive: true,
        ..config()
    })
    .unwrap();
    main.handle(Event::ManualStart);
    main.handle(Event::TcpConnectionConfirmed);
    let mut second = main.fork();
    second.handle(Event::TcpConnectionConfirmed);
    assert_eq!(check(&main, &second), Some(Survivor::Second));

    let mut main = established_with(
        FsmConfig {
            passive: true,
            ..config()
        },
        peer_open(),
    );
    let mut second = main.fork();
    second.handle(Event::TcpConnectionConfirmed);
    assert_eq!(check(&main, &second), Some(Survivor::Main));
    // Unchanged main after the second connection is gone.
    assert_eq!(
        main.handle(Event::KeepAliveMsg),
        [Action::StartTimer(Timer::Hold, secs(90))]
    );
}

#[test]
fn equal_identifiers_between_ases_keep_the_larger_as_connection() {
    // Same identifier as the peer (allowed for eBGP); our AS 65001 < the peer's 65002, so
    // the connection the peer opened survives.
    let peer = Open::new(PEER_AS, 90, LOCAL_ID, vec![]);
    let mut main = open_sent();
    main.handle(Event::BgpOpen(peer.clone()));
    let second = main.fork();
    let mut second = second;
    second.handle(Event::TcpConnectionConfirmed);
    assert_eq!(check(&main, &second), Some(Survivor::Second));

    // With our AS the larger one, ours survives.
    let config = FsmConfig {
        local_asn: 65100,
        ..config()
    };
    let mut main = open_sent_with(config);
    main.handle(Event::BgpOpen(peer));
    let mut second = main.fork();
    second.handle(Event::TcpConnectionConfirmed);
    assert_eq!(check(&main, &second), Some(Survivor::Main));
}
