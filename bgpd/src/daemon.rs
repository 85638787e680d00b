//! The daemon: binds the listeners, starts the RIB task and one peer task per neighbour,
//! dispatches inbound connections, and shuts everything down in order.
//!
//! Task drawing (who sends what to whom):
//!
//! ```text
//!   listener tasks ──PeerCmd::Inbound──> peer tasks (one per neighbour, own FSMs/timers)
//!                                          │    │ reader task: RibMsg::Updates ──┐
//!   daemon ──RibMsg::SetOriginated───┐     │    └ writer task <── UPDATE chunks ─┤
//!                                    v     v                                      │
//!                                 RIB task <── RibMsg::PeerUp / PeerDown ─────────┘
//!                (Adj-RIB-In, Loc-RIB, best path, per-peer export; bounded channels)
//!   control task ──RibMsg::SetPolicy (compiled policies)──> RIB task
//!        └──PeerCmd::RefreshIn (an import policy changed)──> peer tasks
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bgp_proto::PathAttributes;
use bgp_proto::attr::{AttrValue, Communities, LargeCommunities};
use socket2::{Domain, Protocol, Socket, Type};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::config::{self, Config};
use crate::control::{Control, ControlError, ControlMsg, PeerEvent, ReloadReport};
use crate::peer::PeerCmd;
use crate::rib::{
    self, BestRoute, EventSender, LocalIdentity, LocalRoute, Rib, RibMsg, RibOptions,
};

/// Messages queued to the RIB task (each may carry hundreds of UPDATEs).
const RIB_QUEUE: usize = 64;
/// How long peers get to send their Cease at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Why the daemon could not start.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The metrics endpoint could not be bound.
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The API could not be served.
    #[error("API: {0}")]
    Api(#[from] crate::api::ApiError),
}

/// What the API and tests use to reach the daemon's tasks. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DaemonHandle {
    /// The RIB task.
    pub rib: mpsc::Sender<RibMsg>,
    /// The control task.
    pub control: mpsc::Sender<ControlMsg>,
    /// Best-path change batches.
    pub events: EventSender,
    /// Peer state changes.
    pub peer_events: broadcast::Sender<PeerEvent>,
    /// Changes at every start.
    pub instance_id: String,
    /// When this instance started.
    pub started: Instant,
    /// The BGP listen addresses.
    pub listen: Vec<SocketAddr>,
    /// Time the RIB spends per batch of received messages.
    pub update_latency: prometheus_client::metrics::histogram::Histogram,
}

impl DaemonHandle {
    /// Sends a request to the control task and waits for its answer.
    pub async fn control<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> ControlMsg,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.control.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Sends a request to the RIB task and waits for its answer.
    pub async fn rib<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RibMsg) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.rib.send(make(tx)).await.ok()?;
        rx.await.ok()
    }
}

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    handle: DaemonHandle,
    listeners: Vec<tokio::task::JoinHandle<()>>,
    api: crate::api::Served,
    metrics: Option<SocketAddr>,
    control_task: tokio::task::JoinHandle<()>,
    state_file: Option<PathBuf>,
}

impl Daemon {
    /// Starts everything `config` describes. `config_path` is re-read on reload.
    pub async fn start_from(
        config: &Config,
        config_path: Option<PathBuf>,
    ) -> Result<Daemon, DaemonError> {
        let g = &config.global;
        let opts = RibOptions {
            local: LocalIdentity {
                asn: g.asn,
                router_id: g.router_id,
                cluster_id: g.cluster_id,
            },
            decision: rib::bestpath::Options {
                always_compare_med: g.always_compare_med,
            },
            multipath: g.multipath,
        };
        let mut sockets = Vec::new();
        for addr in &g.listen {
            sockets.push(bind(*addr).map_err(|source| DaemonError::Listen {
                addr: *addr,
                source,
            })?);
        }
        let (rib_tx, rib_rx) = mpsc::channel(RIB_QUEUE);
        let rib = Rib::new(opts);
        let events = rib.events();
        let update_latency = rib.latency();
        tokio::spawn(rib.run(rib_rx));
        let routes = config.originate.iter().map(local_route).collect();
        let _ = rib_tx.send(RibMsg::SetOriginated(routes)).await;

        let gr = &config.graceful_restart;
        let state_file = gr.state_file_path(config.api.socket.as_deref());
        let restarted = state_file
            .as_deref()
            .is_some_and(|f| crate::restart::check(f, gr.defaults.restart_time));
        let env = crate::control::PeerEnv {
            listeners: Arc::new(
                sockets
                    .iter()
                    .filter_map(|l| socket2::SockRef::from(l).try_clone().ok())
                    .collect(),
            ),
            restarted,
        };
        let (dispatch_tx, dispatch_rx) = watch::channel(Arc::new(HashMap::new()));
        let peer_events = broadcast::channel(1024).0;
        let (control_tx, control_rx) = mpsc::channel(64);
        let control = Control::new(
            config.clone(),
            config_path,
            rib_tx.clone(),
            peer_events.clone(),
            dispatch_tx,
            env,
        );
        let control_task = tokio::spawn(control.run(control_rx));

        let mut listeners = Vec::new();
        let mut local_addrs = Vec::new();
        for listener in sockets {
            if let Ok(a) = listener.local_addr() {
                info!(addr = %a, "listening for BGP connections");
                local_addrs.push(a);
            }
            listeners.push(tokio::spawn(accept_loop(listener, dispatch_rx.clone())));
        }
        if let Some(file) = state_file.clone() {
            listeners.push(tokio::spawn(crate::restart::keep_alive(file)));
        }
        let handle = DaemonHandle {
            rib: rib_tx,
            control: control_tx,
            events,
            peer_events,
            instance_id: instance_id(),
            started: Instant::now(),
            listen: local_addrs,
            update_latency,
        };
        let api = match crate::api::serve(&handle, &config.api).await {
            Ok(api) => api,
            Err(e) => {
                for l in &listeners {
                    l.abort();
                }
                let _ = handle
                    .control(|tx| ControlMsg::Shutdown(String::new(), tx))
                    .await;
                return Err(DaemonError::Api(e));
            }
        };
        let mut metrics = None;
        if let Some(addr) = config.metrics.listen {
            match crate::metrics::serve(addr, handle.clone()).await {
                Ok((bound, task)) => {
                    metrics = Some(bound);
                    listeners.push(task);
                }
                Err(source) => {
                    for l in &listeners {
                        l.abort();
                    }
                    let _ = handle
                        .control(|tx| ControlMsg::Shutdown(String::new(), tx))
                        .await;
                    return Err(DaemonError::Metrics { addr, source });
                }
            }
        }
        Ok(Daemon {
            handle,
            listeners,
            api,
            control_task,
            metrics,
            state_file,
        })
    }

