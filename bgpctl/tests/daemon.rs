//! bgpctl against the real bgpd: a daemon with no BGP listener and its API on a unix socket
//! in a temporary directory.
//!
//! The bgpd binary is taken from the same target directory as this test
//! (`target/debug/bgpd`); when it is missing it is built first with `cargo build -p bgpd`.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Running, bgpctl, bgpd_binary};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// How long bgpd may take to open its socket.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A bgpd with its API at `<dir>/bgpd.sock`.
struct Daemon {
    process: Running,
    dir: tempfile::TempDir,
    api: String,
}

impl Daemon {
    /// A daemon of AS 65000 with no BGP listener.
    fn start() -> Daemon {
        Daemon::with_config("[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\nlisten = []\n")
    }

    /// A daemon with this configuration and an `[api]` section added.
    fn with_config(config_text: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("temporary directory");
        let socket = dir.path().join("bgpd.sock");
        let config = dir.path().join("bgpd.toml");
        fs::write(
            &config,
            format!("{config_text}\n[api]\nsocket = \"{}\"\n", socket.display()),
        )
        .expect("write bgpd.toml");
        let log = fs::File::create(dir.path().join("bgpd.log")).expect("create bgpd.log");
        let child = Command::new(bgpd_binary())
            .arg("--config")
            .arg(&config)
            .arg("--log")
            .arg("debug")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start bgpd");
        let mut process = Running(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while UnixStream::connect(&socket).is_err() {
            if let Ok(Some(status)) = process.0.try_wait() {
                panic!(
                    "bgpd exited with {status} before opening its API socket:\n{}",
                    log_of(dir.path())
                );
            }
            assert!(
                Instant::now() < deadline,
                "bgpd did not open {} within {START_TIMEOUT:?}:\n{}",
                socket.display(),
                log_of(dir.path())
            );
            thread::sleep(Duration::from_millis(50));
        }
        let api = format!("unix://{}", socket.display());
        Daemon { process, dir, api }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = bgpctl();
        cmd.arg("--api").arg(&self.api).args(args);
        cmd
    }

    /// Runs bgpctl and returns what it printed; panics (with bgpd's log) when it fails.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "bgpctl {args:?} failed with {}: {}\nbgpd's log:\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr),
            log_of(self.dir.path())
        );
        String::from_utf8(o.stdout).expect("UTF-8 output")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run bgpctl")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut argv = vec!["-o", "json"];
        argv.extend_from_slice(args);
        let text = self.ok(&argv);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{argv:?}: {e}: {text}"))
    }
}

fn log_of(dir: &Path) -> String {
    fs::read_to_string(dir.join("bgpd.log")).unwrap_or_default()
}

/// Asserts a refusal: exit status 1 and one line on stderr starting with `prefix`.
fn assert_refused(o: &Output, prefix: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(prefix),
        "expected {prefix:?}..., got {stderr:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
}

