//! bgpd's side: connecting to its API, following its watch stream, and turning best-path
//! events into [`FibMsg`]s.
//!
//! Each stream starts with `Watch { best_path_events, initial_dump }`: the FIB task is told
//! [`FibMsg::Session`], then gets the dump as routes, then [`FibMsg::DumpDone`], then the
//! changes. A broken stream, a `lagged` end, or a new `instance_id` (polled while the
//! stream is up) ends the session with [`FibMsg::Lost`]; the next one resyncs.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use hyper_util::rt::TokioIo;
use ipnet::IpNet;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};
use tonic::transport::{Channel, Endpoint};
use tracing::{debug, info, warn};

use crate::fib::FibMsg;
use crate::metrics::Metrics;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_MIN: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A failure talking to bgpd.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The address is not `unix://PATH`, a path, or `http(s)://HOST:PORT`.
    #[error("bad API address {0:?}: expected unix:///path, /path or http://host:port")]
    Address(String),
    /// The connection failed.
    #[error("cannot connect to bgpd at {addr}: {reason}")]
    Connect {
        /// The address.
        addr: String,
        /// Why: the innermost cause ("No such file or directory", "Connection refused").
        reason: String,
    },
    /// A call failed.
    #[error("bgpd answered {}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
    /// The FIB task is gone (shutting down).
    #[error("the FIB task has stopped")]
    FibGone,
}

enum ApiAddr {
    Unix(PathBuf),
    Tcp(String),
}

fn parse_addr(api: &str) -> Result<ApiAddr, ApiError> {
    if let Some(path) = api.strip_prefix("unix://") {
        return Ok(ApiAddr::Unix(PathBuf::from(path)));
    }
    if api.starts_with('/') {
        return Ok(ApiAddr::Unix(PathBuf::from(api)));
    }
    if api.starts_with("http://") || api.starts_with("https://") {
        return Ok(ApiAddr::Tcp(api.to_string()));
    }
    Err(ApiError::Address(api.to_string()))
}

/// Checks an API address without connecting.
pub fn check_addr(api: &str) -> Result<(), ApiError> {
    parse_addr(api).map(|_| ())
}

/// Connects to bgpd's API.
pub async fn connect(api: &str) -> Result<BgpdClient<Channel>, ApiError> {
    let fail = |e: tonic::transport::Error| {
        let mut cause: &dyn std::error::Error = &e;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        ApiError::Connect {
            addr: api.to_string(),
            reason: cause.to_string(),
        }
    };
    let channel = match parse_addr(api)? {
        ApiAddr::Unix(path) => {
            // The URI is required by tonic but unused: the connector ignores it.
            Endpoint::from_static("http://[::]:50051")
                .connect_timeout(CONNECT_TIMEOUT)
                .connect_with_connector(tower::service_fn(move |_| {
                    let path = path.clone();
                    async move {
                        Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?))
                    }
                }))
                .await
                .map_err(fail)?
        }
        ApiAddr::Tcp(uri) => Endpoint::from_shared(uri)
            .map_err(|_| ApiError::Address(api.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .connect()
            .await
            .map_err(fail)?,
    };
    Ok(BgpdClient::new(channel).max_decoding_message_size(64 * 1024 * 1024))
}

