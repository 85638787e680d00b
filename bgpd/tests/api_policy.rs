//! The policy calls of the API against an in-process daemon: sets and policies stored,
//! listed and deleted, neighbours' chains assigned, and every bad input refused with the
//! field named.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod api_common;

use api_common::{assert_status, peer_config, start};
use bgp_api::bgpd::v1 as pb;
use tonic::Code;

const GLOBAL: &str = "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\nlisten = []\n";

fn prefix_set(name: &str, members: &[&str]) -> pb::AddDefinedSetRequest {
    pb::AddDefinedSetRequest {
        set: Some(pb::DefinedSet {
            kind: pb::DefinedSetKind::Prefix as i32,
            name: name.into(),
            members: members.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

fn policy(name: &str, conditions: pb::Conditions, actions: pb::Actions) -> pb::AddPolicyRequest {
    pb::AddPolicyRequest {
        policy: Some(pb::Policy {
            name: name.into(),
            statements: vec![pb::Statement {
                name: "s".into(),
                conditions: Some(conditions),
                actions: Some(actions),
            }],
        }),
    }
}

fn on_set(set: &str) -> pb::Conditions {
    pb::Conditions {
        prefix_set: Some(pb::SetMatch {
            set: set.into(),
            r#match: pb::SetMatchKind::Any as i32,
        }),
        ..pb::Conditions::default()
    }
}

#[tokio::test]
async fn sets_and_policies_are_stored_listed_and_refused_when_wrong() {
    let mut n = start(GLOBAL).await;
    let api = &mut n.api;
    assert_status(
        api.add_defined_set(prefix_set("p", &["10.0.0.0/8", "10.0.0.0/8 4..9"]))
            .await,
        Code::InvalidArgument,
        &["set.members[1]: ", "4..9"],
    );
    let mut no_kind = prefix_set("p", &[]);
    no_kind.set.as_mut().unwrap().kind = 0;
    assert_status(
        api.add_defined_set(no_kind).await,
        Code::InvalidArgument,
        &["set.kind"],
    );
    assert_status(
        api.add_policy(policy("x", on_set("nope"), pb::Actions::default()))
            .await,
        Code::InvalidArgument,
        &["policy.statements[0].conditions.prefix_set: no prefix set named \"nope\""],
    );
    let mut bad = on_set("nope");
    bad.origin = "bgp".into();
    assert_status(
        api.add_policy(policy("x", bad, pb::Actions::default()))
            .await,
        Code::InvalidArgument,
        &["policy.statements[0].conditions.origin: "],
    );
    assert_status(
        api.add_policy(policy(
            "x",
            pb::Conditions::default(),
            pb::Actions {
                med: "double 3".into(),
                ..pb::Actions::default()
            },
        ))
        .await,
        Code::InvalidArgument,
        &["policy.statements[0].actions.med: "],
    );

    api.add_defined_set(prefix_set("p", &["10.0.0.0/8 16..24"]))
        .await
        .unwrap();
    let actions = pb::Actions {
        result: "accept".into(),
        med: "subtract 5".into(),
        local_pref: Some(250),
        prepend: 3,
        next_hop: "unchanged".into(),
        communities: Some(pb::CommunityEdit {
            add: vec!["65000:1".into()],
            remove: vec!["65000:.*".into()],
            ..pb::CommunityEdit::default()
        }),
        ..pb::Actions::default()
    };
    api.add_policy(policy("x", on_set("p"), actions.clone()))
        .await
        .unwrap();
    let sets = api
        .list_defined_sets(pb::ListDefinedSetsRequest { kind: 0 })
        .await
        .unwrap()
        .into_inner()
        .sets;
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].members, ["10.0.0.0/8 16..24"]);
    let listed = api
        .list_policies(pb::ListPoliciesRequest {})
        .await
        .unwrap()
        .into_inner();
    let st = &listed.policies[0].statements[0];
    assert_eq!(
        st.actions.as_ref().unwrap(),
        &actions,
        "actions come back as given"
    );
    assert_eq!(st.conditions.as_ref().unwrap(), &on_set("p"));
    assert_eq!(listed.default_import, pb::PolicyDefault::Accept as i32);

    // A neighbour naming a missing policy is refused; one naming `x` keeps it in use.
    let mut peer = peer_config("127.0.0.2", 65002);
    peer.import_policy = vec!["missing".into()];
    assert_status(
        api.add_peer(pb::AddPeerRequest {
            peer: Some(peer.clone()),
        })
        .await,
        Code::InvalidArgument,
        &["peer.import_policy[0]: no policy named \"missing\""],
    );
    peer.import_policy = vec!["x".into()];
    api.add_peer(pb::AddPeerRequest {
        peer: Some(peer.clone()),
    })
    .await
    .unwrap();
    assert_status(
        api.delete_policy(pb::DeletePolicyRequest { name: "x".into() })
            .await,
        Code::FailedPrecondition,
        &["127.0.0.2"],
    );
    assert_status(
        api.delete_defined_set(pb::DeleteDefinedSetRequest {
            kind: pb::DefinedSetKind::Prefix as i32,
            name: "p".into(),
        })
        .await,
        Code::FailedPrecondition,
        &["policy x"],
    );
    // Changing only a chain does not reset the session.
    peer.import_policy = vec![];
    peer.export_policy = vec!["x".into()];
    peer.default_export = pb::PolicyDefault::Reject as i32;
    let r = api
        .update_peer(pb::UpdatePeerRequest { peer: Some(peer) })
        .await
        .unwrap();
    assert!(!r.into_inner().reset);
    let got = api
        .get_peer(pb::GetPeerRequest {
            address: "127.0.0.2".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .peer
        .unwrap()
        .config
        .unwrap();
    assert!(got.import_policy.is_empty());
    assert_eq!(got.export_policy, ["x"]);
    assert_eq!(got.default_export, pb::PolicyDefault::Reject as i32);

    assert_status(
        api.set_policy_assignment(pb::SetPolicyAssignmentRequest {
            address: "127.0.0.9".into(),
            direction: pb::PolicyDirection::Import as i32,
            policies: vec![],
            default: 0,
        })
        .await,
        Code::NotFound,
        &["127.0.0.9"],
    );
    assert_status(
        api.set_policy_assignment(pb::SetPolicyAssignmentRequest {
            address: "127.0.0.2".into(),
            direction: 0,
            policies: vec![],
            default: 0,
        })
        .await,
        Code::InvalidArgument,
        &["direction"],
    );
    api.set_policy_assignment(pb::SetPolicyAssignmentRequest {
        address: "127.0.0.2".into(),
        direction: pb::PolicyDirection::Export as i32,
        policies: vec![],
        default: 0,
    })
    .await
    .unwrap();
    api.delete_policy(pb::DeletePolicyRequest { name: "x".into() })
        .await
        .unwrap();
    assert_status(
        api.delete_policy(pb::DeletePolicyRequest { name: "x".into() })
            .await,
        Code::NotFound,
        &["no policy named \"x\""],
    );
    api.set_policy_defaults(pb::SetPolicyDefaultsRequest {
        default_import: pb::PolicyDefault::Reject as i32,
        default_export: 0,
    })
    .await
    .unwrap();
    let listed = api
        .list_policies(pb::ListPoliciesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.default_import, pb::PolicyDefault::Reject as i32);
    assert_eq!(listed.default_export, pb::PolicyDefault::Accept as i32);
    n.stop().await;
}

#[tokio::test]
async fn load_takes_the_files_form_all_or_nothing() {
    let mut n = start(GLOBAL).await;
    let api = &mut n.api;
    let good = r#"
[[community_sets]]
name = "bh"
patterns = ["65000:666"]
[[policies]]
name = "drop-bh"
[[policies.statements]]
conditions = { community_set = "bh" }
actions = { result = "reject" }
"#;
    api.load_policy(pb::LoadPolicyRequest { toml: good.into() })
        .await
        .unwrap();
    let bad = "[[policies]]\nname = \"y\"\n[[policies.statements]]\nconditions = { as_path_set = \"none\" }\n";
    assert_status(
        api.load_policy(pb::LoadPolicyRequest { toml: bad.into() })
            .await,
        Code::InvalidArgument,
        &["policies[0].statements[0].conditions.as_path_set: no as-path set named \"none\""],
    );
    let listed = api
        .list_policies(pb::ListPoliciesRequest {})
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = listed.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["drop-bh"], "the bad text added nothing");
    let sets = api
        .list_defined_sets(pb::ListDefinedSetsRequest {
            kind: pb::DefinedSetKind::Community as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .sets;
    assert_eq!(sets.len(), 1);
    n.stop().await;
}
