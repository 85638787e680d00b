//! The one error type of the runner.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while loading, building, driving or tearing down a lab.
///
/// Topology errors (`Read` to `BgpdNotFound`) are found before anything is created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// The topology file could not be read.
    #[error("cannot read topology {path}: {source}")]
    Read {
        /// The topology file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The topology file is not YAML of the supported containerlab subset.
    #[error("cannot parse topology {path}: {source}")]
    Parse {
        /// The topology file.
        path: PathBuf,
        /// The parser's message, with line and column.
        source: serde_yaml_ng::Error,
    },
    /// The topology parses but describes something the runner cannot build.
    #[error("invalid topology {path}: {reason}")]
    Invalid {
        /// The topology file.
        path: PathBuf,
        /// What is wrong, naming the node, link or endpoint.
        reason: String,
    },
    /// A link endpoint names a node that the topology does not define.
    #[error(
        "invalid topology {path}: link {link} endpoint \"{endpoint}\" names unknown node \"{node}\""
    )]
    UnknownEndpointNode {
        /// The topology file.
        path: PathBuf,
        /// Index of the link in `topology.links` (from 0).
        link: usize,
        /// The endpoint as written, e.g. `"ghost:eth1"`.
        endpoint: String,
        /// The node part of the endpoint.
        node: String,
    },
    /// A Petrel node needs the `bgpd` binary and none was found.
    #[error(
        "node {node} runs Petrel's bgpd but no bgpd binary was found (tried {tried:?}); \
         build it with `cargo build -p bgpd` or set PETREL_BGPD"
    )]
    BgpdNotFound {
        /// The first Petrel node.
        node: String,
        /// The paths that were tried.
        tried: Vec<PathBuf>,
    },
    /// The runner needs root (network namespaces, veth pairs, daemons binding port 179).
    #[error("petrel-lab needs root to create network namespaces (running as uid {uid})")]
    NotRoot {
        /// The effective uid.
        uid: u32,
    },
    /// No node of that name in this lab.
    #[error("no node named {0:?} in this lab")]
    NoSuchNode(String),
    /// The node's image maps to no daemon, so it cannot be started or stopped.
    #[error("node {0} runs no daemon (its image maps to none)")]
    NoDaemon(String),
    /// `start` was called on a node whose daemon is running.
    #[error("the daemon of node {0} is already running")]
    AlreadyRunning(String),
    /// A command that sets up or queries the lab failed.
    #[error("{what} failed ({status}): {stderr}")]
    Command {
        /// What was run, for the operator.
        what: String,
        /// Its exit status.
        status: String,
        /// The last lines of its standard error (or output).
        stderr: String,
    },
    /// A daemon exited while it was expected to run.
    #[error("the daemon of node {node} exited ({status}); last lines of {log}:\n{tail}")]
    DaemonExited {
        /// The node.
        node: String,
        /// How it ended.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of its log.
        tail: String,
    },
    /// A bounded wait ran out.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        after: Duration,
    },
    /// An operating-system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was attempted.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// Teardown finished but some steps failed; everything else was still removed.
    #[error("teardown incomplete: {}", .0.join("; "))]
    Teardown(Vec<String>),
}

impl LabError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
        let what = what.into();
        move |source| LabError::Io { what, source }
    }
}
