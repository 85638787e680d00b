//! A running lab: namespaces, links, daemons, and the handles tests drive them with.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::daemon::{self, Daemon};
use crate::sys::{self, poll_until};
use crate::{LabError, Software, Topology};

/// How long an `exec:` command or a CLI query may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How often [`Lab::wait_for`] polls.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// Log lines printed per file when a lab is dropped during a panic.
const TAIL_LINES: usize = 40;
/// First words of `exec:` lines that talk to the node's own daemon: they run after it starts.
const DAEMON_CLIS: [&str; 4] = ["gobgp", "birdc", "birdcl", "vtysh"];

/// How [`Lab::up`] builds a lab.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LabOptions {
    /// Petrel's `bgpd` binary. Default: `$PETREL_BGPD`, else a `bgpd` next to the running
    /// executable, in `$CARGO_TARGET_DIR/debug/`, or in the workspace's `target/debug/`.
    pub bgpd: Option<PathBuf>,
    /// How long each daemon gets to answer on its control channel after it starts.
    pub ready_timeout: Duration,
    /// Keep the lab's directory (configs, logs) when the lab is dropped during a panic.
    /// Default: whether `PLAB_KEEP` is set. Namespaces and processes always go.
    pub keep_dir_on_failure: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            bgpd: None,
            ready_timeout: Duration::from_secs(10),
            keep_dir_on_failure: std::env::var_os("PLAB_KEEP").is_some(),
        }
    }
}

/// A topology built from network namespaces and veth pairs, with its daemons running.
///
/// Dropping it kills every process, deletes every namespace and removes its directory; if
/// that happens during a panic, the end of each node's logs is printed to stderr first.
#[derive(Debug)]
pub struct Lab {
    topology: Topology,
    dir: PathBuf,
    nodes: Vec<LabNode>,
    options: LabOptions,
    torn_down: bool,
}

#[derive(Debug)]
struct LabNode {
    name: String,
    software: Software,
    netns: String,
    dir: PathBuf,
    env: BTreeMap<String, String>,
    daemon: Option<Daemon>,
}

impl Lab {
    /// Builds the topology in `path`: one namespace per node with `lo` up, a veth pair per
    /// link created inside the two namespaces under its endpoints' names and up, each node's
    /// `exec:` commands, then the daemons (waiting until each answers), then the `exec:`
    /// lines that use a daemon's CLI.
    ///
    /// The topology is checked before anything is created. On any later error, what was
    /// created is removed again before the error is returned.
    pub fn up(path: impl AsRef<Path>, options: LabOptions) -> Result<Lab, LabError> {
        let topology = Topology::load(path)?;
        let bgpd = match topology
            .nodes
            .iter()
            .find(|n| n.software == Software::Petrel)
        {
            Some(node) => Some(find_bgpd(&options).map_err(|tried| LabError::BgpdNotFound {
                node: node.name.clone(),
                tried,
            })?),
            None => None,
        };
        let uid = nix::unistd::geteuid();
        if !uid.is_root() {
            return Err(LabError::NotRoot { uid: uid.as_raw() });
        }
        for removed in sys::clean_stale() {
            tracing::info!("removed {removed} left by a run that is gone");
        }

        let dir = sys::next_dir_path();
        make_dir(&dir)?;
        let mut lab = Lab {
            topology,
            dir,
            nodes: Vec::new(),
            options,
            torn_down: false,
        };
        // From here on, an early return drops `lab`, which removes what exists so far.
        lab.build(bgpd.as_deref())?;
        Ok(lab)
    }

