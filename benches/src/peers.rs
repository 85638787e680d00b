//! The peers process: every session of a plan (injectors and monitors) in one tokio
//! runtime, inside the lab's peers namespace. It pre-encodes, connects, announces, waits
//! for the monitors, optionally withdraws, and reports each step as one JSON line on
//! standard output ([`Event`]), which the runner reads.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::encode::{Encoded, encode_sender};
use crate::monitor::{Counts, Progress};
use crate::scenario::Plan;
use crate::session::{Send, Session, establish};

/// How long all sessions get to come up.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(30);
/// Pause between the sessions coming up and the first UPDATE, so that the daemon has
/// settled (initial End-of-RIB, export set-up) before the clock starts.
pub const SETTLE: Duration = Duration::from_millis(500);
/// After the table is complete, it must stay so for this long (no late worse route).
pub const QUIET: Duration = Duration::from_millis(300);

/// One line of the peers process's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Everything is encoded and every session is established; the clock starts next.
    Ready {
        /// UPDATE messages pre-encoded for the announcement phase.
        messages: usize,
        /// Seconds spent encoding.
        encode_secs: f64,
    },
    /// Every monitor holds its full expected table.
    Announced {
        /// First UPDATE sent to the last expected prefix seen (seconds).
        secs: f64,
        /// Seconds the senders took to write everything.
        send_secs: f64,
    },
    /// Every monitor has seen every withdrawal.
    Withdrawn {
        /// First withdrawal sent to the last withdrawal seen (seconds).
        secs: f64,
    },
    /// The phase did not finish within the plan's timeout.
    Timeout {
        /// `announce` or `withdraw`.
        phase: String,
        /// Seconds waited.
        secs: f64,
        /// Where each receiver got to.
        progress: Vec<Progress>,
    },
    /// Something failed (a session, an encoding).
    Failed {
        /// What.
        error: String,
    },
    /// The end: counters of every receiver.
    Done {
        /// Per receiver, in plan order.
        receivers: Vec<Counts>,
    },
}

