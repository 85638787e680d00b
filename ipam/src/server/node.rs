//! The pod address service of one node: the library's [`PodPool`]s kept in step with a
//! [`Store`], one call at a time.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use tokio::sync::Mutex;

use super::config::{Attachment, NodeConfig, PodPoolSpec};
use super::error::ServerError;
use super::store::{BlockDoc, Store, StoreError, Version};
use crate::{Owner, PodPool, PodRelease};

/// How many times a call re-reads the store and tries again when another writer changed a
/// block under it.
const MAX_ATTEMPTS: u32 = 8;

/// One address handed to an interface, with what the interface needs to use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assigned {
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length on the interface.
    pub prefix_len: u8,
    /// The gateway of the address's family.
    pub gateway: Option<IpAddr>,
    /// The pool it came from.
    pub pool: String,
}

/// A route to install in the pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The destination.
    pub destination: IpNet,
    /// The next hop; `None` means the gateway of the destination's family.
    pub gateway: Option<IpAddr>,
}

/// The addresses and routes of one interface.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addresses {
    /// The addresses, in the order of the node's pools.
    pub ips: Vec<Assigned>,
    /// The routes of every pool the addresses came from.
    pub routes: Vec<Route>,
}

/// One interface's allocations, as `List` shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Who holds them. Only the pod uid and interface are known for an allocation rebuilt
    /// from the store without a caller-given record.
    pub attachment: Attachment,
    /// The addresses.
    pub ips: Vec<Assigned>,
}

/// A block a pool operation changed: to create, update or (when it is gone) delete.
#[derive(Clone, Copy, Debug)]
struct Touched {
    cidr: IpNet,
    created: bool,
}

/// One pool: the library's view of it and the store versions of this node's blocks.
#[derive(Debug)]
struct Slot {
    spec: PodPoolSpec,
    pool: PodPool,
    versions: HashMap<IpNet, Version>,
    /// The view may differ from the store (a write failed); re-read before the next use.
    stale: bool,
}

#[derive(Debug, Default)]
struct State {
    slots: Vec<Slot>,
    /// Caller-given details of each pod interface.
    attachments: BTreeMap<Owner, Attachment>,
    /// `(container id, interface)` to owner, for Release and Check.
    by_container: BTreeMap<(String, String), Owner>,
}

/// The pod address service of one node over a [`Store`].
///
/// Calls are serialised by one lock per node, so two concurrent calls never hand out the
/// same address; other nodes writing the same store are handled by the store's versions
/// (a conflict re-reads the pool and tries again).
pub struct NodeIpam<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    node: String,
    store: S,
    state: Mutex<State>,
}

impl<S> Clone for NodeIpam<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<S> fmt::Debug for NodeIpam<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeIpam")
            .field("node", &self.inner.node)
            .finish_non_exhaustive()
    }
}

impl<S: Store> NodeIpam<S> {
    /// Checks the configuration and reads the node's blocks from the store.
    pub async fn start(config: NodeConfig, store: S) -> Result<Self, ServerError> {
        let pools = config.validate()?;
        let mut slots = Vec::with_capacity(pools.len());
        for (spec, pool) in config.pools.into_iter().zip(pools) {
            let mut slot = Slot {
                spec,
                pool,
                versions: HashMap::new(),
                stale: true,
            };
            reload(&store, &config.node, &mut slot).await?;
            slots.push(slot);
        }
        let state = State {
            slots,
            ..State::default()
        };
        Ok(Self {
            inner: Arc::new(Inner {
                node: config.node,
                store,
                state: Mutex::new(state),
            }),
        })
    }

    /// The node's name.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Records allocations that already exist (read from the pods and the kernel at
    /// start-up): each address is marked in use for its interface, claiming its block for
    /// this node when the block is free. Returns the entries that could not be restored.
    pub async fn restore(
        &self,
        existing: Vec<(Attachment, Vec<IpAddr>)>,
    ) -> Vec<(Attachment, ServerError)> {
        let mut failed = Vec::new();
        let mut state = self.inner.state.lock().await;
        for (attachment, addrs) in existing {
            if let Err(err) = self.restore_one(&mut state, &attachment, &addrs).await {
                failed.push((attachment, err));
            }
        }
        failed
    }

