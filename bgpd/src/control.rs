//! The control task: the registry of peers, changed at runtime by the API and by reloads
//! of the configuration file. It owns the peer handles; the listeners read its dispatch
//! map (address -> peer task) through a watch channel, and peer state changes are
//! forwarded to watchers on a broadcast channel.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::config::{self, Config, Neighbor};
use crate::fsm::{State, Stop};
use crate::peer::status::PeerStatus;
use crate::peer::{self, PeerCmd, PeerHandle, PeerSpec};
use crate::rib::{LocalIdentity, PeerId, RibMsg};

mod policy;

pub use self::policy::{PolicyReply, PolicyRequest, SoftAction};

/// Where a peer's settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The TOML file.
    Config,
    /// The API.
    Api,
}

impl Source {
    /// "config" or "api".
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Api => "api",
        }
    }
}

/// A peer state change, for watchers.
#[derive(Debug, Clone)]
pub struct PeerEvent {
    /// The neighbour.
    pub address: IpAddr,
    /// State before.
    pub old: State,
    /// State now.
    pub new: State,
    /// The last error, when the session went down.
    pub reason: Option<String>,
}

/// One peer as the API shows it.
#[derive(Debug, Clone)]
pub struct PeerSnapshot {
    /// Session id inside the daemon.
    pub id: PeerId,
    /// Settings.
    pub neighbor: Neighbor,
    /// Where the settings came from.
    pub source: Source,
    /// Session status.
    pub status: PeerStatus,
    /// OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH sent.
    pub sent: [u64; 5],
    /// The same, received.
    pub received: [u64; 5],
}

/// What an operator asks of one peer.
#[derive(Debug, Clone)]
pub enum PeerAction {
    /// Enable.
    Enable,
    /// Disable with a shutdown message.
    Disable(Option<String>),
    /// Cease / Administrative Reset, then start again.
    HardReset(Option<String>),
    /// Ask the peer to resend its routes.
    SoftIn,
    /// Resend ours.
    SoftOut,
}

/// Errors of control requests; the API maps them to status codes.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No peer with that address.
    #[error("no neighbor {0}")]
    NoSuchPeer(IpAddr),
    /// A peer with that address exists.
    #[error("neighbor {0} already exists")]
    PeerExists(IpAddr),
    /// The peer's settings are not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The request does not fit the daemon's state.
    #[error("{0}")]
    Precondition(String),
    /// The configuration file has errors; nothing was changed.
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    /// No such set or policy.
    #[error("{0}")]
    NotFound(String),
}

/// What a reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Neighbours added.
    pub added: Vec<IpAddr>,
    /// Neighbours removed.
    pub removed: Vec<IpAddr>,
    /// Neighbours whose settings changed.
    pub changed: Vec<IpAddr>,
    /// Of those, the ones whose session was reset.
    pub reset: Vec<IpAddr>,
    /// Originated prefixes added.
    pub originated_added: usize,
    /// Originated prefixes removed.
    pub originated_removed: usize,
    /// Neighbours whose policy changed, and what that took.
    pub policy: Vec<(IpAddr, SoftAction)>,
}

/// The daemon's identity as the API shows it.
#[derive(Debug, Clone)]
pub struct GlobalSnapshot {
    /// Our AS.
    pub asn: u32,
    /// Our router id.
    pub router_id: Ipv4Addr,
    /// Peers configured.
    pub peers: usize,
    /// Peers Established.
    pub established: usize,
    /// Base ConnectRetry time for peers that do not set their own.
    pub connect_retry: std::time::Duration,
}

/// Requests to the control task.
#[derive(Debug)]
pub enum ControlMsg {
    /// Add a peer.
    AddPeer(
        Box<Neighbor>,
        Source,
        oneshot::Sender<Result<(), ControlError>>,
    ),
    /// Change a peer; answers whether the session was reset.
    UpdatePeer(Box<Neighbor>, oneshot::Sender<Result<bool, ControlError>>),
    /// Remove a peer.
    DeletePeer(IpAddr, oneshot::Sender<Result<(), ControlError>>),
    /// Act on a peer.
    Peer(
        IpAddr,
        PeerAction,
        oneshot::Sender<Result<(), ControlError>>,
    ),
    /// Every peer.
    Peers(oneshot::Sender<Vec<PeerSnapshot>>),
    /// Identity and counts.
    Global(oneshot::Sender<GlobalSnapshot>),
    /// Change ASN and/or router id (only without peers).
    SetGlobal(
        Option<u32>,
        Option<Ipv4Addr>,
        oneshot::Sender<Result<(), ControlError>>,
    ),
    /// Re-read the configuration file.
    Reload(oneshot::Sender<Result<ReloadReport, ControlError>>),
    /// Change or list policies.
    Policy(
        PolicyRequest,
        oneshot::Sender<Result<PolicyReply, ControlError>>,
    ),
    /// Stop every peer with this message, and stop.
    Shutdown(String, oneshot::Sender<()>),
}

