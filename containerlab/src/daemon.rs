//! Starting, probing and stopping a node's routing daemon inside its namespace.
//!
//! | image  | process (child of the runner, in the node's namespace)                          |
//! |--------|---------------------------------------------------------------------------------|
//! | FRR    | `/usr/lib/frr/bgpd -Z -f DIR/frr.conf -i DIR/bgpd.pid --vty_socket DIR -P 0`     |
//! | BIRD   | `bird -f -c CONF -s DIR/bird.ctl -P DIR/bird.pid`                                |
//! | GoBGP  | `gobgpd -f CONF -t toml --api-hosts 127.0.0.1:50051 --pprof-disable`             |
//! | Petrel | `bgpd --config CONF --api-socket DIR/bgpd.sock`                                  |
//!
//! A daemon is ready when FRR's `bgpd.vty` or BIRD's socket exists, `gobgp global` answers,
//! or (Petrel) its API socket exists.
//!
//! `DIR` is the node's run directory; standard output and error go to `DIR/daemon.log`.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;

use crate::sys::{self, poll_until};
use crate::{LabError, Software};

/// FRR's BGP daemon, run without zebra.
pub(crate) const FRR_BGPD: &str = "/usr/lib/frr/bgpd";
/// The API socket of a Petrel node, in its run directory.
pub(crate) const PETREL_SOCKET: &str = "bgpd.sock";
/// GoBGP's API address inside each namespace (its own loopback).
pub(crate) const GOBGP_API_PORT: &str = "50051";
const GOBGP_API: &str = "127.0.0.1:50051";
/// How long a daemon gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long the kernel gets to reap a SIGKILLed daemon.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// One node's daemon: how to start it, and the running process if any.
#[derive(Debug)]
pub(crate) struct Daemon {
    software: Software,
    program: PathBuf,
    args: Vec<OsString>,
    dir: PathBuf,
    child: Option<Child>,
    /// How the last process ended, once reaped.
    last_exit: Option<ExitStatus>,
}

