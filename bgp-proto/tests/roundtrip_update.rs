//! Property tests of the UPDATE codec: arbitrary UPDATEs survive encode/decode on any
//! session, pack writes back exactly the prefixes it was given in messages that fit,
//! and no byte string makes the decoder panic.

#[path = "strategies/update.rs"]
mod update_strategies;

use bgp_proto::attr::{NextHop, code};
use bgp_proto::update::{pack, pack_withdrawals};
use bgp_proto::{DecodeCtx, Family, Message, Nlri, PathAttributes, Update, frame_len};
use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;
use update_strategies::{Session, attributes, next_hop, nlri, session, session_and_update};

/// Splits `buf` into messages and decodes each as an UPDATE.
fn decode_all(buf: &[u8], ctx: &DecodeCtx) -> Vec<(usize, Update)> {
    let mut rest = buf;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = frame_len(rest).expect("whole header");
        let (msg, tail) = rest.split_at(len);
        match Message::decode(msg, ctx).expect("pack output decodes") {
            Message::Update(u) => out.push((len, u)),
            other => panic!("not an UPDATE: {other:?}"),
        }
        rest = tail;
    }
    out
}

fn without_next_hops(a: &PathAttributes) -> PathAttributes {
    let mut a = a.clone();
    a.retain(|x| {
        !matches!(
            x.type_code(),
            code::NEXT_HOP | code::MP_REACH_NLRI | code::MP_UNREACH_NLRI
        )
    });
    a
}

