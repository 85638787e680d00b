//! The peer task: one per configured neighbour. It owns the neighbour's connections
//! (at most two while a collision is being resolved), drives one FSM per connection,
//! runs their timers, and tells the RIB task when the session comes up or goes down.
//!
//! ```text
//!   listener ──PeerCmd::Inbound(stream)──>┐
//!   daemon ────PeerCmd::Start / Stop ────>│
//!                                         v
//!                                   peer task (FSMs, timers)
//!        reader task <─ socket ─>  writer task          ^
//!           │  └─ ReadEvent (OPEN, KEEPALIVE, ...) ─────┘
//!           └─ RibMsg::Updates ──> RIB task ── UPDATE chunks ──> writer task
//! ```

mod conn;
mod graceful;
mod io;
pub mod max_prefix;
mod rules;
pub mod sockopt;
pub mod status;
mod transport;

use std::net::Ipv4Addr;

use bgp_proto::capability::Capability;
use bgp_proto::{Family, Message};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{Instrument, debug, info, info_span, warn};

use self::conn::{Conn, Io};
use self::graceful::GrSession;
use self::io::{Gate, ReadEvent};
use self::status::{PeerCounters, PeerStatus, SessionInfo};
pub use self::transport::Listeners;
use self::transport::Transport;
use crate::config::Neighbor;
use crate::fsm::collision::{self, Placement, Survivor};
use crate::fsm::{Action, Event, Fsm, FsmConfig, FsmConfigError, State, Stop};
use crate::rib::{GrMsg, PeerId, PeerInfo, RibMsg};
use std::sync::Arc;

/// UPDATE chunks queued between the RIB and a writer; with chunks of tens of kilobytes
/// this bounds what a peer that stops reading can hold.
const UPDATE_QUEUE: usize = 2;

/// What a peer task needs to know.
#[derive(Debug, Clone)]
pub struct PeerSpec {
    /// The session id used with the RIB.
    pub id: PeerId,
    /// The neighbour's configuration.
    pub neighbor: Neighbor,
    /// Our AS.
    pub local_asn: u32,
    /// Our router id.
    pub router_id: Ipv4Addr,
    /// The daemon's listening sockets, for the neighbour's TCP MD5 key.
    pub listeners: Listeners,
    /// bgpd has just restarted (graceful restart's Restart State bit).
    pub restarted: bool,
}

impl PeerSpec {
    fn is_ibgp(&self) -> bool {
        self.neighbor.peer_asn == self.local_asn
    }

    fn fsm_config(&self) -> FsmConfig {
        let n = &self.neighbor;
        let local_asn = n.rules.local_as.map_or(self.local_asn, |l| l.asn);
        let mut c = FsmConfig::new(local_asn, self.router_id, n.peer_asn);
        c.passive = n.passive;
        c.hold_time = u16::try_from(n.hold_time.as_secs()).unwrap_or(u16::MAX);
        c.connect_retry = n.connect_retry;
        c.connect_retry_max = c.connect_retry_max.max(n.connect_retry);
        c.capabilities = capabilities(&n.families);
        let gr = &n.session.graceful_restart;
        if gr.enabled {
            c.capabilities
                .extend(graceful::capabilities(gr, self.restarted, &n.families));
        }
        c.capabilities.extend(rules::capabilities(&n.rules));
        c.role_strict = n.rules.role_strict;
        c
    }
}

fn capabilities(families: &[Family]) -> Vec<Capability> {
    let mut caps: Vec<Capability> = families
        .iter()
        .map(|f| Capability::Multiprotocol(*f))
        .collect();
    caps.push(Capability::RouteRefresh);
    caps.push(Capability::ExtendedMessage);
    caps
}

