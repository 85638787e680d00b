//! Every condition and action, evaluated on routes as the RIB holds them.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_proto::Family;
use bgp_proto::PathAttributes;
use bgp_proto::attr::{
    AsPath, Communities, Community, ExtAdmin, ExtCommunities, ExtCommunity, LargeCommunities,
    LargeCommunity, NextHop, Origin,
};
use ipnet::IpNet;

use super::def::*;
use super::*;
use crate::rib::RouteAttrs;

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));

fn attrs() -> RouteAttrs {
    let attrs = PathAttributes::new()
        .with_origin(Origin::Igp)
        .with_as_path(AsPath::from_sequence([65001, 64512, 65003]))
        .with_med(50)
        .with_communities(Communities::new([
            Community::new(65001, 100),
            Community::NO_EXPORT,
        ]))
        .with_ext_communities(ExtCommunities::new([ExtCommunity::route_target(
            ExtAdmin::As2 {
                asn: 65001,
                local: 7,
            },
        )]))
        .with_large_communities(LargeCommunities::new([LargeCommunity::new(65001, 1, 2)]));
    RouteAttrs {
        attrs,
        next_hop: NextHop::V4(Ipv4Addr::new(10, 0, 1, 2)),
    }
}

fn sets() -> PolicyConfig {
    let mut c = PolicyConfig::default();
    let put = |c: &mut PolicyConfig, kind, name: &str, members: &[&str]| {
        c.put_set(SetDef {
            kind,
            name: name.into(),
            members: members.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap();
    };
    put(
        &mut c,
        SetKind::Prefix,
        "p",
        &["10.0.0.0/8 16..24", "2001:db8::/32 48..64"],
    );
    put(&mut c, SetKind::Neighbor, "n", &["192.0.2.0/30"]);
    put(&mut c, SetKind::AsPath, "via-64512", &["_64512_"]);
    put(&mut c, SetKind::AsPath, "two", &["^65001 ", "65003$"]);
    put(&mut c, SetKind::Community, "c", &["65001:1.."]);
    put(
        &mut c,
        SetKind::Community,
        "c2",
        &["65001:100", "no-export"],
    );
    put(&mut c, SetKind::Community, "c3", &["65001:100", "65009:.*"]);
    put(&mut c, SetKind::ExtCommunity, "e", &["rt:65001:.*"]);
    put(&mut c, SetKind::LargeCommunity, "l", &["65001:1:[0-9]+"]);
    c
}

/// Compiles one policy of one statement for PEER's import chain.
fn chain(conditions: Conditions, actions: Actions) -> Chain {
    let mut c = sets();
    c.policies.push(PolicyDef {
        name: "p1".into(),
        statements: vec![StatementDef {
            name: "s".into(),
            conditions,
            actions,
        }],
    });
    let a = Assignment {
        import: vec!["p1".into()],
        default_import: Some(Disposition::Reject),
        ..Assignment::default()
    };
    let e = Engine::compile(&c, [(PEER, &a)]).unwrap();
    e.chain(PEER, Direction::Import).clone()
}

fn route<'a>(prefix: &str, a: &'a RouteAttrs) -> Route<'a> {
    Route {
        prefix: prefix.parse().unwrap(),
        attrs: a,
        source: Some(PEER),
        route_type: RouteType::External,
    }
}

fn accept() -> Actions {
    Actions {
        result: Some(Disposition::Accept),
        ..Actions::default()
    }
}

/// Whether the statement's conditions hold (accept) or not (the default rejects).
fn holds(conditions: Conditions, prefix: &str, a: &RouteAttrs) -> bool {
    let c = chain(conditions, accept());
    !c.evaluate(&route(prefix, a), &Env::default()).is_reject()
}

fn m(set: &str, how: MatchHow) -> Option<SetMatch> {
    Some(SetMatch {
        set: set.into(),
        how,
    })
}

#[test]
fn prefix_set_matches_mask_length_ranges_both_families() {
    let a = attrs();
    let c = |how| Conditions {
        prefix_set: m("p", how),
        ..Conditions::default()
    };
    assert!(holds(c(MatchHow::Any), "10.1.0.0/16", &a));
    assert!(holds(c(MatchHow::Any), "10.1.2.0/24", &a));
    assert!(
        !holds(c(MatchHow::Any), "10.1.2.0/25", &a),
        "longer than 24"
    );
    assert!(
        !holds(c(MatchHow::Any), "10.0.0.0/8", &a),
        "shorter than 16"
    );
    assert!(!holds(c(MatchHow::Any), "11.1.0.0/16", &a), "outside");
    assert!(holds(c(MatchHow::Any), "2001:db8:1::/48", &a));
    assert!(!holds(c(MatchHow::Any), "2001:db9::/48", &a));
    assert!(holds(c(MatchHow::Invert), "11.1.0.0/16", &a));
    assert!(!holds(c(MatchHow::Invert), "10.1.0.0/16", &a));
}

