//! Validation of the peer's OPEN: each problem gets the NOTIFICATION of RFC 4271 section
//! 6.2 (with RFC 6286 and RFC 9234), the connection closes and the peer backs off.

use bgp_proto::Capability;
use bgp_proto::capability::Role;
use bgp_proto::notification::open_subcode;

use super::*;

/// Feeds `peer` to an FSM in OpenSent built from `config` and asserts the rejection.
fn assert_rejected(config: FsmConfig, peer: Open, problem: OpenProblem, sent: Notification) {
    let mut f = open_sent_with(config);
    let reason = DownReason::OpenRejected {
        problem,
        sent: sent.clone(),
    };
    assert_eq!(
        f.handle(Event::BgpOpen(peer)),
        [
            Action::SendNotification(sent),
            Action::DropConnection,
            Action::StopTimer(Timer::Hold),
            Action::AttemptFailed(reason.clone()),
            Action::StartTimer(Timer::IdleHold, secs(10)),
        ]
    );
    assert_eq!(f.state(), State::Idle);
    assert_eq!(f.remote_open(), None);
    assert_eq!(f.last_down_reason(), Some(&reason));
}

#[test]
fn bad_peer_as_sends_the_announced_two_octet_as() {
    let peer = Open::new(65003, 90, PEER_ID, vec![]);
    let problem = OpenProblem::BadPeerAs {
        expected: PEER_AS,
        announced: 65003,
    };
    let sent = notification(
        ErrorCode::Open,
        open_subcode::BAD_PEER_AS,
        &65003u16.to_be_bytes(),
    );
    assert_rejected(config(), peer, problem.clone(), sent.clone());
    assert_eq!(
        DownReason::OpenRejected { problem, sent }.to_string(),
        "OPEN rejected, peer announced AS 65003 but AS 65002 is configured; \
         sent NOTIFICATION: OPEN message error / bad peer AS"
    );
}

#[test]
fn bad_peer_as_sends_a_four_octet_as_that_does_not_fit_two() {
    let peer = Open::new(4_200_000_001, 90, PEER_ID, vec![]);
    let problem = OpenProblem::BadPeerAs {
        expected: PEER_AS,
        announced: 4_200_000_001,
    };
    let data = 4_200_000_001u32.to_be_bytes();
    let sent = notification(ErrorCode::Open, open_subcode::BAD_PEER_AS, &data);
    assert_rejected(config(), peer, problem, sent);
}

#[test]
fn four_octet_peer_as_is_read_from_the_capability() {
    let config = FsmConfig {
        peer_asn: 4_200_000_001,
        ..config()
    };
    let peer = Open::new(4_200_000_001, 90, PEER_ID, vec![]);
    assert_eq!(peer.my_as, bgp_proto::open::AS_TRANS);
    let f = open_confirm_with(config, peer);
    assert_eq!(f.remote_speaker().map(|s| s.asn), Some(4_200_000_001));
}

#[test]
fn two_octet_only_peer_is_accepted_by_my_as() {
    let mut peer = peer_open();
    peer.params.clear(); // no 4-octet AS capability
    let f = open_confirm_with(config(), peer);
    assert_eq!(f.negotiated().map(|n| n.encode.four_octet_as), Some(false));
}

#[test]
fn ibgp_peer_with_our_identifier_is_a_bad_bgp_identifier() {
    let config = FsmConfig {
        peer_asn: LOCAL_AS,
        ..config()
    };
    let peer = Open::new(LOCAL_AS, 90, LOCAL_ID, vec![]);
    let sent = notification(ErrorCode::Open, open_subcode::BAD_BGP_IDENTIFIER, &[]);
    let problem = OpenProblem::BadBgpIdentifier(LOCAL_ID);
    assert_eq!(
        problem.to_string(),
        "peer's BGP identifier 10.0.0.1 is our own; iBGP peers need distinct identifiers"
    );
    assert_rejected(config, peer, problem, sent);
}

