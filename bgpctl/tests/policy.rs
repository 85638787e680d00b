//! `bgpctl policy` against the real bgpd: sets and policies stored, listed (table and
//! JSON), assigned and refused, through a daemon with no BGP listener and its API on a unix
//! socket in a temporary directory.

mod common;

use std::fs;
use std::os::unix::net::UnixStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Running, bgpctl, bgpd_binary};
use serde_json::Value;

struct Daemon {
    _process: Running,
    dir: tempfile::TempDir,
    api: String,
}

impl Daemon {
    fn start(config_text: &str) -> Daemon {
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
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start bgpd");
        let process = Running(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "bgpd did not open its socket");
            std::thread::sleep(Duration::from_millis(50));
        }
        let api = format!("unix://{}", socket.display());
        Daemon {
            _process: process,
            dir,
            api,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        bgpctl()
            .arg("--api")
            .arg(&self.api)
            .args(args)
            .output()
            .expect("run bgpctl")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "bgpctl {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).expect("UTF-8 output")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut argv = vec!["-o", "json"];
        argv.extend_from_slice(args);
        serde_json::from_str(&self.ok(&argv)).expect("JSON")
    }
}

fn refused(o: &Output, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    for w in words {
        assert!(stderr.contains(w), "{w:?} not in {stderr:?}");
    }
}

const CONFIG: &str = "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\nlisten = []\n\
[[neighbors]]\naddress = \"127.0.0.2\"\npeer_asn = 65002\npassive = true\n";

#[test]
fn sets_policies_and_assignments() {
    let d = Daemon::start(CONFIG);
    d.ok(&[
        "policy",
        "set",
        "add",
        "prefix",
        "cust",
        "203.0.113.0/24 24..28",
        "10.0.0.0/8",
    ]);
    let table = d.ok(&["policy", "set"]);
    assert!(
        table.lines().any(|l| l.starts_with("prefix")
            && l.contains("cust")
            && l.contains("203.0.113.0/24 24..28, 10.0.0.0/8")),
        "{table}"
    );
    let sets = d.json(&["policy", "set", "list", "--kind", "prefix"]);
    assert_eq!(sets[0]["kind"], "prefix");
    assert_eq!(sets[0]["members"][0], "203.0.113.0/24 24..28");
    refused(
        &d.run(&["policy", "set", "add", "community", "c", "("]),
        &["members[0]", "regular expression"],
    );

    let file = d.dir.path().join("p.toml");
    fs::write(
        &file,
        "[[policies]]\nname = \"in\"\n[[policies.statements]]\nname = \"mine\"\n\
         conditions = { prefix_set = \"cust\" }\nactions = { local_pref = 300, prepend = 2, result = \"accept\" }\n",
    )
    .unwrap();
    d.ok(&["policy", "load", file.to_str().unwrap()]);
    let table = d.ok(&["policy"]);
    assert!(
        table.starts_with("Defaults: import accept, export accept\n"),
        "{table}"
    );
    let line = table
        .lines()
        .find(|l| l.starts_with("in "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        line.contains("mine") && line.contains("prefix_set any cust"),
        "{line}"
    );
    assert!(
        line.contains("local_pref 300, prepend own AS x2, accept"),
        "{line}"
    );
    let list = d.json(&["policy", "list"]);
    assert_eq!(list["policies"][0]["statements"][0]["actions"][2], "accept");

    d.ok(&[
        "policy",
        "assign",
        "127.0.0.2",
        "import",
        "in",
        "--default",
        "reject",
    ]);
    let peer = d.json(&["neighbor", "list"]);
    let text = peer.to_string();
    assert!(text.contains("127.0.0.2"), "{text}");
    refused(&d.run(&["policy", "del", "in"]), &["127.0.0.2"]);
    refused(
        &d.run(&["policy", "set", "del", "prefix", "cust"]),
        &["policy in"],
    );
    refused(
        &d.run(&["policy", "assign", "127.0.0.2", "export", "nope"]),
        &["policies[0]: no policy named \"nope\""],
    );
    d.ok(&["policy", "assign", "127.0.0.2", "import"]);
    d.ok(&["policy", "del", "in"]);
    d.ok(&["policy", "defaults", "--export", "reject"]);
    let list = d.json(&["policy"]);
    assert_eq!(list["default_export"], "reject");
    assert_eq!(list["policies"].as_array().map(Vec::len), Some(0));
}
