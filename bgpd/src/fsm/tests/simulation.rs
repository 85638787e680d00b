//! Two speakers connect to each other at the same time, each driving its FSMs exactly as
//! the module documentation tells the peer task to. Messages travel through an in-memory
//! network. Both must end with one Established session on the same connection: the one
//! opened by the speaker that collision resolution favours.

use std::collections::VecDeque;

use super::*;
use crate::fsm::collision::{Placement, Survivor, check, place_inbound};

/// A connection between the two speakers, opened by `opener`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Conn {
    id: usize,
    opener: usize,
}

#[derive(Debug)]
struct Slot {
    fsm: Fsm,
    conn: Option<Conn>,
}

#[derive(Debug)]
struct Speaker {
    main: Slot,
    second: Option<Slot>,
    /// A connect started by InitiateConnection and not completed yet.
    connecting: bool,
    established_on: Vec<usize>,
    downs: usize,
    /// The connections each NOTIFICATION was sent on.
    notifications_on: Vec<usize>,
}

#[derive(Debug)]
struct Net {
    speakers: [Speaker; 2],
    /// (to speaker, connection, event)
    queue: VecDeque<(usize, usize, Event)>,
    next_conn: usize,
}

impl Net {
    fn new(a: FsmConfig, b: FsmConfig) -> Net {
        let speaker = |config| Speaker {
            main: Slot {
                fsm: Fsm::new(config).unwrap(),
                conn: None,
            },
            second: None,
            connecting: false,
            established_on: Vec::new(),
            downs: 0,
            notifications_on: Vec::new(),
        };
        Net {
            speakers: [speaker(a), speaker(b)],
            queue: VecDeque::new(),
            next_conn: 0,
        }
    }

    fn slot(&mut self, who: usize, conn: usize) -> Option<&mut Slot> {
        let s = &mut self.speakers[who];
        if s.main.conn.map(|c| c.id) == Some(conn) {
            return Some(&mut s.main);
        }
        s.second
            .as_mut()
            .filter(|slot| slot.conn.map(|c| c.id) == Some(conn))
    }

    /// Feeds `event` to the FSM of `who` holding `conn` (or main if `conn` is None).
    fn feed(&mut self, who: usize, conn: Option<usize>, event: Event) {
        let is_second =
            conn.is_some_and(|id| self.speakers[who].main.conn.map(|c| c.id) != Some(id));
        let slot = match conn {
            None => Some(&mut self.speakers[who].main),
            Some(id) => self.slot(who, id),
        };
        // Messages for a connection this speaker no longer holds are lost with it.
        let Some(slot) = slot else { return };
        let actions = slot.fsm.handle(event);
        self.run(who, is_second, actions);
        self.resolve(who);
    }

    fn run(&mut self, who: usize, is_second: bool, actions: Vec<Action>) {
        let other = 1 - who;
        for action in actions {
            let s = &mut self.speakers[who];
            let slot = if is_second {
                s.second.as_mut()
            } else {
                Some(&mut s.main)
            };
            let Some(slot) = slot else { return };
            let conn = slot.conn;
            match action {
                Action::InitiateConnection => s.connecting = true,
                Action::DropConnection => {
                    if let Some(c) = slot.conn.take() {
                        self.queue
                            .push_back((other, c.id, Event::TcpConnectionFails));
                    } else {
                        s.connecting = false;
                    }
                }
                Action::SendOpen(open) => self.send(other, conn, Event::BgpOpen(open)),
                Action::SendKeepalive => self.send(other, conn, Event::KeepAliveMsg),
                Action::SendNotification(n) => {
                    assert_eq!(n, notification(ErrorCode::Cease, 7, &[]));
                    s.notifications_on.extend(conn.map(|c| c.id));
                    self.send(other, conn, Event::NotifMsg(n));
                }
                Action::SessionEstablished(_) => {
                    let id = conn.map(|c| c.id).unwrap();
                    s.established_on.push(id);
                }
                Action::SessionDown(_) => s.downs += 1,
                Action::StartTimer(..) | Action::StopTimer(_) | Action::AttemptFailed(_) => {}
            }
        }
    }

    fn send(&mut self, to: usize, conn: Option<Conn>, event: Event) {
        let conn = conn.expect("a message needs a connection");
        self.queue.push_back((to, conn.id, event));
    }

    /// The collision step of the module documentation.
    fn resolve(&mut self, who: usize) {
        let s = &mut self.speakers[who];
        let Some(second) = s.second.as_ref() else {
            return;
        };
        match check(&s.main.fsm, &second.fsm) {
            None => {}
            Some(Survivor::Main) => {
                let mut second = s.second.take().unwrap();
                let actions = second.fsm.handle(Event::OpenCollisionDump);
                s.second = Some(second);
                self.run(who, true, actions);
                self.speakers[who].second = None;
            }
            Some(Survivor::Second) => {
                let actions = s.main.fsm.handle(Event::OpenCollisionDump);
                self.run(who, false, actions);
                let s = &mut self.speakers[who];
                let second = s.second.take().unwrap();
                s.main.fsm.adopt(second.fsm);
                s.main.conn = second.conn;
            }
        }
    }

