//! A pool that hands out single addresses: LoadBalancer Services, or any flat pool.

use std::net::IpAddr;
use std::sync::Arc;

use crate::compact::{self, Reader, TABLE_TAG};
use crate::pool::PoolConfig;
use crate::table::{Cursor, Table};
use crate::{Allocation, Error, Family, Owner, Stats};

/// A pool of single addresses, each held by one owner.
///
/// ```
/// use ipam::{Owner, PoolConfig, ServicePool};
///
/// let config = PoolConfig::parse("public", &["192.0.2.0/30"])?;
/// let mut pool = ServicePool::new(config)?;
/// let web = Owner::service("shop", "web");
/// let addr = pool.allocate(&web)?;
/// assert_eq!(addr.to_string(), "192.0.2.0");
/// // A retry gets the same address.
/// assert_eq!(pool.allocate(&web)?, addr);
/// # Ok::<(), ipam::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServicePool {
    config: PoolConfig,
    base: u128,
    table: Table,
}

impl ServicePool {
    /// An empty pool; fails when the configuration is invalid.
    pub fn new(config: PoolConfig) -> Result<Self, Error> {
        let layout = config.layout()?;
        let base = layout.span.first().unwrap_or(0);
        let table = Table::new(
            Arc::from(config.name.as_str()),
            layout.family,
            layout.span,
            layout.usable,
        );
        Ok(Self {
            config,
            base,
            table,
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
        self.table.family()
    }

    /// The owner's address: the one it holds, else the next free one.
    pub fn allocate(&mut self, owner: &Owner) -> Result<IpAddr, Error> {
        self.table.allocate(owner).map(|x| self.family().addr(x))
    }

    /// Gives the owner the address it asks for; succeeds without change when it holds it.
    pub fn allocate_addr(&mut self, addr: IpAddr, owner: &Owner) -> Result<(), Error> {
        self.table.allocate_addr(addr, owner, Cursor::Advance)
    }

    /// Records an allocation that already exists (rebuilding state at start-up). Fails like
    /// [`ServicePool::allocate_addr`] but does not move the hand-out cursor.
    pub fn mark_in_use(&mut self, addr: IpAddr, owner: &Owner) -> Result<(), Error> {
        self.table.allocate_addr(addr, owner, Cursor::Keep)
    }

    /// Frees an address; `None` when it was not allocated.
    pub fn release(&mut self, addr: IpAddr) -> Option<Owner> {
        if Family::of(addr) != self.family() {
            return None;
        }
        self.table.release(crate::addr::num(addr))
    }

    /// Frees what the owner holds; `None` when it holds nothing.
    pub fn release_owner(&mut self, owner: &Owner) -> Option<IpAddr> {
        self.table
            .release_owner(owner)
            .map(|x| self.family().addr(x))
    }

    /// Frees every allocation whose owner `alive` says is gone; returns what was freed.
    pub fn gc(&mut self, mut alive: impl FnMut(&Owner) -> bool) -> Vec<Allocation> {
        let family = self.family();
        self.table
            .gc(&mut alive)
            .into_iter()
            .map(|(x, owner)| Allocation {
                addr: family.addr(x),
                owner,
            })
            .collect()
    }

    /// What the owner holds.
    pub fn address_of(&self, owner: &Owner) -> Option<IpAddr> {
        self.table.address_of(owner).map(|x| self.family().addr(x))
    }

    /// Who holds the address.
    pub fn owner_of(&self, addr: IpAddr) -> Option<&Owner> {
        if Family::of(addr) != self.family() {
            return None;
        }
        self.table.owner_of(crate::addr::num(addr))
    }

    /// Every allocation, in address order.
    pub fn allocations(&self) -> impl Iterator<Item = (IpAddr, &Owner)> + '_ {
        let family = self.family();
        self.table.iter().map(move |(x, o)| (family.addr(x), o))
    }

    /// Capacity and use.
    pub fn stats(&self) -> Stats {
        Stats {
            capacity: self.table.capacity(),
            allocated: self.table.allocated(),
        }
    }

    /// The allocation state in compact text form (see the [`compact`](crate#compact-form)
    /// section of the crate docs).
    pub fn to_compact(&self) -> String {
        let mut out = String::from(TABLE_TAG);
        compact::encode_table(&self.table, self.base, &mut out);
        out
    }

    /// Replaces the allocation state with one read from [`ServicePool::to_compact`] text. An
    /// empty text means nothing allocated. On error the pool is unchanged.
    pub fn load_compact(&mut self, text: &str) -> Result<(), Error> {
        let mut table = self.table.emptied();
        if !text.is_empty() {
            let mut r = Reader::new(text);
            r.tag(TABLE_TAG)?;
            compact::decode_table(&mut r, &mut table, self.base)?;
            if !r.is_done() {
                return Err(r.error("unexpected character after the last entry"));
            }
        }
        self.table = table;
        Ok(())
    }
}
