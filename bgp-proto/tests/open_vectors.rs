//! Byte vectors for OPEN (every capability, both optional parameter forms), ROUTE-REFRESH,
//! KEEPALIVE and NOTIFICATION, in both directions: the bytes and the value they stand for
//! side by side, checked through `Message::decode` and `Message::encode`. Then the OPENs
//! and other non-UPDATE messages captured from BIRD, FRR and GoBGP, and a table of
//! malformed messages with the NOTIFICATION each must produce.

use std::net::Ipv4Addr;

use bgp_proto::capability::{
    AddPathFamily, AddPathMode, ExtendedNextHopEntry, Fqdn, GracefulRestart, GracefulRestartFamily,
    LlgrFamily, LongLivedGracefulRestart, Role,
};
use bgp_proto::route_refresh::RouteRefreshSubtype;
use bgp_proto::{
    Afi, Capability, DecodeCtx, EncodeCtx, Family, Message, Notification, Open, OptionalParam,
    RouteRefresh, Safi,
};
use bytes::Bytes;

const V4: Family = Family::IPV4_UNICAST;
const V6: Family = Family::IPV6_UNICAST;

/// Hex with any whitespace, to bytes.
fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).expect("valid hex in test vector")
}

/// Marker, length and type in front of `body`.
fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xff; 16];
    out.extend_from_slice(
        &u16::try_from(19 + body.len())
            .expect("short test body")
            .to_be_bytes(),
    );
    out.push(kind);
    out.extend_from_slice(body);
    out
}

/// Decodes `bytes` and compares with `expected`, then encodes `expected` and compares
/// with `bytes`.
fn both_ways(bytes: &[u8], expected: &Message) {
    let decoded = Message::decode(bytes, &DecodeCtx::default()).expect("vector decodes");
    assert_eq!(&decoded, expected, "decoding {}", hex::encode(bytes));
    let encoded = expected
        .to_bytes(&EncodeCtx::default())
        .expect("vector encodes");
    assert_eq!(
        hex::encode(&encoded),
        hex::encode(bytes),
        "encoding {expected:?}"
    );
}

fn caps_open(my_as: u16, hold_time: u16, id: [u8; 4], params: Vec<Vec<Capability>>) -> Open {
    Open {
        my_as,
        hold_time,
        bgp_id: Ipv4Addr::from(id),
        params: params
            .into_iter()
            .map(OptionalParam::Capabilities)
            .collect(),
        extended_params: false,
    }
}

fn gr_family(family: Family, forwarding_state: bool) -> GracefulRestartFamily {
    GracefulRestartFamily {
        family,
        forwarding_state,
    }
}

fn llgr_family(family: Family, forwarding_state: bool, stale_time: u32) -> LlgrFamily {
    LlgrFamily {
        family,
        forwarding_state,
        stale_time,
    }
}

fn add_path(family: Family, mode: AddPathMode) -> AddPathFamily {
    AddPathFamily { family, mode }
}

// --- OPEN without parameters, and the convenience constructor -----------------------

