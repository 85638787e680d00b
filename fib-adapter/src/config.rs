//! Command line and configuration file.
//!
//! Every setting can be given in the TOML file; `--api`, `--table`, `--protocol`,
//! `--metric`, `--metrics` and `--stale-time` on the command line win over it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::route::RouteSpec;

/// The routing protocol number fib-adapter marks its routes with unless told otherwise.
pub const DEFAULT_PROTOCOL: u8 = 186;
/// The metric of installed routes unless told otherwise.
pub const DEFAULT_METRIC: u32 = 20;
/// bgpd's default API socket.
pub const DEFAULT_API: &str = "unix:///run/petrel/bgpd.sock";
/// How long routes stay while bgpd is away, unless told otherwise.
pub const DEFAULT_STALE_TIME: u64 = 300;
/// How often interfaces and tables are scanned, unless told otherwise.
pub const DEFAULT_SCAN_INTERVAL: u64 = 5;

/// `fib-adapter` command line.
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(
    name = "fib-adapter",
    version,
    about = "Follows bgpd's best paths and programs them into a kernel routing table"
)]
pub struct Cli {
    /// bgpd's API: `unix:///path`, a socket path, or `http://host:port`.
    #[arg(long)]
    pub api: Option<String>,
    /// Kernel routing table to install routes into.
    #[arg(long)]
    pub table: Option<u32>,
    /// Routing protocol number that marks fib-adapter's routes (default 186).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Metric of installed routes (default 20).
    #[arg(long)]
    pub metric: Option<u32>,
    /// TOML configuration file (see docs/fib-adapter.md).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (`http://ADDR/metrics`).
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
    /// Seconds routes stay in the kernel while bgpd is away (default 300).
    #[arg(long)]
    pub stale_time: Option<u64>,
}

/// A protocol given as a number or as a name from `/etc/iproute2/rt_protos`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ProtocolValue {
    Number(u8),
    Name(String),
}

/// The TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    api: Option<String>,
    table: Option<u32>,
    protocol: Option<ProtocolValue>,
    metric: Option<u32>,
    metrics: Option<SocketAddr>,
    stale_time: Option<u64>,
    scan_interval: Option<u64>,
    #[serde(default)]
    redistribute: RedistributeFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedistributeFile {
    #[serde(default)]
    connected: Vec<String>,
    #[serde(default)]
    kernel: Vec<KernelFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KernelFile {
    table: u32,
    protocol: ProtocolValue,
}

/// A configuration problem, reported before anything starts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: cannot read configuration file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser says.
        message: String,
    },
    /// A value is out of range.
    #[error("{key}: {message}")]
    Invalid {
        /// The setting.
        key: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
}

/// Kernel routes to announce into bgpd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSource {
    /// Table to read.
    pub table: u32,
    /// Only routes of this protocol.
    pub protocol: u8,
}

/// What is announced into bgpd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redistribute {
    /// Interfaces whose connected prefixes are announced.
    pub connected: Vec<String>,
    /// Tables and protocols whose routes are announced.
    pub kernel: Vec<KernelSource>,
}

impl Redistribute {
    /// Whether anything is to be announced.
    pub fn is_empty(&self) -> bool {
        self.connected.is_empty() && self.kernel.is_empty()
    }
}

/// The settings fib-adapter runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// bgpd's API address.
    pub api: String,
    /// Table, protocol and metric of installed routes.
    pub spec: RouteSpec,
    /// Metrics listen address.
    pub metrics: Option<SocketAddr>,
    /// How long routes stay while bgpd is away before they are flushed.
    pub stale_time: Duration,
    /// How often interfaces, tables and next hops are looked at again.
    pub scan_interval: Duration,
    /// Routes announced into bgpd.
    pub redistribute: Redistribute,
}

