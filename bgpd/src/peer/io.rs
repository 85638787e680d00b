//! The reader and writer of one TCP connection.
//!
//! The reader decodes frames and hands them to the peer task, except UPDATEs of an
//! Established session, which it sends to the RIB task itself in batches (the peer task
//! only hears that some arrived, for the hold timer). It waits at the first UPDATE until
//! the peer task has told the RIB that the session is up (the [`Gate`]), so the RIB never
//! sees routes of a session it does not know. The writer sends control messages (OPEN,
//! KEEPALIVE, NOTIFICATION) before queued UPDATE chunks, and closes the socket after
//! flushing when told to.

use std::time::Duration;

use bgp_proto::codec::{BgpCodec, CodecError};
use bgp_proto::{DecodeError, Message, Open, negotiate};
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use tokio_util::codec::FramedRead;
use tracing::debug;

use super::status::PeerCounters;
use crate::rib::{PeerId, RibMsg};
use bgp_proto::MessageType;
use std::sync::Arc;

/// Frames handled per batch sent to the RIB.
const BATCH: usize = 512;
/// How long a closing writer may take to flush its last messages.
const CLOSE_FLUSH: Duration = Duration::from_secs(2);

/// Whether received UPDATEs may go to the RIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// The session is not Established (yet).
    Pending,
    /// Established: the RIB knows the session as this peer.
    Open(PeerId),
    /// The connection is being closed.
    Closed,
}

/// What a reader tells the peer task.
#[derive(Debug)]
pub(crate) enum ReadEvent {
    /// A message other than an UPDATE of an Established session.
    Message(Message),
    /// UPDATEs went to the RIB (restarts the hold timer).
    Updates,
    /// A frame that does not decode.
    Malformed(DecodeError),
    /// The connection closed or failed.
    Closed(String),
}

/// Reads `read` until it fails, the gate closes or the task is aborted. Events are tagged
/// with `tag` so that the peer task can tell connections apart.
pub(crate) async fn reader(
    read: OwnedReadHalf,
    tag: u64,
    local_open: Open,
    events: mpsc::Sender<(u64, ReadEvent)>,
    rib: mpsc::Sender<RibMsg>,
    mut gate: watch::Receiver<Gate>,
    counters: Arc<PeerCounters>,
) {
    let mut frames = FramedRead::new(read, BgpCodec::new());
    // A peer sends its KEEPALIVE (confirming our OPEN) before any UPDATE.
    let mut confirmed = false;
    loop {
        let first = match frames.next().await {
            Some(Ok(m)) => m,
            Some(Err(CodecError::Decode(e))) => {
                let _ = events.send((tag, ReadEvent::Malformed(e))).await;
                return;
            }
            Some(Err(e)) => {
                let _ = events.send((tag, ReadEvent::Closed(e.to_string()))).await;
                return;
            }
            None => {
                let _ = events
                    .send((tag, ReadEvent::Closed("closed by the peer".into())))
                    .await;
                return;
            }
        };
        counters.received.count(first.kind());
        let first = match first {
            Message::Update(u) if confirmed => u,
            other => {
                match &other {
                    Message::Open(remote) => {
                        let n = negotiate(&local_open, remote);
                        frames.decoder_mut().set_ctx(n.decode, n.encode);
                    }
                    Message::Keepalive => confirmed = true,
                    _ => {}
                }
                if events.send((tag, ReadEvent::Message(other))).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let peer = match *gate.borrow() {
            Gate::Open(peer) => Some(peer),
            _ => None,
        };
        let peer = match peer {
            Some(peer) => peer,
            None => match gate.wait_for(|g| *g != Gate::Pending).await.map(|g| *g) {
                Ok(Gate::Open(peer)) => peer,
                _ => return,
            },
        };
        // Take every frame already buffered as one batch.
        let mut updates = vec![first];
        let mut tail: Option<Result<Message, CodecError>> = None;
        while updates.len() < BATCH {
            match frames.next().now_or_never() {
                Some(Some(Ok(Message::Update(u)))) => updates.push(u),
                Some(Some(other)) => {
                    tail = Some(other);
                    break;
                }
                Some(None) | None => break,
            }
        }
        counters
            .received
            .add(MessageType::Update, (updates.len() - 1) as u64);
        if let Some(Ok(m)) = &tail {
            counters.received.count(m.kind());
        }
        if rib.send(RibMsg::Updates { peer, updates }).await.is_err() {
            return;
        }
        if events.send((tag, ReadEvent::Updates)).await.is_err() {
            return;
        }
        let event = match tail {
            None => continue,
            Some(Ok(m)) => ReadEvent::Message(m),
            Some(Err(CodecError::Decode(e))) => ReadEvent::Malformed(e),
            Some(Err(e)) => ReadEvent::Closed(e.to_string()),
        };
        let last = !matches!(event, ReadEvent::Message(_));
        if events.send((tag, event)).await.is_err() || last {
            return;
        }
    }
}

/// Commands to a writer.
#[derive(Debug)]
pub(crate) enum WriteCmd {
    /// Write these bytes (an encoded control message) before any further UPDATE chunk.
    Send(Bytes),
    /// From now on also write the UPDATE chunks arriving here.
    Updates(mpsc::Receiver<Bytes>),
    /// Flush what was sent before this command and close the connection.
    Close,
}

/// Writes control messages and UPDATE chunks to `write` until closed. Reports a failed
/// write as a closed connection.
pub(crate) async fn writer(
    mut write: OwnedWriteHalf,
    tag: u64,
    mut cmds: mpsc::Receiver<WriteCmd>,
    events: mpsc::Sender<(u64, ReadEvent)>,
    counters: Arc<PeerCounters>,
) {
    let mut updates: Option<mpsc::Receiver<Bytes>> = None;
    loop {
        let bytes = tokio::select! {
            biased;
            cmd = cmds.recv() => match cmd {
                Some(WriteCmd::Send(b)) => b,
                Some(WriteCmd::Updates(rx)) => {
                    updates = Some(rx);
                    continue;
                }
                Some(WriteCmd::Close) | None => {
                    let _ = tokio::time::timeout(CLOSE_FLUSH, write.shutdown()).await;
                    return;
                }
            },
            chunk = async { match updates.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            } } => match chunk {
                Some(b) => b,
                None => {
                    updates = None;
                    continue;
                }
            },
        };
        counters.sent.count_frames(&bytes);
        if let Err(e) = write.write_all(&bytes).await {
            debug!(error = %e, "write failed");
            let _ = events
                .send((tag, ReadEvent::Closed(format!("write failed: {e}"))))
                .await;
            return;
        }
    }
}
