//! A pod pool: split into per-node blocks, handed out on demand and given back when empty.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::addr::{Family, num};
use crate::compact::{self, BLOCKS_TAG, Reader, TABLE_TAG};
use crate::interval::Intervals;
use crate::pool::{Layout, PoolConfig};
use crate::space::Space;
use crate::table::{Cursor, Table};
use crate::{Error, Owner, Stats};

/// One block of a pod pool: a prefix handed to one node, with its allocations.
#[derive(Clone, Debug)]
pub struct Block {
    cidr: IpNet,
    node: String,
    first: u128,
    table: Table,
}

impl Block {
    /// The block's prefix, e.g. `10.244.3.64/26`.
    pub fn cidr(&self) -> IpNet {
        self.cidr
    }

    /// The node the block belongs to.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Capacity (the block's addresses less reserved ones) and use.
    pub fn stats(&self) -> Stats {
        Stats {
            capacity: self.table.capacity(),
            allocated: self.table.allocated(),
        }
    }

    /// Every allocation of the block, in address order.
    pub fn allocations(&self) -> impl Iterator<Item = (IpAddr, &Owner)> + '_ {
        let family = self.table.family();
        self.table.iter().map(move |(x, o)| (family.addr(x), o))
    }

    /// Who holds the address.
    pub fn owner_of(&self, addr: IpAddr) -> Option<&Owner> {
        (Family::of(addr) == self.table.family()).then(|| self.table.owner_of(num(addr)))?
    }

    /// The block's allocation state in compact text form, for the block's own object; read
    /// it back with [`PodPool::restore_block`].
    pub fn to_compact(&self) -> String {
        let mut out = String::from(TABLE_TAG);
        compact::encode_table(&self.table, self.first, &mut out);
        out
    }
}

/// The outcome of a pod allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodAllocation {
    /// The pod's address.
    pub addr: IpAddr,
    /// The block it lies in.
    pub block: IpNet,
    /// Whether the block was claimed for the node by this call (a new route to announce,
    /// a new block object to create).
    pub new_block: bool,
}

/// The outcome of a pod release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRelease {
    /// The freed address.
    pub addr: IpAddr,
    /// Its former owner.
    pub owner: Owner,
    /// The block it lay in.
    pub block: IpNet,
    /// The node that held the block.
    pub node: String,
    /// Whether the block became empty and went back to the pool (a route to withdraw, a
    /// block object to delete).
    pub block_released: bool,
}

/// Counts of a pod pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodPoolStats {
    /// Blocks: how many the pool can hand out, how many are claimed.
    pub blocks: Stats,
    /// Addresses: how many all blocks hold (reserved ones left out), how many are allocated.
    pub addresses: Stats,
}

/// A pool for pod addresses, split into blocks of one prefix length (a /26 for IPv4, a /122
/// for IPv6...). A node is given a block when its blocks are full, and a block goes back to
/// the pool when its last address is released. Only whole, aligned blocks inside the pool's
/// ranges are used; a range that does not end on a block boundary leaves its edges unused.
///
/// ```
/// use ipam::{Owner, PodPool, PoolConfig};
///
/// let mut pool = PodPool::new(PoolConfig::parse("pods", &["10.244.0.0/16"])?, 26)?;
/// let a = pool.allocate("node-a", &Owner::pod("7f3c0a4e-3b1f-4b5e-9c61-2a8e6d0b9f10", "eth0"))?;
/// assert_eq!((a.addr.to_string(), a.block.to_string()), ("10.244.0.0".into(), "10.244.0.0/26".into()));
/// let b = pool.allocate("node-b", &Owner::pod("0b8d5c7e-1a2b-4c3d-8e9f-001122334455", "eth0"))?;
/// assert_eq!(b.block.to_string(), "10.244.0.64/26");
/// # Ok::<(), ipam::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PodPool {
    config: PoolConfig,
    name: Arc<str>,
    layout: Layout,
    block_len: u8,
    host_bits: u32,
    /// Block indices (`address >> host_bits`) that can be handed out.
    block_space: Space,
    /// The lowest block index that can be handed out: the base of the compact form.
    block_base: u128,
    address_capacity: u128,
    blocks: BTreeMap<u128, Block>,
    by_node: BTreeMap<String, BTreeSet<u128>>,
    by_owner: HashMap<Arc<Owner>, u128>,
}

