//! Connection collision detection (RFC 4271 section 6.8, RFC 6286 section 2.3).
//!
//! When both speakers connect at once, each ends up with two connections to the other and
//! both must close the same one. The rule, applied by both sides to the same two BGP
//! Identifiers, keeps the connection opened by the speaker with the higher identifier:
//!
//! - an Established connection always wins over one that is not (RFC 4271 section 6.8);
//! - otherwise, if our identifier is lower we close the connection we initiated
//!   (outbound), if higher the one the peer initiated (inbound);
//! - identical identifiers (allowed between ASes by RFC 6286) keep the connection opened
//!   by the speaker with the larger AS number.
//!
//! [`resolve`] is that rule on plain values; [`place_inbound`] and [`check`] apply it to
//! the two FSMs of one peer, as the peer task drives them (see the [module
//! documentation](super) for the loop).

use std::net::Ipv4Addr;

use super::{Fsm, State};

/// Who opened a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The peer connected to us.
    Inbound,
    /// We connected to the peer.
    Outbound,
}

/// One side of a session, as collision resolution sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Speaker {
    /// BGP Identifier.
    pub bgp_id: Ipv4Addr,
    /// AS number.
    pub asn: u32,
}

/// Decides which of two connections to the same peer to close, given the state of the
/// one the peer opened (`inbound`) and of the one we opened (`outbound`).
///
/// Returns `None` while there is no collision: unless both connections are up (OpenSent
/// or later) there is nothing to choose between. The connection returned is to be closed
/// with Cease / Connection Collision Resolution.
///
/// Identical identifiers and AS numbers cannot be told apart; that is an iBGP session
/// with our own identifier, which the OPEN check already rejects, and this function then
/// closes the inbound connection.
pub fn resolve(
    local: Speaker,
    remote: Speaker,
    inbound: State,
    outbound: State,
) -> Option<Direction> {
    if !inbound.is_connected() || !outbound.is_connected() {
        return None;
    }
    match (
        inbound == State::Established,
        outbound == State::Established,
    ) {
        (true, false) => return Some(Direction::Outbound),
        (false, true) => return Some(Direction::Inbound),
        _ => {}
    }
    let local_wins = (local.bgp_id, local.asn) >= (remote.bgp_id, remote.asn);
    // The winner's connection is the one it initiated.
    Some(if local_wins {
        Direction::Inbound
    } else {
        Direction::Outbound
    })
}

/// Where an accepted inbound connection goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Close it: the peer is stopped or backing off in Idle, or two connections are
    /// already open.
    Refuse,
    /// Give it to the main FSM ([`super::Event::TcpConnectionConfirmed`]): it is listening
    /// in Active with no connection of its own.
    Main,
    /// Give it to a new FSM from [`Fsm::fork`]: the main FSM is connecting or connected,
    /// so the two may collide.
    Second,
}

/// Where to put an inbound connection, given the main FSM and whether a second
/// connection already exists.
pub fn place_inbound(main: &Fsm, second_exists: bool) -> Placement {
    match main.state() {
        State::Idle => Placement::Refuse,
        State::Active => Placement::Main,
        _ if second_exists => Placement::Refuse,
        State::Connect | State::OpenSent | State::OpenConfirm | State::Established => {
            Placement::Second
        }
    }
}

/// Which FSM of a peer keeps its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Survivor {
    /// Keep main; feed `OpenCollisionDump` to the second FSM and drop it.
    Main,
    /// Keep the second connection; feed `OpenCollisionDump` to main, then
    /// [`Fsm::adopt`] the second FSM into it.
    Second,
}

