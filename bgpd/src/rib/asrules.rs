//! The per-neighbour AS_PATH rules and the route-leak prevention of RFC 9234, on import
//! and on export.
//!
//! Import (eBGP only, in this order): the AS loop check with allowas-in, the
//! Only-to-Customer (OTC) rules of RFC 9234 section 5 for the session's role, then the
//! local-as prepend. Export: the OTC rules decide whether a route may go to the
//! neighbour and add OTC where needed; the AS_PATH sent is the stored path with private AS
//! numbers removed or replaced, the neighbour's AS overridden, then our AS (or our
//! local-as, or both) prepended.

use bgp_proto::PathAttributes;
use bgp_proto::attr::AsPath;
use bgp_proto::capability::Role;

use super::PeerInfo;
use super::import::{LocalIdentity, Rejection};
use crate::config::{LocalAs, RemovePrivateAs};

/// Whether `asn` is a private AS number (RFC 6996).
pub fn is_private(asn: u32) -> bool {
    (64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn)
}

/// The AS this router shows `peer`: its local-as, else `global.asn`.
pub fn session_asn(peer: &PeerInfo, local: &LocalIdentity) -> u32 {
    peer.rules.local_as.map_or(local.asn, |l| l.asn)
}

/// The receive-side rules for a route from the eBGP neighbour `peer`. Changes `attrs` in
/// place (OTC added, local-as prepended) or says why the route is not accepted.
pub(super) fn import(
    attrs: &mut PathAttributes,
    peer: &PeerInfo,
    local: &LocalIdentity,
) -> Result<(), Rejection> {
    let rules = &peer.rules;
    if let Some(path) = attrs.as_path() {
        let allowed = usize::from(rules.allowas_in);
        let ours = |asn: u32| path.asns().filter(|a| *a == asn).count() > allowed;
        if ours(local.asn) || rules.local_as.is_some_and(|l| ours(l.asn)) {
            return Err(Rejection::AsLoop);
        }
    }
    if let Some(role) = rules.role {
        otc_import(attrs, role, peer.asn)?;
    }
    if let Some(LocalAs {
        asn,
        no_prepend: false,
        ..
    }) = rules.local_as
    {
        let path = attrs.as_path().cloned().unwrap_or_default();
        attrs.set_as_path(path.prepend(asn, 1));
    }
    Ok(())
}

