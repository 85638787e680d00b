//! RFC 7606 (and RFC 4271 6.3) outcomes for malformed UPDATEs: a table of input bytes and
//! what the receiver must do — the action for the errors that keep the session up, the
//! NOTIFICATION (code, subcode, data) for those that reset it.

use bgp_proto::attr::code;
use bgp_proto::{AttrAction, DecodeCtx, Message, Update};

const ORIGIN: &str = "40010100";
const AS_PATH: &str = "400206 02010000fde9";
const NEXT_HOP: &str = "400304 c0000201";
const NLRI: &str = "180a0102";
/// MP_REACH_NLRI for IPv6 unicast, next hop 2001:db8::1, NLRI 2001:db8::/32.
const MP_REACH: &str = "800e1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8";
const MP_UNREACH: &str = "800f08 0002 01 20 20010db8";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).expect("hex")
}

/// An UPDATE message from hex withdrawn routes, attribute list and NLRI.
fn update(withdrawn: &str, attrs: &str, nlri: &str) -> Vec<u8> {
    let (w, a, n) = (h(withdrawn), h(attrs), h(nlri));
    let mut body = Vec::new();
    body.extend_from_slice(&u16::try_from(w.len()).expect("short").to_be_bytes());
    body.extend_from_slice(&w);
    body.extend_from_slice(&u16::try_from(a.len()).expect("short").to_be_bytes());
    body.extend_from_slice(&a);
    body.extend_from_slice(&n);
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&u16::try_from(19 + body.len()).expect("short").to_be_bytes());
    m.push(2);
    m.extend_from_slice(&body);
    m
}

/// Mandatory attributes plus `extra`, with IPv4 NLRI.
fn announce(extra: &str) -> Vec<u8> {
    update("", &format!("{ORIGIN} {AS_PATH} {NEXT_HOP} {extra}"), NLRI)
}

