//! bgpd's configuration file: a TOML file read with the `config` crate into a typed,
//! validated [`Config`].
//!
//! [`load`] and [`from_str`] either return a `Config` that passed every check or a
//! [`ConfigError`] listing every problem in the file, each naming the file, the key path
//! (`neighbors[2].hold_time`), what is wrong and what is allowed. Unknown keys are errors.
//! A TOML syntax error stops parsing, so it is reported alone, with its line and column.
//!
//! `docs/configuration.md` documents every key; keep it in step with this module.

mod build;
mod error;
mod policy;
mod reader;
mod services;
mod session;
mod session_rules;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ::config::{FileFormat, Source};
use bgp_proto::Family;
use ipnet::IpNet;

pub use self::error::{ConfigError, Location, Problem};
pub use self::session::{
    DEFAULT_RESTART_TIME, DEFAULT_SELECTION_DEFERRAL_TIME, DEFAULT_STALE_ROUTES_TIME,
    GracefulRestart, GracefulRestartGlobal, STATE_FILE_EXTENSION, SessionOptions, StateFile,
};
pub use self::session_rules::{
    AddPath, LocalAs, MaxPrefix, ROLE_NAMES, RemovePrivateAs, SessionRules,
};
/// Attribute values an `[[originate]]` entry sets, in the codec's own types (their text
/// forms are parsed there).
pub use bgp_proto::attr::{Community, LargeCommunity, Origin, ParseAttrError};

/// TCP port BGP listens on and connects to (RFC 4271).
pub const BGP_PORT: u16 = 179;
/// Default `global.listen`: every IPv4 and IPv6 address on port 179 (`0.0.0.0:179` and
/// `[::]:179`; the `[::]` socket needs `IPV6_V6ONLY` to bind next to the IPv4 one).
pub const DEFAULT_LISTEN: [SocketAddr; 2] = [
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), BGP_PORT),
    SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), BGP_PORT),
];
/// Default `neighbors[].hold_time` (RFC 4271 suggests 90 seconds).
pub const DEFAULT_HOLD_TIME: Duration = Duration::from_secs(90);
/// Default `global.connect_retry`: the first wait before reconnecting.
pub const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
/// Default `global.connect_retry_max`: the cap of the exponential back-off.
pub const DEFAULT_CONNECT_RETRY_MAX: Duration = Duration::from_secs(120);
/// The address families `neighbors[].families` may name.
pub const KNOWN_FAMILIES: [(&str, Family); 2] = [
    ("ipv4-unicast", Family::IPV4_UNICAST),
    ("ipv6-unicast", Family::IPV6_UNICAST),
];

/// A validated configuration. Comparing two of them tells a reload what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[global]`: this router.
    pub global: Global,
    /// `[[neighbors]]`, in file order; addresses are unique.
    pub neighbors: Vec<Neighbor>,
    /// `[[originate]]`, in file order; prefixes are unique.
    pub originate: Vec<Originate>,
    /// `[api]`: where the gRPC API is served.
    pub api: Api,
    /// `[metrics]`: where Prometheus metrics are served.
    pub metrics: Metrics,
    /// `[graceful_restart]`: neighbour defaults and the restarting speaker's settings.
    pub graceful_restart: GracefulRestartGlobal,
    /// `[policy]`, the defined sets and `[[policies]]`.
    pub policy: crate::policy::PolicyConfig,
}

/// Default path of the API's unix socket.
pub const DEFAULT_API_SOCKET: &str = "/run/petrel/bgpd.sock";

/// `[api]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// The unix socket (mode 0660); `None` when disabled with `socket = ""`.
    pub socket: Option<PathBuf>,
    /// TCP addresses; none unless configured.
    pub listen: Vec<SocketAddr>,
    /// TLS for the TCP listeners.
    pub tls: Option<ApiTls>,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            socket: Some(PathBuf::from(DEFAULT_API_SOCKET)),
            listen: Vec::new(),
            tls: None,
        }
    }
}

/// TLS settings of the API's TCP listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTls {
    /// PEM certificate chain of the server.
    pub cert: PathBuf,
    /// PEM private key of the server.
    pub key: PathBuf,
    /// PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS).
    pub client_ca: Option<PathBuf>,
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Address of the Prometheus endpoint (`/metrics`); off unless configured.
    pub listen: Option<SocketAddr>,
}

impl Config {
    /// The neighbor with this address, if configured.
    pub fn neighbor(&self, address: IpAddr) -> Option<&Neighbor> {
        self.neighbors.iter().find(|n| n.address == address)
    }
}

/// `[global]`: settings of this router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Local AS number (4-octet; never 0 or AS_TRANS 23456).
    pub asn: u32,
    /// BGP identifier (never 0.0.0.0).
    pub router_id: Ipv4Addr,
    /// Route reflector CLUSTER_ID (RFC 4456); defaults to `router_id`.
    pub cluster_id: Ipv4Addr,
    /// Addresses to accept BGP connections on; empty means outbound connections only.
    pub listen: Vec<SocketAddr>,
    /// Compare MED between routes from different neighbor ASes.
    pub always_compare_med: bool,
    /// Compute equal-cost multipath sets for the FIB.
    pub multipath: bool,
    /// First wait before reconnecting to a neighbor; doubles after each failure.
    pub connect_retry: Duration,
    /// Cap of the reconnect back-off (at least `connect_retry`).
    pub connect_retry_max: Duration,
}