    /// `opener`'s pending connect completes; the other speaker accepts it.
    fn complete_connect(&mut self, opener: usize) {
        assert!(self.speakers[opener].connecting);
        self.speakers[opener].connecting = false;
        let conn = Conn {
            id: self.next_conn,
            opener,
        };
        self.next_conn += 1;
        // The accepting side first, as the SYN-ACK reaches the opener last.
        let acceptor = 1 - opener;
        let s = &mut self.speakers[acceptor];
        match place_inbound(&s.main.fsm, s.second.is_some()) {
            Placement::Refuse => {
                self.queue
                    .push_back((opener, conn.id, Event::TcpConnectionFails));
            }
            Placement::Main => {
                s.main.conn = Some(conn);
                self.feed(acceptor, Some(conn.id), Event::TcpConnectionConfirmed);
            }
            Placement::Second => {
                s.second = Some(Slot {
                    fsm: s.main.fsm.fork(),
                    conn: Some(conn),
                });
                self.feed(acceptor, Some(conn.id), Event::TcpConnectionConfirmed);
            }
        }
        self.speakers[opener].main.conn = Some(conn);
        self.feed(opener, Some(conn.id), Event::TcpCrAcked);
    }

    fn drain(&mut self) {
        let mut steps = 0;
        while let Some((to, conn, event)) = self.queue.pop_front() {
            self.feed(to, Some(conn), event);
            steps += 1;
            assert!(steps < 1000, "no convergence");
        }
    }

    /// Both start, both connects complete before any message is exchanged, then the
    /// network delivers everything.
    fn simultaneous_open(a: FsmConfig, b: FsmConfig) -> Net {
        let mut net = Net::new(a, b);
        net.feed(0, None, Event::ManualStart);
        net.feed(1, None, Event::ManualStart);
        net.complete_connect(0);
        net.complete_connect(1);
        net.drain();
        net
    }

    fn assert_single_session_on_connection_opened_by(&self, winner: usize) {
        for (i, s) in self.speakers.iter().enumerate() {
            assert_eq!(s.main.fsm.state(), State::Established, "speaker {i}");
            assert!(s.second.is_none(), "speaker {i} still has two connections");
            let conn = s.main.conn.unwrap();
            assert_eq!(conn.opener, winner, "speaker {i} kept the wrong connection");
            assert_eq!(s.established_on, [conn.id], "speaker {i}");
            assert_eq!(s.downs, 0, "speaker {i}");
        }
        let direction = |i: usize| self.speakers[i].main.fsm.direction();
        let (w, l) = (winner, 1 - winner);
        assert_eq!(direction(w), Some(Direction::Outbound));
        assert_eq!(direction(l), Some(Direction::Inbound));
        // Cease / Connection Collision Resolution went out on the losing connection only.
        let kept = self.speakers[0].main.conn.map(|c| c.id);
        let sent: Vec<usize> = self
            .speakers
            .iter()
            .flat_map(|s| s.notifications_on.iter().copied())
            .collect();
        assert!(
            !sent.is_empty() && sent.iter().all(|c| Some(*c) != kept),
            "{sent:?}"
        );
    }
}

fn speaker(asn: u32, id: [u8; 4], peer_asn: u32) -> FsmConfig {
    FsmConfig::new(asn, Ipv4Addr::from(id), peer_asn)
}

#[test]
fn simultaneous_open_keeps_the_connection_of_the_higher_identifier() {
    let a = speaker(65001, [10, 0, 0, 1], 65002);
    let b = speaker(65002, [10, 0, 0, 2], 65001);
    Net::simultaneous_open(a.clone(), b.clone()).assert_single_session_on_connection_opened_by(1);
    // Same ids, the other way round.
    Net::simultaneous_open(b, a).assert_single_session_on_connection_opened_by(0);
}

#[test]
fn simultaneous_open_with_equal_identifiers_keeps_the_larger_as_connection() {
    let a = speaker(65001, [10, 0, 0, 7], 65009);
    let b = speaker(65009, [10, 0, 0, 7], 65001);
    Net::simultaneous_open(a, b).assert_single_session_on_connection_opened_by(1);
}

#[test]
fn simultaneous_open_ibgp() {
    let a = speaker(65000, [192, 0, 2, 20], 65000);
    let b = speaker(65000, [192, 0, 2, 10], 65000);
    Net::simultaneous_open(a, b).assert_single_session_on_connection_opened_by(0);
}

#[test]
fn one_sided_open_needs_no_resolution() {
    let a = speaker(65001, [10, 0, 0, 1], 65002);
    let b = FsmConfig {
        passive: true,
        ..speaker(65002, [10, 0, 0, 2], 65001)
    };
    let mut net = Net::new(a, b);
    net.feed(0, None, Event::ManualStart);
    net.feed(1, None, Event::ManualStart);
    net.complete_connect(0);
    net.drain();
    for s in &net.speakers {
        assert_eq!(s.main.fsm.state(), State::Established);
        assert_eq!(s.main.conn.map(|c| c.opener), Some(0));
        assert!(s.notifications_on.is_empty());
    }
}
