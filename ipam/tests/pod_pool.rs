//! A pod pool as the node agents and the controller use it.

// Test code: a panic is a failed test, with the value shown.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipam::{Error, Owner, PodPool, PoolConfig, Stats};
use ipnet::IpNet;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// A pod with a UUID uid, as Kubernetes gives them.
fn pod(i: u32) -> Owner {
    Owner::pod(
        format!("{i:08x}-1b2c-4d3e-8f40-{:012x}", u64::from(i) * 7919),
        "eth0",
    )
}

fn pods(ranges: &[&str], block_len: u8) -> PodPool {
    PodPool::new(PoolConfig::parse("pods", ranges).unwrap(), block_len).unwrap()
}

#[test]
fn a_node_gets_a_block_on_demand_and_another_when_it_is_full() {
    let mut pool = pods(&["10.244.0.0/24"], 26);
    let first = pool.allocate("a", &pod(0)).unwrap();
    assert_eq!(
        (first.addr, first.block, first.new_block),
        (ip("10.244.0.0"), net("10.244.0.0/26"), true)
    );
    for i in 1..64 {
        let a = pool.allocate("a", &pod(i)).unwrap();
        assert_eq!((a.block, a.new_block), (net("10.244.0.0/26"), false));
    }
    let b = pool.allocate("b", &pod(100)).unwrap();
    assert_eq!(
        (b.block, b.new_block),
        (net("10.244.0.64/26"), true),
        "node b gets its own block"
    );
    let spill = pool.allocate("a", &pod(64)).unwrap();
    assert_eq!((spill.addr, spill.new_block), (ip("10.244.0.128"), true));
    let blocks: Vec<IpNet> = pool.node_blocks("a").map(|b| b.cidr()).collect();
    assert_eq!(blocks, [net("10.244.0.0/26"), net("10.244.0.128/26")]);
}

#[test]
fn the_pool_is_exhausted_only_when_no_block_is_left() {
    let mut pool = pods(&["10.244.0.0/30"], 31);
    pool.allocate("a", &pod(0)).unwrap();
    pool.allocate("b", &pod(1)).unwrap();
    // Node b's block has room; node a's is not full either.
    pool.allocate("a", &pod(2)).unwrap();
    pool.allocate("b", &pod(3)).unwrap();
    assert_eq!(
        pool.allocate("c", &pod(4)),
        Err(Error::Exhausted {
            pool: "pods".into()
        })
    );
    assert_eq!(
        pool.allocate("a", &pod(5)),
        Err(Error::Exhausted {
            pool: "pods".into()
        })
    );
    let stats = pool.stats();
    assert_eq!(
        stats.blocks,
        Stats {
            capacity: 2,
            allocated: 2
        }
    );
    assert_eq!(
        stats.addresses,
        Stats {
            capacity: 4,
            allocated: 4
        }
    );
}

#[test]
fn a_block_goes_back_when_its_last_address_is_released() {
    let mut pool = pods(&["fd00:10:244::/64"], 122);
    let a = pool.allocate("a", &pod(1)).unwrap();
    let b = pool.allocate("a", &pod(2)).unwrap();
    assert_eq!(a.block, net("fd00:10:244::/122"));
    let r = pool.release(a.addr).unwrap();
    assert!(!r.block_released);
    let r = pool.release_owner(&pod(2)).unwrap();
    assert_eq!(
        (r.addr, r.block_released, r.node.as_str()),
        (b.addr, true, "a")
    );
    assert_eq!(pool.blocks().count(), 0);
    // The block is not reused at once either.
    assert_eq!(
        pool.allocate("b", &pod(3)).unwrap().block,
        net("fd00:10:244::40/122")
    );
}

#[test]
fn the_same_pod_gets_the_same_address_but_not_on_another_node() {
    let mut pool = pods(&["10.244.0.0/16"], 26);
    let a = pool.allocate("a", &pod(7)).unwrap();
    let again = pool.allocate("a", &pod(7)).unwrap();
    assert_eq!((again.addr, again.new_block), (a.addr, false));
    assert_eq!(
        pool.allocate("b", &pod(7)),
        Err(Error::OwnerHoldsOther {
            owner: pod(7),
            addr: a.addr
        })
    );
    assert_eq!(pool.stats().addresses.allocated, 1);
}

