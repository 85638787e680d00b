//! Where the pod address service keeps its state: a pluggable store of blocks.
//!
//! The service never owns the truth. On Kubernetes the store is one object per block (its
//! spec the prefix and node, its status the compact allocations) written with the object's
//! `resourceVersion` as a precondition; tests and standalone hosts use [`MemoryStore`].
//!
//! [`MemoryStore`]: super::MemoryStore

use std::future::Future;
use std::sync::Arc;

use ipnet::IpNet;

/// One block as stored: which node holds it and its allocations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockDoc {
    /// The block's prefix.
    pub cidr: IpNet,
    /// The node that holds it.
    pub node: String,
    /// Its allocations in compact form ([`Block::to_compact`](crate::Block::to_compact)); empty
    /// for none.
    pub allocations: String,
}

/// An opaque version of a stored block (a Kubernetes `resourceVersion`). A write names the
/// version it was based on and fails with [`StoreError::Conflict`] when the block changed
/// since.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version(pub String);

/// A block with the version it was read at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// The block.
    pub block: BlockDoc,
    /// Its version.
    pub version: Version,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The block changed (or went away) since the version the write was based on.
    #[error("block {cidr} of pool {pool} was changed by someone else")]
    Conflict {
        /// The pool.
        pool: String,
        /// The block.
        cidr: IpNet,
    },
    /// The block was created by someone else first.
    #[error("block {cidr} of pool {pool} already exists")]
    AlreadyExists {
        /// The pool.
        pool: String,
        /// The block.
        cidr: IpNet,
    },
    /// The store could not be reached or refused the operation.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The blocks of the pools, with optimistic concurrency.
///
/// Every method may be called concurrently; the service serialises its own calls per node,
/// and other nodes (or a controller) write the same store at the same time.
pub trait Store: Send + Sync + 'static {
    /// Every block of the pool, held by any node.
    fn list_blocks(
        &self,
        pool: &str,
    ) -> impl Future<Output = Result<Vec<StoredBlock>, StoreError>> + Send;

    /// Creates a block; [`StoreError::AlreadyExists`] when it exists (another node claimed
    /// it first).
    fn create_block(
        &self,
        pool: &str,
        block: BlockDoc,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send;

    /// Replaces a block if it is still at version `expected`; [`StoreError::Conflict`]
    /// when it changed or was deleted.
    fn update_block(
        &self,
        pool: &str,
        block: BlockDoc,
        expected: Version,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send;

    /// Deletes a block if it is still at version `expected`; [`StoreError::Conflict`] when
    /// it changed. Deleting a block that is gone succeeds.
    fn delete_block(
        &self,
        pool: &str,
        cidr: IpNet,
        expected: Version,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<S: Store> Store for Arc<S> {
    fn list_blocks(
        &self,
        pool: &str,
    ) -> impl Future<Output = Result<Vec<StoredBlock>, StoreError>> + Send {
        (**self).list_blocks(pool)
    }

    fn create_block(
        &self,
        pool: &str,
        block: BlockDoc,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send {
        (**self).create_block(pool, block)
    }

    fn update_block(
        &self,
        pool: &str,
        block: BlockDoc,
        expected: Version,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send {
        (**self).update_block(pool, block, expected)
    }

    fn delete_block(
        &self,
        pool: &str,
        cidr: IpNet,
        expected: Version,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).delete_block(pool, cidr, expected)
    }
}
