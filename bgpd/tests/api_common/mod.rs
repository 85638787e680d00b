//! Helpers of the API and reload tests: in-process daemons serving their API on a unix
//! socket in a temporary directory, clients connected to it, and bounded waits.
//!
//! Every daemon gets its own directory (socket, and configuration file when started from
//! one), so that tests running in parallel never share a socket. Every wait gives up
//! after [`WAIT`] and says what it was waiting for.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use bgp_api::bgpd::v1::bgpd_client::BgpdClient;
use bgpd::config;
use bgpd::daemon::Daemon;
use tempfile::TempDir;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status, Streaming};

/// The longest any test waits for one thing to happen.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A client of the API.
pub(crate) type Client = BgpdClient<Channel>;

/// A daemon under test, with its directory and a client of its API.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) daemon: Daemon,
    pub(crate) api: Client,
    /// The API's unix socket.
    pub(crate) socket: PathBuf,
    /// The configuration file (written only by [`start_file`]).
    pub(crate) config: PathBuf,
    dir: TempDir,
}

impl Node {
    /// A new client on the unix socket (each has its own HTTP/2 connection).
    pub(crate) async fn client(&self) -> Client {
        connect(&self.socket).await
    }

    /// The directory the daemon's files live in.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The port of the BGP listener (the first one).
    pub(crate) fn port(&self) -> u16 {
        self.daemon.local_addrs()[0].port()
    }

    /// Stops the daemon (Cease to every peer) and removes its directory.
    pub(crate) async fn stop(self) {
        bounded("daemon shutdown", self.daemon.shutdown("test over")).await;
    }
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
}

/// `toml` with an `[api]` table serving on `socket` appended (unless it has one already).
fn with_api(toml: &str, socket: &Path) -> String {
    if toml.contains("[api]") {
        return toml.to_string();
    }
    // These tests check the Cease a stopping daemon sends its peers; with graceful restart
    // (bgpd/tests/graceful_restart.rs) it closes silently instead.
    let gr = if toml.contains("[graceful_restart]") {
        ""
    } else {
        "[graceful_restart]\nenabled = false\n"
    };
    format!("{toml}\n{gr}[api]\nsocket = \"{}\"\n", socket.display())
}

/// Starts a daemon from configuration text, with its API on a socket of its own.
pub(crate) async fn start(toml: &str) -> Node {
    init_tracing();
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("bgpd.sock");
    let text = with_api(toml, &socket);
    let cfg = config::from_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let daemon = bounded("daemon start", Daemon::start(&cfg))
        .await
        .expect("daemon starts");
    let api = connect(&socket).await;
    Node {
        daemon,
        api,
        socket,
        config: dir.path().join("bgpd.toml"),
        dir,
    }
}

/// Starts a daemon from a configuration file (written from `toml`) that reloads re-read.
pub(crate) async fn start_file(toml: &str) -> Node {
    init_tracing();
    let dir = tempfile::tempdir().expect("temporary directory");
    let socket = dir.path().join("bgpd.sock");
    let path = dir.path().join("bgpd.toml");
    let text = with_api(toml, &socket);
    std::fs::write(&path, &text).expect("configuration written");
    let cfg = config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let daemon = bounded("daemon start", Daemon::start_from(&cfg, Some(path.clone())))
        .await
        .expect("daemon starts");
    let api = connect(&socket).await;
    Node {
        daemon,
        api,
        socket,
        config: path,
        dir,
    }
}

impl Node {
    /// Rewrites the configuration file with `toml` (and the same `[api]` table).
    pub(crate) fn rewrite(&self, toml: &str) {
        std::fs::write(&self.config, with_api(toml, &self.socket)).expect("configuration written");
    }
}

/// A client of the API on the unix socket at `path`.
pub(crate) async fn connect(path: &Path) -> Client {
    BgpdClient::new(channel(path).await)
}

/// A client whose connection holds little unread data (64 KiB HTTP/2 windows instead of
/// megabytes): a client that stops reading soon holds up its stream at the daemon.
pub(crate) async fn small_window_client(path: &Path) -> Client {
    BgpdClient::new(channel_with(path, Some(65_535)).await)
}

/// An HTTP/2 connection to the API on the unix socket at `path`.
pub(crate) async fn channel(path: &Path) -> Channel {
    channel_with(path, None).await
}

async fn channel_with(path: &Path, window: Option<u32>) -> Channel {
    let path = path.to_path_buf();
    let endpoint = Endpoint::try_from("http://[::]:50051")
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .timeout(WAIT)
        .initial_stream_window_size(window)
        .initial_connection_window_size(window);
    endpoint
        .connect_with_connector(tower::service_fn(move |_| {
            let p = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(p).await?,
                ))
            }
        }))
        .await
        .expect("connects to the API socket")
}