#[test]
fn open_without_parameters() {
    let bytes = h("ffffffffffffffffffffffffffffffff 001d 01
                   04 fde9 00b4 c0000201 00");
    let open = caps_open(65001, 180, [192, 0, 2, 1], vec![]);
    both_ways(&bytes, &Message::Open(open.clone()));
    assert_eq!(open.asn(), 65001);
    assert_eq!(open.capabilities().count(), 0);
}

#[test]
fn open_new_puts_as_trans_in_my_as_and_the_asn_in_the_capability() {
    let open = Open::new(
        4_200_000_001,
        90,
        Ipv4Addr::new(192, 0, 2, 1),
        vec![Capability::Multiprotocol(V4)],
    );
    let bytes = frame(
        1,
        &h("04 5ba0 005a c0000201 0e
                             02 0c  01 04 0001 00 01  41 04 fa56ea01"),
    );
    both_ways(&bytes, &Message::Open(open.clone()));
    assert_eq!(open.my_as, 23456);
    assert_eq!(open.asn(), 4_200_000_001);
}

// --- every capability, alone in one Capabilities parameter ---------------------------

/// An OPEN from AS 65001, hold time 90, id 10.0.0.1, with `tlv` as its only capability.
fn single_capability_open(tlv: &[u8]) -> Vec<u8> {
    let mut body = h("04 fde9 005a 0a000001");
    body.push(u8::try_from(tlv.len() + 2).expect("short test capability"));
    body.push(2);
    body.push(u8::try_from(tlv.len()).expect("short test capability"));
    body.extend_from_slice(tlv);
    frame(1, &body)
}

fn capability_both_ways(tlv_hex: &str, cap: Capability) {
    let bytes = single_capability_open(&h(tlv_hex));
    let open = caps_open(65001, 90, [10, 0, 0, 1], vec![vec![cap]]);
    both_ways(&bytes, &Message::Open(open));
}

#[test]
fn multiprotocol_capability() {
    // RFC 4760 section 8: AFI (2), Reserved (1), SAFI (1).
    capability_both_ways("01 04 0001 00 01", Capability::Multiprotocol(V4));
    capability_both_ways("01 04 0002 00 01", Capability::Multiprotocol(V6));
    capability_both_ways(
        "01 04 0019 00 46",
        Capability::Multiprotocol(Family::new(Afi(25), Safi(70))),
    );
}

#[test]
fn route_refresh_and_enhanced_route_refresh_capabilities() {
    capability_both_ways("02 00", Capability::RouteRefresh);
    capability_both_ways("46 00", Capability::EnhancedRouteRefresh);
}

#[test]
fn four_octet_as_capability() {
    capability_both_ways("41 04 fa56ea01", Capability::FourOctetAs(4_200_000_001));
    capability_both_ways("41 04 0000fde9", Capability::FourOctetAs(65001));
}

#[test]
fn graceful_restart_capability() {
    // Restart flags R and N (RFC 8538), restart time 120, IPv4 unicast with F set.
    capability_both_ways(
        "40 06 c078 0001 01 80",
        Capability::GracefulRestart(GracefulRestart {
            restart_state: true,
            notification: true,
            restart_time: 120,
            families: vec![gr_family(V4, true)],
        }),
    );
    // Only N, maximum 12-bit restart time, two families without F.
    capability_both_ways(
        "40 0a 4fff 0001 01 00 0002 01 00",
        Capability::GracefulRestart(GracefulRestart {
            restart_state: false,
            notification: true,
            restart_time: 4095,
            families: vec![gr_family(V4, false), gr_family(V6, false)],
        }),
    );
    // Helper-only speaker: flags and time, no families.
    capability_both_ways(
        "40 02 0000",
        Capability::GracefulRestart(GracefulRestart::default()),
    );
}

#[test]
fn long_lived_graceful_restart_capability() {
    // RFC 9494: AFI, SAFI, flags (F = 0x80), 24-bit stale time.
    capability_both_ways(
        "47 0e 0001 01 80 000e10 0002 01 00 ffffff",
        Capability::LongLivedGracefulRestart(LongLivedGracefulRestart {
            families: vec![
                llgr_family(V4, true, 3600),
                llgr_family(V6, false, 0xff_ffff),
            ],
        }),
    );
    capability_both_ways(
        "47 00",
        Capability::LongLivedGracefulRestart(LongLivedGracefulRestart::default()),
    );
}

#[test]
fn add_path_capability() {
    // RFC 7911: Send/Receive 1 = receive, 2 = send, 3 = both.
    capability_both_ways(
        "45 0c 0001 01 01 0002 01 02 0001 02 03",
        Capability::AddPath(vec![
            add_path(V4, AddPathMode::Receive),
            add_path(V6, AddPathMode::Send),
            add_path(Family::new(Afi::IPV4, Safi::MULTICAST), AddPathMode::Both),
        ]),
    );
}

#[test]
fn extended_next_hop_capability() {
    // RFC 8950: NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2). IPv4 unicast and IPv4 VPN
    // (SAFI 128) over IPv6.
    capability_both_ways(
        "05 0c 0001 0001 0002 0001 0080 0002",
        Capability::ExtendedNextHop(vec![
            ExtendedNextHopEntry::ipv4_over_ipv6(Safi::UNICAST),
            ExtendedNextHopEntry {
                nlri_afi: Afi::IPV4,
                nlri_safi: 128,
                next_hop_afi: Afi::IPV6,
            },
        ]),
    );
    // A SAFI that needs all 16 bits is kept, and has no 8-bit family.
    let wide = ExtendedNextHopEntry {
        nlri_afi: Afi::IPV4,
        nlri_safi: 0x0101,
        next_hop_afi: Afi::IPV6,
    };
    capability_both_ways(
        "05 06 0001 0101 0002",
        Capability::ExtendedNextHop(vec![wide]),
    );
    assert_eq!(wide.family(), None);
}

#[test]
fn extended_message_capability() {
    capability_both_ways("06 00", Capability::ExtendedMessage);
}

#[test]
fn fqdn_capability() {
    capability_both_ways(
        "49 0f 02 7231 0b 6578616d706c652e6e6574",
        Capability::Fqdn(Fqdn {
            hostname: "r1".into(),
            domain: "example.net".into(),
        }),
    );
    capability_both_ways("49 02 00 00", Capability::Fqdn(Fqdn::default()));
}

#[test]
fn role_capability_every_value() {
    for (value, role) in [
        (0u8, Role::Provider),
        (1, Role::RouteServer),
        (2, Role::RouteServerClient),
        (3, Role::Customer),
        (4, Role::Peer),
        (5, Role::Unknown(5)),
        (255, Role::Unknown(255)),
    ] {
        capability_both_ways(&format!("09 01 {value:02x}"), Capability::Role(role));
    }
}

#[test]
fn unknown_capabilities_are_kept_raw() {
    // Pre-standard Cisco route refresh.
    capability_both_ways(
        "80 00",
        Capability::Unknown {
            code: 128,
            value: Bytes::new(),
        },
    );
    // Outbound route filtering (RFC 5291), not decoded by this crate.
    capability_both_ways(
        "03 05 0001 01 01 40",
        Capability::Unknown {
            code: 3,
            value: Bytes::from_static(&[0, 1, 1, 1, 0x40]),
        },
    );
    // RFC 7911: a Send/Receive value outside 1..=3 makes ADD-PATH "not understood".
    capability_both_ways(
        "45 04 0001 01 04",
        Capability::Unknown {
            code: 69,
            value: Bytes::from_static(&[0, 1, 1, 4]),
        },
    );
    // FQDN whose host name is not UTF-8.
    capability_both_ways(
        "49 03 01 ff 00",
        Capability::Unknown {
            code: 73,
            value: Bytes::from_static(&[1, 0xff, 0]),
        },
    );
}

#[test]
fn reserved_bits_are_ignored_on_receipt_and_sent_as_zero() {
    // MP reserved octet 0xaa; GR reserved restart-flag bits and per-family bits.
    let bytes = single_capability_open(&h("01 04 0001 aa 01  40 06 3078 0001 01 7f"));
    let expected = caps_open(
        65001,
        90,
        [10, 0, 0, 1],
        vec![vec![
            Capability::Multiprotocol(V4),
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: vec![gr_family(V4, false)],
            }),
        ]],
    );
    let Message::Open(open) = Message::decode(&bytes, &DecodeCtx::default()).unwrap() else {
        panic!("not an OPEN");
    };
    assert_eq!(open, expected);
    let again = Message::Open(open).to_bytes(&EncodeCtx::default()).unwrap();
    assert_eq!(
        hex::encode(&again),
        hex::encode(single_capability_open(&h(
            "01 04 0001 00 01  40 06 0078 0001 01 00"
        )))
    );
}