/// Turns a best-path event into the next hops wanted for its prefix (empty: withdrawn, or
/// nothing installable). Paths without a next hop (originated by bgpd itself) and next
/// hops of the other family are left out.
pub fn convert(ev: pb::BestPathEvent) -> Option<(IpNet, Vec<IpAddr>)> {
    let prefix = match ev.prefix.parse::<IpNet>() {
        Ok(p) => p.trunc(),
        Err(_) => {
            warn!(prefix = %ev.prefix, "bgpd sent a prefix that does not parse; ignored");
            return None;
        }
    };
    if ev.kind == pb::best_path_event::Kind::Withdrawn as i32 {
        return Some((prefix, Vec::new()));
    }
    let paths = if ev.multipath.is_empty() {
        ev.best.into_iter().collect()
    } else {
        ev.multipath
    };
    let mut hops: Vec<IpAddr> = paths
        .iter()
        .filter(|p| !p.next_hop.is_empty())
        .filter_map(|p| match p.next_hop.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                warn!(%prefix, next_hop = %p.next_hop, "next hop does not parse; ignored");
                None
            }
        })
        .filter(|a| a.is_ipv4() == matches!(prefix, IpNet::V4(_)))
        .collect();
    hops.sort();
    hops.dedup();
    Some((prefix, hops))
}

/// Follows bgpd's watch stream and feeds the FIB task, reconnecting for ever.
#[derive(Debug)]
pub struct Watcher {
    /// bgpd's API address.
    pub api: String,
    /// The FIB task's input.
    pub fib: mpsc::Sender<FibMsg>,
    /// Bumped at every new stream; the redistribution task pushes its paths again then.
    pub sessions: watch::Sender<u64>,
    /// How often `instance_id` is checked while the stream is up.
    pub poll_interval: Duration,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

impl Watcher {
    /// Runs until the FIB task is gone.
    pub async fn run(self) {
        let mut backoff = RETRY_MIN;
        let mut instance: Option<String> = None;
        let mut reported = false;
        loop {
            match self.session(&mut instance).await {
                Ok(()) => {
                    backoff = RETRY_MIN;
                    reported = false;
                }
                Err(ApiError::FibGone) => return,
                Err(e) => {
                    if reported {
                        debug!(error = %e, "bgpd still unreachable");
                    } else {
                        warn!(error = %e, "bgpd unreachable; retrying");
                        reported = true;
                    }
                }
            }
            if self.fib.is_closed() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(RETRY_MAX);
        }
    }

    async fn send(&self, msg: FibMsg) -> Result<(), ApiError> {
        self.fib.send(msg).await.map_err(|_| ApiError::FibGone)
    }

    /// One stream, from connect to its end. `Ok` when it was established and ended.
    async fn session(&self, instance: &mut Option<String>) -> Result<(), ApiError> {
        let mut client = connect(&self.api).await?;
        let global = client
            .get_global(pb::GetGlobalRequest {})
            .await?
            .into_inner();
        match instance.as_deref() {
            Some(prev) if prev != global.instance_id => {
                info!(instance = %global.instance_id, "bgpd restarted; resyncing")
            }
            Some(_) => info!("watch stream to bgpd re-established; resyncing"),
            None => info!(
                instance = %global.instance_id,
                version = %global.version,
                "connected to bgpd"
            ),
        }
        *instance = Some(global.instance_id.clone());
        let mut stream = client
            .watch(pb::WatchRequest {
                peer_events: false,
                best_path_events: true,
                initial_dump: true,
            })
            .await?
            .into_inner();
        self.send(FibMsg::Session).await?;
        self.sessions.send_modify(|g| *g += 1);
        self.metrics.bgpd_sessions.inc();
        self.metrics.bgpd_connected.set(1);
        let mut poll = tokio::time::interval(self.poll_interval);
        poll.tick().await;
        let result = loop {
            tokio::select! {
                msg = stream.message() => match msg {
                    Ok(Some(resp)) => match self.response(resp).await {
                        Ok(true) => {}
                        Ok(false) => break Ok(()),
                        Err(e) => break Err(e),
                    },
                    Ok(None) => {
                        info!("bgpd ended the watch stream");
                        break Ok(());
                    }
                    Err(status) => {
                        warn!(error = %status.message(), "watch stream to bgpd broke");
                        break Ok(());
                    }
                },
                _ = poll.tick() => {
                    match client.get_global(pb::GetGlobalRequest {}).await {
                        Ok(g) if g.get_ref().instance_id != global.instance_id => {
                            info!("bgpd's instance id changed; resyncing");
                            break Ok(());
                        }
                        Ok(_) => {}
                        Err(e) => {
                            warn!(error = %e.message(), "bgpd does not answer; resyncing");
                            break Ok(());
                        }
                    }
                }
            }
        };
        self.metrics.bgpd_connected.set(0);
        self.send(FibMsg::Lost).await?;
        result
    }

