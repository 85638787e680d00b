//! Batched route changes: many `RTM_NEWROUTE`/`RTM_DELROUTE` messages in one `sendmsg`,
//! then their ACKs matched by sequence number.
//!
//! The kernel handles every message of a datagram in turn (`netlink_rcv_skb`) and answers
//! each with its own ACK or error, so a batch costs one send and one receive per answer,
//! with no per-request future, channel or task switch. The socket is blocking and is used
//! from a blocking thread (`spawn_blocking`), one batch at a time.

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::time::Duration;

use rtnetlink::packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkMessage,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::route::RouteMessage;
use rtnetlink::sys::protocols::NETLINK_ROUTE;
use rtnetlink::sys::{Socket, SocketAddr};

use crate::netlink::NetlinkError;

/// Room for the ACKs of a full batch (each ACK is its own datagram in the kernel's queue).
const RECV_BUFFER: usize = 8 * 1024 * 1024;
/// How long to wait for the kernel's answers before giving up on the rest of a batch.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// `NLMSG_ERROR`: an ACK (error 0) or an error.
const NLMSG_ERROR: u16 = 2;
/// Length of a netlink message header.
const HEADER_LEN: usize = 16;

/// One change to send.
#[derive(Debug, Clone)]
pub enum Change {
    /// Add a route only if no route with its key exists (`NLM_F_EXCL`).
    Add(RouteMessage),
    /// Add or replace the route with its key (`NLM_F_REPLACE`).
    Replace(RouteMessage),
    /// Delete the matching route.
    Delete(RouteMessage),
}

/// A blocking netlink socket for batches of route changes.
#[derive(Debug)]
pub struct BatchSocket {
    socket: Socket,
    seq: u32,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
    /// Largest batch whose answers fit in the receive buffer.
    max_batch: usize,
}

impl BatchSocket {
    /// Opens a socket in the current network namespace.
    pub fn open() -> Result<BatchSocket, NetlinkError> {
        let err = |e: std::io::Error| NetlinkError::Socket(e.to_string());
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(err)?;
        socket.bind_auto().map_err(err)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(err)?;
        // CAP_ACK keeps error answers small; not having it only costs buffer space.
        let _ = socket.set_cap_ack(true);
        use nix::sys::socket::{setsockopt, sockopt};
        let forced = setsockopt(&socket.as_fd(), sockopt::RcvBufForce, &RECV_BUFFER).is_ok();
        if !forced {
            let _ = socket.set_rx_buf_sz(RECV_BUFFER);
        }
        let timeout = nix::sys::time::TimeVal::new(ANSWER_TIMEOUT.as_secs() as _, 0);
        setsockopt(&socket.as_fd(), sockopt::ReceiveTimeout, &timeout)
            .map_err(|e| NetlinkError::Socket(e.to_string()))?;
        let rcvbuf =
            nix::sys::socket::getsockopt(&socket.as_fd(), sockopt::RcvBuf).unwrap_or(212_992);
        // An ACK takes about 1 KiB of buffer (its skb); keep a margin.
        let max_batch = (rcvbuf / 2048).clamp(16, 1024);
        Ok(BatchSocket {
            socket,
            seq: 1,
            send_buf: Vec::with_capacity(256 * 1024),
            recv_buf: Vec::with_capacity(64 * 1024),
            max_batch,
        })
    }