// --- parameter grouping and the RFC 9072 extended form --------------------------------

#[test]
fn one_parameter_per_capability_is_kept_apart() {
    let bytes = frame(
        1,
        &h("04 fde9 005a 0a000001 0e
                             02 06 01 04 0001 00 01
                             02 02 02 00
                             02 00"),
    );
    let open = caps_open(
        65001,
        90,
        [10, 0, 0, 1],
        vec![
            vec![Capability::Multiprotocol(V4)],
            vec![Capability::RouteRefresh],
            vec![],
        ],
    );
    both_ways(&bytes, &Message::Open(open.clone()));
    assert_eq!(
        open.capabilities().collect::<Vec<_>>(),
        [&Capability::Multiprotocol(V4), &Capability::RouteRefresh]
    );
}

#[test]
fn rfc9072_extended_form_with_short_parameters() {
    // RFC 9072 section 2: a receiver MUST accept the extended encoding even when the
    // parameters would fit 255 bytes. Non-Ext OP Len 255, Non-Ext OP Type 255, Extended
    // Opt. Parm. Length 9, then a parameter with a 2-byte length.
    let bytes = frame(
        1,
        &h("04 5ba0 00b4 c0000201  ff ff 0009  02 0006 41 04 fa56ea01"),
    );
    let open = Open {
        extended_params: true,
        ..caps_open(
            23456,
            180,
            [192, 0, 2, 1],
            vec![vec![Capability::FourOctetAs(4_200_000_001)]],
        )
    };
    both_ways(&bytes, &Message::Open(open.clone()));
    // The same OPEN without the flag goes out in the classic form.
    let classic = Open {
        extended_params: false,
        ..open
    };
    both_ways(
        &frame(1, &h("04 5ba0 00b4 c0000201  08  02 06 41 04 fa56ea01")),
        &Message::Open(classic),
    );
}

#[test]
fn rfc9072_extended_form_is_used_when_a_parameter_exceeds_255_bytes() {
    // One parameter holding a 253-byte unknown capability and route refresh: 257 bytes.
    let bytes = frame(
        1,
        &h(&format!(
            "04 fde9 005a 0a000001  ff ff 0104  02 0101  c8 fd {}  02 00",
            "ab".repeat(253)
        )),
    );
    let caps = vec![
        Capability::Unknown {
            code: 200,
            value: Bytes::from(vec![0xab; 253]),
        },
        Capability::RouteRefresh,
    ];
    let open = Open {
        extended_params: true,
        ..caps_open(65001, 90, [10, 0, 0, 1], vec![caps])
    };
    both_ways(&bytes, &Message::Open(open.clone()));
    // Not asking for it gives the same bytes: the classic form cannot carry it.
    let unasked = Open {
        extended_params: false,
        ..open
    };
    assert!(unasked.uses_extended_params());
    assert_eq!(encode_open(unasked), bytes);
}

#[test]
fn rfc9072_non_ext_op_len_is_ignored_once_the_type_says_extended() {
    // RFC 9072 section 2: Non-Ext OP Len "MUST be ignored on receipt" once Non-Ext OP Type
    // is 255. Here it is 1; we decode the extended form and send 255 ourselves.
    let bytes = frame(1, &h("04 fde9 005a 0a000001  01 ff 0005  02 0002 02 00"));
    let expected = Open {
        extended_params: true,
        ..caps_open(
            65001,
            90,
            [10, 0, 0, 1],
            vec![vec![Capability::RouteRefresh]],
        )
    };
    assert_eq!(
        Message::decode(&bytes, &DecodeCtx::default()),
        Ok(Message::Open(expected.clone()))
    );
    let mut normalised = bytes.clone();
    normalised[28] = 0xff;
    assert_eq!(encode_open(expected), normalised);
}

fn encode_open(open: Open) -> Vec<u8> {
    Message::Open(open)
        .to_bytes(&EncodeCtx::default())
        .expect("test OPEN encodes")
        .to_vec()
}

// --- OPENs captured from BIRD 2.0.12, FRR 8.4.4 and GoBGP 3.10.0 ----------------------

#[test]
fn bird_open_all_capabilities_in_one_parameter() {
    // tests/fixtures/bird-frr-v4.bgp.txt, first line.
    let bytes = h("ffffffffffffffffffffffffffffffff 0060 01
        04 5ba0 0009 0aff0101 43 02 41
        01 04 0001 00 01   01 04 0002 00 01   02 00   06 00   09 01 03
        40 0a 0078 0001 01 00 0002 01 00
        41 04 fa56ea01
        45 08 0001 01 03 0002 01 03
        46 00
        47 0e 0001 01 00 000e10 0002 01 00 000e10");
    let open = caps_open(
        23456,
        9,
        [10, 255, 1, 1],
        vec![vec![
            Capability::Multiprotocol(V4),
            Capability::Multiprotocol(V6),
            Capability::RouteRefresh,
            Capability::ExtendedMessage,
            Capability::Role(Role::Customer),
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: vec![gr_family(V4, false), gr_family(V6, false)],
            }),
            Capability::FourOctetAs(4_200_000_001),
            Capability::AddPath(vec![
                add_path(V4, AddPathMode::Both),
                add_path(V6, AddPathMode::Both),
            ]),
            Capability::EnhancedRouteRefresh,
            Capability::LongLivedGracefulRestart(LongLivedGracefulRestart {
                families: vec![llgr_family(V4, false, 3600), llgr_family(V6, false, 3600)],
            }),
        ]],
    );
    both_ways(&bytes, &Message::Open(open.clone()));
    assert_eq!(open.asn(), 4_200_000_001);
}

