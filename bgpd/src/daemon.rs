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
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bgp_proto::PathAttributes;
use bgp_proto::attr::{self as wire_attr, AttrValue, Communities, LargeCommunities};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::config::{self, Config};
use crate::fsm::{FsmConfigError, Stop};
use crate::peer::{self, PeerCmd, PeerHandle, PeerSpec};
use crate::rib::{self, BestRoute, LocalIdentity, LocalRoute, Rib, RibMsg, RibOptions};

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
    /// A neighbour's settings are not acceptable to the session FSM.
    #[error("neighbor {addr}: {source}")]
    Neighbor {
        /// The neighbour.
        addr: IpAddr,
        /// Why.
        source: FsmConfigError,
    },
}

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    rib: mpsc::Sender<RibMsg>,
    peers: HashMap<IpAddr, PeerHandle>,
    listeners: Vec<tokio::task::JoinHandle<()>>,
    local_addrs: Vec<SocketAddr>,
}

impl Daemon {
    /// Starts everything `config` describes.
    pub async fn start(config: &Config) -> Result<Daemon, DaemonError> {
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
        tokio::spawn(Rib::new(opts).run(rib_rx));

        let mut peers = HashMap::new();
        for (i, n) in config.neighbors.iter().enumerate() {
            let spec = PeerSpec {
                id: u32::try_from(i + 1).unwrap_or(u32::MAX),
                neighbor: n.clone(),
                local_asn: g.asn,
                router_id: g.router_id,
            };
            let handle =
                peer::spawn(spec, rib_tx.clone()).map_err(|source| DaemonError::Neighbor {
                    addr: n.address,
                    source,
                })?;
            peers.insert(n.address, handle);
        }
        let routes = config.originate.iter().map(local_route).collect();
        let _ = rib_tx.send(RibMsg::SetOriginated(routes)).await;

        let dispatch: HashMap<IpAddr, mpsc::Sender<PeerCmd>> =
            peers.iter().map(|(a, h)| (*a, h.cmds.clone())).collect();
        let mut listeners = Vec::new();
        let mut local_addrs = Vec::new();
        for listener in sockets {
            if let Ok(a) = listener.local_addr() {
                info!(addr = %a, "listening for BGP connections");
                local_addrs.push(a);
            }
            listeners.push(tokio::spawn(accept_loop(listener, dispatch.clone())));
        }
        Ok(Daemon {
            rib: rib_tx,
            peers,
            listeners,
            local_addrs,
        })
    }

    /// The addresses the listeners are bound to (useful with port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// A copy of the Loc-RIB's best routes.
    pub async fn best_routes(&self) -> Vec<BestRoute> {
        let (tx, rx) = oneshot::channel();
        if self.rib.send(RibMsg::Dump(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Replaces the locally originated routes.
    pub async fn set_originated(&self, routes: Vec<LocalRoute>) {
        let _ = self.rib.send(RibMsg::SetOriginated(routes)).await;
    }

    /// The session state of the neighbour at `addr`.
    pub fn peer_state(&self, addr: IpAddr) -> Option<crate::fsm::State> {
        self.peers.get(&addr).map(|h| *h.state.borrow())
    }

    /// Sends every peer a Cease (Administrative Shutdown with `message`) and stops.
    pub async fn shutdown(self, message: &str) {
        for l in &self.listeners {
            l.abort();
        }
        for h in self.peers.values() {
            let _ = h
                .cmds
                .send(PeerCmd::Stop(Stop::Shutdown(Some(message.to_string()))))
                .await;
        }
        let tasks: Vec<_> = self.peers.into_values().map(|h| h.task).collect();
        // Dropping the command senders (moved into the handles) ends the tasks once
        // their Cease is on its way.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, futures::future::join_all(tasks)).await;
        // Give writers a moment to flush the NOTIFICATIONs.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs the daemon until `signal` resolves, then shuts down.
pub async fn run(config: &Config, signal: impl Future<Output = ()>) -> Result<(), DaemonError> {
    let daemon = Daemon::start(config).await?;
    signal.await;
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

async fn accept_loop(listener: TcpListener, peers: HashMap<IpAddr, mpsc::Sender<PeerCmd>>) {
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
        match peers.get(&ip) {
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
    let origin = match o.origin {
        config::Origin::Igp => wire_attr::Origin::Igp,
        config::Origin::Egp => wire_attr::Origin::Egp,
        config::Origin::Incomplete => wire_attr::Origin::Incomplete,
    };
    let mut attrs = PathAttributes::new().with(AttrValue::Origin(origin));
    if !o.communities.is_empty() {
        let c = Communities::new(o.communities.iter().map(|c| wire_attr::Community(c.0)));
        attrs = attrs.with(AttrValue::Communities(c));
    }
    if !o.large_communities.is_empty() {
        let l =
            LargeCommunities::new(
                o.large_communities
                    .iter()
                    .map(|c| wire_attr::LargeCommunity {
                        global: c.global,
                        local1: c.local1,
                        local2: c.local2,
                    }),
            );
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