/// `[[neighbors]]`: one BGP peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    /// The peer's address; unique among neighbors.
    pub address: IpAddr,
    /// TCP port to connect to (179 except in tests).
    pub port: u16,
    /// The peer's AS number; equal to `global.asn` for iBGP.
    pub peer_asn: u32,
    /// Free text for logs and the API (at most 255 bytes, no control characters).
    pub description: Option<String>,
    /// False keeps the session down without removing the neighbor.
    pub enabled: bool,
    /// Only accept connections from the peer; never connect out.
    pub passive: bool,
    /// Hold time proposed in OPEN: zero (no keepalives) or 3..=65535 seconds.
    pub hold_time: Duration,
    /// KEEPALIVE interval: as configured, or a third of `hold_time` (whole seconds).
    pub keepalive: Duration,
    /// Address families to negotiate, in file order, without duplicates; never empty.
    pub families: Vec<Family>,
    /// Source address for the TCP connection, same family as `address`.
    pub local_address: Option<IpAddr>,
    /// eBGP multihop: IP TTL of the session's packets (1..=255). `None`: directly connected
    /// eBGP (TTL 1) or iBGP.
    pub multihop_ttl: Option<u8>,
    /// The peer is a route reflector client (iBGP only).
    pub route_reflector_client: bool,
    /// First reconnect wait for this neighbor: its own `connect_retry` or the global one.
    pub connect_retry: Duration,
    /// TCP MD5, GTSM, interface binding and graceful restart.
    pub session: SessionOptions,
    /// local-as, remove-private-as, allowas-in, AS override, role, max-prefix, ADD-PATH.
    pub rules: SessionRules,
    /// Import and export policy chains and default actions (changed without a reset).
    pub policy: crate::policy::Assignment,
    /// A route server client (RFC 7947): our AS is not prepended, next hop and MED pass
    /// unchanged, and it gets its own best path after its export policy.
    pub route_server_client: bool,
    /// Keep a pre-policy copy of the routes received, so that an import policy change is
    /// applied without asking the peer (for peers without route refresh).
    pub soft_reconfiguration_inbound: bool,
}

impl Neighbor {
    /// True if the peer is in our AS.
    pub fn is_ibgp(&self, local_asn: u32) -> bool {
        self.peer_asn == local_asn
    }

    /// The address and port to connect to.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }
}

/// `[[originate]]`: a prefix this router announces, with the attributes it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Originate {
    /// The prefix; host bits are zero.
    pub prefix: IpNet,
    /// Next hop to announce, same family as the prefix; `None`: the session's local address.
    pub next_hop: Option<IpAddr>,
    /// Standard communities (RFC 1997), in file order.
    pub communities: Vec<Community>,
    /// Large communities (RFC 8092), in file order.
    pub large_communities: Vec<LargeCommunity>,
    /// MULTI_EXIT_DISC, if any.
    pub med: Option<u32>,
    /// LOCAL_PREF for iBGP neighbors, if any (the daemon's default applies otherwise).
    pub local_pref: Option<u32>,
    /// ORIGIN.
    pub origin: Origin,
}

/// Reads and validates the configuration file at `path`. Messages name the file as `path`
/// is displayed.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(vec![Problem::in_file(
            &name,
            format!("cannot read configuration file: {e}"),
        )])
    })?;
    from_str(&text, &name)
}

/// Parses and validates configuration text; `origin` names it in messages (a file name).
pub fn from_str(toml: &str, origin: &str) -> Result<Config, ConfigError> {
    let root = ::config::File::from_str(toml, FileFormat::Toml)
        .collect()
        .map_err(|e| ConfigError::new(vec![syntax_problem(origin, &e)]))?;
    build::config(root, origin)
}

/// Parses text holding only the policy sections of a configuration file (`[policy]`, the
/// defined sets, `[[policies]]`); set names are not resolved here.
pub fn policy_from_str(
    toml: &str,
    origin: &str,
) -> Result<crate::policy::PolicyConfig, ConfigError> {
    let root = ::config::File::from_str(toml, FileFormat::Toml)
        .collect()
        .map_err(|e| ConfigError::new(vec![syntax_problem(origin, &e)]))?;
    policy::fragment(root, origin)
}

/// Turns the `config` crate's parse error into one problem with the line and column.
///
/// The TOML parser's position only survives in its message ("TOML parse error at line L,
/// column C", a snippet, then the reason); the concrete error type is not reachable through
/// the `config` crate, so the message is taken apart. If its shape ever changes, the whole
/// message is kept instead.
fn syntax_problem(origin: &str, err: &::config::ConfigError) -> Problem {
    let text = match err {
        ::config::ConfigError::FileParse { cause, .. } => cause.to_string(),
        other => other.to_string(),
    };
    let mut lines = text.lines();
    let position = lines
        .next()
        .and_then(|first| first.strip_prefix("TOML parse error at line "))
        .and_then(|rest| rest.split_once(", column "))
        .and_then(|(line, column)| Some((line.parse().ok()?, column.parse().ok()?)));
    // The reason follows the snippet, whose lines all contain '|'.
    let reason: Vec<&str> = lines
        .filter(|l| !l.contains('|') && !l.trim().is_empty())
        .collect();
    match position {
        Some((line, column)) if !reason.is_empty() => Problem::at_position(
            origin,
            line,
            column,
            format!("TOML syntax error: {}", reason.join("; ")),
        ),
        _ => Problem::in_file(
            origin,
            format!("TOML syntax error: {}", text.trim().replace('\n', " ")),
        ),
    }
}
