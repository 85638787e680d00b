//! The policy sections of the configuration file: what parses to what, and each mistake
//! told with the file, the key and the problem.

use bgpd::config::{Config, ConfigError, from_str};
use bgpd::policy::def::{MatchHow, MedAction, NextHopAction, RouteType};
use bgpd::policy::{Disposition, Engine};

const FILE: &str = "test.toml";
const GLOBAL: &str = "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\n";

fn ok(toml: &str) -> Config {
    from_str(&format!("{GLOBAL}{toml}"), FILE)
        .unwrap_or_else(|e| panic!("expected a valid config, got:\n{e}"))
}

/// The problems, one line each.
fn errors(toml: &str) -> Vec<String> {
    let e: ConfigError = match from_str(&format!("{GLOBAL}{toml}"), FILE) {
        Ok(c) => panic!("expected an error, got {c:#?}"),
        Err(e) => e,
    };
    e.errors().iter().map(ToString::to_string).collect()
}

const FULL: &str = r#"
[policy]
default_import = "reject"

[[prefix_sets]]
name = "customers"
prefixes = ["203.0.113.0/24 24..28", "2001:db8::/32"]

[[neighbor_sets]]
name = "ixp"
neighbors = ["192.0.2.0/24", "2001:db8::1"]

[[as_path_sets]]
name = "transit"
patterns = ["_64512_"]

[[community_sets]]
name = "bh"
patterns = ["65000:666"]

[[ext_community_sets]]
name = "rt"
patterns = ["rt:65000:.*"]

[[large_community_sets]]
name = "lc"
patterns = ["65000:1:.*"]

[[policies]]
name = "in"
[[policies.statements]]
name = "one"
conditions = { prefix_set = "customers", prefix_set_match = "invert", neighbor_set = "ixp", as_path_set = "transit", as_path_set_match = "all", community_set = "bh", ext_community_set = "rt", large_community_set = "lc", as_path_length = "le 5", origin = "igp", next_hop = ["10.0.0.0/8"], route_type = "external", family = "ipv4-unicast" }
actions = { result = "accept", set_communities = [], add_communities = ["65000:1"], remove_communities = ["65000:.*"], add_ext_communities = ["rt:65000:7"], add_large_communities = ["65000:1:2"], add_med = 10, local_pref = 200, prepend = 2, prepend_asn = 64999, next_hop = "self", origin = "incomplete" }

[[neighbors]]
address = "10.0.0.2"
peer_asn = 65001
import_policy = ["in"]
export_policy = []
default_export = "reject"
route_server_client = true
soft_reconfiguration_inbound = true
"#;

#[test]
fn every_policy_key_is_read() {
    let c = ok(FULL);
    let p = &c.policy;
    assert_eq!(p.default_import, Disposition::Reject);
    assert_eq!(p.default_export, Disposition::Accept);
    assert_eq!(
        p.prefix_sets[0].prefixes[0].to_string(),
        "203.0.113.0/24 24..28"
    );
    assert_eq!(
        p.neighbor_sets[0].neighbors[1].to_string(),
        "2001:db8::1/128"
    );
    let st = &p.policies[0].statements[0];
    assert_eq!(st.name, "one");
    let cond = &st.conditions;
    assert_eq!(cond.prefix_set.as_ref().unwrap().how, MatchHow::Invert);
    assert_eq!(cond.as_path_set.as_ref().unwrap().how, MatchHow::All);
    assert_eq!(cond.community_set.as_ref().unwrap().how, MatchHow::Any);
    assert_eq!(cond.route_type, Some(RouteType::External));
    assert_eq!(cond.as_path_length.unwrap().to_string(), "le 5");
    let a = &st.actions;
    assert_eq!(a.result, Some(Disposition::Accept));
    assert_eq!(a.communities.set, Some(vec![]));
    assert_eq!(a.communities.remove, ["65000:.*"]);
    assert_eq!(a.med, Some(MedAction::Add(10)));
    assert_eq!(a.local_pref, Some(200));
    let prepend = a.prepend.unwrap();
    assert_eq!((prepend.asn, prepend.times), (Some(64999), 2));
    assert_eq!(a.next_hop, Some(NextHopAction::SelfAddr));
    let n = &c.neighbors[0];
    assert_eq!(n.policy.import, ["in"]);
    assert_eq!(n.policy.default_export, Some(Disposition::Reject));
    assert!(n.route_server_client && n.soft_reconfiguration_inbound);
    let assignments = c.neighbors.iter().map(|n| (n.address, &n.policy));
    assert!(Engine::compile(&c.policy, assignments).is_ok());
}