#[test]
fn frr_open_one_capability_per_parameter() {
    // tests/fixtures/bird-frr-v4.bgp.txt, second line.
    let bytes = h("ffffffffffffffffffffffffffffffff 008b 01
        04 5ba0 0009 0aff0102 6e
        02 06 01 04 0001 00 01
        02 06 01 04 0002 00 01
        02 02 80 00
        02 02 02 00
        02 02 46 00
        02 06 41 04 fa56ea02
        02 02 06 00
        02 03 09 01 00
        02 0a 45 08 0001 01 03 0002 01 03
        02 13 49 11 0f 6672722d626972642d6672722d7634 00
        02 0c 40 0a c078 0001 01 00 0002 01 00
        02 10 47 0e 0001 01 80 000000 0002 01 80 000000");
    let open = caps_open(
        23456,
        9,
        [10, 255, 1, 2],
        vec![
            vec![Capability::Multiprotocol(V4)],
            vec![Capability::Multiprotocol(V6)],
            vec![Capability::Unknown {
                code: 128,
                value: Bytes::new(),
            }],
            vec![Capability::RouteRefresh],
            vec![Capability::EnhancedRouteRefresh],
            vec![Capability::FourOctetAs(4_200_000_002)],
            vec![Capability::ExtendedMessage],
            vec![Capability::Role(Role::Provider)],
            vec![Capability::AddPath(vec![
                add_path(V4, AddPathMode::Both),
                add_path(V6, AddPathMode::Both),
            ])],
            vec![Capability::Fqdn(Fqdn {
                hostname: "frr-bird-frr-v4".into(),
                domain: String::new(),
            })],
            vec![Capability::GracefulRestart(GracefulRestart {
                restart_state: true,
                notification: true,
                restart_time: 120,
                families: vec![gr_family(V4, false), gr_family(V6, false)],
            })],
            vec![Capability::LongLivedGracefulRestart(
                LongLivedGracefulRestart {
                    families: vec![llgr_family(V4, true, 0), llgr_family(V6, true, 0)],
                },
            )],
        ],
    );
    both_ways(&bytes, &Message::Open(open.clone()));
    assert_eq!(open.params.len(), 12);
    assert_eq!(open.capabilities().count(), 12);
}

#[test]
fn gobgp_open_with_fqdn_first_and_extended_next_hop() {
    // tests/fixtures/bird-gobgp-v4.bgp.txt, GoBGP's OPEN.
    let bytes = h("ffffffffffffffffffffffffffffffff 0078 01
        04 5ba0 0009 0aff0302 5b 02 59
        02 00
        49 15 13 676f6267702d626972642d676f6267702d7634 00
        01 04 0001 00 01   01 04 0002 00 01
        41 04 fa56ea03
        40 0a 003c 0001 01 00 0002 01 00
        47 0e 0001 01 00 000078 0002 01 00 000078
        05 06 0001 0001 0002
        45 08 0001 01 03 0002 01 03");
    let open = caps_open(
        23456,
        9,
        [10, 255, 3, 2],
        vec![vec![
            Capability::RouteRefresh,
            Capability::Fqdn(Fqdn {
                hostname: "gobgp-bird-gobgp-v4".into(),
                domain: String::new(),
            }),
            Capability::Multiprotocol(V4),
            Capability::Multiprotocol(V6),
            Capability::FourOctetAs(4_200_000_003),
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 60,
                families: vec![gr_family(V4, false), gr_family(V6, false)],
            }),
            Capability::LongLivedGracefulRestart(LongLivedGracefulRestart {
                families: vec![llgr_family(V4, false, 120), llgr_family(V6, false, 120)],
            }),
            Capability::ExtendedNextHop(vec![ExtendedNextHopEntry::ipv4_over_ipv6(Safi::UNICAST)]),
            Capability::AddPath(vec![
                add_path(V4, AddPathMode::Both),
                add_path(V6, AddPathMode::Both),
            ]),
        ]],
    );
    both_ways(&bytes, &Message::Open(open));
}