/// Runs `f` for at most [`WAIT`].
pub(crate) async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Polls `f` every 50 ms until it returns `Some`, for at most [`WAIT`].
pub(crate) async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next message of a stream, waiting at most [`WAIT`]; `None` at its end.
pub(crate) async fn next<T>(stream: &mut Streaming<T>) -> Option<T> {
    bounded("the next stream message", stream.next())
        .await
        .map(|r| r.unwrap_or_else(|s| panic!("stream failed: {s}")))
}

/// Asserts that `r` failed with `code` and a message containing each of `words`.
#[track_caller]
pub(crate) fn assert_status<T: std::fmt::Debug>(r: Result<T, Status>, code: Code, words: &[&str]) {
    let s = match r {
        Ok(v) => panic!("expected {code:?} ({words:?}), got {v:?}"),
        Err(s) => s,
    };
    assert_eq!(
        s.code(),
        code,
        "status {s:?}, expected {code:?} ({words:?})"
    );
    for w in words {
        assert!(
            s.message().contains(w),
            "{code:?} message {:?} should mention {w:?}",
            s.message()
        );
    }
}

/// A peer's settings with the defaults of the API.
pub(crate) fn peer_config(address: &str, asn: u32) -> pb::PeerConfig {
    pb::PeerConfig {
        address: address.into(),
        peer_asn: asn,
        ..Default::default()
    }
}

/// A path to `prefix` with default attributes (next hop self).
pub(crate) fn path(prefix: &str) -> pb::Path {
    pb::Path {
        prefix: prefix.into(),
        ..Default::default()
    }
}

/// One AS_SEQUENCE (none when `asns` is empty).
pub(crate) fn sequence(asns: &[u32]) -> Vec<pb::AsSegment> {
    if asns.is_empty() {
        return Vec::new();
    }
    vec![pb::AsSegment {
        r#type: pb::as_segment::Type::Sequence as i32,
        asns: asns.to_vec(),
    }]
}

/// `n` distinct IPv4 /24 prefixes (10.0.0.0/24, 10.0.1.0/24, ...) with `med`.
pub(crate) fn many(n: u32, med: Option<u32>) -> Vec<pb::Path> {
    (0..n)
        .map(|i| pb::Path {
            med,
            ..path(&slash24(i))
        })
        .collect()
}

/// The `i`-th IPv4 /24 from 10.0.0.0/24 on.
pub(crate) fn slash24(i: u32) -> String {
    format!("{}.{}.{}.0/24", 10 + i / 65536, (i / 256) % 256, i % 256)
}

/// The peer at `address`, as GetPeer shows it.
pub(crate) async fn get_peer(api: &mut Client, address: &str) -> pb::Peer {
    let r = api
        .get_peer(pb::GetPeerRequest {
            address: address.into(),
        })
        .await;
    r.unwrap_or_else(|s| panic!("GetPeer {address}: {s}"))
        .into_inner()
        .peer
        .expect("peer")
}

/// The status of the peer at `address`.
pub(crate) async fn status(api: &mut Client, address: &str) -> pb::PeerStatus {
    get_peer(api, address).await.status.expect("status")
}

/// Waits until the session with `address` is (`up`) or is not (`!up`) Established.
pub(crate) async fn wait_session(api: &mut Client, address: &str, up: bool) -> pb::PeerStatus {
    let what = format!("session with {address} {}", if up { "up" } else { "down" });
    eventually(&what, async || {
        let s = status(api, address).await;
        ((s.state == pb::SessionState::Established as i32) == up).then_some(s)
    })
    .await
}

/// GetGlobal.
pub(crate) async fn global_of(api: &mut Client) -> pb::GetGlobalResponse {
    api.get_global(pb::GetGlobalRequest {})
        .await
        .unwrap_or_else(|s| panic!("GetGlobal: {s}"))
        .into_inner()
}

/// AddPeer.
pub(crate) async fn add_peer(api: &mut Client, peer: pb::PeerConfig) -> Result<(), Status> {
    api.add_peer(pb::AddPeerRequest { peer: Some(peer) })
        .await
        .map(drop)
}

/// UpdatePeer; whether the session was reset.
pub(crate) async fn update_peer(api: &mut Client, peer: pb::PeerConfig) -> Result<bool, Status> {
    Ok(api
        .update_peer(pb::UpdatePeerRequest { peer: Some(peer) })
        .await?
        .into_inner()
        .reset)
}

/// DeletePeer.
pub(crate) async fn delete_peer(api: &mut Client, address: &str) -> Result<(), Status> {
    api.delete_peer(pb::DeletePeerRequest {
        address: address.into(),
    })
    .await
    .map(drop)
}

/// ListPeers.
pub(crate) async fn peers(api: &mut Client) -> Vec<pb::Peer> {
    api.list_peers(pb::ListPeersRequest {})
        .await
        .unwrap_or_else(|s| panic!("ListPeers: {s}"))
        .into_inner()
        .peers
}