#[test]
fn unknown_names_are_errors_at_their_key() {
    let e = errors(
        "[[policies]]\nname = \"p\"\n[[policies.statements]]\nconditions = { community_set = \"nope\" }\n\
         [[neighbors]]\naddress = \"10.0.0.2\"\npeer_asn = 65001\nexport_policy = [\"p\", \"missing\"]\n",
    );
    assert_eq!(
        e,
        [
            "test.toml: policies[0].statements[0].conditions.community_set: no community set named \"nope\"",
            "test.toml: neighbors[0].export_policy[1]: no policy named \"missing\"",
        ]
    );
}

#[test]
fn bad_values_name_the_key_and_what_is_allowed() {
    let e = errors(
        r#"
[policy]
default_import = "drop"

[[prefix_sets]]
name = "p"
prefixes = ["10.0.0.1/8", "10.0.0.0/8 4..24"]

[[as_path_sets]]
name = "a"
patterns = ["("]

[[community_sets]]
name = "a b"
patterns = []

[[policies]]
name = "x"
[[policies.statements]]
conditions = { origin = "bgp", as_path_length = "gt 3", prefix_set_match = "any", colour = "red" }
actions = { set_med = 1, add_med = 2, next_hop = "here", prepend = 40, add_communities = ["65536:1"] }
"#,
    );
    let want = [
        "test.toml: policy.default_import: \"drop\" is not valid; expected \"accept\" or \"reject\"",
        "test.toml: prefix_sets[0].prefixes[0]: 10.0.0.1/8 has host bits set; did you mean \"10.0.0.0/8\"?",
        "test.toml: prefix_sets[0].prefixes[1]: \"10.0.0.0/8 4..24\": the length range 4..24 must lie within 8..32 and not be empty",
        "test.toml: community_sets[0].name: \"a b\" is not a valid name",
        "test.toml: policies[0].statements[0].conditions.prefix_set_match: needs prefix_set",
        "test.toml: policies[0].statements[0].conditions.as_path_length: \"gt 3\" is not valid",
        "test.toml: policies[0].statements[0].conditions.origin:",
        "test.toml: policies[0].statements[0].conditions.colour: unknown key",
        "test.toml: policies[0].statements[0].actions.add_communities[0]:",
        "test.toml: policies[0].statements[0].actions.set_med: set_med, add_med and subtract_med exclude each other",
        "test.toml: policies[0].statements[0].actions.prepend: 40 is out of range; expected 1..=32 times",
        "test.toml: policies[0].statements[0].actions.next_hop: \"here\" is not valid",
    ];
    for w in want {
        assert!(
            e.iter().any(|l| l.starts_with(w)),
            "no line starting {w:?} in:\n{}",
            e.join("\n")
        );
    }
    // The bad regular expression is found once the rest is valid.
    let e = errors("[[as_path_sets]]\nname = \"a\"\npatterns = [\"ok\", \"(\"]\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e,
        [
            "test.toml: as_path_sets[0].patterns[1]: \"(\" is not a valid regular expression: unclosed group"
        ]
    );
}

#[test]
fn duplicate_names_and_route_server_on_ibgp_are_errors() {
    let e = errors(
        "[[prefix_sets]]\nname = \"p\"\nprefixes = []\n[[prefix_sets]]\nname = \"p\"\nprefixes = []\n\
         [[neighbors]]\naddress = \"10.0.0.2\"\npeer_asn = 65000\nroute_server_client = true\n",
    );
    assert!(
        e.iter().any(|l| l.starts_with(
            "test.toml: prefix_sets[1].name: \"p\" is already the name of prefix_sets[0]"
        )),
        "{e:?}"
    );
    assert!(
        e.iter().any(|l| l.starts_with(
            "test.toml: neighbors[0].route_server_client: is only for eBGP neighbors"
        )),
        "{e:?}"
    );
}

#[test]
fn a_set_name_may_repeat_across_kinds() {
    let c = ok(
        "[[prefix_sets]]\nname = \"x\"\nprefixes = []\n[[community_sets]]\nname = \"x\"\npatterns = []\n",
    );
    assert_eq!(c.policy.sets().len(), 2);
}