    async fn restore_one(
        &self,
        state: &mut State,
        attachment: &Attachment,
        addrs: &[IpAddr],
    ) -> Result<(), ServerError> {
        attachment.validate()?;
        let owner = attachment.owner();
        let node = self.inner.node.as_str();
        for &addr in addrs {
            let slot = state
                .slots
                .iter_mut()
                .find(|s| s.spec.pool.ranges.iter().any(|r| r.contains(addr)))
                .ok_or_else(|| ServerError::InvalidArgument {
                    field: "addresses",
                    reason: format!("{addr} is in none of the node's pools"),
                })?;
            apply(&self.inner.store, node, slot, |pool| {
                if pool.owner_of(addr) == Some(&owner) {
                    return Ok(((), Vec::new()));
                }
                let a = pool.mark_in_use(node, addr, &owner)?;
                Ok((
                    (),
                    vec![Touched {
                        cidr: a.block,
                        created: a.new_block,
                    }],
                ))
            })
            .await?;
        }
        state.remember(attachment.clone());
        Ok(())
    }

    /// Gives a pod interface its addresses: one from each default pool, or one from the
    /// named pool. Returns the same addresses when called again for the same pod uid and
    /// interface.
    pub async fn allocate(
        &self,
        attachment: &Attachment,
        pool: Option<&str>,
    ) -> Result<Addresses, ServerError> {
        attachment.validate()?;
        let owner = attachment.owner();
        let node = self.inner.node.as_str();
        let mut state = self.inner.state.lock().await;
        let chosen: Vec<usize> = match pool {
            Some(name) => {
                let i = state
                    .slots
                    .iter()
                    .position(|s| s.spec.pool.name == name)
                    .ok_or_else(|| ServerError::InvalidArgument {
                        field: "pool",
                        reason: format!("no pool named {name:?} on this node"),
                    })?;
                vec![i]
            }
            None => (0..state.slots.len())
                .filter(|&i| state.slots[i].spec.default)
                .collect(),
        };
        let mut done: Vec<usize> = Vec::new();
        for &i in &chosen {
            let slot = &mut state.slots[i];
            let result = apply(&self.inner.store, node, slot, |pool| {
                if pool.address_of(&owner).is_some() {
                    // A retry: report what is held (or that it is held on another node).
                    pool.allocate(node, &owner)?;
                    return Ok(((), Vec::new()));
                }
                let a = pool.allocate(node, &owner)?;
                Ok((
                    (),
                    vec![Touched {
                        cidr: a.block,
                        created: a.new_block,
                    }],
                ))
            })
            .await;
            if let Err(err) = result {
                // Give back what this call took in the other pools; what cannot be given
                // back now is left for garbage collection.
                for &j in &done {
                    let _ = release_in(&self.inner.store, node, &mut state.slots[j], &owner).await;
                }
                return Err(err);
            }
            done.push(i);
        }
        state.remember(attachment.clone());
        Ok(state.addresses_of(&owner, &chosen))
    }

    /// Frees the addresses of a container's interface; returns them (none when the container
    /// is unknown, or its pod got a newer container since).
    pub async fn release(
        &self,
        container_id: &str,
        interface: &str,
    ) -> Result<Vec<IpAddr>, ServerError> {
        let node = self.inner.node.as_str();
        let mut state = self.inner.state.lock().await;
        let key = (container_id.to_owned(), interface.to_owned());
        let Some(owner) = state.by_container.get(&key).cloned() else {
            return Ok(Vec::new());
        };
        let mut freed = Vec::new();
        for slot in &mut state.slots {
            if let Some(release) = release_in(&self.inner.store, node, slot, &owner).await? {
                freed.push(release.addr);
            }
        }
        state.by_container.remove(&key);
        state.attachments.remove(&owner);
        Ok(freed)
    }

    /// The addresses a container's interface holds; fails when it holds none, or when it
    /// does not hold one of `expected`.
    pub async fn check(
        &self,
        container_id: &str,
        interface: &str,
        expected: &[IpAddr],
    ) -> Result<Addresses, ServerError> {
        let node = self.inner.node.as_str();
        let mut state = self.inner.state.lock().await;
        state.refresh(&self.inner.store, node).await?;
        let not_found = || ServerError::NotFound {
            container_id: container_id.to_owned(),
            interface: interface.to_owned(),
        };
        let owner = state
            .by_container
            .get(&(container_id.to_owned(), interface.to_owned()))
            .cloned()
            .ok_or_else(not_found)?;
        let all: Vec<usize> = (0..state.slots.len()).collect();
        let held = state.addresses_of(&owner, &all);
        if held.ips.is_empty() {
            return Err(not_found());
        }
        if let Some(&addr) = expected
            .iter()
            .find(|a| !held.ips.iter().any(|h| h.addr == **a))
        {
            return Err(ServerError::NotHeld {
                addr,
                container_id: container_id.to_owned(),
                interface: interface.to_owned(),
            });
        }
        Ok(held)
    }

