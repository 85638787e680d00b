//! Bad input (part of the `api` tests): every invalid argument is answered with
//! INVALID_ARGUMENT naming the field, and nothing a client sends takes the daemon down.

use std::time::Duration;

use bgp_api::bgpd::v1 as pb;
use tonic::Code;

use crate::api_common::*;
use crate::{V4, V6};

/// A peer's settings changed by `f`.
fn peer(f: impl Fn(&mut pb::PeerConfig)) -> pb::PeerConfig {
    let mut p = peer_config("127.0.0.5", 65005);
    f(&mut p);
    p
}

/// A path changed by `f`.
fn bad_path(f: impl Fn(&mut pb::Path)) -> Option<pb::Path> {
    let mut p = path("192.0.2.0/24");
    f(&mut p);
    Some(p)
}

/// A listing request changed by `f`.
fn listing(f: impl Fn(&mut pb::ListPathsRequest)) -> pb::ListPathsRequest {
    let mut r = pb::ListPathsRequest::default();
    f(&mut r);
    r
}

#[track_caller]
fn assert_names<T: std::fmt::Debug>(r: Result<T, tonic::Status>, field: &str, what: &str) {
    let s = r.expect_err(what);
    assert_eq!(s.code(), Code::InvalidArgument, "{what}: {s:?}");
    assert!(
        s.message().starts_with(field),
        "{what}: {:?} should name {field}",
        s.message()
    );
}

#[tokio::test]
async fn every_invalid_argument_names_its_field() {
    let mut a = start(&global(65001, "10.0.0.1", "", "")).await;
    let api = &mut a.api;
    add_peer(api, peer_config("127.0.0.2", 65002))
        .await
        .unwrap();
    let missing = api.add_peer(pb::AddPeerRequest { peer: None }).await;
    assert_names(missing, "peer: missing", "no peer");
    let bad_peers: Vec<(pb::PeerConfig, &str)> = vec![
        (peer(|p| p.address = "router-5".into()), "peer.address:"),
        (peer(|p| p.address = "224.0.0.5".into()), "peer.address:"),
        (peer(|p| p.peer_asn = 0), "peer.peer_asn:"),
        (peer(|p| p.port = 70_000), "peer.port:"),
        (peer(|p| p.hold_time = 2), "peer.hold_time:"),
        (peer(|p| p.keepalive = 200), "peer.keepalive:"),
        (peer(|p| p.families = vec![7]), "peer.families[0]:"),
        (peer(|p| p.families = vec![V4, V4]), "peer.families"),
        (
            peer(|p| p.local_address = "::1".into()),
            "peer.local_address:",
        ),
        (peer(|p| p.multihop_ttl = 300), "peer.multihop_ttl:"),
        (
            peer(|p| p.route_reflector_client = true),
            "peer.route_reflector_client:",
        ),
        (
            peer(|p| p.description = "x".repeat(300)),
            "peer.description:",
        ),
        (
            peer(|p| p.description = "two\nlines".into()),
            "peer.description:",
        ),
        (
            peer(|p| p.description = "escape \u{1b}[31m".into()),
            "peer.description:",
        ),
    ];
    for (p, field) in bad_peers {
        let what = format!("{p:?}");
        assert_names(add_peer(api, p.clone()).await, field, &what);
        assert_names(update_peer(api, p).await, field, &what);
    }
    // Any text a description may hold comes back as given.
    let text = "quote \" backslash \\ zero width \u{200b} emoji \u{1f426}";
    add_peer(api, peer(|p| p.description = text.into()))
        .await
        .unwrap();
    let p = get_peer(api, "127.0.0.5").await.config.unwrap();
    assert_eq!(p.description, text);

    let missing = api.add_path(pb::AddPathRequest { path: None }).await;
    assert_names(missing, "path: missing", "no path");
    let bad_paths: Vec<(Option<pb::Path>, &str)> = vec![
        (
            bad_path(|p| p.prefix = "192.0.2.1/24".into()),
            "path.prefix: 192.0.2.1/24 has host bits",
        ),
        (
            bad_path(|p| p.prefix = "192.0.2.0/33".into()),
            "path.prefix:",
        ),
        (bad_path(|p| p.prefix = String::new()), "path.prefix:"),
        (
            bad_path(|p| p.next_hop = "2001:db8::1".into()),
            "path.next_hop:",
        ),
        (
            bad_path(|p| p.next_hop = "0.0.0.0".into()),
            "path.next_hop:",
        ),
        (bad_path(|p| p.next_hop = "gw".into()), "path.next_hop:"),
        (bad_path(|p| p.origin = 9), "path.origin: unknown origin 9"),
        (
            bad_path(|p| {
                p.as_path = vec![pb::AsSegment {
                    r#type: 9,
                    asns: vec![1],
                }]
            }),
            "path.as_path[0].type:",
        ),
        (
            bad_path(|p| p.as_path = vec![pb::AsSegment::default()]),
            "path.as_path[0].asns:",
        ),
    ];
    for (path, field) in bad_paths {
        let what = format!("{path:?}");
        assert_names(
            api.add_path(pb::AddPathRequest { path }).await,
            field,
            &what,
        );
    }
    let family = bad_path(|p| p.next_hop = "2001:db8::1".into());
    let r = api.add_path(pb::AddPathRequest { path: family }).await;
    assert_status(r, Code::InvalidArgument, &["address family"]);
    assert_names(delete_path(api, "10.0.0.0").await, "prefix:", "an address");

    for (req, field) in [
        (listing(|r| r.table = 9), "table: unknown table 9"),
        (listing(|r| r.family = 9), "family:"),
        (listing(|r| r.r#match = 9), "match:"),
        (
            listing(|r| r.table = pb::Table::AdjIn as i32),
            "peer: required",
        ),
        (
            listing(|r| (r.table, r.peer) = (1, "peer-2".into())),
            "peer:",
        ),
        (listing(|r| r.prefix = "10/8x".into()), "prefix:"),
    ] {
        let what = format!("{req:?}");
        assert_names(api.list_paths(req).await, field, &what);
    }
    let counts = |table, peer: &str| pb::GetTableCountsRequest {
        table,
        peer: peer.into(),
    };
    assert_names(
        api.get_table_counts(counts(9, "")).await,
        "table:",
        "table 9",
    );
    assert_names(
        api.get_table_counts(counts(2, "")).await,
        "peer: required",
        "no peer",
    );
    let mode = pb::ResetPeerRequest {
        address: "127.0.0.2".into(),
        mode: 9,
        ..Default::default()
    };
    assert_names(api.reset_peer(mode).await, "mode:", "mode 9");
    let long = reset(api, "127.0.0.2", pb::ResetMode::Hard, &"é".repeat(128)).await;
    assert_names(long, "message: 256 bytes", "a 256-byte message");
    let message = "x".repeat(256);
    let disable = pb::DisablePeerRequest {
        address: "127.0.0.2".into(),
        message,
    };
    assert_names(
        api.disable_peer(disable).await,
        "message:",
        "a long message",
    );
    // Addresses, however long, are quoted short in the answer.
    for address in ["", "127.0.0.2:179", &"x".repeat(1 << 20)] {
        let r = api
            .get_peer(pb::GetPeerRequest {
                address: address.into(),
            })
            .await;
        assert_names(r, "address:", "a bad address");
        let r = api
            .enable_peer(pb::EnablePeerRequest {
                address: address.into(),
            })
            .await;
        assert_names(r, "address:", "a bad address");
        let r = api
            .delete_peer(pb::DeletePeerRequest {
                address: address.into(),
            })
            .await;
        let s = r.unwrap_err();
        assert!(
            s.message().len() < 200,
            "{} bytes of message",
            s.message().len()
        );
    }
    assert_names(
        api.watch(pb::WatchRequest::default()).await,
        "peer_events:",
        "no events",
    );
    let r = api.reload(pb::ReloadRequest {}).await;
    assert_status(r, Code::FailedPrecondition, &["configuration file"]);
    // Nothing was changed by any of it.
    assert_eq!(peers(api).await.len(), 2);
    assert!(loc_prefixes(api).await.is_empty());
    let unused = pb::ListPathsRequest {
        family: V6,
        ..Default::default()
    };
    assert!(list(api, unused).await.is_empty());
    a.stop().await;
}

/// A gRPC codec that sends and receives raw bytes: what no generated client would send.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl tonic::codec::Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Self::Error> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, Self::Error> {
        let n = bytes::Buf::remaining(src);
        Ok(Some(bytes::Buf::copy_to_bytes(src, n).to_vec()))
    }
}

