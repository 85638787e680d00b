//! The node service over its store: sharing a store between nodes, conflicting writers,
//! restarts, a failing store, garbage collection.

// Test code: a panic is a failed test, with the value shown.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ipam::server::{
    Attachment, BlockDoc, MemoryStore, NodeConfig, NodeIpam, PodPoolSpec, ServerError, Store,
    StoreError, StoredBlock, Version,
};
use ipam::{Error, Owner, PodPool, PoolConfig};
use ipnet::IpNet;

fn config(node: &str) -> NodeConfig {
    NodeConfig {
        node: node.into(),
        pools: vec![PodPoolSpec::new(
            PoolConfig::parse("pods", &["10.244.0.0/22"]).unwrap(),
            27,
        )],
    }
}

fn pod(node: &str, i: usize) -> Attachment {
    Attachment {
        pod_namespace: "default".into(),
        pod_name: format!("{node}-pod-{i}"),
        pod_uid: format!(
            "{i:08x}-0000-4000-8000-{:012x}",
            node.bytes().map(usize::from).sum::<usize>() * 1000 + i
        ),
        container_id: format!("{node}-{i}"),
        interface: "eth0".into(),
    }
}

async fn allocate(ipam: &NodeIpam<impl Store>, a: &Attachment) -> IpAddr {
    ipam.allocate(a, None).await.unwrap().ips[0].addr
}

/// What the store says each node holds, decoded with the library.
/// A block as stored: node, prefix, allocations.
type Stored = (String, IpNet, Vec<(IpAddr, Owner)>);

fn stored(store: &MemoryStore) -> Vec<Stored> {
    let mut pool =
        PodPool::new(PoolConfig::parse("pods", &["10.244.0.0/22"]).unwrap(), 27).unwrap();
    store
        .blocks("pods")
        .into_iter()
        .map(|b| {
            pool.restore_block(&b.block.node, b.block.cidr, &b.block.allocations)
                .unwrap();
            let block = pool.block(b.block.cidr).unwrap();
            let allocs = block.allocations().map(|(a, o)| (a, o.clone())).collect();
            (b.block.node, b.block.cidr, allocs)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sharing_a_store_never_share_a_block_or_an_address() {
    let store = Arc::new(MemoryStore::new());
    let a = NodeIpam::start(config("node-a"), store.clone())
        .await
        .unwrap();
    let b = NodeIpam::start(config("node-b"), store.clone())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..100 {
        for (ipam, node) in [(a.clone(), "node-a"), (b.clone(), "node-b")] {
            tasks.push(tokio::spawn(async move {
                (node, allocate(&ipam, &pod(node, i)).await)
            }));
        }
    }
    let mut handed = BTreeSet::new();
    for t in tasks {
        let (node, addr) = t.await.unwrap();
        assert!(handed.insert(addr), "{addr} handed out twice");
        let blocks = stored(&store);
        assert!(
            blocks
                .iter()
                .any(|(n, b, _)| n == node && b.contains(&addr)),
            "{addr} not in a block of {node}"
        );
    }
    let blocks = stored(&store);
    let in_store: BTreeSet<IpAddr> = blocks
        .iter()
        .flat_map(|(_, _, a)| a.iter().map(|(x, _)| *x))
        .collect();
    assert_eq!(
        in_store, handed,
        "the store holds exactly what was handed out"
    );
    assert_eq!(
        blocks.len(),
        8,
        "100 pods per node in /27s: four blocks each"
    );
}

#[tokio::test]
async fn a_block_changed_by_someone_else_is_read_again() {
    let store = Arc::new(MemoryStore::new());
    let ipam = NodeIpam::start(config("node-a"), store.clone())
        .await
        .unwrap();
    let first = allocate(&ipam, &pod("node-a", 1)).await;
    // A controller's garbage collection rewrites the block without the first pod.
    let StoredBlock { block, version } = store.blocks("pods").remove(0);
    store
        .update_block(
            "pods",
            BlockDoc {
                allocations: "a1|1|".into(),
                ..block
            },
            version,
        )
        .await
        .unwrap();
    let second = allocate(&ipam, &pod("node-a", 2)).await;
    assert_ne!(second, first);
    let listed = ipam.list().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].attachment.pod_name, "node-a-pod-2");
    let (_, _, allocs) = stored(&store).remove(0);
    assert_eq!(allocs, vec![(second, pod("node-a", 2).owner())]);
}

#[tokio::test]
async fn a_restart_rebuilds_from_the_store_and_the_callers_list() {
    let store = Arc::new(MemoryStore::new());
    let before = NodeIpam::start(config("node-a"), store.clone())
        .await
        .unwrap();
    let mut addrs = Vec::new();
    for i in 0..3 {
        addrs.push(allocate(&before, &pod("node-a", i)).await);
    }
    let other = NodeIpam::start(config("node-b"), store.clone())
        .await
        .unwrap();
    let elsewhere = allocate(&other, &pod("node-b", 9)).await;
    drop(before);

    let after = NodeIpam::start(config("node-a"), store.clone())
        .await
        .unwrap();
    let listed = after.list().await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed.iter().all(|l| l.attachment.container_id.is_empty()),
        "not known before restore"
    );
    // Until the caller says which container holds them, Release by container id frees nothing.
    assert!(after.release("node-a-0", "eth0").await.unwrap().is_empty());

    let failed = after
        .restore(vec![
            (pod("node-a", 0), vec![addrs[0]]),
            (pod("node-a", 1), vec![addrs[1]]),
            (pod("node-a", 5), vec!["192.168.7.7".parse().unwrap()]),
            (pod("node-a", 6), vec![elsewhere]),
        ])
        .await;
    let failed: Vec<(String, String)> = failed
        .into_iter()
        .map(|(a, e)| (a.pod_name, e.to_string()))
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].1.contains("none of the node's pools"),
        "{failed:?}"
    );
    assert!(failed[1].1.contains("belongs to node node-b"), "{failed:?}");
    let held = after.check("node-a-1", "eth0", &[addrs[1]]).await.unwrap();
    assert_eq!(held.ips[0].addr, addrs[1]);
    assert_eq!(
        after.release("node-a-0", "eth0").await.unwrap(),
        vec![addrs[0]]
    );
    // New pods do not get the addresses that are still held.
    let next = allocate(&after, &pod("node-a", 7)).await;
    assert!(!addrs[1..].contains(&next));
}

