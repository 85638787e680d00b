//! Network namespaces, bounded command runs and process signals: the runner's contact with
//! the operating system. Every wait here has a deadline.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::LabError;

/// Prefix of every namespace and temporary directory the runner creates:
/// `plab-<owner pid>-<n>` for namespaces, `plab-<owner pid>-lab<n>` for directories.
pub(crate) const PREFIX: &str = "plab-";

/// How long a setup command (`ip ...`) may take.
pub(crate) const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT_NETNS: AtomicU32 = AtomicU32::new(0);
static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A namespace name unique in this process and among live processes.
pub(crate) fn next_netns_name() -> String {
    let n = NEXT_NETNS.fetch_add(1, Ordering::Relaxed);
    format!("{PREFIX}{}-{n}", std::process::id())
}

/// A temporary directory name unique in this process and among live processes.
pub(crate) fn next_dir_path() -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("{PREFIX}{}-lab{n}", std::process::id()))
}

/// Runs a command to completion with a deadline, capturing its output. On timeout the
/// command is killed. Output that background grandchildren keep open is not waited for
/// beyond a short grace period.
pub(crate) fn run(mut cmd: Command, timeout: Duration, what: &str) -> Result<Output, LabError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(LabError::io(format!("cannot run {what}")))?;
    // Readers append as they go, so output is kept even when a background grandchild holds
    // the pipe open past the command's exit.
    let buffers = [
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    ];
    let (tx, rx) = mpsc::channel();
    let readers = [
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    ];
    for (reader, buffer) in readers.into_iter().zip(&buffers) {
        let tx = tx.clone();
        let buffer = Arc::clone(buffer);
        std::thread::spawn(move || {
            if let Some(mut reader) = reader {
                let mut chunk = [0u8; 4096];
                while let Ok(n @ 1..) = reader.read(&mut chunk) {
                    if let Ok(mut buffer) = buffer.lock() {
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                }
            }
            let _ = tx.send(());
        });
    }
    drop(tx);

    let deadline = Instant::now() + timeout;
    let status = poll_until(deadline, || child.try_wait().ok().flatten());
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(LabError::Timeout {
            what: format!("{what} to finish"),
            after: timeout,
        });
    };
    let grace = Instant::now() + Duration::from_millis(300);
    for _ in 0..2 {
        if rx
            .recv_timeout(grace.saturating_duration_since(Instant::now()))
            .is_err()
        {
            break;
        }
    }
    let [stdout, stderr] = buffers.map(|b| {
        b.lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    });
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Like [`run`], but a non-zero exit is an error carrying the end of standard error.
pub(crate) fn run_ok(cmd: Command, timeout: Duration, what: &str) -> Result<Output, LabError> {
    let out = run(cmd, timeout, what)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(command_failed(what, &out))
    }
}

pub(crate) fn command_failed(what: &str, out: &Output) -> LabError {
    let text = if out.stderr.is_empty() {
        &out.stdout
    } else {
        &out.stderr
    };
    LabError::Command {
        what: what.to_string(),
        status: out.status.to_string(),
        stderr: tail(&String::from_utf8_lossy(text), 10),
    }
}

