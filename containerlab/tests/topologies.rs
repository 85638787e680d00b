//! The shipped topology files and their configs, checked without building anything (so
//! these run without root): each file is a valid topology, each config passes its daemon's
//! own checker, BGP neighbours point at addresses the topology assigns and peer back, and a
//! bad link endpoint is refused before anything is created.
//!
//! A separate test binary from `smoke.rs`, so that "nothing was created" can be checked by
//! this process's namespace prefix without other tests running beside it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use petrel_lab::{Lab, LabError, LabOptions, NAME_PREFIX, Software, Topology};

fn lab_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Vec<Topology> {
    ["demo/demo", "interop/interop", "rr/rr", "smoke/smoke"]
        .iter()
        .map(|name| {
            let path = lab_dir().join(format!("{name}.clab.yml"));
            Topology::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

#[test]
fn unknown_endpoint_node_is_named_and_nothing_is_created() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("bad.clab.yml");
    std::fs::write(
        &path,
        "name: bad\ntopology:\n  nodes:\n    h1: {kind: linux, image: alpine}\n  links:\n    - endpoints: [\"h1:eth1\", \"ghost:eth1\"]\n",
    )
    .expect("write");
    let err = Lab::up(&path, LabOptions::default()).expect_err("a link to an unknown node");
    let msg = err.to_string();
    assert!(
        matches!(&err, LabError::UnknownEndpointNode { endpoint, node, .. }
            if endpoint == "ghost:eth1" && node == "ghost"),
        "{msg}"
    );
    assert!(
        msg.contains("\"ghost:eth1\"") && msg.contains("unknown node"),
        "{msg}"
    );

    let ours = format!("{NAME_PREFIX}{}-", std::process::id());
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(!listed.contains(&ours), "namespaces created: {listed}");
    let dirs: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&ours))
        .map(|e| e.path())
        .collect();
    assert!(dirs.is_empty(), "directories created: {dirs:?}");
}

#[test]
fn shipped_topologies_use_the_expected_software() {
    let software = |topo: &Topology| -> BTreeMap<String, Software> {
        topo.nodes
            .iter()
            .map(|n| (n.name.clone(), n.software))
            .collect()
    };
    let topos = shipped();
    let expect = [
        (
            "demo",
            vec![
                ("bgpd", Software::Petrel),
                ("bird", Software::Bird),
                ("frr", Software::Frr),
            ],
        ),
        (
            "interop",
            vec![
                ("bgpd", Software::Petrel),
                ("bird", Software::Bird),
                ("frr", Software::Frr),
                ("gobgp", Software::Gobgp),
            ],
        ),
        (
            "rr",
            vec![
                ("bgpd", Software::Petrel),
                ("bird", Software::Bird),
                ("frr", Software::Frr),
            ],
        ),
        (
            "smoke",
            vec![
                ("bird", Software::Bird),
                ("frr", Software::Frr),
                ("gobgp", Software::Gobgp),
            ],
        ),
    ];
    for (topo, (name, nodes)) in topos.iter().zip(expect) {
        assert_eq!(topo.name, name);
        let want: BTreeMap<String, Software> =
            nodes.into_iter().map(|(n, s)| (n.to_string(), s)).collect();
        assert_eq!(software(topo), want, "{name}");
        for node in &topo.nodes {
            assert!(node.config.is_some(), "{name}/{}: no config", node.name);
        }
    }
}

/// Runs a daemon's own configuration checker, or says why it cannot.
fn daemon_check(program: &str, args: &[&str]) -> Option<std::process::Output> {
    match Command::new(program).args(args).output() {
        Ok(out) => Some(out),
        Err(e) => {
            eprintln!("skipping the {program} check: {e}");
            None
        }
    }
}

