//! The pod address service over a real unix socket, as the CNI plugin calls it.

// Test code: a panic is a failed test, with the value shown.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bgp_api::ipam::v1 as pb;
use bgp_api::ipam::v1::ipam_client::IpamClient;
use hyper_util::rt::TokioIo;
use ipam::PoolConfig;
use ipam::server::{MemoryStore, NodeConfig, NodeIpam, PodPoolSpec, serve_unix};
use ipnet::IpNet;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tonic::Code;
use tonic::transport::{Channel, Endpoint, Uri};

fn dual_stack(node: &str) -> NodeConfig {
    NodeConfig {
        node: node.into(),
        pools: vec![
            PodPoolSpec::new(PoolConfig::parse("pods4", &["10.244.0.0/16"]).unwrap(), 26),
            PodPoolSpec::new(
                PoolConfig::parse("pods6", &["fd00:10:244::/56"]).unwrap(),
                122,
            ),
        ],
    }
}

/// A server on a socket in a temporary directory, and a client connected to it.
struct Served {
    client: IpamClient<Channel>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    _dir: tempfile::TempDir,
}

impl Served {
    async fn start(ipam: NodeIpam<Arc<MemoryStore>>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("ipam.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve_unix(ipam, listener, async {
            let _ = stopped.await;
        }));
        // The URI is never dialled: the connector opens the socket.
        let channel =
            Endpoint::from_static("http://ipam.invalid")
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let path = path.clone();
                    async move {
                        Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?))
                    }
                }))
                .await
                .unwrap();
        Self {
            client: IpamClient::new(channel),
            stop: Some(stop),
            server,
            _dir: dir,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.await.unwrap().unwrap();
    }
}

fn request(i: usize) -> pb::AllocateRequest {
    pb::AllocateRequest {
        pod_namespace: "default".into(),
        pod_name: format!("web-{i}"),
        pod_uid: format!("{i:08x}-5e6f-4a1b-9c2d-3e4f5a6b7c8d"),
        container_id: format!("{i:064x}"),
        interface: "eth0".into(),
        pool: None,
    }
}

fn release(i: usize) -> pb::ReleaseRequest {
    pb::ReleaseRequest {
        container_id: format!("{i:064x}"),
        interface: "eth0".into(),
    }
}

fn addr(c: &pb::IpConfig) -> IpAddr {
    c.address.parse().unwrap()
}

