//! Kernel programming rate of fib-adapter's FIB task beside BIRD's kernel protocol, on the
//! same machine, each in a namespace of its own (not run in CI):
//!
//! ```sh
//! sudo CARGO_TARGET_DIR=/work/target-fib \
//!     cargo test -p fib-adapter --release --test bench -- --ignored --nocapture
//! FIB_BENCH_SIZES=100000 ...   # other sizes, comma separated
//! ```
//!
//! fib-adapter: the FIB task is fed N IPv4 /24s with one next hop, in batches of 1,000 as the
//! watch task feeds it, and the clock stops when the kernel has acknowledged every route.
//! Then every route is withdrawn the same way. BIRD: a static protocol with the same N
//! routes (disabled at start) and a kernel protocol exporting into table 100; the clock
//! starts at `birdc enable` and stops when a netlink dump of table 100 counts N routes of
//! protocol bird (dumps every 250 ms, so BIRD's figure is late by up to a dump cycle).
//! Withdrawal: `birdc disable` until the table is empty.

#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Netns, can_run};
use fib_adapter::fib::{Fib, FibMsg, FibOptions, WINDOW};
use fib_adapter::metrics::Metrics;
use fib_adapter::netlink::Kernel;
use fib_adapter::route::RouteSpec;
use ipnet::IpNet;
use tokio::sync::mpsc;

const BATCH: usize = 1000;
const BIRD_PROTO: u8 = 12;
const LIMIT: Duration = Duration::from_secs(600);

fn prefix(i: usize) -> IpNet {
    // 16.0.0.0/4 holds 2^20 /24s.
    let base = (16u32 << 24) + ((i as u32) << 8);
    IpNet::new(IpAddr::V4(Ipv4Addr::from(base)), 24).unwrap()
}

fn namespace(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    ns.ip("link add link0 type veth peer name peer0");
    ns.ip("link set peer0 up");
    ns.ip("link set link0 up");
    ns.ip("addr add 10.0.0.1/24 dev link0");
    ns
}

/// Seconds to install and to remove `n` routes with fib-adapter's FIB task.
fn fib_adapter(n: usize) -> (f64, f64) {
    let ns = namespace("bfib");
    ns.block_on(move || async move {
        let spec = RouteSpec {
            table: 100,
            protocol: 186,
            metric: 20,
        };
        let (kernel, _conn) = Kernel::connect(spec).unwrap();
        let (fib, mut status) = Fib::new(
            kernel.clone(),
            FibOptions {
                stale_time: Duration::from_secs(3600),
                scan_interval: Duration::from_secs(3600),
                window: WINDOW,
            },
            Metrics::new(),
        )
        .unwrap();
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(fib.run(rx));
        let gw: IpAddr = "10.0.0.2".parse().unwrap();
        let run = |hops: Vec<IpAddr>| {
            let tx = tx.clone();
            async move {
                for start in (0..n).step_by(BATCH) {
                    let batch = (start..(start + BATCH).min(n))
                        .map(|i| (prefix(i), hops.clone()))
                        .collect();
                    tx.send(FibMsg::Routes(batch)).await.unwrap();
                }
            }
        };
        tx.send(FibMsg::Session).await.unwrap();
        tx.send(FibMsg::DumpDone).await.unwrap();
        let t = Instant::now();
        run(vec![gw]).await;
        let done = status.wait_for(|s| s.installed == n && s.pending == 0);
        tokio::time::timeout(LIMIT, done).await.unwrap().unwrap();
        let add = t.elapsed().as_secs_f64();
        assert_eq!(kernel.count(100, 186).await.unwrap(), n);
        let t = Instant::now();
        run(Vec::new()).await;
        let done = status.wait_for(|s| s.installed == 0 && s.pending == 0);
        tokio::time::timeout(LIMIT, done).await.unwrap().unwrap();
        let del = t.elapsed().as_secs_f64();
        assert_eq!(kernel.count(100, 186).await.unwrap(), 0);
        drop(tx);
        let _ = task.await;
        (add, del)
    })
}

struct Bird(Child);

impl Drop for Bird {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Seconds for BIRD's kernel protocol to install and to remove `n` routes.
fn bird(n: usize) -> (f64, f64) {
    let ns = namespace("bbird");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bird.conf");
    let sock = dir.path().join("bird.ctl");
    let mut text = String::with_capacity(n * 40 + 512);
    text.push_str(
        "router id 10.0.0.1;\nprotocol device {}\n\
         protocol kernel k4 {\n  ipv4 { import none; export all; };\n  kernel table 100;\n  \
         learn off;\n  scan time 3600;\n}\n\
         protocol static s4 {\n  disabled;\n  ipv4;\n",
    );
    for i in 0..n {
        let _ = writeln!(text, "  route {} via 10.0.0.2;", prefix(i));
    }
    text.push_str("}\n");
    std::fs::write(&conf, text).unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name, "bird", "-f", "-c"])
        .arg(&conf)
        .arg("-s")
        .arg(&sock)
        .arg("-P")
        .arg(dir.path().join("bird.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _bird = Bird(child);
    let birdc = |cmd: &str| {
        Command::new("birdc")
            .arg("-s")
            .arg(&sock)
            .arg(cmd)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let started = Instant::now();
    while !birdc("show status") {
        assert!(started.elapsed() < LIMIT, "BIRD did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    let count = |target: usize| -> f64 {
        let name = ns.name.clone();
        let t = Instant::now();
        ns.block_on(move || async move {
            let spec = RouteSpec {
                table: 100,
                protocol: BIRD_PROTO,
                metric: 0,
            };
            let (kernel, _conn) = Kernel::connect(spec).unwrap();
            loop {
                if kernel.count(100, BIRD_PROTO).await.unwrap() == target {
                    return;
                }
                assert!(t.elapsed() < LIMIT, "{name}: BIRD did not reach {target}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        t.elapsed().as_secs_f64()
    };
    assert!(birdc("enable s4"));
    let add = count(n);
    assert!(birdc("disable s4"));
    let del = count(0);
    (add, del)
}

#[test]
#[ignore = "benchmark: cargo test -p fib-adapter --release --test bench -- --ignored --nocapture"]
fn kernel_programming_rate() {
    if !can_run(&["ip", "bird", "birdc"]) {
        return;
    }
    let sizes: Vec<usize> = std::env::var("FIB_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut report = String::from(
        "| routes | fib-adapter add | fib-adapter remove | BIRD kernel add | BIRD kernel remove |\n\
         |---:|---:|---:|---:|---:|\n",
    );
    for n in sizes {
        let (fa, fd) = fib_adapter(n);
        let (ba, bd) = bird(n);
        let rate = |t: f64| format!("{:.2} s ({:.0}/s)", t, n as f64 / t);
        let _ = writeln!(
            report,
            "| {n} | {} | {} | {} | {} |",
            rate(fa),
            rate(fd),
            rate(ba),
            rate(bd)
        );
        println!("{report}");
    }
}