/// Names of `/etc/iproute2/rt_protos` (and the kernel's `rtnetlink.h`).
const PROTOCOL_NAMES: [(&str, u8); 17] = [
    ("redirect", 1),
    ("kernel", 2),
    ("boot", 3),
    ("static", 4),
    ("gated", 8),
    ("ra", 9),
    ("mrt", 10),
    ("zebra", 11),
    ("bird", 12),
    ("dnrouted", 13),
    ("xorp", 14),
    ("ntk", 15),
    ("dhcp", 16),
    ("keepalived", 18),
    ("babel", 42),
    ("bgp", 186),
    ("ospf", 188),
];

/// Parses a protocol number or name.
pub fn parse_protocol(text: &str) -> Option<u8> {
    text.parse::<u8>().ok().or_else(|| {
        PROTOCOL_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(text))
            .map(|(_, v)| *v)
    })
}

fn protocol_value(key: &'static str, v: &ProtocolValue) -> Result<u8, ConfigError> {
    match v {
        ProtocolValue::Number(n) => Ok(*n),
        ProtocolValue::Name(s) => parse_protocol(s).ok_or_else(|| ConfigError::Invalid {
            key,
            message: format!(
                "unknown protocol {s:?}; expected a number 0..=255 or one of: {}",
                PROTOCOL_NAMES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

fn check_table(key: &'static str, table: u32) -> Result<u32, ConfigError> {
    match table {
        0 | 255 => Err(ConfigError::Invalid {
            key,
            message: format!(
                "table {table} is {}; expected a table id 1..=4294967295 other than 255",
                if table == 0 {
                    "unspecified"
                } else {
                    "the local table"
                }
            ),
        }),
        t => Ok(t),
    }
}

impl Settings {
    /// Reads the configuration file (if any) and applies the command line over it.
    pub fn load(cli: &Cli) -> Result<Settings, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Settings::merge(cli, file)
    }

    /// Parses a configuration file's text (the command line is empty).
    pub fn from_toml(path: &Path, text: &str) -> Result<Settings, ConfigError> {
        Settings::merge(&Cli::default(), parse_file(path, text)?)
    }

    fn merge(cli: &Cli, file: FileConfig) -> Result<Settings, ConfigError> {
        let table = cli.table.or(file.table).ok_or(ConfigError::Invalid {
            key: "table",
            message: "no table given; pass --table N or set `table` in the file".to_string(),
        })?;
        let table = check_table("table", table)?;
        let protocol = match &cli.protocol {
            Some(text) => protocol_value("protocol", &ProtocolValue::Name(text.clone()))?,
            None => match &file.protocol {
                Some(v) => protocol_value("protocol", v)?,
                None => DEFAULT_PROTOCOL,
            },
        };
        if protocol <= 3 {
            return Err(ConfigError::Invalid {
                key: "protocol",
                message: format!(
                    "protocol {protocol} belongs to the kernel (0 unspec, 1 redirect, 2 kernel, \
                     3 boot); expected 4..=255, e.g. 186 (bgp)"
                ),
            });
        }
        let spec = RouteSpec {
            table,
            protocol,
            metric: cli.metric.or(file.metric).unwrap_or(DEFAULT_METRIC),
        };
        let scan = file.scan_interval.unwrap_or(DEFAULT_SCAN_INTERVAL);
        if scan == 0 {
            return Err(ConfigError::Invalid {
                key: "scan_interval",
                message: "0; expected at least 1 second".to_string(),
            });
        }
        let mut kernel = Vec::new();
        for k in &file.redistribute.kernel {
            let source = KernelSource {
                table: check_table("redistribute.kernel.table", k.table)?,
                protocol: protocol_value("redistribute.kernel.protocol", &k.protocol)?,
            };
            if source.table == spec.table && source.protocol == spec.protocol {
                return Err(ConfigError::Invalid {
                    key: "redistribute.kernel",
                    message: format!(
                        "table {} protocol {} holds the routes fib-adapter installs; announcing \
                         them back into bgpd would loop",
                        source.table, source.protocol
                    ),
                });
            }
            kernel.push(source);
        }
        for name in &file.redistribute.connected {
            if name.is_empty() || name.len() > 15 {
                return Err(ConfigError::Invalid {
                    key: "redistribute.connected",
                    message: format!("{name:?} is not an interface name (1 to 15 bytes)"),
                });
            }
        }
        Ok(Settings {
            api: cli
                .api
                .clone()
                .or(file.api)
                .unwrap_or_else(|| DEFAULT_API.to_string()),
            spec,
            metrics: cli.metrics.or(file.metrics),
            stale_time: Duration::from_secs(
                cli.stale_time
                    .or(file.stale_time)
                    .unwrap_or(DEFAULT_STALE_TIME),
            ),
            scan_interval: Duration::from_secs(scan),
            redistribute: Redistribute {
                connected: file.redistribute.connected,
                kernel,
            },
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_file(path, &text)
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().replace('\n', " "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(Path::new("fib.toml"), text)
    }

    #[test]
    fn full_file() {
        let s = parse(
            r#"
            api = "http://127.0.0.1:50051"
            table = 100
            protocol = "bgp"
            metric = 30
            metrics = "127.0.0.1:9186"
            stale_time = 60
            scan_interval = 2
            [redistribute]
            connected = ["eth1", "lo"]
            [[redistribute.kernel]]
            table = 254
            protocol = "static"
            [[redistribute.kernel]]
            table = 200
            protocol = 17
            "#,
        )
        .unwrap();
        assert_eq!(s.api, "http://127.0.0.1:50051");
        assert_eq!(
            s.spec,
            RouteSpec {
                table: 100,
                protocol: 186,
                metric: 30
            }
        );
        assert_eq!(s.stale_time, Duration::from_secs(60));
        assert_eq!(s.scan_interval, Duration::from_secs(2));
        assert_eq!(s.redistribute.connected, vec!["eth1", "lo"]);
        assert_eq!(
            s.redistribute.kernel,
            vec![
                KernelSource {
                    table: 254,
                    protocol: 4
                },
                KernelSource {
                    table: 200,
                    protocol: 17
                }
            ]
        );
    }

    #[test]
    fn defaults_and_command_line_wins() {
        let cli = Cli {
            table: Some(7),
            metric: Some(5),
            protocol: Some("201".to_string()),
            ..Cli::default()
        };
        let s = Settings::merge(&cli, parse_file(Path::new("f"), "table = 100").unwrap()).unwrap();
        assert_eq!(
            s.spec,
            RouteSpec {
                table: 7,
                protocol: 201,
                metric: 5
            }
        );
        assert_eq!(s.api, DEFAULT_API);
        assert_eq!(s.stale_time, Duration::from_secs(DEFAULT_STALE_TIME));
        assert!(s.redistribute.is_empty());
    }

    #[test]
    fn mistakes_are_reported() {
        let e = parse("table = 100\ntabel = 3").unwrap_err().to_string();
        assert!(e.contains("unknown field `tabel`"), "{e}");
        let e = parse("").unwrap_err().to_string();
        assert!(e.contains("no table given"), "{e}");
        let e = parse("table = 255").unwrap_err().to_string();
        assert!(e.contains("local table"), "{e}");
        let e = parse("table = 100\nprotocol = \"kernel\"").unwrap_err();
        assert!(e.to_string().contains("belongs to the kernel"), "{e}");
        let e = parse("table = 100\nprotocol = \"nope\"").unwrap_err();
        assert!(e.to_string().contains("unknown protocol"), "{e}");
        let e =
            parse("table = 100\n[[redistribute.kernel]]\ntable = 100\nprotocol = 186").unwrap_err();
        assert!(e.to_string().contains("would loop"), "{e}");
        let e = parse("table = 100\nscan_interval = 0").unwrap_err();
        assert!(e.to_string().contains("at least 1"), "{e}");
    }
}
