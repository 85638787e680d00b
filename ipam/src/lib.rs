//! Address pools, per-node blocks and allocation algorithms for Petrel.
//!
//! Pure data structures: no I/O, no clock, no private file. Whoever uses a pool keeps its
//! state where it belongs (a Service's status, a block object's status) through the
//! [compact form](#compact-form), and rebuilds it at start-up with `load_compact`,
//! [`PodPool::restore_block`] or `mark_in_use`.
//!
//! # Model
//!
//! - A [`PoolConfig`] names ranges of one family (CIDRs or `first-last` ranges) and what
//!   inside them is never handed out: network/broadcast (optional), the gateway, explicit
//!   exclusions. [`ensure_disjoint`] refuses overlapping pools.
//! - A [`ServicePool`] hands out single addresses (LoadBalancer Services).
//! - A [`PodPool`] splits the pool into [`Block`]s of one prefix length; a node is given a
//!   block when its blocks are full, and the block goes back when its last address is freed.
//! - Every allocation has an [`Owner`]; allocating again for the same owner returns the same
//!   address. [`ServicePool::gc`] and [`PodPool::gc`] free exactly the allocations whose owner
//!   is not alive.
//! - Addresses are `u128` numbers; free space is searched over sorted intervals and taken
//!   addresses are kept as runs in a sorted map, so memory follows the number of
//!   allocations, never the size of the pool: a /64 or a /48 costs what its allocations cost.
//! - The next free address is searched from just past the last one handed out, wrapping
//!   around, so a just-released address is not reused at once.
//!
//! # Compact form
//!
//! `to_compact` writes the allocation state as one line of text for an object's status;
//! `load_compact` and [`PodPool::restore_block`] read it back, checking every entry as a
//! fresh allocation would be checked, and change nothing when the text is bad.
//!
//! ```text
//! addresses (a service pool or one block):  a1|<cursor>|<entry>,<entry>,...
//! blocks (a whole pod pool):                b1|<block cursor>|<block>;<block>;...
//!   block  = [<gap>] "=" <node> "=" <cursor> "|" <entry>,<entry>,...
//!   entry  = [<gap>] <owner>
//!   owner  = "u" <uid as 22 base64url chars>            pod with a UUID uid, on eth0
//!          | "v" <uid as 22 base64url chars> "/" <interface>
//!          | "p" <uid> "/" <interface>                   pod whose uid is not a UUID
//!          | "s" <namespace> "/" <name>                  service
//! ```
//!
//! Numbers are lowercase hex; a `<gap>` counts the addresses (or blocks) skipped since the
//! previous entry and is left out when zero. Strings are percent-escaped outside
//! `A-Z a-z 0-9 . _ -`. A pod on `eth0` costs 24 bytes: about 24 KB per 1,000 allocations,
//! and a test asserts at most 25,000 bytes for 1,000 pods over 16 blocks.
#![cfg_attr(feature = "server", doc = "")]
#![cfg_attr(feature = "server", doc = "# The pod address service")]
#![cfg_attr(feature = "server", doc = "")]
#![cfg_attr(
    feature = "server",
    doc = "With the `server` feature, [`server`] serves `petrel.ipam.v1.Ipam` over a unix socket."
)]

mod addr;
mod compact;
mod error;
mod interval;
mod owner;
mod pod_pool;
mod pool;
mod service_pool;
mod space;
mod table;

#[cfg(feature = "server")]
pub mod server;

use std::net::IpAddr;

pub use addr::{AddrRange, Family};
pub use error::Error;
pub use owner::Owner;
pub use pod_pool::{Block, PodAllocation, PodPool, PodPoolStats, PodRelease};
pub use pool::{PoolConfig, ensure_disjoint};
pub use service_pool::ServicePool;

/// An address and its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// The address.
    pub addr: IpAddr,
    /// Who held it.
    pub owner: Owner,
}

/// How many of something a pool can hand out, and how many it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// How many in all (saturating at `u128::MAX` for `::/0`).
    pub capacity: u128,
    /// How many are handed out.
    pub allocated: u128,
}

impl Stats {
    /// How many are left.
    pub fn free(&self) -> u128 {
        self.capacity - self.allocated
    }
}
