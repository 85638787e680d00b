//! A store in memory: for tests, and for a standalone host whose blocks are configured.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ipnet::IpNet;

use super::store::{BlockDoc, Store, StoreError, StoredBlock, Version};

/// Blocks in memory, versioned with a counter. Nothing survives the process: a standalone
/// host rebuilds allocations at start-up from what exists
/// ([`NodeIpam::restore`](super::NodeIpam::restore)).
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    blocks: BTreeMap<(String, IpNet), (BlockDoc, u64)>,
    last_version: u64,
}

impl Inner {
    fn next_version(&mut self) -> u64 {
        self.last_version += 1;
        self.last_version
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store in which `node` already holds the blocks `cidrs` of `pool`, empty.
    pub fn with_blocks(pool: &str, node: &str, cidrs: impl IntoIterator<Item = IpNet>) -> Self {
        let store = Self::new();
        {
            let mut inner = store.lock();
            for cidr in cidrs {
                let version = inner.next_version();
                let doc = BlockDoc {
                    cidr,
                    node: node.to_owned(),
                    allocations: String::new(),
                };
                inner.blocks.insert((pool.to_owned(), cidr), (doc, version));
            }
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written block: every write is
        // one map operation.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The blocks of `pool`, as [`Store::list_blocks`] returns them (for inspection).
    pub fn blocks(&self, pool: &str) -> Vec<StoredBlock> {
        self.lock()
            .blocks
            .iter()
            .filter(|((p, _), _)| p == pool)
            .map(|(_, (doc, v))| StoredBlock {
                block: doc.clone(),
                version: Version(v.to_string()),
            })
            .collect()
    }
}

fn conflict(pool: &str, cidr: IpNet) -> StoreError {
    StoreError::Conflict {
        pool: pool.to_owned(),
        cidr,
    }
}

impl Store for MemoryStore {
    async fn list_blocks(&self, pool: &str) -> Result<Vec<StoredBlock>, StoreError> {
        Ok(self.blocks(pool))
    }

    async fn create_block(&self, pool: &str, block: BlockDoc) -> Result<Version, StoreError> {
        let mut inner = self.lock();
        let key = (pool.to_owned(), block.cidr);
        if inner.blocks.contains_key(&key) {
            return Err(StoreError::AlreadyExists {
                pool: pool.to_owned(),
                cidr: block.cidr,
            });
        }
        let version = inner.next_version();
        inner.blocks.insert(key, (block, version));
        Ok(Version(version.to_string()))
    }

    async fn update_block(
        &self,
        pool: &str,
        block: BlockDoc,
        expected: Version,
    ) -> Result<Version, StoreError> {
        let mut inner = self.lock();
        let key = (pool.to_owned(), block.cidr);
        match inner.blocks.get(&key) {
            Some((_, v)) if v.to_string() == expected.0 => {}
            _ => return Err(conflict(pool, block.cidr)),
        }
        let version = inner.next_version();
        inner.blocks.insert(key, (block, version));
        Ok(Version(version.to_string()))
    }

    async fn delete_block(
        &self,
        pool: &str,
        cidr: IpNet,
        expected: Version,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let key = (pool.to_owned(), cidr);
        match inner.blocks.get(&key) {
            None => Ok(()),
            Some((_, v)) if v.to_string() == expected.0 => {
                inner.blocks.remove(&key);
                Ok(())
            }
            Some(_) => Err(conflict(pool, cidr)),
        }
    }
}