#[tokio::test]
async fn a_standalone_host_uses_its_configured_block() {
    let block: IpNet = "10.244.2.64/27".parse().unwrap();
    let store = MemoryStore::with_blocks("pods", "host", [block]);
    let ipam = NodeIpam::start(config("host"), store).await.unwrap();
    let existing: IpAddr = "10.244.2.70".parse().unwrap();
    assert!(
        ipam.restore(vec![(pod("host", 0), vec![existing])])
            .await
            .is_empty()
    );
    let next = allocate(&ipam, &pod("host", 1)).await;
    assert!(block.contains(&next) && next != existing, "{next}");
}

/// A store that can be made to fail every write.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryStore,
    down: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "the API server is unreachable".into(),
            ));
        }
        Ok(())
    }
}

impl Store for Flaky {
    async fn list_blocks(&self, pool: &str) -> Result<Vec<StoredBlock>, StoreError> {
        self.inner.list_blocks(pool).await
    }
    async fn create_block(&self, pool: &str, block: BlockDoc) -> Result<Version, StoreError> {
        self.check()?;
        self.inner.create_block(pool, block).await
    }
    async fn update_block(
        &self,
        pool: &str,
        block: BlockDoc,
        v: Version,
    ) -> Result<Version, StoreError> {
        self.check()?;
        self.inner.update_block(pool, block, v).await
    }
    async fn delete_block(&self, pool: &str, cidr: IpNet, v: Version) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete_block(pool, cidr, v).await
    }
}

