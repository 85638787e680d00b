//! bgpctl driving a bgpd that peers with a real BIRD, in network namespaces built by the lab
//! runner (`petrel-lab`) from `tests/lab/bird.clab.yml`: routes added with `bgpctl rib add`
//! reach BIRD with their communities and bgpd's AS path, BIRD's routes show in `rib list`,
//! `rib del` withdraws at BIRD, and `neighbor list` shows the session and its prefix counts.
//!
//! Needs root (for the namespaces) and BIRD 2 (`bird`, `birdc`); without either it prints why
//! and passes. Only the lab's own namespaces are touched, every wait is bounded, and the lab
//! is torn down when the test ends, also when it fails (the daemons' logs are printed then).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{bgpctl, bgpd_binary, output_within};
use petrel_lab::{Lab, LabOptions};
use serde_json::Value;

/// How long the session may take to come up, or a route to arrive or go, anywhere.
const WAIT: Duration = Duration::from_secs(20);
/// BIRD's address on the link, and bgpd's.
const BIRD: &str = "10.0.1.2";
const BGPD: &str = "10.0.1.1";
/// The route the test originates through bgpctl.
const OURS: &str = "10.100.0.0/24";

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("not root (the lab needs network namespaces)".into());
    }
    for program in ["bird", "birdc"] {
        if Command::new(program).arg("--version").output().is_err() {
            return Some(format!("no `{program}` command (Debian package bird2)"));
        }
    }
    None
}

/// bgpctl against the lab's bgpd.
struct Ctl {
    api: String,
}

impl Ctl {
    /// Runs bgpctl with `-o json`; `None` when it fails (bgpd not ready, a route not there).
    /// Like every bgpctl run here, it may take at most [`WAIT`].
    fn try_json(&self, args: &[&str]) -> Option<Value> {
        let o = output_within(
            bgpctl().args(["--api", &self.api, "-o", "json"]).args(args),
            WAIT,
        );
        if !o.status.success() {
            return None;
        }
        serde_json::from_slice(&o.stdout).ok()
    }

    /// Runs bgpctl; panics with its error when it fails.
    fn ok(&self, args: &[&str]) -> String {
        let o = output_within(bgpctl().args(["--api", &self.api]).args(args), WAIT);
        assert!(
            o.status.success(),
            "bgpctl {args:?} failed with {}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).expect("UTF-8 output")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut argv = vec!["-o", "json"];
        argv.extend_from_slice(args);
        let text = self.ok(&argv);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{argv:?}: {e}: {text}"))
    }

    /// BIRD as `neighbor list -o json` shows it, if it is listed.
    fn neighbor(&self) -> Option<Value> {
        let list = self.try_json(&["neighbor", "list"])?;
        list["neighbors"]
            .as_array()?
            .iter()
            .find(|n| n["address"] == BIRD)
            .cloned()
    }

    /// The prefixes of `rib list -o json ARGS`.
    fn prefixes(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec!["rib", "list"];
        argv.extend_from_slice(args);
        self.try_json(&argv)
            .and_then(|v| {
                v["routes"].as_array().map(|routes| {
                    routes
                        .iter()
                        .filter_map(|r| r["prefix"].as_str().map(str::to_owned))
                        .collect()
                })
            })
            .unwrap_or_default()
    }
}

/// Waits (at most [`WAIT`]) until `condition` holds; fails the test with `what` otherwise.
fn wait(lab: &Lab, what: &str, condition: impl FnMut() -> bool) {
    lab.wait_for(WAIT, what, condition)
        .unwrap_or_else(|e| panic!("{e}\n{}", lab.summary()));
}

/// BIRD's `show route PREFIX all`, if BIRD has a route for the prefix.
fn bird_route(lab: &Lab, prefix: &str) -> Option<String> {
    let out = lab
        .birdc("bird", &format!("show route {prefix} all"))
        .ok()?;
    out.lines().any(|l| l.starts_with(prefix)).then_some(out)
}

/// Asserts that BIRD's route text has the attribute line `BGP.NAME: VALUE`.
fn assert_attr(route: &str, name: &str, value: &str) {
    let line = format!("BGP.{name}: {value}");
    assert!(
        route.lines().any(|l| l.trim() == line),
        "BIRD's route has no `{line}`:\n{route}"
    );
}

#[test]
fn bgpctl_drives_bgpd_peering_with_bird() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let topology = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/bird.clab.yml");
    let mut options = LabOptions::default();
    options.bgpd = Some(bgpd_binary());
    let lab = Lab::up(&topology, options).unwrap_or_else(|e| panic!("lab up: {e}"));
    let ctl = Ctl {
        api: format!(
            "unix://{}",
            lab.bgpd_socket("bgpd").expect("bgpd's socket").display()
        ),
    };

