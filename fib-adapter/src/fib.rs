//! The FIB task: owns what bgpd wants and what the kernel has, and drives netlink.
//!
//! ```text
//!   watch task ──FibMsg (bounded)──▶ FIB task ──netlink requests (≤ WINDOW in flight)──▶ kernel
//!   monitor   ──FibMsg::Recheck────▶    │
//!                                       └──FibStatus (watch channel)──▶ tests, benchmark
//! ```
//!
//! Changes are coalesced per prefix: an event only updates `desired` and marks the prefix
//! dirty (once, however many events arrive); the netlink side takes dirty prefixes, compares
//! what is wanted with what is installed, and sends one request per prefix. Memory is
//! bounded by the number of prefixes, not by the number of changes, and the task keeps
//! reading events while requests are in flight, so a burst never backs up into bgpd.
//!
//! Until bgpd's initial dump is done, nothing is deleted: routes from before a restart keep
//! forwarding. When the dump is done, what bgpd did not mention is removed. When bgpd stays
//! away longer than the stale time, every route of ours is flushed.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use ipnet::IpNet;
use rtnetlink::packet_route::route::RouteMessage;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinError;
use tracing::{debug, info, warn};

use crate::batch::{BatchSocket, Change};
use crate::metrics::Metrics;
use crate::netlink::{EEXIST, ENETUNREACH, ESRCH, Kernel, NetlinkError};
use crate::route::{self, Dumped, NextHop};

/// Route changes sent to the kernel in one batch (one `sendmsg`).
pub const WINDOW: usize = 256;
/// Batches in flight at once (each on its own socket).
const BATCHES_IN_FLIGHT: usize = 2;
/// Status and gauges are refreshed at least this often while work is going on (and
/// whenever the task is idle).
const PUBLISH_EVERY: Duration = Duration::from_millis(50);
/// At most one summary of failed netlink requests per this interval.
const ERROR_REPORT_EVERY: Duration = Duration::from_secs(60);
/// Wait before retrying a failed dump of the kernel's table at start.
const DUMP_RETRY: Duration = Duration::from_secs(1);

/// What the FIB task is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FibMsg {
    /// A new watch stream started; its initial dump follows.
    Session,
    /// Next hops wanted per prefix; an empty list withdraws the prefix.
    Routes(Vec<(IpNet, Vec<IpAddr>)>),
    /// The initial dump of the current stream is complete.
    DumpDone,
    /// The watch stream broke: bgpd is away.
    Lost,
    /// Interfaces or addresses changed: look at next hops again.
    Recheck,
}

/// A snapshot of the FIB task's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FibStatus {
    /// bgpd's view is known (initial dump done), or the stale timer flushed our routes.
    pub synced: bool,
    /// Prefixes bgpd wants installed.
    pub desired: usize,
    /// Prefixes of ours in the kernel.
    pub installed: usize,
    /// Prefixes waiting for netlink work or with a request in flight.
    pub pending: usize,
    /// Prefixes none of whose next hops is reachable.
    pub unresolved: usize,
    /// Watch streams seen (sessions).
    pub sessions: u64,
    /// Reconciles completed (a dump done and all its work applied).
    pub reconciles: u64,
}

/// How the FIB task behaves.
#[derive(Debug, Clone, Copy)]
pub struct FibOptions {
    /// How long routes stay while bgpd is away.
    pub stale_time: Duration,
    /// How often unreachable next hops and failed prefixes are tried again.
    pub scan_interval: Duration,
    /// Route changes per netlink batch.
    pub window: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// bgpd is away; routes stay until the deadline.
    Waiting { deadline: Instant },
    /// A stream's initial dump is coming in.
    Dumping { deadline: Option<Instant> },
    /// bgpd's view is applied; absent prefixes are deleted.
    Synced,
    /// The stale timer ran out: our routes were flushed.
    Flushed,
}

#[derive(Debug)]
enum Op {
    Add(Vec<NextHop>),
    Replace(Vec<NextHop>),
    Delete,
    DeleteObsolete,
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Add(_) => "add",
            Op::Replace(_) => "replace",
            Op::Delete | Op::DeleteObsolete => "delete",
        }
    }
}

