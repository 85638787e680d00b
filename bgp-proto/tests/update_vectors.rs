//! Byte vectors for every path attribute and for whole UPDATE messages, checked in both
//! directions: the bytes decode to the value, and the value encodes to the bytes.
//! Values are written out from the RFC formats (RFC 4271 4.3, RFC 4760, RFC 6793, ...).

use std::net::{Ipv4Addr, Ipv6Addr};

use bgp_proto::attr::{
    AS_TRANS, Aggregator, Aigp, AsPath, AttrErrorKind, AttrValue, ClusterList, Communities,
    Community, ExtAdmin, ExtCommunities, ExtCommunity, LargeCommunities, LargeCommunity, MpNlri,
    MpReach, MpUnreach, NextHop, Origin, SegmentType,
};
use bgp_proto::update::{pack, pack_withdrawals};
use bgp_proto::{
    Afi, DecodeCtx, EncodeCtx, Family, Message, Nlri, PathAttribute, PathAttributes, Safi, Update,
};
use bytes::{Bytes, BytesMut};

/// Hex with spaces to bytes.
fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).expect("hex")
}

/// A whole UPDATE message around `body`.
fn message(body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&u16::try_from(19 + body.len()).expect("short").to_be_bytes());
    m.push(2);
    m.extend_from_slice(body);
    m
}

/// An UPDATE with only the attribute list `attrs` (no routes).
fn attrs_only(attrs: &[u8]) -> Vec<u8> {
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(attrs.len()).expect("short").to_be_bytes());
    body.extend_from_slice(attrs);
    message(&body)
}

fn two_octet() -> (DecodeCtx, EncodeCtx) {
    (DecodeCtx::default(), EncodeCtx::default())
}

fn four_octet() -> (DecodeCtx, EncodeCtx) {
    (DecodeCtx::modern(), EncodeCtx::modern())
}

fn decode(bytes: &[u8], ctx: &DecodeCtx) -> Update {
    match Message::decode(bytes, ctx).expect("decodes") {
        Message::Update(u) => u,
        other => panic!("not an UPDATE: {other:?}"),
    }
}

/// `wire` (one attribute) decodes to exactly `value` with canonical flags on `ctx`, and
/// `value` encodes to `wire`.
fn attribute_vector(ctx: (DecodeCtx, EncodeCtx), wire: &str, value: AttrValue) {
    let wire = h(wire);
    let u = decode(&attrs_only(&wire), &ctx.0);
    if matches!(value, AttrValue::MpReach(_)) {
        // MP_REACH_NLRI alone announces routes without ORIGIN and AS_PATH:
        // treat-as-withdraw (RFC 7606 3 d), the attribute itself is fine.
        let missing: Vec<_> = u
            .errors
            .iter()
            .map(|e| (e.type_code, e.kind.clone()))
            .collect();
        assert_eq!(
            missing,
            [
                (1, AttrErrorKind::MissingWellKnown),
                (2, AttrErrorKind::MissingWellKnown)
            ]
        );
        assert!(u.treat_as_withdraw());
    } else {
        assert!(u.errors.is_empty(), "{:?}", u.errors);
    }
    let expected = PathAttributes::new().with(value);
    assert_eq!(u.attributes, expected);
    let mut out = BytesMut::new();
    expected.encode(&ctx.1, &mut out).expect("encodes");
    assert_eq!(hex::encode(&out), hex::encode(&wire));
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().expect("address")
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().expect("address")
}

fn n(s: &str) -> Nlri {
    Nlri::new(s.parse().expect("prefix"))
}

#[test]
fn origin() {
    attribute_vector(four_octet(), "40 01 01 00", AttrValue::Origin(Origin::Igp));
    attribute_vector(four_octet(), "40 01 01 01", AttrValue::Origin(Origin::Egp));
    attribute_vector(
        four_octet(),
        "40 01 01 02",
        AttrValue::Origin(Origin::Incomplete),
    );
}

