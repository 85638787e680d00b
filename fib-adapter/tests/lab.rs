//! fib-adapter end to end, in the `tests/lab/fib.clab.yml` lab (network namespaces built
//! by petrel-lab): bgpd learns routes from real BIRD peers, fib-adapter (this crate's
//! binary, run in the router's namespace) installs them, and packets flow between two
//! hosts only through what it installed. Then withdrawals, ECMP, restarts of fib-adapter
//! and of bgpd, and the stale timer.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{bgpd_binary, by_protocol, can_run, eventually, parse_routes, table};
use petrel_lab::{Lab, LabOptions};

const TOPOLOGY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lab/fib.clab.yml");
const CONVERGE: Duration = Duration::from_secs(45);

/// fib-adapter running in a lab node's namespace; killed when dropped, and its log
/// printed if that happens during a panic.
struct FibAdapter {
    node: String,
    child: Option<Child>,
    log: PathBuf,
    argv: Vec<String>,
}

impl FibAdapter {
    fn start(lab: &Lab, node: &str, config: &str) -> FibAdapter {
        let dir = lab.dir();
        let cfg = dir.join(format!("{node}-fib.toml"));
        std::fs::write(&cfg, config).expect("write fib-adapter config");
        let socket = lab.bgpd_socket(node).expect("socket");
        let argv = vec![
            "netns".to_string(),
            "exec".to_string(),
            lab.netns(node).expect("netns").to_string(),
            env!("CARGO_BIN_EXE_fib-adapter").to_string(),
            "--api".to_string(),
            format!("unix://{}", socket.display()),
            "--table".to_string(),
            "100".to_string(),
            "--config".to_string(),
            cfg.display().to_string(),
            "--metrics".to_string(),
            "127.0.0.1:9186".to_string(),
        ];
        let mut f = FibAdapter {
            node: node.to_string(),
            child: None,
            log: dir.join(format!("{node}-fib.log")),
            argv,
        };
        f.spawn();
        f
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new("ip")
            .args(&self.argv)
            .env("RUST_LOG", "info,fib_adapter=debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn fib-adapter");
        self.child = Some(child);
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for FibAdapter {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!(
                "----- fib-adapter on {} -----\n{}",
                self.node,
                tail.join("\n")
            );
        }
    }
}

/// Table 100 of a node, both families.
fn routes(lab: &Lab, node: &str) -> Vec<common::KRoute> {
    let mut all = Vec::new();
    for family in ["-4", "-6"] {
        if let Ok(out) = lab.exec(node, &["ip", "-j", family, "route", "show", "table", "100"]) {
            all.extend(parse_routes(&String::from_utf8_lossy(&out.stdout)));
        }
    }
    all
}

/// fib-adapter's routes (protocol 186) in table 100, `dst -> gateways`.
fn ours(lab: &Lab, node: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    by_protocol(&routes(lab, node), "186")
}

fn expect(lab: &Lab, node: &str, want: &BTreeMap<String, Vec<String>>, what: &str) {
    eventually(CONVERGE, &format!("{node}: {what}"), || {
        let got = ours(lab, node)?;
        if &got == want {
            Ok(())
        } else {
            Err(format!(
                "table 100 of {node} is\n{got:#?}\nwanted\n{want:#?}"
            ))
        }
    });
}

/// Routes of other protocols in r1's table 100, as the test put them there.
fn foreign(lab: &Lab) -> Vec<common::KRoute> {
    let mut r: Vec<_> = routes(lab, "r1")
        .into_iter()
        .filter(|r| r.protocol != "186")
        .collect();
    r.sort_by(|a, b| a.dst.cmp(&b.dst).then(a.metric.cmp(&b.metric)));
    r
}

fn ping(lab: &Lab, from: &str, to: &str, count: &str) -> bool {
    let mut argv = vec!["ping", "-c", count, "-W", "1", "-i", "0.2"];
    if to.contains(':') {
        argv.insert(1, "-6");
    }
    argv.push(to);
    lab.exec(from, &argv).is_ok_and(|o| o.status.success())
}