#[test]
fn ebgp_peer_may_share_our_identifier() {
    // RFC 6286 section 2.2: identifiers need only be unique within an AS.
    let peer = Open::new(PEER_AS, 90, LOCAL_ID, vec![]);
    open_confirm_with(config(), peer);
}

#[test]
fn zero_identifier_is_a_bad_bgp_identifier() {
    let mut peer = peer_open();
    peer.bgp_id = Ipv4Addr::UNSPECIFIED;
    let sent = notification(ErrorCode::Open, open_subcode::BAD_BGP_IDENTIFIER, &[]);
    assert_rejected(
        config(),
        peer,
        OpenProblem::BadBgpIdentifier(Ipv4Addr::UNSPECIFIED),
        sent,
    );
}

#[test]
fn hold_time_of_one_or_two_seconds_is_unacceptable() {
    for hold in [1, 2] {
        let peer = Open::new(PEER_AS, hold, PEER_ID, vec![]);
        let sent = notification(ErrorCode::Open, open_subcode::UNACCEPTABLE_HOLD_TIME, &[]);
        assert_rejected(
            config(),
            peer,
            OpenProblem::UnacceptableHoldTime(hold),
            sent,
        );
    }
}

#[test]
fn peer_as_is_checked_before_hold_time_and_identifier() {
    // RFC 4271 section 6.2 order: AS, then hold time, then identifier.
    let mut peer = Open::new(65099, 1, PEER_ID, vec![]);
    peer.bgp_id = Ipv4Addr::UNSPECIFIED;
    let problem = OpenProblem::BadPeerAs {
        expected: PEER_AS,
        announced: 65099,
    };
    let sent = notification(
        ErrorCode::Open,
        open_subcode::BAD_PEER_AS,
        &65099u16.to_be_bytes(),
    );
    assert_rejected(config(), peer, problem, sent);
}

#[test]
fn mismatched_bgp_roles_are_rejected() {
    let config = FsmConfig {
        capabilities: vec![Capability::Role(Role::Provider)],
        ..config()
    };
    let peer = Open::new(PEER_AS, 90, PEER_ID, vec![Capability::Role(Role::Peer)]);
    let sent = notification(ErrorCode::Open, open_subcode::ROLE_MISMATCH, &[]);
    assert_rejected(config, peer, OpenProblem::RoleMismatch, sent);
}

#[test]
fn strict_role_mode_rejects_a_peer_without_a_role() {
    let config = FsmConfig {
        capabilities: vec![Capability::Role(Role::Customer)],
        role_strict: true,
        ..config()
    };
    let peer = Open::new(PEER_AS, 90, PEER_ID, vec![]);
    let sent = notification(ErrorCode::Open, open_subcode::ROLE_MISMATCH, &[]);
    assert_rejected(config.clone(), peer, OpenProblem::RoleMismatch, sent);
    // Without strict mode a missing role is accepted.
    let lax = FsmConfig {
        role_strict: false,
        ..config.clone()
    };
    open_confirm_with(lax, Open::new(PEER_AS, 90, PEER_ID, vec![]));
    // With the right role, strict mode accepts.
    let peer = Open::new(PEER_AS, 90, PEER_ID, vec![Capability::Role(Role::Provider)]);
    open_confirm_with(config, peer);
}

#[test]
fn matching_bgp_roles_are_accepted() {
    let config = FsmConfig {
        capabilities: vec![Capability::Role(Role::Provider)],
        ..config()
    };
    let peer = Open::new(PEER_AS, 90, PEER_ID, vec![Capability::Role(Role::Customer)]);
    open_confirm_with(config, peer);
}

#[test]
fn open_rejected_after_failures_backs_off_further() {
    let mut f = open_sent();
    f.handle(Event::BgpOpen(Open::new(1, 90, PEER_ID, vec![])));
    f.handle(Event::IdleHoldTimerExpires);
    f.handle(Event::TcpCrAcked);
    let actions = f.handle(Event::BgpOpen(Open::new(1, 90, PEER_ID, vec![])));
    assert_eq!(
        actions.last(),
        Some(&Action::StartTimer(Timer::IdleHold, secs(20)))
    );
}
