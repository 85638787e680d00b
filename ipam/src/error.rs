//! The errors of the address management library.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::Owner;

/// Everything that can go wrong when configuring a pool or allocating from it.
///
/// Every variant is the caller's problem to report: none of them leaves a pool half-changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Every address (or, for a pod pool, every block) of the pool is in use.
    #[error("pool {pool} is exhausted")]
    Exhausted {
        /// The pool's name.
        pool: String,
    },
    /// The address lies outside every range of the pool (or is of the other family).
    #[error("{addr} is not in pool {pool}")]
    NotInPool {
        /// The pool's name.
        pool: String,
        /// The address asked for.
        addr: IpAddr,
    },
    /// The address is in the pool but never handed out (network, broadcast, gateway or an
    /// explicit exclusion).
    #[error("{addr} is reserved in pool {pool}")]
    Reserved {
        /// The pool's name.
        pool: String,
        /// The address asked for.
        addr: IpAddr,
    },
    /// The address is allocated to another owner.
    #[error("{addr} is already allocated to {holder}")]
    AddressTaken {
        /// The address asked for.
        addr: IpAddr,
        /// Who holds it.
        holder: Owner,
    },
    /// The owner already holds a different address of this pool; release that first.
    #[error("{owner} already holds {addr}")]
    OwnerHoldsOther {
        /// The owner asking.
        owner: Owner,
        /// The address it holds.
        addr: IpAddr,
    },
    /// The address lies in a block that was handed to another node.
    #[error("{addr} is in block {block}, which belongs to node {node}")]
    BlockOfOtherNode {
        /// The address asked for.
        addr: IpAddr,
        /// Its block.
        block: IpNet,
        /// The node that owns the block.
        node: String,
    },
    /// The prefix is not a block of the pool (wrong length, not aligned or outside the pool).
    #[error("{block} is not a block of pool {pool}")]
    NotABlock {
        /// The pool's name.
        pool: String,
        /// The prefix given.
        block: IpNet,
    },
    /// A block still holds allocations and cannot be given back.
    #[error("block {block} still holds {allocated} allocations")]
    BlockNotEmpty {
        /// The block.
        block: IpNet,
        /// How many addresses are still allocated in it.
        allocated: u128,
    },
    /// Two ranges overlap: inside one pool or between two pools.
    #[error("{first} overlaps {second}")]
    Overlap {
        /// The first range, named with its pool.
        first: String,
        /// The second range, named with its pool.
        second: String,
    },
    /// A range, CIDR or address could not be parsed or makes no sense.
    #[error("invalid range {input:?}: {reason}")]
    InvalidRange {
        /// The text (or range) given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A pool's configuration cannot work.
    #[error("invalid pool {pool}: {reason}")]
    InvalidPool {
        /// The pool's name.
        pool: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A compact allocation state could not be read.
    #[error("compact state is corrupt at byte {offset}: {reason}")]
    Decode {
        /// Byte offset of the problem in the text.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
}