fn metrics(lab: &Lab, node: &str) -> String {
    let script = "exec 3<>/dev/tcp/127.0.0.1/9186 && \
                  printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 5 cat <&3";
    lab.exec(node, &["bash", "-c", script])
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

const R1_FIB: &str = r#"
stale_time = 300
scan_interval = 1
[redistribute]
connected = ["eth1"]
[[redistribute.kernel]]
table = 200
protocol = "static"
"#;

const R2_FIB: &str = r#"
stale_time = 3
scan_interval = 1
[redistribute]
connected = ["eth2"]
"#;

#[test]
fn bgpd_routes_reach_the_kernel_and_packets_flow() {
    if !can_run(&["ip", "bird", "birdc", "ping", "bash"]) {
        return;
    }
    let bgpd = bgpd_binary();
    let mut options = LabOptions::default();
    options.bgpd = Some(bgpd);
    let mut lab = Lab::up(TOPOLOGY, options).expect("lab up");

    // Routes that are not fib-adapter's: a static route, one for a prefix bgpd also
    // learns (another metric), one with fib-adapter's metric (a conflict it must leave
    // alone), an IPv6 one; and leftovers of fib-adapter's protocol that bgpd does not want.
    for cmd in [
        "ip route add 10.77.0.0/24 via 10.0.4.2 table 100 proto static",
        "ip route add 10.1.1.0/24 via 10.0.5.2 table 100 proto static metric 50",
        "ip route add 10.1.2.0/24 via 10.0.5.2 table 100 proto static metric 20",
        "ip -6 route add fd01:77::/48 via fd00:4::2 table 100 proto static",
        "ip route add 10.66.0.0/24 via 10.0.4.2 table 100 proto 186 metric 20",
        "ip -6 route add fd01:66::/48 via fd00:4::2 table 100 proto 186 metric 20",
        "ip route add blackhole 10.55.0.0/24 table 200 proto static",
    ] {
        let out = lab.sh("r1", cmd).expect("exec");
        assert!(out.status.success(), "{cmd}: {out:?}");
    }
    let foreign_before = foreign(&lab);
    assert_eq!(foreign_before.len(), 4);
    assert!(
        !ping(&lab, "h1", "10.0.3.2", "1"),
        "h1 reaches h2 before fib-adapter installed anything"
    );

    let r1_full = table(&[
        ("10.0.3.0/24", &["10.0.2.2"]),
        ("10.1.1.0/24", &["10.0.4.2"]),
        ("10.2.1.0/24", &["10.0.5.2"]),
        ("10.99.0.0/24", &["10.0.4.2", "10.0.5.2"]),
        ("fd00:3::/64", &["fd00:2::2"]),
        ("fd01:1::/48", &["fd00:4::2"]),
        ("fd01:2::/48", &["fd00:5::2"]),
        ("fd01:99::/48", &["fd00:4::2", "fd00:5::2"]),
    ]);
    let r2_full = table(&[
        ("10.0.1.0/24", &["10.0.2.1"]),
        ("10.1.1.0/24", &["10.0.2.1"]),
        ("10.1.2.0/24", &["10.0.2.1"]),
        ("10.2.1.0/24", &["10.0.2.1"]),
        ("10.55.0.0/24", &["10.0.2.1"]),
        ("10.99.0.0/24", &["10.0.2.1"]),
        ("fd00:1::/64", &["fd00:2::1"]),
        ("fd01:1::/48", &["fd00:2::1"]),
        ("fd01:2::/48", &["fd00:2::1"]),
        ("fd01:99::/48", &["fd00:2::1"]),
    ]);
    // bird1 (lower router id) has the best path for the shared prefixes, so withdrawing its
    // routes changes the best path and the ECMP set together.
    let mut without_bird1_v4 = r1_full.clone();
    without_bird1_v4.remove("10.1.1.0/24");
    without_bird1_v4.insert("10.99.0.0/24".to_string(), vec!["10.0.5.2".to_string()]);
    let mut r2_without_bird1_v4 = r2_full.clone();
    r2_without_bird1_v4.remove("10.1.1.0/24");
    r2_without_bird1_v4.remove("10.1.2.0/24");

    // 1. Install: every route with the right next hops, ECMP as multipath, leftovers gone.
    let mut fib1 = FibAdapter::start(&lab, "r1", R1_FIB);
    let mut fib2 = FibAdapter::start(&lab, "r2", R2_FIB);
    expect(&lab, "r1", &r1_full, "all of bgpd's routes installed");
    expect(&lab, "r2", &r2_full, "all of bgpd's routes installed");
    let r1 = routes(&lab, "r1");
    let ecmp = r1
        .iter()
        .find(|r| r.dst == "10.99.0.0/24" && r.protocol == "186")
        .expect("ECMP route");
    assert_eq!(
        ecmp.devs,
        vec!["eth3", "eth4"],
        "ECMP next hops on their links"
    );
    assert_eq!(ecmp.metric, 20);
    assert_eq!(
        foreign(&lab),
        foreign_before,
        "routes of other protocols changed"
    );

    // 2. Packets flow between the hosts through the installed routes, both families.
    assert!(
        ping(&lab, "h1", "10.0.3.2", "3"),
        "h1 cannot reach h2 over IPv4"
    );
    assert!(
        ping(&lab, "h2", "fd00:1::2", "3"),
        "h2 cannot reach h1 over IPv6"
    );

    // 3. A withdrawal removes routes and shrinks the ECMP set; re-announcing restores them.
    lab.birdc("bird1", "disable static4").expect("birdc");
    expect(
        &lab,
        "r1",
        &without_bird1_v4,
        "bird1's IPv4 routes withdrawn",
    );
    lab.birdc("bird1", "enable static4").expect("birdc");
    expect(&lab, "r1", &r1_full, "bird1's IPv4 routes back");
    // bird2's path is in the ECMP set without being best: losing it and getting it back
    // changes only the multipath set.
    let mut without_bird2_v4 = r1_full.clone();
    without_bird2_v4.remove("10.2.1.0/24");
    without_bird2_v4.insert("10.99.0.0/24".to_string(), vec!["10.0.4.2".to_string()]);
    lab.birdc("bird2", "disable static4").expect("birdc");
    expect(
        &lab,
        "r1",
        &without_bird2_v4,
        "bird2's IPv4 routes withdrawn",
    );
    lab.birdc("bird2", "enable static4").expect("birdc");
    expect(&lab, "r1", &r1_full, "bird2's IPv4 routes back");

    // 4. fib-adapter killed; a withdrawal while it is down; restarted: it reconciles.
    fib1.kill();
    lab.birdc("bird1", "disable static4").expect("birdc");
    expect(&lab, "r2", &r2_without_bird1_v4, "r2 saw the withdrawal");
    assert_eq!(
        ours(&lab, "r1").expect("table"),
        r1_full,
        "routes stay while it is down"
    );
    fib1.spawn();
    expect(&lab, "r1", &without_bird1_v4, "reconciled after a restart");
    lab.birdc("bird1", "enable static4").expect("birdc");
    expect(&lab, "r1", &r1_full, "bird1's IPv4 routes back");
    assert_eq!(
        foreign(&lab),
        foreign_before,
        "routes of other protocols changed"
    );

    // 5. bgpd restarts: the kernel keeps forwarding meanwhile, then everything resyncs,
    //    including the prefixes fib-adapter announced into it.
    lab.kill("r1").expect("kill bgpd");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        ours(&lab, "r1").expect("table"),
        r1_full,
        "routes stay while bgpd is away"
    );
    lab.start("r1").expect("start bgpd");
    expect(&lab, "r1", &r1_full, "resynced after bgpd restarted");
    expect(
        &lab,
        "r2",
        &r2_full,
        "r1's redistributed prefixes back at r2",
    );
    assert!(fib1.running(), "fib-adapter exited while bgpd restarted");
    assert!(
        ping(&lab, "h1", "10.0.3.2", "3"),
        "h1 cannot reach h2 after the restart"
    );

    // 6. r2's bgpd away longer than r2's stale time (3 s): its routes are flushed, then
    //    come back with bgpd.
    lab.kill("r2").expect("kill bgpd");
    assert!(
        !ours(&lab, "r2").expect("table").is_empty(),
        "flushed before the stale time"
    );
    expect(&lab, "r2", &BTreeMap::new(), "flushed after the stale time");
    lab.start("r2").expect("start bgpd");
    expect(&lab, "r2", &r2_full, "back after bgpd restarted");
    expect(&lab, "r1", &r1_full, "r2's prefixes back at r1");
    assert!(
        ping(&lab, "h1", "10.0.3.2", "3"),
        "h1 cannot reach h2 at the end"
    );
    assert!(fib2.running(), "fib-adapter on r2 exited");

    // 7. A redistributed kernel route disappears: it is withdrawn from bgpd (DeletePath),
    //    and r2 loses it.
    let out = lab
        .sh(
            "r1",
            "ip route del blackhole 10.55.0.0/24 table 200 proto static",
        )
        .expect("exec");
    assert!(out.status.success(), "{out:?}");
    let mut r2_without_55 = r2_full.clone();
    r2_without_55.remove("10.55.0.0/24");
    expect(
        &lab,
        "r2",
        &r2_without_55,
        "10.55.0.0/24 withdrawn from bgpd",
    );

    // 8. Other protocols untouched all along; metrics tell what happened.
    assert_eq!(
        foreign(&lab),
        foreign_before,
        "routes of other protocols changed"
    );
    let m = metrics(&lab, "r1");
    for line in [
        "fib_routes_installed{family=\"ipv4\"} 4",
        "fib_routes_installed{family=\"ipv6\"} 4",
        "fib_bgpd_connected 1",
        "fib_redistributed_prefixes 2",
    ] {
        assert!(m.contains(line), "{line} missing from r1's metrics:\n{m}");
    }
    assert!(m.contains("fib_reconcile_duration_seconds_count"), "{m}");
    assert!(metrics(&lab, "r2").contains("fib_stale_flushes_total 1"));

    drop(fib1);
    drop(fib2);
    lab.down().expect("teardown");
}
