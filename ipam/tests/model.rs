//! State-machine tests: random sequences of operations on small pools, checked step by step
//! against a plain model (an owner -> address map over a list of usable addresses).

// Test code: a panic is a failed test, with the value shown.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipam::{Error, Owner, PodPool, PoolConfig, ServicePool};
use ipnet::IpNet;
use proptest::prelude::*;

/// A small pool in either family, with the numbers the model needs.
struct Shape {
    config: PoolConfig,
    /// Every address of the ranges, in order.
    span: Vec<IpAddr>,
    /// The addresses that can be handed out, in order.
    usable: Vec<IpAddr>,
    /// Addresses that are outside the pool, to ask for.
    outside: Vec<IpAddr>,
}

fn addrs(range: &str) -> Vec<IpAddr> {
    let net: IpNet = range.parse().unwrap();
    net.hosts()
        .collect::<Vec<_>>()
        .into_iter()
        .chain([net.network(), net.broadcast()])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn shape(v6: bool) -> Shape {
    let (ranges, exclude, gateway, outside) = if v6 {
        (
            ["fd00::/123", "fd00::100/125"],
            "fd00::5",
            "fd00::101",
            ["fd00::40", "10.0.0.1"],
        )
    } else {
        (
            ["10.0.0.0/27", "10.0.1.0/29"],
            "10.0.0.5",
            "10.0.1.1",
            ["10.0.0.32", "fd00::1"],
        )
    };
    let config = PoolConfig::parse("p", &ranges)
        .unwrap()
        .excluding(exclude.parse().unwrap())
        .with_gateway(gateway.parse().unwrap());
    let span: Vec<IpAddr> = ranges.iter().flat_map(|r| addrs(r)).collect();
    let reserved = [exclude.parse().unwrap(), gateway.parse::<IpAddr>().unwrap()];
    let usable = span
        .iter()
        .copied()
        .filter(|a| !reserved.contains(a))
        .collect();
    Shape {
        config,
        span,
        usable,
        outside: outside.iter().map(|a| a.parse().unwrap()).collect(),
    }
}

fn owner(i: u8) -> Owner {
    if i.is_multiple_of(4) {
        Owner::service("ns", format!("svc-{i}"))
    } else {
        Owner::pod(
            format!("{i:08x}-0000-4000-8000-000000000000"),
            if i.is_multiple_of(3) { "net1" } else { "eth0" },
        )
    }
}

#[derive(Clone, Debug)]
enum Op {
    Allocate(u8),
    AllocateAddr(u8, usize),
    MarkInUse(u8, usize),
    Release(usize),
    ReleaseOwner(u8),
    Gc(u64),
    Reload,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0u8..48).prop_map(Op::Allocate),
        1 => (0u8..48, 0usize..64).prop_map(|(o, a)| Op::AllocateAddr(o, a)),
        1 => (0u8..48, 0usize..64).prop_map(|(o, a)| Op::MarkInUse(o, a)),
        2 => (0usize..64).prop_map(Op::Release),
        1 => (0u8..48).prop_map(Op::ReleaseOwner),
        1 => any::<u64>().prop_map(Op::Gc),
        1 => Just(Op::Reload),
    ];
    prop::collection::vec(op, 1..120)
}

/// The service pool's model: who holds what, and the hand-out cursor as an index into the
/// usable list.
struct ServiceModel {
    held: BTreeMap<Owner, IpAddr>,
    cursor: usize,
}

impl ServiceModel {
    fn holder(&self, addr: IpAddr) -> Option<&Owner> {
        self.held.iter().find(|(_, a)| **a == addr).map(|(o, _)| o)
    }

    /// The next free address from the cursor on, wrapping.
    fn next_free(&self, usable: &[IpAddr]) -> Option<usize> {
        let n = usable.len();
        (0..n)
            .map(|k| (self.cursor + k) % n)
            .find(|&i| self.holder(usable[i]).is_none())
    }

    fn expect_place(&self, s: &Shape, addr: IpAddr, o: &Owner) -> Result<(), Error> {
        if !s.span.contains(&addr) {
            return Err(Error::NotInPool {
                pool: "p".into(),
                addr,
            });
        }
        if !s.usable.contains(&addr) {
            return Err(Error::Reserved {
                pool: "p".into(),
                addr,
            });
        }
        match (self.holder(addr), self.held.get(o)) {
            (Some(h), _) if h == o => Ok(()),
            (Some(h), _) => Err(Error::AddressTaken {
                addr,
                holder: h.clone(),
            }),
            (None, Some(&other)) => Err(Error::OwnerHoldsOther {
                owner: o.clone(),
                addr: other,
            }),
            (None, None) => Ok(()),
        }
    }
}

