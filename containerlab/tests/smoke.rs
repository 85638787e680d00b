//! The runner against real daemons: `smoke/smoke.clab.yml` (BIRD — FRR — GoBGP, eBGP over
//! IPv4 and IPv6) is built in namespaces, its sessions come up, routes cross FRR, a crashed
//! FRR is noticed and comes back, and nothing is left behind. Needs root (CI runs as root);
//! without it each test prints why it skips.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use petrel_lab::{Lab, LabError, LabOptions};
use serde_json::Value;

const CONVERGE: Duration = Duration::from_secs(30);
/// The hold time in every config of the lab.
const HOLD_TIME: Duration = Duration::from_secs(9);

fn smoke_topology() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("smoke/smoke.clab.yml")
}

fn have_root(test: &str) -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        eprintln!("skipping {test}: it creates network namespaces, which needs root");
    }
    root
}

fn bird_established(lab: &Lab, protocol: &str) -> bool {
    lab.birdc("bird", &format!("show protocols {protocol}"))
        .is_ok_and(|out| {
            out.lines()
                .any(|l| l.starts_with(protocol) && l.contains("Established"))
        })
}

fn frr_state(lab: &Lab, neighbor: &str) -> Option<String> {
    let out = lab
        .vtysh("frr", &format!("show bgp neighbors {neighbor} json"))
        .ok()?;
    let json: Value = serde_json::from_str(&out).ok()?;
    json[neighbor]["bgpState"].as_str().map(str::to_string)
}

fn gobgp_established(lab: &Lab, neighbor: &str) -> bool {
    let Ok(out) = lab.gobgp("gobgp", &["neighbor", "-j"]) else {
        return false;
    };
    let peers: Vec<Value> = serde_json::from_str(&out).unwrap_or_default();
    // session_state 6 is ESTABLISHED in GoBGP's API.
    peers
        .iter()
        .any(|p| p["conf"]["neighbor_address"] == neighbor && p["state"]["session_state"] == 6)
}

/// The AS path of GoBGP's best route for a prefix, if it has one.
fn gobgp_as_path(lab: &Lab, family: &str, prefix: &str) -> Option<Vec<u64>> {
    let out = lab
        .gobgp("gobgp", &["global", "rib", "-a", family, prefix, "-j"])
        .ok()?;
    let json: Value = serde_json::from_str(&out).ok()?;
    let best = json[prefix]
        .as_array()?
        .iter()
        .find(|p| p["best"] == true)?;
    let attrs = best["attrs"].as_array()?;
    let path = attrs.iter().find(|a| a["type"] == 2)?;
    Some(
        path["as_paths"]
            .as_array()?
            .iter()
            .flat_map(|seg| seg["asns"].as_array().cloned().unwrap_or_default())
            .filter_map(|asn| asn.as_u64())
            .collect(),
    )
}

fn all_established(lab: &Lab) -> bool {
    bird_established(lab, "frr_v4")
        && bird_established(lab, "frr_v6")
        && ["10.0.12.1", "fd00:12::1", "10.0.23.3", "fd00:23::3"]
            .iter()
            .all(|n| frr_state(lab, n).as_deref() == Some("Established"))
        && gobgp_established(lab, "10.0.23.2")
        && gobgp_established(lab, "fd00:23::2")
}

/// Namespaces of ours that `ip netns list` still shows.
fn remaining_namespaces(names: &[String]) -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    names
        .iter()
        .filter(|n| {
            listed
                .lines()
                .any(|l| l.split_whitespace().next() == Some(n))
        })
        .cloned()
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