#[test]
fn neighbor_set_matches_the_source_peer() {
    let a = attrs();
    let c = |how| {
        chain(
            Conditions {
                neighbor_set: m("n", how),
                ..Conditions::default()
            },
            accept(),
        )
    };
    let mut r = route("10.1.0.0/16", &a);
    assert!(!c(MatchHow::Any).evaluate(&r, &Env::default()).is_reject());
    r.source = Some(OTHER);
    assert!(c(MatchHow::Any).evaluate(&r, &Env::default()).is_reject());
    assert!(
        !c(MatchHow::Invert)
            .evaluate(&r, &Env::default())
            .is_reject()
    );
    r.source = None;
    assert!(
        c(MatchHow::Any).evaluate(&r, &Env::default()).is_reject(),
        "local routes"
    );
}

#[test]
fn as_path_set_with_boundaries_any_all_invert() {
    let a = attrs();
    let c = |set, how| Conditions {
        as_path_set: m(set, how),
        ..Conditions::default()
    };
    assert!(holds(c("via-64512", MatchHow::Any), "10.1.0.0/16", &a));
    assert!(holds(c("two", MatchHow::All), "10.1.0.0/16", &a));
    assert!(!holds(c("via-64512", MatchHow::Invert), "10.1.0.0/16", &a));
    let mut b = attrs();
    // 645120 must not match _64512_.
    b.attrs.set_as_path(AsPath::from_sequence([65001, 645120]));
    assert!(!holds(c("via-64512", MatchHow::Any), "10.1.0.0/16", &b));
    assert!(
        !holds(c("two", MatchHow::All), "10.1.0.0/16", &b),
        "65003$ fails"
    );
    assert!(holds(c("two", MatchHow::Any), "10.1.0.0/16", &b));
}

#[test]
fn community_sets_any_all_invert_for_each_kind() {
    let a = attrs();
    let c = |set, how| Conditions {
        community_set: m(set, how),
        ..Conditions::default()
    };
    assert!(
        holds(c("c", MatchHow::Any), "10.1.0.0/16", &a),
        "65001:100 ~ 65001:1.."
    );
    assert!(
        holds(c("c2", MatchHow::All), "10.1.0.0/16", &a),
        "well-known by name"
    );
    assert!(
        !holds(c("c3", MatchHow::All), "10.1.0.0/16", &a),
        "no 65009:x"
    );
    assert!(holds(c("c3", MatchHow::Any), "10.1.0.0/16", &a));
    assert!(!holds(c("c", MatchHow::Invert), "10.1.0.0/16", &a));
    let mut b = attrs();
    b.attrs
        .set_communities(Communities::new([Community::new(65001, 10)]));
    assert!(
        !holds(c("c", MatchHow::Any), "10.1.0.0/16", &b),
        "anchored: 65001:10"
    );
    let e = |how| Conditions {
        ext_community_set: m("e", how),
        ..Conditions::default()
    };
    assert!(holds(e(MatchHow::Any), "10.1.0.0/16", &a));
    assert!(!holds(e(MatchHow::Invert), "10.1.0.0/16", &a));
    let l = |how| Conditions {
        large_community_set: m("l", how),
        ..Conditions::default()
    };
    assert!(holds(l(MatchHow::Any), "10.1.0.0/16", &a));
    assert!(holds(l(MatchHow::All), "10.1.0.0/16", &a));
    let mut none = attrs();
    none.attrs.remove(bgp_proto::attr::code::LARGE_COMMUNITIES);
    assert!(!holds(l(MatchHow::Any), "10.1.0.0/16", &none));
    assert!(holds(l(MatchHow::Invert), "10.1.0.0/16", &none));
}