    // The session comes up, and BIRD's two routes arrive.
    let birds = ["10.1.1.0/24", "10.1.2.0/24"];
    wait(
        &lab,
        "the session to BIRD Established with 2 prefixes received",
        || {
            ctl.neighbor()
                .is_some_and(|n| n["state"] == "established" && n["prefixes_received"] == 2)
        },
    );
    wait(&lab, "BIRD's routes in the Loc-RIB", || {
        ctl.prefixes(&[]) == birds
    });
    let n = ctl.neighbor().expect("BIRD listed");
    assert_eq!(n["peer_asn"], 65001, "{n}");
    assert_eq!(n["description"], "BIRD", "{n}");
    assert_eq!(n["prefixes_accepted"], 2, "{n}");
    assert_eq!(n["prefixes_advertised"], 0, "{n}");
    assert_eq!(
        n["negotiated_families"],
        serde_json::json!(["ipv4-unicast"]),
        "{n}"
    );

    // BIRD's routes in the Loc-RIB, with BIRD's AS path and communities.
    let rib = ctl.json(&["rib", "list"]);
    let routes = rib["routes"].as_array().expect("routes");
    for prefix in birds {
        let r = routes
            .iter()
            .find(|r| r["prefix"] == prefix)
            .unwrap_or_else(|| panic!("{prefix} not in rib list: {rib}"));
        assert_eq!(r["as_path"], "65001", "{r}");
        assert_eq!(r["next_hop"], BIRD, "{r}");
        assert_eq!(r["source_peer"], BIRD, "{r}");
        assert_eq!(r["source"], "peer", "{r}");
        assert_eq!(r["best"], true, "{r}");
    }
    let r = routes
        .iter()
        .find(|r| r["prefix"] == "10.1.2.0/24")
        .expect("10.1.2.0/24");
    assert_eq!(r["communities"], serde_json::json!(["65001:7"]), "{r}");
    assert_eq!(
        r["large_communities"],
        serde_json::json!(["65001:1:2"]),
        "{r}"
    );
    let table = ctl.ok(&["rib", "list"]);
    let line = table
        .lines()
        .find(|l| l.contains(" 10.1.2.0/24 "))
        .unwrap_or_else(|| panic!("10.1.2.0/24 not in the table:\n{table}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cells[..4], ["*", "10.1.2.0/24", BIRD, "65001"], "{table}");
    assert!(line.contains(" 65001:7 65001:1:2 "), "{table}");
    assert!(line.ends_with(BIRD), "{table}");
    // And in BIRD's Adj-RIB-In at bgpd.
    let rib_in = ctl.json(&["rib", "list", "--table", "in", "--peer", BIRD]);
    let paths: Vec<(&str, &str)> = rib_in["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .filter_map(|r| Some((r["prefix"].as_str()?, r["as_path"].as_str()?)))
        .collect();
    assert_eq!(
        paths,
        [("10.1.1.0/24", "65001"), ("10.1.2.0/24", "65001")],
        "{rib_in}"
    );

    // A route added with bgpctl reaches BIRD with bgpd's AS path and its communities.
    let added = ctl.ok(&[
        "rib",
        "add",
        OURS,
        "--community",
        "65000:1",
        "--large-community",
        "65000:1:2",
    ]);
    assert_eq!(added, format!("route {OURS} added\n"));
    wait(&lab, "bgpctl's route at BIRD", || {
        bird_route(&lab, OURS).is_some()
    });
    let route = bird_route(&lab, OURS).expect("the route at BIRD");
    assert_attr(&route, "as_path", "65000");
    assert_attr(&route, "next_hop", BGPD);
    assert_attr(&route, "community", "(65000,1)");
    assert_attr(&route, "large_community", "(65000, 1, 2)");
    assert!(ctl.prefixes(&[]).contains(&OURS.to_owned()));
    wait(
        &lab,
        "neighbor list counting the route as advertised",
        || {
            ctl.neighbor()
                .is_some_and(|n| n["prefixes_advertised"] == 1)
        },
    );

    // `rib del` withdraws it at BIRD.
    assert_eq!(
        ctl.ok(&["rib", "del", OURS]),
        format!("route {OURS} deleted\n")
    );
    wait(&lab, "the withdrawal at BIRD", || {
        bird_route(&lab, OURS).is_none()
    });
    assert_eq!(ctl.prefixes(&[]), birds);
    wait(&lab, "neighbor list counting nothing advertised", || {
        ctl.neighbor()
            .is_some_and(|n| n["prefixes_advertised"] == 0)
    });
    let n = ctl.neighbor().expect("BIRD listed");
    assert_eq!(n["state"], "established", "{n}");
    // BIRD's own routes are still there.
    assert_eq!(ctl.prefixes(&["--table", "in", "--peer", BIRD]), birds);

    lab.down().expect("lab teardown");
}
