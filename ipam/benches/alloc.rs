//! Allocation speed in a nearly full pool, and the memory a large IPv6 pool costs.
//!
//! ```text
//! cargo bench -p ipam --bench alloc -- --quick
//! ```
//!
//! Memory is measured with a counting global allocator and printed before the timings.

use std::alloc::System;
use std::hint::black_box;
use std::time::{Duration, Instant};

use cap::Cap;
use criterion::{Criterion, Throughput};
use ipam::{Owner, PodPool, PoolConfig, ServicePool};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

fn pod(i: u32) -> Owner {
    Owner::pod(
        format!(
            "{i:08x}-7d1e-4c2b-9a3f-{:012x}",
            u64::from(i) * 2_654_435_761
        ),
        "eth0",
    )
}

/// A /16 service pool filled, then every tenth address freed: 90% full, the free tenth
/// scattered over the whole pool.
fn service_pool_90_percent_full() -> (ServicePool, u32) {
    let config = PoolConfig::parse("lb", &["10.96.0.0/16"]).expect("valid pool");
    let mut pool = ServicePool::new(config).expect("valid pool");
    for i in 0..65_536 {
        pool.allocate(&pod(i)).expect("room");
    }
    for i in (0..65_536).step_by(10) {
        pool.release_owner(&pod(i));
    }
    let free = u32::try_from(pool.stats().free()).expect("small");
    (pool, free)
}

/// A /16 pod pool in /26 blocks, one block per node (1,024 nodes), 90% full the same way;
/// with one new pod for each free address, on the node that has it.
fn pod_pool_90_percent_full() -> (PodPool, Vec<(String, Owner)>) {
    let config = PoolConfig::parse("pods", &["10.244.0.0/16"]).expect("valid pool");
    let mut pool = PodPool::new(config, 26).expect("valid pool");
    for i in 0..65_536u32 {
        pool.allocate(&format!("node-{}", i / 64), &pod(i))
            .expect("room");
    }
    let mut new_pods = Vec::new();
    for i in (0..65_536).step_by(10) {
        pool.release_owner(&pod(i));
        new_pods.push((format!("node-{}", i / 64), pod(1_000_000 + i)));
    }
    (pool, new_pods)
}

/// Times `iters` allocations, one per item, on fresh copies of a pool that has room for
/// all the items; the copying is not timed.
fn timed_allocations<P: Clone, T>(
    template: &P,
    items: &[T],
    iters: u64,
    mut allocate: impl FnMut(&mut P, &T),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let mut pool = template.clone();
        let n = (iters - done).min(items.len() as u64);
        let start = Instant::now();
        for item in items.iter().take(usize::try_from(n).expect("small")) {
            allocate(&mut pool, black_box(item));
        }
        total += start.elapsed();
        done += n;
    }
    total
}

fn allocation_speed(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocate_in_16_pool_90pct_full");
    group.throughput(Throughput::Elements(1));

    let (pool, free) = service_pool_90_percent_full();
    let owners: Vec<Owner> = (1_000_000..1_000_000 + free).map(pod).collect();
    group.bench_function("service_pool", |b| {
        b.iter_custom(|iters| {
            timed_allocations(&pool, &owners, iters, |p, o| {
                black_box(p.allocate(o).expect("room"));
            })
        })
    });

    let (pool, new_pods) = pod_pool_90_percent_full();
    group.bench_function("pod_pool", |b| {
        b.iter_custom(|iters| {
            timed_allocations(&pool, &new_pods, iters, |p, (node, o)| {
                black_box(p.allocate(node, o).expect("room"));
            })
        })
    });
    group.finish();
}

/// Bytes still allocated after `f` ran and its result was kept.
fn retained<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATOR.allocated();
    let value = f();
    (value, ALLOCATOR.allocated().saturating_sub(before))
}

fn report_memory() {
    const N: u32 = 100_000;
    let (pool, bytes) = retained(|| {
        let config = PoolConfig::parse("lb6", &["fd00:96::/48"]).expect("valid pool");
        let mut pool = ServicePool::new(config).expect("valid pool");
        for i in 0..N {
            pool.allocate(&pod(i)).expect("room");
        }
        pool
    });
    println!(
        "memory: /48 service pool, {N} allocations: {bytes} bytes ({} per allocation)",
        bytes / N as usize
    );
    drop(pool);
    let (pool, bytes) = retained(|| {
        let config = PoolConfig::parse("pods6", &["fd00:244::/48"]).expect("valid pool");
        let mut pool = PodPool::new(config, 122).expect("valid pool");
        for i in 0..N {
            pool.allocate(&format!("node-{}", i % 500), &pod(i))
                .expect("room");
        }
        pool
    });
    println!(
        "memory: /48 pod pool in /122 blocks, 500 nodes, {N} allocations: {bytes} bytes ({} per allocation)",
        bytes / N as usize
    );
    let compact = pool.to_compact().len();
    println!(
        "compact state of that pod pool: {compact} bytes ({} per 1,000 allocations)",
        compact * 1_000 / N as usize
    );
}

fn main() {
    report_memory();
    let mut c = Criterion::default().configure_from_args();
    allocation_speed(&mut c);
    c.final_summary();
}