/// Commands to a peer task.
#[derive(Debug)]
pub enum PeerCmd {
    /// An inbound connection from this neighbour.
    Inbound(TcpStream),
    /// Enable the session.
    Start,
    /// Disable the session with this reason.
    Stop(Stop),
    /// Ask the peer to send its routes again (ROUTE-REFRESH for every family in use).
    RefreshIn,
    /// bgpd is stopping: close silently if graceful restart was negotiated (so that the
    /// peer keeps our routes), with a Cease carrying this message otherwise.
    DaemonStop(String),
    /// The RIB's report on the session's prefix count (maximum prefixes).
    PrefixLimit(crate::rib::max_prefix::LimitEvent),
}

/// A running peer task.
#[derive(Debug)]
pub struct PeerHandle {
    /// The session id used with the RIB.
    pub id: PeerId,
    /// Commands to the task.
    pub cmds: mpsc::Sender<PeerCmd>,
    /// The session as operators see it.
    pub status: watch::Receiver<PeerStatus>,
    /// Messages sent and received.
    pub counters: Arc<PeerCounters>,
    /// The task; it ends when `cmds` is dropped.
    pub task: JoinHandle<()>,
}

/// Starts the task of one neighbour.
pub fn spawn(spec: PeerSpec, rib: mpsc::Sender<RibMsg>) -> Result<PeerHandle, FsmConfigError> {
    let fsm = Fsm::new(spec.fsm_config())?;
    let (cmds, cmd_rx) = mpsc::channel(16);
    let mut initial = PeerStatus::new(spec.neighbor.enabled);
    initial.graceful.enabled = spec.neighbor.session.graceful_restart.enabled;
    initial.graceful.restarted = initial.graceful.enabled && spec.restarted;
    let transport = Transport::new(&spec.neighbor, spec.is_ibgp());
    if let Err(e) = transport.listener_keys(&spec.listeners, false) {
        warn!(peer = %spec.neighbor.address, error = %e, "TCP MD5 key refused; inbound connections from this neighbour will fail");
        initial.last_error = Some(format!(
            "TCP MD5 key for neighbor {} refused: {e}",
            spec.neighbor.address
        ));
    }
    let (status_tx, status) = watch::channel(initial);
    let counters = Arc::new(PeerCounters::default());
    let (events_tx, events_rx) = mpsc::channel(64);
    let span = info_span!("peer", peer = %spec.neighbor.address);
    let enabled = spec.neighbor.enabled;
    let id = spec.id;
    let task = PeerTask {
        transport,
        gr: None,
        spec,
        rib,
        main: Conn::new(fsm),
        second: None,
        events_tx,
        connecting: None,
        next_tag: 0,
        status_tx,
        counters: Arc::clone(&counters),
        self_cmds: cmds.downgrade(),
        limit_restart: None,
    };
    let task = tokio::spawn(task.run(cmd_rx, events_rx, enabled).instrument(span));
    Ok(PeerHandle {
        id,
        cmds,
        status,
        counters,
        task,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Main,
    Second,
}

struct PeerTask {
    spec: PeerSpec,
    transport: Transport,
    /// Graceful restart as negotiated on the current (or last) Established session.
    gr: Option<GrSession>,
    rib: mpsc::Sender<RibMsg>,
    main: Conn,
    second: Option<Conn>,
    events_tx: mpsc::Sender<(u64, ReadEvent)>,
    connecting: Option<JoinHandle<std::io::Result<TcpStream>>>,
    next_tag: u64,
    status_tx: watch::Sender<PeerStatus>,
    counters: Arc<PeerCounters>,
    /// This task's own command queue, for the RIB's prefix-limit reports.
    self_cmds: mpsc::WeakSender<PeerCmd>,
    /// When to bring the session back after a prefix-limit teardown.
    limit_restart: Option<Instant>,
}

impl PeerTask {
    async fn run(
        mut self,
        mut cmds: mpsc::Receiver<PeerCmd>,
        mut events: mpsc::Receiver<(u64, ReadEvent)>,
        enabled: bool,
    ) {
        if enabled {
            self.feed(Which::Main, Event::AutomaticStart).await;
        }
        loop {
            let deadline = [
                self.main.next_deadline(),
                self.second.as_ref().and_then(Conn::next_deadline),
                self.limit_restart,
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.on_cmd(cmd).await,
                    None => {
                        self.stop(Stop::Deconfigured).await;
                        break;
                    }
                },
                Some((tag, ev)) = events.recv() => self.on_read(tag, ev).await,
                res = async { match self.connecting.as_mut() {
                    Some(h) => h.await,
                    None => std::future::pending().await,
                } } => {
                    self.connecting = None;
                    self.on_connected(res.unwrap_or_else(|e| Err(std::io::Error::other(e)))).await;
                }
                () = async { match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                } } => self.on_timers().await,
            }
            self.resolve_collision().await;
            let state = match &self.second {
                Some(s) => s.fsm.state().max(self.main.fsm.state()),
                None => self.main.fsm.state(),
            };
            self.status_tx
                .send_if_modified(|s| std::mem::replace(&mut s.state, state) != state);
        }
        if let Some(h) = self.connecting.take() {
            h.abort();
        }
    }

    fn conn(&mut self, which: Which) -> Option<&mut Conn> {
        match which {
            Which::Main => Some(&mut self.main),
            Which::Second => self.second.as_mut(),
        }
    }

    async fn on_cmd(&mut self, cmd: PeerCmd) {
        match cmd {
            PeerCmd::Start => {
                self.cancel_limit_restart();
                self.status_tx.send_modify(|s| s.enabled = true);
                self.feed(Which::Main, Event::ManualStart).await;
            }
            PeerCmd::Stop(stop) => {
                self.cancel_limit_restart();
                self.status_tx.send_modify(|s| s.enabled = false);
                self.stop(stop).await;
            }
            PeerCmd::Inbound(stream) => self.on_inbound(stream).await,
            PeerCmd::RefreshIn => self.refresh_in(),
            PeerCmd::DaemonStop(message) => {
                let established = self.main.fsm.state() == State::Established;
                let gr = self.gr.as_ref().filter(|_| established);
                let stop = graceful::daemon_stop(gr, message);
                if stop == Stop::Silent {
                    info!("bgpd stopping: closing without NOTIFICATION (graceful restart)");
                }
                self.stop(stop).await;
            }
            PeerCmd::PrefixLimit(event) => self.on_prefix_limit(event).await,
        }
    }

    fn refresh_in(&mut self) {
        let Some(neg) = self
            .main
            .fsm
            .negotiated()
            .filter(|_| self.main.fsm.state() == State::Established)
        else {
            return;
        };
        if !neg.route_refresh {
            warn!("soft reset in: the peer does not support route refresh");
            return;
        }
        let families: Vec<Family> = neg.families.clone();
        for family in families {
            self.send(
                Which::Main,
                &Message::RouteRefresh(bgp_proto::RouteRefresh::new(family)),
            );
        }
    }

    async fn stop(&mut self, stop: Stop) {
        if self.second.is_some() {
            self.feed(Which::Second, Event::ManualStop(stop.clone()))
                .await;
        }
        self.feed(Which::Main, Event::ManualStop(stop)).await;
    }

    async fn on_inbound(&mut self, stream: TcpStream) {
        if let Err(e) = self.transport.prepare_inbound(&stream) {
            warn!(error = %e, "inbound connection refused: socket options not set");
            return;
        }
        match collision::place_inbound(&self.main.fsm, self.second.is_some()) {
            Placement::Refuse => debug!(
                "inbound connection refused in state {}",
                self.main.fsm.state()
            ),
            Placement::Main => {
                if let Some(h) = self.connecting.take() {
                    h.abort();
                }
                if self.attach(Which::Main, stream) {
                    self.feed(Which::Main, Event::TcpConnectionConfirmed).await;
                }
            }
            Placement::Second => {
                self.second = Some(Conn::new(self.main.fsm.fork()));
                if self.attach(Which::Second, stream) {
                    self.feed(Which::Second, Event::TcpConnectionConfirmed)
                        .await;
                } else {
                    self.second = None;
                }
            }
        }
    }

    /// Starts the reader and writer of `stream` for the connection `which`.
    fn attach(&mut self, which: Which, stream: TcpStream) -> bool {
        self.next_tag += 1;
        let tag = self.next_tag;
        let (events, rib) = (self.events_tx.clone(), self.rib.clone());
        let counters = Arc::clone(&self.counters);
        let Some(conn) = self.conn(which) else {
            return false;
        };
        match Io::spawn(stream, tag, &conn.fsm, &events, &rib, &counters) {
            Ok(io) => {
                debug!(local = %io.local, remote = %io.remote, "connection up");
                conn.io = Some(io);
                true
            }
            Err(e) => {
                warn!(error = %e, "connection unusable");
                false
            }
        }
    }

    async fn on_connected(&mut self, res: std::io::Result<TcpStream>) {
        match res {
            Ok(stream) if self.main.io.is_none() => {
                if self.attach(Which::Main, stream) {
                    self.feed(Which::Main, Event::TcpCrAcked).await;
                } else {
                    self.feed(Which::Main, Event::TcpConnectionFails).await;
                }
            }
            // An inbound connection was taken meanwhile; this one is surplus.
            Ok(_) => {}
            Err(e) => {
                debug!(error = %e, "connect failed");
                self.feed(Which::Main, Event::TcpConnectionFails).await;
            }
        }
    }

    async fn on_read(&mut self, tag: u64, ev: ReadEvent) {
        let which = if self.main.io.as_ref().is_some_and(|io| io.tag == tag) {
            Which::Main
        } else if self
            .second
            .as_ref()
            .and_then(|s| s.io.as_ref())
            .is_some_and(|io| io.tag == tag)
        {
            Which::Second
        } else {
            return; // a connection already closed
        };
        let event = match ev {
            ReadEvent::Message(m) => {
                if let Message::RouteRefresh(rr) = &m {
                    let established = self
                        .conn(which)
                        .is_some_and(|c| c.fsm.state() == State::Established);
                    if established {
                        let msg = RibMsg::RouteRefresh {
                            peer: self.spec.id,
                            family: rr.family,
                        };
                        let _ = self.rib.send(msg).await;
                    }
                }
                Event::for_message(&m)
            }
            ReadEvent::Updates => Event::UpdateMsg,
            ReadEvent::Malformed(e) => {
                warn!(error = %e, notification = %e.notification(), "malformed message from peer");
                Event::MalformedMessage(e)
            }
            ReadEvent::Closed(why) => {
                debug!(%why, "connection closed");
                Event::TcpConnectionFails
            }
        };
        self.feed(which, event).await;
    }

    async fn on_timers(&mut self) {
        let now = Instant::now();
        for timer in self.main.take_expired(now) {
            self.feed(Which::Main, timer.expired()).await;
        }
        let due = self
            .second
            .as_mut()
            .map(|s| s.take_expired(now))
            .unwrap_or_default();
        for timer in due {
            self.feed(Which::Second, timer.expired()).await;
        }
        self.on_limit_restart(now).await;
    }

    async fn resolve_collision(&mut self) {
        let Some(second) = &self.second else { return };
        match collision::check(&self.main.fsm, &second.fsm) {
            None => {
                if second.fsm.state() == State::Idle && second.io.is_none() {
                    self.second = None;
                }
            }
            Some(Survivor::Main) => {
                info!("connection collision: keeping our connection, closing the other");
                self.feed(Which::Second, Event::OpenCollisionDump).await;
                if let Some(io) = self.second.take().and_then(|mut s| s.io.take()) {
                    io.close().await;
                }
            }
            Some(Survivor::Second) => {
                info!("connection collision: keeping the peer's connection, closing ours");
                self.feed(Which::Main, Event::OpenCollisionDump).await;
                if let Some(mut s) = self.second.take() {
                    if let Some(io) = self.main.io.take() {
                        io.close().await;
                    }
                    self.main.take_socket_and_timers(&mut s);
                    self.main.fsm.adopt(s.fsm);
                }
            }
        }
    }

    /// Feeds `event` to the FSM of `which` and carries out its actions.
    async fn feed(&mut self, which: Which, event: Event) {
        let Some(conn) = self.conn(which) else { return };
        let actions = conn.fsm.handle(event);
        for action in actions {
            self.execute(which, action).await;
        }
    }

    async fn execute(&mut self, which: Which, action: Action) {
        match action {
            Action::InitiateConnection => {
                if which == Which::Main && self.connecting.is_none() && self.main.io.is_none() {
                    let transport = self.transport.clone();
                    self.connecting = Some(tokio::spawn(transport.connect()));
                }
            }
            Action::DropConnection => {
                if which == Which::Main
                    && let Some(h) = self.connecting.take()
                {
                    h.abort();
                }
                if let Some(io) = self.conn(which).and_then(|c| c.io.take()) {
                    io.close().await;
                }
            }
            Action::SendOpen(open) => self.send(which, &Message::Open(open)),
            Action::SendKeepalive => self.send(which, &Message::Keepalive),
            Action::SendNotification(n) => {
                let n = graceful::outgoing(n, self.gr.as_ref());
                info!(notification = %n, "sending NOTIFICATION");
                self.send(which, &Message::Notification(n));
            }
            Action::StartTimer(t, d) => {
                if let Some(c) = self.conn(which) {
                    c.start_timer(t, d);
                }
            }
            Action::StopTimer(t) => {
                if let Some(c) = self.conn(which) {
                    c.stop_timer(t);
                }
            }
            Action::SessionEstablished(neg) => self.established(which, *neg).await,
            Action::SessionDown(reason) => {
                warn!(%reason, "session down");
                self.status_tx.send_modify(|s| {
                    s.session = None;
                    s.last_error = Some(reason.to_string());
                    s.down_reason = true;
                });
                if let Some(io) = self.conn(which).and_then(|c| c.io.as_mut()) {
                    io.stop_reader().await;
                }
                let retained = self
                    .gr
                    .as_ref()
                    .and_then(|g| Some((g.retained(&reason)?, g)));
                let msg = match retained {
                    Some((families, g)) => {
                        info!(
                            restart_time = g.restart_time.as_secs(),
                            "graceful restart: keeping the peer's routes as stale"
                        );
                        RibMsg::Graceful(GrMsg::PeerDown {
                            peer: self.spec.id,
                            families,
                            restart_time: g.restart_time,
                            llgr: g.llgr.clone(),
                            stale_time: self
                                .spec
                                .neighbor
                                .session
                                .graceful_restart
                                .stale_routes_time,
                        })
                    }
                    None => RibMsg::PeerDown { peer: self.spec.id },
                };
                let helping = matches!(msg, RibMsg::Graceful(_));
                self.status_tx.send_modify(|s| s.graceful.helping = helping);
                self.gr = None;
                let _ = self.rib.send(msg).await;
            }
            Action::AttemptFailed(reason) => {
                debug!(%reason, "attempt failed");
                let silent = matches!(
                    reason,
                    crate::fsm::DownReason::ConnectionFailed
                        | crate::fsm::DownReason::ConnectTimedOut
                );
                let reason = match self.transport.silence_hint().filter(|_| silent) {
                    Some(hint) => format!("{reason} ({hint})"),
                    None => reason.to_string(),
                };
                // Why the session went down says more than the retries that follow.
                self.status_tx.send_if_modified(|s| {
                    let keep = s.session.is_none() && s.down_reason;
                    if !keep {
                        s.last_error = Some(reason.clone());
                    }
                    !keep
                });
            }
        }
    }

    fn send(&mut self, which: Which, message: &Message) {
        if let Some(io) = self.conn(which).and_then(|c| c.io.as_ref()) {
            io.send(message);
        }
    }

    async fn established(&mut self, which: Which, neg: bgp_proto::Negotiated) {
        let spec = &self.spec;
        let Some(io) = (match which {
            Which::Main => self.main.io.as_ref(),
            Which::Second => self.second.as_ref().and_then(|s| s.io.as_ref()),
        }) else {
            return;
        };
        let families: Vec<Family> = neg
            .families
            .iter()
            .copied()
            .filter(|f| spec.neighbor.families.contains(f))
            .collect();
        let info = PeerInfo {
            id: spec.id,
            addr: spec.neighbor.address,
            local_addr: io.local.ip(),
            asn: neg.peer_asn,
            router_id: neg.peer_bgp_id,
            ibgp: spec.is_ibgp(),
            rr_client: spec.neighbor.route_reflector_client,
            families: families.clone(),
            encode: neg.encode.clone(),
            llgr: neg.peer_llgr.is_some(),
            rules: Arc::new(spec.neighbor.rules.clone()),
            peer_cmds: Some(self.self_cmds.clone()),
            route_server_client: spec.neighbor.route_server_client,
            soft_in: spec.neighbor.soft_reconfiguration_inbound,
        };
        info!(
            peer_as = neg.peer_asn,
            router_id = %neg.peer_bgp_id,
            hold_time = neg.hold_time,
            families = %family_list(&families),
            "session established"
        );
        let session = SessionInfo {
            peer_router_id: neg.peer_bgp_id,
            peer_asn: neg.peer_asn,
            hold_time: neg.hold_time,
            keepalive: neg.keepalive,
            families: families.clone(),
            four_octet_as: neg.encode.four_octet_as,
            route_refresh: neg.route_refresh,
            extended_message: neg.encode.extended_message,
            local: io.local,
            peer_role: neg.peer_role,
            add_path_send: neg.encode.add_path.clone(),
            add_path_receive: neg.decode.add_path.clone(),
            since: Instant::now(),
        };
        let gr = GrSession::negotiate(
            &spec.neighbor.session.graceful_restart,
            neg.peer_graceful_restart.as_ref(),
            neg.peer_llgr.as_ref(),
            &families,
        );
        let graceful_up = GrMsg::PeerUp {
            peer: spec.id,
            preserved: gr
                .as_ref()
                .map(|g| g.forwarding.clone())
                .unwrap_or_default(),
            graceful: gr.is_some(),
            peer_restarted: gr.as_ref().is_some_and(|g| g.peer_restarted),
            families: families.clone(),
        };
        let (tx, rx) = mpsc::channel(UPDATE_QUEUE);
        io.attach_updates(rx);
        self.status_tx.send_modify(|s| {
            s.session = Some(session);
            s.down_reason = false;
            s.graceful.negotiated = gr.is_some();
            s.graceful.notification = gr.as_ref().is_some_and(|g| g.notification);
            s.graceful.peer_restart_time = gr
                .as_ref()
                .map_or(0, |g| u32::try_from(g.restart_time.as_secs()).unwrap_or(0));
            s.graceful.peer_restarted = gr.as_ref().is_some_and(|g| g.peer_restarted);
            s.graceful.helping = false;
            s.prefix_limit.warning.clear();
        });
        let _ = self.rib.send(RibMsg::PeerUp { info, out: tx }).await;
        let _ = self.rib.send(RibMsg::Graceful(graceful_up)).await;
        let _ = io.gate.send(Gate::Open(spec.id));
        self.gr = gr;
    }
}

/// Removes the TCP MD5 key of `neighbor` from the listeners. The control task calls it
/// when it removes the neighbour, before it may add it again with a new key.
pub fn remove_listener_keys(neighbor: &Neighbor, local_asn: u32, listeners: &Listeners) {
    let transport = Transport::new(neighbor, neighbor.is_ibgp(local_asn));
    let _ = transport.listener_keys(listeners, true);
}

/// Families as operators write them: "ipv4-unicast ipv6-unicast".
pub fn family_list(families: &[Family]) -> String {
    families
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}