/// Every block of `pool` in the store, with its node.
fn stored_blocks(store: &MemoryStore, pool: &str) -> Vec<(IpNet, String)> {
    store
        .blocks(pool)
        .into_iter()
        .map(|b| (b.block.cidr, b.block.node))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_cni_adds_get_distinct_addresses_in_the_nodes_blocks() {
    let store = Arc::new(MemoryStore::new());
    let ipam = NodeIpam::start(dual_stack("node-a"), store.clone())
        .await
        .unwrap();
    let served = Served::start(ipam).await;

    let calls = (0..200).map(|i| {
        let mut client = served.client.clone();
        tokio::spawn(async move { client.allocate(request(i)).await.map(|r| r.into_inner()) })
    });
    let mut v4 = BTreeSet::new();
    let mut v6 = BTreeSet::new();
    for call in calls.collect::<Vec<_>>() {
        let reply = call.await.unwrap().unwrap();
        assert_eq!(reply.ips.len(), 2, "one address per family");
        assert_eq!(
            (reply.ips[0].prefix_len, reply.ips[1].prefix_len),
            (32, 128)
        );
        let routes: Vec<&str> = reply
            .routes
            .iter()
            .map(|r| r.destination.as_str())
            .collect();
        assert_eq!(routes, ["0.0.0.0/0", "::/0"]);
        assert!(
            v4.insert(addr(&reply.ips[0])),
            "{} handed out twice",
            reply.ips[0].address
        );
        assert!(
            v6.insert(addr(&reply.ips[1])),
            "{} handed out twice",
            reply.ips[1].address
        );
    }
    assert_eq!((v4.len(), v6.len()), (200, 200));
    let blocks4 = stored_blocks(&store, "pods4");
    let blocks6 = stored_blocks(&store, "pods6");
    assert_eq!(blocks4.len(), 4, "200 pods fill four /26 blocks, no more");
    for (a, blocks) in v4
        .iter()
        .map(|a| (a, &blocks4))
        .chain(v6.iter().map(|a| (a, &blocks6)))
    {
        assert!(
            blocks.iter().any(|(b, n)| n == "node-a" && b.contains(a)),
            "{a} outside the node's blocks"
        );
    }

    let mut client = served.client.clone();
    let listed = client
        .list(pb::ListRequest {})
        .await
        .unwrap()
        .into_inner()
        .allocations;
    assert_eq!(listed.len(), 200);
    assert!(
        listed
            .iter()
            .all(|a| a.pod_namespace == "default" && a.ips.len() == 2)
    );

    let calls = (0..200).map(|i| {
        let mut client = served.client.clone();
        tokio::spawn(async move { client.release(release(i)).await.map(|r| r.into_inner()) })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(call.await.unwrap().unwrap().released.len(), 2);
    }
    let listed = client
        .list(pb::ListRequest {})
        .await
        .unwrap()
        .into_inner()
        .allocations;
    assert!(listed.is_empty(), "{listed:?}");
    assert!(
        stored_blocks(&store, "pods4").is_empty(),
        "empty blocks went back to the pool"
    );
    assert!(stored_blocks(&store, "pods6").is_empty());
    served.stop().await;
}

#[tokio::test]
async fn retries_and_recreated_sandboxes_keep_the_same_addresses() {
    let store = Arc::new(MemoryStore::new());
    let served = Served::start(NodeIpam::start(dual_stack("node-a"), store).await.unwrap()).await;
    let mut client = served.client.clone();

    let first = client.allocate(request(1)).await.unwrap().into_inner();
    let retry = client.allocate(request(1)).await.unwrap().into_inner();
    assert_eq!(first, retry);

    // The sandbox is recreated: same pod uid, new container id.
    let recreated = pb::AllocateRequest {
        container_id: "c0ffee".into(),
        ..request(1)
    };
    assert_eq!(
        client.allocate(recreated).await.unwrap().into_inner().ips,
        first.ips
    );
    // The old sandbox's late DEL frees nothing...
    assert!(
        client
            .release(release(1))
            .await
            .unwrap()
            .into_inner()
            .released
            .is_empty()
    );
    let old = client
        .check(pb::CheckRequest {
            container_id: format!("{:064x}", 1),
            interface: "eth0".into(),
            addresses: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(old.code(), Code::NotFound);
    // ...and the new one still holds its addresses.
    let held: Vec<String> = first.ips.iter().map(|c| c.address.clone()).collect();
    let check = pb::CheckRequest {
        container_id: "c0ffee".into(),
        interface: "eth0".into(),
        addresses: held,
    };
    assert_eq!(
        client.check(check).await.unwrap().into_inner().ips,
        first.ips
    );
    let freed = client
        .release(pb::ReleaseRequest {
            container_id: "c0ffee".into(),
            interface: "eth0".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(freed.released.len(), 2);
    served.stop().await;
}

#[tokio::test]
async fn errors_come_back_with_their_codes_and_name_the_field() {
    let config = NodeConfig {
        node: "node-a".into(),
        pools: vec![
            PodPoolSpec::new(PoolConfig::parse("tiny", &["10.0.0.0/30"]).unwrap(), 31),
            PodPoolSpec {
                default: false,
                ..PodPoolSpec::new(PoolConfig::parse("extra", &["10.1.0.0/24"]).unwrap(), 28)
            },
        ],
    };
    let served = Served::start(
        NodeIpam::start(config, Arc::new(MemoryStore::new()))
            .await
            .unwrap(),
    )
    .await;
    let mut client = served.client.clone();

    for (field, req) in [
        (
            "pod_uid",
            pb::AllocateRequest {
                pod_uid: String::new(),
                ..request(0)
            },
        ),
        (
            "container_id",
            pb::AllocateRequest {
                container_id: String::new(),
                ..request(0)
            },
        ),
        (
            "interface",
            pb::AllocateRequest {
                interface: String::new(),
                ..request(0)
            },
        ),
        (
            "pool",
            pb::AllocateRequest {
                pool: Some("nope".into()),
                ..request(0)
            },
        ),
    ] {
        let status = client.allocate(req).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert!(
            status.message().contains(field),
            "{field}: {}",
            status.message()
        );
    }
    for i in 0..4 {
        client.allocate(request(i)).await.unwrap();
    }
    let status = client.allocate(request(4)).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::ResourceExhausted,
        "{}",
        status.message()
    );
    // The named, non-default pool still has room.
    let extra = client
        .allocate(pb::AllocateRequest {
            pool: Some("extra".into()),
            ..request(4)
        })
        .await
        .unwrap();
    assert_eq!(extra.into_inner().ips[0].pool, "extra");

    let check = |addresses: Vec<&str>| pb::CheckRequest {
        container_id: format!("{:064x}", 0),
        interface: "eth0".into(),
        addresses: addresses.into_iter().map(String::from).collect(),
    };
    assert_eq!(
        client
            .check(check(vec!["10.0.0.0"]))
            .await
            .unwrap()
            .into_inner()
            .ips
            .len(),
        1
    );
    let status = client.check(check(vec!["10.0.0.3"])).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = client.check(check(vec!["ten"])).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("addresses"));
    let status = client
        .release(pb::ReleaseRequest {
            container_id: String::new(),
            interface: "eth0".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("container_id"));
    served.stop().await;
}