#[tokio::test]
async fn a_failed_write_loses_nothing_and_hands_out_nothing() {
    let store = Arc::new(Flaky::default());
    let ipam = NodeIpam::start(config("node-a"), store.clone())
        .await
        .unwrap();
    let first = allocate(&ipam, &pod("node-a", 1)).await;
    store.down.store(true, Ordering::SeqCst);
    let err = ipam.allocate(&pod("node-a", 2), None).await.unwrap_err();
    assert!(
        matches!(err, ServerError::Store(StoreError::Unavailable(_))),
        "{err}"
    );
    assert_eq!(tonic::Status::from(err).code(), tonic::Code::Unavailable);
    let err = ipam.release("node-a-1", "eth0").await.unwrap_err();
    assert!(
        matches!(err, ServerError::Store(StoreError::Unavailable(_))),
        "{err}"
    );
    store.down.store(false, Ordering::SeqCst);

    let listed = ipam.list().await.unwrap();
    assert_eq!(listed.len(), 1, "only what reached the store: {listed:?}");
    assert_eq!(listed[0].ips[0].addr, first);
    let second = allocate(&ipam, &pod("node-a", 2)).await;
    assert_ne!(second, first);
    // The failed release is retried by the plugin and now succeeds.
    assert_eq!(ipam.release("node-a-1", "eth0").await.unwrap(), vec![first]);
}

#[tokio::test]
async fn gc_frees_the_allocations_of_dead_pods_only() {
    let store = Arc::new(MemoryStore::new());
    let ipam = NodeIpam::start(config("node-a"), store.clone())
        .await
        .unwrap();
    for i in 0..40 {
        allocate(&ipam, &pod("node-a", i)).await;
    }
    let alive: BTreeSet<Owner> = (0..40)
        .filter(|i| i % 4 == 0)
        .map(|i| pod("node-a", i).owner())
        .collect();
    let freed = ipam.gc(|o| alive.contains(o)).await.unwrap();
    assert_eq!(freed.len(), 30);
    assert!(freed.iter().all(|r| !alive.contains(&r.owner)));
    let listed: BTreeSet<Owner> = ipam
        .list()
        .await
        .unwrap()
        .iter()
        .map(|l| l.attachment.owner())
        .collect();
    assert_eq!(listed, alive);
    let in_store: BTreeSet<Owner> = stored(&store)
        .into_iter()
        .flat_map(|(_, _, a)| a.into_iter().map(|(_, o)| o))
        .collect();
    assert_eq!(in_store, alive);
    // A freed pod's container is forgotten too.
    assert!(ipam.release("node-a-1", "eth0").await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_configurations_are_refused_at_start() {
    let pool = |name: &str, range: &str| PoolConfig::parse(name, &[range]).unwrap();
    let cases = [
        NodeConfig {
            node: String::new(),
            ..config("x")
        },
        NodeConfig {
            node: "n".into(),
            pools: vec![],
        },
        NodeConfig {
            node: "n".into(),
            pools: vec![
                PodPoolSpec::new(pool("a", "10.0.0.0/16"), 26),
                PodPoolSpec::new(pool("b", "10.1.0.0/16"), 26),
            ],
        },
        NodeConfig {
            node: "n".into(),
            pools: vec![
                PodPoolSpec::new(pool("a", "10.0.0.0/16"), 26),
                PodPoolSpec {
                    default: false,
                    ..PodPoolSpec::new(pool("b", "10.0.128.0/17"), 26)
                },
            ],
        },
        NodeConfig {
            node: "n".into(),
            pools: vec![PodPoolSpec::new(pool("a", "10.0.0.0/16"), 40)],
        },
    ];
    let expected = [
        "node name is empty",
        "no pool",
        "more than one default IPv4 pool",
        "overlaps",
        "not a valid",
    ];
    for (config, reason) in cases.into_iter().zip(expected) {
        let err = NodeIpam::start(config, MemoryStore::new())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(reason),
            "{err} (expected {reason})"
        );
    }
    let err = NodeIpam::start(
        NodeConfig {
            node: "n".into(),
            pools: vec![PodPoolSpec::new(pool("a", "10.0.0.0/16"), 40)],
        },
        MemoryStore::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ServerError::Ipam(Error::InvalidPool { .. })));
}