#[test]
fn scalar_conditions() {
    let a = attrs();
    let len = |s: &str| Conditions {
        as_path_length: Some(s.parse().unwrap()),
        ..Conditions::default()
    };
    assert!(holds(len("eq 3"), "10.1.0.0/16", &a));
    assert!(!holds(len("eq 2"), "10.1.0.0/16", &a));
    assert!(holds(len(">= 3"), "10.1.0.0/16", &a));
    assert!(!holds(len("ge 4"), "10.1.0.0/16", &a));
    assert!(holds(len("le 3"), "10.1.0.0/16", &a));
    assert!(!holds(len("<= 2"), "10.1.0.0/16", &a));
    let origin = |o| Conditions {
        origin: Some(o),
        ..Conditions::default()
    };
    assert!(holds(origin(Origin::Igp), "10.1.0.0/16", &a));
    assert!(!holds(origin(Origin::Incomplete), "10.1.0.0/16", &a));
    let nh = |n: &str| Conditions {
        next_hop: vec![n.parse().unwrap()],
        ..Conditions::default()
    };
    assert!(holds(nh("10.0.1.0/24"), "10.1.0.0/16", &a));
    assert!(!holds(nh("10.0.2.0/24"), "10.1.0.0/16", &a));
    let fam = |f| Conditions {
        family: Some(f),
        ..Conditions::default()
    };
    assert!(holds(fam(Family::IPV4_UNICAST), "10.1.0.0/16", &a));
    assert!(!holds(fam(Family::IPV6_UNICAST), "10.1.0.0/16", &a));
    assert!(holds(fam(Family::IPV6_UNICAST), "2001:db8::/48", &a));
    let c = chain(
        Conditions {
            route_type: Some(RouteType::Internal),
            ..Conditions::default()
        },
        accept(),
    );
    let mut r = route("10.1.0.0/16", &a);
    assert!(c.evaluate(&r, &Env::default()).is_reject());
    r.route_type = RouteType::Internal;
    assert!(!c.evaluate(&r, &Env::default()).is_reject());
}

#[test]
fn all_conditions_of_a_statement_must_hold() {
    let a = attrs();
    let both = |p: &str| Conditions {
        prefix_set: m("p", MatchHow::Any),
        origin: Some(Origin::Igp),
        as_path_length: Some(p.parse().unwrap()),
        ..Conditions::default()
    };
    assert!(holds(both("eq 3"), "10.1.0.0/16", &a));
    assert!(!holds(both("eq 1"), "10.1.0.0/16", &a));
}

/// Runs `actions` (then accept) on `a`.
fn run(actions: Actions, a: &RouteAttrs, env: &Env) -> RouteAttrs {
    let c = chain(Conditions::default(), actions);
    match c.evaluate(&route("10.1.0.0/16", a), env) {
        Verdict::Accept(r) => r.into_owned(),
        Verdict::Reject => panic!("rejected"),
    }
}

#[test]
fn accept_reject_and_defaults() {
    let a = attrs();
    let r = |d| Actions {
        result: Some(d),
        ..Actions::default()
    };
    let c = chain(Conditions::default(), r(Disposition::Reject));
    assert!(
        c.evaluate(&route("10.1.0.0/16", &a), &Env::default())
            .is_reject()
    );
    let c = chain(Conditions::default(), r(Disposition::Accept));
    match c.evaluate(&route("10.1.0.0/16", &a), &Env::default()) {
        Verdict::Accept(Cow::Borrowed(x)) => assert_eq!(x, &a),
        other => panic!("expected an unchanged accept, got {other:?}"),
    }
    // No result: the chain goes on to the default (reject here).
    let c = chain(
        Conditions::default(),
        Actions {
            local_pref: Some(5),
            ..Actions::default()
        },
    );
    assert!(
        c.evaluate(&route("10.1.0.0/16", &a), &Env::default())
            .is_reject()
    );
    // A neighbour without assignment gets the global defaults.
    let cfg = PolicyConfig {
        default_export: Disposition::Reject,
        ..PolicyConfig::default()
    };
    let e = Engine::compile(&cfg, []).unwrap();
    assert!(e.chain(OTHER, Direction::Import).is_pass_through());
    assert!(
        e.chain(OTHER, Direction::Export)
            .evaluate(&route("10.1.0.0/16", &a), &Env::default())
            .is_reject()
    );
}

#[test]
fn statements_run_in_order_and_later_ones_see_changes() {
    let mut c = sets();
    c.policies.push(PolicyDef {
        name: "p1".into(),
        statements: vec![
            StatementDef {
                name: "tag".into(),
                conditions: Conditions::default(),
                actions: Actions {
                    communities: CommunityEdit {
                        add: vec![Community::new(65009, 1)],
                        ..CommunityEdit::default()
                    },
                    ..Actions::default()
                },
            },
            StatementDef {
                name: "drop-tagged".into(),
                conditions: Conditions {
                    community_set: m("c3", MatchHow::All),
                    ..Conditions::default()
                },
                actions: Actions {
                    result: Some(Disposition::Reject),
                    ..Actions::default()
                },
            },
        ],
    });
    c.policies.push(PolicyDef {
        name: "p2".into(),
        statements: vec![StatementDef::default()],
    });
    let a = Assignment {
        import: vec!["p2".into(), "p1".into()],
        ..Assignment::default()
    };
    let e = Engine::compile(&c, [(PEER, &a)]).unwrap();
    let x = attrs();
    // p2's statement has no result, p1 tags and then the tag makes c3 "all" match.
    assert!(
        e.chain(PEER, Direction::Import)
            .evaluate(&route("10.1.0.0/16", &x), &Env::default())
            .is_reject()
    );
}