#[derive(Debug)]
enum Expect {
    /// The session stays up; these (type code, action) errors are reported, in order.
    Up(&'static [(u8, AttrAction)]),
    /// The session is reset with this NOTIFICATION (code 3).
    Reset { subcode: u8, data: &'static str },
}

use AttrAction::{Discard as D, TreatAsWithdraw as W};
use Expect::{Reset, Up};

struct Case {
    name: &'static str,
    four_octet: bool,
    bytes: Vec<u8>,
    expect: Expect,
}

fn case(name: &'static str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case {
        name,
        four_octet: true,
        bytes,
        expect,
    }
}

fn two_octet(mut c: Case) -> Case {
    c.four_octet = false;
    c
}

fn cases() -> Vec<Case> {
    vec![
        case("well-formed", announce(""), Up(&[])),
        case(
            "attributes without NLRI are fine",
            update("", ORIGIN, ""),
            Up(&[]),
        ),
        case(
            "MP_REACH alone needs no NEXT_HOP",
            update("", &format!("{MP_REACH} {ORIGIN} {AS_PATH}"), ""),
            Up(&[]),
        ),
        // RFC 7606 7.1 ORIGIN
        case(
            "ORIGIN undefined value",
            update("", &format!("40010105 {AS_PATH} {NEXT_HOP}"), NLRI),
            Up(&[(1, W)]),
        ),
        case(
            "ORIGIN length 2",
            update("", &format!("4001020000 {AS_PATH} {NEXT_HOP}"), NLRI),
            Up(&[(1, W)]),
        ),
        // RFC 7606 3 c: flags
        case(
            "ORIGIN flagged optional",
            update("", &format!("c0010100 {AS_PATH} {NEXT_HOP}"), NLRI),
            Up(&[(1, W)]),
        ),
        case(
            "well-known with Partial",
            update("", &format!("60010100 {AS_PATH} {NEXT_HOP}"), NLRI),
            Up(&[(1, W)]),
        ),
        case(
            "MED flagged well-known",
            announce("40040400000001"),
            Up(&[(4, W)]),
        ),
        // RFC 7606 7.2 AS_PATH
        case(
            "AS_PATH unknown segment type",
            update("", &format!("{ORIGIN} 40020605010000fde9 {NEXT_HOP}"), NLRI),
            Up(&[(2, W)]),
        ),
        case(
            "AS_PATH empty segment",
            update("", &format!("{ORIGIN} 4002020200 {NEXT_HOP}"), NLRI),
            Up(&[(2, W)]),
        ),
        case(
            "AS_PATH segment overruns",
            update("", &format!("{ORIGIN} 40020602020000fde9 {NEXT_HOP}"), NLRI),
            Up(&[(2, W)]),
        ),
        case(
            "AS_PATH lone trailing octet",
            update(
                "",
                &format!("{ORIGIN} 40020702010000fde902 {NEXT_HOP}"),
                NLRI,
            ),
            Up(&[(2, W)]),
        ),
        case(
            "2-octet AS_PATH on a 4-octet session",
            update("", &format!("{ORIGIN} 40020402 01fde9 {NEXT_HOP}"), NLRI),
            Up(&[(2, W)]),
        ),
        // RFC 7606 7.3-7.5, 7.9, RFC 9234
        case(
            "NEXT_HOP length 3",
            update("", &format!("{ORIGIN} {AS_PATH} 400303c00002"), NLRI),
            Up(&[(3, W)]),
        ),
        case("MED length 3", announce("800403000001"), Up(&[(4, W)])),
        case(
            "LOCAL_PREF length 5",
            announce("4005050000000001"),
            Up(&[(5, W)]),
        ),
        case(
            "ORIGINATOR_ID length 5",
            announce("800905c000020101"),
            Up(&[(9, W)]),
        ),
        case(
            "ONLY_TO_CUSTOMER length 2",
            announce("c0230200ff"),
            Up(&[(35, W)]),
        ),
        // RFC 7606 7.6, 7.7: attribute discard
        case(
            "ATOMIC_AGGREGATE length 1",
            announce("40060100"),
            Up(&[(6, D)]),
        ),
        case(
            "AGGREGATOR length 6 on a 4-octet session",
            announce("c00706fde9c0000201"),
            Up(&[(7, D)]),
        ),
        two_octet(case(
            "AGGREGATOR length 8 on a 2-octet session",
            update(
                "",
                &format!("{ORIGIN} 4002040201fde9 {NEXT_HOP} c007080000fde9c0000201"),
                NLRI,
            ),
            Up(&[(7, D)]),
        )),
        // RFC 7606 7.8, 7.10, 7.14; RFC 8092 6: lists
        case("COMMUNITIES empty", announce("c00800"), Up(&[(8, W)])),
        case(
            "COMMUNITIES length 5",
            announce("c00805ffffff0101"),
            Up(&[(8, W)]),
        ),
        case(
            "CLUSTER_LIST length 6",
            announce("800a06c0000201c000"),
            Up(&[(10, W)]),
        ),
        case(
            "EXTENDED_COMMUNITIES length 7",
            announce("c010070002fde8000000"),
            Up(&[(16, W)]),
        ),
        case(
            "LARGE_COMMUNITIES length 8",
            announce("c020080000fde900000001"),
            Up(&[(32, W)]),
        ),
        // RFC 7311 3.1: AIGP
        case(
            "AIGP TLV length 10",
            announce("801a0a 01000a 00000000000001"),
            Up(&[(26, D)]),
        ),
        // RFC 6793 6: AS4 attributes
        two_octet(case(
            "AS4_PATH malformed",
            update(
                "",
                &format!("{ORIGIN} 4002040201fde9 {NEXT_HOP} c0110602020000fde9"),
                NLRI,
            ),
            Up(&[(17, D)]),
        )),
        two_octet(case(
            "AS4_AGGREGATOR length 6",
            update(
                "",
                &format!("{ORIGIN} 4002040201fde9 {NEXT_HOP} c01206fde9c0000201"),
                NLRI,
            ),
            Up(&[(18, D)]),
        )),
        case(
            "AS4_PATH from a 4-octet speaker",
            announce("c0110602010000fde9"),
            Up(&[(17, D)]),
        ),
        // RFC 7606 3 g: duplicates
        case(
            "repeated COMMUNITIES",
            announce("c00804ffffff01 c00804ffffff02"),
            Up(&[(8, D)]),
        ),
        case(
            "repeated MP_REACH_NLRI",
            update("", &format!("{MP_REACH} {MP_REACH} {ORIGIN} {AS_PATH}"), ""),
            Reset {
                subcode: 1,
                data: "",
            },
        ),
        case(
            "repeated MP_UNREACH_NLRI",
            update("", &format!("{MP_UNREACH} {MP_UNREACH}"), ""),
            Reset {
                subcode: 1,
                data: "",
            },
        ),
        // RFC 7606 3 d: missing well-known
        case(
            "missing ORIGIN",
            update("", &format!("{AS_PATH} {NEXT_HOP}"), NLRI),
            Up(&[(1, W)]),
        ),
        case(
            "missing NEXT_HOP with IPv4 NLRI",
            update("", &format!("{ORIGIN} {AS_PATH}"), NLRI),
            Up(&[(3, W)]),
        ),
        case(
            "missing AS_PATH with MP_REACH",
            update("", &format!("{MP_REACH} {ORIGIN}"), ""),
            Up(&[(2, W)]),
        ),
        // RFC 7606 4: attribute lengths against the list
        case(
            "last attribute overruns the list",
            update(
                "",
                &format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0080affffff01"),
                NLRI,
            ),
            Up(&[(8, W)]),
        ),
        case(
            "two octets left over",
            update("", &format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c008"), NLRI),
            Up(&[(8, W)]),
        ),
        case(
            "one octet left over",
            update("", &format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0"), NLRI),
            Up(&[(0, W)]),
        ),
        case(
            "MP_REACH_NLRI overruns the list",
            update(
                "",
                "800e1f 0002 01 10 20010db8000000000000000000000001 00 20 20010db8",
                "",
            ),
            Reset {
                subcode: 5,
                data: "800e1f 0002 01 10 20010db8000000000000000000000001 00 20 20010db8",
            },
        ),
        // RFC 7606 7.11, 5.3: MP attributes whose NLRI cannot be found
        case(
            "MP_REACH next hop length 12",
            update(
                "",
                &format!(
                    "800e16 0002 01 0c 20010db80000000000000000 00 20 20010db8 {ORIGIN} {AS_PATH}"
                ),
                "",
            ),
            Reset {
                subcode: 9,
                data: "800e16 0002 01 0c 20010db80000000000000000 00 20 20010db8",
            },
        ),
        case(
            "MP_REACH NLRI prefix length 129",
            update(
                "",
                &format!(
                    "800e16 0002 01 10 20010db8000000000000000000000001 00 81 {ORIGIN} {AS_PATH}"
                ),
                "",
            ),
            Reset {
                subcode: 10,
                data: "",
            },
        ),
        case(
            "MP_UNREACH NLRI truncated",
            update("", "800f06 0002 01 40 2001", ""),
            Reset {
                subcode: 10,
                data: "",
            },
        ),
        case(
            "MP_REACH shorter than its fixed fields",
            update("", "800e02 0002", ""),
            Reset {
                subcode: 9,
                data: "800e02 0002",
            },
        ),
        case(
            "MP_REACH flagged transitive still locates its NLRI",
            update(
                "",
                &format!(
                    "c00e1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8 {ORIGIN} {AS_PATH}"
                ),
                "",
            ),
            Up(&[(14, W)]),
        ),
        // RFC 4271 6.3: unrecognized well-known
        case(
            "unrecognized well-known attribute",
            announce("406302abcd"),
            Reset {
                subcode: 2,
                data: "406302abcd",
            },
        ),
        case(
            "unrecognized optional attribute is carried",
            announce("c06302abcd"),
            Up(&[]),
        ),
        // RFC 4271 6.3 / RFC 7606 5.3: the fixed fields and NLRI
        case(
            "withdrawn routes length overruns",
            {
                let mut m = update("180a0102", "", "");
                m[20] = 0x40;
                m
            },
            Reset {
                subcode: 1,
                data: "",
            },
        ),
        case(
            "total attribute length overruns",
            {
                let mut m = announce("");
                m[22] = 0xff;
                m
            },
            Reset {
                subcode: 1,
                data: "",
            },
        ),
        case(
            "withdrawn prefix length 33",
            update("210a010203ff", "", ""),
            Reset {
                subcode: 10,
                data: "",
            },
        ),
        case(
            "NLRI prefix overruns",
            update("", &format!("{ORIGIN} {AS_PATH} {NEXT_HOP}"), "180a01"),
            Reset {
                subcode: 10,
                data: "",
            },
        ),
        // RFC 7606 3 j: several errors, the strongest action wins
        case(
            "discard and treat-as-withdraw together",
            announce("40060100 c00805ffffff0101"),
            Up(&[(6, D), (8, W)]),
        ),
    ]
}

#[test]
fn malformed_updates_get_the_rfc7606_outcome() {
    let mut failures = Vec::new();
    for c in cases() {
        let ctx = if c.four_octet {
            DecodeCtx::modern()
        } else {
            DecodeCtx::default()
        };
        let got = Message::decode(&c.bytes, &ctx);
        let ok = match (&c.expect, &got) {
            (Up(want), Ok(Message::Update(u))) => {
                let have: Vec<(u8, AttrAction)> =
                    u.errors.iter().map(|e| (e.type_code, e.action)).collect();
                let taw = want.iter().any(|(_, a)| *a == W);
                have == *want && u.treat_as_withdraw() == taw && discarded_are_gone(u)
            }
            (Reset { subcode, data }, Err(e)) => {
                let n = e.notification();
                (n.code, n.subcode, hex::encode(&n.data)) == (3, *subcode, hex::encode(h(data)))
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                c.name, c.expect, got
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// An attribute reported as discarded is not in the list, unless an earlier copy is.
fn discarded_are_gone(u: &Update) -> bool {
    u.errors.iter().filter(|e| e.action == D).all(|e| {
        let copies = u
            .attributes
            .iter()
            .filter(|a| a.type_code() == e.type_code)
            .count();
        copies == usize::from(e.kind == bgp_proto::attr::AttrErrorKind::Duplicate)
    })
}

#[test]
fn treat_as_withdraw_still_finds_every_route() {
    // A malformed COMMUNITIES: the IPv4 NLRI and the MP_REACH routes are all there, so
    // the caller can withdraw them.
    let bytes = update(
        "",
        &format!("{MP_REACH} {ORIGIN} {AS_PATH} {NEXT_HOP} c00805ffffff0101"),
        NLRI,
    );
    let Ok(Message::Update(u)) = Message::decode(&bytes, &DecodeCtx::modern()) else {
        panic!()
    };
    assert!(u.treat_as_withdraw());
    let routes: Vec<String> = u.announced().map(|(_, n)| n.prefix.to_string()).collect();
    assert_eq!(routes, ["10.1.2.0/24", "2001:db8::/32"]);

    // An overrun: the NLRI field is found from the Total Path Attribute Length.
    let bytes = update(
        "",
        &format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0080affffff01"),
        NLRI,
    );
    let Ok(Message::Update(u)) = Message::decode(&bytes, &DecodeCtx::modern()) else {
        panic!()
    };
    assert!(u.treat_as_withdraw());
    assert_eq!(u.nlri.len(), 1);
}

#[test]
fn errors_carry_offsets_and_rfc4271_notifications() {
    // ORIGIN starts right after the header and the two length fields: byte 23.
    let bytes = update("", &format!("40010105 {AS_PATH} {NEXT_HOP}"), NLRI);
    let Ok(Message::Update(u)) = Message::decode(&bytes, &DecodeCtx::modern()) else {
        panic!()
    };
    let e = &u.errors[0];
    assert_eq!((e.type_code, e.offset), (code::ORIGIN, 23));
    // What a speaker without RFC 7606 would send: Invalid ORIGIN with the attribute.
    let n = e.notification();
    assert_eq!((n.code, n.subcode, &n.data[..]), (3, 6, &h("40010105")[..]));
    assert_eq!(
        e.to_string(),
        "ORIGIN (1) at byte 23: undefined ORIGIN value 5; treat-as-withdraw"
    );

    // Missing well-known: the data is the type code.
    let bytes = update("", &format!("{ORIGIN} {NEXT_HOP}"), NLRI);
    let Ok(Message::Update(u)) = Message::decode(&bytes, &DecodeCtx::modern()) else {
        panic!()
    };
    let n = u.errors[0].notification();
    assert_eq!(
        (n.code, n.subcode, &n.data[..]),
        (3, 3, &[code::AS_PATH][..])
    );

    // Malformed AS_PATH: subcode 11.
    let bytes = update("", &format!("{ORIGIN} 4002020200 {NEXT_HOP}"), NLRI);
    let Ok(Message::Update(u)) = Message::decode(&bytes, &DecodeCtx::modern()) else {
        panic!()
    };
    assert_eq!(u.errors[0].notification().subcode, 11);

    // A session reset names the byte where the bad attribute starts.
    let bytes = update("", "406302abcd", "");
    let e = Message::decode(&bytes, &DecodeCtx::modern()).unwrap_err();
    assert_eq!(e.offset, 23);
}