/// A session, a family, path attributes for it, a next hop and up to 1,500 prefixes.
fn pack_input() -> impl Strategy<Value = (Session, Family, PathAttributes, NextHop, Vec<Nlri>)> {
    (
        session(),
        prop_oneof![Just(Family::IPV4_UNICAST), Just(Family::IPV6_UNICAST)],
    )
        .prop_flat_map(|(s, family)| {
            let ap = s.encode.add_path(family);
            (
                Just(s.clone()),
                Just(family),
                attributes(&s, true, false),
                next_hop(family, &s),
                vec(nlri(family.afi, ap), 0..1500),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_update_survives_encode_and_decode_byte_for_byte((s, update) in session_and_update()) {
        let msg = Message::Update(update);
        let bytes = msg.to_bytes(&s.encode).expect("valid for the session");
        prop_assert!(bytes.len() <= s.encode.max_message_len());
        let back = Message::decode(&bytes, &s.decode).expect("decodes");
        prop_assert_eq!(&back, &msg);
        let again = back.to_bytes(&s.encode).expect("re-encodes");
        prop_assert_eq!(&again[..], &bytes[..]);
    }

    #[test]
    fn pack_gives_back_exactly_the_prefixes_in_full_messages(
        (s, family, attrs, nh, prefixes) in pack_input()
    ) {
        let mut out = BytesMut::new();
        let n = pack(&s.encode, &attrs, &nh, family, &prefixes, &mut out).expect("packs");
        let msgs = decode_all(&out, &s.decode);
        prop_assert_eq!(n, msgs.len());
        prop_assert_eq!(n == 0, prefixes.is_empty());
        let ap = s.encode.add_path(family);
        let mut got = Vec::new();
        for (i, (len, u)) in msgs.iter().enumerate() {
            prop_assert!(*len <= s.encode.max_message_len());
            prop_assert!(u.errors.is_empty(), "{:?}", u.errors);
            prop_assert_eq!(without_next_hops(&u.attributes), without_next_hops(&attrs));
            match &nh {
                NextHop::V4(a) if family == Family::IPV4_UNICAST => {
                    prop_assert_eq!(u.attributes.next_hop(), Some(*a));
                }
                _ => prop_assert_eq!(&u.attributes.mp_reach().expect("MP_REACH").next_hop, &nh),
            }
            let these: Vec<Nlri> = u.announced().map(|(f, n)| { assert_eq!(f, family); *n }).collect();
            // Tight packing: the first prefix of the next message did not fit in this one.
            if let Some(next) = prefixes.get(got.len() + these.len()) {
                prop_assert!(len + next.encoded_len(ap) > s.encode.max_message_len(), "message {} not full", i);
            }
            got.extend(these);
        }
        prop_assert_eq!(got, prefixes);
    }

    #[test]
    fn pack_withdrawals_gives_back_exactly_the_prefixes(
        (s, family, prefixes) in (session(), prop_oneof![Just(Family::IPV4_UNICAST), Just(Family::IPV6_UNICAST)])
            .prop_flat_map(|(s, f)| {
                let ap = s.encode.add_path(f);
                (Just(s), Just(f), vec(nlri(f.afi, ap), 0..1500))
            })
    ) {
        let mut out = BytesMut::new();
        let n = pack_withdrawals(&s.encode, family, &prefixes, &mut out).expect("packs");
        let msgs = decode_all(&out, &s.decode);
        prop_assert_eq!(n, msgs.len());
        let mut got = Vec::new();
        for (len, u) in &msgs {
            prop_assert!(*len <= s.encode.max_message_len());
            prop_assert_eq!(u.announced().count(), 0);
            prop_assert!(u.end_of_rib().is_none());
            got.extend(u.withdrawals().map(|(f, n)| { assert_eq!(f, family); *n }));
        }
        prop_assert_eq!(got, prefixes);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(
        kind in prop_oneof![Just(2u8), any::<u8>()],
        body in vec(any::<u8>(), 0..600),
        s in session(),
    ) {
        let mut msg = vec![0xff; 16];
        let len = u16::try_from(19 + body.len()).unwrap();
        msg.extend_from_slice(&len.to_be_bytes());
        msg.push(kind);
        msg.extend_from_slice(&body);
        if let Err(e) = Message::decode(&msg, &s.decode) {
            // Every error still names a NOTIFICATION.
            let _ = e.notification();
        }
        let _ = Message::decode(&body, &s.decode);
    }

    #[test]
    fn corrupted_updates_never_panic_and_errors_point_inside_the_message(
        (s, update) in session_and_update(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = Message::Update(update).to_bytes(&s.encode).expect("valid");
        let mut bytes = bytes.to_vec();
        for (at, v) in flips {
            // Keep the header intact so that the UPDATE decoder is reached.
            let i = 19 + at.index(bytes.len() - 19);
            bytes[i] = v;
        }
        match Message::decode(&bytes, &s.decode) {
            Ok(Message::Update(u)) => {
                for e in &u.errors {
                    prop_assert!(e.offset <= bytes.len(), "{:?}", e);
                    let _ = e.notification();
                }
            }
            Ok(_) => {}
            Err(e) => {
                prop_assert!(e.offset <= bytes.len(), "{:?}", e);
                prop_assert_eq!(e.notification().code, 3);
            }
        }
        // A message cut short (with its length field fixed up) must not panic either.
        let keep = 19 + cut.index(bytes.len() - 18);
        bytes.truncate(keep);
        let len = u16::try_from(keep).unwrap().to_be_bytes();
        bytes[16..18].copy_from_slice(&len);
        let _ = Message::decode(&bytes, &s.decode);
    }
}

#[test]
fn prefixes_beyond_one_message_take_two_or_one_extended_message() {
    let attrs = PathAttributes::new()
        .with_origin(bgp_proto::attr::Origin::Igp)
        .with_as_path(bgp_proto::attr::AsPath::from_sequence([65001]));
    let prefixes = |n: u32| -> Vec<Nlri> {
        (0..n)
            .map(|i| Nlri::new(format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap()))
            .collect()
    };
    let nh = NextHop::V4("192.0.2.1".parse().unwrap());
    let mut ctx = bgp_proto::EncodeCtx::modern();
    // ORIGIN (4) + AS_PATH (9) + NEXT_HOP (7) = 20 bytes of attributes: 1,000 /24s fit in
    // 19 + 4 + 20 + 4,000 = 4,043 bytes; 1,100 do not.
    let mut out = BytesMut::new();
    assert_eq!(
        pack(
            &ctx,
            &attrs,
            &nh,
            Family::IPV4_UNICAST,
            &prefixes(1000),
            &mut out
        ),
        Ok(1)
    );
    assert_eq!(out.len(), 4043);
    let mut out = BytesMut::new();
    assert_eq!(
        pack(
            &ctx,
            &attrs,
            &nh,
            Family::IPV4_UNICAST,
            &prefixes(1100),
            &mut out
        ),
        Ok(2)
    );
    assert_eq!(out.len(), 2 * 43 + 4400);
    ctx.extended_message = true;
    let mut out = BytesMut::new();
    assert_eq!(
        pack(
            &ctx,
            &attrs,
            &nh,
            Family::IPV4_UNICAST,
            &prefixes(1100),
            &mut out
        ),
        Ok(1)
    );
}