struct Entry {
    handle: PeerHandle,
    neighbor: Neighbor,
    source: Source,
}

pub(crate) struct Control {
    config: Config,
    config_path: Option<PathBuf>,
    peers: HashMap<IpAddr, Entry>,
    dispatch: watch::Sender<Arc<HashMap<IpAddr, mpsc::Sender<PeerCmd>>>>,
    next_id: PeerId,
    rib: mpsc::Sender<RibMsg>,
    peer_events: broadcast::Sender<PeerEvent>,
    /// The running policy definitions: the file's, plus API changes.
    policy: crate::policy::PolicyConfig,
    /// What the RIB runs.
    engine: Arc<crate::policy::Engine>,
    /// Set during a reload: policy is installed once, at its end.
    defer_policy: bool,
    env: PeerEnv,
}

/// What every peer task shares: the listening sockets (for TCP MD5 keys) and whether
/// bgpd has just restarted (graceful restart).
#[derive(Debug, Clone, Default)]
pub struct PeerEnv {
    /// Duplicates of the BGP listening sockets.
    pub listeners: crate::peer::Listeners,
    /// bgpd has just restarted.
    pub restarted: bool,
}

impl Control {
    pub(crate) fn new(
        config: Config,
        config_path: Option<PathBuf>,
        rib: mpsc::Sender<RibMsg>,
        peer_events: broadcast::Sender<PeerEvent>,
        dispatch: watch::Sender<Arc<HashMap<IpAddr, mpsc::Sender<PeerCmd>>>>,
        env: PeerEnv,
    ) -> Self {
        Control {
            policy: config.policy.clone(),
            engine: Arc::default(),
            defer_policy: false,
            config,
            config_path,
            peers: HashMap::new(),
            dispatch,
            next_id: 1,
            rib,
            peer_events,
            env,
        }
    }