#[test]
fn as_path_four_octet_and_two_octet() {
    let path = AsPath::from_sequence([65001, 65002, 4_200_000_000]);
    attribute_vector(
        four_octet(),
        "40 02 0e 02 03 0000fde9 0000fdea fa56ea00",
        AttrValue::AsPath(path),
    );
    let path = AsPath::from_sequence([65001, 65002, 65003]);
    attribute_vector(
        two_octet(),
        "40 02 08 02 03 fde9 fdea fdeb",
        AttrValue::AsPath(path),
    );
    attribute_vector(four_octet(), "40 02 00", AttrValue::AsPath(AsPath::new()));
}

#[test]
fn as_path_all_segment_types() {
    let path = AsPath::from_segments([
        (SegmentType::ConfedSequence, vec![65500]),
        (SegmentType::ConfedSet, vec![65501]),
        (SegmentType::Sequence, vec![65001]),
        (SegmentType::Set, vec![64512, 64513]),
    ]);
    attribute_vector(
        four_octet(),
        "40 02 1c 03 01 0000ffdc 04 01 0000ffdd 02 01 0000fde9 01 02 0000fc00 0000fc01",
        AttrValue::AsPath(path.clone()),
    );
    assert_eq!(path.to_string(), "(65500) [65501] 65001 {64512 64513}");
    assert_eq!(path.path_len(), 2);
}

#[test]
fn as_path_longer_than_255_is_split_and_uses_extended_length() {
    let path = AsPath::from_sequence(1..=300);
    let mut out = BytesMut::new();
    PathAttributes::new()
        .with_as_path(path.clone())
        .encode(&EncodeCtx::modern(), &mut out)
        .unwrap();
    // Flags 0x50 (well-known, extended length), 2 + 255*4 + 2 + 45*4 = 1204 octets.
    assert_eq!(&out[..6], &h("50 02 04b4 02 ff")[..]);
    assert_eq!(&out[4 + 2 + 1020..4 + 2 + 1020 + 2], &[2, 45]);
    let u = decode(&attrs_only(&out), &DecodeCtx::modern());
    assert_eq!(u.attributes.as_path(), Some(&path));
    assert_eq!(path.path_len(), 300);
}

#[test]
fn next_hop_med_local_pref_atomic_aggregate() {
    attribute_vector(
        four_octet(),
        "40 03 04 c0000201",
        AttrValue::NextHop(v4("192.0.2.1")),
    );
    attribute_vector(four_octet(), "80 04 04 00000064", AttrValue::Med(100));
    attribute_vector(four_octet(), "40 05 04 000000c8", AttrValue::LocalPref(200));
    attribute_vector(four_octet(), "40 06 00", AttrValue::AtomicAggregate);
}

#[test]
fn aggregator_two_and_four_octet() {
    let agg = Aggregator {
        asn: 65001,
        address: v4("192.0.2.1"),
    };
    attribute_vector(
        four_octet(),
        "c0 07 08 0000fde9 c0000201",
        AttrValue::Aggregator(agg),
    );
    attribute_vector(
        two_octet(),
        "c0 07 06 fde9 c0000201",
        AttrValue::Aggregator(agg),
    );
}

#[test]
fn communities_with_well_known_names() {
    let c = Communities::new([
        Community::NO_EXPORT,
        Community::NO_ADVERTISE,
        Community::new(65001, 100),
    ]);
    attribute_vector(
        four_octet(),
        "c0 08 0c ffffff01 ffffff02 fde90064",
        AttrValue::Communities(c.clone()),
    );
    let names: Vec<String> = c.iter().map(|c| c.to_string()).collect();
    assert_eq!(names, ["no-export", "no-advertise", "65001:100"]);
    assert_eq!(Community::BLACKHOLE.to_string(), "blackhole");
    assert_eq!(Community::GRACEFUL_SHUTDOWN.0, 0xffff_0000);
}