const METHODS: [&str; 15] = [
    "GetGlobal",
    "SetGlobal",
    "AddPeer",
    "UpdatePeer",
    "DeletePeer",
    "ListPeers",
    "GetPeer",
    "ResetPeer",
    "EnablePeer",
    "DisablePeer",
    "AddPath",
    "DeletePath",
    "GetTableCounts",
    "Reload",
    "NoSuchMethod",
];

/// Protobuf that does not decode, or decodes to nonsense.
const PAYLOADS: [&[u8]; 6] = [
    b"",
    &[0xff; 64],
    // A length far past the end.
    &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
    // Invalid UTF-8 in a string.
    &[0x0a, 0x05, 0x0a, 0x03, 0xc3, 0x28, 0x41],
    // An 11-byte varint.
    &[
        0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
    ],
    // Enum values out of range.
    &[0x10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x00],
];

#[tokio::test]
async fn garbage_never_takes_the_daemon_down() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut a = start(&global(65001, "10.0.0.1", "", "")).await;
    add_peer(&mut a.api, peer_config("127.0.0.2", 65002))
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel(&a.socket).await);
    for m in METHODS {
        for body in PAYLOADS {
            bounded("ready", grpc.ready()).await.unwrap();
            let path = format!("/petrel.bgpd.v1.Bgpd/{m}");
            let path = tonic::codegen::http::uri::PathAndQuery::try_from(path).unwrap();
            let req = tonic::Request::new(body.to_vec());
            let r = bounded("a garbage call", grpc.unary(req, path, Raw)).await;
            if let Err(s) = r {
                // A clear refusal, never a broken connection or an internal failure.
                let refused = [
                    Code::InvalidArgument,
                    Code::Internal,
                    Code::NotFound,
                    Code::Unimplemented,
                ];
                let refused = refused.contains(&s.code()) || s.code() == Code::FailedPrecondition;
                assert!(refused, "{m} {body:?}: {s:?}");
            }
        }
    }
    // Not even HTTP/2, or a stream of random bytes, on the socket.
    let junk: [&[u8]; 3] = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &[0u8; 4096],
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\xff",
    ];
    for junk in junk {
        let mut s = tokio::net::UnixStream::connect(&a.socket).await.unwrap();
        s.write_all(junk).await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
    }
    // A client that goes away in the middle of a listing.
    add_stream(&mut a.api, many(5000, None)).await.unwrap();
    let mut client = a.client().await;
    let mut s = client
        .list_paths(pb::ListPathsRequest::default())
        .await
        .unwrap()
        .into_inner();
    next(&mut s).await.unwrap();
    drop(s);
    drop(client);
    let g = global_of(&mut a.api).await;
    assert_eq!(
        (g.peers, g.ipv4_prefixes),
        (1, 5000),
        "still serving, nothing changed"
    );
    a.stop().await;
}