    /// Starts the configured peers, then serves requests until a shutdown.
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<ControlMsg>) {
        // Policies reach the RIB before any session can come up.
        let file = self.config.neighbors.iter().map(|n| (n.address, &n.policy));
        if let Ok(engine) = crate::policy::Engine::compile(&self.policy, file) {
            self.engine = Arc::new(engine);
            let _ = self
                .rib
                .send(RibMsg::SetPolicy(Arc::clone(&self.engine)))
                .await;
        }
        for n in self.config.neighbors.clone() {
            if let Err(e) = self.add(n, Source::Config) {
                warn!(error = %e, "neighbor not started");
            }
        }
        if self.env.restarted {
            let peers = self
                .peers
                .values()
                .filter(|e| e.neighbor.session.graceful_restart.enabled)
                .map(|e| e.handle.id)
                .collect();
            let max = self.config.graceful_restart.selection_deferral_time;
            let _ = self
                .rib
                .send(RibMsg::Graceful(crate::rib::GrMsg::Defer { peers, max }))
                .await;
        }
        while let Some(msg) = rx.recv().await {
            match msg {
                ControlMsg::AddPeer(n, source, reply) => {
                    // A neighbour without policy settings gets the global defaults
                    // without a recompile.
                    let assigned = n.policy != crate::policy::Assignment::default();
                    let r = match self.check_assignment(&n) {
                        Ok(()) => self.add(*n, source),
                        Err(e) => Err(e),
                    };
                    if r.is_ok() && assigned {
                        let _ = self.install_policy().await;
                    }
                    let _ = reply.send(r);
                }
                ControlMsg::Policy(req, reply) => {
                    let _ = reply.send(self.policy_request(req).await);
                }
                ControlMsg::UpdatePeer(n, reply) => {
                    let _ = reply.send(self.update(*n).await);
                }
                ControlMsg::DeletePeer(addr, reply) => {
                    let r = match self.peers.contains_key(&addr) {
                        true => {
                            self.remove(addr, Stop::Deconfigured).await;
                            Ok(())
                        }
                        false => Err(ControlError::NoSuchPeer(addr)),
                    };
                    let _ = reply.send(r);
                }
                ControlMsg::Peer(addr, action, reply) => {
                    let _ = reply.send(self.act(addr, action).await);
                }
                ControlMsg::Peers(reply) => {
                    let _ = reply.send(self.snapshots());
                }
                ControlMsg::Global(reply) => {
                    let established = self
                        .peers
                        .values()
                        .filter(|e| e.handle.status.borrow().state == State::Established)
                        .count();
                    let _ = reply.send(GlobalSnapshot {
                        asn: self.config.global.asn,
                        router_id: self.config.global.router_id,
                        peers: self.peers.len(),
                        established,
                        connect_retry: self.config.global.connect_retry,
                    });
                }
                ControlMsg::SetGlobal(asn, router_id, reply) => {
                    let _ = reply.send(self.set_global(asn, router_id).await);
                }
                ControlMsg::Reload(reply) => {
                    let r = self.reload().await;
                    match &r {
                        Ok(report) => info!(?report, "configuration reloaded"),
                        Err(e) => warn!("configuration not reloaded; the running one stays:\n{e}"),
                    }
                    let _ = reply.send(r);
                }
                ControlMsg::Shutdown(message, reply) => {
                    // Graceful-restart sessions close silently so that peers keep our routes.
                    for e in self.peers.values() {
                        let _ = e
                            .handle
                            .cmds
                            .send(PeerCmd::DaemonStop(message.clone()))
                            .await;
                    }
                    let addrs: Vec<IpAddr> = self.peers.keys().copied().collect();
                    let mut tasks = Vec::new();
                    for addr in addrs {
                        if let Some(t) = self.remove(addr, Stop::shutdown(message.clone())).await {
                            tasks.push(t);
                        }
                    }
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(3),
                        futures::future::join_all(tasks),
                    )
                    .await;
                    let _ = reply.send(());
                    return;
                }
            }
        }
    }

    fn publish_dispatch(&self) {
        let map = self
            .peers
            .iter()
            .map(|(a, e)| (*a, e.handle.cmds.clone()))
            .collect();
        self.dispatch.send_replace(Arc::new(map));
    }

    fn add(&mut self, neighbor: Neighbor, source: Source) -> Result<(), ControlError> {
        let addr = neighbor.address;
        if self.peers.contains_key(&addr) {
            return Err(ControlError::PeerExists(addr));
        }
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        let spec = PeerSpec {
            id,
            neighbor: neighbor.clone(),
            local_asn: self.config.global.asn,
            router_id: self.config.global.router_id,
            listeners: Arc::clone(&self.env.listeners),
            restarted: self.env.restarted,
        };
        let handle = peer::spawn(spec, self.rib.clone())
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
        tokio::spawn(forward_state(
            addr,
            handle.status.clone(),
            self.peer_events.clone(),
        ));
        info!(peer = %addr, asn = neighbor.peer_asn, source = source.as_str(), "neighbor added");
        self.peers.insert(
            addr,
            Entry {
                handle,
                neighbor,
                source,
            },
        );
        self.publish_dispatch();
        Ok(())
    }

    /// Stops and forgets a peer; returns its task to wait for.
    async fn remove(&mut self, addr: IpAddr, stop: Stop) -> Option<JoinHandle<()>> {
        let entry = self.peers.remove(&addr)?;
        self.publish_dispatch();
        peer::remove_listener_keys(&entry.neighbor, self.config.global.asn, &self.env.listeners);
        let _ = entry.handle.cmds.send(PeerCmd::Stop(stop)).await;
        info!(peer = %addr, "neighbor removed");
        // Dropping the handle's sender ends the task after the stop.
        Some(entry.handle.task)
    }

    async fn update(&mut self, new: Neighbor) -> Result<bool, ControlError> {
        let addr = new.address;
        let Some(entry) = self.peers.get_mut(&addr) else {
            return Err(ControlError::NoSuchPeer(addr));
        };
        let old = entry.neighbor.clone();
        if old == new {
            return Ok(false);
        }
        self.check_assignment(&new)?;
        let Some(entry) = self.peers.get_mut(&addr) else {
            return Err(ControlError::NoSuchPeer(addr));
        };
        // Settings that do not touch the session: applied in place.
        let mut cmp = new.clone();
        cmp.description.clone_from(&old.description);
        cmp.enabled = old.enabled;
        cmp.policy.clone_from(&old.policy);
        if cmp == old {
            entry.neighbor = new.clone();
            if old.policy != new.policy && !self.defer_policy {
                self.install_policy().await?;
            }
            let Some(entry) = self.peers.get_mut(&addr) else {
                return Ok(false);
            };
            if old.enabled != new.enabled {
                let cmd = if new.enabled {
                    PeerCmd::Start
                } else {
                    PeerCmd::Stop(Stop::Shutdown(None))
                };
                let _ = entry.handle.cmds.send(cmd).await;
            }
            return Ok(false);
        }
        let source = entry.source;
        info!(peer = %addr, "neighbor settings changed; restarting its session");
        if let Some(task) = self
            .remove(addr, Stop::Reset(Some("configuration changed".into())))
            .await
        {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), task).await;
        }
        self.add(new, source)?;
        if !self.defer_policy {
            self.install_policy().await?;
        }
        Ok(true)
    }

    async fn act(&mut self, addr: IpAddr, action: PeerAction) -> Result<(), ControlError> {
        let entry = self
            .peers
            .get_mut(&addr)
            .ok_or(ControlError::NoSuchPeer(addr))?;
        let cmds = entry.handle.cmds.clone();
        let established = entry.handle.status.borrow().state == State::Established;
        let id = entry.handle.id;
        match action {
            PeerAction::Enable => {
                entry.neighbor.enabled = true;
                let _ = cmds.send(PeerCmd::Start).await;
            }
            PeerAction::Disable(message) => {
                entry.neighbor.enabled = false;
                let _ = cmds.send(PeerCmd::Stop(Stop::Shutdown(message))).await;
            }
            PeerAction::HardReset(message) => {
                let _ = cmds.send(PeerCmd::Stop(Stop::Reset(message))).await;
                let _ = cmds.send(PeerCmd::Start).await;
            }
            PeerAction::SoftIn => {
                if !established {
                    return Err(ControlError::Precondition(format!(
                        "neighbor {addr} is not established"
                    )));
                }
                let _ = cmds.send(PeerCmd::RefreshIn).await;
            }
            PeerAction::SoftOut => {
                if !established {
                    return Err(ControlError::Precondition(format!(
                        "neighbor {addr} is not established"
                    )));
                }
                let families = self
                    .peers
                    .get(&addr)
                    .map(|e| e.neighbor.families.clone())
                    .unwrap_or_default();
                for family in families {
                    let _ = self
                        .rib
                        .send(RibMsg::RouteRefresh { peer: id, family })
                        .await;
                }
            }
        }
        Ok(())
    }

    fn snapshots(&self) -> Vec<PeerSnapshot> {
        let mut out: Vec<PeerSnapshot> = self
            .peers
            .values()
            .map(|e| PeerSnapshot {
                id: e.handle.id,
                neighbor: e.neighbor.clone(),
                source: e.source,
                status: e.handle.status.borrow().clone(),
                sent: e.handle.counters.sent.snapshot(),
                received: e.handle.counters.received.snapshot(),
            })
            .collect();
        out.sort_by_key(|s| s.neighbor.address);
        out
    }

    async fn set_global(
        &mut self,
        asn: Option<u32>,
        router_id: Option<Ipv4Addr>,
    ) -> Result<(), ControlError> {
        if !self.peers.is_empty() {
            return Err(ControlError::Precondition(
                "the ASN and router id can only change while there are no neighbors".into(),
            ));
        }
        if let Some(asn) = asn {
            if asn == 0 || asn == 23456 {
                return Err(ControlError::Invalid(format!("asn: {asn} is reserved")));
            }
            self.config.global.asn = asn;
        }
        if let Some(id) = router_id {
            if id.is_unspecified() {
                return Err(ControlError::Invalid(
                    "router_id: 0.0.0.0 is not a valid router id".into(),
                ));
            }
            self.config.global.router_id = id;
        }
        let g = &self.config.global;
        let identity = LocalIdentity {
            asn: g.asn,
            router_id: g.router_id,
            cluster_id: g.cluster_id,
        };
        let _ = self.rib.send(RibMsg::SetIdentity(identity)).await;
        info!(asn = g.asn, router_id = %g.router_id, "global settings changed");
        Ok(())
    }

    async fn reload(&mut self) -> Result<ReloadReport, ControlError> {
        let path = self.config_path.clone().ok_or_else(|| {
            ControlError::Precondition("bgpd was started without a configuration file".into())
        })?;
        let new = config::load(&path)?;
        let (old_g, new_g) = (&self.config.global, &new.global);
        for (key, changed) in [
            ("global.asn", old_g.asn != new_g.asn),
            ("global.router_id", old_g.router_id != new_g.router_id),
            ("global.cluster_id", old_g.cluster_id != new_g.cluster_id),
            ("global.listen", old_g.listen != new_g.listen),
            ("api", self.config.api != new.api),
            ("metrics", self.config.metrics != new.metrics),
        ] {
            if changed {
                return Err(ControlError::Precondition(format!(
                    "{}: {key} changed; restart bgpd to apply it (nothing was reloaded)",
                    path.display()
                )));
            }
        }
        for n in &new.neighbors {
            if self
                .peers
                .get(&n.address)
                .is_some_and(|e| e.source == Source::Api)
            {
                return Err(ControlError::Precondition(format!(
                    "{}: neighbor {} is already configured through the API (nothing was reloaded)",
                    path.display(),
                    n.address
                )));
            }
        }
        // The file's policy replaces the running one when the file changed it; either way
        // every neighbour's names must resolve before anything changes.
        let policy = if new.policy == self.config.policy {
            self.policy.clone()
        } else {
            new.policy.clone()
        };
        let mut assignments: Vec<(IpAddr, &crate::policy::Assignment)> = new
            .neighbors
            .iter()
            .map(|n| (n.address, &n.policy))
            .collect();
        for (a, e) in &self.peers {
            if e.source == Source::Api {
                assignments.push((*a, &e.neighbor.policy));
            }
        }
        if let Err(errors) = crate::policy::Engine::compile(&policy, assignments) {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(ControlError::Precondition(format!(
                "{}: the policies do not fit the neighbors configured through the API (nothing \
                 was reloaded): {}",
                path.display(),
                text.join("; ")
            )));
        }
        self.policy = policy;
        self.defer_policy = true;
        let result = self.reload_peers(&new).await;
        self.defer_policy = false;
        let mut report = result?;
        report.policy = self.install_policy().await?;
        for v in [
            &mut report.added,
            &mut report.removed,
            &mut report.changed,
            &mut report.reset,
        ] {
            v.sort();
        }
        self.config = new;
        Ok(report)
    }

    /// The neighbour and origination part of a reload.
    async fn reload_peers(&mut self, new: &Config) -> Result<ReloadReport, ControlError> {
        let mut report = ReloadReport::default();
        let file_peers: Vec<IpAddr> = self
            .peers
            .iter()
            .filter(|(_, e)| e.source == Source::Config)
            .map(|(a, _)| *a)
            .collect();
        for addr in file_peers {
            if new.neighbor(addr).is_none() {
                self.remove(addr, Stop::Deconfigured).await;
                report.removed.push(addr);
            }
        }
        for n in &new.neighbors {
            match self.peers.get(&n.address) {
                None => {
                    self.add(n.clone(), Source::Config)?;
                    report.added.push(n.address);
                }
                // Compared with the old file, not with the running state: what the API
                // changed on a file's peer (disabled, described) stays unless the file
                // itself changed that peer.
                Some(_) if self.config.neighbor(n.address) != Some(n) => {
                    report.changed.push(n.address);
                    if self.update(n.clone()).await? {
                        report.reset.push(n.address);
                    }
                }
                Some(_) => {}
            }
        }
        let old_prefixes: Vec<_> = self.config.originate.iter().map(|o| o.prefix).collect();
        let new_prefixes: Vec<_> = new.originate.iter().map(|o| o.prefix).collect();
        report.originated_added = new_prefixes
            .iter()
            .filter(|p| !old_prefixes.contains(p))
            .count();
        report.originated_removed = old_prefixes
            .iter()
            .filter(|p| !new_prefixes.contains(p))
            .count();
        if new.originate != self.config.originate {
            let routes = new
                .originate
                .iter()
                .map(crate::daemon::local_route)
                .collect();
            let _ = self.rib.send(RibMsg::SetOriginated(routes)).await;
        }
        Ok(report)
    }
}

/// Forwards the state changes of one peer to watchers until the peer task ends.
async fn forward_state(
    address: IpAddr,
    mut status: watch::Receiver<PeerStatus>,
    events: broadcast::Sender<PeerEvent>,
) {
    let mut last = status.borrow().state;
    while status.changed().await.is_ok() {
        let (new, reason) = {
            let s = status.borrow();
            (s.state, s.last_error.clone())
        };
        if new != last {
            let _ = events.send(PeerEvent {
                address,
                old: last,
                new,
                reason,
            });
            last = new;
        }
    }
}
