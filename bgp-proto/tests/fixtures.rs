//! Every message captured from real BIRD, FRR and GoBGP sessions (see
//! `tests/fixtures/README.md`) decodes with the context the two OPENs negotiate, and
//! re-encodes byte for byte with the sender's context.

use bgp_proto::attr::AttrValue;
use bgp_proto::{Message, Open, negotiate};

const FIXTURES: &[(&str, &str)] = &[
    ("bird-frr-v4", include_str!("fixtures/bird-frr-v4.bgp.txt")),
    ("bird-frr-v6", include_str!("fixtures/bird-frr-v6.bgp.txt")),
    (
        "bird-gobgp-v4",
        include_str!("fixtures/bird-gobgp-v4.bgp.txt"),
    ),
    (
        "bird-gobgp-v6",
        include_str!("fixtures/bird-gobgp-v6.bgp.txt"),
    ),
    (
        "bird-gobgp-as2",
        include_str!("fixtures/bird-gobgp-as2.bgp.txt"),
    ),
    (
        "frr-gobgp-v4",
        include_str!("fixtures/frr-gobgp-v4.bgp.txt"),
    ),
    (
        "frr-gobgp-v6",
        include_str!("fixtures/frr-gobgp-v6.bgp.txt"),
    ),
];

/// (sender is side a, message bytes) in capture order.
fn messages(text: &str) -> Vec<(bool, Vec<u8>)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (side, hex_msg) = l.split_once(' ').expect("side, then hex");
            (side == "a", hex::decode(hex_msg.trim()).expect("hex"))
        })
        .collect()
}

fn open_of(msgs: &[(bool, Vec<u8>)], side_a: bool) -> Open {
    let (_, bytes) = msgs
        .iter()
        .find(|(a, b)| *a == side_a && b[18] == 1)
        .expect("an OPEN");
    match Message::decode(bytes, &Default::default()).expect("OPEN decodes") {
        Message::Open(o) => o,
        other => panic!("not an OPEN: {other:?}"),
    }
}

/// What the captures exercise, so that a fixture that lost its content fails loudly.
#[derive(Debug, Default)]
struct Seen {
    kinds: [usize; 6],
    ipv6_routes: usize,
    add_path_ids: usize,
    communities: usize,
    large_communities: usize,
    ext_communities: usize,
    as4_path: usize,
    end_of_rib: usize,
    withdrawals: usize,
}

#[test]
fn every_captured_message_decodes_and_re_encodes_identically() {
    let mut seen = Seen::default();
    for (name, text) in FIXTURES {
        let msgs = messages(text);
        let (a, b) = (open_of(&msgs, true), open_of(&msgs, false));
        // What a sends, b decodes with b's view of the session, and a encoded with its own.
        let a_to_b = (negotiate(&b, &a).decode, negotiate(&a, &b).encode);
        let b_to_a = (negotiate(&a, &b).decode, negotiate(&b, &a).encode);
        let mut opens_seen = 0;
        for (i, (from_a, bytes)) in msgs.iter().enumerate() {
            // Until both OPENs are through, nothing is negotiated.
            let (dec, enc) = if opens_seen < 2 {
                Default::default()
            } else if *from_a {
                a_to_b.clone()
            } else {
                b_to_a.clone()
            };
            let msg = Message::decode(bytes, &dec)
                .unwrap_or_else(|e| panic!("{name} message {i}: {e}\n{}", hex::encode(bytes)));
            seen.kinds[usize::from(bytes[18])] += 1;
            if let Message::Update(u) = &msg {
                assert!(u.errors.is_empty(), "{name} message {i}: {:?}", u.errors);
                seen.ipv6_routes += u
                    .announced()
                    .filter(|(f, _)| *f == bgp_proto::Family::IPV6_UNICAST)
                    .count();
                seen.add_path_ids += u.announced().filter(|(_, n)| n.path_id.is_some()).count();
                seen.withdrawals += u.withdrawals().count();
                seen.end_of_rib += usize::from(u.end_of_rib().is_some());
                for a in u.attributes.iter() {
                    match a.value {
                        AttrValue::Communities(_) => seen.communities += 1,
                        AttrValue::LargeCommunities(_) => seen.large_communities += 1,
                        AttrValue::ExtCommunities(_) => seen.ext_communities += 1,
                        AttrValue::As4Path(_) => seen.as4_path += 1,
                        _ => {}
                    }
                }
            }
            if bytes[18] == 1 {
                opens_seen += 1;
            }
            let again = msg
                .to_bytes(&enc)
                .unwrap_or_else(|e| panic!("{name} message {i}: {e}"));
            assert_eq!(
                hex::encode(&again),
                hex::encode(bytes),
                "{name} message {i}: {msg:?}"
            );
        }
    }
    assert_eq!(seen.kinds[1], 2 * FIXTURES.len(), "{seen:?}");
    assert!(
        seen.kinds[2] >= 100 && seen.kinds[4] >= 50 && seen.kinds[5] >= 10,
        "{seen:?}"
    );
    assert!(
        seen.ipv6_routes > 0 && seen.add_path_ids > 0 && seen.withdrawals > 0,
        "{seen:?}"
    );
    assert!(
        seen.communities > 0 && seen.large_communities > 0 && seen.ext_communities > 0,
        "{seen:?}"
    );
    assert!(
        seen.as4_path > 0 && seen.end_of_rib >= 2 * FIXTURES.len(),
        "{seen:?}"
    );
}
