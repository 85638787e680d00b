//! The session-security and graceful-restart keys of the configuration file: what they
//! parse to, their defaults, and how each mistake is told.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bgpd::config::{ConfigError, StateFile, from_str};

const FILE: &str = "test.toml";
const GLOBAL: &str = "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\n";

fn neighbor(lines: &str) -> String {
    format!("{GLOBAL}[[neighbors]]\naddress = \"10.0.0.2\"\npeer_asn = 65001\n{lines}\n")
}

fn err(toml: &str) -> ConfigError {
    match from_str(toml, FILE) {
        Ok(c) => panic!("expected an error, got {c:#?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn rejects(toml: &str, key: &str, words: &[&str]) {
    let e = err(toml);
    let Some(p) = e.errors().iter().find(|p| p.key() == Some(key)) else {
        panic!("no problem at {key}; got:\n{e}");
    };
    let line = p.to_string();
    for w in words {
        assert!(line.contains(w), "{line:?} should contain {w:?}");
    }
}

#[test]
fn defaults_enable_graceful_restart_and_no_transport_security() {
    let c = from_str(&neighbor(""), FILE).unwrap();
    let s = &c.neighbors[0].session;
    assert_eq!((s.password.as_deref(), s.ttl_security), (None, None));
    assert!(s.graceful_restart.enabled);
    assert_eq!(s.graceful_restart.restart_time, Duration::from_secs(120));
    assert!(s.graceful_restart.notification && s.graceful_restart.forwarding_state);
    let gr = &c.graceful_restart;
    assert_eq!(gr.state_file, StateFile::NextToApiSocket);
    assert_eq!(
        gr.state_file_path(Some(Path::new("/run/petrel/bgpd.sock"))),
        Some(PathBuf::from("/run/petrel/bgpd.gr-state"))
    );
    assert_eq!(gr.state_file_path(None), None);
}

#[test]
fn neighbor_keys_override_the_global_section() {
    let toml = format!(
        "{}[graceful_restart]\nrestart_time = 30\nnotification = false\nstate_file = \"\"\n",
        neighbor(
            "password = \"s3cret\"\nttl_security = 2\nbind_interface = \"eth1\"\nrestart_time = 45"
        )
    );
    let c = from_str(&toml, FILE).unwrap();
    let s = &c.neighbors[0].session;
    assert_eq!(s.password.as_deref(), Some("s3cret"));
    assert_eq!(s.ttl_security, Some(2));
    assert_eq!(s.bind_interface.as_deref(), Some("eth1"));
    assert_eq!(s.graceful_restart.restart_time, Duration::from_secs(45));
    assert!(
        !s.graceful_restart.notification,
        "global default not inherited"
    );
    assert_eq!(c.graceful_restart.state_file, StateFile::Off);
    let off = from_str(&neighbor("graceful_restart = false"), FILE).unwrap();
    assert!(!off.neighbors[0].session.graceful_restart.enabled);
}

#[test]
fn mistakes_are_named() {
    let long = "k".repeat(81);
    rejects(
        &neighbor(&format!("password = \"{long}\"")),
        "neighbors[0].password",
        &["81 bytes", "at most 80"],
    );
    rejects(
        &neighbor("password = \"\""),
        "neighbors[0].password",
        &["empty"],
    );
    rejects(
        &neighbor("ttl_security = 1\nmultihop_ttl = 3"),
        "neighbors[0].ttl_security",
        &["multihop_ttl"],
    );
    rejects(
        &neighbor("ttl_security = 255"),
        "neighbors[0].ttl_security",
        &["1..=254"],
    );
    rejects(
        &neighbor("bind_interface = \"a/b\""),
        "neighbors[0].bind_interface",
        &["interface name"],
    );
    rejects(
        &neighbor("restart_time = 4096"),
        "neighbors[0].restart_time",
        &["4095"],
    );
    rejects(
        &format!("{GLOBAL}[graceful_restart]\nrestrat_time = 5\n"),
        "graceful_restart.restrat_time",
        &["unknown key"],
    );
}
