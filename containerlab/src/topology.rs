//! The subset of containerlab's topology file that the runner understands, parsed and checked
//! before anything is created.
//!
//! ```yaml
//! name: smoke
//! topology:
//!   nodes:
//!     bird:
//!       kind: linux
//!       image: ghcr.io/srl-labs/bird:2.13
//!       binds: [bird.conf:/etc/bird.conf]
//!       exec: ["ip addr add 10.0.12.1/24 dev eth1"]
//!   links:
//!     - endpoints: ["bird:eth1", "frr:eth1"]
//! ```
//!
//! Fields containerlab has but the runner has no use for (`cmd`, `labels`, `mgmt-ipv4`, ...)
//! are accepted and ignored; fields it does not know at all are an error, so that a typo
//! does not silently change the lab.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::LabError;

/// Longest interface name Linux accepts (IFNAMSIZ - 1).
const MAX_IFNAME: usize = 15;

/// The routing software a node runs, chosen from its image name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Software {
    /// FRRouting's `bgpd` (images such as `quay.io/frrouting/frr`).
    Frr,
    /// BIRD 2 (images such as `ghcr.io/srl-labs/bird`).
    Bird,
    /// GoBGP's `gobgpd` (images such as `jauderho/gobgp`).
    Gobgp,
    /// Petrel's `bgpd` (`ghcr.io/petrel-net/petrel`).
    Petrel,
    /// A plain host (`alpine` or anything else): no daemon.
    None,
}

impl Software {
    /// Maps an image reference to the software it runs, by the last path segment of the
    /// repository (`quay.io/frrouting/frr:8.4.4` → FRR).
    pub fn from_image(image: &str) -> Software {
        let repo = image.split('@').next().unwrap_or(image);
        let last = repo.rsplit('/').next().unwrap_or(repo);
        let name = last.split(':').next().unwrap_or(last).to_ascii_lowercase();
        if name.contains("gobgp") {
            Software::Gobgp
        } else if name.contains("frr") {
            Software::Frr
        } else if name.contains("bird") {
            Software::Bird
        } else if name.contains("petrel") {
            Software::Petrel
        } else {
            Software::None
        }
    }

    /// Where the image expects its configuration file, in order of preference.
    pub fn config_paths(self) -> &'static [&'static str] {
        match self {
            Software::Frr => &["/etc/frr/frr.conf", "/etc/frr/bgpd.conf"],
            Software::Bird => &["/etc/bird.conf", "/etc/bird/bird.conf"],
            Software::Gobgp => &["/config/gobgp.toml", "/etc/gobgp/gobgp.toml"],
            Software::Petrel => &["/etc/petrel/bgpd.toml"],
            Software::None => &[],
        }
    }
}

impl fmt::Display for Software {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Software::Frr => "frr",
            Software::Bird => "bird",
            Software::Gobgp => "gobgp",
            Software::Petrel => "petrel",
            Software::None => "none",
        })
    }
}

/// A checked topology.
#[derive(Debug, Clone)]
pub struct Topology {
    /// The lab's `name:`.
    pub name: String,
    /// The topology file (absolute).
    pub path: PathBuf,
    /// The nodes, sorted by name.
    pub nodes: Vec<Node>,
    /// The point-to-point links.
    pub links: Vec<Link>,
}

/// One node of the topology.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its name (the key under `topology.nodes`).
    pub name: String,
    /// Its `image:`.
    pub image: String,
    /// The software its image maps to.
    pub software: Software,
    /// Its `binds:`, host paths resolved.
    pub binds: Vec<Bind>,
    /// Its `exec:` commands, in order.
    pub exec: Vec<String>,
    /// Its `env:`, given to the daemon and to the `exec:` commands.
    pub env: BTreeMap<String, String>,
    /// The host path of the daemon's configuration (`None` for plain hosts).
    pub config: Option<PathBuf>,
}

/// A `binds:` entry, `host:container[:mode]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Host path, made absolute relative to the topology file.
    pub host: PathBuf,
    /// Path inside the container.
    pub container: String,
}

/// A link: a veth pair between two endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The first endpoint.
    pub a: Endpoint,
    /// The second endpoint.
    pub b: Endpoint,
}

