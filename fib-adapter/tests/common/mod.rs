//! Helpers shared by the kernel tests, the lab test and the benchmark: namespaces that
//! remove themselves, running async code inside a namespace, reading routing tables.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Whether the test can run; prints why not when it cannot.
pub fn can_run(needs: &[&str]) -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to create network namespaces");
        return false;
    }
    for program in needs {
        let found = std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
        });
        if !found {
            eprintln!("skipped: `{program}` is not installed");
            return false;
        }
    }
    true
}

/// Runs a command, failing with its output when it fails.
pub fn run(argv: &[&str]) -> String {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace, deleted (with everything in it) when dropped.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!(
            "fibt-{}-{}-{}",
            tag,
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip("link set lo up");
        ns
    }

    /// `ip -n NS ARGS` (split on spaces).
    pub fn ip(&self, args: &str) -> String {
        let mut argv = vec!["ip", "-n", &self.name];
        argv.extend(args.split_whitespace());
        run(&argv)
    }

    /// `ip -n NS ARGS`, whatever its exit status; returns whether it succeeded.
    pub fn try_ip(&self, args: &str) -> bool {
        let mut argv = vec!["-n", self.name.as_str()];
        argv.extend(args.split_whitespace());
        Command::new("ip")
            .args(&argv)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs `f` on a thread inside the namespace with its own tokio runtime.
    pub fn block_on<F, T>(&self, f: impl FnOnce() -> F + Send + 'static) -> T
    where
        F: std::future::Future<Output = T>,
        T: Send + 'static,
    {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .unwrap_or_else(|e| panic!("setns {path}: {e}"));
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(f())
        })
        .join()
        .expect("namespace thread panicked")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Kill whatever still runs in it, then delete it.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A route as `ip -j route show` prints it, reduced to what the tests compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KRoute {
    pub dst: String,
    pub protocol: String,
    pub metric: u64,
    /// Gateways, sorted.
    pub gateways: Vec<String>,
    /// Devices, in gateway order.
    pub devs: Vec<String>,
}

/// Parses `ip -j route show` output.
pub fn parse_routes(json: &str) -> Vec<KRoute> {
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap_or_default();
    let mut out = Vec::new();
    for r in v.as_array().into_iter().flatten() {
        let s = |k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let mut hops: Vec<(String, String)> = Vec::new();
        if let Some(nh) = r.get("nexthops").and_then(|x| x.as_array()) {
            for h in nh {
                let g = h.get("gateway").and_then(|x| x.as_str()).unwrap_or("");
                let d = h.get("dev").and_then(|x| x.as_str()).unwrap_or("");
                hops.push((g.to_string(), d.to_string()));
            }
        } else if !s("gateway").is_empty() {
            hops.push((s("gateway"), s("dev")));
        }
        hops.sort();
        out.push(KRoute {
            dst: s("dst"),
            protocol: match s("protocol").as_str() {
                "bgp" => "186".to_string(),
                p => p.to_string(),
            },
            metric: r.get("metric").and_then(|x| x.as_u64()).unwrap_or(0),
            gateways: hops.iter().map(|h| h.0.clone()).collect(),
            devs: hops.iter().map(|h| h.1.clone()).collect(),
        });
    }
    out
}

/// `dst -> gateways` of the routes of one protocol; a prefix listed twice is an error.
pub fn by_protocol(
    routes: &[KRoute],
    protocol: &str,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    for r in routes.iter().filter(|r| r.protocol == protocol) {
        if out.insert(r.dst.clone(), r.gateways.clone()).is_some() {
            return Err(format!("{} is in the table twice", r.dst));
        }
    }
    Ok(out)
}

/// Builds an expected table from `(prefix, [gateways])`.
pub fn table(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(p, g)| {
            let mut g: Vec<String> = g.iter().map(|s| s.to_string()).collect();
            g.sort();
            (p.to_string(), g)
        })
        .collect()
}

/// Polls until `check` returns `Ok`, at most `timeout`; panics with the last error.
pub fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if Instant::now() >= deadline => {
                panic!("{what}: not true after {timeout:?}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The bgpd binary next to this test's target directory, built if missing.
pub fn bgpd_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // <target>/debug/deps/<test> -> <target>/debug
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .to_path_buf();
    let bgpd = profile_dir.join("bgpd");
    if !bgpd.is_file() {
        let target = profile_dir.parent().expect("target root");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "-p", "bgpd", "--bin", "bgpd"])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("run cargo build -p bgpd");
        assert!(status.success(), "cargo build -p bgpd failed");
    }
    bgpd
}