#[test]
fn community_actions_set_remove_add_for_each_kind() {
    let a = attrs();
    let out = run(
        Actions {
            communities: CommunityEdit {
                set: None,
                remove: vec!["65001:.*".into()],
                add: vec![Community::new(65000, 1), Community::NO_EXPORT],
            },
            ..accept()
        },
        &a,
        &Env::default(),
    );
    let got: Vec<Community> = out.attrs.communities().unwrap().iter().collect();
    assert_eq!(got, [Community::NO_EXPORT, Community::new(65000, 1)]);
    let out = run(
        Actions {
            communities: CommunityEdit {
                set: Some(vec![]),
                ..CommunityEdit::default()
            },
            ..accept()
        },
        &a,
        &Env::default(),
    );
    assert!(
        out.attrs.communities().is_none(),
        "set to nothing removes it"
    );
    let rt = parse_ext_community("rt:65000:9").unwrap();
    let out = run(
        Actions {
            ext_communities: CommunityEdit {
                set: None,
                remove: vec!["rt:65001:7".into()],
                add: vec![rt],
            },
            ..accept()
        },
        &a,
        &Env::default(),
    );
    let got: Vec<ExtCommunity> = out.attrs.ext_communities().unwrap().iter().collect();
    assert_eq!(got, [rt]);
    let out = run(
        Actions {
            large_communities: CommunityEdit {
                set: Some(vec![LargeCommunity::new(1, 2, 3)]),
                remove: vec![],
                add: vec![LargeCommunity::new(4, 5, 6)],
            },
            ..accept()
        },
        &a,
        &Env::default(),
    );
    let got: Vec<LargeCommunity> = out.attrs.large_communities().unwrap().iter().collect();
    assert_eq!(
        got,
        [LargeCommunity::new(1, 2, 3), LargeCommunity::new(4, 5, 6)]
    );
}

#[test]
fn med_local_pref_origin_actions() {
    let a = attrs();
    let med = |m| {
        run(
            Actions {
                med: Some(m),
                ..accept()
            },
            &a,
            &Env::default(),
        )
        .attrs
        .med()
    };
    assert_eq!(med(MedAction::Set(7)), Some(7));
    assert_eq!(med(MedAction::Add(10)), Some(60));
    assert_eq!(med(MedAction::Subtract(60)), Some(0), "saturates");
    let mut no_med = attrs();
    no_med.attrs.remove(bgp_proto::attr::code::MULTI_EXIT_DISC);
    let out = run(
        Actions {
            med: Some(MedAction::Add(5)),
            ..accept()
        },
        &no_med,
        &Env::default(),
    );
    assert_eq!(out.attrs.med(), Some(5));
    let out = run(
        Actions {
            local_pref: Some(300),
            ..accept()
        },
        &a,
        &Env::default(),
    );
    assert_eq!(out.attrs.local_pref(), Some(300));
    let out = run(
        Actions {
            origin: Some(Origin::Incomplete),
            ..accept()
        },
        &a,
        &Env::default(),
    );
    assert_eq!(out.attrs.origin(), Some(Origin::Incomplete));
}

#[test]
fn prepend_own_or_given_as() {
    let a = attrs();
    let env = Env {
        local_asn: 65000,
        ..Env::default()
    };
    let out = run(
        Actions {
            prepend: Some(Prepend {
                asn: None,
                times: 2,
            }),
            ..accept()
        },
        &a,
        &env,
    );
    assert_eq!(
        out.attrs.as_path().unwrap().to_string(),
        "65000 65000 65001 64512 65003"
    );
    let out = run(
        Actions {
            prepend: Some(Prepend {
                asn: Some(65001),
                times: 1,
            }),
            ..accept()
        },
        &a,
        &env,
    );
    assert_eq!(
        out.attrs.as_path().unwrap().to_string(),
        "65001 65001 64512 65003"
    );
}