fn pids_in(lab: &Lab) -> Vec<u32> {
    let mut pids = Vec::new();
    for ns in lab.namespaces() {
        let out = std::process::Command::new("ip")
            .args(["netns", "pids", &ns])
            .output()
            .expect("ip netns pids");
        pids.extend(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    pids
}

#[test]
fn smoke_lab_converges_survives_a_crash_and_leaves_nothing() -> Result<(), LabError> {
    if !have_root("smoke_lab_converges_survives_a_crash_and_leaves_nothing") {
        return Ok(());
    }
    let started = Instant::now();
    let mut lab = Lab::up(smoke_topology(), LabOptions::default())?;

    lab.wait_for(
        CONVERGE,
        "all six BGP sessions of the smoke lab to be Established",
        || all_established(&lab),
    )?;

    // BIRD's prefixes reach GoBGP through FRR, and GoBGP's reach BIRD, with both ASes.
    lab.wait_for(
        Duration::from_secs(10),
        "BIRD's 10.1.1.0/24 and fd01:1::/48 at GoBGP with AS path 65002 65001",
        || {
            gobgp_as_path(&lab, "ipv4", "10.1.1.0/24") == Some(vec![65002, 65001])
                && gobgp_as_path(&lab, "ipv6", "fd01:1::/48") == Some(vec![65002, 65001])
        },
    )?;
    lab.wait_for(
        Duration::from_secs(10),
        "GoBGP's 10.3.1.0/24 at BIRD with AS path 65002 65003",
        || {
            lab.birdc("bird", "show route for 10.3.1.0/24 all")
                .is_ok_and(|out| out.contains("BGP.as_path: 65002 65003"))
        },
    )?;

    // A crash: BIRD must see the session go within the hold time.
    let frr_pid = lab.pid("frr")?.expect("FRR runs");
    lab.kill("frr")?;
    assert!(!alive(frr_pid), "FRR (pid {frr_pid}) survived SIGKILL");
    assert_eq!(lab.pid("frr")?, None);
    lab.wait_for(
        HOLD_TIME + Duration::from_secs(1),
        "BIRD to notice that FRR is gone (within the hold time)",
        || !bird_established(&lab, "frr_v4") && !bird_established(&lab, "frr_v6"),
    )?;
    assert!(
        gobgp_as_path(&lab, "ipv4", "10.1.1.0/24").is_none(),
        "GoBGP still has BIRD's route although FRR is gone"
    );

    // FRR comes back, and so do its sessions and the routes through it.
    lab.start("frr")?;
    lab.wait_for(CONVERGE, "all sessions back after FRR's restart", || {
        all_established(&lab)
    })?;
    lab.wait_for(
        Duration::from_secs(10),
        "BIRD's 10.1.1.0/24 back at GoBGP after FRR's restart",
        || gobgp_as_path(&lab, "ipv4", "10.1.1.0/24") == Some(vec![65002, 65001]),
    )?;

    // A clean stop (SIGTERM): FRR sees GoBGP's sessions close.
    lab.stop("gobgp")?;
    lab.wait_for(
        HOLD_TIME,
        "FRR to see GoBGP's sessions end after SIGTERM",
        || {
            frr_state(&lab, "10.0.23.3").is_some_and(|s| s != "Established")
                && frr_state(&lab, "fd00:23::3").is_some_and(|s| s != "Established")
        },
    )?;

    let namespaces = lab.namespaces();
    let pids = pids_in(&lab);
    assert_eq!(namespaces.len(), 3);
    assert!(
        pids.len() >= 2,
        "expected BIRD and FRR running, found {pids:?}"
    );
    let dir = lab.dir().to_path_buf();
    drop(lab);
    assert_eq!(remaining_namespaces(&namespaces), Vec::<String>::new());
    let left: Vec<u32> = pids.into_iter().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "processes left after drop: {left:?}");
    assert!(!dir.exists(), "{} left after drop", dir.display());
    eprintln!("smoke lab test took {:?}", started.elapsed());
    Ok(())
}

/// A lab of plain hosts: exec lines, veth pairs with the endpoint names, and clean-up of
/// processes the exec lines leave running.
fn write_hosts_topology(dir: &Path) -> PathBuf {
    let path = dir.join("hosts.clab.yml");
    std::fs::write(
        &path,
        r#"name: hosts
topology:
  nodes:
    h1:
      kind: linux
      image: alpine:3.20
      exec:
        - ip addr add 10.0.99.1/24 dev eth1
        - ip -6 addr add fd00:99::1/64 dev eth1 nodad
        - sh -c 'sleep 600 >/dev/null 2>&1 &'
    h2:
      kind: linux
      image: alpine:3.20
      env:
        GREETING: hello
      exec:
        - ip addr add 10.0.99.2/24 dev net0
        - ip -6 addr add fd00:99::2/64 dev net0 nodad
  links:
    - endpoints: ["h1:eth1", "h2:net0"]
"#,
    )
    .expect("write topology");
    path
}

#[test]
fn plain_hosts_are_linked_and_down_removes_everything() -> Result<(), LabError> {
    if !have_root("plain_hosts_are_linked_and_down_removes_everything") {
        return Ok(());
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut lab = Lab::up(write_hosts_topology(tmp.path()), LabOptions::default())?;

    let ping = lab.exec("h1", &["ping", "-c", "1", "-W", "2", "10.0.99.2"])?;
    assert!(
        ping.status.success(),
        "ping over the veth pair failed: {ping:?}"
    );
    let ping6 = lab.exec("h2", &["ping", "-6", "-c", "1", "-W", "2", "fd00:99::1"])?;
    assert!(ping6.status.success(), "IPv6 ping failed: {ping6:?}");
    let links = lab.exec("h2", &["ip", "-br", "link"])?;
    assert!(String::from_utf8_lossy(&links.stdout).contains("net0@"));
    let env = lab.sh("h2", "echo $GREETING")?;
    assert_eq!(String::from_utf8_lossy(&env.stdout).trim(), "hello");
    // The host's namespace is not the node's.
    let host_links = std::process::Command::new("ip")
        .args(["-br", "addr"])
        .output()
        .expect("ip addr");
    assert!(!String::from_utf8_lossy(&host_links.stdout).contains("10.0.99."));

    assert!(matches!(lab.kill("h1"), Err(LabError::NoDaemon(_))));
    assert!(matches!(
        lab.birdc("h1", "show status"),
        Err(LabError::Command { .. })
    ));
    assert!(matches!(
        lab.exec("nope", &["true"]),
        Err(LabError::NoSuchNode(_))
    ));
    let err = lab
        .wait_for(
            Duration::from_millis(300),
            "something that never happens",
            || false,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("something that never happens"),
        "{err}"
    );

    let namespaces = lab.namespaces();
    let pids = pids_in(&lab);
    assert!(!pids.is_empty(), "the exec line's sleep should be running");
    lab.down()?;
    assert_eq!(remaining_namespaces(&namespaces), Vec::<String>::new());
    let left: Vec<u32> = pids.into_iter().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "processes left after down: {left:?}");
    Ok(())
}

#[test]
fn a_panic_with_a_lab_still_tears_it_down() {
    if !have_root("a_panic_with_a_lab_still_tears_it_down") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write_hosts_topology(tmp.path());
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let mut options = LabOptions::default();
        options.keep_dir_on_failure = false;
        let lab = Lab::up(path, options).expect("lab up");
        tx.send((lab.namespaces(), pids_in(&lab), lab.dir().to_path_buf()))
            .expect("send");
        panic!("deliberate panic with a lab alive");
    })
    .join();
    assert!(result.is_err(), "the thread should have panicked");
    let (namespaces, pids, dir) = rx.recv().expect("lab details");
    assert_eq!(remaining_namespaces(&namespaces), Vec::<String>::new());
    assert!(pids.iter().all(|&p| !alive(p)), "processes left: {pids:?}");
    assert!(!dir.exists(), "{} left after the panic", dir.display());
}
