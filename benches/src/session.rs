//! One BGP session of the peers process: connect from the peer's address, OPEN and
//! KEEPALIVE, then a reader that feeds a [`Tally`] and a writer that sends pre-encoded
//! pieces with KEEPALIVEs in between.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bgp_proto::capability::Capability;
use bgp_proto::{DecodeCtx, EncodeCtx, HEADER_LEN, Message, MessageType, Open, frame_len};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;

use crate::monitor::Tally;
use crate::scenario::{Family, PeerSpec, Plan};

/// Hold time we propose: long, so that a daemon busy with a million routes never
/// drops a session of ours for a late KEEPALIVE.
pub const HOLD_TIME: u16 = 240;

/// A session failure.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Socket trouble.
    #[error("{peer}: {what}: {source}")]
    Io {
        /// The peer's address.
        peer: IpAddr,
        /// What was being done.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The daemon said or did something a session cannot go on with.
    #[error("{peer}: {0}", peer = .1)]
    Protocol(String, IpAddr),
    /// No session within the time allowed.
    #[error("{0}: no session within {1:?}")]
    Timeout(IpAddr, Duration),
}

fn io(peer: IpAddr, what: &'static str) -> impl FnOnce(std::io::Error) -> SessionError {
    move |source| SessionError::Io { peer, what, source }
}

/// What a writer is told to send.
#[derive(Debug)]
pub enum Send {
    /// Write these pieces in order; report the instant of the first write on the channel.
    Pieces(Vec<Bytes>),
}

/// An established session, split into its two halves' tasks.
#[derive(Debug)]
pub struct Session {
    /// The peer.
    pub spec: PeerSpec,
    /// What the reader has seen (for receivers).
    pub tally: Option<Arc<Mutex<Tally>>>,
    /// Commands to the writer.
    pub writer: mpsc::Sender<Send>,
    /// Done messages from the writer: one per [`Send::Pieces`].
    pub written: mpsc::Receiver<Result<Instant, String>>,
    /// The reader task; ends with the reason the session ended.
    pub reader: tokio::task::JoinHandle<String>,
}

/// Reads one whole message into `buf` (which may already hold bytes), returning its length.
async fn read_frame(
    r: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    peer: IpAddr,
) -> Result<usize, SessionError> {
    loop {
        if let Some(len) = frame_len(buf) {
            if len < HEADER_LEN {
                return Err(SessionError::Protocol(format!("bad length {len}"), peer));
            }
            if buf.len() >= len {
                return Ok(len);
            }
        }
        buf.reserve(64 * 1024);
        let n = r.read_buf(buf).await.map_err(io(peer, "read"))?;
        if n == 0 {
            return Err(SessionError::Protocol("connection closed".into(), peer));
        }
    }
}

fn bgp_id(spec: &PeerSpec) -> Ipv4Addr {
    match spec.address {
        IpAddr::V4(a) => a,
        // A v6-only peer still needs a 4-byte identifier: 10.255.x.y from its last bytes.
        IpAddr::V6(a) => {
            let o = a.octets();
            Ipv4Addr::new(10, 255, o[14], o[15])
        }
    }
}