    /// Forwards one response; `Ok(false)` when the stream is over (lagged).
    async fn response(&self, resp: pb::WatchResponse) -> Result<bool, ApiError> {
        let batch: Vec<(IpNet, Vec<IpAddr>)> = resp
            .events
            .into_iter()
            .filter_map(|e| match e.event {
                Some(pb::watch_event::Event::BestPath(b)) => convert(b),
                _ => None,
            })
            .collect();
        if !batch.is_empty() {
            self.send(FibMsg::Routes(batch)).await?;
        }
        if resp.initial_dump_done {
            self.send(FibMsg::DumpDone).await?;
        }
        if resp.lagged {
            warn!("fell behind bgpd's watch stream; resyncing");
            return Ok(false);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(prefix: &str, nh: &str) -> pb::Path {
        pb::Path {
            prefix: prefix.to_string(),
            next_hop: nh.to_string(),
            ..pb::Path::default()
        }
    }

    fn event(kind: pb::best_path_event::Kind, prefix: &str, hops: &[&str]) -> pb::BestPathEvent {
        pb::BestPathEvent {
            kind: kind as i32,
            prefix: prefix.to_string(),
            best: hops.first().map(|h| path(prefix, h)),
            multipath: hops.iter().map(|h| path(prefix, h)).collect(),
        }
    }

    #[test]
    fn multipath_set_becomes_sorted_next_hops() {
        use pb::best_path_event::Kind;
        let (p, hops) = convert(event(
            Kind::Added,
            "10.99.0.0/24",
            &["10.0.4.2", "10.0.3.2", "", "10.0.3.2"],
        ))
        .unwrap();
        assert_eq!(p, "10.99.0.0/24".parse::<IpNet>().unwrap());
        assert_eq!(
            hops,
            vec![
                "10.0.3.2".parse::<IpAddr>().unwrap(),
                "10.0.4.2".parse().unwrap()
            ]
        );
    }

    #[test]
    fn withdrawals_local_paths_and_bad_input() {
        use pb::best_path_event::Kind;
        let (_, hops) = convert(event(Kind::Withdrawn, "fd01:1::/48", &[])).unwrap();
        assert!(hops.is_empty());
        // Originated by bgpd itself: nothing to install.
        let (_, hops) = convert(event(Kind::Replaced, "10.100.0.0/24", &[""])).unwrap();
        assert!(hops.is_empty());
        // A next hop of the wrong family is left out.
        let (_, hops) = convert(event(Kind::Added, "fd01::/48", &["10.0.0.1", "fd00::1"])).unwrap();
        assert_eq!(hops, vec!["fd00::1".parse::<IpAddr>().unwrap()]);
        assert!(convert(event(Kind::Added, "not a prefix", &["10.0.0.1"])).is_none());
        let (_, hops) = convert(event(Kind::Added, "10.0.0.0/8", &["bogus"])).unwrap();
        assert!(hops.is_empty());
    }

    #[test]
    fn api_addresses() {
        assert!(
            matches!(parse_addr("unix:///run/x.sock"), Ok(ApiAddr::Unix(p)) if p.as_path() == std::path::Path::new("/run/x.sock"))
        );
        assert!(matches!(parse_addr("/run/x.sock"), Ok(ApiAddr::Unix(_))));
        assert!(matches!(
            parse_addr("http://127.0.0.1:50051"),
            Ok(ApiAddr::Tcp(_))
        ));
        assert!(parse_addr("127.0.0.1:50051").is_err());
    }
}