struct Done {
    prefix: IpNet,
    op: Op,
    result: Result<(), NetlinkError>,
}

/// What a batch on the blocking pool gives back: its socket and one result per change,
/// with the prefixes and operations the changes were for.
struct BatchResult {
    joined: Result<(BatchSocket, Vec<Result<(), NetlinkError>>), JoinError>,
    meta: Vec<(IpNet, Op)>,
}

type BatchFuture = Pin<Box<dyn std::future::Future<Output = BatchResult> + Send>>;

/// The FIB task's state. Build it with [`Fib::new`] and run it with [`Fib::run`].
pub struct Fib {
    kernel: Kernel,
    options: FibOptions,
    metrics: Arc<Metrics>,
    status: watch::Sender<FibStatus>,
    state: Sync,
    desired: HashMap<IpNet, Vec<IpAddr>>,
    installed: HashMap<IpNet, Vec<NextHop>>,
    installed_v4: usize,
    obsolete: Vec<(IpNet, RouteMessage)>,
    obsolete_queue: Vec<(IpNet, RouteMessage)>,
    /// Dirty prefixes, taken in random order (see [`Fib::next_dirty`]).
    dirty: Vec<IpNet>,
    rng: u64,
    dirty_set: HashSet<IpNet>,
    in_flight: HashSet<IpNet>,
    redo: HashSet<IpNet>,
    sockets: Vec<BatchSocket>,
    batches: FuturesUnordered<BatchFuture>,
    resolved: HashMap<IpAddr, Option<NextHop>>,
    unresolved: HashSet<IpNet>,
    failed: HashSet<IpNet>,
    reconcile_started: Option<Instant>,
    errors_since_scan: u64,
    last_error: Option<String>,
    last_error_report: Option<Instant>,
    conflicts: HashSet<IpNet>,
    sessions: u64,
    reconciles: u64,
}

