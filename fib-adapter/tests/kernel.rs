//! The FIB task against a real kernel, in a namespace each test creates: installs, ECMP,
//! replaces and withdrawals; a restart that keeps routes until the dump is done and never
//! touches other protocols; the stale timer; unreachable next hops; coalescing.
//!
//! bgpd is played by the test, which sends the FIB task what the watch task would.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{KRoute, Netns, by_protocol, can_run, parse_routes, table};
use fib_adapter::fib::{Fib, FibMsg, FibOptions, FibStatus};
use fib_adapter::metrics::Metrics;
use fib_adapter::netlink::Kernel;
use fib_adapter::route::RouteSpec;
use ipnet::IpNet;
use tokio::sync::{mpsc, watch};

const SPEC: RouteSpec = RouteSpec {
    table: 100,
    protocol: 186,
    metric: 20,
};

/// A namespace with two links (veth pairs whose peers stay in the namespace, down):
/// `link0` 10.0.0.1/24 fd00::1/64 and `link1` 10.0.1.1/24 fd00:1::1/64.
fn lab(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    for (i, v4, v6) in [
        (0, "10.0.0.1/24", "fd00::1/64"),
        (1, "10.0.1.1/24", "fd00:1::1/64"),
    ] {
        ns.ip(&format!("link add link{i} type veth peer name peer{i}"));
        ns.ip(&format!("link set peer{i} up"));
        ns.ip(&format!("link set link{i} up"));
        ns.ip(&format!("addr add {v4} dev link{i}"));
        ns.ip(&format!("-6 addr add {v6} dev link{i} nodad"));
    }
    ns
}

fn routes_in(ns: &str) -> Vec<KRoute> {
    let mut all = Vec::new();
    for family in ["-4", "-6"] {
        // A table that does not exist (yet) is an error for `ip`, and empty for us.
        let out = std::process::Command::new("ip")
            .args(["-n", ns, "-j", family, "route", "show", "table", "100"])
            .output()
            .unwrap();
        all.extend(parse_routes(&String::from_utf8_lossy(&out.stdout)));
    }
    all
}

fn ours(ns: &str) -> BTreeMap<String, Vec<String>> {
    by_protocol(&routes_in(ns), "186").unwrap_or_else(|e| panic!("{e}"))
}

fn routes(entries: &[(&str, &[&str])]) -> FibMsg {
    FibMsg::Routes(
        entries
            .iter()
            .map(|(p, hops)| {
                (
                    p.parse::<IpNet>().unwrap(),
                    hops.iter().map(|h| h.parse::<IpAddr>().unwrap()).collect(),
                )
            })
            .collect(),
    )
}

struct Running {
    tx: mpsc::Sender<FibMsg>,
    status: watch::Receiver<FibStatus>,
    metrics: Arc<Metrics>,
    task: tokio::task::JoinHandle<()>,
}

fn start(stale: Duration) -> Running {
    let (kernel, _conn) = Kernel::connect(SPEC).unwrap();
    let metrics = Metrics::new();
    let (fib, status) = Fib::new(
        kernel,
        FibOptions {
            stale_time: stale,
            scan_interval: Duration::from_secs(30),
            window: 64,
        },
        metrics.clone(),
    )
    .unwrap();
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(fib.run(rx));
    Running {
        tx,
        status,
        metrics,
        task,
    }
}

impl Running {
    async fn send(&self, msg: FibMsg) {
        self.tx.send(msg).await.unwrap();
    }

    /// Waits until the status satisfies `pred` and nothing is pending.
    async fn settle(&mut self, what: &str, pred: impl Fn(&FibStatus) -> bool) -> FibStatus {
        let wait = self.status.wait_for(|s| s.pending == 0 && pred(s));
        let got = match tokio::time::timeout(Duration::from_secs(10), wait).await {
            Ok(Ok(s)) => Some(s.clone()),
            _ => None,
        };
        got.unwrap_or_else(|| panic!("{what}: status now {:?}", *self.status.borrow()))
    }

