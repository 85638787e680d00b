//! proptest strategies for the OPEN side of the codec: capabilities, OPEN, ROUTE-REFRESH,
//! NOTIFICATION and KEEPALIVE, and byte strings framed like those messages.
//!
//! Every value these produce encodes, and decodes back to itself: `Capability::Unknown`
//! never uses a code this crate decodes, enums with an `Unknown`/`Other` escape are built
//! from their wire value, and [`open`] sets `extended_params` whenever the parameters
//! need the RFC 9072 form. Include with `mod strategies { pub(crate) mod open; }` or
//! `#[path = ".../tests/strategies/open.rs"] mod open;`; items stay `pub` so that any
//! includer can use them, and not every includer uses every strategy.

#![allow(dead_code, unreachable_pub)]

use std::net::Ipv4Addr;

use bgp_proto::capability::{
    AddPathFamily, AddPathMode, ExtendedNextHopEntry, Fqdn, GracefulRestart, GracefulRestartFamily,
    LlgrFamily, LongLivedGracefulRestart, Role, code,
};
use bgp_proto::route_refresh::RouteRefreshSubtype;
use bgp_proto::{
    Afi, Capability, DecodeCtx, Family, Message, Notification, Open, OptionalParam, RouteRefresh,
    Safi,
};
use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

/// Capability codes that decode to a typed variant.
pub const KNOWN_CODES: [u8; 11] = [
    code::MULTIPROTOCOL,
    code::ROUTE_REFRESH,
    code::EXTENDED_NEXT_HOP,
    code::EXTENDED_MESSAGE,
    code::ROLE,
    code::GRACEFUL_RESTART,
    code::FOUR_OCTET_AS,
    code::ADD_PATH,
    code::ENHANCED_ROUTE_REFRESH,
    code::LONG_LIVED_GRACEFUL_RESTART,
    code::FQDN,
];

/// The message types this side of the codec decodes (UPDATE is fuzzed by its own tests).
pub const OPEN_SIDE_TYPES: [u8; 4] = [1, 3, 4, 5];

/// Mostly the families seen in practice, sometimes anything.
pub fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        3 => prop::sample::select(vec![
            Family::IPV4_UNICAST,
            Family::IPV6_UNICAST,
            Family::new(Afi::IPV4, Safi::MULTICAST),
            Family::new(Afi(25), Safi(70)),
        ]),
        1 => (any::<u16>(), any::<u8>()).prop_map(|(a, s)| Family::new(Afi(a), Safi(s))),
    ]
}

/// Any capability this crate can encode.
pub fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        family().prop_map(Capability::Multiprotocol),
        Just(Capability::RouteRefresh),
        Just(Capability::EnhancedRouteRefresh),
        Just(Capability::ExtendedMessage),
        any::<u32>().prop_map(Capability::FourOctetAs),
        graceful_restart().prop_map(Capability::GracefulRestart),
        llgr().prop_map(Capability::LongLivedGracefulRestart),
        vec(add_path_family(), 0..8).prop_map(Capability::AddPath),
        vec(extended_next_hop_entry(), 0..8).prop_map(Capability::ExtendedNextHop),
        fqdn().prop_map(Capability::Fqdn),
        any::<u8>().prop_map(|v| Capability::Role(Role::from_u8(v))),
        unknown_capability(),
    ]
}

/// A capability with a code this crate does not decode, value up to 48 bytes.
pub fn unknown_capability() -> impl Strategy<Value = Capability> {
    let codes: Vec<u8> = (0..=u8::MAX).filter(|c| !KNOWN_CODES.contains(c)).collect();
    (prop::sample::select(codes), vec(any::<u8>(), 0..48)).prop_map(|(code, value)| {
        Capability::Unknown {
            code,
            value: Bytes::from(value),
        }
    })
}

/// Graceful Restart with a 12-bit restart time.
pub fn graceful_restart() -> impl Strategy<Value = GracefulRestart> {
    (
        any::<bool>(),
        any::<bool>(),
        0..=4095u16,
        vec(
            (family(), any::<bool>()).prop_map(|(family, forwarding_state)| {
                GracefulRestartFamily {
                    family,
                    forwarding_state,
                }
            }),
            0..8,
        ),
    )
        .prop_map(
            |(restart_state, notification, restart_time, families)| GracefulRestart {
                restart_state,
                notification,
                restart_time,
                families,
            },
        )
}

