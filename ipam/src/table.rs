//! One set of addresses with their owners: the state of a service pool or of one block.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use crate::addr::{Family, num};
use crate::interval::Intervals;
use crate::space::Space;
use crate::{Error, Owner};

/// Addresses handed out from a fixed set, each to one owner, each owner holding at most one.
///
/// Owners are stored once (`Arc`) and shared by the two indexes.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pool: Arc<str>,
    family: Family,
    /// All addresses of the table's span, reserved ones included: tells "reserved" from "not
    /// in pool".
    span: Intervals,
    space: Space,
    by_addr: BTreeMap<u128, Arc<Owner>>,
    by_owner: HashMap<Arc<Owner>, u128>,
}

/// What to do with the cursor when a given address is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// Move it past the address (a request for that address is a hand-out).
    Advance,
    /// Leave it (rebuilding state from what already exists).
    Keep,
}

impl Table {
    pub(crate) fn new(pool: Arc<str>, family: Family, span: Intervals, usable: Intervals) -> Self {
        Self {
            pool,
            family,
            span,
            space: Space::new(usable),
            by_addr: BTreeMap::new(),
            by_owner: HashMap::new(),
        }
    }

    /// A copy with the same shape and nothing allocated.
    pub(crate) fn emptied(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            family: self.family,
            span: self.span.clone(),
            space: self.space.emptied(),
            by_addr: BTreeMap::new(),
            by_owner: HashMap::new(),
        }
    }

    pub(crate) fn capacity(&self) -> u128 {
        self.space.capacity()
    }

    pub(crate) fn allocated(&self) -> u128 {
        self.space.taken_count()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.space.next_free().is_none()
    }

    pub(crate) fn cursor(&self) -> u128 {
        self.space.cursor()
    }

    pub(crate) fn set_cursor(&mut self, cursor: u128) {
        self.space.set_cursor(cursor);
    }

    pub(crate) fn address_of(&self, owner: &Owner) -> Option<u128> {
        self.by_owner.get(owner).copied()
    }

    pub(crate) fn owner_of(&self, x: u128) -> Option<&Owner> {
        self.by_addr.get(&x).map(|o| &**o)
    }

    /// The shared copy of the owner of `x`, for indexes kept beside the table.
    pub(crate) fn shared_owner(&self, x: u128) -> Option<Arc<Owner>> {
        self.by_addr.get(&x).cloned()
    }

    /// Allocations in address order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u128, &Owner)> + '_ {
        self.by_addr.iter().map(|(x, o)| (*x, &**o))
    }

    /// The owner's address, handing out the next free one if it has none.
    pub(crate) fn allocate(&mut self, owner: &Owner) -> Result<u128, Error> {
        if let Some(x) = self.address_of(owner) {
            return Ok(x);
        }
        let x = self.space.take_next().ok_or_else(|| Error::Exhausted {
            pool: self.pool.to_string(),
        })?;
        self.record(x, owner);
        Ok(x)
    }

    /// Why `addr` cannot be given to `owner`, if it cannot. `Ok(true)` when the owner holds it
    /// already.
    pub(crate) fn check(&self, addr: IpAddr, owner: &Owner) -> Result<bool, Error> {
        let x = num(addr);
        if Family::of(addr) != self.family || !self.span.contains(x) {
            return Err(Error::NotInPool {
                pool: self.pool.to_string(),
                addr,
            });
        }
        if !self.space.is_usable(x) {
            return Err(Error::Reserved {
                pool: self.pool.to_string(),
                addr,
            });
        }
        match (self.owner_of(x), self.address_of(owner)) {
            (Some(holder), _) if holder == owner => Ok(true),
            (Some(holder), _) => Err(Error::AddressTaken {
                addr,
                holder: holder.clone(),
            }),
            (None, Some(held)) => Err(Error::OwnerHoldsOther {
                owner: owner.clone(),
                addr: self.family.addr(held),
            }),
            (None, None) => Ok(false),
        }
    }

    /// Gives `addr` to `owner`; succeeds without change when the owner holds it already.
    pub(crate) fn allocate_addr(
        &mut self,
        addr: IpAddr,
        owner: &Owner,
        cursor: Cursor,
    ) -> Result<(), Error> {
        if self.check(addr, owner)? {
            return Ok(());
        }
        let x = num(addr);
        self.space.take(x);
        if cursor == Cursor::Advance {
            self.space.set_cursor(x.wrapping_add(1));
        }
        self.record(x, owner);
        Ok(())
    }

    fn record(&mut self, x: u128, owner: &Owner) {
        let owner = Arc::new(owner.clone());
        self.by_owner.insert(owner.clone(), x);
        self.by_addr.insert(x, owner);
    }

    /// Frees `x`, returning its former owner.
    pub(crate) fn release(&mut self, x: u128) -> Option<Owner> {
        let owner = self.by_addr.remove(&x)?;
        self.by_owner.remove(&*owner);
        self.space.release(x);
        Some(Arc::unwrap_or_clone(owner))
    }

    /// Frees what `owner` holds, returning the address.
    pub(crate) fn release_owner(&mut self, owner: &Owner) -> Option<u128> {
        let x = self.by_owner.remove(owner)?;
        self.by_addr.remove(&x);
        self.space.release(x);
        Some(x)
    }

    /// Frees every allocation whose owner is not alive, in address order.
    pub(crate) fn gc(&mut self, alive: &mut impl FnMut(&Owner) -> bool) -> Vec<(u128, Owner)> {
        let dead: Vec<u128> = self
            .iter()
            .filter(|(_, o)| !alive(o))
            .map(|(x, _)| x)
            .collect();
        dead.into_iter()
            .filter_map(|x| self.release(x).map(|o| (x, o)))
            .collect()
    }

    pub(crate) fn family(&self) -> Family {
        self.family
    }
}