impl std::fmt::Debug for Fib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fib")
            .field("state", &self.state)
            .field("desired", &self.desired.len())
            .field("installed", &self.installed.len())
            .field("dirty", &self.dirty.len())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl Fib {
    /// A FIB task over `kernel`, with its own netlink socket for route changes (opened in
    /// the calling thread's network namespace); the receiver of the returned channel follows
    /// its progress.
    pub fn new(
        kernel: Kernel,
        options: FibOptions,
        metrics: Arc<Metrics>,
    ) -> Result<(Fib, watch::Receiver<FibStatus>), NetlinkError> {
        let sockets = (0..BATCHES_IN_FLIGHT)
            .map(|_| BatchSocket::open())
            .collect::<Result<Vec<_>, _>>()?;
        let (status, status_rx) = watch::channel(FibStatus::default());
        let fib = Fib {
            kernel,
            options,
            metrics,
            status,
            state: Sync::Waiting {
                deadline: Instant::now() + options.stale_time,
            },
            desired: HashMap::new(),
            installed: HashMap::new(),
            installed_v4: 0,
            obsolete: Vec::new(),
            obsolete_queue: Vec::new(),
            dirty: Vec::new(),
            rng: 0x9e37_79b9_7f4a_7c15,
            dirty_set: HashSet::new(),
            in_flight: HashSet::new(),
            redo: HashSet::new(),
            sockets,
            batches: FuturesUnordered::new(),
            resolved: HashMap::new(),
            unresolved: HashSet::new(),
            failed: HashSet::new(),
            reconcile_started: Some(Instant::now()),
            errors_since_scan: 0,
            last_error: None,
            last_error_report: None,
            conflicts: HashSet::new(),
            sessions: 0,
            reconciles: 0,
        };
        Ok((fib, status_rx))
    }

    /// Runs until `rx` is closed, then waits for the requests in flight and returns.
    /// Routes stay in the kernel when it returns.
    pub async fn run(mut self, mut rx: mpsc::Receiver<FibMsg>) {
        self.load_kernel(&mut rx).await;
        let mut scan = tokio::time::interval(self.options.scan_interval);
        scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_publish = Instant::now();
        loop {
            self.fill_window().await;
            let idle = self.batches.is_empty() && self.dirty.is_empty();
            if idle || last_publish.elapsed() >= PUBLISH_EVERY {
                self.publish();
                last_publish = Instant::now();
            }
            let deadline = self.stale_deadline();
            let stale = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(m) => self.handle(m).await,
                    None => break,
                },
                Some(done) = self.batches.next(), if !self.batches.is_empty() => {
                    self.batch_done(done);
                }
                () = stale => self.stale_expired(),
                _ = scan.tick() => self.recheck().await,
            }
        }
        while let Some(done) = self.batches.next().await {
            self.batch_done(done);
        }
        self.publish();
    }

    /// Reads our routes from the kernel: they are what is installed until told otherwise.
    async fn load_kernel(&mut self, rx: &mut mpsc::Receiver<FibMsg>) {
        let dumped = loop {
            match self.kernel.dump_own().await {
                Ok(d) => break d,
                Err(e) => {
                    self.metrics
                        .netlink_errors
                        .get_or_create(&op_label("dump"))
                        .inc();
                    warn!(error = %e, "cannot read the routing table; trying again");
                    if rx.is_closed() {
                        return;
                    }
                    tokio::time::sleep(DUMP_RETRY).await;
                }
            }
        };
        for d in dumped {
            match d {
                Dumped::Ours { prefix, nexthops } => self.set_installed(prefix, nexthops),
                Dumped::Obsolete { prefix, delete } => self.obsolete.push((prefix, *delete)),
            }
        }
        let spec = self.kernel.spec();
        info!(
            routes = self.installed.len(),
            obsolete = self.obsolete.len(),
            table = spec.table,
            protocol = spec.protocol,
            "found our routes in the kernel; they stay until bgpd's view is known \
             or the stale time ({}s) runs out",
            self.options.stale_time.as_secs()
        );
    }

    fn stale_deadline(&self) -> Option<Instant> {
        match self.state {
            Sync::Waiting { deadline } => Some(deadline),
            Sync::Dumping { deadline } => deadline,
            Sync::Synced | Sync::Flushed => None,
        }
    }

    fn deletes_allowed(&self) -> bool {
        matches!(self.state, Sync::Synced | Sync::Flushed)
    }

    fn set_installed(&mut self, prefix: IpNet, hops: Vec<NextHop>) {
        if self.installed.insert(prefix, hops).is_none() && matches!(prefix, IpNet::V4(_)) {
            self.installed_v4 += 1;
        }
    }

    fn remove_installed(&mut self, prefix: &IpNet) {
        if self.installed.remove(prefix).is_some() && matches!(prefix, IpNet::V4(_)) {
            self.installed_v4 -= 1;
        }
    }

    /// Takes a dirty prefix at random. The kernel's IPv4 FIB trie is several times slower
    /// at deleting neighbouring prefixes in ascending order (it keeps resizing the same
    /// nodes) than in any other order, and a withdrawal burst often comes sorted; a random
    /// order is fast whatever order the burst came in, and starves no prefix.
    fn next_dirty(&mut self) -> Option<IpNet> {
        if self.dirty.is_empty() {
            return None;
        }
        // xorshift64: statistical quality is irrelevant here.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let i = (self.rng % self.dirty.len() as u64) as usize;
        let prefix = self.dirty.swap_remove(i);
        self.dirty_set.remove(&prefix);
        Some(prefix)
    }

    fn mark_dirty(&mut self, prefix: IpNet) {
        if self.dirty_set.insert(prefix) {
            self.dirty.push(prefix);
        }
    }

    async fn handle(&mut self, msg: FibMsg) {
        match msg {
            FibMsg::Session => {
                self.sessions += 1;
                let deadline = match self.state {
                    Sync::Waiting { deadline } => Some(deadline),
                    Sync::Dumping { deadline } => deadline,
                    Sync::Synced => Some(Instant::now() + self.options.stale_time),
                    Sync::Flushed => None,
                };
                self.state = Sync::Dumping { deadline };
                self.desired.clear();
                self.unresolved.clear();
                self.reconcile_started = Some(Instant::now());
                debug!("bgpd's initial dump started");
            }
            FibMsg::Routes(batch) => {
                for (prefix, hops) in batch {
                    if hops.is_empty() {
                        self.desired.remove(&prefix);
                    } else {
                        self.desired.insert(prefix, hops);
                    }
                    self.mark_dirty(prefix);
                }
            }
            FibMsg::DumpDone => {
                self.state = Sync::Synced;
                let gone: Vec<IpNet> = self
                    .installed
                    .keys()
                    .filter(|p| !self.desired.contains_key(p))
                    .copied()
                    .collect();
                info!(
                    desired = self.desired.len(),
                    to_remove = gone.len(),
                    "bgpd's initial dump is done; reconciling the kernel with it"
                );
                for p in gone {
                    self.mark_dirty(p);
                }
                self.delete_obsolete();
            }
            FibMsg::Lost => {
                let deadline = match self.state {
                    Sync::Waiting { deadline }
                    | Sync::Dumping {
                        deadline: Some(deadline),
                    } => Some(deadline),
                    Sync::Flushed => None,
                    Sync::Synced | Sync::Dumping { deadline: None } => {
                        Some(Instant::now() + self.options.stale_time)
                    }
                };
                if let Some(deadline) = deadline {
                    self.state = Sync::Waiting { deadline };
                    info!(
                        routes = self.installed.len(),
                        stale_in_s = deadline.saturating_duration_since(Instant::now()).as_secs(),
                        "bgpd is away; keeping our routes until it is back or the stale time \
                         runs out"
                    );
                }
                self.reconcile_started = None;
            }
            FibMsg::Recheck => self.recheck().await,
        }
    }

    /// Queues the deletion of the routes of our protocol we would never install as they
    /// are; [`Fib::start_batch`] sends them first.
    fn delete_obsolete(&mut self) {
        self.obsolete_queue.append(&mut self.obsolete);
    }

    fn stale_expired(&mut self) {
        warn!(
            routes = self.installed.len(),
            "bgpd was away longer than the stale time ({}s); flushing our routes",
            self.options.stale_time.as_secs()
        );
        self.metrics.stale_flushes.inc();
        self.state = Sync::Flushed;
        self.desired.clear();
        self.unresolved.clear();
        let all: Vec<IpNet> = self.installed.keys().copied().collect();
        for p in all {
            self.mark_dirty(p);
        }
        self.delete_obsolete();
    }

    /// Looks at next hops again: those whose resolution changed make their prefixes dirty,
    /// and prefixes that were unreachable or failed are tried again.
    async fn recheck(&mut self) {
        let addrs: Vec<IpAddr> = self.resolved.keys().copied().collect();
        let mut changed = HashSet::new();
        for a in addrs {
            let now = self.kernel.resolve(a).await.unwrap_or(None);
            if self.resolved.get(&a) != Some(&now) {
                changed.insert(a);
                self.resolved.insert(a, now);
            }
        }
        if !changed.is_empty() {
            debug!(
                next_hops = changed.len(),
                "next hops resolve differently now"
            );
            let hit: Vec<IpNet> = self
                .desired
                .iter()
                .filter(|(_, hops)| hops.iter().any(|h| changed.contains(h)))
                .map(|(p, _)| *p)
                .collect();
            for p in hit {
                self.mark_dirty(p);
            }
        }
        let retry: Vec<IpNet> = self
            .unresolved
            .iter()
            .chain(self.failed.iter())
            .copied()
            .collect();
        self.failed.clear();
        for p in retry {
            self.mark_dirty(p);
        }
        if self.errors_since_scan > 0
            && self
                .last_error_report
                .is_none_or(|t| t.elapsed() >= ERROR_REPORT_EVERY)
        {
            self.last_error_report = Some(Instant::now());
            warn!(
                errors = self.errors_since_scan,
                last = self.last_error.as_deref().unwrap_or(""),
                "netlink requests failed since the last report; the prefixes are tried again"
            );
            self.errors_since_scan = 0;
        }
    }

    async fn resolve_all(&mut self, hops: &[IpAddr]) -> Vec<NextHop> {
        let mut out = Vec::with_capacity(hops.len());
        for h in hops {
            let r = match self.resolved.get(h) {
                Some(r) => *r,
                None => {
                    let r = match self.kernel.resolve(*h).await {
                        Ok(r) => r,
                        Err(e) => {
                            debug!(next_hop = %h, error = %e, "next hop lookup failed");
                            None
                        }
                    };
                    if r.is_none() {
                        warn!(next_hop = %h, "next hop is not reachable; its routes wait for it");
                    }
                    self.resolved.insert(*h, r);
                    r
                }
            };
            if let Some(nh) = r {
                out.push(nh);
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// What to do for a prefix now, if anything.
    async fn plan(&mut self, prefix: IpNet) -> Option<Op> {
        let want = match self.desired.get(&prefix).cloned() {
            Some(hops) => {
                let resolved = self.resolve_all(&hops).await;
                if resolved.is_empty() {
                    self.unresolved.insert(prefix);
                    None
                } else {
                    self.unresolved.remove(&prefix);
                    Some(resolved)
                }
            }
            None => {
                self.unresolved.remove(&prefix);
                if !self.deletes_allowed() {
                    return None;
                }
                None
            }
        };
        match (want, self.installed.get(&prefix)) {
            (Some(w), None) => Some(Op::Add(w)),
            (Some(w), Some(have)) if &w != have => Some(Op::Replace(w)),
            (Some(_), Some(_)) => None,
            (None, Some(_)) => Some(Op::Delete),
            (None, None) => None,
        }
    }

    /// Starts batches of netlink changes for dirty prefixes (and queued deletions of
    /// obsolete routes) while a socket is free. A prefix is in at most one batch at a time,
    /// so its changes reach the kernel in order; two batches in flight let the next one be
    /// prepared while the kernel works on the previous.
    async fn fill_window(&mut self) {
        while let Some(socket) = self.sockets.pop() {
            let max = self.options.window.min(socket.max_batch()).max(1);
            let (changes, meta) = self.take_changes(max).await;
            if changes.is_empty() {
                self.sockets.push(socket);
                return;
            }
            let task = tokio::task::spawn_blocking(move || {
                let mut socket = socket;
                let results = socket.run(changes);
                (socket, results)
            });
            self.batches.push(Box::pin(async move {
                BatchResult {
                    joined: task.await,
                    meta,
                }
            }));
        }
    }

    async fn take_changes(&mut self, max: usize) -> (Vec<Change>, Vec<(IpNet, Op)>) {
        let spec = *self.kernel.spec();
        let mut changes = Vec::with_capacity(max);
        let mut meta = Vec::with_capacity(max);
        while changes.len() < max {
            let Some((prefix, msg)) = self.obsolete_queue.pop() else {
                break;
            };
            changes.push(Change::Delete(msg));
            meta.push((prefix, Op::DeleteObsolete));
        }
        while changes.len() < max {
            let Some(prefix) = self.next_dirty() else {
                break;
            };
            if self.in_flight.contains(&prefix) {
                self.redo.insert(prefix);
                continue;
            }
            let Some(op) = self.plan(prefix).await else {
                continue;
            };
            changes.push(match &op {
                Op::Add(hops) => Change::Add(route::add_message(&spec, &prefix, hops)),
                Op::Replace(hops) => Change::Replace(route::add_message(&spec, &prefix, hops)),
                Op::Delete | Op::DeleteObsolete => {
                    Change::Delete(route::delete_message(&spec, &prefix))
                }
            });
            self.in_flight.insert(prefix);
            meta.push((prefix, op));
        }
        (changes, meta)
    }

    fn batch_done(&mut self, done: BatchResult) {
        let BatchResult { joined, meta } = done;
        let results = match joined {
            Ok((socket, results)) => {
                self.sockets.push(socket);
                results
            }
            Err(e) => {
                // The blocking task died (it does not panic; a runtime shutting down can
                // cancel it): open a new socket and try the prefixes again.
                warn!(error = %e, "netlink batch lost; retrying its prefixes");
                match BatchSocket::open() {
                    Ok(s) => self.sockets.push(s),
                    Err(e) => warn!(error = %e, "cannot open a netlink socket; retrying later"),
                }
                Vec::new()
            }
        };
        let mut counts: HashMap<&'static str, u64> = HashMap::new();
        for (_, op) in &meta {
            *counts.entry(op.name()).or_default() += 1;
        }
        for (name, n) in counts {
            self.metrics
                .netlink_operations
                .get_or_create(&op_label(name))
                .inc_by(n);
        }
        let mut results = results.into_iter();
        for (prefix, op) in meta {
            let result = results.next().unwrap_or_else(|| {
                Err(NetlinkError::Kernel {
                    op: op.name(),
                    errno: 0,
                    message: "no answer".to_string(),
                })
            });
            self.complete(Done { prefix, op, result });
        }
    }

    fn complete(&mut self, done: Done) {
        let Done { prefix, op, result } = done;
        if !matches!(op, Op::DeleteObsolete) {
            self.in_flight.remove(&prefix);
        }
        match (op, result) {
            (Op::Add(hops) | Op::Replace(hops), Ok(())) => {
                if self.conflicts.remove(&prefix) {
                    info!(%prefix, "installed after an earlier conflict");
                }
                self.set_installed(prefix, hops);
            }
            (Op::Delete, Ok(())) => {
                self.remove_installed(&prefix);
            }
            (Op::DeleteObsolete, Ok(())) => {}
            (Op::DeleteObsolete, Err(e)) if e.errno() == Some(ESRCH) => {}
            (Op::Delete, Err(e)) if e.errno() == Some(ESRCH) => {
                // Already gone (someone else removed it): that is what we wanted.
                self.remove_installed(&prefix);
            }
            (op, Err(e)) => {
                self.metrics
                    .netlink_errors
                    .get_or_create(&op_label(op.name()))
                    .inc();
                self.errors_since_scan += 1;
                match e.errno() {
                    Some(EEXIST) => {
                        if self.conflicts.insert(prefix) {
                            warn!(
                                %prefix,
                                "a route of another protocol with the same metric is in the \
                                 table; not overwriting it (tried again every scan)"
                            );
                        }
                        self.last_error = Some(format!("{prefix}: conflicting route"));
                    }
                    Some(ENETUNREACH) => {
                        // Our idea of the next hops is out of date: look them up again.
                        if let Op::Add(h) | Op::Replace(h) = &op {
                            for nh in h {
                                self.resolved.retain(|_, r| r.as_ref() != Some(nh));
                            }
                        }
                        self.last_error = Some(format!("{prefix}: {e}"));
                    }
                    _ => {
                        debug!(%prefix, error = %e, "netlink request failed");
                        self.last_error = Some(format!("{prefix}: {e}"));
                    }
                }
                if !matches!(op, Op::DeleteObsolete) {
                    self.failed.insert(prefix);
                }
            }
        }
        if self.redo.remove(&prefix) {
            self.mark_dirty(prefix);
        }
    }

    fn publish(&mut self) {
        let pending = self.dirty.len() + self.in_flight.len();
        if self.state == Sync::Synced
            && pending == 0
            && self.batches.is_empty()
            && let Some(started) = self.reconcile_started.take()
        {
            let took = started.elapsed();
            self.reconciles += 1;
            self.metrics.reconcile_duration.observe(took.as_secs_f64());
            info!(
                routes = self.installed.len(),
                unresolved = self.unresolved.len(),
                took_ms = took.as_millis() as u64,
                "kernel table reconciled with bgpd"
            );
        }
        if self.status.borrow().installed != self.installed.len() {
            self.metrics
                .routes_installed
                .get_or_create(&family_label("ipv4"))
                .set(self.installed_v4 as i64);
            self.metrics
                .routes_installed
                .get_or_create(&family_label("ipv6"))
                .set((self.installed.len() - self.installed_v4) as i64);
        }
        self.metrics.routes_desired.set(self.desired.len() as i64);
        self.metrics.pending.set(pending as i64);
        self.metrics.unresolved.set(self.unresolved.len() as i64);
        let status = FibStatus {
            synced: matches!(self.state, Sync::Synced | Sync::Flushed),
            desired: self.desired.len(),
            installed: self.installed.len(),
            pending,
            unresolved: self.unresolved.len(),
            sessions: self.sessions,
            reconciles: self.reconciles,
        };
        self.status.send_if_modified(|s| {
            if *s == status {
                false
            } else {
                *s = status;
                true
            }
        });
    }
}

fn op_label(op: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![("op", op)]
}

fn family_label(family: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![("family", family)]
}
