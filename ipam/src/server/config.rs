//! What a node's pod address service is configured with, and what a caller tells it about
//! an interface.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::error::ServerError;
use super::node::Route;
use crate::{Family, Owner, PodPool, PoolConfig, ensure_disjoint};

/// The pools a node allocates pod addresses from.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The node's name: blocks are claimed in it.
    pub node: String,
    /// The pools, in the order their addresses are reported.
    pub pools: Vec<PodPoolSpec>,
}

/// One pod pool as the service uses it.
#[derive(Clone, Debug)]
pub struct PodPoolSpec {
    /// The pool; its gateway (if any) is the gateway reported with its addresses.
    pub pool: PoolConfig,
    /// The prefix length of the pool's blocks, e.g. 26 for IPv4 or 122 for IPv6.
    pub block_len: u8,
    /// Whether an Allocate that names no pool takes an address from this pool. At most one
    /// default pool per address family.
    pub default: bool,
    /// The prefix length reported with each address; the full length (32 or 128, a routed
    /// pod address) when `None`.
    pub prefix_len: Option<u8>,
    /// The routes reported with the pool's addresses; the family's default route when empty.
    pub routes: Vec<IpNet>,
}

impl PodPoolSpec {
    /// A default pool with full-length addresses and a default route.
    pub fn new(pool: PoolConfig, block_len: u8) -> Self {
        Self {
            pool,
            block_len,
            default: true,
            prefix_len: None,
            routes: Vec::new(),
        }
    }

    /// The routes handed out with the pool's addresses.
    pub(crate) fn routes(&self) -> Vec<Route> {
        if !self.routes.is_empty() {
            return self
                .routes
                .iter()
                .map(|&destination| Route {
                    destination,
                    gateway: None,
                })
                .collect();
        }
        let destination = match self.pool.family() {
            Some(Family::V6) => IpNet::from(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            _ => IpNet::from(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        };
        // `IpNet::from(addr)` is a host prefix; the default route is the same address with
        // length 0, which is always valid.
        let destination = IpNet::new(destination.addr(), 0).unwrap_or(destination);
        vec![Route {
            destination,
            gateway: None,
        }]
    }
}

impl NodeConfig {
    /// Checks the configuration; returns the pools, empty.
    pub(crate) fn validate(&self) -> Result<Vec<PodPool>, ServerError> {
        let bad = |reason: String| ServerError::Config(reason);
        if self.node.is_empty() {
            return Err(bad("the node name is empty".into()));
        }
        if self.pools.is_empty() {
            return Err(bad("no pool is configured".into()));
        }
        let mut names = BTreeSet::new();
        let mut defaults = BTreeSet::new();
        let mut pools = Vec::with_capacity(self.pools.len());
        for spec in &self.pools {
            let name = &spec.pool.name;
            if !names.insert(name.as_str()) {
                return Err(bad(format!("pool {name} is configured twice")));
            }
            let pool = PodPool::new(spec.pool.clone(), spec.block_len)?;
            let family = pool.family();
            if spec.default && !defaults.insert(family) {
                return Err(bad(format!(
                    "more than one default {family} pool (pool {name})"
                )));
            }
            if spec.prefix_len.is_some_and(|len| len > family.bits()) {
                return Err(bad(format!(
                    "pool {name}: prefix length above {}",
                    family.bits()
                )));
            }
            if spec.routes.iter().any(|r| Family::of(r.addr()) != family) {
                return Err(bad(format!("pool {name}: a route is not {family}")));
            }
            pools.push(pool);
        }
        ensure_disjoint(self.pools.iter().map(|s| &s.pool))?;
        Ok(pools)
    }
}

/// A pod interface as the CNI plugin describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachment {
    /// The pod's namespace.
    pub pod_namespace: String,
    /// The pod's name.
    pub pod_name: String,
    /// The pod's uid: with the interface, the owner of the addresses.
    pub pod_uid: String,
    /// The container (sandbox) id: Release and Check find the interface by it.
    pub container_id: String,
    /// The interface inside the pod.
    pub interface: String,
}

impl Attachment {
    /// The owner of the interface's addresses.
    pub fn owner(&self) -> Owner {
        Owner::pod(&self.pod_uid, &self.interface)
    }

    /// What is known of an owner that has no caller-given record.
    pub(crate) fn of(owner: &Owner) -> Self {
        match owner {
            Owner::Pod { uid, interface } => Self {
                pod_uid: uid.clone(),
                interface: interface.clone(),
                ..Self::default()
            },
            Owner::Service { namespace, name } => Self {
                pod_namespace: namespace.clone(),
                pod_name: name.clone(),
                ..Self::default()
            },
        }
    }

    /// Fails on the first required field that is empty.
    pub(crate) fn validate(&self) -> Result<(), ServerError> {
        for (field, value) in [
            ("pod_uid", &self.pod_uid),
            ("container_id", &self.container_id),
            ("interface", &self.interface),
        ] {
            if value.is_empty() {
                return Err(ServerError::InvalidArgument {
                    field,
                    reason: "is empty".into(),
                });
            }
        }
        Ok(())
    }
}