#[test]
fn shipped_configs_pass_their_daemons_checks() {
    for topo in shipped() {
        for node in &topo.nodes {
            let config = node.config.as_ref().expect("config");
            let path = config.to_string_lossy();
            let out = match node.software {
                Software::Bird => daemon_check("bird", &["-p", "-c", &path]),
                Software::Frr if !nix::unistd::geteuid().is_root() => {
                    eprintln!("skipping the FRR check of {path}: bgpd -C needs root");
                    None
                }
                Software::Frr => daemon_check("/usr/lib/frr/bgpd", &["-C", "-f", &path]),
                Software::Gobgp => daemon_check("gobgpd", &["-d", "-t", "toml", "-f", &path]),
                Software::Petrel => {
                    check_petrel_config(config);
                    None
                }
                _ => None,
            };
            if let Some(out) = out {
                assert!(
                    out.status.success(),
                    "{}: {}{}",
                    config.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

/// The bgpd TOML shape the daemon is being written to, with the labs' short timers.
fn check_petrel_config(path: &Path) {
    let text = std::fs::read_to_string(path).expect("read");
    let doc: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let where_ = path.display();
    let global = doc["global"].as_table().expect("[global]");
    assert!(global["asn"].is_integer(), "{where_}: global.asn");
    assert!(global["router_id"].is_str(), "{where_}: global.router_id");
    assert_eq!(
        global["listen"].as_array().map(Vec::len),
        Some(2),
        "{where_}: global.listen"
    );
    let neighbors = doc["neighbors"].as_array().expect("[[neighbors]]");
    assert!(!neighbors.is_empty());
    for n in neighbors {
        let n = n.as_table().expect("neighbor table");
        let keys: BTreeSet<&str> = n.keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = [
            "address",
            "peer_asn",
            "passive",
            "hold_time",
            "families",
            "local_address",
            "route_reflector_client",
            "description",
        ]
        .into();
        assert_eq!(keys, want, "{where_}: neighbor keys");
        assert_eq!(n["hold_time"].as_integer(), Some(9), "{where_}: hold_time");
        for family in n["families"].as_array().expect("families") {
            assert!(
                ["ipv4-unicast", "ipv6-unicast"].contains(&family.as_str().unwrap_or("")),
                "{where_}: family {family}"
            );
        }
    }
    for o in doc["originate"].as_array().expect("[[originate]]") {
        assert!(o["prefix"].is_str(), "{where_}: originate.prefix");
    }
}

/// Addresses a node's `exec:` lines assign (`ip [-6] addr add ADDR/LEN ...`).
fn assigned(node: &petrel_lab::Node) -> BTreeSet<String> {
    node.exec
        .iter()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words
                .windows(2)
                .position(|w| matches!(w[0], "addr" | "address" | "a") && w[1] == "add")?;
            let cidr = words.get(at + 2)?;
            Some(cidr.split('/').next().unwrap_or(cidr).to_string())
        })
        .collect()
}

/// The BGP neighbour addresses in a node's config.
fn neighbors(node: &petrel_lab::Node) -> BTreeSet<String> {
    let path = node.config.as_ref().expect("config");
    let text = std::fs::read_to_string(path).expect("read config");
    match node.software {
        Software::Bird => text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("neighbor "))
            .filter_map(|rest| rest.split_whitespace().next())
            .map(str::to_string)
            .collect(),
        Software::Frr => text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("neighbor "))
            .filter(|rest| rest.contains(" remote-as "))
            .filter_map(|rest| rest.split_whitespace().next())
            .map(str::to_string)
            .collect(),
        Software::Gobgp => {
            let doc: toml::Table = toml::from_str(&text).expect("toml");
            doc["neighbors"]
                .as_array()
                .expect("neighbors")
                .iter()
                .filter_map(|n| n["config"]["neighbor-address"].as_str())
                .map(str::to_string)
                .collect()
        }
        Software::Petrel => {
            let doc: toml::Table = toml::from_str(&text).expect("toml");
            doc["neighbors"]
                .as_array()
                .expect("neighbors")
                .iter()
                .filter_map(|n| n["address"].as_str())
                .map(str::to_string)
                .collect()
        }
        _ => BTreeSet::new(),
    }
}

#[test]
fn every_bgp_neighbor_is_an_address_of_a_node_that_peers_back() {
    for topo in shipped() {
        let owner: BTreeMap<String, String> = topo
            .nodes
            .iter()
            .flat_map(|n| assigned(n).into_iter().map(|a| (a, n.name.clone())))
            .collect();
        for node in &topo.nodes {
            let mine = assigned(node);
            let peers = neighbors(node);
            assert!(
                !peers.is_empty(),
                "{}/{}: no neighbours",
                topo.name,
                node.name
            );
            for address in peers {
                let other = owner.get(&address).unwrap_or_else(|| {
                    panic!(
                        "{}/{}: neighbour {address} is no node's address",
                        topo.name, node.name
                    )
                });
                assert_ne!(other, &node.name, "{}: {address} is its own", topo.name);
                let back = neighbors(topo.node(other).expect("node"));
                assert!(
                    back.iter().any(|a| mine.contains(a)),
                    "{}: {} peers with {other} at {address}, but {other} has no neighbour \
                     among {}'s addresses {mine:?}",
                    topo.name,
                    node.name,
                    node.name
                );
            }
        }
    }
}
