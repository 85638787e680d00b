//! UPDATE decode and encode (pack) throughput, in prefixes per second.
//!
//! Each case is one attribute set (ORIGIN, a 4-AS path, NEXT_HOP or MP_REACH_NLRI, MED,
//! three communities, one large community) with 1, 100 or 1,000 prefixes: IPv4 /24s in
//! the NLRI field, IPv6 /48s in MP_REACH_NLRI. 1,000 prefixes take two 4,096-byte
//! messages; decode runs over all the messages pack wrote.

use std::hint::black_box;
use std::time::Duration;

use bgp_proto::attr::{
    AsPath, Communities, Community, LargeCommunities, LargeCommunity, NextHop, Origin,
};
use bgp_proto::update::pack;
use bgp_proto::{DecodeCtx, EncodeCtx, Family, Message, Nlri, PathAttributes, frame_len};
use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 3] = [1, 100, 1000];

fn attributes() -> PathAttributes {
    PathAttributes::new()
        .with_origin(Origin::Igp)
        .with_as_path(AsPath::from_sequence([65001, 174, 3356, 4_200_000_001]))
        .with_med(50)
        .with_communities(Communities::new([
            Community::new(65001, 100),
            Community::new(65001, 200),
            Community::NO_EXPORT,
        ]))
        .with_large_communities(LargeCommunities::new([LargeCommunity::new(65001, 1, 2)]))
}

fn prefixes(family: Family, n: usize) -> Vec<Nlri> {
    (0..n as u32)
        .map(|i| {
            let p = if family == Family::IPV4_UNICAST {
                format!("10.{}.{}.0/24", (i >> 8) & 0xff, i & 0xff)
            } else {
                format!("2001:db8:{:x}::/48", i)
            };
            Nlri::new(p.parse().expect("prefix"))
        })
        .collect()
}

fn next_hop(family: Family) -> NextHop {
    if family == Family::IPV4_UNICAST {
        NextHop::V4("192.0.2.1".parse().expect("address"))
    } else {
        NextHop::V6 {
            global: "2001:db8::1".parse().expect("address"),
            link_local: None,
        }
    }
}

fn label(family: Family) -> &'static str {
    if family == Family::IPV4_UNICAST {
        "ipv4"
    } else {
        "ipv6"
    }
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("update_decode");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let ectx = EncodeCtx::modern();
    let dctx = DecodeCtx::modern();
    for family in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
        for n in SIZES {
            let mut wire = BytesMut::new();
            pack(
                &ectx,
                &attributes(),
                &next_hop(family),
                family,
                &prefixes(family, n),
                &mut wire,
            )
            .expect("packs");
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(label(family), n), &wire[..], |b, wire| {
                b.iter(|| {
                    let mut rest = wire;
                    let mut routes = 0;
                    while let Some(len) = frame_len(rest) {
                        let (msg, tail) = rest.split_at(len);
                        if let Ok(Message::Update(u)) = Message::decode(msg, &dctx) {
                            routes += u.announced().count();
                            black_box(&u);
                        }
                        rest = tail;
                    }
                    assert_eq!(routes, n);
                });
            });
        }
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("update_pack");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let ctx = EncodeCtx::modern();
    let attrs = attributes();
    for family in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
        let nh = next_hop(family);
        for n in SIZES {
            let list = prefixes(family, n);
            let mut out = BytesMut::with_capacity(64 * 1024);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(label(family), n), &list, |b, list| {
                b.iter(|| {
                    out.clear();
                    let msgs = pack(&ctx, &attrs, &nh, family, black_box(list), &mut out);
                    black_box(msgs.expect("packs"));
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
