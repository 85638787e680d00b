//! What the integration tests share: the bgpd binary and processes that end with the test.

// Each test crate uses its own part of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A running process that is killed when the test ends, passed or failed.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The bgpd binary beside this test's target directory (`<dir of the test exe>/../bgpd`),
/// built with `cargo build -p bgpd` into the same target directory when missing.
pub(crate) fn bgpd_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/daemon-HASH -> target/debug
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let bgpd = profile_dir.join("bgpd");
    if !bgpd.exists() {
        let target_dir = profile_dir.parent().expect("target directory");
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "-p", "bgpd", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(target_dir)
            .status()
            .expect("run cargo build -p bgpd");
        assert!(status.success(), "cargo build -p bgpd failed");
    }
    assert!(bgpd.exists(), "{} is missing", bgpd.display());
    bgpd
}

/// `bgpctl` with no `BGPCTL_*` variables of the environment it runs in.
pub(crate) fn bgpctl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bgpctl"));
    for var in [
        "BGPCTL_API",
        "BGPCTL_TLS_CA",
        "BGPCTL_TLS_CERT",
        "BGPCTL_TLS_KEY",
        "BGPCTL_TLS_DOMAIN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `cmd` to its end and returns what it printed; kills it and fails the test if it is
/// still running after `limit`.
pub(crate) fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let pid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.unwrap_or_else(|e| panic!("waiting for {cmd:?}: {e}")),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            panic!("{cmd:?} still running after {limit:?}; killed");
        }
    }
}
