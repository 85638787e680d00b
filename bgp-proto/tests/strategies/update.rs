//! proptest strategies for UPDATE messages, path attributes and NLRI. Every value they
//! produce is one a conforming peer could send on the session the strategy was given, so
//! that encode-then-decode must give it back unchanged.
#![allow(dead_code)]

use std::net::{Ipv4Addr, Ipv6Addr};

use bgp_proto::attr::{
    Aggregator, Aigp, AsPath, AttrFlags, AttrValue, ClusterList, Communities, Community,
    ExtCommunities, ExtCommunity, LargeCommunities, LargeCommunity, MpNlri, MpReach, MpUnreach,
    NextHop, Origin, SegmentType, UnknownAttr,
};
use bgp_proto::{
    Afi, DecodeCtx, EncodeCtx, Family, Nlri, PathAttribute, PathAttributes, Safi, Update,
};
use bytes::{Bytes, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::collection::vec;
use proptest::prelude::*;

/// A session as both sides see it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) decode: DecodeCtx,
    pub(crate) encode: EncodeCtx,
}

/// Any combination of 4-octet AS, extended message, ADD-PATH for IPv4/IPv6 unicast and
/// extended next hop for IPv4 unicast.
pub(crate) fn session() -> impl Strategy<Value = Session> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(four, ext, ap4, ap6, enh)| {
            let mut add_path = Vec::new();
            if ap4 {
                add_path.push(Family::IPV4_UNICAST);
            }
            if ap6 {
                add_path.push(Family::IPV6_UNICAST);
            }
            let extended_next_hop = if enh {
                vec![Family::IPV4_UNICAST]
            } else {
                Vec::new()
            };
            Session {
                decode: DecodeCtx {
                    four_octet_as: four,
                    extended_message: ext,
                    add_path: add_path.clone(),
                    extended_next_hop: extended_next_hop.clone(),
                },
                encode: EncodeCtx {
                    four_octet_as: four,
                    extended_message: ext,
                    add_path,
                    extended_next_hop,
                },
            }
        })
}

/// Zeroes the octets after `ceil(len / 8)`, as on the wire; bits inside the last octet
/// stay (they round-trip).
fn wire_octets<const N: usize>(mut a: [u8; N], len: u8) -> [u8; N] {
    let n = usize::from(len).div_ceil(8);
    for b in a.iter_mut().skip(n) {
        *b = 0;
    }
    a
}

pub(crate) fn prefix_v4() -> impl Strategy<Value = IpNet> {
    (any::<[u8; 4]>(), 0u8..=32).prop_map(|(a, len)| {
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(wire_octets(a, len)), len).expect("length in range"))
    })
}

pub(crate) fn prefix_v6() -> impl Strategy<Value = IpNet> {
    (any::<[u8; 16]>(), 0u8..=128).prop_map(|(a, len)| {
        IpNet::V6(Ipv6Net::new(Ipv6Addr::from(wire_octets(a, len)), len).expect("length in range"))
    })
}

/// NLRI of `afi`, with a path identifier exactly when `add_path`.
pub(crate) fn nlri(afi: Afi, add_path: bool) -> BoxedStrategy<Nlri> {
    let prefix = if afi == Afi::IPV4 {
        prefix_v4().boxed()
    } else {
        prefix_v6().boxed()
    };
    (prefix, any::<u32>())
        .prop_map(move |(prefix, id)| Nlri {
            path_id: add_path.then_some(id),
            prefix,
        })
        .boxed()
}

fn asn(four_octet: bool) -> BoxedStrategy<u32> {
    if four_octet {
        any::<u32>().boxed()
    } else {
        (0u32..=65535).boxed()
    }
}

fn segment_type() -> impl Strategy<Value = SegmentType> {
    prop_oneof![
        4 => Just(SegmentType::Sequence),
        1 => Just(SegmentType::Set),
        1 => Just(SegmentType::ConfedSequence),
        1 => Just(SegmentType::ConfedSet),
    ]
}

/// AS paths with AS numbers that fit the session (2-octet sessions: up to 65535).
pub(crate) fn as_path(four_octet: bool) -> impl Strategy<Value = AsPath> {
    vec((segment_type(), vec(asn(four_octet), 1..12)), 0..4).prop_map(AsPath::from_segments)
}

fn aggregator(four_octet: bool) -> impl Strategy<Value = Aggregator> {
    (asn(four_octet), any::<[u8; 4]>()).prop_map(|(asn, a)| Aggregator {
        asn,
        address: Ipv4Addr::from(a),
    })
}

fn unknown_code() -> impl Strategy<Value = u8> {
    const KNOWN: [u8; 20] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 26, 32, 35, 255,
    ];
    any::<u8>().prop_filter("known attribute type", |c| !KNOWN.contains(c))
}

/// An attribute with its canonical flags, plus random low bits, Extended Length and (for
/// optional transitive ones) Partial.
fn flagged(value: AttrValue) -> impl Strategy<Value = PathAttribute> {
    (any::<bool>(), any::<bool>(), 0u8..16).prop_map(move |(ext, partial, low)| {
        let mut a = PathAttribute::new(value.clone());
        a.flags.0 |= low;
        if ext {
            a.flags.0 |= AttrFlags::EXTENDED_LENGTH;
        }
        if partial && a.flags.is_optional() && a.flags.is_transitive() {
            a.flags.0 |= AttrFlags::PARTIAL;
        }
        a
    })
}