    fn build(&mut self, bgpd: Option<&Path>) -> Result<(), LabError> {
        for node in &self.topology.nodes {
            let netns = sys::next_netns_name();
            sys::ip(&["netns", "add", &netns])?;
            let dir = self.dir.join(&node.name);
            self.nodes.push(LabNode {
                name: node.name.clone(),
                software: node.software,
                netns: netns.clone(),
                dir: dir.clone(),
                env: node.env.clone(),
                daemon: None,
            });
            sys::ip(&["-n", &netns, "link", "set", "lo", "up"])?;
            make_dir(&dir)?;
            if let Some(config) = &node.config {
                let daemon = Daemon::prepare(node.software, config, &dir, bgpd)?;
                if let Some(last) = self.nodes.last_mut() {
                    last.daemon = daemon;
                }
            }
            tracing::debug!(node = %node.name, %netns, "namespace created");
        }

        for link in &self.topology.links {
            let (a_ns, b_ns) = (self.netns(&link.a.node)?, self.netns(&link.b.node)?);
            sys::ip(&[
                "link",
                "add",
                &link.a.interface,
                "netns",
                a_ns,
                "type",
                "veth",
                "peer",
                "name",
                &link.b.interface,
                "netns",
                b_ns,
            ])?;
            sys::ip(&["-n", a_ns, "link", "set", &link.a.interface, "up"])?;
            sys::ip(&["-n", b_ns, "link", "set", &link.b.interface, "up"])?;
        }

        let mut later = Vec::new();
        for node in &self.topology.nodes {
            for line in &node.exec {
                let first = line.split_whitespace().next().unwrap_or("");
                if DAEMON_CLIS.contains(&first) && node.software != Software::None {
                    later.push((node.name.clone(), line.clone()));
                } else {
                    self.exec_line(&node.name, line)?;
                }
            }
        }

        let timeout = self.options.ready_timeout;
        for node in &mut self.nodes {
            if let Some(daemon) = &mut node.daemon {
                daemon.spawn(&node.name, &node.netns, &node.env)?;
            }
        }
        for node in &mut self.nodes {
            if let Some(daemon) = &mut node.daemon {
                daemon.wait_ready(&node.name, &node.netns, timeout)?;
            }
        }

        for (node, line) in later {
            let script = self.cli_line(&node, &line)?;
            let deadline = Instant::now() + timeout;
            let mut last = None;
            let done = poll_until(deadline, || match self.exec_line(&node, &script) {
                Ok(()) => Some(()),
                Err(e) => {
                    last = Some(e);
                    std::thread::sleep(Duration::from_millis(200));
                    None
                }
            });
            if done.is_none() {
                return Err(last.unwrap_or(LabError::Timeout {
                    what: format!("node {node}: {line}"),
                    after: timeout,
                }));
            }
        }
        Ok(())
    }

    /// Runs one `exec:` line with `sh -c` in the node's namespace, logging it; a failure is
    /// an error naming the node and the line.
    fn exec_line(&self, node: &str, line: &str) -> Result<(), LabError> {
        let n = self.node(node)?;
        let mut cmd = sys::in_netns(&n.netns, "sh");
        cmd.args(["-c", line]).envs(&n.env);
        let what = format!("node {node} exec `{line}`");
        let out = sys::run(cmd, COMMAND_TIMEOUT, &what)?;
        if let Ok(mut log) = daemon::open_exec_log(&n.dir) {
            let _ = writeln!(log, "$ {line}\n{}", out.status);
            let _ = log.write_all(&out.stdout);
            let _ = log.write_all(&out.stderr);
        }
        if out.status.success() {
            Ok(())
        } else {
            Err(sys::command_failed(&what, &out))
        }
    }

    /// An `exec:` line for the node's own daemon CLI, pointed at this lab's control socket.
    fn cli_line(&self, node: &str, line: &str) -> Result<String, LabError> {
        let n = self.node(node)?;
        let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let Some(daemon) = &n.daemon else {
            return Ok(line.to_string());
        };
        Ok(match first {
            "birdc" | "birdcl" => format!(
                "{first} -s {} {rest}",
                quote(&daemon.bird_socket().to_string_lossy())
            ),
            "vtysh" => format!(
                "vtysh --vty_socket {} {rest}",
                quote(&daemon.vty_dir().to_string_lossy())
            ),
            _ => line.to_string(),
        })
    }