    /// The most changes [`BatchSocket::run`] takes at once.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Sends the changes (at most [`BatchSocket::max_batch`] are taken per datagram; more
    /// are sent in several) and returns each one's result, in order.
    pub fn run(&mut self, changes: Vec<Change>) -> Vec<Result<(), NetlinkError>> {
        let mut results = Vec::with_capacity(changes.len());
        let mut rest = changes;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(self.max_batch));
            let chunk = std::mem::replace(&mut rest, tail);
            results.extend(self.run_chunk(chunk));
        }
        results
    }

    fn run_chunk(&mut self, changes: Vec<Change>) -> Vec<Result<(), NetlinkError>> {
        let n = changes.len();
        let mut ops = Vec::with_capacity(n);
        let mut by_seq: HashMap<u32, usize> = HashMap::with_capacity(n);
        self.send_buf.clear();
        for (i, change) in changes.into_iter().enumerate() {
            let (op, msg, flags) = match change {
                Change::Add(m) => (
                    "add",
                    RouteNetlinkMessage::NewRoute(m),
                    NLM_F_CREATE | NLM_F_EXCL,
                ),
                Change::Replace(m) => (
                    "replace",
                    RouteNetlinkMessage::NewRoute(m),
                    NLM_F_CREATE | NLM_F_REPLACE,
                ),
                Change::Delete(m) => ("delete", RouteNetlinkMessage::DelRoute(m), 0),
            };
            let mut nl = NetlinkMessage::from(msg);
            nl.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
            nl.header.sequence_number = self.seq;
            nl.finalize();
            let len = nl.buffer_len();
            let start = self.send_buf.len();
            self.send_buf.resize(start + len, 0);
            nl.serialize(&mut self.send_buf[start..]);
            by_seq.insert(self.seq, i);
            self.seq = self.seq.wrapping_add(1).max(1);
            ops.push(op);
        }
        let mut results: Vec<Option<Result<(), NetlinkError>>> = vec![None; n];
        let fail_all = |ops: &[&'static str], results: &mut Vec<Option<_>>, e: &std::io::Error| {
            for (i, r) in results.iter_mut().enumerate() {
                if r.is_none() {
                    *r = Some(Err(NetlinkError::Kernel {
                        op: ops[i],
                        errno: e.raw_os_error().unwrap_or(0),
                        message: e.to_string(),
                    }));
                }
            }
        };
        if let Err(e) = self.socket.send(&self.send_buf, 0) {
            fail_all(&ops, &mut results, &e);
            return results.into_iter().flatten().collect();
        }
        let mut answered = 0;
        while answered < n {
            self.recv_buf.clear();
            self.recv_buf.reserve(64 * 1024);
            match self.socket.recv(&mut self.recv_buf, 0) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ENOBUFS (answers lost) or the timeout: the rest is unknown.
                    fail_all(&ops, &mut results, &e);
                    break;
                }
            }
            for (seq, errno) in acks(&self.recv_buf) {
                let Some(&i) = by_seq.get(&seq) else {
                    continue; // an answer to an earlier, abandoned batch
                };
                if results[i].is_some() {
                    continue;
                }
                answered += 1;
                results[i] = Some(if errno == 0 {
                    Ok(())
                } else {
                    Err(NetlinkError::Kernel {
                        op: ops[i],
                        errno,
                        message: std::io::Error::from_raw_os_error(errno).to_string(),
                    })
                });
            }
        }
        results.into_iter().flatten().collect()
    }
}

/// The `(sequence number, errno)` of every ACK or error in a datagram (errno 0 for an ACK).
/// Malformed or truncated messages end the walk; nothing is trusted without a bounds check.
fn acks(buf: &[u8]) -> Vec<(u32, i32)> {
    let mut out = Vec::new();
    let mut off = 0;
    while buf.len() - off >= HEADER_LEN {
        let word = |at: usize| -> Option<[u8; 4]> { buf.get(at..at + 4)?.try_into().ok() };
        let (Some(len), Some(seq)) = (word(off), word(off + 8)) else {
            break;
        };
        let len = u32::from_ne_bytes(len) as usize;
        if len < HEADER_LEN || len > buf.len() - off {
            break;
        }
        let kind = buf
            .get(off + 4..off + 6)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_ne_bytes);
        if kind == Some(NLMSG_ERROR)
            && len >= HEADER_LEN + 4
            && let Some(code) = word(off + HEADER_LEN)
        {
            out.push((u32::from_ne_bytes(seq), -i32::from_ne_bytes(code)));
        }
        // Messages are 4-byte aligned.
        off += (len + 3) & !3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u32, err: i32, pad: usize) -> Vec<u8> {
        let len = (HEADER_LEN + 4 + 16 + pad) as u32;
        let mut b = Vec::new();
        b.extend(len.to_ne_bytes());
        b.extend(NLMSG_ERROR.to_ne_bytes());
        b.extend(0u16.to_ne_bytes());
        b.extend(seq.to_ne_bytes());
        b.extend(0u32.to_ne_bytes());
        b.extend(err.to_ne_bytes());
        b.extend(vec![0u8; 16 + pad]);
        b
    }

    #[test]
    fn acks_and_errors_are_read_by_sequence() {
        let mut buf = ack(7, 0, 0);
        buf.extend(ack(8, -17, 4));
        assert_eq!(acks(&buf), vec![(7, 0), (8, 17)]);
    }

    #[test]
    fn malformed_datagrams_stop_the_walk() {
        assert!(acks(&[]).is_empty());
        assert!(acks(&[1, 2, 3]).is_empty());
        let mut buf = ack(7, 0, 0);
        buf.truncate(buf.len() - 1);
        assert!(acks(&buf).is_empty(), "truncated");
        let mut bad = ack(7, 0, 0);
        bad[0..4].copy_from_slice(&4u32.to_ne_bytes());
        assert!(acks(&bad).is_empty(), "length below the header");
    }
}