    /// Every allocation in this node's blocks, grouped by interface.
    pub async fn list(&self) -> Result<Vec<Listed>, ServerError> {
        let node = self.inner.node.as_str();
        let mut state = self.inner.state.lock().await;
        state.refresh(&self.inner.store, node).await?;
        let mut by_owner: BTreeMap<Owner, Vec<Assigned>> = BTreeMap::new();
        for slot in &state.slots {
            for block in slot.pool.node_blocks(node) {
                for (addr, owner) in block.allocations() {
                    by_owner
                        .entry(owner.clone())
                        .or_default()
                        .push(slot.assigned(addr));
                }
            }
        }
        Ok(by_owner
            .into_iter()
            .map(|(owner, ips)| {
                let attachment = state
                    .attachments
                    .get(&owner)
                    .cloned()
                    .unwrap_or_else(|| Attachment::of(&owner));
                Listed { attachment, ips }
            })
            .collect())
    }

    /// Frees every allocation on this node whose owner `alive` says is gone (a pod that was
    /// deleted while its CNI DEL was lost); returns what was freed.
    pub async fn gc(
        &self,
        alive: impl Fn(&Owner) -> bool + Send + Sync,
    ) -> Result<Vec<PodRelease>, ServerError> {
        let node = self.inner.node.as_str();
        let mut state = self.inner.state.lock().await;
        let mut freed: Vec<PodRelease> = Vec::new();
        for slot in &mut state.slots {
            let mut seen = Vec::new();
            apply(&self.inner.store, node, slot, |pool| {
                let released = pool.gc(|o| alive(o));
                let touched = released
                    .iter()
                    .map(|r| Touched {
                        cidr: r.block,
                        created: false,
                    })
                    .collect();
                seen.extend(released);
                Ok(((), touched))
            })
            .await?;
            for r in seen {
                if !freed.iter().any(|f| f.addr == r.addr && f.owner == r.owner) {
                    freed.push(r);
                }
            }
        }
        for r in &freed {
            state.forget_if_empty(&r.owner);
        }
        Ok(freed)
    }
}

impl State {
    /// Records the caller's details of an interface, replacing those of an older container.
    fn remember(&mut self, attachment: Attachment) {
        let owner = attachment.owner();
        if let Some(old) = self.attachments.get(&owner) {
            self.by_container
                .remove(&(old.container_id.clone(), old.interface.clone()));
        }
        self.by_container.insert(
            (
                attachment.container_id.clone(),
                attachment.interface.clone(),
            ),
            owner.clone(),
        );
        self.attachments.insert(owner, attachment);
    }

    fn forget_if_empty(&mut self, owner: &Owner) {
        if self
            .slots
            .iter()
            .any(|s| s.pool.address_of(owner).is_some())
        {
            return;
        }
        if let Some(old) = self.attachments.remove(owner) {
            self.by_container.remove(&(old.container_id, old.interface));
        }
    }

    /// What the owner holds in the given pools, with the routes of those pools.
    fn addresses_of(&self, owner: &Owner, slots: &[usize]) -> Addresses {
        let mut out = Addresses::default();
        for slot in slots.iter().filter_map(|&i| self.slots.get(i)) {
            if let Some(addr) = slot.pool.address_of(owner) {
                out.ips.push(slot.assigned(addr));
                for route in slot.spec.routes() {
                    if !out.routes.contains(&route) {
                        out.routes.push(route);
                    }
                }
            }
        }
        out
    }

    /// Re-reads the pools whose view may differ from the store.
    async fn refresh<S: Store>(&mut self, store: &S, node: &str) -> Result<(), ServerError> {
        for slot in self.slots.iter_mut().filter(|s| s.stale) {
            reload(store, node, slot).await?;
        }
        Ok(())
    }
}

impl Slot {
    fn name(&self) -> &str {
        &self.spec.pool.name
    }

