//! The pod address service (`petrel.ipam.v1.Ipam`) that the CNI plugin calls over a unix
//! socket, built on the library and a pluggable [`Store`].
//!
//! ```text
//!  petrel-cni ──unix socket gRPC──> IpamService ──> NodeIpam ──lock──> PodPool per pool
//!                                                       │
//!                                                       └──> Store (blocks + versions)
//!                                                             MemoryStore | Kubernetes
//! ```
//!
//! [`NodeIpam`] serialises one node's calls behind one lock, works on the library's
//! [`PodPool`](crate::PodPool)s and writes every changed block to the store with the version
//! it read, so that other nodes (and a controller) can share the store. The store keeps the
//! truth: a failed write makes the node re-read the pool before its next call.

mod config;
mod error;
mod grpc;
mod memory;
mod node;
mod store;

pub use config::{Attachment, NodeConfig, PodPoolSpec};
pub use error::ServerError;
pub use grpc::{IpamService, serve_unix};
pub use memory::MemoryStore;
pub use node::{Addresses, Assigned, Listed, NodeIpam, Route};
pub use store::{BlockDoc, Store, StoreError, StoredBlock, Version};