// --- ROUTE-REFRESH, KEEPALIVE, NOTIFICATION -------------------------------------------

#[test]
fn route_refresh_subtypes() {
    for (hex_msg, family, subtype) in [
        // From the captures: normal, BoRR and EoRR (RFC 7313).
        (
            "ffffffffffffffffffffffffffffffff 0017 05 0001 00 01",
            V4,
            RouteRefreshSubtype::Normal,
        ),
        (
            "ffffffffffffffffffffffffffffffff 0017 05 0001 01 01",
            V4,
            RouteRefreshSubtype::BeginningOfRefresh,
        ),
        (
            "ffffffffffffffffffffffffffffffff 0017 05 0002 02 01",
            V6,
            RouteRefreshSubtype::EndOfRefresh,
        ),
        // A subtype RFC 7313 does not define is kept (the daemon ignores the message).
        (
            "ffffffffffffffffffffffffffffffff 0017 05 0001 80 01",
            V4,
            RouteRefreshSubtype::Other(128),
        ),
    ] {
        both_ways(
            &h(hex_msg),
            &Message::RouteRefresh(RouteRefresh { family, subtype }),
        );
    }
    assert_eq!(RouteRefresh::new(V6).subtype, RouteRefreshSubtype::Normal);
}

#[test]
fn keepalive() {
    both_ways(
        &h("ffffffffffffffffffffffffffffffff 0013 04"),
        &Message::Keepalive,
    );
}