/// Long-Lived Graceful Restart with 24-bit stale times.
pub fn llgr() -> impl Strategy<Value = LongLivedGracefulRestart> {
    vec(
        (family(), any::<bool>(), 0..=0x00ff_ffffu32).prop_map(
            |(family, forwarding_state, stale_time)| LlgrFamily {
                family,
                forwarding_state,
                stale_time,
            },
        ),
        0..8,
    )
    .prop_map(|families| LongLivedGracefulRestart { families })
}

/// One ADD-PATH family.
pub fn add_path_family() -> impl Strategy<Value = AddPathFamily> {
    (
        family(),
        prop::sample::select(vec![
            AddPathMode::Receive,
            AddPathMode::Send,
            AddPathMode::Both,
        ]),
    )
        .prop_map(|(family, mode)| AddPathFamily { family, mode })
}

/// One Extended Next Hop tuple, SAFI over the full 16 bits.
pub fn extended_next_hop_entry() -> impl Strategy<Value = ExtendedNextHopEntry> {
    (any::<u16>(), any::<u16>(), any::<u16>()).prop_map(|(a, s, n)| ExtendedNextHopEntry {
        nlri_afi: Afi(a),
        nlri_safi: s,
        next_hop_afi: Afi(n),
    })
}

/// Host and domain names of up to 12 characters each, any Unicode.
pub fn fqdn() -> impl Strategy<Value = Fqdn> {
    (".{0,12}", ".{0,12}").prop_map(|(hostname, domain)| Fqdn { hostname, domain })
}

/// An OPEN that encodes, with capabilities grouped into up to 4 parameters. Fits 4,096
/// bytes; `extended_params` is set when the parameters need the RFC 9072 form.
pub fn open() -> impl Strategy<Value = Open> {
    (
        any::<u16>(),
        prop_oneof![Just(0u16), 3..=u16::MAX],
        (1..=u32::MAX).prop_map(Ipv4Addr::from),
        vec(
            vec(capability(), 0..6).prop_map(OptionalParam::Capabilities),
            0..4,
        ),
        any::<bool>(),
    )
        .prop_map(|(my_as, hold_time, bgp_id, params, extended_params)| {
            let mut open = Open {
                my_as,
                hold_time,
                bgp_id,
                params,
                extended_params,
            };
            open.extended_params = open.uses_extended_params();
            open
        })
}

/// A ROUTE-REFRESH with any family and subtype.
pub fn route_refresh() -> impl Strategy<Value = RouteRefresh> {
    (family(), any::<u8>()).prop_map(|(family, subtype)| RouteRefresh {
        family,
        subtype: RouteRefreshSubtype::from_u8(subtype),
    })
}

/// A NOTIFICATION with any code and subcode and up to 64 bytes of data.
pub fn notification() -> impl Strategy<Value = Notification> {
    (any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..64)).prop_map(|(code, subcode, data)| {
        Notification {
            code,
            subcode,
            data: Bytes::from(data),
        }
    })
}

/// Any message of the kinds this side of the codec owns.
pub fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        open().prop_map(Message::Open),
        route_refresh().prop_map(Message::RouteRefresh),
        notification().prop_map(Message::Notification),
        Just(Message::Keepalive),
    ]
}

/// Either session context, with or without the extended message capability.
pub fn decode_ctx() -> impl Strategy<Value = DecodeCtx> {
    any::<bool>().prop_map(|extended_message| DecodeCtx {
        extended_message,
        ..DecodeCtx::modern()
    })
}

/// A valid header (marker, length matching the body, a type this side decodes) followed
/// by an arbitrary body, so that fuzzing reaches the body decoders.
pub fn framed_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(OPEN_SIDE_TYPES.to_vec()),
        vec(any::<u8>(), 0..300),
    )
        .prop_map(|(kind, body)| frame(kind, &body))
}

/// An encoded OPEN with up to 4 bytes overwritten and possibly cut short, its header
/// length kept consistent so that the OPEN decoder sees the damage.
pub fn damaged_open() -> impl Strategy<Value = Vec<u8>> {
    (
        open(),
        vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(open, edits, cut, do_cut)| {
            let bytes = Message::Open(open)
                .to_bytes(&bgp_proto::EncodeCtx::default())
                .expect("strategy opens encode");
            let mut body = bytes[19..].to_vec();
            for (at, value) in edits {
                let i = at.index(body.len());
                body[i] = value;
            }
            if do_cut {
                body.truncate(cut.index(body.len() + 1));
            }
            frame(1, &body)
        })
}

/// Wraps `body` in a header of type `kind`.
pub fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xff; 16];
    let len = u16::try_from(19 + body.len()).expect("test bodies fit 65535 bytes");
    out.extend_from_slice(&len.to_be_bytes());
    out.push(kind);
    out.extend_from_slice(body);
    out
}