#[test]
fn originator_id_and_cluster_list() {
    attribute_vector(
        four_octet(),
        "80 09 04 c0000202",
        AttrValue::OriginatorId(v4("192.0.2.2")),
    );
    let cl = ClusterList::new([v4("192.0.2.3"), v4("192.0.2.4")]);
    attribute_vector(
        four_octet(),
        "80 0a 08 c0000203 c0000204",
        AttrValue::ClusterList(cl.clone()),
    );
    assert!(cl.prepend(v4("10.0.0.1")).contains(v4("10.0.0.1")));
}

#[test]
fn mp_reach_ipv6_global_next_hop() {
    let mp = MpReach {
        family: Family::IPV6_UNICAST,
        next_hop: NextHop::V6 {
            global: v6("2001:db8::1"),
            link_local: None,
        },
        nlri: MpNlri::Prefixes(vec![n("2001:db8:1::/48"), n("2001:db8:2::/64")]),
    };
    attribute_vector(
        four_octet(),
        "80 0e 25 0002 01 10 20010db8000000000000000000000001 00
         30 20010db80001
         40 20010db800020000",
        AttrValue::MpReach(Box::new(mp)),
    );
}

#[test]
fn mp_reach_ipv6_global_and_link_local_next_hop() {
    let mp = MpReach {
        family: Family::IPV6_UNICAST,
        next_hop: NextHop::V6 {
            global: v6("2001:db8::1"),
            link_local: Some(v6("fe80::1")),
        },
        nlri: MpNlri::Prefixes(vec![n("2001:db8:1::/48")]),
    };
    attribute_vector(
        four_octet(),
        "80 0e 2c 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00
         30 20010db80001",
        AttrValue::MpReach(Box::new(mp)),
    );
}

#[test]
fn mp_unreach_ipv6() {
    let mp = MpUnreach {
        family: Family::IPV6_UNICAST,
        withdrawn: MpNlri::Prefixes(vec![n("2001:db8:1::/64")]),
    };
    attribute_vector(
        four_octet(),
        "80 0f 0c 0002 01 40 20010db800010000",
        AttrValue::MpUnreach(Box::new(mp)),
    );
}

#[test]
fn extended_communities_typed_forms() {
    let ext = ExtCommunities::new([
        ExtCommunity::route_target(ExtAdmin::As2 {
            asn: 65000,
            local: 100,
        }),
        ExtCommunity::route_origin(ExtAdmin::Ipv4 {
            address: v4("192.0.2.1"),
            local: 7,
        }),
        ExtCommunity::route_target(ExtAdmin::As4 {
            asn: 4_200_000_000,
            local: 9,
        }),
    ]);
    attribute_vector(
        four_octet(),
        "c0 10 18 0002fde800000064 0103c00002010007 0202fa56ea000009",
        AttrValue::ExtCommunities(ext.clone()),
    );
    let shown: Vec<String> = ext.iter().map(|c| c.to_string()).collect();
    assert_eq!(shown, ["rt:65000:100", "ro:192.0.2.1:7", "rt:4200000000:9"]);
}

#[test]
fn as4_path_and_as4_aggregator_on_a_two_octet_session() {
    let p = AsPath::from_sequence([4_200_000_001, 4_200_000_002]);
    attribute_vector(
        two_octet(),
        "c0 11 0a 02 02 fa56ea01 fa56ea02",
        AttrValue::As4Path(p),
    );
    let agg = Aggregator {
        asn: 4_200_000_001,
        address: v4("192.0.2.1"),
    };
    attribute_vector(
        two_octet(),
        "c0 12 08 fa56ea01 c0000201",
        AttrValue::As4Aggregator(agg),
    );
}

#[test]
fn aigp_large_communities_only_to_customer() {
    attribute_vector(
        four_octet(),
        "80 1a 0b 01 000b 000000000000012c",
        AttrValue::Aigp(Aigp::new(300)),
    );
    let lc = LargeCommunities::new([LargeCommunity::new(65001, 1, 2)]);
    attribute_vector(
        four_octet(),
        "c0 20 0c 0000fde9 00000001 00000002",
        AttrValue::LargeCommunities(lc),
    );
    attribute_vector(four_octet(), "c0 23 04 0000fde9", AttrValue::Otc(65001));
}