/// The non-MP attributes other than ORIGIN, AS_PATH and NEXT_HOP.
fn optional_values(four_octet: bool) -> impl Strategy<Value = Vec<AttrValue>> {
    let unknown = (unknown_code(), vec(any::<u8>(), 0..40)).prop_map(|(type_code, d)| {
        AttrValue::Unknown(UnknownAttr {
            type_code,
            data: Bytes::from(d),
        })
    });
    let as4 = if four_octet {
        Just(Vec::new()).boxed()
    } else {
        (
            proptest::option::of(as_path(true)),
            proptest::option::of(aggregator(true)),
        )
            .prop_map(|(p, a)| {
                let mut v = Vec::new();
                if let Some(p) = p {
                    v.push(AttrValue::As4Path(p.without_confed()));
                }
                if let Some(a) = a {
                    v.push(AttrValue::As4Aggregator(a));
                }
                v
            })
            .boxed()
    };
    (
        (
            proptest::option::of(any::<u32>().prop_map(AttrValue::Med)),
            proptest::option::of(any::<u32>().prop_map(AttrValue::LocalPref)),
            proptest::option::of(Just(AttrValue::AtomicAggregate)),
            proptest::option::of(aggregator(four_octet).prop_map(AttrValue::Aggregator)),
            proptest::option::of(
                vec(any::<u32>().prop_map(Community), 1..80)
                    .prop_map(|c| AttrValue::Communities(Communities::new(c))),
            ),
            proptest::option::of(any::<[u8; 4]>().prop_map(|a| AttrValue::OriginatorId(a.into()))),
        ),
        (
            proptest::option::of(vec(any::<[u8; 4]>(), 1..5).prop_map(|ids| {
                AttrValue::ClusterList(ClusterList::new(ids.into_iter().map(Ipv4Addr::from)))
            })),
            proptest::option::of(vec(any::<[u8; 8]>(), 1..5).prop_map(|c| {
                AttrValue::ExtCommunities(ExtCommunities::new(c.into_iter().map(ExtCommunity)))
            })),
            proptest::option::of((0..u64::MAX).prop_map(|m| AttrValue::Aigp(Aigp::new(m)))),
            proptest::option::of(vec(any::<(u32, u32, u32)>(), 1..5).prop_map(|c| {
                AttrValue::LargeCommunities(LargeCommunities::new(
                    c.into_iter().map(|(g, a, b)| LargeCommunity::new(g, a, b)),
                ))
            })),
            proptest::option::of(any::<u32>().prop_map(AttrValue::Otc)),
            vec(unknown, 0..3),
            as4,
        ),
    )
        .prop_map(
            |((med, lp, aa, agg, comm, orig), (cl, ext, aigp, large, otc, unknown, as4))| {
                let mut v: Vec<AttrValue> =
                    [med, lp, aa, agg, comm, orig, cl, ext, aigp, large, otc]
                        .into_iter()
                        .flatten()
                        .collect();
                let mut codes = Vec::new();
                for u in unknown {
                    if let AttrValue::Unknown(x) = &u {
                        if codes.contains(&x.type_code) {
                            continue;
                        }
                        codes.push(x.type_code);
                    }
                    v.push(u);
                }
                v.extend(as4);
                v
            },
        )
}

/// Sets the Extended Length bit where the encoder will set it (values over 255 octets),
/// so that the decoded flags equal the generated ones.
pub(crate) fn normalize_flags(attrs: Vec<PathAttribute>, ctx: &EncodeCtx) -> PathAttributes {
    attrs
        .into_iter()
        .map(|mut a| {
            let mut out = BytesMut::new();
            PathAttributes::from_vec(vec![a.clone()])
                .encode(ctx, &mut out)
                .expect("valid attribute");
            a.flags = AttrFlags(out[0]);
            a
        })
        .collect()
}

/// A next hop for `family` that the session allows.
pub(crate) fn next_hop(family: Family, s: &Session) -> BoxedStrategy<NextHop> {
    let v6 = (any::<[u8; 16]>(), proptest::option::of(any::<[u8; 16]>())).prop_map(|(g, ll)| {
        NextHop::V6 {
            global: Ipv6Addr::from(g),
            link_local: ll.map(Ipv6Addr::from),
        }
    });
    if family == Family::IPV6_UNICAST {
        v6.boxed()
    } else if s.encode.extended_next_hop(Family::IPV4_UNICAST) {
        prop_oneof![any::<[u8; 4]>().prop_map(|a| NextHop::V4(a.into())), v6].boxed()
    } else {
        any::<[u8; 4]>().prop_map(|a| NextHop::V4(a.into())).boxed()
    }
}

fn opaque_family() -> impl Strategy<Value = Family> {
    (
        prop_oneof![Just(1u16), Just(2), Just(25), Just(16388)],
        any::<u8>(),
    )
        .prop_filter("decoded family", |(afi, safi)| !(*afi <= 2 && *safi == 1))
        .prop_map(|(afi, safi)| Family::new(Afi(afi), Safi(safi)))
}

