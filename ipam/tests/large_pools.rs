//! Pools far larger than memory (a /64, a /48) work, and cost memory in proportion to their
//! allocations only. Measured with a counting global allocator, so this file holds a single
//! test: other tests running beside it would be counted too.

// Test code: a panic is a failed test, with the value shown.
#![allow(clippy::unwrap_used)]

use std::alloc::System;
use std::net::IpAddr;

use cap::Cap;
use ipam::{Owner, PodPool, PoolConfig, ServicePool};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

fn pod(i: u32) -> Owner {
    Owner::pod(format!("{i:08x}-1b2c-4d3e-8f40-000000000000"), "eth0")
}

/// Bytes still allocated after `f` ran and its result was kept.
fn retained<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATOR.allocated();
    let value = f();
    (value, ALLOCATOR.allocated().saturating_sub(before))
}

#[test]
fn a_64_and_a_48_cost_only_what_their_allocations_cost() {
    const N: u32 = 20_000;
    // Empty pools: a few hundred bytes whatever their size.
    let (empty, bytes) = retained(|| {
        let v6 = PoolConfig::parse("v6", &["fd00:1::/48"]).unwrap();
        PodPool::new(v6, 122).unwrap()
    });
    assert!(bytes < 4_096, "an empty /48 pod pool holds {bytes} bytes");
    assert_eq!(empty.stats().addresses.capacity, 1u128 << 80);
    drop(empty);

    // A /64 service pool with N allocations, the last one at the very top of the /64.
    let (pool, bytes) = retained(|| {
        let mut pool =
            ServicePool::new(PoolConfig::parse("lb6", &["fd00:2::/64"]).unwrap()).unwrap();
        for i in 0..N - 1 {
            pool.allocate(&pod(i)).unwrap();
        }
        let top: IpAddr = "fd00:2::ffff:ffff:ffff:ffff".parse().unwrap();
        pool.allocate_addr(top, &pod(N - 1)).unwrap();
        pool
    });
    assert_eq!(pool.stats().capacity, 1u128 << 64);
    assert_eq!(pool.stats().allocated, u128::from(N));
    assert!(
        bytes < N as usize * 320,
        "/64 service pool: {} bytes per allocation",
        bytes / N as usize
    );
    drop(pool);

    // A /48 pod pool in /122 blocks over 50 nodes.
    let (pool, bytes) = retained(|| {
        let mut pool =
            PodPool::new(PoolConfig::parse("pods6", &["fd00:3::/48"]).unwrap(), 122).unwrap();
        for i in 0..N {
            pool.allocate(&format!("node-{}", i % 50), &pod(i)).unwrap();
        }
        pool
    });
    assert_eq!(pool.stats().addresses.allocated, u128::from(N));
    assert!(
        bytes < N as usize * 450,
        "/48 pod pool: {} bytes per allocation",
        bytes / N as usize
    );
}