/// Connects `spec` to the daemon of `plan` and completes the OPEN exchange, retrying a
/// refused connection until `within` has passed.
pub async fn establish(
    plan: Arc<Plan>,
    spec: PeerSpec,
    within: Duration,
) -> Result<Session, SessionError> {
    let deadline = Instant::now() + within;
    loop {
        // A daemon busy starting (or with a hundred connections arriving at once) may
        // take a connection and never answer it, or close it: try again, afresh.
        let attempt_end = deadline.min(Instant::now() + ATTEMPT);
        match attempt(plan.clone(), spec.clone(), attempt_end, within).await {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() + RETRY_PAUSE < deadline => {
                tracing_free_log(&format!("{e}; trying again"));
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Longest one connection attempt (connect, OPEN, KEEPALIVE) may take.
const ATTEMPT: Duration = Duration::from_secs(10);
/// Pause before a new attempt.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

async fn attempt(
    plan: Arc<Plan>,
    spec: PeerSpec,
    deadline: Instant,
    within: Duration,
) -> Result<Session, SessionError> {
    let peer = spec.address;
    let stream = loop {
        let socket = match spec.address {
            IpAddr::V4(_) => TcpSocket::new_v4(),
            IpAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(io(peer, "socket"))?;
        socket
            .bind(SocketAddr::new(spec.address, 0))
            .map_err(io(peer, "bind"))?;
        let target = SocketAddr::new(plan.dut, plan.port);
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.connect(target)).await {
            Ok(Ok(s)) => break s,
            Ok(Err(e)) if Instant::now() < deadline => {
                tracing_free_log(&format!("{peer}: connect: {e}; retrying"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Err(e)) => return Err(io(peer, "connect")(e)),
            Err(_) => return Err(SessionError::Timeout(peer, within)),
        }
    };
    stream.set_nodelay(true).map_err(io(peer, "nodelay"))?;
    let (mut r, mut w) = stream.into_split();
    let family = match plan.shape.family {
        Family::V4 => bgp_proto::Family::IPV4_UNICAST,
        Family::V6 => bgp_proto::Family::IPV6_UNICAST,
    };
    let open = Open::new(
        spec.asn,
        HOLD_TIME,
        bgp_id(&spec),
        vec![
            Capability::Multiprotocol(family),
            Capability::RouteRefresh,
            Capability::FourOctetAs(spec.asn),
        ],
    );
    let ectx = EncodeCtx::modern();
    let dctx = DecodeCtx::modern();
    let protocol = |m: String| SessionError::Protocol(m, peer);
    let mut out = Message::Open(open)
        .to_bytes(&ectx)
        .map_err(|e| protocol(format!("encode OPEN: {e}")))?;
    Message::Keepalive
        .encode(&ectx, &mut out)
        .map_err(|e| protocol(format!("encode KEEPALIVE: {e}")))?;
    let handshake = async {
        w.write_all(&out).await.map_err(io(peer, "write OPEN"))?;
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let mut hold = HOLD_TIME;
        let mut got_open = false;
        loop {
            let len = read_frame(&mut r, &mut buf, peer).await?;
            let frame = buf.split_to(len);
            match Message::decode(&frame, &dctx) {
                Ok(Message::Open(o)) => {
                    hold = hold.min(o.hold_time);
                    got_open = true;
                }
                Ok(Message::Keepalive) if got_open => return Ok((buf, hold)),
                Ok(Message::Notification(n)) => {
                    return Err(protocol(format!("NOTIFICATION from the daemon: {n:?}")));
                }
                Ok(m) => return Err(protocol(format!("unexpected {:?} in OpenSent", m.kind()))),
                Err(e) => return Err(protocol(format!("decode: {e}"))),
            }
        }
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let (buf, hold) = tokio::time::timeout(left, handshake)
        .await
        .map_err(|_| SessionError::Timeout(peer, within))??;

    let tally = spec
        .receive
        .then(|| Arc::new(Mutex::new(Tally::new(plan.clone(), spec.sender))));
    let reader = tokio::spawn(read_loop(r, buf, tally.clone(), peer));
    let (tx, rx) = mpsc::channel(4);
    let (done_tx, done_rx) = mpsc::channel(4);
    let keepalive = if hold == 0 {
        None
    } else {
        Some(Duration::from_secs(u64::from(hold / 3).max(1)))
    };
    tokio::spawn(write_loop(w, rx, done_tx, keepalive));
    Ok(Session {
        spec,
        tally,
        writer: tx,
        written: done_rx,
        reader,
    })
}

/// Progress notes of the peers process go to standard error (standard output carries
/// the events the runner reads).
fn tracing_free_log(msg: &str) {
    eprintln!("petrel-bench peers: {msg}");
}

async fn read_loop(
    mut r: OwnedReadHalf,
    mut buf: BytesMut,
    tally: Option<Arc<Mutex<Tally>>>,
    peer: IpAddr,
) -> String {
    loop {
        // Everything whole in the buffer, then one stamp for the batch.
        let mut off = 0;
        let mut failure = None;
        {
            let mut guard = tally.as_ref().map(|t| t.lock());
            while let Some(len) = buf.get(off..).and_then(frame_len) {
                if len < HEADER_LEN {
                    failure = Some(format!("bad message length {len}"));
                    break;
                }
                let Some(frame) = buf.get(off..off + len) else {
                    break;
                };
                match frame.get(18).copied() {
                    Some(t) if t == MessageType::Update as u8 => {
                        if let Some(Ok(t)) = guard.as_mut()
                            && let Err(e) = t.update(frame.get(HEADER_LEN..).unwrap_or_default())
                        {
                            failure = Some(e.to_string());
                            break;
                        }
                    }
                    Some(t) if t == MessageType::Notification as u8 => {
                        let note = Message::decode(frame, &DecodeCtx::modern());
                        failure = Some(format!("NOTIFICATION from the daemon: {note:?}"));
                        break;
                    }
                    _ => {}
                }
                off += len;
            }
            if let Some(Ok(t)) = guard.as_mut() {
                t.stamp(Instant::now());
            }
        }
        if let Some(f) = failure {
            return format!("{peer}: {f}");
        }
        let _ = buf.split_to(off);
        buf.reserve(256 * 1024);
        match r.read_buf(&mut buf).await {
            Ok(0) => return format!("{peer}: the daemon closed the session"),
            Ok(_) => {}
            Err(e) => return format!("{peer}: read: {e}"),
        }
    }
}

async fn write_loop(
    mut w: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Send>,
    done: mpsc::Sender<Result<Instant, String>>,
    keepalive: Option<Duration>,
) {
    let ka = {
        let mut b = BytesMut::new();
        // Encoding a KEEPALIVE cannot fail; an empty one would only end the session.
        let _ = Message::Keepalive.encode(&EncodeCtx::modern(), &mut b);
        b.freeze()
    };
    let period = keepalive.unwrap_or(Duration::from_secs(3600));
    let mut tick = tokio::time::interval(period);
    tick.tick().await;
    let mut last_ka = Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick(), if keepalive.is_some() => {
                if w.write_all(&ka).await.is_err() {
                    return;
                }
                last_ka = Instant::now();
            }
            cmd = rx.recv() => {
                let Some(Send::Pieces(pieces)) = cmd else {
                    return;
                };
                let start = Instant::now();
                let mut result = Ok(start);
                for piece in pieces {
                    if let Err(e) = w.write_all(&piece).await {
                        result = Err(format!("write: {e}"));
                        break;
                    }
                    if keepalive.is_some_and(|p| last_ka.elapsed() >= p) {
                        if let Err(e) = w.write_all(&ka).await {
                            result = Err(format!("write: {e}"));
                            break;
                        }
                        last_ka = Instant::now();
                    }
                }
                if done.send(result).await.is_err() {
                    return;
                }
            }
        }
    }
}
