//! One connection attempt or TCP connection of a peer: its FSM, its timers and the
//! reader/writer tasks of its socket.

use std::net::SocketAddr;
use std::time::Duration;

use bgp_proto::{EncodeCtx, Message};
use bytes::Bytes;
use rand::Rng;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::warn;

use super::io::{Gate, ReadEvent, WriteCmd, reader, writer};
use super::status::PeerCounters;
use crate::fsm::{Fsm, Timer};
use crate::rib::RibMsg;
use std::sync::Arc;

/// Capacity of the control queue to a writer (OPEN, KEEPALIVE, NOTIFICATION).
const CONTROL_QUEUE: usize = 16;
/// Time a closing writer gets before it is aborted.
const WRITER_GRACE: Duration = Duration::from_secs(3);

/// The socket side of a connection.
#[derive(Debug)]
pub(crate) struct Io {
    pub(crate) tag: u64,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    writer: mpsc::Sender<WriteCmd>,
    writer_task: JoinHandle<()>,
    reader_task: Option<JoinHandle<()>>,
    pub(crate) gate: watch::Sender<Gate>,
}

impl Io {
    /// Splits `stream` into reader and writer tasks.
    pub(crate) fn spawn(
        stream: TcpStream,
        tag: u64,
        fsm: &Fsm,
        events: &mpsc::Sender<(u64, ReadEvent)>,
        rib: &mpsc::Sender<RibMsg>,
        counters: &Arc<PeerCounters>,
    ) -> std::io::Result<Io> {
        let local = stream.local_addr()?;
        let remote = stream.peer_addr()?;
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let (gate, gate_rx) = watch::channel(Gate::Pending);
        let (wtx, wrx) = mpsc::channel(CONTROL_QUEUE);
        let reader_task = tokio::spawn(reader(
            read,
            tag,
            fsm.local_open().clone(),
            events.clone(),
            rib.clone(),
            gate_rx,
            Arc::clone(counters),
        ));
        let writer_task = tokio::spawn(writer(
            write,
            tag,
            wrx,
            events.clone(),
            Arc::clone(counters),
        ));
        Ok(Io {
            tag,
            local,
            remote,
            writer: wtx,
            writer_task,
            reader_task: Some(reader_task),
            gate,
        })
    }

    /// Queues a control message.
    pub(crate) fn send(&self, message: &Message) {
        // OPEN, KEEPALIVE and NOTIFICATION do not depend on negotiated parameters.
        match message.to_bytes(&EncodeCtx::default()) {
            Ok(bytes) => {
                if self
                    .writer
                    .try_send(WriteCmd::Send(bytes.freeze()))
                    .is_err()
                {
                    warn!(peer = %self.remote, "control queue full or closed; message dropped");
                }
            }
            Err(e) => warn!(peer = %self.remote, error = %e, "cannot encode message"),
        }
    }

    /// Hands the writer the channel of UPDATE chunks from the RIB.
    pub(crate) fn attach_updates(&self, rx: mpsc::Receiver<Bytes>) {
        let _ = self.writer.try_send(WriteCmd::Updates(rx));
    }

    /// Stops the reader now (so that it sends nothing more to the RIB) and waits until it
    /// is gone.
    pub(crate) async fn stop_reader(&mut self) {
        let _ = self.gate.send(Gate::Closed);
        if let Some(task) = self.reader_task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Closes the connection: the reader stops at once, the writer flushes what was
    /// queued (a NOTIFICATION, typically) and closes, or is aborted after a grace period.
    pub(crate) async fn close(mut self) {
        self.stop_reader().await;
        let _ = self.writer.try_send(WriteCmd::Close);
        let abort = self.writer_task.abort_handle();
        let task = self.writer_task;
        tokio::spawn(async move {
            if tokio::time::timeout(WRITER_GRACE, task).await.is_err() {
                abort.abort();
            }
        });
    }
}

/// A connection slot: the FSM and, while connected, the socket.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) fsm: Fsm,
    pub(crate) io: Option<Io>,
    deadlines: [Option<Instant>; 5],
}

impl Conn {
    pub(crate) fn new(fsm: Fsm) -> Self {
        Conn {
            fsm,
            io: None,
            deadlines: [None; 5],
        }
    }

    fn slot(timer: Timer) -> usize {
        match timer {
            Timer::ConnectRetry => 0,
            Timer::Hold => 1,
            Timer::Keepalive => 2,
            Timer::IdleHold => 3,
            Timer::BackoffReset => 4,
        }
    }

    /// Arms `timer`, with RFC 4271 section 10 jitter where it applies.
    pub(crate) fn start_timer(&mut self, timer: Timer, after: Duration) {
        let after = match timer {
            Timer::ConnectRetry | Timer::IdleHold | Timer::Keepalive => {
                after.mul_f64(rand::rng().random_range(0.75..=1.0))
            }
            Timer::Hold | Timer::BackoffReset => after,
        };
        self.deadlines[Self::slot(timer)] = Some(Instant::now() + after);
    }

    pub(crate) fn stop_timer(&mut self, timer: Timer) {
        self.deadlines[Self::slot(timer)] = None;
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Timers due at `now`, cleared.
    pub(crate) fn take_expired(&mut self, now: Instant) -> Vec<Timer> {
        let mut due = Vec::new();
        for timer in Timer::ALL {
            let slot = &mut self.deadlines[Self::slot(timer)];
            if slot.is_some_and(|d| d <= now) {
                *slot = None;
                due.push(timer);
            }
        }
        due
    }

    /// Moves `other`'s socket and timers into this slot (collision: the second wins).
    pub(crate) fn take_socket_and_timers(&mut self, other: &mut Conn) {
        self.io = other.io.take();
        self.deadlines = other.deadlines;
    }
}