fn mp_reach(s: &Session) -> BoxedStrategy<MpReach> {
    let ap6 = s.decode.add_path(Family::IPV6_UNICAST);
    let v6 = (
        next_hop(Family::IPV6_UNICAST, s),
        vec(nlri(Afi::IPV6, ap6), 0..40),
    )
        .prop_map(|(next_hop, n)| MpReach {
            family: Family::IPV6_UNICAST,
            next_hop,
            nlri: MpNlri::Prefixes(n),
        });
    let opaque = (
        opaque_family(),
        vec(any::<u8>(), 0..32),
        vec(any::<u8>(), 0..48),
    )
        .prop_map(|(family, nh, n)| MpReach {
            family,
            next_hop: NextHop::Opaque(Bytes::from(nh)),
            nlri: MpNlri::Opaque(Bytes::from(n)),
        });
    if s.decode.extended_next_hop(Family::IPV4_UNICAST) {
        let ap4 = s.decode.add_path(Family::IPV4_UNICAST);
        let v4 = (any::<[u8; 16]>(), vec(nlri(Afi::IPV4, ap4), 0..40)).prop_map(|(g, n)| MpReach {
            family: Family::IPV4_UNICAST,
            next_hop: NextHop::V6 {
                global: Ipv6Addr::from(g),
                link_local: None,
            },
            nlri: MpNlri::Prefixes(n),
        });
        prop_oneof![v6, opaque, v4].boxed()
    } else {
        prop_oneof![v6, opaque].boxed()
    }
}

fn mp_unreach(s: &Session) -> BoxedStrategy<MpUnreach> {
    let ap6 = s.decode.add_path(Family::IPV6_UNICAST);
    prop_oneof![
        vec(nlri(Afi::IPV6, ap6), 0..40).prop_map(|n| MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: MpNlri::Prefixes(n)
        }),
        (opaque_family(), vec(any::<u8>(), 0..48)).prop_map(|(family, n)| MpUnreach {
            family,
            withdrawn: MpNlri::Opaque(Bytes::from(n))
        }),
    ]
    .boxed()
}

/// Path attributes valid on session `s`, in a random order, for an UPDATE that does or
/// does not carry IPv4 NLRI; with `mp`, possibly MP_REACH_NLRI / MP_UNREACH_NLRI.
pub(crate) fn attributes(s: &Session, ipv4_nlri: bool, mp: bool) -> BoxedStrategy<PathAttributes> {
    let four = s.decode.four_octet_as;
    let ctx = s.encode.clone();
    let reach = if mp {
        proptest::option::of(mp_reach(s)).boxed()
    } else {
        Just(None).boxed()
    };
    let unreach = if mp {
        proptest::option::of(mp_unreach(s)).boxed()
    } else {
        Just(None).boxed()
    };
    (
        any::<bool>(),
        prop_oneof![
            Just(Origin::Igp),
            Just(Origin::Egp),
            Just(Origin::Incomplete)
        ],
        as_path(four),
        any::<[u8; 4]>(),
        optional_values(four),
        reach,
        unreach,
    )
        .prop_flat_map(
            move |(with_mandatory, origin, path, nh, rest, reach, unreach)| {
                let mandatory = with_mandatory || ipv4_nlri || reach.is_some();
                let mut values = rest;
                if mandatory {
                    values.push(AttrValue::Origin(origin));
                    values.push(AttrValue::AsPath(path));
                }
                if ipv4_nlri {
                    values.push(AttrValue::NextHop(nh.into()));
                }
                if let Some(r) = reach {
                    values.push(AttrValue::MpReach(Box::new(r)));
                }
                if let Some(u) = unreach {
                    values.push(AttrValue::MpUnreach(Box::new(u)));
                }
                let ctx = ctx.clone();
                values
                    .into_iter()
                    .map(flagged)
                    .collect::<Vec<_>>()
                    .prop_shuffle()
                    .prop_map(move |attrs| normalize_flags(attrs, &ctx))
            },
        )
        .boxed()
}

/// An UPDATE valid on session `s`, with no RFC 7606 errors.
pub(crate) fn update(s: &Session) -> BoxedStrategy<Update> {
    let ap4 = s.decode.add_path(Family::IPV4_UNICAST);
    let s = s.clone();
    (
        vec(nlri(Afi::IPV4, ap4), 0..30),
        vec(nlri(Afi::IPV4, ap4), 0..30),
    )
        .prop_flat_map(move |(withdrawn, announced)| {
            attributes(&s, !announced.is_empty(), true).prop_map(move |attributes| Update {
                withdrawn: withdrawn.clone(),
                attributes,
                nlri: announced.clone(),
                errors: Vec::new(),
            })
        })
        .boxed()
}

/// A session and an UPDATE valid on it.
pub(crate) fn session_and_update() -> impl Strategy<Value = (Session, Update)> {
    session().prop_flat_map(|s| update(&s).prop_map(move |u| (s.clone(), u)))
}