#[test]
fn next_hop_self_address_unchanged() {
    let a = attrs();
    let own = NextHop::V4(Ipv4Addr::new(10, 0, 1, 1));
    let original = NextHop::V4(Ipv4Addr::new(10, 9, 9, 9));
    let env = Env {
        local_asn: 65000,
        self_next_hop: Some(own.clone()),
        original_next_hop: Some(original.clone()),
    };
    let nh = |n: &str| {
        run(
            Actions {
                next_hop: Some(n.parse().unwrap()),
                ..accept()
            },
            &a,
            &env,
        )
        .next_hop
    };
    assert_eq!(nh("self"), own);
    assert_eq!(nh("unchanged"), original);
    assert_eq!(nh("192.0.2.77"), NextHop::V4(Ipv4Addr::new(192, 0, 2, 77)));
    // An address of the other family leaves the next hop alone.
    assert_eq!(nh("2001:db8::1"), a.next_hop);
    let _ = Ipv6Addr::LOCALHOST;
}

#[test]
fn compile_reports_unknown_names_and_bad_expressions() {
    let mut c = sets();
    c.as_path_sets.push(PatternSetDef {
        name: "bad".into(),
        patterns: vec!["(".into()],
    });
    c.policies.push(PolicyDef {
        name: "p1".into(),
        statements: vec![StatementDef {
            name: "s".into(),
            conditions: Conditions {
                prefix_set: m("nope", MatchHow::Any),
                ..Conditions::default()
            },
            actions: accept(),
        }],
    });
    let a = Assignment {
        export: vec!["missing".into()],
        ..Assignment::default()
    };
    let errors = Engine::compile(&c, [(PEER, &a)]).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "as_path_sets[2].patterns[0]",
            "policies[0].statements[0].conditions.prefix_set",
            "neighbors[192.0.2.1].export_policy[0]",
        ],
        "{errors:?}"
    );
    assert!(errors[1].message.contains("no prefix set named \"nope\""));
    assert!(errors[2].message.contains("no policy named \"missing\""));
}

#[test]
fn chains_compare_by_what_they_depend_on() {
    let mut c = sets();
    c.policies.push(PolicyDef {
        name: "p1".into(),
        statements: vec![StatementDef {
            name: "s".into(),
            conditions: Conditions {
                prefix_set: m("p", MatchHow::Any),
                ..Conditions::default()
            },
            actions: accept(),
        }],
    });
    let a = Assignment {
        import: vec!["p1".into()],
        ..Assignment::default()
    };
    let e1 = Engine::compile(&c, [(PEER, &a)]).unwrap();
    let mut c2 = c.clone();
    c2.community_sets.clear(); // not used by p1
    let e2 = Engine::compile(&c2, [(PEER, &a)]).unwrap();
    assert!(
        e1.chain(PEER, Direction::Import)
            .same_as(e2.chain(PEER, Direction::Import))
    );
    c2.put_set(SetDef {
        kind: SetKind::Prefix,
        name: "p".into(),
        members: vec!["10.0.0.0/8".into()],
    })
    .unwrap();
    let e3 = Engine::compile(&c2, [(PEER, &a)]).unwrap();
    assert!(
        !e1.chain(PEER, Direction::Import)
            .same_as(e3.chain(PEER, Direction::Import))
    );
    assert!(
        e1.chain(PEER, Direction::Export)
            .same_as(e3.chain(PEER, Direction::Export))
    );
}

#[test]
fn text_forms_parse_and_reject_garbage() {
    let r: PrefixRange = "10.0.0.0/8 16..24".parse().unwrap();
    assert_eq!(r.to_string(), "10.0.0.0/8 16..24");
    assert_eq!(
        "10.0.0.0/8".parse::<PrefixRange>().unwrap().to_string(),
        "10.0.0.0/8"
    );
    assert!(
        "10.0.0.1/8"
            .parse::<PrefixRange>()
            .unwrap_err()
            .contains("host bits")
    );
    assert!("10.0.0.0/8 4..24".parse::<PrefixRange>().is_err());
    assert!("10.0.0.0/8 16..33".parse::<PrefixRange>().is_err());
    assert!("10.0.0.0/8 24..16".parse::<PrefixRange>().is_err());
    assert!("nonsense".parse::<PrefixRange>().is_err());
    assert!("gt 3".parse::<LengthCmp>().is_err());
    assert_eq!(
        parse_ext_community("ro:192.0.2.1:7").unwrap().to_string(),
        "ro:192.0.2.1:7"
    );
    assert!(parse_ext_community("xx:1:2").is_err());
    let mut c = PolicyConfig::default();
    let err = c
        .put_set(SetDef {
            kind: SetKind::Community,
            name: "x".into(),
            members: vec!["ok".into(), "(".into()],
        })
        .unwrap_err();
    assert!(err.starts_with("members[1]: "), "{err}");
    let _: IpNet = "10.0.0.0/8".parse().unwrap();
}