/// RFC 9234 section 5, receiving a route from a neighbour with AS `remote_as`, where
/// `role` is our role on the session.
pub fn otc_import(attrs: &mut PathAttributes, role: Role, remote_as: u32) -> Result<(), Rejection> {
    match (role, attrs.otc()) {
        // From a customer or an RS client: a route with OTC is a leak.
        (Role::Provider | Role::RouteServer, Some(_)) => Err(Rejection::RouteLeak),
        // From a peer: OTC must name that peer.
        (Role::Peer, Some(otc)) if otc != remote_as => Err(Rejection::RouteLeak),
        // From a provider, a peer or a route server: mark it.
        (Role::Customer | Role::Peer | Role::RouteServerClient, None) => {
            attrs.set_otc(remote_as);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether a route with these attributes may go to `to` under RFC 9234 section 5: a
/// route with OTC never goes to a provider, a peer or a route server.
pub fn otc_allows(attrs: &PathAttributes, to: &PeerInfo) -> bool {
    !(attrs.otc().is_some()
        && matches!(
            to.rules.role,
            Some(Role::Customer | Role::Peer | Role::RouteServerClient)
        ))
}

/// Whether the sender-side loop check (the neighbour's AS in the path) applies to `to`;
/// with AS override the neighbour's AS is replaced, so the route is not a loop.
pub fn loop_check_applies(to: &PeerInfo) -> bool {
    !to.rules.as_override
}

/// Adds OTC where RFC 9234 section 5 says to when sending to `to`: to a customer, a peer
/// or an RS client, a route without OTC gets our AS.
pub fn otc_export(attrs: &mut PathAttributes, to: &PeerInfo, local: &LocalIdentity) {
    if attrs.otc().is_none()
        && matches!(
            to.rules.role,
            Some(Role::Provider | Role::Peer | Role::RouteServer)
        )
    {
        attrs.set_otc(session_asn(to, local));
    }
}

/// The AS_PATH the eBGP neighbour `to` receives for a route whose stored path is `path`.
pub fn export_as_path(path: &AsPath, to: &PeerInfo, local: &LocalIdentity) -> AsPath {
    let rules = &to.rules;
    let mut path = match rules.remove_private_as {
        None => path.clone(),
        Some(RemovePrivateAs::All) => filter_map(path, |a| (!is_private(a)).then_some(a)),
        Some(RemovePrivateAs::Replace) => {
            filter_map(path, |a| Some(if is_private(a) { local.asn } else { a }))
        }
    };
    if rules.as_override && path.contains(to.asn) {
        path = filter_map(&path, |a| Some(if a == to.asn { local.asn } else { a }));
    }
    match rules.local_as {
        None => path.prepend(local.asn, 1),
        Some(l) if l.replace_as => path.prepend(l.asn, 1),
        Some(l) => path.prepend(local.asn, 1).prepend(l.asn, 1),
    }
}

/// The path with each AS number mapped (or left out), segment by segment.
fn filter_map(path: &AsPath, f: impl Fn(u32) -> Option<u32>) -> AsPath {
    AsPath::from_segments(
        path.segments()
            .map(|s| (s.kind(), s.asns().filter_map(&f).collect::<Vec<_>>())),
    )
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use bgp_proto::attr::SegmentType;

    use super::*;
    use crate::config::SessionRules;
    use crate::rib::tests::peer;

    const LOCAL: LocalIdentity = LocalIdentity {
        asn: 65000,
        router_id: Ipv4Addr::new(10, 0, 0, 1),
        cluster_id: Ipv4Addr::new(10, 0, 0, 1),
    };

    fn with_rules(asn: u32, rules: SessionRules) -> PeerInfo {
        let mut p = peer(1, asn, false);
        p.rules = Arc::new(rules);
        p
    }

    fn path(asns: &[u32]) -> AsPath {
        AsPath::from_sequence(asns.iter().copied())
    }

    fn attrs(asns: &[u32]) -> PathAttributes {
        PathAttributes::new().with_as_path(path(asns))
    }

    fn asns(a: &PathAttributes) -> Vec<u32> {
        a.as_path().map(|p| p.asns().collect()).unwrap_or_default()
    }

    #[test]
    fn allowas_in_accepts_up_to_n_occurrences_of_our_as() {
        let strict = with_rules(65001, SessionRules::default());
        let mut a = attrs(&[65001, 65000, 65002]);
        assert_eq!(import(&mut a, &strict, &LOCAL), Err(Rejection::AsLoop));
        let two = with_rules(
            65001,
            SessionRules {
                allowas_in: 2,
                ..SessionRules::default()
            },
        );
        assert_eq!(import(&mut a, &two, &LOCAL), Ok(()));
        let mut a = attrs(&[65001, 65000, 65000, 65000]);
        assert_eq!(import(&mut a, &two, &LOCAL), Err(Rejection::AsLoop));
    }

    #[test]
    fn local_as_is_prepended_on_import_unless_no_prepend() {
        let rules = |no_prepend| SessionRules {
            local_as: Some(LocalAs {
                asn: 65100,
                no_prepend,
                replace_as: false,
            }),
            ..SessionRules::default()
        };
        let mut a = attrs(&[65001]);
        import(&mut a, &with_rules(65001, rules(false)), &LOCAL).unwrap();
        assert_eq!(asns(&a), [65100, 65001]);
        let mut a = attrs(&[65001]);
        import(&mut a, &with_rules(65001, rules(true)), &LOCAL).unwrap();
        assert_eq!(asns(&a), [65001]);
        // The local-as in the received path is a loop too.
        let mut a = attrs(&[65001, 65100]);
        assert_eq!(
            import(&mut a, &with_rules(65001, rules(false)), &LOCAL),
            Err(Rejection::AsLoop)
        );
    }

    #[test]
    fn local_as_on_export_prepends_both_or_only_local_as() {
        let to = |replace_as| {
            with_rules(
                65001,
                SessionRules {
                    local_as: Some(LocalAs {
                        asn: 65100,
                        no_prepend: true,
                        replace_as,
                    }),
                    ..SessionRules::default()
                },
            )
        };
        let p = path(&[65002]);
        let sent: Vec<u32> = export_as_path(&p, &to(false), &LOCAL).asns().collect();
        assert_eq!(sent, [65100, 65000, 65002]);
        let sent: Vec<u32> = export_as_path(&p, &to(true), &LOCAL).asns().collect();
        assert_eq!(sent, [65100, 65002]);
        let plain = with_rules(65001, SessionRules::default());
        let sent: Vec<u32> = export_as_path(&p, &plain, &LOCAL).asns().collect();
        assert_eq!(sent, [65000, 65002]);
    }

    #[test]
    fn remove_private_as_removes_or_replaces_every_private_asn() {
        let to = |mode| {
            with_rules(
                3356,
                SessionRules {
                    remove_private_as: Some(mode),
                    ..SessionRules::default()
                },
            )
        };
        let p = AsPath::from_segments([
            (SegmentType::Sequence, vec![64512, 174, 4_200_000_001]),
            (SegmentType::Set, vec![65534, 65535]),
        ]);
        let all = export_as_path(&p, &to(RemovePrivateAs::All), &LOCAL);
        assert_eq!(all.asns().collect::<Vec<_>>(), [65000, 174, 65535]);
        let replaced = export_as_path(&p, &to(RemovePrivateAs::Replace), &LOCAL);
        assert_eq!(
            replaced.asns().collect::<Vec<_>>(),
            [65000, 65000, 174, 65000, 65000, 65535]
        );
        // Only private path: everything removed but our own AS.
        let only = export_as_path(&path(&[64600, 64700]), &to(RemovePrivateAs::All), &LOCAL);
        assert_eq!(only.asns().collect::<Vec<_>>(), [65000]);
        assert!(!is_private(65535) && !is_private(64511) && is_private(65534));
        assert!(!is_private(4_294_967_295) && is_private(4_200_000_000));
    }

    #[test]
    fn as_override_replaces_the_neighbours_as_and_lifts_the_loop_check() {
        let to = with_rules(
            65010,
            SessionRules {
                as_override: true,
                ..SessionRules::default()
            },
        );
        let sent = export_as_path(&path(&[65020, 65010]), &to, &LOCAL);
        assert_eq!(sent.asns().collect::<Vec<_>>(), [65000, 65020, 65000]);
        assert!(!loop_check_applies(&to));
        assert!(loop_check_applies(&with_rules(
            65010,
            SessionRules::default()
        )));
    }

    /// RFC 9234 section 5.
    #[test]
    fn otc_import_rules_follow_rfc_9234() {
        let remote = 65001;
        let otc = |v: Option<u32>| match v {
            Some(v) => PathAttributes::new().with_otc(v),
            None => PathAttributes::new(),
        };
        // (our role, OTC received, expected outcome: Err or the OTC after import)
        /// The OTC after import, or why the route was refused.
        type Outcome = Result<Option<u32>, Rejection>;
        let table: [(Role, Option<u32>, Outcome); 12] = [
            (Role::Provider, None, Ok(None)),
            (Role::Provider, Some(7), Err(Rejection::RouteLeak)),
            (Role::RouteServer, None, Ok(None)),
            (Role::RouteServer, Some(7), Err(Rejection::RouteLeak)),
            (Role::Customer, None, Ok(Some(remote))),
            (Role::Customer, Some(7), Ok(Some(7))),
            (Role::RouteServerClient, None, Ok(Some(remote))),
            (Role::RouteServerClient, Some(7), Ok(Some(7))),
            (Role::Peer, None, Ok(Some(remote))),
            (Role::Peer, Some(remote), Ok(Some(remote))),
            (Role::Peer, Some(7), Err(Rejection::RouteLeak)),
            (Role::Unknown(9), Some(7), Ok(Some(7))),
        ];
        for (role, received, expected) in table {
            let mut a = otc(received);
            let got = otc_import(&mut a, role, remote).map(|()| a.otc());
            assert_eq!(got, expected, "role {role}, OTC {received:?}");
        }
    }

    #[test]
    fn otc_export_rules_follow_rfc_9234() {
        let to = |role| {
            with_rules(
                65001,
                SessionRules {
                    role: Some(role),
                    ..SessionRules::default()
                },
            )
        };
        let marked = PathAttributes::new().with_otc(64999);
        let plain = PathAttributes::new();
        // Our role customer / peer / rs-client: the neighbour is a provider, peer or RS.
        for role in [Role::Customer, Role::Peer, Role::RouteServerClient] {
            assert!(!otc_allows(&marked, &to(role)), "{role}");
            assert!(otc_allows(&plain, &to(role)), "{role}");
        }
        for role in [Role::Provider, Role::RouteServer] {
            assert!(otc_allows(&marked, &to(role)), "{role}");
        }
        // Sent to a customer, a peer or an RS client: OTC added with our AS.
        for role in [Role::Provider, Role::Peer, Role::RouteServer] {
            let mut a = plain.clone();
            otc_export(&mut a, &to(role), &LOCAL);
            assert_eq!(a.otc(), Some(65000), "{role}");
            let mut a = marked.clone();
            otc_export(&mut a, &to(role), &LOCAL);
            assert_eq!(a.otc(), Some(64999), "kept, {role}");
        }
        for role in [Role::Customer, Role::RouteServerClient] {
            let mut a = plain.clone();
            otc_export(&mut a, &to(role), &LOCAL);
            assert_eq!(a.otc(), None, "{role}");
        }
        let mut a = plain.clone();
        otc_export(&mut a, &with_rules(65001, SessionRules::default()), &LOCAL);
        assert_eq!(a.otc(), None, "no role, no OTC");
    }
}