    fn node(&self, name: &str) -> Result<&LabNode, LabError> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| LabError::NoSuchNode(name.to_string()))
    }

    fn node_mut(&mut self, name: &str) -> Result<&mut LabNode, LabError> {
        self.nodes
            .iter_mut()
            .find(|n| n.name == name)
            .ok_or_else(|| LabError::NoSuchNode(name.to_string()))
    }

    /// The lab's `name:`.
    pub fn name(&self) -> &str {
        &self.topology.name
    }

    /// The checked topology the lab was built from.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The lab's directory: one subdirectory per node with its config copies, control
    /// sockets, `daemon.log` and `exec.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Node names, sorted.
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| n.name.as_str())
    }

    /// The network namespace of a node (for `ip netns exec`).
    pub fn netns(&self, node: &str) -> Result<&str, LabError> {
        Ok(&self.node(node)?.netns)
    }

    /// All namespaces of this lab.
    pub fn namespaces(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.netns.clone()).collect()
    }

    /// The pid of a node's daemon, if it is running.
    pub fn pid(&self, node: &str) -> Result<Option<u32>, LabError> {
        Ok(self.node(node)?.daemon.as_ref().and_then(Daemon::pid))
    }

    /// The file a node's daemon writes its standard output and error to.
    pub fn log_path(&self, node: &str) -> Result<PathBuf, LabError> {
        let n = self.node(node)?;
        Ok(n.daemon
            .as_ref()
            .map_or_else(|| n.dir.join("exec.log"), Daemon::log_path))
    }

    /// The API socket of a Petrel node (`bgpctl --api unix://PATH`).
    pub fn bgpd_socket(&self, node: &str) -> Result<PathBuf, LabError> {
        Ok(self.node(node)?.dir.join(crate::daemon::PETREL_SOCKET))
    }

    /// Runs a program inside a node's namespace (bounded to 30 s) and returns its output,
    /// whatever its exit status.
    pub fn exec(&self, node: &str, argv: &[&str]) -> Result<Output, LabError> {
        let n = self.node(node)?;
        let (program, args) = argv.split_first().ok_or_else(|| LabError::Command {
            what: format!("exec on node {node}"),
            status: "not run".to_string(),
            stderr: "empty command".to_string(),
        })?;
        let mut cmd = sys::in_netns(&n.netns, program);
        cmd.args(args).envs(&n.env);
        sys::run(
            cmd,
            COMMAND_TIMEOUT,
            &format!("node {node}: {}", argv.join(" ")),
        )
    }

    /// Runs `sh -c script` inside a node's namespace; see [`Lab::exec`].
    pub fn sh(&self, node: &str, script: &str) -> Result<Output, LabError> {
        self.exec(node, &["sh", "-c", script])
    }

    /// Runs a command in a node's namespace and returns its standard output, failing on a
    /// non-zero exit.
    fn query(&self, node: &str, argv: &[&str]) -> Result<String, LabError> {
        let out = self.exec(node, argv)?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(sys::command_failed(
                &format!("node {node}: {}", argv.join(" ")),
                &out,
            ))
        }
    }

    fn daemon_of(&self, node: &str, software: Software) -> Result<&Daemon, LabError> {
        let n = self.node(node)?;
        match &n.daemon {
            Some(d) if n.software == software => Ok(d),
            _ => Err(LabError::Command {
                what: format!("{software} CLI on node {node}"),
                status: "not run".to_string(),
                stderr: format!("node {node} runs {}, not {software}", n.software),
            }),
        }
    }

    /// `birdc -s SOCKET COMMAND` on a BIRD node; returns its output.
    pub fn birdc(&self, node: &str, command: &str) -> Result<String, LabError> {
        let socket = self.daemon_of(node, Software::Bird)?.bird_socket();
        let socket = socket.to_string_lossy();
        self.query(node, &["birdc", "-s", &socket, command])
    }

    /// `vtysh --vty_socket DIR -d bgpd -c COMMAND` on an FRR node; returns its output.
    pub fn vtysh(&self, node: &str, command: &str) -> Result<String, LabError> {
        let dir = self
            .daemon_of(node, Software::Frr)?
            .vty_dir()
            .to_string_lossy();
        self.query(
            node,
            &["vtysh", "--vty_socket", &dir, "-d", "bgpd", "-c", command],
        )
    }

    /// `gobgp -p 50051 ARGS...` on a GoBGP node (its API on the namespace's loopback).
    pub fn gobgp(&self, node: &str, args: &[&str]) -> Result<String, LabError> {
        self.daemon_of(node, Software::Gobgp)?;
        let mut argv = vec!["gobgp", "-u", "127.0.0.1", "-p", daemon::GOBGP_API_PORT];
        argv.extend_from_slice(args);
        self.query(node, &argv)
    }

    /// Stops a node's daemon: SIGTERM, then SIGKILL if it is still there after 5 s.
    pub fn stop(&mut self, node: &str) -> Result<(), LabError> {
        self.daemon_mut(node)?.stop()
    }

    /// Kills a node's daemon with SIGKILL, as a crash would.
    pub fn kill(&mut self, node: &str) -> Result<(), LabError> {
        self.daemon_mut(node)?.kill()
    }

    /// Starts a node's daemon again and waits until it answers.
    pub fn start(&mut self, node: &str) -> Result<(), LabError> {
        let timeout = self.options.ready_timeout;
        let n = self.node_mut(node)?;
        let daemon = n
            .daemon
            .as_mut()
            .ok_or_else(|| LabError::NoDaemon(node.to_string()))?;
        daemon.spawn(&n.name, &n.netns, &n.env)?;
        daemon.wait_ready(&n.name, &n.netns, timeout)
    }

    fn daemon_mut(&mut self, node: &str) -> Result<&mut Daemon, LabError> {
        self.node_mut(node)?
            .daemon
            .as_mut()
            .ok_or_else(|| LabError::NoDaemon(node.to_string()))
    }

    /// Polls `condition` every 250 ms until it holds; after `timeout` fails with an error
    /// that says what was waited for.
    pub fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        condition: impl FnMut() -> bool,
    ) -> Result<(), LabError> {
        wait_for(timeout, what, condition)
    }

    /// Each node with its software, namespace and addresses, one block per node.
    pub fn summary(&self) -> String {
        let mut text = format!("lab {} ({})\n", self.topology.name, self.dir.display());
        for n in &self.nodes {
            let pid = n
                .daemon
                .as_ref()
                .and_then(Daemon::pid)
                .map_or_else(String::new, |p| format!(" pid {p}"));
            text.push_str(&format!(
                "  {:<10} {:<7} netns {}{pid}\n",
                n.name, n.software, n.netns
            ));
            if let Ok(out) = sys::ip(&["-n", &n.netns, "-br", "addr", "show"]) {
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    if !line.starts_with("lo ") {
                        text.push_str(&format!("      {line}\n"));
                    }
                }
            }
        }
        text
    }

    /// Tears the lab down: kills every process, deletes every namespace and removes the
    /// directory. Everything is attempted even if a step fails; the failures are returned.
    pub fn down(mut self) -> Result<(), LabError> {
        let errors = self.teardown(false);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(LabError::Teardown(errors))
        }
    }

    fn teardown(&mut self, keep_dir: bool) -> Vec<String> {
        if self.torn_down {
            return Vec::new();
        }
        self.torn_down = true;
        let mut errors = Vec::new();
        for n in &mut self.nodes {
            if let Some(daemon) = &mut n.daemon
                && let Err(e) = daemon.kill()
            {
                errors.push(format!("node {}: {e}", n.name));
            }
            if let Err(e) = sys::destroy_netns(&n.netns) {
                errors.push(format!("node {}: {e}", n.name));
            }
        }
        if keep_dir {
            let _ = std::fs::write(self.dir.join(sys::KEEP_MARKER), "");
            eprintln!("petrel-lab: kept {}", self.dir.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            errors.push(format!("cannot remove {}: {e}", self.dir.display()));
        }
        errors
    }

    /// Prints the end of every node's logs to stderr.
    fn print_logs(&self) {
        eprintln!(
            "petrel-lab: lab {} dropped during a panic; last {TAIL_LINES} lines of each log \
             (set PLAB_KEEP=1 to keep {}):",
            self.topology.name,
            self.dir.display()
        );
        for n in &self.nodes {
            let mut files = vec![n.dir.join("exec.log")];
            if let Some(d) = &n.daemon {
                files.push(d.log_path());
            }
            for file in files.iter().filter(|f| f.exists()) {
                eprintln!(
                    "----- node {} ({}): {} -----\n{}",
                    n.name,
                    n.netns,
                    file.display(),
                    sys::tail_file(file, TAIL_LINES)
                );
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.torn_down {
            return;
        }
        let panicking = std::thread::panicking();
        if panicking {
            self.print_logs();
        }
        let errors = self.teardown(panicking && self.options.keep_dir_on_failure);
        for e in errors {
            eprintln!("petrel-lab: teardown of lab {}: {e}", self.topology.name);
        }
    }
}

/// Polls `condition` every 250 ms until it holds; after `timeout` fails with an error that
/// says what was waited for.
pub fn wait_for(
    timeout: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<(), LabError> {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(LabError::Timeout {
                what: what.to_string(),
                after: timeout,
            });
        }
        std::thread::sleep(POLL_EVERY.min(deadline - now));
    }
}

fn make_dir(path: &Path) -> Result<(), LabError> {
    std::fs::DirBuilder::new()
        .mode(0o755)
        .create(path)
        .map_err(LabError::io(format!("cannot create {}", path.display())))
}

/// Single-quotes a string for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Looks for Petrel's `bgpd`; on failure returns the paths that were tried.
fn find_bgpd(options: &LabOptions) -> Result<PathBuf, Vec<PathBuf>> {
    let explicit = options
        .bgpd
        .clone()
        .or_else(|| std::env::var_os("PETREL_BGPD").map(PathBuf::from));
    let candidates: Vec<PathBuf> = match explicit {
        Some(path) => vec![path],
        None => {
            let mut c = Vec::new();
            if let Ok(exe) = std::env::current_exe() {
                // target/debug/petrel-lab, or target/debug/deps/smoke-<hash> for tests.
                for dir in exe.ancestors().skip(1).take(2) {
                    c.push(dir.join("bgpd"));
                }
            }
            if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
                c.push(PathBuf::from(target).join("debug").join("bgpd"));
            }
            c.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/bgpd"));
            c
        }
    };
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(candidates)
}