#[test]
fn notifications() {
    // Cease / Administrative Shutdown with an RFC 9003 message, from the captures.
    let bytes = h("ffffffffffffffffffffffffffffffff 0031 03
                   06 02 1b 70657472656c2066697874757265206361707475726520646f6e65");
    let n = Notification::admin(2, "petrel fixture capture done").unwrap();
    both_ways(&bytes, &Message::Notification(n.clone()));
    assert_eq!(n.shutdown_message(), Some("petrel fixture capture done"));
    // What we send for an OPEN with version 3.
    let bytes = h("ffffffffffffffffffffffffffffffff 0017 03 02 01 0004");
    let n = Notification {
        code: 2,
        subcode: 1,
        data: Bytes::from_static(&[0, 4]),
    };
    both_ways(&bytes, &Message::Notification(n));
    // Hold Timer Expired, no data.
    let bytes = h("ffffffffffffffffffffffffffffffff 0015 03 04 00");
    both_ways(
        &bytes,
        &Message::Notification(Notification {
            code: 4,
            subcode: 0,
            data: Bytes::new(),
        }),
    );
}

// --- malformed messages and their NOTIFICATIONs ---------------------------------------

/// The NOTIFICATION data a malformed message must produce.
enum Data {
    Hex(&'static str),
    /// The complete message, header included (ROUTE-REFRESH, RFC 7313 section 5).
    WholeMessage,
}

/// Name, message, error offset, NOTIFICATION code and subcode, NOTIFICATION data.
type Case = (&'static str, Vec<u8>, usize, (u8, u8), Data);

/// An OPEN body from AS 65001, hold 90, id 10.0.0.1, followed by `rest` (parameters
/// length and parameters).
fn open_with(rest: &str) -> Vec<u8> {
    frame(1, &h(&format!("04 fde9 005a 0a000001 {rest}")))
}

#[test]
fn malformed_messages_map_to_the_rfc_notifications() {
    #[rustfmt::skip]
    let table: Vec<Case> = vec![
        // RFC 4271 section 6.2, with the data it prescribes.
        ("version 3", frame(1, &h("03 fde9 005a 0a000001 00")), 19, (2, 1), Data::Hex("0004")),
        ("hold time 1", frame(1, &h("04 fde9 0001 0a000001 00")), 22, (2, 6), Data::Hex("")),
        ("hold time 2", frame(1, &h("04 fde9 0002 0a000001 00")), 22, (2, 6), Data::Hex("")),
        ("BGP id 0.0.0.0", frame(1, &h("04 fde9 005a 00000000 00")), 24, (2, 3), Data::Hex("")),
        ("authentication parameter", open_with("04 01 02 aabb"), 29, (2, 4), Data::Hex("")),
        ("type 255 after the first parameter", open_with("04 02 00 ff 00"), 31, (2, 4), Data::Hex("")),
        // Lengths that do not add up: RFC 4271 and RFC 9072 name no subcode; Unspecific.
        ("params length past the message", open_with("05 02 02 0200"), 28, (2, 0), Data::Hex("")),
        ("bytes after the params", open_with("03 02 02 0200"), 28, (2, 0), Data::Hex("")),
        ("parameter length past the end", open_with("04 02 05 0200"), 29, (2, 0), Data::Hex("")),
        ("capability length past the parameter", open_with("04 02 02 4104"), 31, (2, 0), Data::Hex("")),
        ("extended: length field cut short", open_with("ff ff 00"), 29, (2, 0), Data::Hex("")),
        ("extended: length disagrees", open_with("ff ff 0009 02 0006 4104fa56ea01 00"), 30, (2, 0), Data::Hex("")),
        ("extended: parameter past the end", open_with("ff ff 0005 02 0005 0200"), 32, (2, 0), Data::Hex("")),
        ("extended: type 255 later", open_with("ff ff 0006 02 0000 ff 0000"), 35, (2, 4), Data::Hex("")),
        // Known capabilities with bad values: recognised but malformed, Unspecific.
        ("MP length 3", open_with("07 02 05 01 03 000100"), 31, (2, 0), Data::Hex("")),
        ("route refresh length 1", open_with("05 02 03 02 01 00"), 31, (2, 0), Data::Hex("")),
        ("enhanced route refresh length 1", open_with("05 02 03 46 01 00"), 31, (2, 0), Data::Hex("")),
        ("extended message length 1", open_with("05 02 03 06 01 00"), 31, (2, 0), Data::Hex("")),
        ("4-octet AS length 2", open_with("06 02 04 41 02 fde9"), 31, (2, 0), Data::Hex("")),
        ("GR shorter than its header", open_with("05 02 03 40 01 00"), 31, (2, 0), Data::Hex("")),
        ("GR ragged family tuple", open_with("09 02 07 40 05 0078 000101"), 31, (2, 0), Data::Hex("")),
        ("LLGR ragged family tuple", open_with("0a 02 08 47 06 0001 01 80 0e10"), 31, (2, 0), Data::Hex("")),
        ("ADD-PATH ragged tuple", open_with("07 02 05 45 03 000101"), 31, (2, 0), Data::Hex("")),
        ("extended next hop ragged tuple", open_with("08 02 06 05 04 00010001"), 31, (2, 0), Data::Hex("")),
        ("role length 0", open_with("04 02 02 09 00"), 31, (2, 0), Data::Hex("")),
        ("role length 2", open_with("06 02 04 09 02 0300"), 31, (2, 0), Data::Hex("")),
        ("FQDN without domain length", open_with("07 02 05 49 03 02 7231"), 31, (2, 0), Data::Hex("")),
        ("FQDN domain past the end", open_with("08 02 06 49 04 02 7231 05"), 31, (2, 0), Data::Hex("")),
        // The header check: an OPEN shorter than 29 bytes.
        ("OPEN of 28 bytes", frame(1, &h("04 fde9 005a 0a000001")[..9]), 16, (1, 2), Data::Hex("001c")),
        // RFC 7313 section 5: body not 4 bytes, data is the whole message.
        ("ROUTE-REFRESH of 5 bytes", frame(5, &h("0001 00 01 00")), 16, (7, 1), Data::WholeMessage),
        ("BoRR of 8 bytes", frame(5, &h("0001 01 01 deadbeef")), 16, (7, 1), Data::WholeMessage),
    ];
    for (name, bytes, offset, (code, subcode), data) in table {
        let err =
            Message::decode(&bytes, &DecodeCtx::default()).expect_err(&format!("{name}: decoded"));
        let n = err.notification();
        let data = match data {
            Data::Hex(s) => h(s),
            Data::WholeMessage => bytes.clone(),
        };
        assert_eq!(
            (n.code, n.subcode, hex::encode(&n.data)),
            (code, subcode, hex::encode(&data)),
            "{name}: {err}"
        );
        assert_eq!(err.offset, offset, "{name}: {err}");
    }
}