#[test]
fn unknown_optional_attributes_pass_through_and_get_the_partial_bit() {
    let wire = h("c0 63 02 abcd 80 62 01 ee");
    let u = decode(&attrs_only(&wire), &DecodeCtx::modern());
    assert!(u.errors.is_empty());
    let mut out = BytesMut::new();
    u.attributes.encode(&EncodeCtx::modern(), &mut out).unwrap();
    assert_eq!(&out[..], &wire[..]);
    let mut again = u.attributes.clone();
    again.prepare_for_readvertisement();
    let mut out = BytesMut::new();
    again.encode(&EncodeCtx::modern(), &mut out).unwrap();
    // Transitive one kept with Partial (0xe0); non-transitive one dropped.
    assert_eq!(hex::encode(&out), "e06302abcd");
}

#[test]
fn received_order_and_extended_length_flags_are_kept() {
    // MED before ORIGIN, ORIGIN with a needless extended length.
    let wire = h("80 04 04 00000005 50 01 0001 00");
    let u = decode(&attrs_only(&wire), &DecodeCtx::modern());
    assert!(u.errors.is_empty());
    assert_eq!(
        u.attributes
            .iter()
            .map(PathAttribute::type_code)
            .collect::<Vec<_>>(),
        [4, 1]
    );
    assert_eq!(u.attributes.origin(), Some(Origin::Igp));
    let mut out = BytesMut::new();
    u.attributes.encode(&EncodeCtx::modern(), &mut out).unwrap();
    assert_eq!(&out[..], &wire[..]);
}

const IPV4_ANNOUNCE: &str = "
    ffffffffffffffffffffffffffffffff 0032 02
    0000
    0014 40010100 400206020100 00fde9 400304c0000201
    180a0102 10ac10";

#[test]
fn update_ipv4_announce() {
    let bytes = h(IPV4_ANNOUNCE);
    let expected = Update::announce(
        PathAttributes::new()
            .with_origin(Origin::Igp)
            .with_as_path(AsPath::from_sequence([65001]))
            .with_next_hop(v4("192.0.2.1")),
        vec![n("10.1.2.0/24"), n("172.16.0.0/16")],
    );
    assert_eq!(decode(&bytes, &DecodeCtx::modern()), expected);
    assert_eq!(
        Message::Update(expected.clone())
            .to_bytes(&EncodeCtx::modern())
            .unwrap(),
        &bytes[..]
    );
    let routes: Vec<_> = expected
        .announced()
        .map(|(f, r)| (f, r.prefix.to_string()))
        .collect();
    assert_eq!(
        routes,
        [
            (Family::IPV4_UNICAST, "10.1.2.0/24".into()),
            (Family::IPV4_UNICAST, "172.16.0.0/16".to_string())
        ]
    );
    // pack writes the same message for the same attributes and prefixes.
    let mut out = BytesMut::new();
    let attrs = expected.attributes.clone();
    let sent = pack(
        &EncodeCtx::modern(),
        &attrs,
        &NextHop::V4(v4("192.0.2.1")),
        Family::IPV4_UNICAST,
        &expected.nlri,
        &mut out,
    );
    assert_eq!(sent, Ok(1));
    assert_eq!(&out[..], &bytes[..]);
}

#[test]
fn update_ipv4_withdraw() {
    let bytes = h("ffffffffffffffffffffffffffffffff 001e 02 0007 180a0102 10ac10 0000");
    let expected = Update {
        withdrawn: vec![n("10.1.2.0/24"), n("172.16.0.0/16")],
        ..Update::default()
    };
    assert_eq!(decode(&bytes, &DecodeCtx::modern()), expected);
    assert_eq!(
        Message::Update(expected.clone())
            .to_bytes(&EncodeCtx::modern())
            .unwrap(),
        &bytes[..]
    );
    let mut out = BytesMut::new();
    assert_eq!(
        pack_withdrawals(
            &EncodeCtx::modern(),
            Family::IPV4_UNICAST,
            &expected.withdrawn,
            &mut out
        ),
        Ok(1)
    );
    assert_eq!(&out[..], &bytes[..]);
}