/// `node:interface`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The node.
    pub node: String,
    /// The interface name inside the node, e.g. `eth1`.
    pub interface: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.interface)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: String,
    #[serde(default)]
    prefix: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    mgmt: Option<serde_yaml_ng::Value>,
    topology: RawTopology,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopology {
    #[serde(default)]
    nodes: BTreeMap<String, RawNode>,
    #[serde(default)]
    links: Vec<RawLink>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawNode {
    kind: Option<String>,
    image: Option<String>,
    #[serde(default)]
    binds: Vec<String>,
    #[serde(default)]
    exec: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    // Accepted for containerlab, unused here.
    #[serde(default)]
    cmd: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    labels: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    group: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    mgmt_ipv4: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    mgmt_ipv6: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    startup_delay: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    endpoints: Vec<String>,
}

impl Topology {
    /// Reads and checks a topology file.
    pub fn load(path: impl AsRef<Path>) -> Result<Topology, LabError> {
        let path = path.as_ref();
        let read_err = |source| LabError::Read {
            path: path.to_path_buf(),
            source,
        };
        let path = std::fs::canonicalize(path).map_err(read_err)?;
        let text = std::fs::read_to_string(&path).map_err(read_err)?;
        Topology::from_yaml(&text, &path)
    }

    /// Checks a topology given as text; `path` names it in errors and anchors relative binds.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Topology, LabError> {
        let raw: RawFile = serde_yaml_ng::from_str(text).map_err(|source| LabError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |reason: String| LabError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let _ = (&raw.prefix, &raw.mgmt);
        if !valid_name(&raw.name) {
            return Err(invalid(format!(
                "lab name {:?} must be letters, digits, '-' or '_'",
                raw.name
            )));
        }
        let base = path.parent().unwrap_or(Path::new("/"));
        let mut nodes = Vec::new();
        for (name, raw_node) in raw.topology.nodes {
            nodes.push(check_node(name, raw_node, base).map_err(invalid)?);
        }
        if nodes.is_empty() {
            return Err(invalid("topology.nodes is empty".to_string()));
        }

        let mut links = Vec::new();
        let mut used = BTreeSet::new();
        for (index, raw_link) in raw.topology.links.into_iter().enumerate() {
            let [a, b] = <[String; 2]>::try_from(raw_link.endpoints).map_err(|e| {
                invalid(format!(
                    "link {index} has {} endpoints, a link needs exactly two",
                    e.len()
                ))
            })?;
            let mut ends = Vec::with_capacity(2);
            for written in [a, b] {
                let endpoint = parse_endpoint(&written)
                    .map_err(|why| invalid(format!("link {index} endpoint {written:?}: {why}")))?;
                if !nodes.iter().any(|n| n.name == endpoint.node) {
                    return Err(LabError::UnknownEndpointNode {
                        path: path.to_path_buf(),
                        link: index,
                        node: endpoint.node,
                        endpoint: written,
                    });
                }
                if !used.insert((endpoint.node.clone(), endpoint.interface.clone())) {
                    return Err(invalid(format!(
                        "link {index} endpoint {written:?}: interface already used by another link"
                    )));
                }
                ends.push(endpoint);
            }
            let b = ends.pop();
            let a = ends.pop();
            if let (Some(a), Some(b)) = (a, b) {
                links.push(Link { a, b });
            }
        }
        Ok(Topology {
            name: raw.name,
            path: path.to_path_buf(),
            nodes,
            links,
        })
    }

    /// The node of that name.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

impl Node {
    /// The host path behind a container path, through the binds (file or directory binds).
    pub fn host_path(&self, container: &str) -> Option<PathBuf> {
        resolve_bind(&self.binds, container)
    }
}

fn check_node(name: String, raw: RawNode, base: &Path) -> Result<Node, String> {
    let _ = (
        &raw.cmd,
        &raw.labels,
        &raw.group,
        &raw.mgmt_ipv4,
        &raw.mgmt_ipv6,
        &raw.startup_delay,
    );
    if !valid_name(&name) {
        return Err(format!(
            "node name {name:?} must be letters, digits, '-' or '_'"
        ));
    }
    match raw.kind.as_deref() {
        Some("linux") => {}
        Some(other) => {
            return Err(format!(
                "node {name}: kind {other:?} is not supported (only `kind: linux`)"
            ));
        }
        None => {
            return Err(format!(
                "node {name}: no `kind:` (only `kind: linux` is supported)"
            ));
        }
    }
    let image = raw
        .image
        .ok_or_else(|| format!("node {name}: no `image:`"))?;
    let software = Software::from_image(&image);
    let mut binds = Vec::new();
    for written in &raw.binds {
        let bind = parse_bind(written, base)
            .map_err(|why| format!("node {name} bind {written:?}: {why}"))?;
        if !bind.host.exists() {
            return Err(format!(
                "node {name} bind {written:?}: host path {} does not exist",
                bind.host.display()
            ));
        }
        binds.push(bind);
    }
    let config = if software == Software::None {
        None
    } else {
        let wanted = software.config_paths();
        let found = wanted
            .iter()
            .find_map(|c| resolve_bind(&binds, c).filter(|h| h.is_file()));
        Some(found.ok_or_else(|| {
            format!(
                "node {name}: image {image} runs {software}, which needs its configuration bound \
                 to one of {wanted:?}"
            )
        })?)
    };
    Ok(Node {
        name,
        image,
        software,
        binds,
        exec: raw.exec,
        env: raw.env,
        config,
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse_endpoint(written: &str) -> Result<Endpoint, String> {
    let (node, interface) = written
        .split_once(':')
        .ok_or("expected \"node:interface\"")?;
    if node.is_empty() {
        return Err("empty node name".to_string());
    }
    if interface.is_empty() || interface.len() > MAX_IFNAME {
        return Err(format!(
            "interface name must be 1 to {MAX_IFNAME} characters"
        ));
    }
    if interface == "lo"
        || interface == "."
        || interface == ".."
        || interface
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
    {
        return Err(format!("{interface:?} is not a usable interface name"));
    }
    Ok(Endpoint {
        node: node.to_string(),
        interface: interface.to_string(),
    })
}

fn parse_bind(written: &str, base: &Path) -> Result<Bind, String> {
    let mut parts = written.split(':');
    let (Some(host), Some(container)) = (parts.next(), parts.next()) else {
        return Err("expected \"host:container[:mode]\"".to_string());
    };
    match parts.next() {
        None | Some("ro") | Some("rw") | Some("z") | Some("Z") => {}
        Some(mode) => return Err(format!("unknown mode {mode:?}")),
    }
    if parts.next().is_some() || host.is_empty() || !container.starts_with('/') {
        return Err("expected \"host:/container/path[:mode]\"".to_string());
    }
    let host = if let Some(home_rel) = host.strip_prefix("~/") {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .ok_or("`~` used but HOME is not set")?
            .join(home_rel)
    } else {
        base.join(host)
    };
    Ok(Bind {
        host,
        container: container.trim_end_matches('/').to_string(),
    })
}

fn resolve_bind(binds: &[Bind], container: &str) -> Option<PathBuf> {
    // The longest matching bind wins, as with nested mounts.
    binds
        .iter()
        .filter_map(|b| {
            if b.container == container {
                Some((b.container.len(), b.host.clone()))
            } else {
                let rest = container.strip_prefix(&b.container)?.strip_prefix('/')?;
                Some((b.container.len(), b.host.join(rest)))
            }
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Topology, LabError> {
        Topology::from_yaml(text, Path::new("/nonexistent/lab.clab.yml"))
    }

    #[test]
    fn images_map_to_software() {
        assert_eq!(
            Software::from_image("quay.io/frrouting/frr:8.4.4"),
            Software::Frr
        );
        assert_eq!(
            Software::from_image("ghcr.io/srl-labs/bird:2.13"),
            Software::Bird
        );
        assert_eq!(
            Software::from_image("jauderho/gobgp:v3.37.0"),
            Software::Gobgp
        );
        assert_eq!(
            Software::from_image("ghcr.io/petrel-net/petrel:latest"),
            Software::Petrel
        );
        assert_eq!(Software::from_image("alpine:3.20"), Software::None);
        // A registry host that looks like a daemon name does not count.
        assert_eq!(
            Software::from_image("frr.example:5000/alpine"),
            Software::None
        );
    }

    #[test]
    fn plain_hosts_and_links_parse() {
        let topo = parse(
            "name: t\ntopology:\n  nodes:\n    h2: {kind: linux, image: alpine, exec: [\"true\"]}\n    h1:\n      kind: linux\n      image: alpine\n      cmd: sleep infinity\n  links:\n    - endpoints: [\"h1:eth1\", \"h2:eth1\"]\n",
        )
        .unwrap();
        assert_eq!(topo.name, "t");
        let names: Vec<_> = topo.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["h1", "h2"]);
        assert_eq!(topo.links.len(), 1);
        assert_eq!(topo.links[0].a.to_string(), "h1:eth1");
        assert_eq!(topo.links[0].b.to_string(), "h2:eth1");
        assert_eq!(topo.node("h2").unwrap().exec, ["true"]);
    }

    #[test]
    fn unknown_endpoint_node_is_named() {
        let err = parse(
            "name: t\ntopology:\n  nodes:\n    h1: {kind: linux, image: alpine}\n  links:\n    - endpoints: [\"h1:eth1\", \"ghost:eth1\"]\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, LabError::UnknownEndpointNode { .. }), "{msg}");
        assert!(msg.contains("\"ghost:eth1\""), "{msg}");
    }

    #[test]
    fn bad_links_are_rejected() {
        for (links, needle) in [
            ("[\"h1:eth1\"]", "exactly two"),
            ("[\"h1eth1\", \"h2:eth1\"]", "node:interface"),
            ("[\"h1:averyveryverylongname\", \"h2:eth1\"]", "1 to 15"),
            ("[\"h1:lo\", \"h2:eth1\"]", "usable interface"),
        ] {
            let text = format!(
                "name: t\ntopology:\n  nodes:\n    h1: {{kind: linux, image: alpine}}\n    h2: {{kind: linux, image: alpine}}\n  links:\n    - endpoints: {links}\n"
            );
            let msg = parse(&text).unwrap_err().to_string();
            assert!(msg.contains(needle), "{links}: {msg}");
        }
        let msg = parse(
            "name: t\ntopology:\n  nodes:\n    h1: {kind: linux, image: alpine}\n    h2: {kind: linux, image: alpine}\n  links:\n    - endpoints: [\"h1:eth1\", \"h2:eth1\"]\n    - endpoints: [\"h1:eth1\", \"h2:eth2\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("already used"), "{msg}");
    }

    #[test]
    fn unsupported_fields_and_kinds_are_errors() {
        let msg =
            parse("name: t\ntopology:\n  nodes:\n    h1: {kind: linux, image: alpine, imgae: x}\n")
                .unwrap_err()
                .to_string();
        assert!(msg.contains("imgae"), "{msg}");
        let msg = parse("name: t\ntopology:\n  nodes:\n    br: {kind: bridge}\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("\"bridge\" is not supported"), "{msg}");
    }

    #[test]
    fn daemon_needs_its_config_bound() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bird.conf"), "").unwrap();
        std::fs::create_dir(dir.path().join("gobgp")).unwrap();
        std::fs::write(dir.path().join("gobgp/gobgp.toml"), "").unwrap();
        let path = dir.path().join("lab.clab.yml");
        let topo = Topology::from_yaml(
            "name: t\ntopology:\n  nodes:\n    b:\n      kind: linux\n      image: ghcr.io/srl-labs/bird:2.13\n      binds: [\"bird.conf:/etc/bird.conf:ro\"]\n    g:\n      kind: linux\n      image: jauderho/gobgp\n      binds: [\"gobgp:/config\"]\n",
            &path,
        )
        .unwrap();
        let b = topo.node("b").unwrap();
        assert_eq!(b.software, Software::Bird);
        assert_eq!(
            b.config.as_deref(),
            Some(dir.path().join("bird.conf").as_path())
        );
        // A directory bind resolves the file inside it.
        let g = topo.node("g").unwrap();
        assert_eq!(
            g.config.as_deref(),
            Some(dir.path().join("gobgp/gobgp.toml").as_path())
        );

        let msg = Topology::from_yaml(
            "name: t\ntopology:\n  nodes:\n    f: {kind: linux, image: quay.io/frrouting/frr:8.4.4}\n",
            &path,
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("/etc/frr/frr.conf"), "{msg}");
        let msg = Topology::from_yaml(
            "name: t\ntopology:\n  nodes:\n    b: {kind: linux, image: bird, binds: [\"missing.conf:/etc/bird.conf\"]}\n",
            &path,
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("does not exist"), "{msg}");
    }
}
