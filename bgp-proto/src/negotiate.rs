//! What a session runs with, derived from the OPEN we sent and the OPEN we received.
//!
//! ```text
//!   local OPEN ──┐
//!                ├── negotiate() ──> Negotiated { decode: DecodeCtx, encode: EncodeCtx,
//!  remote OPEN ──┘                               families, timers, peer facts }
//! ```
//!
//! A capability counts when both sides announced it, except for the direction-dependent
//! ones: ADD-PATH is decoded where we receive and the peer sends, and encoded the other way
//! round (RFC 7911 section 5).
//!
//! Extended next hop also needs both sides, as [`DecodeCtx::extended_next_hop`] is
//! defined. RFC 8950 is looser on receipt: once we announce a tuple the peer may use it
//! even if it announced nothing itself, and such UPDATEs would be refused here.
//!
//! Checks that need configuration (Bad Peer AS, strict role mode, required capabilities)
//! are the daemon's.

use std::net::Ipv4Addr;

use crate::capability::{
    AddPathFamily, AddPathMode, Capability, GracefulRestart, LongLivedGracefulRestart, Role, code,
};
use crate::ctx::{Afi, DecodeCtx, EncodeCtx, Family};
use crate::open::Open;

/// The outcome of capability negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Context for decoding what the peer sends.
    pub decode: DecodeCtx,
    /// Context for encoding what we send.
    pub encode: EncodeCtx,
    /// Families both sides announced, in our order. A side without any Multiprotocol
    /// capability handles IPv4 unicast only (RFC 4760 section 8).
    pub families: Vec<Family>,
    /// Hold time in seconds: the smaller proposal; 0 means no hold timer and no keepalives.
    pub hold_time: u16,
    /// Keepalive interval in seconds: a third of the hold time (RFC 4271 section 10).
    pub keepalive: u16,
    /// The peer's AS (from its 4-octet AS capability, else My AS).
    pub peer_asn: u32,
    /// The peer's BGP Identifier.
    pub peer_bgp_id: Ipv4Addr,
    /// Both sides announced Route Refresh (code 2, or the pre-standard code 128).
    pub route_refresh: bool,
    /// Both sides announced Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// The peer's Graceful Restart capability as received (the first, if it sent several).
    pub peer_graceful_restart: Option<GracefulRestart>,
    /// The peer's Long-Lived Graceful Restart capability as received; `None` if the peer
    /// did not also send Graceful Restart, which RFC 9494 section 4.1 says to disregard it.
    pub peer_llgr: Option<LongLivedGracefulRestart>,
    /// The peer's BGP Role (RFC 9234), the first if it sent several.
    pub peer_role: Option<Role>,
    /// RFC 9234 section 4.2 requires a Role Mismatch NOTIFICATION (OPEN Message Error,
    /// subcode 11): the peer sent Role capabilities with different values, or both sides
    /// sent a role and the pair is not allowed. Absence of a role is not a mismatch (that
    /// is the daemon's strict mode).
    pub role_mismatch: bool,
}