    /// Starts a daemon from a configuration without a file behind it (no reload).
    pub async fn start(config: &Config) -> Result<Daemon, DaemonError> {
        Self::start_from(config, None).await
    }

    /// The TCP addresses the API is served on.
    pub fn api_addrs(&self) -> &[SocketAddr] {
        &self.api.tcp
    }

    /// Where the metrics are served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
    }

    /// The handle the API uses.
    pub fn handle(&self) -> &DaemonHandle {
        &self.handle
    }

    /// The addresses the listeners are bound to (useful with port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.handle.listen
    }

    /// A copy of the Loc-RIB's best routes.
    pub async fn best_routes(&self) -> Vec<BestRoute> {
        self.handle.rib(RibMsg::Dump).await.unwrap_or_default()
    }

    /// Replaces the locally originated routes.
    pub async fn set_originated(&self, routes: Vec<LocalRoute>) {
        let _ = self.handle.rib.send(RibMsg::SetOriginated(routes)).await;
    }

    /// The session state of the neighbour at `addr`.
    pub async fn peer_state(&self, addr: IpAddr) -> Option<crate::fsm::State> {
        let peers = self.handle.control(ControlMsg::Peers).await?;
        peers
            .into_iter()
            .find(|p| p.neighbor.address == addr)
            .map(|p| p.status.state)
    }

    /// Re-reads the configuration file.
    pub async fn reload(&self) -> Result<ReloadReport, ControlError> {
        self.handle
            .control(ControlMsg::Reload)
            .await
            .unwrap_or_else(|| Err(ControlError::Precondition("bgpd is shutting down".into())))
    }

    /// Sends every peer a Cease (Administrative Shutdown with `message`) and stops.
    pub async fn shutdown(self, message: &str) {
        for task in self.listeners.iter().chain(&self.api.tasks) {
            task.abort();
        }
        if let Some(path) = &self.api.socket {
            let _ = std::fs::remove_file(path);
        }
        let _ = self
            .handle
            .control(|tx| ControlMsg::Shutdown(message.to_string(), tx))
            .await;
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.control_task).await;
        if let Some(file) = &self.state_file {
            crate::restart::touch(file);
        }
        // Give writers a moment to flush the NOTIFICATIONs.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A random identifier for this start of the daemon.
fn instance_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Runs the daemon until `signal` resolves, reloading the configuration file on SIGHUP.
pub async fn run(
    config: &Config,
    path: Option<PathBuf>,
    signal: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let daemon = Daemon::start_from(config, path).await?;
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                info!("SIGHUP: reloading the configuration");
                // The control task logs the outcome.
                let _ = daemon.reload().await;
            }
        }
    }
    info!("shutting down");
    daemon.shutdown("bgpd shutting down").await;
    Ok(())
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        // Separate IPv4 and IPv6 listeners, so that both may bind the same port.
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

async fn accept_loop(
    listener: TcpListener,
    peers: watch::Receiver<Arc<HashMap<IpAddr, mpsc::Sender<PeerCmd>>>>,
) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = match from.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let peer = peers.borrow().get(&ip).cloned();
        match peer {
            Some(tx) => {
                if tx.send(PeerCmd::Inbound(stream)).await.is_err() {
                    debug!(%from, "peer task gone; connection dropped");
                }
            }
            None => {
                info!(%from, "connection from an address that is not a configured neighbor; closed")
            }
        }
    }
}

/// The RIB's view of a configured `[[originate]]` entry.
pub fn local_route(o: &config::Originate) -> LocalRoute {
    let mut attrs = PathAttributes::new().with(AttrValue::Origin(o.origin));
    if !o.communities.is_empty() {
        attrs = attrs.with(AttrValue::Communities(Communities::new(
            o.communities.iter().copied(),
        )));
    }
    if !o.large_communities.is_empty() {
        let l = LargeCommunities::new(o.large_communities.iter().copied());
        attrs = attrs.with(AttrValue::LargeCommunities(l));
    }
    if let Some(med) = o.med {
        attrs = attrs.with(AttrValue::Med(med));
    }
    if let Some(lp) = o.local_pref {
        attrs = attrs.with(AttrValue::LocalPref(lp));
    }
    LocalRoute {
        prefix: o.prefix,
        attrs,
        next_hop: o.next_hop,
    }
}