fn emit(event: &Event) {
    let mut out = std::io::stdout().lock();
    // A runner that went away cannot be told anything anyway.
    let _ = serde_json::to_writer(&mut out, event);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Runs `plan`; returns whether it completed.
pub async fn run(plan: Plan) -> bool {
    let plan = Arc::new(plan);
    match run_inner(plan).await {
        Ok(ok) => ok,
        Err(error) => {
            emit(&Event::Failed { error });
            false
        }
    }
}

async fn run_inner(plan: Arc<Plan>) -> Result<bool, String> {
    // 1. Encode everything first.
    let t = Instant::now();
    let mut jobs = Vec::new();
    for spec in plan.peers.iter().filter(|p| p.sender.is_some()) {
        let (plan, spec) = (plan.clone(), spec.clone());
        jobs.push(tokio::task::spawn_blocking(move || {
            let k = spec.sender.unwrap_or_default();
            encode_sender(&plan, k, spec.address)
        }));
    }
    let mut encoded: Vec<Encoded> = Vec::new();
    for j in jobs {
        encoded.push(
            j.await
                .map_err(|e| format!("encoder: {e}"))?
                .map_err(|e| format!("encoding: {e}"))?,
        );
    }
    let encode_secs = t.elapsed().as_secs_f64();
    let messages = encoded.iter().map(|e| e.announce_messages).sum();

    // 2. Every session up.
    let mut pending = Vec::new();
    for spec in &plan.peers {
        pending.push(tokio::spawn(establish(
            plan.clone(),
            spec.clone(),
            CONNECT_WITHIN,
        )));
    }
    let mut sessions: Vec<Session> = Vec::new();
    for p in pending {
        sessions.push(
            p.await
                .map_err(|e| format!("session task: {e}"))?
                .map_err(|e| e.to_string())?,
        );
    }
    tokio::time::sleep(SETTLE).await;
    emit(&Event::Ready {
        messages,
        encode_secs,
    });

    // 3. Announce.
    let timeout = Duration::from_secs_f64(plan.timeout_secs.max(0.1));
    let t0 = Instant::now();
    let send_secs = send_all(&mut sessions, &mut encoded, false, t0 + timeout).await?;
    let announced = wait_for(&sessions, t0 + timeout, |t| {
        t.complete().then_some(t.complete_at).flatten()
    })
    .await;
    let Some(last) = announced else {
        emit(&Event::Timeout {
            phase: "announce".into(),
            secs: t0.elapsed().as_secs_f64(),
            progress: progress(&sessions),
        });
        finish(&sessions);
        return Ok(false);
    };
    emit(&Event::Announced {
        secs: last.saturating_duration_since(t0).as_secs_f64(),
        send_secs,
    });

    // 4. Withdraw, after the same pause as before announcing: the daemon is quiet, and a
    // profiler started at `Announced` is recording when the withdrawals go out.
    if plan.withdraw {
        tokio::time::sleep(SETTLE).await;
        let t1 = Instant::now();
        send_all(&mut sessions, &mut encoded, true, t1 + timeout).await?;
        let withdrawn = wait_for(&sessions, t1 + timeout, |t| {
            (t.progress().present == 0).then_some(t.empty_at).flatten()
        })
        .await;
        match withdrawn {
            Some(last) => emit(&Event::Withdrawn {
                secs: last.saturating_duration_since(t1).as_secs_f64(),
            }),
            None => {
                emit(&Event::Timeout {
                    phase: "withdraw".into(),
                    secs: t1.elapsed().as_secs_f64(),
                    progress: progress(&sessions),
                });
                finish(&sessions);
                return Ok(false);
            }
        }
    }
    finish(&sessions);
    Ok(true)
}

/// Tells every sender to write its announcements (or withdrawals) and waits until all
/// are written. Returns the seconds that took.
async fn send_all(
    sessions: &mut [Session],
    encoded: &mut [Encoded],
    withdraw: bool,
    deadline: Instant,
) -> Result<f64, String> {
    let start = Instant::now();
    let mut senders = sessions.iter_mut().filter(|s| s.spec.sender.is_some());
    let mut busy = Vec::new();
    for (s, enc) in (&mut senders).zip(encoded.iter_mut()) {
        let pieces = if withdraw {
            std::mem::take(&mut enc.withdraw)
        } else {
            std::mem::take(&mut enc.announce)
        };
        s.writer
            .send(Send::Pieces(pieces))
            .await
            .map_err(|_| format!("{}: writer gone", s.spec.address))?;
        busy.push(s);
    }
    for s in busy {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.written.recv()).await {
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(format!("{}: {e}", s.spec.address)),
            Ok(None) => return Err(format!("{}: writer gone", s.spec.address)),
            // The receivers' wait reports the timeout.
            Err(_) => break,
        }
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Waits until `done` gives an instant for every receiver and stays so for [`QUIET`];
/// returns the latest of those instants, or `None` at the deadline or when a session
/// ends.
async fn wait_for(
    sessions: &[Session],
    deadline: Instant,
    done: impl Fn(&crate::monitor::Tally) -> Option<Instant>,
) -> Option<Instant> {
    let mut since: Option<Instant> = None;
    loop {
        let mut latest: Option<Instant> = None;
        let mut all = true;
        for s in sessions {
            if s.reader.is_finished() {
                return None;
            }
            let Some(t) = &s.tally else { continue };
            let at = t.lock().ok().and_then(|t| done(&t));
            match at {
                Some(at) => latest = Some(latest.map_or(at, |l| l.max(at))),
                None => all = false,
            }
        }
        let now = Instant::now();
        if all {
            match since {
                Some(s) if now.duration_since(s) >= QUIET => return latest,
                Some(_) => {}
                None => since = Some(now),
            }
        } else {
            since = None;
        }
        if now >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn progress(sessions: &[Session]) -> Vec<Progress> {
    sessions
        .iter()
        .filter_map(|s| s.tally.as_ref()?.lock().ok().map(|t| t.progress()))
        .collect()
}

fn finish(sessions: &[Session]) {
    let receivers = sessions
        .iter()
        .filter_map(|s| s.tally.as_ref()?.lock().ok().map(|t| t.counts.clone()))
        .collect();
    emit(&Event::Done { receivers });
}