/// The whole blocks (as block indices) inside each interval of `spans`.
fn whole_blocks(spans: &Intervals, host_bits: u32) -> Intervals {
    let mask = (1u128 << host_bits) - 1;
    let blocks = spans.spans().iter().filter_map(|&(first, last)| {
        let first_idx = (first >> host_bits) + u128::from(first & mask != 0);
        let last_idx = if last & mask == mask {
            last >> host_bits
        } else {
            (last >> host_bits).checked_sub(1)?
        };
        (first_idx <= last_idx).then_some((first_idx, last_idx))
    });
    Intervals::union_of(blocks.collect())
}

impl PodPool {
    /// An empty pool split into blocks of prefix length `block_len`.
    pub fn new(config: PoolConfig, block_len: u8) -> Result<Self, Error> {
        let layout = config.layout()?;
        let bits = layout.family.bits();
        let invalid = |reason: String| Error::InvalidPool {
            pool: config.name.clone(),
            reason,
        };
        if block_len > bits || (layout.family == Family::V6 && block_len == 0) {
            return Err(invalid(format!(
                "/{block_len} is not a valid {} block",
                layout.family
            )));
        }
        let host_bits = u32::from(bits - block_len);
        let candidates = whole_blocks(&layout.span, host_bits);
        let usable_blocks = candidates.minus(&whole_blocks(&layout.reserved, host_bits));
        let Some(block_base) = usable_blocks.first() else {
            return Err(invalid(format!(
                "no whole usable /{block_len} block lies inside its ranges"
            )));
        };
        let mask = (1u128 << host_bits) - 1;
        let address_capacity = usable_blocks.spans().iter().fold(0u128, |n, &(f, l)| {
            n.saturating_add(
                layout
                    .usable
                    .clip(f << host_bits, (l << host_bits) | mask)
                    .count(),
            )
        });
        Ok(Self {
            name: Arc::from(config.name.as_str()),
            config,
            layout,
            block_len,
            host_bits,
            block_space: Space::new(usable_blocks),
            block_base,
            address_capacity,
            blocks: BTreeMap::new(),
            by_node: BTreeMap::new(),
            by_owner: HashMap::new(),
        })
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// The pool's address family.
    pub fn family(&self) -> Family {
        self.layout.family
    }

    /// The prefix length of the blocks.
    pub fn block_len(&self) -> u8 {
        self.block_len
    }

    fn block_net(&self, idx: u128) -> IpNet {
        self.family().net(idx << self.host_bits, self.block_len)
    }

    fn not_in_pool(&self, addr: IpAddr) -> Error {
        Error::NotInPool {
            pool: self.name.to_string(),
            addr,
        }
    }

    /// A new, empty block `idx` for `node`, not yet recorded.
    fn new_block(&self, idx: u128, node: &str) -> Block {
        let first = idx << self.host_bits;
        let last = first | ((1u128 << self.host_bits) - 1);
        let span = Intervals::union_of(vec![(first, last)]);
        let usable = self.layout.usable.clip(first, last);
        Block {
            cidr: self.block_net(idx),
            node: node.to_owned(),
            first,
            table: Table::new(self.name.clone(), self.family(), span, usable),
        }
    }

    fn insert_new_block(&mut self, idx: u128, block: Block) {
        self.by_node
            .entry(block.node.clone())
            .or_default()
            .insert(idx);
        self.blocks.insert(idx, block);
    }

    /// Records the owner of `x` in block `idx` in the pool-wide owner index.
    fn index_owner(&mut self, idx: u128, x: u128) {
        if let Some(owner) = self.blocks.get(&idx).and_then(|b| b.table.shared_owner(x)) {
            self.by_owner.insert(owner, idx);
        }
    }

    /// The owner's address on `node`: the one it holds, else the next free one of the node's
    /// blocks, claiming a new block when they are full.
    pub fn allocate(&mut self, node: &str, owner: &Owner) -> Result<PodAllocation, Error> {
        if let Some((x, block)) = self.holding(owner) {
            let addr = self.family().addr(x);
            if block.node != node {
                return Err(Error::OwnerHoldsOther {
                    owner: owner.clone(),
                    addr,
                });
            }
            return Ok(PodAllocation {
                addr,
                block: block.cidr,
                new_block: false,
            });
        }
        let with_room = self.by_node.get(node).and_then(|idxs| {
            idxs.iter()
                .copied()
                .find(|idx| self.blocks.get(idx).is_some_and(|b| !b.table.is_full()))
        });
        let (idx, new_block) = match with_room {
            Some(idx) => (idx, false),
            None => {
                let idx = self
                    .block_space
                    .take_next()
                    .ok_or_else(|| Error::Exhausted {
                        pool: self.name.to_string(),
                    })?;
                let block = self.new_block(idx, node);
                self.insert_new_block(idx, block);
                (idx, true)
            }
        };
        // The block is there (found or just inserted) and has a free address: a new block
        // always holds a usable one.
        let block = self.blocks.get_mut(&idx).ok_or_else(|| Error::Exhausted {
            pool: self.name.to_string(),
        })?;
        let x = block.table.allocate(owner)?;
        let cidr = block.cidr;
        self.index_owner(idx, x);
        Ok(PodAllocation {
            addr: self.family().addr(x),
            block: cidr,
            new_block,
        })
    }

    /// The address the owner holds and its block.
    fn holding(&self, owner: &Owner) -> Option<(u128, &Block)> {
        let block = self.blocks.get(self.by_owner.get(owner)?)?;
        Some((block.table.address_of(owner)?, block))
    }

    /// Gives the owner the address it asks for, on `node`; the address's block must be the
    /// node's or free (it is then claimed). Succeeds without change when the owner holds it.
    pub fn allocate_addr(
        &mut self,
        node: &str,
        addr: IpAddr,
        owner: &Owner,
    ) -> Result<PodAllocation, Error> {
        self.place(node, addr, owner, Cursor::Advance)
    }

    /// Records an allocation that already exists (rebuilding state at start-up), claiming its
    /// block for `node` when the block is free. Fails like [`PodPool::allocate_addr`] but
    /// does not move the hand-out cursors.
    pub fn mark_in_use(
        &mut self,
        node: &str,
        addr: IpAddr,
        owner: &Owner,
    ) -> Result<PodAllocation, Error> {
        self.place(node, addr, owner, Cursor::Keep)
    }

    fn place(
        &mut self,
        node: &str,
        addr: IpAddr,
        owner: &Owner,
        cursor: Cursor,
    ) -> Result<PodAllocation, Error> {
        let x = num(addr);
        if Family::of(addr) != self.family() || !self.layout.span.contains(x) {
            return Err(self.not_in_pool(addr));
        }
        let idx = x >> self.host_bits;
        if let Some(&held) = self.by_owner.get(owner) {
            let held_addr = self
                .blocks
                .get(&held)
                .and_then(|b| b.table.address_of(owner))
                .map(|x| self.family().addr(x));
            if held_addr != Some(addr) || held != idx {
                return Err(Error::OwnerHoldsOther {
                    owner: owner.clone(),
                    addr: held_addr.unwrap_or(addr),
                });
            }
        }
        if let Some(block) = self.blocks.get_mut(&idx) {
            if block.node != node {
                return Err(Error::BlockOfOtherNode {
                    addr,
                    block: block.cidr,
                    node: block.node.clone(),
                });
            }
            block.table.allocate_addr(addr, owner, cursor)?;
            let cidr = block.cidr;
            self.index_owner(idx, x);
            return Ok(PodAllocation {
                addr,
                block: cidr,
                new_block: false,
            });
        }
        if !self.block_space.is_usable(idx) {
            return Err(Error::Reserved {
                pool: self.name.to_string(),
                addr,
            });
        }
        let mut block = self.new_block(idx, node);
        block.table.allocate_addr(addr, owner, cursor)?;
        let cidr = block.cidr;
        self.block_space.take(idx);
        self.insert_new_block(idx, block);
        self.index_owner(idx, x);
        Ok(PodAllocation {
            addr,
            block: cidr,
            new_block: true,
        })
    }

    /// Frees an address; `None` when it was not allocated.
    pub fn release(&mut self, addr: IpAddr) -> Option<PodRelease> {
        if Family::of(addr) != self.family() {
            return None;
        }
        let x = num(addr);
        let idx = x >> self.host_bits;
        let owner = self.blocks.get_mut(&idx)?.table.release(x)?;
        self.by_owner.remove(&owner);
        Some(self.after_release(idx, addr, owner))
    }

    /// Frees what the owner holds; `None` when it holds nothing.
    pub fn release_owner(&mut self, owner: &Owner) -> Option<PodRelease> {
        let idx = self.by_owner.remove(owner)?;
        let x = self.blocks.get_mut(&idx)?.table.release_owner(owner)?;
        let addr = self.family().addr(x);
        Some(self.after_release(idx, addr, owner.clone()))
    }

    /// Gives the block back when it became empty.
    fn after_release(&mut self, idx: u128, addr: IpAddr, owner: Owner) -> PodRelease {
        let (block, node, empty) = match self.blocks.get(&idx) {
            Some(b) => (b.cidr, b.node.clone(), b.table.allocated() == 0),
            None => (self.block_net(idx), String::new(), false),
        };
        if empty {
            self.drop_block(idx);
        }
        PodRelease {
            addr,
            owner,
            block,
            node,
            block_released: empty,
        }
    }

    fn drop_block(&mut self, idx: u128) {
        if let Some(block) = self.blocks.remove(&idx) {
            if let Some(idxs) = self.by_node.get_mut(&block.node) {
                idxs.remove(&idx);
                if idxs.is_empty() {
                    self.by_node.remove(&block.node);
                }
            }
            self.block_space.release(idx);
        }
    }

    /// Frees every allocation whose owner `alive` says is gone, and every block that this
    /// leaves empty; returns what was freed, in address order.
    pub fn gc(&mut self, mut alive: impl FnMut(&Owner) -> bool) -> Vec<PodRelease> {
        let mut freed = Vec::new();
        let idxs: Vec<u128> = self.blocks.keys().copied().collect();
        for idx in idxs {
            let Some(block) = self.blocks.get_mut(&idx) else {
                continue;
            };
            let dead = block.table.gc(&mut alive);
            if dead.is_empty() {
                continue;
            }
            let (cidr, node) = (block.cidr, block.node.clone());
            let empty = block.table.allocated() == 0;
            let family = self.family();
            let count = dead.len();
            for (i, (x, owner)) in dead.into_iter().enumerate() {
                self.by_owner.remove(&owner);
                let block_released = empty && i + 1 == count;
                freed.push(PodRelease {
                    addr: family.addr(x),
                    owner,
                    block: cidr,
                    node: node.clone(),
                    block_released,
                });
            }
            if empty {
                self.drop_block(idx);
            }
        }
        freed
    }

    /// Claims the next free block for `node` ahead of need.
    pub fn claim_block(&mut self, node: &str) -> Result<IpNet, Error> {
        let idx = self
            .block_space
            .take_next()
            .ok_or_else(|| Error::Exhausted {
                pool: self.name.to_string(),
            })?;
        let block = self.new_block(idx, node);
        let cidr = block.cidr;
        self.insert_new_block(idx, block);
        Ok(cidr)
    }

    /// The index of a block given by prefix, if it is one this pool can hand out.
    fn block_index(&self, cidr: IpNet) -> Result<u128, Error> {
        let first = num(cidr.network());
        let idx = first >> self.host_bits;
        let aligned = cidr.prefix_len() == self.block_len
            && Family::of(cidr.addr()) == self.family()
            && cidr.trunc() == cidr;
        if aligned && self.block_space.is_usable(idx) {
            Ok(idx)
        } else {
            Err(Error::NotABlock {
                pool: self.name.to_string(),
                block: cidr,
            })
        }
    }

    /// Records that the block `cidr` belongs to `node` (rebuilding from block objects);
    /// succeeds without change when it does already.
    pub fn insert_block(&mut self, node: &str, cidr: IpNet) -> Result<(), Error> {
        let idx = self.block_index(cidr)?;
        if let Some(block) = self.blocks.get(&idx) {
            if block.node == node {
                return Ok(());
            }
            return Err(Error::BlockOfOtherNode {
                addr: cidr.addr(),
                block: cidr,
                node: block.node.clone(),
            });
        }
        self.block_space.take(idx);
        let block = self.new_block(idx, node);
        self.insert_new_block(idx, block);
        Ok(())
    }

    /// Records the block `cidr` for `node` with the allocations of its compact text (from
    /// [`Block::to_compact`]; empty text for none), replacing what the pool knew of it. On
    /// error the pool is unchanged.
    pub fn restore_block(&mut self, node: &str, cidr: IpNet, text: &str) -> Result<(), Error> {
        let idx = self.block_index(cidr)?;
        if let Some(block) = self.blocks.get(&idx).filter(|b| b.node != node) {
            return Err(Error::BlockOfOtherNode {
                addr: cidr.addr(),
                block: cidr,
                node: block.node.clone(),
            });
        }
        let mut block = self.new_block(idx, node);
        if !text.is_empty() {
            let mut r = Reader::new(text);
            r.tag(TABLE_TAG)?;
            compact::decode_table(&mut r, &mut block.table, block.first)?;
            if !r.is_done() {
                return Err(r.error("unexpected character after the last entry"));
            }
        }
        self.check_owners_unique(&block, idx)?;
        self.put_block(idx, block);
        Ok(())
    }

    /// Fails when an owner of `block` holds an address in another block.
    fn check_owners_unique(&self, block: &Block, idx: u128) -> Result<(), Error> {
        for (_, owner) in block.table.iter() {
            if let Some(&other) = self.by_owner.get(owner).filter(|&&other| other != idx) {
                let addr = self
                    .blocks
                    .get(&other)
                    .and_then(|b| b.table.address_of(owner))
                    .map_or(block.cidr.addr(), |x| self.family().addr(x));
                return Err(Error::OwnerHoldsOther {
                    owner: owner.clone(),
                    addr,
                });
            }
        }
        Ok(())
    }

    /// Replaces block `idx` with `block` and re-indexes its owners.
    fn put_block(&mut self, idx: u128, block: Block) {
        if let Some(old) = self.blocks.remove(&idx) {
            for (_, owner) in old.table.iter() {
                self.by_owner.remove(owner);
            }
        }
        self.block_space.take(idx);
        let owners: Vec<(Arc<Owner>, u128)> = block
            .table
            .iter()
            .filter_map(|(x, _)| block.table.shared_owner(x).map(|o| (o, idx)))
            .collect();
        self.by_owner.extend(owners);
        self.insert_new_block(idx, block);
    }

    /// Gives an empty block back to the pool.
    pub fn release_block(&mut self, cidr: IpNet) -> Result<(), Error> {
        let idx = self.block_index(cidr)?;
        match self.blocks.get(&idx) {
            None => Ok(()),
            Some(b) if b.table.allocated() > 0 => Err(Error::BlockNotEmpty {
                block: cidr,
                allocated: b.table.allocated(),
            }),
            Some(_) => {
                self.drop_block(idx);
                Ok(())
            }
        }
    }

    /// The block with prefix `cidr`, if it is handed out.
    pub fn block(&self, cidr: IpNet) -> Option<&Block> {
        self.block_index(cidr)
            .ok()
            .and_then(|idx| self.blocks.get(&idx))
    }

    /// Every handed-out block, in address order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> + '_ {
        self.blocks.values()
    }