#[test]
fn global_routes_and_neighbors() {
    let d = Daemon::start();

    let global = d.ok(&["global"]);
    assert!(global.contains("AS:              65000\n"), "{global}");
    assert!(global.contains("Router ID:       10.0.0.1\n"), "{global}");
    assert!(global.contains("Listen:          none"), "{global}");
    let g = d.json(&["global"]);
    assert_eq!(g["asn"], 65000);
    assert_eq!(g["router_id"], "10.0.0.1");

    // Routes: add, list (table and JSON), count, delete.
    d.ok(&[
        "rib",
        "add",
        "192.0.2.0/24",
        "--community",
        "65000:1",
        "no-export",
    ]);
    let table = d.ok(&["rib", "list"]);
    let line = table
        .lines()
        .find(|l| l.contains("192.0.2.0/24"))
        .unwrap_or_else(|| panic!("192.0.2.0/24 not listed:\n{table}"));
    assert!(line.starts_with('*'), "not marked best: {line}");
    assert!(line.contains("65000:1 no-export"), "{line}");
    let routes = d.json(&["rib", "list"]);
    let routes = routes["routes"].as_array().expect("routes array");
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(routes[0]["prefix"], "192.0.2.0/24");
    assert_eq!(
        routes[0]["communities"],
        serde_json::json!(["65000:1", "no-export"])
    );
    assert_eq!(routes[0]["best"], true);
    assert_eq!(routes[0]["source_peer"], Value::Null);
    let found = d.json(&["rib", "list", "192.0.2.77"]);
    assert_eq!(
        found["routes"][0]["prefix"], "192.0.2.0/24",
        "covering route of an address"
    );
    let counts = d.json(&["rib", "count"]);
    assert_eq!(
        (
            counts["ipv4_prefixes"].as_u64(),
            counts["ipv6_prefixes"].as_u64()
        ),
        (Some(1), Some(0))
    );

    d.ok(&["rib", "del", "192.0.2.0/24"]);
    let table = d.ok(&["rib", "list"]);
    assert!(
        !table.contains("192.0.2.0/24"),
        "still listed after rib del:\n{table}"
    );
    assert_refused(
        &d.run(&["rib", "del", "192.0.2.0/24"]),
        "bgpctl: rib del: not found: ",
    );

    // Neighbors: add, list, show, refuse a duplicate, delete.
    d.ok(&[
        "neighbor",
        "add",
        "127.0.0.9",
        "--as",
        "65009",
        "--passive",
        "--description",
        "lab peer",
    ]);
    let list = d.ok(&["neighbor", "list"]);
    let line = list
        .lines()
        .find(|l| l.starts_with("127.0.0.9 "))
        .unwrap_or_else(|| panic!("127.0.0.9 not listed:\n{list}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells[1], "65009", "{line}");
    assert!(
        matches!(cells[2], "Idle" | "Active"),
        "a passive peer with no partner: {line}"
    );
    assert!(line.ends_with("lab peer"), "{line}");
    let show = d.ok(&["neighbor", "show", "127.0.0.9"]);
    assert!(
        show.starts_with("BGP neighbor 127.0.0.9, remote AS 65009\n"),
        "{show}"
    );
    assert!(show.contains("  Passive:         yes\n"), "{show}");
    let n = d.json(&["neighbor", "list"]);
    assert_eq!(n["neighbors"][0]["address"], "127.0.0.9");
    assert_eq!(n["neighbors"][0]["passive"], true);
    assert!(
        matches!(n["neighbors"][0]["state"].as_str(), Some("idle" | "active")),
        "{n}"
    );
    assert_refused(
        &d.run(&["neighbor", "add", "127.0.0.9", "--as", "65009"]),
        "bgpctl: neighbor add: already exists: ",
    );
    d.ok(&["neighbor", "del", "127.0.0.9"]);
    let list = d.ok(&["neighbor", "list"]);
    assert!(
        !list.contains("127.0.0.9"),
        "still listed after neighbor del:\n{list}"
    );
    assert_refused(
        &d.run(&["neighbor", "show", "127.0.0.9"]),
        "bgpctl: neighbor show: not found: ",
    );
}

#[test]
fn monitor_follows_best_paths_until_interrupted() {
    let d = Daemon::start();
    let mut monitor = d
        .command(&["-o", "json", "monitor", "--routes", "--dump"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bgpctl monitor");
    let stdout = monitor.stdout.take().expect("monitor's stdout");
    let mut monitor = Running(monitor);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    // With --dump the first line (there are no routes yet) says that the watch is in place.
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("no dump_done from monitor");
    let first: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert_eq!(first["type"], "dump_done", "{first}");

    d.ok(&["rib", "add", "198.51.100.0/24", "--med", "7"]);
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("no event from monitor in 10 s");
    let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(event["type"], "best_path", "{event}");
    assert_eq!(event["prefix"], "198.51.100.0/24", "{event}");
    assert_eq!(event["kind"], "added", "{event}");
    assert_eq!(event["best"]["med"], 7, "{event}");

    d.ok(&["rib", "del", "198.51.100.0/24"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no withdrawal event from bgpctl monitor in 10 s");
        let e: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if e["kind"] == "withdrawn" {
            assert_eq!(e["prefix"], "198.51.100.0/24", "{e}");
            break;
        }
    }

    // Ctrl-C ends it with status 0.
    kill(Pid::from_raw(monitor.0.id() as i32), Signal::SIGINT).expect("send SIGINT");
    let status = monitor.0.wait().expect("wait for bgpctl monitor");
    assert!(status.success(), "bgpctl monitor after Ctrl-C: {status}");
}

#[test]
fn monitor_exits_3_when_bgpd_stops() {
    let d = Daemon::start();
    let mut monitor = d
        .command(&["monitor", "--dump"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bgpctl monitor");
    let stdout = monitor.stdout.take().expect("monitor's stdout");
    let mut lines = BufReader::new(stdout).lines();
    // Once the dump is done, the watch is in place.
    let first = lines.next().expect("a line from monitor").expect("UTF-8");
    assert!(
        first.ends_with("initial dump done, following changes"),
        "{first}"
    );

    kill(Pid::from_raw(d.process.0.id() as i32), Signal::SIGTERM).expect("stop bgpd");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(monitor.wait_with_output());
    });
    let o = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("bgpctl monitor still running 10 s after bgpd stopped")
        .expect("wait for bgpctl monitor");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with(&format!("bgpctl: cannot reach bgpd at {}: ", d.api)),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A port on `ip` that nothing listened on a moment ago.
fn free_port(ip: &str) -> u16 {
    let listener = std::net::TcpListener::bind((ip, 0)).expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Waits (at most 20 s) until `neighbor` is Established on `d`.
fn wait_established(d: &Daemon, neighbor: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = d.json(&["neighbor", "show", neighbor]);
        if n["state"] == "established" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{neighbor} not established in 20 s: {n}\nbgpd's log:\n{}",
            log_of(d.dir.path())
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (at most 10 s) until `d`'s `args` (JSON) satisfies `done`.
fn wait_for(d: &Daemon, args: &[&str], done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = d.json(args);
        if done(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{args:?} did not change in 10 s: {v}"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn two_daemons_peer_and_exchange_routes() {
    let (port_a, port_b) = (free_port("127.0.0.1"), free_port("127.0.0.2"));
    let a = Daemon::with_config(&format!(
        "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\nlisten = [\"127.0.0.1:{port_a}\"]\n\
         connect_retry = 1\n\n\
         [[neighbors]]\naddress = \"127.0.0.2\"\nport = {port_b}\npeer_asn = 65001\n\
         local_address = \"127.0.0.1\"\ndescription = \"lab-b\"\n"
    ));
    let b = Daemon::with_config(&format!(
        "[global]\nasn = 65001\nrouter_id = \"10.0.0.2\"\nlisten = [\"127.0.0.2:{port_b}\"]\n\
         connect_retry = 1\n\n\
         [[neighbors]]\naddress = \"127.0.0.1\"\nport = {port_a}\npeer_asn = 65000\n\
         local_address = \"127.0.0.2\"\n\n\
         [[originate]]\nprefix = \"203.0.113.0/24\"\ncommunities = [\"65001:7\"]\n"
    ));
    wait_established(&a, "127.0.0.2");

    // a received b's route: in its Adj-RIB-In and as best path, from the peer.
    let rib_in = wait_for(
        &a,
        &["rib", "list", "--table", "in", "--peer", "127.0.0.2"],
        |v| v["routes"].as_array().is_some_and(|r| !r.is_empty()),
    );
    let route = &rib_in["routes"][0];
    assert_eq!(route["prefix"], "203.0.113.0/24", "{rib_in}");
    assert_eq!(route["as_path"], "65001", "{rib_in}");
    assert_eq!(
        route["communities"],
        serde_json::json!(["65001:7"]),
        "{rib_in}"
    );
    let table = a.ok(&["rib", "list"]);
    let line = table
        .lines()
        .find(|l| l.contains("203.0.113.0/24"))
        .expect("route in Loc-RIB");
    assert!(
        line.starts_with("*  203.0.113.0/24  127.0.0.2  65001 "),
        "{table}"
    );
    assert!(line.ends_with("127.0.0.2"), "{table}");

    let list = a.ok(&["neighbor", "list"]);
    let line = list
        .lines()
        .find(|l| l.starts_with("127.0.0.2 "))
        .expect("neighbor listed");
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cells[..3], ["127.0.0.2", "65001", "Established"], "{list}");
    assert!(
        cells[3].len() == 8 && cells[3].chars().nth(2) == Some(':'),
        "uptime {line}"
    );
    assert_eq!(&cells[4..], ["1", "1", "0", "lab-b"], "{list}");

    // a route added on a reaches b, with b's view of where it came from.
    a.ok(&[
        "rib",
        "add",
        "198.51.100.0/24",
        "--large-community",
        "65000:1:2",
    ]);
    let on_b = wait_for(&b, &["rib", "list", "198.51.100.0/24"], |v| {
        v["routes"].as_array().is_some_and(|r| !r.is_empty())
    });
    assert_eq!(on_b["routes"][0]["source_peer"], "127.0.0.1", "{on_b}");
    assert_eq!(
        on_b["routes"][0]["large_communities"],
        serde_json::json!(["65000:1:2"]),
        "{on_b}"
    );
    let out = a.json(&["rib", "count", "--table", "out", "--peer", "127.0.0.2"]);
    assert_eq!(out["ipv4_prefixes"], 1, "{out}");

    a.ok(&["neighbor", "softreset", "127.0.0.2"]);
    a.ok(&["neighbor", "softreset", "127.0.0.2", "--in"]);

    // Disabled, the session stays down and says why; enabled, it comes back.
    a.ok(&[
        "neighbor",
        "disable",
        "127.0.0.2",
        "--message",
        "maintenance",
    ]);
    let list = a.ok(&["neighbor", "list"]);
    assert!(list.contains("  Idle (Admin)  "), "{list}");
    wait_for(&b, &["neighbor", "show", "127.0.0.1"], |v| {
        v["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("maintenance"))
    });
    a.ok(&["neighbor", "enable", "127.0.0.2"]);
    wait_established(&a, "127.0.0.2");
}