#[test]
fn requested_and_rebuilt_addresses_respect_block_ownership() {
    let mut pool = pods(&["10.244.0.0/16"], 26);
    let m = pool.mark_in_use("a", ip("10.244.7.9"), &pod(1)).unwrap();
    assert_eq!((m.block, m.new_block), (net("10.244.7.0/26"), true));
    assert_eq!(
        pool.allocate_addr("b", ip("10.244.7.10"), &pod(2)),
        Err(Error::BlockOfOtherNode {
            addr: ip("10.244.7.10"),
            block: net("10.244.7.0/26"),
            node: "a".into()
        })
    );
    let again = pool.mark_in_use("a", ip("10.244.7.9"), &pod(1)).unwrap();
    assert!(!again.new_block, "marking again changes nothing");
    assert_eq!(
        pool.allocate_addr("a", ip("10.244.7.9"), &pod(2)),
        Err(Error::AddressTaken {
            addr: ip("10.244.7.9"),
            holder: pod(1)
        })
    );
    assert_eq!(
        pool.allocate_addr("a", ip("10.245.0.1"), &pod(2)),
        Err(Error::NotInPool {
            pool: "pods".into(),
            addr: ip("10.245.0.1")
        })
    );
    // Hand-out still starts at the pool's first block: rebuilding moved no cursor.
    assert_eq!(
        pool.allocate("c", &pod(3)).unwrap().block,
        net("10.244.0.0/26")
    );
}

#[test]
fn range_edges_and_fully_excluded_blocks_are_never_handed_out() {
    let config = PoolConfig::parse("pods", &["10.0.0.10-10.0.1.5"])
        .unwrap()
        .excluding("10.0.0.64-10.0.0.127".parse().unwrap())
        .excluding("10.0.0.130".parse().unwrap());
    let mut pool = PodPool::new(config, 26).unwrap();
    // Whole /26 blocks inside the range: .0.64 (excluded), .0.128, .0.192.
    assert_eq!(pool.stats().blocks.capacity, 2);
    assert_eq!(pool.stats().addresses.capacity, 63 + 64);
    let a = pool.allocate("a", &pod(1)).unwrap();
    assert_eq!(a.addr, ip("10.0.0.128"));
    assert_eq!(pool.allocate("a", &pod(2)).unwrap().addr, ip("10.0.0.129"));
    assert_eq!(
        pool.allocate("a", &pod(3)).unwrap().addr,
        ip("10.0.0.131"),
        "skips the exclusion"
    );
    assert_eq!(
        pool.allocate_addr("a", ip("10.0.0.20"), &pod(4)),
        Err(Error::Reserved {
            pool: "pods".into(),
            addr: ip("10.0.0.20")
        })
    );
}

#[test]
fn invalid_block_sizes_are_refused() {
    let config = PoolConfig::parse("pods", &["10.0.0.0/24"]).unwrap();
    assert!(matches!(
        PodPool::new(config.clone(), 33),
        Err(Error::InvalidPool { .. })
    ));
    assert!(
        matches!(PodPool::new(config, 23), Err(Error::InvalidPool { .. })),
        "larger than the pool"
    );
    let v6 = PoolConfig::parse("pods6", &["::/0"]).unwrap();
    assert!(matches!(
        PodPool::new(v6.clone(), 0),
        Err(Error::InvalidPool { .. })
    ));
    let mut all = PodPool::new(v6, 1).unwrap();
    assert_eq!(all.claim_block("a").unwrap(), net("::/1"));
    assert_eq!(all.claim_block("b").unwrap(), net("8000::/1"));
    assert_eq!(
        all.claim_block("c"),
        Err(Error::Exhausted {
            pool: "pods6".into()
        })
    );
}

#[test]
fn gc_frees_dead_pods_and_the_blocks_they_emptied() {
    let mut pool = pods(&["10.244.0.0/16"], 28);
    for i in 0..40 {
        pool.allocate(if i < 20 { "a" } else { "b" }, &pod(i))
            .unwrap();
    }
    // All of node b's pods died, and every third of node a's.
    let alive: BTreeSet<Owner> = (0..20).filter(|i| i % 3 != 0).map(pod).collect();
    let freed = pool.gc(|o| alive.contains(o));
    assert_eq!(freed.len(), 40 - alive.len());
    let released: BTreeSet<IpNet> = freed
        .iter()
        .filter(|r| r.block_released)
        .map(|r| r.block)
        .collect();
    // Node a had .0/28 and .16/28 (20 pods), node b .32/28 and .48/28.
    assert_eq!(
        released,
        BTreeSet::from([net("10.244.0.32/28"), net("10.244.0.48/28")])
    );
    assert_eq!(pool.node_blocks("b").count(), 0);
    assert_eq!(pool.stats().addresses.allocated, alive.len() as u128);
    for i in 0..40 {
        assert_eq!(
            pool.address_of(&pod(i)).is_some(),
            alive.contains(&pod(i)),
            "pod {i}"
        );
    }
}