#[test]
fn update_ipv6_announce_via_pack_global_and_link_local() {
    let attrs = PathAttributes::new()
        .with_origin(Origin::Igp)
        .with_as_path(AsPath::from_sequence([65001]));
    let prefixes = [n("2001:db8:1::/48")];
    for (nh, hex_nh) in [
        (
            NextHop::V6 {
                global: v6("2001:db8::1"),
                link_local: None,
            },
            "10 20010db8000000000000000000000001",
        ),
        (
            NextHop::V6 {
                global: v6("2001:db8::1"),
                link_local: Some(v6("fe80::1")),
            },
            "20 20010db8000000000000000000000001 fe800000000000000000000000000001",
        ),
    ] {
        let mp_len = 5 + nh.encoded_len() + 7;
        let attr_len = 3 + mp_len + 4 + 9;
        let body = format!(
            "0000 {attr_len:04x} 800e{mp_len:02x} 0002 01 {hex_nh} 00 30 20010db80001 40010100 400206020100 00fde9"
        );
        let bytes = message(&h(&body));
        let mut out = BytesMut::new();
        assert_eq!(
            pack(
                &EncodeCtx::modern(),
                &attrs,
                &nh,
                Family::IPV6_UNICAST,
                &prefixes,
                &mut out
            ),
            Ok(1)
        );
        assert_eq!(hex::encode(&out), hex::encode(&bytes));
        let u = decode(&bytes, &DecodeCtx::modern());
        assert!(u.errors.is_empty());
        assert_eq!(u.attributes.mp_reach().unwrap().next_hop, nh);
        let routes: Vec<_> = u.announced().map(|(f, r)| (f, *r)).collect();
        assert_eq!(routes, [(Family::IPV6_UNICAST, prefixes[0])]);
        assert_eq!(
            Message::Update(u).to_bytes(&EncodeCtx::modern()).unwrap(),
            &bytes[..]
        );
    }
}

#[test]
fn update_ipv6_withdraw() {
    let bytes = message(&h("0000 000f 800f0c 0002 01 40 20010db800010000"));
    let u = decode(&bytes, &DecodeCtx::modern());
    let routes: Vec<_> = u.withdrawals().map(|(f, r)| (f, *r)).collect();
    assert_eq!(routes, [(Family::IPV6_UNICAST, n("2001:db8:1::/64"))]);
    let mut out = BytesMut::new();
    pack_withdrawals(
        &EncodeCtx::modern(),
        Family::IPV6_UNICAST,
        &[n("2001:db8:1::/64")],
        &mut out,
    )
    .unwrap();
    assert_eq!(&out[..], &bytes[..]);
}

#[test]
fn end_of_rib_for_both_families() {
    let v4_eor = h("ffffffffffffffffffffffffffffffff 0017 02 0000 0000");
    assert_eq!(
        decode(&v4_eor, &DecodeCtx::modern()).end_of_rib(),
        Some(Family::IPV4_UNICAST)
    );
    let marker = Update::end_of_rib_marker(Family::IPV4_UNICAST);
    assert_eq!(
        Message::Update(marker)
            .to_bytes(&EncodeCtx::modern())
            .unwrap(),
        &v4_eor[..]
    );

    let v6_eor = h("ffffffffffffffffffffffffffffffff 001d 02 0000 0006 800f03 0002 01");
    assert_eq!(
        decode(&v6_eor, &DecodeCtx::modern()).end_of_rib(),
        Some(Family::IPV6_UNICAST)
    );
    let marker = Update::end_of_rib_marker(Family::IPV6_UNICAST);
    assert_eq!(
        Message::Update(marker)
            .to_bytes(&EncodeCtx::modern())
            .unwrap(),
        &v6_eor[..]
    );

    // A withdrawal or an announcement is not an End-of-RIB.
    assert_eq!(
        decode(&h(IPV4_ANNOUNCE), &DecodeCtx::modern()).end_of_rib(),
        None
    );
    let w = message(&h("0000 000f 800f0c 0002 01 40 20010db800010000"));
    assert_eq!(decode(&w, &DecodeCtx::modern()).end_of_rib(), None);
}