/// Whether the two connections of a peer have been decided between; `None` means keep
/// both for now. Call after every event either FSM handles.
///
/// Beyond [`resolve`] this settles the cases where one side has no connection: a second
/// FSM that closed is dropped, and so is everything when the peer was stopped; a main
/// FSM that lost its connection, or whose connect is still pending when the second
/// connection reaches Established, gives way to the second. Two connections from the
/// same direction (the peer reconnected) keep the newer unless the older is
/// Established.
pub fn check(main: &Fsm, second: &Fsm) -> Option<Survivor> {
    if !main.is_started() || second.state() == State::Idle {
        return Some(Survivor::Main);
    }
    match main.state() {
        State::Idle | State::Active => return Some(Survivor::Second),
        State::Connect if second.state() == State::Established => {
            return Some(Survivor::Second);
        }
        State::Connect => return None,
        State::OpenSent | State::OpenConfirm | State::Established => {}
    }
    let (Some(main_dir), Some(second_dir)) = (main.direction(), second.direction()) else {
        return None;
    };
    if main_dir == second_dir {
        return Some(if main.state() == State::Established {
            Survivor::Main
        } else {
            Survivor::Second
        });
    }
    let remote = main.remote_speaker().or_else(|| second.remote_speaker())?;
    let (inbound, outbound) = match main_dir {
        Direction::Inbound => (main.state(), second.state()),
        Direction::Outbound => (second.state(), main.state()),
    };
    let close = resolve(main.local_speaker(), remote, inbound, outbound)?;
    Some(if close == main_dir {
        Survivor::Second
    } else {
        Survivor::Main
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speaker(id: [u8; 4], asn: u32) -> Speaker {
        Speaker {
            bgp_id: Ipv4Addr::from(id),
            asn,
        }
    }

    #[test]
    fn higher_local_id_keeps_the_outbound_connection() {
        let local = speaker([10, 0, 0, 2], 65001);
        let remote = speaker([10, 0, 0, 1], 65002);
        for (i, o) in [
            (State::OpenConfirm, State::OpenConfirm),
            (State::OpenSent, State::OpenConfirm),
            (State::OpenConfirm, State::OpenSent),
        ] {
            assert_eq!(
                resolve(local, remote, i, o),
                Some(Direction::Inbound),
                "{i} {o}"
            );
        }
    }

    #[test]
    fn lower_local_id_keeps_the_inbound_connection() {
        let local = speaker([10, 0, 0, 1], 65001);
        let remote = speaker([10, 0, 0, 2], 65002);
        let got = resolve(local, remote, State::OpenConfirm, State::OpenConfirm);
        assert_eq!(got, Some(Direction::Outbound));
    }

    #[test]
    fn both_sides_close_the_same_connection() {
        // What is inbound for one speaker is outbound for the other.
        let a = speaker([192, 0, 2, 7], 65001);
        let b = speaker([192, 0, 2, 9], 65002);
        let at_a = resolve(a, b, State::OpenConfirm, State::OpenConfirm);
        let at_b = resolve(b, a, State::OpenConfirm, State::OpenConfirm);
        // a closes its outbound (= b's inbound); b closes its inbound. Same connection.
        assert_eq!(
            (at_a, at_b),
            (Some(Direction::Outbound), Some(Direction::Inbound))
        );
    }

    #[test]
    fn equal_ids_keep_the_connection_of_the_larger_as() {
        let id = [10, 9, 9, 9];
        let (big, small) = (speaker(id, 65010), speaker(id, 65002));
        let (s, s2) = (State::OpenSent, State::OpenConfirm);
        // We have the larger AS: keep the connection we opened, close the inbound.
        assert_eq!(resolve(big, small, s, s2), Some(Direction::Inbound));
        // The peer, with the smaller AS, closes the one it opened: the same connection.
        assert_eq!(resolve(small, big, s2, s), Some(Direction::Outbound));
    }

    #[test]
    fn established_connection_always_survives() {
        // Our id is higher, which would keep the outbound, but the inbound is Established.
        let local = speaker([10, 0, 0, 2], 65001);
        let remote = speaker([10, 0, 0, 1], 65002);
        let got = resolve(local, remote, State::Established, State::OpenConfirm);
        assert_eq!(got, Some(Direction::Outbound));
        let got = resolve(remote, local, State::OpenSent, State::Established);
        assert_eq!(got, Some(Direction::Inbound));
    }

    #[test]
    fn no_collision_without_two_live_connections() {
        let local = speaker([10, 0, 0, 2], 65001);
        let remote = speaker([10, 0, 0, 1], 65002);
        for other in [State::Idle, State::Connect, State::Active] {
            assert_eq!(resolve(local, remote, State::OpenConfirm, other), None);
            assert_eq!(resolve(local, remote, other, State::Established), None);
        }
    }
}