#[test]
fn blocks_can_be_claimed_restored_and_given_back() {
    let mut pool = pods(&["10.244.0.0/24"], 26);
    assert_eq!(pool.claim_block("a").unwrap(), net("10.244.0.0/26"));
    pool.insert_block("b", net("10.244.0.128/26")).unwrap();
    pool.insert_block("b", net("10.244.0.128/26")).unwrap();
    assert_eq!(
        pool.insert_block("c", net("10.244.0.128/26")),
        Err(Error::BlockOfOtherNode {
            addr: ip("10.244.0.128"),
            block: net("10.244.0.128/26"),
            node: "b".into()
        })
    );
    for bad in ["10.244.0.0/25", "10.244.0.32/26", "10.244.1.0/26"] {
        assert_eq!(
            pool.insert_block("c", net(bad)),
            Err(Error::NotABlock {
                pool: "pods".into(),
                block: net(bad)
            })
        );
    }
    // An explicitly claimed block stays while empty and is used first.
    let a = pool.allocate("a", &pod(1)).unwrap();
    assert_eq!((a.block, a.new_block), (net("10.244.0.0/26"), false));
    assert_eq!(
        pool.release_block(net("10.244.0.0/26")),
        Err(Error::BlockNotEmpty {
            block: net("10.244.0.0/26"),
            allocated: 1
        })
    );
    pool.release_block(net("10.244.0.128/26")).unwrap();
    assert_eq!(pool.stats().blocks.allocated, 1);
}

#[test]
fn pool_and_block_compact_state_round_trip() {
    let mut pool = pods(&["10.244.0.0/16"], 26);
    for i in 0..150 {
        pool.allocate(["a", "b", "c"][(i % 3) as usize], &pod(i))
            .unwrap();
    }
    pool.allocate("c", &Owner::pod("weird uid", "net/1"))
        .unwrap();
    for i in (0..150).step_by(7) {
        pool.release_owner(&pod(i));
    }
    let text = pool.to_compact();
    let mut restored = pods(&["10.244.0.0/16"], 26);
    restored.load_compact(&text).unwrap();
    assert_eq!(restored.to_compact(), text);
    assert_eq!(restored.stats(), pool.stats());

    // Per block, as one object per block would keep it.
    let mut rebuilt = pods(&["10.244.0.0/16"], 26);
    for block in pool.blocks() {
        rebuilt
            .restore_block(block.node(), block.cidr(), &block.to_compact())
            .unwrap();
    }
    for i in 0..150 {
        assert_eq!(
            rebuilt.address_of(&pod(i)),
            pool.address_of(&pod(i)),
            "pod {i}"
        );
    }
    // Both go on handing out the same addresses.
    assert_eq!(
        rebuilt.allocate("a", &pod(999)).unwrap(),
        pool.allocate("a", &pod(999)).unwrap()
    );
}

#[test]
fn a_restored_block_may_not_repeat_an_owner_of_another_block() {
    let mut pool = pods(&["10.244.0.0/24"], 26);
    let a = pool.allocate("a", &pod(1)).unwrap();
    let block = pool.block(a.block).unwrap().to_compact();
    assert_eq!(
        pool.restore_block("b", net("10.244.0.64/26"), &block),
        Err(Error::OwnerHoldsOther {
            owner: pod(1),
            addr: a.addr
        })
    );
    assert_eq!(pool.blocks().count(), 1, "nothing changed");
    assert!(pool.load_compact("b1|0|=a=0|u;=b=0|").is_err());
}

#[test]
fn a_thousand_pod_allocations_fit_in_25_kb_of_status() {
    let mut pool = pods(&["10.244.0.0/16"], 26);
    let nodes: Vec<String> = (0..16)
        .map(|n| format!("worker-{n:02}.cluster.example"))
        .collect();
    for i in 0..1_000u32 {
        pool.allocate(&nodes[(i / 63) as usize % 16], &pod(i))
            .unwrap();
    }
    assert_eq!(pool.stats().addresses.allocated, 1_000);
    let text = pool.to_compact();
    assert!(text.len() <= 25_000, "{} bytes for 1,000 pods", text.len());
    let per_block: usize = pool.blocks().map(|b| b.to_compact().len()).sum();
    assert!(
        per_block <= 25_000,
        "{per_block} bytes in block objects for 1,000 pods"
    );
}