    fn assigned(&self, addr: IpAddr) -> Assigned {
        Assigned {
            addr,
            prefix_len: self.spec.prefix_len.unwrap_or(self.pool.family().bits()),
            gateway: self.spec.pool.gateway,
            pool: self.spec.pool.name.clone(),
        }
    }
}

/// Replaces the slot's view with the store's: this node's blocks with their allocations,
/// other nodes' blocks as claims only.
async fn reload<S: Store>(store: &S, node: &str, slot: &mut Slot) -> Result<(), ServerError> {
    let stored = store.list_blocks(slot.name()).await?;
    let mut pool = PodPool::new(slot.spec.pool.clone(), slot.spec.block_len)?;
    let mut versions = HashMap::new();
    for sb in stored {
        let BlockDoc {
            cidr,
            node: holder,
            allocations,
        } = sb.block;
        if holder == node {
            pool.restore_block(node, cidr, &allocations)
                .map_err(|source| ServerError::Corrupt {
                    pool: slot.spec.pool.name.clone(),
                    cidr,
                    source,
                })?;
            versions.insert(cidr, sb.version);
        } else {
            // Only the claim matters here. A block that does not fit this pool (written
            // with another block size) cannot be handed out by it and is skipped.
            let _ = pool.insert_block(&holder, cidr);
        }
    }
    slot.pool = pool;
    slot.versions = versions;
    slot.stale = false;
    Ok(())
}

/// Runs a pool operation and writes the blocks it changed; on a conflict re-reads the pool
/// and runs it again. A failed operation leaves the pool unchanged (the library promises
/// that); a failed write leaves it stale, to be re-read.
async fn apply<S: Store, T>(
    store: &S,
    node: &str,
    slot: &mut Slot,
    mut op: impl FnMut(&mut PodPool) -> Result<(T, Vec<Touched>), crate::Error>,
) -> Result<T, ServerError> {
    for _ in 0..MAX_ATTEMPTS {
        if slot.stale {
            reload(store, node, slot).await?;
        }
        let (out, touched) = op(&mut slot.pool)?;
        match write(store, node, slot, &touched).await {
            Ok(()) => return Ok(out),
            Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. }) => {
                slot.stale = true
            }
            Err(err) => {
                slot.stale = true;
                return Err(err.into());
            }
        }
    }
    Err(ServerError::Contended {
        pool: slot.spec.pool.name.clone(),
        attempts: MAX_ATTEMPTS,
    })
}

/// Writes the touched blocks as the slot's view has them now.
async fn write<S: Store>(
    store: &S,
    node: &str,
    slot: &mut Slot,
    touched: &[Touched],
) -> Result<(), StoreError> {
    let mut done: Vec<IpNet> = Vec::new();
    for t in touched {
        if done.contains(&t.cidr) {
            continue;
        }
        done.push(t.cidr);
        let pool = slot.spec.pool.name.as_str();
        match slot.pool.block(t.cidr) {
            Some(block) => {
                let doc = BlockDoc {
                    cidr: t.cidr,
                    node: node.to_owned(),
                    allocations: block.to_compact(),
                };
                let version = match slot.versions.get(&t.cidr) {
                    _ if t.created => store.create_block(pool, doc).await?,
                    Some(expected) => store.update_block(pool, doc, expected.clone()).await?,
                    None => {
                        return Err(StoreError::Conflict {
                            pool: pool.to_owned(),
                            cidr: t.cidr,
                        });
                    }
                };
                slot.versions.insert(t.cidr, version);
            }
            None => {
                if let Some(expected) = slot.versions.get(&t.cidr).cloned() {
                    store.delete_block(pool, t.cidr, expected).await?;
                    slot.versions.remove(&t.cidr);
                }
            }
        }
    }
    Ok(())
}

/// Frees what `owner` holds in one pool, writing the change.
async fn release_in<S: Store>(
    store: &S,
    node: &str,
    slot: &mut Slot,
    owner: &Owner,
) -> Result<Option<PodRelease>, ServerError> {
    apply(store, node, slot, |pool| {
        Ok(match pool.release_owner(owner) {
            Some(r) => {
                let touched = vec![Touched {
                    cidr: r.block,
                    created: false,
                }];
                (Some(r), touched)
            }
            None => (None, Vec::new()),
        })
    })
    .await
}