impl Daemon {
    /// Prepares the run directory `dir` (which exists) and the command line.
    /// `config` is the host path of the configuration; `bgpd` Petrel's binary.
    pub(crate) fn prepare(
        software: Software,
        config: &Path,
        dir: &Path,
        bgpd: Option<&Path>,
    ) -> Result<Option<Daemon>, LabError> {
        let path = |name: &str| dir.join(name).into_os_string();
        let (program, args): (PathBuf, Vec<OsString>) = match software {
            Software::None => return Ok(None),
            Software::Frr => {
                // bgpd drops to user frr: it needs its own copy of the config and a directory
                // it can write its pid file and vty socket into.
                let copy = dir.join("frr.conf");
                std::fs::copy(config, &copy).map_err(LabError::io(format!(
                    "cannot copy {} to {}",
                    config.display(),
                    copy.display()
                )))?;
                give_to_frr(&[dir, &copy])?;
                (
                    PathBuf::from(FRR_BGPD),
                    vec![
                        "-Z".into(), // no zebra: nothing reaches the kernel's routing table
                        "-f".into(),
                        copy.into_os_string(),
                        "-i".into(),
                        path("bgpd.pid"),
                        "--vty_socket".into(),
                        dir.as_os_str().to_owned(),
                        "-P".into(), // no TCP vty; vtysh uses the socket
                        "0".into(),
                        "--log".into(),
                        "stdout".into(),
                    ],
                )
            }
            Software::Bird => (
                PathBuf::from("bird"),
                vec![
                    "-f".into(),
                    "-c".into(),
                    config.as_os_str().to_owned(),
                    "-s".into(),
                    path("bird.ctl"),
                    "-P".into(),
                    path("bird.pid"),
                ],
            ),
            Software::Gobgp => (
                PathBuf::from("gobgpd"),
                vec![
                    "-f".into(),
                    config.as_os_str().to_owned(),
                    "-t".into(),
                    "toml".into(),
                    "--api-hosts".into(),
                    GOBGP_API.into(),
                    "--pprof-disable".into(),
                ],
            ),
            Software::Petrel => (
                bgpd.map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("bgpd")),
                vec![
                    "--config".into(),
                    config.as_os_str().to_owned(),
                    "--api-socket".into(),
                    path(PETREL_SOCKET),
                ],
            ),
        };
        Ok(Some(Daemon {
            software,
            program,
            args,
            dir: dir.to_path_buf(),
            child: None,
            last_exit: None,
        }))
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }

    /// BIRD's control socket.
    pub(crate) fn bird_socket(&self) -> PathBuf {
        self.dir.join("bird.ctl")
    }

    /// The directory holding FRR's `bgpd.vty`.
    pub(crate) fn vty_dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is running; reaps it if it has exited.
    pub(crate) fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(status))) => {
                self.last_exit = Some(status);
                self.child = None;
                false
            }
            Some(Err(_)) => {
                self.child = None;
                false
            }
            None => false,
        }
    }

    /// Starts the process inside `netns`, in its own process group (a Ctrl-C at the
    /// terminal goes to the runner, which then tears down in order).
    pub(crate) fn spawn(
        &mut self,
        node: &str,
        netns: &str,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), LabError> {
        if self.is_running() {
            return Err(LabError::AlreadyRunning(node.to_string()));
        }
        // Leftovers of a killed run would make the readiness probe pass too early.
        for stale in [
            "bird.ctl",
            "bird.pid",
            "bgpd.vty",
            "bgpd.pid",
            PETREL_SOCKET,
        ] {
            let _ = std::fs::remove_file(self.dir.join(stale));
        }
        let log_path = self.log_path();
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(LabError::io(format!("cannot open {}", log_path.display())))?;
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let _ = writeln!(
            log,
            "--- petrel-lab: starting {} {} in {netns} (unix time {}) ---",
            self.program.display(),
            self.args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            since_epoch.as_secs()
        );
        let err_log = log
            .try_clone()
            .map_err(LabError::io("cannot duplicate log file"))?;
        let mut cmd = sys::in_netns(netns, &self.program);
        cmd.args(&self.args)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err_log))
            .process_group(0);
        let child = cmd.spawn().map_err(LabError::io(format!(
            "cannot start {} for node {node}",
            self.program.display()
        )))?;
        tracing::debug!(node, pid = child.id(), "started {}", self.software);
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the daemon answers on its control channel, or fails if it exits.
    pub(crate) fn wait_ready(
        &mut self,
        node: &str,
        netns: &str,
        timeout: Duration,
    ) -> Result<(), LabError> {
        let deadline = Instant::now() + timeout;
        let ready = poll_until(deadline, || {
            if !self.is_running() {
                return Some(false);
            }
            let up = match self.software {
                Software::Frr => self.dir.join("bgpd.vty").exists(),
                Software::Bird => self.bird_socket().exists(),
                Software::Gobgp => {
                    let mut probe = sys::in_netns(netns, "gobgp");
                    probe.args(["-p", GOBGP_API_PORT, "-u", "127.0.0.1", "global"]);
                    sys::run(probe, Duration::from_secs(2), "gobgp global")
                        .is_ok_and(|o| o.status.success())
                }
                // bgpd binds its API socket after its BGP listeners.
                Software::Petrel => self.dir.join(PETREL_SOCKET).exists(),
                Software::None => true,
            };
            up.then_some(true)
        });
        match ready {
            Some(true) => Ok(()),
            Some(false) => Err(self.exited_error(node)),
            None => Err(LabError::Timeout {
                what: format!(
                    "{} of node {node} to answer; last lines of {}:\n{}",
                    self.software,
                    self.log_path().display(),
                    sys::tail_file(&self.log_path(), 20)
                ),
                after: timeout,
            }),
        }
    }

    fn exited_error(&mut self, node: &str) -> LabError {
        let status = match self.child.take().map(|mut c| c.wait()) {
            Some(Ok(status)) => status.to_string(),
            _ => self
                .last_exit
                .map_or_else(|| "exit status unknown".to_string(), |s| s.to_string()),
        };
        LabError::DaemonExited {
            node: node.to_string(),
            status,
            log: self.log_path(),
            tail: sys::tail_file(&self.log_path(), 20),
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within a few seconds.
    pub(crate) fn stop(&mut self) -> Result<(), LabError> {
        let Some(pid) = self.pid() else {
            return Ok(());
        };
        sys::signal(pid, Signal::SIGTERM)?;
        let deadline = Instant::now() + STOP_GRACE;
        if poll_until(deadline, || (!self.is_running()).then_some(())).is_some() {
            return Ok(());
        }
        tracing::warn!(
            pid,
            "{} ignored SIGTERM for {STOP_GRACE:?}; killing it",
            self.software
        );
        self.kill()
    }

    /// SIGKILL, as a crash would, and reap the process.
    pub(crate) fn kill(&mut self) -> Result<(), LabError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        let pid = child.id();
        let _ = child.kill();
        let deadline = Instant::now() + KILL_WAIT;
        if poll_until(deadline, || (!self.is_running()).then_some(())).is_some() {
            Ok(())
        } else {
            Err(LabError::Timeout {
                what: format!("{} (pid {pid}) to die after SIGKILL", self.software),
                after: KILL_WAIT,
            })
        }
    }
}

/// Hands files to user and group `frr`; without such a user FRR runs as root anyway.
fn give_to_frr(paths: &[&Path]) -> Result<(), LabError> {
    let user = nix::unistd::User::from_name("frr").ok().flatten();
    let group = nix::unistd::Group::from_name("frr").ok().flatten();
    let Some(user) = user else {
        return Ok(());
    };
    for path in paths {
        nix::unistd::chown(*path, Some(user.uid), group.as_ref().map(|g| g.gid)).map_err(|e| {
            LabError::Io {
                what: format!("cannot give {} to user frr", path.display()),
                source: e.into(),
            }
        })?;
    }
    Ok(())
}

/// Opens (creating) a node's log of `exec:` commands for appending.
pub(crate) fn open_exec_log(dir: &Path) -> Result<File, LabError> {
    let path = dir.join("exec.log");
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(LabError::io(format!("cannot open {}", path.display())))
}