/// Derives the session parameters from our OPEN (`local`) and the peer's (`remote`).
pub fn negotiate(local: &Open, remote: &Open) -> Negotiated {
    let four_octet_as = has(local, code::FOUR_OCTET_AS) && has(remote, code::FOUR_OCTET_AS);
    let extended_message =
        has(local, code::EXTENDED_MESSAGE) && has(remote, code::EXTENDED_MESSAGE);
    let extended_next_hop: Vec<Family> = ipv6_next_hop_families(local)
        .into_iter()
        .filter(|f| ipv6_next_hop_families(remote).contains(f))
        .collect();

    let (local_ap, remote_ap) = (add_path(local), add_path(remote));
    let add_path_where = |we: fn(AddPathMode) -> bool, they: fn(AddPathMode) -> bool| {
        local_ap
            .iter()
            .filter(|(f, m)| we(*m) && remote_ap.iter().any(|(rf, rm)| rf == f && they(*rm)))
            .map(|(f, _)| *f)
            .collect::<Vec<Family>>()
    };

    let remote_families = families(remote);
    let families = families(local)
        .into_iter()
        .filter(|f| remote_families.contains(f))
        .collect();

    let hold_time = local.hold_time.min(remote.hold_time);

    let refresh = |o: &Open| has(o, code::ROUTE_REFRESH) || has(o, code::ROUTE_REFRESH_CISCO);

    let peer_graceful_restart = remote.capabilities().find_map(|c| match c {
        Capability::GracefulRestart(gr) => Some(gr.clone()),
        _ => None,
    });
    let peer_llgr = remote
        .capabilities()
        .find_map(|c| match c {
            Capability::LongLivedGracefulRestart(llgr) => Some(llgr.clone()),
            _ => None,
        })
        .filter(|_| peer_graceful_restart.is_some());

    let (local_roles, remote_roles) = (roles(local), roles(remote));
    let peer_role = remote_roles.first().copied();
    let role_mismatch = remote_roles.iter().any(|r| Some(*r) != peer_role)
        || matches!((local_roles.first(), peer_role), (Some(l), Some(p)) if !l.corresponds_to(p));

    Negotiated {
        decode: DecodeCtx {
            four_octet_as,
            extended_message,
            add_path: add_path_where(AddPathMode::receives, AddPathMode::sends),
            extended_next_hop: extended_next_hop.clone(),
        },
        encode: EncodeCtx {
            four_octet_as,
            extended_message,
            add_path: add_path_where(AddPathMode::sends, AddPathMode::receives),
            extended_next_hop,
        },
        families,
        hold_time,
        keepalive: hold_time / 3,
        peer_asn: remote.asn(),
        peer_bgp_id: remote.bgp_id,
        route_refresh: refresh(local) && refresh(remote),
        enhanced_route_refresh: has(local, code::ENHANCED_ROUTE_REFRESH)
            && has(remote, code::ENHANCED_ROUTE_REFRESH),
        peer_graceful_restart,
        peer_llgr,
        peer_role,
        role_mismatch,
    }
}

fn has(open: &Open, code: u8) -> bool {
    open.capabilities().any(|c| c.code() == code)
}

/// The Multiprotocol families of `open`, deduplicated in wire order; IPv4 unicast alone
/// if there are none.
fn families(open: &Open) -> Vec<Family> {
    let mut out = Vec::new();
    for c in open.capabilities() {
        if let Capability::Multiprotocol(f) = c
            && !out.contains(f)
        {
            out.push(*f);
        }
    }
    if out.is_empty() {
        out.push(Family::IPV4_UNICAST);
    }
    out
}

/// Per family, the union of every ADD-PATH mode `open` announced for it.
fn add_path(open: &Open) -> Vec<(Family, AddPathMode)> {
    let mut out: Vec<(Family, AddPathMode)> = Vec::new();
    let entries = open.capabilities().flat_map(|c| match c {
        Capability::AddPath(families) => families.as_slice(),
        _ => &[],
    });
    for &AddPathFamily { family, mode } in entries {
        match out.iter_mut().find(|(f, _)| *f == family) {
            Some((_, m)) if *m != mode => *m = AddPathMode::Both,
            Some(_) => {}
            None => out.push((family, mode)),
        }
    }
    out
}

/// The NLRI families `open` accepts with an IPv6 next hop (RFC 8950).
fn ipv6_next_hop_families(open: &Open) -> Vec<Family> {
    open.capabilities()
        .flat_map(|c| match c {
            Capability::ExtendedNextHop(entries) => entries.as_slice(),
            _ => &[],
        })
        .filter(|e| e.next_hop_afi == Afi::IPV6)
        .filter_map(|e| e.family())
        .collect()
}