    async fn stop(self) {
        drop(self.tx);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

#[test]
fn installs_ecmp_replaces_and_withdraws() {
    if !can_run(&["ip"]) {
        return;
    }
    let ns = lab("basic");
    let name = ns.name.clone();
    ns.block_on(move || async move {
        let mut fib = start(Duration::from_secs(60));
        fib.send(FibMsg::Session).await;
        fib.send(routes(&[
            ("10.1.0.0/24", &["10.0.0.2"]),
            ("10.2.0.0/16", &["10.0.0.2", "10.0.1.2"]),
            ("fd01::/48", &["fd00::2"]),
            ("fd02::/48", &["fd00::2", "fd00:1::2"]),
        ]))
        .await;
        fib.send(FibMsg::DumpDone).await;
        fib.settle("initial install", |s| s.installed == 4).await;
        assert_eq!(
            ours(&name),
            table(&[
                ("10.1.0.0/24", &["10.0.0.2"]),
                ("10.2.0.0/16", &["10.0.0.2", "10.0.1.2"]),
                ("fd01::/48", &["fd00::2"]),
                ("fd02::/48", &["fd00::2", "fd00:1::2"]),
            ])
        );
        let r = routes_in(&name);
        let ecmp = r.iter().find(|r| r.dst == "10.2.0.0/16").unwrap();
        assert_eq!(
            ecmp.devs,
            vec!["link0", "link1"],
            "next hops on their links"
        );
        assert_eq!(ecmp.metric, 20);

        // Single to multipath and back, withdrawals.
        fib.send(routes(&[
            ("10.1.0.0/24", &["10.0.0.2", "10.0.1.2"]),
            ("10.2.0.0/16", &["10.0.1.2"]),
            ("fd01::/48", &["fd00::2", "fd00:1::2"]),
            ("fd02::/48", &[]),
        ]))
        .await;
        fib.settle("changes", |s| s.installed == 3).await;
        assert_eq!(
            ours(&name),
            table(&[
                ("10.1.0.0/24", &["10.0.0.2", "10.0.1.2"]),
                ("10.2.0.0/16", &["10.0.1.2"]),
                ("fd01::/48", &["fd00::2", "fd00:1::2"]),
            ])
        );
        fib.send(routes(&[
            ("10.1.0.0/24", &[]),
            ("10.2.0.0/16", &[]),
            ("fd01::/48", &[]),
        ]))
        .await;
        fib.settle("withdrawals", |s| s.installed == 0).await;
        assert!(ours(&name).is_empty());
        let text = fib.metrics.render();
        assert!(
            text.contains("fib_netlink_operations_total{op=\"add\"} 4"),
            "{text}"
        );
        assert!(
            text.contains("fib_reconcile_duration_seconds_count 1"),
            "{text}"
        );
        fib.stop().await;
    });
}

#[test]
fn restart_keeps_routes_until_the_dump_is_done_and_leaves_other_protocols() {
    if !can_run(&["ip"]) {
        return;
    }
    let ns = lab("restart");
    // Left by an earlier run: ours (one still wanted, with an old next hop; one not), and
    // ours with another metric.
    ns.ip("route add 10.1.0.0/24 via 10.0.0.2 table 100 proto 186 metric 20");
    ns.ip("route add 10.66.0.0/24 via 10.0.0.2 table 100 proto 186 metric 20");
    ns.ip("route add 10.88.0.0/24 via 10.0.0.2 table 100 proto 186 metric 99");
    ns.ip("-6 route add fd66::/48 via fd00::2 table 100 proto 186 metric 20");
    // Other protocols: never touched, even for a prefix bgpd wants with our metric.
    let foreign = [
        "route add 10.1.0.0/24 via 10.0.1.2 table 100 proto static metric 50",
        "route add 10.5.0.0/24 via 10.0.1.2 table 100 proto static metric 20",
        "route add 10.77.0.0/24 via 10.0.1.2 table 100 proto 187 metric 20",
        "-6 route add fd77::/48 via fd00:1::2 table 100 proto static metric 20",
    ];
    for r in foreign {
        ns.ip(r);
    }
    let before: Vec<KRoute> = routes_in(&ns.name)
        .into_iter()
        .filter(|r| r.protocol != "186")
        .collect();
    assert_eq!(before.len(), 4);
    let name = ns.name.clone();
    ns.block_on(move || async move {
        let mut fib = start(Duration::from_secs(60));
        // bgpd's dump begins: what it says is applied at once, nothing is deleted yet.
        fib.send(FibMsg::Session).await;
        fib.send(routes(&[
            ("10.1.0.0/24", &["10.0.1.2"]),
            ("10.5.0.0/24", &["10.0.0.2"]),
            ("fd01::/48", &["fd00::2"]),
        ]))
        .await;
        fib.settle("dump applied", |s| s.desired == 3 && s.installed == 4)
            .await;
        let mid = ours(&name);
        assert_eq!(mid.get("10.1.0.0/24"), Some(&vec!["10.0.1.2".to_string()]));
        assert!(
            mid.contains_key("10.66.0.0/24"),
            "deleted before the dump was done"
        );
        assert!(
            mid.contains_key("fd66::/48"),
            "deleted before the dump was done"
        );
        fib.send(FibMsg::DumpDone).await;
        fib.settle("reconciled", |s| s.synced && s.reconciles == 1)
            .await;
        assert_eq!(
            ours(&name),
            table(&[("10.1.0.0/24", &["10.0.1.2"]), ("fd01::/48", &["fd00::2"])]),
            "leftovers removed, 10.5.0.0/24 left to the static route"
        );
        let text = fib.metrics.render();
        assert!(
            text.contains("fib_netlink_errors_total{op=\"add\"}"),
            "{text}"
        );
        fib.stop().await;
    });
    let after: Vec<KRoute> = routes_in(&ns.name)
        .into_iter()
        .filter(|r| r.protocol != "186")
        .collect();
    assert_eq!(after, before, "routes of other protocols changed");
}

#[test]
fn stale_timer_flushes_while_bgpd_is_away() {
    if !can_run(&["ip"]) {
        return;
    }
    let ns = lab("stale");
    ns.ip("route add 10.66.0.0/24 via 10.0.0.2 table 100 proto 186 metric 20");
    ns.ip("route add 10.77.0.0/24 via 10.0.0.2 table 100 proto static metric 20");
    let name = ns.name.clone();
    ns.block_on(move || async move {
        // bgpd never answers: after the stale time our routes go.
        let mut fib = start(Duration::from_millis(1500));
        fib.settle("loaded", |s| s.installed == 1).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(
            ours(&name).contains_key("10.66.0.0/24"),
            "flushed too early"
        );
        fib.settle("flushed", |s| s.synced && s.installed == 0)
            .await;
        assert!(ours(&name).is_empty());

        // bgpd comes, then goes: routes stay for the stale time, then go.
        fib.send(FibMsg::Session).await;
        fib.send(routes(&[("10.1.0.0/24", &["10.0.0.2"])])).await;
        fib.send(FibMsg::DumpDone).await;
        fib.settle("installed", |s| s.installed == 1).await;
        fib.send(FibMsg::Lost).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(ours(&name).contains_key("10.1.0.0/24"), "flushed too early");
        fib.settle("flushed again", |s| s.synced && s.installed == 0)
            .await;
        assert!(fib.metrics.render().contains("fib_stale_flushes_total 2"));

        // bgpd back before the stale time: nothing is flushed, changes apply.
        fib.send(FibMsg::Session).await;
        fib.send(routes(&[("10.1.0.0/24", &["10.0.0.2"])])).await;
        fib.send(FibMsg::DumpDone).await;
        fib.settle("installed", |s| s.installed == 1).await;
        fib.send(FibMsg::Lost).await;
        fib.send(FibMsg::Session).await;
        fib.send(routes(&[("10.1.0.0/24", &["10.0.1.2"])])).await;
        fib.send(FibMsg::DumpDone).await;
        fib.settle("resynced", |s| s.synced && s.sessions == 3)
            .await;
        tokio::time::sleep(Duration::from_millis(2000)).await;
        assert_eq!(ours(&name), table(&[("10.1.0.0/24", &["10.0.1.2"])]));
        fib.stop().await;
    });
    let statics = by_protocol(&routes_in(&ns.name), "static").unwrap();
    assert!(
        statics.contains_key("10.77.0.0/24"),
        "a static route was flushed"
    );
}

#[test]
fn unreachable_next_hops_are_skipped_and_retried() {
    if !can_run(&["ip"]) {
        return;
    }
    let ns = lab("unreach");
    let name = ns.name.clone();
    ns.block_on(move || async move {
        let mut fib = start(Duration::from_secs(60));
        fib.send(FibMsg::Session).await;
        fib.send(routes(&[
            ("10.9.0.0/24", &["10.0.9.2"]),
            ("10.10.0.0/24", &["10.0.0.2", "10.0.9.2"]),
            ("fd09::/48", &["fd00:9::2"]),
        ]))
        .await;
        fib.send(FibMsg::DumpDone).await;
        let s = fib
            .settle("partial", |s| s.synced && s.installed == 1)
            .await;
        assert_eq!(s.unresolved, 2);
        assert_eq!(ours(&name), table(&[("10.10.0.0/24", &["10.0.0.2"])]));

        // The next hops' networks appear: a recheck installs what waited.
        common::run(&[
            "ip",
            "-n",
            &name,
            "addr",
            "add",
            "10.0.9.1/24",
            "dev",
            "link1",
        ]);
        common::run(&[
            "ip",
            "-n",
            &name,
            "-6",
            "addr",
            "add",
            "fd00:9::1/64",
            "dev",
            "link1",
            "nodad",
        ]);
        fib.send(FibMsg::Recheck).await;
        let s = fib.settle("resolved", |s| s.installed == 3).await;
        assert_eq!(s.unresolved, 0);
        assert_eq!(
            ours(&name),
            table(&[
                ("10.9.0.0/24", &["10.0.9.2"]),
                ("10.10.0.0/24", &["10.0.0.2", "10.0.9.2"]),
                ("fd09::/48", &["fd00:9::2"]),
            ])
        );
        let r = routes_in(&name);
        let nine = r.iter().find(|r| r.dst == "10.9.0.0/24").unwrap();
        assert_eq!(nine.devs, vec!["link1"]);

        // And gone again: routes through it are removed on the next recheck.
        common::run(&[
            "ip",
            "-n",
            &name,
            "addr",
            "del",
            "10.0.9.1/24",
            "dev",
            "link1",
        ]);
        fib.send(FibMsg::Recheck).await;
        fib.settle("unreachable again", |s| s.installed == 2).await;
        assert_eq!(
            ours(&name).get("10.10.0.0/24"),
            Some(&vec!["10.0.0.2".to_string()])
        );
        fib.stop().await;
    });
}

#[test]
fn bursts_are_coalesced_per_prefix() {
    if !can_run(&["ip"]) {
        return;
    }
    let ns = lab("burst");
    let name = ns.name.clone();
    ns.block_on(move || async move {
        let mut fib = start(Duration::from_secs(60));
        fib.send(FibMsg::Session).await;
        fib.send(FibMsg::DumpDone).await;
        const PREFIXES: u32 = 1000;
        const ROUNDS: u32 = 100;
        for round in 0..ROUNDS {
            let gw: IpAddr = if round % 2 == 0 {
                "10.0.0.2"
            } else {
                "10.0.1.2"
            }
            .parse()
            .unwrap();
            let batch = (0..PREFIXES)
                .map(|i| {
                    let p = IpNet::new(IpAddr::from([10, 128 + (i >> 8) as u8, i as u8, 0]), 24)
                        .unwrap();
                    (p, vec![gw])
                })
                .collect();
            fib.send(FibMsg::Routes(batch)).await;
        }
        // The last batches may still be queued when the status first looks settled: wait
        // for the kernel to show the final state.
        let last = vec!["10.0.1.2".to_string()];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let table = ours(&name);
            if table.len() == PREFIXES as usize && table.values().all(|g| g == &last) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "burst not applied: {} routes, {} via the last next hop",
                table.len(),
                table.values().filter(|g| *g == &last).count()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        fib.settle("burst applied", |s| s.installed == PREFIXES as usize)
            .await;
        let text = fib.metrics.render();
        let ops: u64 = text
            .lines()
            .filter(|l| l.starts_with("fib_netlink_operations_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        let changes = u64::from(PREFIXES * ROUNDS);
        assert!(
            ops < changes / 4,
            "{ops} netlink requests for {changes} changes: not coalesced"
        );
        fib.stop().await;
    });
}