#[test]
fn add_path_nlri_carry_path_ids() {
    let bytes = h("ffffffffffffffffffffffffffffffff 003b 02 0000 0014
        40010100 400206020100 00fde9 400304c0000201
        00000001 180a0102 00000002 180a0102");
    let ctx = DecodeCtx {
        add_path: vec![Family::IPV4_UNICAST],
        ..DecodeCtx::modern()
    };
    let u = decode(&bytes, &ctx);
    let p = "10.1.2.0/24".parse().unwrap();
    assert_eq!(u.nlri, [Nlri::with_path_id(p, 1), Nlri::with_path_id(p, 2)]);
    let enc = EncodeCtx {
        add_path: vec![Family::IPV4_UNICAST],
        ..EncodeCtx::modern()
    };
    assert_eq!(Message::Update(u).to_bytes(&enc).unwrap(), &bytes[..]);
    // Without ADD-PATH the same bytes mean something else entirely (ten prefixes, most
    // of them 0.0.0.0/0): the session context must say which encoding is in use.
    let wrong = decode(&bytes, &DecodeCtx::modern());
    assert_eq!(wrong.nlri.len(), 10);
}

#[test]
fn two_octet_session_merges_as4_path() {
    // AS_PATH 65001 AS_TRANS AS_TRANS, AS4_PATH 4200000001 4200000002,
    // AGGREGATOR AS_TRANS/192.0.2.9, AS4_AGGREGATOR 4200000009/192.0.2.9.
    let attrs = h("40010100 40020802 03 fde9 5ba0 5ba0 400304c0000201
        c00706 5ba0 c0000209
        c0110a 02 02 fa56ea01 fa56ea02
        c01208 fa56ea09 c0000209");
    let mut body = vec![0, 0];
    body.extend_from_slice(&u16::try_from(attrs.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&attrs);
    body.extend_from_slice(&h("180a0102"));
    let bytes = message(&body);
    let u = decode(&bytes, &DecodeCtx::default());
    assert!(u.errors.is_empty());
    assert_eq!(
        u.attributes.as_path().unwrap().to_string(),
        format!("65001 {AS_TRANS} {AS_TRANS}")
    );
    let merged = u.attributes.merge_as4();
    assert_eq!(
        merged.as_path().unwrap().to_string(),
        "65001 4200000001 4200000002"
    );
    assert_eq!(merged.aggregator().unwrap().asn, 4_200_000_009);
    assert!(merged.as4_path().is_none());
    // Byte-exact on the same session.
    assert_eq!(
        Message::Update(u.clone())
            .to_bytes(&EncodeCtx::default())
            .unwrap(),
        &bytes[..]
    );
    // Towards another 2-octet peer the AS4 attributes are rebuilt from the merged path.
    let back = merged.with_as4_for_two_octet_peer();
    assert_eq!(
        back.as4_path().unwrap().to_string(),
        "65001 4200000001 4200000002"
    );
    let mut out = BytesMut::new();
    back.encode(&EncodeCtx::default(), &mut out).unwrap();
    let expected = h(
        "40010100 4002080203 fde9 5ba0 5ba0 400304c0000201 c007065ba0c0000209
        c0110e0203 0000fde9 fa56ea01 fa56ea02 c01208fa56ea09c0000209",
    );
    assert_eq!(hex::encode(&out), hex::encode(expected));
    // The same AS4_PATH from a 4-octet peer is discarded (RFC 6793 section 6).
    let u4 = decode(
        &attrs_only(&h("c0110a 02 02 fa56ea01 fa56ea02")),
        &DecodeCtx::modern(),
    );
    assert!(u4.attributes.is_empty());
    assert_eq!(u4.errors.len(), 1);
    assert_eq!(u4.errors[0].action, bgp_proto::AttrAction::Discard);
}

#[test]
fn other_families_are_opaque_and_round_trip() {
    // VPNv4 (AFI 1, SAFI 128): RD+IPv4 next hop, one labelled VPN prefix, kept raw.
    let mp = h("800e20 0001 80 0c 0000000000000000 c0000201 00
        70 000641 0000fde900000064 0a0102");
    let bytes = attrs_only(&[h("40010100 400200").as_slice(), &mp[..]].concat());
    let u = decode(&bytes, &DecodeCtx::modern());
    assert!(u.errors.is_empty(), "{:?}", u.errors);
    let r = u.attributes.mp_reach().unwrap();
    assert_eq!(r.family, Family::new(Afi::IPV4, Safi(128)));
    assert_eq!(
        r.next_hop,
        NextHop::Opaque(Bytes::from(h("0000000000000000c0000201")))
    );
    assert_eq!(
        r.nlri,
        MpNlri::Opaque(Bytes::from(h("70000641 0000fde900000064 0a0102")))
    );
    assert_eq!(u.announced().count(), 0);
    assert_eq!(
        Message::Update(u).to_bytes(&EncodeCtx::modern()).unwrap(),
        &bytes[..]
    );
}

#[test]
fn ipv4_with_ipv6_next_hop_rfc8950() {
    let attrs = PathAttributes::new()
        .with_origin(Origin::Igp)
        .with_as_path(AsPath::new());
    let nh = NextHop::V6 {
        global: v6("2001:db8::1"),
        link_local: None,
    };
    let prefixes = [n("10.1.2.0/24")];
    let mut out = BytesMut::new();
    // Not negotiated: refused.
    assert!(
        pack(
            &EncodeCtx::modern(),
            &attrs,
            &nh,
            Family::IPV4_UNICAST,
            &prefixes,
            &mut out
        )
        .is_err()
    );
    assert!(out.is_empty());
    let enc = EncodeCtx {
        extended_next_hop: vec![Family::IPV4_UNICAST],
        ..EncodeCtx::modern()
    };
    pack(&enc, &attrs, &nh, Family::IPV4_UNICAST, &prefixes, &mut out).unwrap();
    let expected = message(&h(
        "0000 0023 800e19 0001 01 10 20010db8000000000000000000000001 00 180a0102 40010100 400200",
    ));
    assert_eq!(hex::encode(&out), hex::encode(&expected));
    let dec = DecodeCtx {
        extended_next_hop: vec![Family::IPV4_UNICAST],
        ..DecodeCtx::modern()
    };
    let u = decode(&out, &dec);
    assert_eq!(
        u.announced().map(|(f, r)| (f, *r)).collect::<Vec<_>>(),
        [(Family::IPV4_UNICAST, prefixes[0])]
    );
    assert!(u.attributes.next_hop().is_none());
}

#[test]
fn pack_keeps_the_attribute_block_and_splits_by_size() {
    let attrs = PathAttributes::new()
        .with_origin(Origin::Igp)
        .with_as_path(AsPath::from_sequence([65001]))
        .with_med(10)
        .with_communities(Communities::new([Community::NO_EXPORT]));
    let prefixes: Vec<Nlri> = (0..3000u32)
        .map(|i| n(&format!("10.{}.{}.0/24", i / 256, i % 256)))
        .collect();
    let mut out = BytesMut::new();
    let count = pack(
        &EncodeCtx::modern(),
        &attrs,
        &NextHop::V4(v4("192.0.2.1")),
        Family::IPV4_UNICAST,
        &prefixes,
        &mut out,
    )
    .unwrap();
    // 4096 - 23 - 34 bytes of attributes = 4039 bytes of NLRI: 1009 /24s per message.
    assert_eq!(count, 3);
    let first_len = usize::from(u16::from_be_bytes([out[16], out[17]]));
    assert_eq!(first_len, 23 + 34 + 1009 * 4);
    // Flags keep MED optional (0x80), NEXT_HOP goes between AS_PATH and MED.
    assert_eq!(
        &out[23..23 + 34],
        &h("40010100 400206020100 00fde9 400304c0000201 80040400 00000a c00804ffffff01")[..]
    );
}