/// Calls `probe` until it returns something or the deadline passes, sleeping a little longer
/// each time (1 ms up to 50 ms).
pub(crate) fn poll_until<T>(deadline: Instant, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// `ip ARGS...`, checked.
pub(crate) fn ip(args: &[&str]) -> Result<Output, LabError> {
    let mut cmd = Command::new("ip");
    cmd.args(args);
    run_ok(cmd, SETUP_TIMEOUT, &format!("ip {}", args.join(" ")))
}

/// A command run inside a namespace: `ip netns exec NS PROGRAM ARGS...`.
pub(crate) fn in_netns(netns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", netns]).arg(program);
    cmd
}

/// Names of all named network namespaces.
pub(crate) fn list_netns() -> Result<Vec<String>, LabError> {
    let out = ip(&["netns", "list"])?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

/// Pids of the processes inside a namespace.
pub(crate) fn netns_pids(netns: &str) -> Result<Vec<i32>, LabError> {
    let out = ip(&["netns", "pids", netns])?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect())
}

/// Kills every process inside the namespace and deletes it.
pub(crate) fn destroy_netns(netns: &str) -> Result<(), LabError> {
    let pids = netns_pids(netns)?;
    for &pid in &pids {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let gone = poll_until(deadline, || {
        pids.iter().all(|&p| !pid_alive(p)).then_some(())
    });
    if gone.is_none() {
        return Err(LabError::Timeout {
            what: format!("processes {pids:?} in namespace {netns} to die"),
            after: Duration::from_secs(5),
        });
    }
    ip(&["netns", "delete", netns]).map(drop)
}

/// Whether a process exists and is not a zombie.
pub(crate) fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The pid in a name the runner made (`plab-<pid>-...`), if it is one.
pub(crate) fn owner_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, suffix) = rest.split_once('-')?;
    if suffix.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes namespaces and temporary directories left by runs whose process is gone (a test
/// binary killed mid-run, say). Returns what it removed.
pub(crate) fn clean_stale() -> Vec<String> {
    let mut removed = Vec::new();
    let me = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
    let stale = |name: &str| owner_pid(name).is_some_and(|pid| pid != me && !pid_alive(pid));
    if let Ok(names) = list_netns() {
        for name in names.iter().filter(|n| stale(n)) {
            match destroy_netns(name) {
                Ok(()) => removed.push(format!("namespace {name}")),
                Err(e) => tracing::warn!("cannot remove stale namespace {name}: {e}"),
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if stale(&name) && path.is_dir() && !path.join(KEEP_MARKER).exists() {
                match std::fs::remove_dir_all(&path) {
                    Ok(()) => removed.push(format!("directory {}", path.display())),
                    Err(e) => tracing::warn!("cannot remove stale {}: {e}", path.display()),
                }
            }
        }
    }
    removed
}

/// A lab directory holding this file was kept on purpose and is never cleaned as stale.
pub(crate) const KEEP_MARKER: &str = "KEPT";

/// Sends a signal to a process; a process that is already gone is not an error.
pub(crate) fn signal(pid: u32, sig: Signal) -> Result<(), LabError> {
    let pid = i32::try_from(pid).map_err(|_| LabError::Io {
        what: format!("pid {pid} out of range"),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;
    match kill(Pid::from_raw(pid), sig) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(LabError::Io {
            what: format!("cannot send {sig} to pid {pid}"),
            source: e.into(),
        }),
    }
}

/// The last `lines` lines of a text.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last `lines` lines of a file, or a note that it cannot be read.
pub(crate) fn tail_file(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => tail(&String::from_utf8_lossy(&bytes), lines),
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_only_from_our_names() {
        assert_eq!(owner_pid("plab-1234-0"), Some(1234));
        assert_eq!(owner_pid("plab-1234-lab3"), Some(1234));
        assert_eq!(owner_pid("plab-1234"), None);
        assert_eq!(owner_pid("plab-x1-0"), None);
        assert_eq!(owner_pid("plabx-1-0"), None);
        assert_eq!(owner_pid("other-1234-0"), None);
    }

    #[test]
    fn names_are_unique_and_short() {
        let a = next_netns_name();
        let b = next_netns_name();
        assert_ne!(a, b);
        assert_eq!(owner_pid(&a), i32::try_from(std::process::id()).ok());
        assert!(a.len() <= 24, "{a}");
    }

    #[test]
    fn run_is_bounded_and_captures_output() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let out = run(cmd, Duration::from_secs(5), "sh").unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");

        let mut cmd = Command::new("sleep");
        cmd.arg("10");
        let start = Instant::now();
        let err = run(cmd, Duration::from_millis(200), "sleep 10").unwrap_err();
        assert!(matches!(err, LabError::Timeout { .. }), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3));

        // A background grandchild holding the pipe does not hold us up.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 3 & echo done"]);
        let start = Instant::now();
        let out = run(cmd, Duration::from_secs(5), "sh").unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"done\n");
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn own_process_is_alive() {
        assert!(pid_alive(i32::try_from(std::process::id()).unwrap()));
        assert!(!pid_alive(i32::MAX));
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