fn pick(s: &Shape, i: usize) -> IpAddr {
    let all: Vec<IpAddr> = s.span.iter().chain(&s.outside).copied().collect();
    all[i % all.len()]
}

fn run_service_pool(v6: bool, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let s = shape(v6);
    let mut pool = ServicePool::new(s.config.clone()).unwrap();
    let mut m = ServiceModel {
        held: BTreeMap::new(),
        cursor: 0,
    };
    for op in ops {
        match op {
            Op::Allocate(i) => {
                let o = owner(i);
                let got = pool.allocate(&o);
                if let Some(&a) = m.held.get(&o) {
                    prop_assert_eq!(got, Ok(a));
                } else if let Some(idx) = m.next_free(&s.usable) {
                    prop_assert_eq!(got, Ok(s.usable[idx]));
                    m.held.insert(o, s.usable[idx]);
                    m.cursor = (idx + 1) % s.usable.len();
                } else {
                    prop_assert_eq!(got, Err(Error::Exhausted { pool: "p".into() }));
                }
            }
            Op::AllocateAddr(i, a) | Op::MarkInUse(i, a) => {
                let (o, addr) = (owner(i), pick(&s, a));
                let expect = m.expect_place(&s, addr, &o);
                let got = if matches!(op, Op::MarkInUse(..)) {
                    pool.mark_in_use(addr, &o)
                } else {
                    pool.allocate_addr(addr, &o)
                };
                prop_assert_eq!(&got, &expect);
                // A repeat of what is held changes nothing, the cursor included.
                if got.is_ok() && m.held.get(&o) != Some(&addr) {
                    m.held.insert(o, addr);
                    if matches!(op, Op::AllocateAddr(..)) {
                        let idx = s.usable.iter().position(|u| *u == addr).unwrap();
                        m.cursor = (idx + 1) % s.usable.len();
                    }
                }
            }
            Op::Release(a) => {
                let addr = pick(&s, a);
                let expect = m.holder(addr).cloned();
                prop_assert_eq!(pool.release(addr), expect.clone());
                if let Some(o) = expect {
                    m.held.remove(&o);
                }
            }
            Op::ReleaseOwner(i) => {
                let o = owner(i);
                prop_assert_eq!(pool.release_owner(&o), m.held.remove(&o));
            }
            Op::Gc(mask) => {
                let alive = |o: &Owner| alive_in(mask, o);
                let freed: BTreeSet<(IpAddr, Owner)> = pool
                    .gc(alive)
                    .into_iter()
                    .map(|a| (a.addr, a.owner))
                    .collect();
                let dead: BTreeSet<(IpAddr, Owner)> = m
                    .held
                    .iter()
                    .filter(|(o, _)| !alive(o))
                    .map(|(o, a)| (*a, o.clone()))
                    .collect();
                prop_assert_eq!(freed, dead);
                m.held.retain(|o, _| alive(o));
            }
            Op::Reload => {
                let mut fresh = ServicePool::new(s.config.clone()).unwrap();
                fresh.load_compact(&pool.to_compact()).unwrap();
                pool = fresh;
            }
        }
        // Nothing double-allocated, nothing lost, counts consistent.
        let now: BTreeMap<Owner, IpAddr> =
            pool.allocations().map(|(a, o)| (o.clone(), a)).collect();
        prop_assert_eq!(&now, &m.held);
        let distinct: BTreeSet<IpAddr> = now.values().copied().collect();
        prop_assert_eq!(distinct.len(), now.len());
        prop_assert!(distinct.iter().all(|a| s.usable.contains(a)));
        let stats = pool.stats();
        prop_assert_eq!(stats.capacity, s.usable.len() as u128);
        prop_assert_eq!(stats.allocated, m.held.len() as u128);
    }
    Ok(())
}

fn alive_in(mask: u64, o: &Owner) -> bool {
    let i = match o {
        Owner::Pod { uid, .. } => u8::from_str_radix(&uid[..8], 16).unwrap_or(0),
        Owner::Service { name, .. } => name.trim_start_matches("svc-").parse().unwrap_or(0),
        _ => 0,
    };
    mask & (1 << (i % 64)) != 0
}

#[derive(Clone, Debug)]
enum PodOp {
    Allocate(u8, u8),
    MarkInUse(u8, u8, usize),
    Release(usize),
    ReleaseOwner(u8),
    ClaimBlock(u8),
    Gc(u64),
    Reload,
}

