//! Whether bgpd has just restarted, for graceful restart's Restart State bit.
//!
//! bgpd writes the current time and its process id to a small state file
//! (`graceful_restart.state_file`) at start, every [`TOUCH_PERIOD`] while it runs, and at
//! a clean shutdown. A start counts as a restart when the file says another process was
//! alive less than the restart time ago: this covers a planned stop (SIGTERM, SIGINT, the
//! API) as well as a crash or SIGKILL. A file from this very process (several daemons in
//! one test process) or from a process still running is not a restart.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::{info, warn};

/// How often the state file is rewritten while bgpd runs.
pub const TOUCH_PERIOD: Duration = Duration::from_secs(2);

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The state file's content: "<unix seconds> <pid>".
fn parse(text: &str) -> Option<(u64, u32)> {
    let mut it = text.split_whitespace();
    let t = it.next()?.parse().ok()?;
    let pid = it.next()?.parse().ok()?;
    Some((t, pid))
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether the state file at `path` shows a restart within `window`; then records this
/// process in it. Problems with the file are logged and mean "not a restart".
pub fn check(path: &Path, window: Duration) -> bool {
    let me = std::process::id();
    let restarted = match std::fs::read_to_string(path) {
        Ok(text) => match parse(&text) {
            Some((t, pid)) => {
                let age = now_secs().saturating_sub(t);
                pid != me && !alive(pid) && age <= window.as_secs()
            }
            None => false,
        },
        Err(_) => false,
    };
    if restarted {
        info!(file = %path.display(), "restarted within the restart time: announcing the Restart State bit");
    }
    touch(path);
    restarted
}

/// Records that this process is alive.
pub fn touch(path: &Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = format!("{} {}\n", now_secs(), std::process::id());
    if let Err(e) = std::fs::write(path, text) {
        warn!(file = %path.display(), error = %e, "cannot write the graceful restart state file; a restart will not be announced");
    }
}

/// Rewrites the state file every [`TOUCH_PERIOD`] until aborted.
pub async fn keep_alive(path: PathBuf) {
    let mut tick = tokio::time::interval(TOUCH_PERIOD);
    loop {
        tick.tick().await;
        touch(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recent_file_of_a_dead_process_is_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gr");
        // No file: a first start.
        assert!(!check(&path, Duration::from_secs(120)));
        // Our own file: not a restart (several daemons in one process).
        assert!(!check(&path, Duration::from_secs(120)));
        // A process that no longer exists, 10 s ago.
        let dead = u32::MAX - 1;
        std::fs::write(&path, format!("{} {dead}\n", now_secs() - 10)).unwrap();
        assert!(check(&path, Duration::from_secs(120)));
        // The file now names this process.
        let (_, pid) = parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(pid, std::process::id());
        // Too long ago.
        std::fs::write(&path, format!("{} {dead}\n", now_secs() - 500)).unwrap();
        assert!(!check(&path, Duration::from_secs(120)));
        // Garbage.
        std::fs::write(&path, "not a state file").unwrap();
        assert!(!check(&path, Duration::from_secs(120)));
    }

    #[test]
    fn a_running_process_is_not_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gr");
        // pid 1 is always running.
        std::fs::write(&path, format!("{} 1\n", now_secs())).unwrap();
        assert!(!check(&path, Duration::from_secs(120)));
    }
}