fn roles(open: &Open) -> Vec<Role> {
    open.capabilities()
        .filter_map(|c| match c {
            Capability::Role(r) => Some(*r),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{ExtendedNextHopEntry, GracefulRestartFamily, LlgrFamily};
    use crate::ctx::Safi;
    use crate::open::OptionalParam;

    fn open(asn: u32, hold: u16, caps: Vec<Capability>) -> Open {
        Open::new(asn, hold, Ipv4Addr::new(10, 0, 0, 1), caps)
    }

    fn mp(f: Family) -> Capability {
        Capability::Multiprotocol(f)
    }

    fn ap(f: Family, mode: AddPathMode) -> Capability {
        Capability::AddPath(vec![AddPathFamily { family: f, mode }])
    }

    #[test]
    fn families_are_the_intersection_and_default_to_ipv4_unicast() {
        let v4v6 = vec![mp(Family::IPV4_UNICAST), mp(Family::IPV6_UNICAST)];
        let n = negotiate(
            &open(1, 90, v4v6.clone()),
            &open(2, 90, vec![mp(Family::IPV6_UNICAST)]),
        );
        assert_eq!(n.families, [Family::IPV6_UNICAST]);
        // A peer without any MP capability speaks IPv4 unicast only.
        let n = negotiate(&open(1, 90, v4v6), &open(2, 90, vec![]));
        assert_eq!(n.families, [Family::IPV4_UNICAST]);
        // Neither side: IPv4 unicast.
        let n = negotiate(&open(1, 90, vec![]), &open(2, 90, vec![]));
        assert_eq!(n.families, [Family::IPV4_UNICAST]);
        // Only IPv6 on our side, nothing on theirs: nothing in common.
        let n = negotiate(
            &open(1, 90, vec![mp(Family::IPV6_UNICAST)]),
            &open(2, 90, vec![]),
        );
        assert!(n.families.is_empty());
    }

    #[test]
    fn hold_time_is_the_minimum_and_keepalive_a_third() {
        let n = negotiate(&open(1, 90, vec![]), &open(2, 180, vec![]));
        assert_eq!((n.hold_time, n.keepalive), (90, 30));
        let n = negotiate(&open(1, 90, vec![]), &open(2, 0, vec![]));
        assert_eq!((n.hold_time, n.keepalive), (0, 0));
        let n = negotiate(&open(1, 10, vec![]), &open(2, 3, vec![]));
        assert_eq!((n.hold_time, n.keepalive), (3, 1));
    }

    #[test]
    fn four_octet_as_needs_both_sides_and_peer_asn_reads_the_capability() {
        let mut old = open(65002, 90, vec![]);
        old.params.clear(); // a pre-RFC 6793 speaker
        let n = negotiate(&open(4_200_000_001, 90, vec![]), &old);
        assert!(!n.decode.four_octet_as && !n.encode.four_octet_as);
        assert_eq!(n.peer_asn, 65002);
        let n = negotiate(&open(65001, 90, vec![]), &open(4_200_000_002, 90, vec![]));
        assert!(n.decode.four_octet_as && n.encode.four_octet_as);
        assert_eq!(n.peer_asn, 4_200_000_002);
        assert_eq!(n.peer_bgp_id, Ipv4Addr::new(10, 0, 0, 1));
    }

    #[test]
    fn extended_message_needs_both_sides() {
        let n = negotiate(
            &open(1, 90, vec![Capability::ExtendedMessage]),
            &open(2, 90, vec![Capability::ExtendedMessage]),
        );
        assert_eq!(n.decode.max_message_len(), 65535);
        assert_eq!(n.encode.max_message_len(), 65535);
        let n = negotiate(
            &open(1, 90, vec![Capability::ExtendedMessage]),
            &open(2, 90, vec![]),
        );
        assert_eq!(n.decode.max_message_len(), 4096);
        assert_eq!(n.encode.max_message_len(), 4096);
    }

    #[test]
    fn add_path_direction_follows_who_sends_and_who_receives() {
        let v4 = Family::IPV4_UNICAST;
        let v6 = Family::IPV6_UNICAST;
        let local = open(
            1,
            90,
            vec![ap(v4, AddPathMode::Receive), ap(v6, AddPathMode::Both)],
        );
        let remote = open(
            2,
            90,
            vec![ap(v4, AddPathMode::Send), ap(v6, AddPathMode::Receive)],
        );
        let n = negotiate(&local, &remote);
        assert_eq!(n.decode.add_path, [v4]);
        assert_eq!(n.encode.add_path, [v6]);
        assert!(n.decode.add_path(v4) && !n.encode.add_path(v4));
        // Same mode on both sides: nothing either way.
        let n = negotiate(
            &open(1, 90, vec![ap(v4, AddPathMode::Send)]),
            &open(2, 90, vec![ap(v4, AddPathMode::Send)]),
        );
        assert!(n.decode.add_path.is_empty() && n.encode.add_path.is_empty());
        // A family announced twice with Send and Receive counts as Both.
        let twice = open(
            2,
            90,
            vec![ap(v4, AddPathMode::Send), ap(v4, AddPathMode::Receive)],
        );
        let n = negotiate(&open(1, 90, vec![ap(v4, AddPathMode::Both)]), &twice);
        assert_eq!(
            (n.decode.add_path.as_slice(), n.encode.add_path.as_slice()),
            (&[v4][..], &[v4][..])
        );
    }

    #[test]
    fn extended_next_hop_needs_both_sides_and_an_ipv6_next_hop() {
        let enh = |entries: Vec<ExtendedNextHopEntry>| Capability::ExtendedNextHop(entries);
        let v4_over_v6 = ExtendedNextHopEntry::ipv4_over_ipv6(Safi::UNICAST);
        let v4_mc = ExtendedNextHopEntry::ipv4_over_ipv6(Safi::MULTICAST);
        let n = negotiate(
            &open(1, 90, vec![enh(vec![v4_over_v6, v4_mc])]),
            &open(2, 90, vec![enh(vec![v4_over_v6])]),
        );
        assert_eq!(n.decode.extended_next_hop, [Family::IPV4_UNICAST]);
        assert_eq!(n.encode.extended_next_hop, [Family::IPV4_UNICAST]);
        let n = negotiate(
            &open(1, 90, vec![enh(vec![v4_over_v6])]),
            &open(2, 90, vec![]),
        );
        assert!(n.decode.extended_next_hop.is_empty() && n.encode.extended_next_hop.is_empty());
        // A next hop AFI other than IPv6 does not enable anything.
        let odd = ExtendedNextHopEntry {
            next_hop_afi: Afi(25),
            ..v4_over_v6
        };
        let n = negotiate(
            &open(1, 90, vec![enh(vec![odd])]),
            &open(2, 90, vec![enh(vec![odd])]),
        );
        assert!(n.decode.extended_next_hop.is_empty());
    }

    #[test]
    fn route_refresh_flags_need_both_sides_and_accept_the_cisco_code() {
        let cisco = Capability::Unknown {
            code: 128,
            value: bytes::Bytes::new(),
        };
        let n = negotiate(
            &open(
                1,
                90,
                vec![Capability::RouteRefresh, Capability::EnhancedRouteRefresh],
            ),
            &open(2, 90, vec![cisco]),
        );
        assert!(n.route_refresh && !n.enhanced_route_refresh);
        let n = negotiate(
            &open(1, 90, vec![Capability::EnhancedRouteRefresh]),
            &open(2, 90, vec![Capability::EnhancedRouteRefresh]),
        );
        assert!(!n.route_refresh && n.enhanced_route_refresh);
    }

    #[test]
    fn llgr_without_graceful_restart_is_disregarded() {
        let llgr = LongLivedGracefulRestart {
            families: vec![LlgrFamily {
                family: Family::IPV4_UNICAST,
                forwarding_state: true,
                stale_time: 3600,
            }],
        };
        let gr = GracefulRestart {
            restart_state: false,
            notification: true,
            restart_time: 120,
            families: vec![GracefulRestartFamily {
                family: Family::IPV4_UNICAST,
                forwarding_state: true,
            }],
        };
        let local = open(1, 90, vec![]);
        let n = negotiate(
            &local,
            &open(
                2,
                90,
                vec![Capability::LongLivedGracefulRestart(llgr.clone())],
            ),
        );
        assert_eq!((n.peer_graceful_restart, n.peer_llgr), (None, None));
        let remote = open(
            2,
            90,
            vec![
                Capability::GracefulRestart(gr.clone()),
                Capability::LongLivedGracefulRestart(llgr.clone()),
            ],
        );
        let n = negotiate(&local, &remote);
        assert_eq!(
            (n.peer_graceful_restart, n.peer_llgr),
            (Some(gr), Some(llgr))
        );
    }

    #[test]
    fn roles_must_correspond_and_must_not_conflict() {
        let role = |r| Capability::Role(r);
        let n = negotiate(
            &open(1, 90, vec![role(Role::Provider)]),
            &open(2, 90, vec![role(Role::Customer)]),
        );
        assert_eq!(
            (n.peer_role, n.role_mismatch),
            (Some(Role::Customer), false)
        );
        let n = negotiate(
            &open(1, 90, vec![role(Role::Provider)]),
            &open(2, 90, vec![role(Role::Peer)]),
        );
        assert!(n.role_mismatch);
        // Peer without a role: no mismatch (strict mode is configuration).
        let n = negotiate(&open(1, 90, vec![role(Role::Peer)]), &open(2, 90, vec![]));
        assert_eq!((n.peer_role, n.role_mismatch), (None, false));
        // Two different roles from the peer, in separate parameters.
        let mut remote = open(2, 90, vec![role(Role::Customer)]);
        remote
            .params
            .push(OptionalParam::Capabilities(vec![role(Role::Peer)]));
        let n = negotiate(&open(1, 90, vec![]), &remote);
        assert!(n.role_mismatch);
        // Repeated identical roles are one role.
        let remote = open(2, 90, vec![role(Role::Customer), role(Role::Customer)]);
        assert!(!negotiate(&open(1, 90, vec![role(Role::Provider)]), &remote).role_mismatch);
    }
}