fn pod_ops() -> impl Strategy<Value = Vec<PodOp>> {
    let op = prop_oneof![
        5 => (0u8..3, 0u8..48).prop_map(|(n, o)| PodOp::Allocate(n, o)),
        1 => (0u8..3, 0u8..48, 0usize..64).prop_map(|(n, o, a)| PodOp::MarkInUse(n, o, a)),
        2 => (0usize..64).prop_map(PodOp::Release),
        1 => (0u8..48).prop_map(PodOp::ReleaseOwner),
        1 => (0u8..3).prop_map(PodOp::ClaimBlock),
        1 => any::<u64>().prop_map(PodOp::Gc),
        1 => Just(PodOp::Reload),
    ];
    prop::collection::vec(op, 1..120)
}

/// The pod pool's model: blocks (by prefix) and their nodes, and who holds what where.
#[derive(Default)]
struct PodModel {
    blocks: BTreeMap<IpNet, String>,
    held: BTreeMap<Owner, (String, IpAddr)>,
}

fn block_of(addr: IpAddr, len: u8) -> IpNet {
    // An address of the other family (asked for on purpose) gets its own host prefix.
    IpNet::new(addr, len).map_or(IpNet::from(addr), |n| n.trunc())
}

fn run_pod_pool(v6: bool, ops: Vec<PodOp>) -> Result<(), TestCaseError> {
    let s = shape(v6);
    let len = if v6 { 125 } else { 29 };
    let mut pool = PodPool::new(s.config.clone(), len).unwrap();
    // Every block lies inside the ranges and has a usable address.
    let all_blocks: BTreeSet<IpNet> = s.usable.iter().map(|a| block_of(*a, len)).collect();
    let usable_in = |b: &IpNet| s.usable.iter().filter(|a| b.contains(*a)).count();
    let mut m = PodModel::default();
    let node = |n: u8| format!("node-{n}");
    for op in ops {
        match op {
            PodOp::Allocate(n, i) => {
                let (nd, o) = (node(n), owner(i));
                let got = pool.allocate(&nd, &o);
                match m.held.get(&o) {
                    Some((held_node, a)) if *held_node == nd => {
                        prop_assert_eq!(got.map(|g| (g.addr, g.new_block)), Ok((*a, false)));
                    }
                    Some((_, a)) => {
                        prop_assert_eq!(got, Err(Error::OwnerHoldsOther { owner: o, addr: *a }));
                    }
                    None => {
                        let room = m.blocks.iter().any(|(b, bn)| {
                            *bn == nd
                                && m.held.values().filter(|(_, a)| b.contains(a)).count()
                                    < usable_in(b)
                        });
                        let free_block = m.blocks.len() < all_blocks.len();
                        if room || free_block {
                            let g = got.map_err(|e| TestCaseError::fail(format!("{e}")))?;
                            prop_assert!(s.usable.contains(&g.addr));
                            prop_assert!(
                                m.held.values().all(|(_, a)| *a != g.addr),
                                "double allocation"
                            );
                            prop_assert_eq!(g.block, block_of(g.addr, len));
                            prop_assert_eq!(
                                g.new_block,
                                !room,
                                "a new block only when the node's are full"
                            );
                            if g.new_block {
                                prop_assert!(m.blocks.insert(g.block, nd.clone()).is_none());
                            } else {
                                prop_assert_eq!(m.blocks.get(&g.block), Some(&nd));
                            }
                            m.held.insert(o, (nd, g.addr));
                        } else {
                            prop_assert_eq!(got, Err(Error::Exhausted { pool: "p".into() }));
                        }
                    }
                }
            }
            PodOp::MarkInUse(n, i, a) => {
                let (nd, o, addr) = (node(n), owner(i), pick(&s, a));
                let got = pool.mark_in_use(&nd, addr, &o);
                let b = block_of(addr, len);
                let held_other = m.held.get(&o).filter(|(_, h)| *h != addr);
                let holder = m
                    .held
                    .iter()
                    .find(|(_, (_, h))| *h == addr)
                    .map(|(o, _)| o.clone());
                let expect = if !s.span.contains(&addr) {
                    Err(Error::NotInPool {
                        pool: "p".into(),
                        addr,
                    })
                } else if let Some((_, h)) = held_other {
                    Err(Error::OwnerHoldsOther {
                        owner: o.clone(),
                        addr: *h,
                    })
                } else if let Some(bn) = m.blocks.get(&b).filter(|bn| **bn != nd) {
                    Err(Error::BlockOfOtherNode {
                        addr,
                        block: b,
                        node: bn.clone(),
                    })
                } else if !s.usable.contains(&addr) {
                    Err(Error::Reserved {
                        pool: "p".into(),
                        addr,
                    })
                } else if let Some(h) = holder.filter(|h| *h != o) {
                    Err(Error::AddressTaken { addr, holder: h })
                } else {
                    Ok((b, !m.blocks.contains_key(&b)))
                };
                prop_assert_eq!(got.map(|g| (g.block, g.new_block)), expect.clone());
                if expect.is_ok() {
                    m.blocks.insert(b, nd.clone());
                    m.held.insert(o, (nd, addr));
                }
            }
            PodOp::Release(a) => {
                let addr = pick(&s, a);
                let holder = m
                    .held
                    .iter()
                    .find(|(_, (_, h))| *h == addr)
                    .map(|(o, _)| o.clone());
                let got = pool.release(addr);
                prop_assert_eq!(got.as_ref().map(|r| r.owner.clone()), holder.clone());
                if let (Some(o), Some(r)) = (holder, got) {
                    m.held.remove(&o);
                    check_block_release(&mut m, r.block, r.block_released)?;
                }
            }
            PodOp::ReleaseOwner(i) => {
                let o = owner(i);
                let got = pool.release_owner(&o);
                prop_assert_eq!(
                    got.as_ref().map(|r| r.addr),
                    m.held.get(&o).map(|(_, a)| *a)
                );
                if let Some(r) = got {
                    m.held.remove(&o);
                    check_block_release(&mut m, r.block, r.block_released)?;
                }
            }
            PodOp::ClaimBlock(n) => {
                let got = pool.claim_block(&node(n));
                if m.blocks.len() < all_blocks.len() {
                    let b = got.map_err(|e| TestCaseError::fail(format!("{e}")))?;
                    prop_assert!(all_blocks.contains(&b));
                    prop_assert!(m.blocks.insert(b, node(n)).is_none());
                } else {
                    prop_assert_eq!(got, Err(Error::Exhausted { pool: "p".into() }));
                }
            }
            PodOp::Gc(mask) => {
                let alive = |o: &Owner| alive_in(mask, o);
                let freed = pool.gc(alive);
                let got: BTreeSet<(IpAddr, Owner)> =
                    freed.iter().map(|r| (r.addr, r.owner.clone())).collect();
                let dead: BTreeSet<(IpAddr, Owner)> = m
                    .held
                    .iter()
                    .filter(|(o, _)| !alive(o))
                    .map(|(o, (_, a))| (*a, o.clone()))
                    .collect();
                prop_assert_eq!(got, dead);
                m.held.retain(|o, _| alive(o));
                let emptied: BTreeSet<IpNet> = freed.iter().map(|r| r.block).collect();
                for b in emptied {
                    let released = freed.iter().any(|r| r.block == b && r.block_released);
                    check_block_release(&mut m, b, released)?;
                }
            }
            PodOp::Reload => {
                let mut fresh = PodPool::new(s.config.clone(), len).unwrap();
                fresh.load_compact(&pool.to_compact()).unwrap();
                pool = fresh;
            }
        }
        // The pool agrees with the model: blocks, owners, addresses, counts.
        let blocks: BTreeMap<IpNet, String> = pool
            .blocks()
            .map(|b| (b.cidr(), b.node().to_owned()))
            .collect();
        prop_assert_eq!(&blocks, &m.blocks);
        let mut now = BTreeMap::new();
        for b in pool.blocks() {
            for (a, o) in b.allocations() {
                prop_assert!(
                    now.insert(o.clone(), (b.node().to_owned(), a)).is_none(),
                    "owner twice"
                );
            }
        }
        prop_assert_eq!(&now, &m.held);
        let stats = pool.stats();
        prop_assert_eq!(stats.addresses.allocated, m.held.len() as u128);
        prop_assert_eq!(stats.addresses.capacity, s.usable.len() as u128);
        prop_assert_eq!(stats.blocks.allocated, m.blocks.len() as u128);
        prop_assert_eq!(stats.blocks.capacity, all_blocks.len() as u128);
    }
    Ok(())
}

/// A block goes back exactly when the model has nothing left in it.
fn check_block_release(
    m: &mut PodModel,
    block: IpNet,
    released: bool,
) -> Result<(), TestCaseError> {
    let empty = !m.held.values().any(|(_, a)| block.contains(a));
    prop_assert_eq!(
        released,
        empty,
        "block {} released={} but empty={}",
        block,
        released,
        empty
    );
    if empty {
        m.blocks.remove(&block);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn service_pool_v4_matches_the_model(ops in ops()) {
        run_service_pool(false, ops)?;
    }

    #[test]
    fn service_pool_v6_matches_the_model(ops in ops()) {
        run_service_pool(true, ops)?;
    }

    #[test]
    fn pod_pool_v4_matches_the_model(ops in pod_ops()) {
        run_pod_pool(false, ops)?;
    }

    #[test]
    fn pod_pool_v6_matches_the_model(ops in pod_ops()) {
        run_pod_pool(true, ops)?;
    }
}