    /// The blocks of one node, in address order.
    pub fn node_blocks<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a Block> + 'a {
        self.by_node
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(|idx| self.blocks.get(idx))
    }

    /// The block that holds `addr`, if it is handed out.
    pub fn block_of(&self, addr: IpAddr) -> Option<&Block> {
        (Family::of(addr) == self.family())
            .then(|| self.blocks.get(&(num(addr) >> self.host_bits)))?
    }

    /// What the owner holds.
    pub fn address_of(&self, owner: &Owner) -> Option<IpAddr> {
        let idx = self.by_owner.get(owner)?;
        let x = self.blocks.get(idx)?.table.address_of(owner)?;
        Some(self.family().addr(x))
    }

    /// Who holds the address.
    pub fn owner_of(&self, addr: IpAddr) -> Option<&Owner> {
        self.block_of(addr)?.owner_of(addr)
    }

    /// Counts of blocks and addresses.
    pub fn stats(&self) -> PodPoolStats {
        PodPoolStats {
            blocks: Stats {
                capacity: self.block_space.capacity(),
                allocated: self.block_space.taken_count(),
            },
            addresses: Stats {
                capacity: self.address_capacity,
                allocated: self.by_owner.len() as u128,
            },
        }
    }

    /// The state of every block (owner node and allocations) in compact text form.
    pub fn to_compact(&self) -> String {
        let mut out = String::from(BLOCKS_TAG);
        out.push_str(&format!(
            "{:x}",
            self.block_space.cursor().wrapping_sub(self.block_base)
        ));
        out.push('|');
        let mut next = self.block_base;
        for (i, (idx, block)) in self.blocks.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            compact::write_gap(&mut out, idx - next);
            out.push('=');
            compact::escape(&block.node, &mut out);
            out.push('=');
            compact::encode_table(&block.table, block.first, &mut out);
            next = idx + 1;
        }
        out
    }

    /// Replaces the state of the whole pool with one read from [`PodPool::to_compact`] text
    /// (empty text: nothing handed out). On error the pool is unchanged.
    pub fn load_compact(&mut self, text: &str) -> Result<(), Error> {
        let mut fresh = Self::new(self.config.clone(), self.block_len)?;
        if !text.is_empty() {
            fresh.read_blocks(&mut Reader::new(text))?;
        }
        *self = fresh;
        Ok(())
    }

    fn read_blocks(&mut self, r: &mut Reader<'_>) -> Result<(), Error> {
        r.tag(BLOCKS_TAG)?;
        let cursor = r
            .hex()?
            .ok_or_else(|| r.error("expected the block cursor"))?;
        r.expect(b'|')?;
        let mut next = self.block_base;
        while !r.is_done() {
            let gap = r.hex()?.unwrap_or(0);
            let idx = next
                .checked_add(gap)
                .ok_or_else(|| r.error("block beyond the pool"))?;
            if !self.block_space.is_usable(idx) || self.blocks.contains_key(&idx) {
                return Err(r.error("block outside the pool or repeated"));
            }
            r.expect(b'=')?;
            let node = r.escaped()?;
            r.expect(b'=')?;
            let mut block = self.new_block(idx, &node);
            compact::decode_table(r, &mut block.table, block.first)?;
            self.check_owners_unique(&block, idx)?;
            self.put_block(idx, block);
            next = idx + 1;
            if !r.eat(b';') && !r.is_done() {
                return Err(r.error("unexpected character after the last entry"));
            }
        }
        self.block_space
            .set_cursor(cursor.wrapping_add(self.block_base));
        Ok(())
    }
}