/// ResetPeer.
pub(crate) async fn reset(
    api: &mut Client,
    address: &str,
    mode: pb::ResetMode,
    message: &str,
) -> Result<(), Status> {
    let r = pb::ResetPeerRequest {
        address: address.into(),
        mode: mode as i32,
        message: message.into(),
    };
    api.reset_peer(r).await.map(drop)
}

/// AddPath.
pub(crate) async fn add_path(api: &mut Client, path: pb::Path) -> Result<(), Status> {
    api.add_path(pb::AddPathRequest { path: Some(path) })
        .await
        .map(drop)
}

/// DeletePath.
pub(crate) async fn delete_path(api: &mut Client, prefix: &str) -> Result<(), Status> {
    api.delete_path(pb::DeletePathRequest {
        prefix: prefix.into(),
    })
    .await
    .map(drop)
}

/// GetTableCounts: (IPv4 prefixes, IPv6 prefixes, paths).
pub(crate) async fn counts(api: &mut Client, table: pb::Table, peer: &str) -> (u64, u64, u64) {
    let r = api
        .get_table_counts(pb::GetTableCountsRequest {
            table: table as i32,
            peer: peer.into(),
        })
        .await;
    let c = r
        .unwrap_or_else(|s| panic!("GetTableCounts: {s}"))
        .into_inner();
    (c.ipv4_prefixes, c.ipv6_prefixes, c.paths)
}

/// A Watch stream.
pub(crate) async fn watch(
    api: &mut Client,
    peer_events: bool,
    best_path_events: bool,
    initial_dump: bool,
) -> Streaming<pb::WatchResponse> {
    let req = pb::WatchRequest {
        peer_events,
        best_path_events,
        initial_dump,
    };
    api.watch(req)
        .await
        .unwrap_or_else(|s| panic!("Watch: {s}"))
        .into_inner()
}

/// Every path of a listing, and the number of responses it came in.
pub(crate) async fn list_batches(
    api: &mut Client,
    req: pb::ListPathsRequest,
) -> (Vec<pb::Path>, usize) {
    let mut stream = api
        .list_paths(req)
        .await
        .unwrap_or_else(|s| panic!("ListPaths: {s}"))
        .into_inner();
    let (mut paths, mut batches) = (Vec::new(), 0);
    while let Some(r) = next(&mut stream).await {
        batches += 1;
        paths.extend(r.paths);
    }
    (paths, batches)
}

/// Every path of a listing.
pub(crate) async fn list(api: &mut Client, req: pb::ListPathsRequest) -> Vec<pb::Path> {
    list_batches(api, req).await.0
}

/// The prefixes of the Loc-RIB's best paths.
pub(crate) async fn loc_prefixes(api: &mut Client) -> Vec<String> {
    list(api, pb::ListPathsRequest::default())
        .await
        .into_iter()
        .map(|p| p.prefix)
        .collect()
}

/// Adds `paths` with one AddPathStream; returns the count the daemon answered.
pub(crate) async fn add_stream(api: &mut Client, paths: Vec<pb::Path>) -> Result<u64, Status> {
    let reqs = paths
        .into_iter()
        .map(|p| pb::AddPathRequest { path: Some(p) });
    let r = api.add_path_stream(tokio_stream::iter(reqs)).await?;
    Ok(r.into_inner().added)
}

/// Configuration of a daemon listening on `listen` (`"127.0.0.1:0"`, or none when empty)
/// with `extra` appended; reconnects after 1 s.
pub(crate) fn global(asn: u32, router_id: &str, listen: &str, extra: &str) -> String {
    let listen = if listen.is_empty() {
        String::new()
    } else {
        format!("\"{listen}\"")
    };
    format!(
        "[global]\nasn = {asn}\nrouter_id = \"{router_id}\"\nlisten = [{listen}]\nconnect_retry = 1\n{extra}\n"
    )
}

/// A `[[neighbors]]` entry that connects to `port` on 127.0.0.1 from `local`.
pub(crate) fn active_neighbor(port: u16, local: &str, asn: u32) -> String {
    format!(
        "[[neighbors]]\naddress = \"127.0.0.1\"\nport = {port}\nlocal_address = \"{local}\"\npeer_asn = {asn}\nhold_time = 9\nfamilies = [\"ipv4-unicast\", \"ipv6-unicast\"]\n"
    )
}

/// A passive `[[neighbors]]` entry for a peer connecting from `address`.
pub(crate) fn passive_neighbor(address: &str, asn: u32, extra: &str) -> String {
    format!(
        "[[neighbors]]\naddress = \"{address}\"\npeer_asn = {asn}\npassive = true\nhold_time = 30\nfamilies = [\"ipv4-unicast\", \"ipv6-unicast\"]\n{extra}\n"
    )
}

/// Starts a remote daemon (AS `asn`, no listener) that connects to `port` from `local`.
pub(crate) async fn remote(port: u16, local: &str, asn: u32, router_id: &str) -> Node {
    start(&format!(
        "{}{}",
        global(asn, router_id, "", ""),
        active_neighbor(port, local, 65001)
    ))
    .await
}
