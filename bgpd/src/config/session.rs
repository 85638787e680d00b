//! Transport security and graceful restart: the `[graceful_restart]` section and the
//! neighbour keys `password`, `ttl_security`, `bind_interface`, `graceful_restart`,
//! `restart_time`, `stale_routes_time` and `long_lived_stale_time`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::reader::{Problems, Table, boolean, integer, string};

/// Default `graceful_restart.restart_time`: what we ask peers to wait for us.
pub const DEFAULT_RESTART_TIME: Duration = Duration::from_secs(120);
/// Default `graceful_restart.stale_routes_time`: how long a restarted peer has to send
/// its End-of-RIB before what it did not re-send is removed.
pub const DEFAULT_STALE_ROUTES_TIME: Duration = Duration::from_secs(360);
/// Default `graceful_restart.selection_deferral_time` (RFC 4724 section 4.1).
pub const DEFAULT_SELECTION_DEFERRAL_TIME: Duration = Duration::from_secs(360);
/// Extension of the default `graceful_restart.state_file`, which sits next to the API
/// socket (`/run/petrel/bgpd.gr-state`): on the tmpfs `/run`, so that a reboot (which loses
/// the kernel routes) is not taken for a restart with forwarding preserved.
pub const STATE_FILE_EXTENSION: &str = "gr-state";

/// Graceful restart (RFC 4724, RFC 8538) settings of one neighbour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GracefulRestart {
    /// Announce the capability, help the peer restart, and restart gracefully ourselves.
    pub enabled: bool,
    /// Restart Time we announce (1..=4095 seconds).
    pub restart_time: Duration,
    /// How long the peer's stale routes are kept once its new session is up, waiting for
    /// its End-of-RIB.
    pub stale_routes_time: Duration,
    /// Announce the N bit (RFC 8538): graceful restart also after a NOTIFICATION.
    pub notification: bool,
    /// Announce forwarding preserved (F bit) for every family.
    pub forwarding_state: bool,
    /// Long-Lived Graceful Restart (RFC 9494): how long the peer should keep our routes
    /// (as LLGR_STALE, least preferred) after the restart time; zero: not announced, and
    /// peers' routes are not kept long-lived either.
    pub long_lived_stale_time: Duration,
}

impl Default for GracefulRestart {
    fn default() -> Self {
        GracefulRestart {
            enabled: true,
            restart_time: DEFAULT_RESTART_TIME,
            stale_routes_time: DEFAULT_STALE_ROUTES_TIME,
            notification: true,
            forwarding_state: true,
            long_lived_stale_time: Duration::ZERO,
        }
    }
}

/// `[graceful_restart]`: defaults for every neighbour and the restarting speaker's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GracefulRestartGlobal {
    /// Defaults of the neighbour keys.
    pub defaults: GracefulRestart,
    /// After a restart, the longest wait for End-of-RIB from every graceful-restart
    /// neighbour before routes are selected and sent.
    pub selection_deferral_time: Duration,
    /// Where bgpd records that it is running, to know at start that it restarted.
    pub state_file: StateFile,
}

/// `graceful_restart.state_file`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StateFile {
    /// Not set: next to the API socket in use (`bgpd.sock` -> `bgpd.gr-state`); none
    /// without an API socket.
    #[default]
    NextToApiSocket,
    /// This file.
    Path(PathBuf),
    /// `state_file = ""`: never announce a restart.
    Off,
}

impl Default for GracefulRestartGlobal {
    fn default() -> Self {
        GracefulRestartGlobal {
            defaults: GracefulRestart::default(),
            selection_deferral_time: DEFAULT_SELECTION_DEFERRAL_TIME,
            state_file: StateFile::NextToApiSocket,
        }
    }
}

impl GracefulRestartGlobal {
    /// The state file to use with the API socket `api_socket` (the one in use, which the
    /// command line may have changed).
    pub fn state_file_path(&self, api_socket: Option<&Path>) -> Option<PathBuf> {
        match &self.state_file {
            StateFile::NextToApiSocket => {
                api_socket.map(|p| p.with_extension(STATE_FILE_EXTENSION))
            }
            StateFile::Path(p) => Some(p.clone()),
            StateFile::Off => None,
        }
    }
}

/// Transport and graceful-restart settings of one neighbour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// TCP MD5 signature key (RFC 2385), 1..=80 bytes.
    pub password: Option<String>,
    /// GTSM (RFC 5082): the peer is at most this many hops away (1..=254); we send with
    /// TTL 255 and drop packets that arrive with a TTL below `256 - hops`.
    pub ttl_security: Option<u8>,
    /// Bind the session's sockets to this interface (`SO_BINDTODEVICE`).
    pub bind_interface: Option<String>,
    /// Graceful restart.
    pub graceful_restart: GracefulRestart,
}

fn restart_time(v: ::config::Value) -> Result<Duration, String> {
    integer::<u16>(v, 1..=4095, "a number of seconds 1..=4095 (12 bits)")
        .map(|s| Duration::from_secs(s.into()))
}

fn llgr_seconds(v: ::config::Value) -> Result<Duration, String> {
    integer::<u32>(
        v,
        0..=0x00ff_ffff,
        "a number of seconds 0..=16777215 (24 bits; 0: off)",
    )
    .map(|s| Duration::from_secs(s.into()))
}

fn long_seconds(v: ::config::Value) -> Result<Duration, String> {
    integer::<u32>(v, 1..=86400, "a number of seconds 1..=86400")
        .map(|s| Duration::from_secs(s.into()))
}

/// `[graceful_restart]`; `None` when a key is invalid (reported).
pub(super) fn global(t: Option<Table>, p: &mut Problems) -> Option<GracefulRestartGlobal> {
    let Some(mut t) = t else {
        return Some(GracefulRestartGlobal::default());
    };
    let d = GracefulRestart::default();
    let enabled = t.or(p, "enabled", d.enabled, boolean);
    let restart = t.or(p, "restart_time", d.restart_time, restart_time);
    let stale = t.or(p, "stale_routes_time", d.stale_routes_time, long_seconds);
    let notification = t.or(p, "notification", d.notification, boolean);
    let forwarding = t.or(p, "forwarding_state", d.forwarding_state, boolean);
    let llgr = t.or(
        p,
        "long_lived_stale_time",
        d.long_lived_stale_time,
        llgr_seconds,
    );
    let deferral = t.or(
        p,
        "selection_deferral_time",
        DEFAULT_SELECTION_DEFERRAL_TIME,
        long_seconds,
    );
    let state_file = t.get(p, "state_file", |v| {
        string(v, "a file path, or \"\" to never announce a restart")
    });
    t.finish(p);
    Some(GracefulRestartGlobal {
        defaults: GracefulRestart {
            enabled: enabled?,
            restart_time: restart?,
            stale_routes_time: stale?,
            notification: notification?,
            forwarding_state: forwarding?,
            long_lived_stale_time: llgr?,
        },
        selection_deferral_time: deferral?,
        state_file: match state_file.ok()? {
            Some(s) if s.is_empty() => StateFile::Off,
            Some(s) => StateFile::Path(PathBuf::from(s)),
            None => StateFile::NextToApiSocket,
        },
    })
}

/// The session keys of one `[[neighbors]]` table. `multihop` tells whether
/// `multihop_ttl` is set (GTSM and multihop exclude each other).
pub(super) fn neighbor(
    t: &mut Table,
    p: &mut Problems,
    defaults: &GracefulRestart,
    multihop: bool,
) -> Option<SessionOptions> {
    let password = t.get(p, "password", |v| {
        let s = string(v, "a string of 1..=80 bytes")?;
        match s.len() {
            0 => Err("is empty; expected a string of 1..=80 bytes, or no password key".into()),
            n if n > crate::peer::sockopt::MAX_MD5_KEY => Err(format!(
                "is {n} bytes long; the kernel accepts TCP MD5 keys of at most 80 bytes"
            )),
            _ => Ok(s),
        }
    });
    let ttl_security = t.get(p, "ttl_security", |v| {
        integer::<u8>(
            v,
            1..=254,
            "a number of hops 1..=254 (1: directly connected)",
        )
    });
    if multihop && matches!(ttl_security, Ok(Some(_))) {
        p.report(
            t.key("ttl_security"),
            "cannot be combined with multihop_ttl (GTSM always sends with TTL 255); \
             expected one of them",
        );
    }
    let bind_interface = t.get(p, "bind_interface", |v| {
        let s = string(v, "an interface name such as \"eth0\"")?;
        if s.is_empty() || s.len() > 15 || s.contains(['/', ' ', '\0']) {
            return Err(format!(
                "{s:?} is not an interface name; expected 1..=15 bytes without '/', spaces or NUL"
            ));
        }
        Ok(s)
    });
    let enabled = t.or(p, "graceful_restart", defaults.enabled, boolean);
    let restart = t.or(p, "restart_time", defaults.restart_time, restart_time);
    let stale = t.or(
        p,
        "stale_routes_time",
        defaults.stale_routes_time,
        long_seconds,
    );
    let llgr = t.or(
        p,
        "long_lived_stale_time",
        defaults.long_lived_stale_time,
        llgr_seconds,
    );
    let (Ok(password), Ok(ttl_security), Ok(bind_interface)) =
        (password, ttl_security, bind_interface)
    else {
        return None;
    };
    if multihop && ttl_security.is_some() {
        return None;
    }
    Some(SessionOptions {
        password,
        ttl_security,
        bind_interface,
        graceful_restart: GracefulRestart {
            enabled: enabled?,
            restart_time: restart?,
            stale_routes_time: stale?,
            long_lived_stale_time: llgr?,
            ..defaults.clone()
        },
    })
}
