//! The session-rule keys of `[[neighbors]]` (local-as, remove-private-as, allowas-in, AS
//! override, role, max_prefix, add_path): what they parse to and how each mistake is told.

use std::time::Duration;

use bgp_proto::Family;
use bgp_proto::capability::{AddPathMode, Role};
use bgpd::config::{
    AddPath, Config, ConfigError, LocalAs, MaxPrefix, RemovePrivateAs, SessionRules, from_str,
};

const FILE: &str = "rules.toml";
const GLOBAL: &str = "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\n";

/// `GLOBAL` plus one eBGP neighbor (both families) with these extra lines.
fn with_neighbor(lines: &str) -> String {
    format!(
        "{GLOBAL}[[neighbors]]\naddress = \"10.0.0.2\"\npeer_asn = 65001\n\
         families = [\"ipv4-unicast\", \"ipv6-unicast\"]\n{lines}\n"
    )
}

fn ok(toml: &str) -> Config {
    from_str(toml, FILE).unwrap_or_else(|e| panic!("expected a valid config, got:\n{e}"))
}

fn err(toml: &str) -> ConfigError {
    match from_str(toml, FILE) {
        Ok(config) => panic!("expected an error, got {config:#?}"),
        Err(e) => e,
    }
}

/// Asserts a problem at `key` whose line contains every one of `words`.
#[track_caller]
fn rejects(toml: &str, key: &str, words: &[&str]) {
    let e = err(toml);
    let Some(problem) = e.errors().iter().find(|p| p.key() == Some(key)) else {
        panic!("no problem at {key}; got:\n{e}");
    };
    let line = problem.to_string();
    assert!(line.starts_with(&format!("{FILE}: {key}: ")), "{line}");
    for word in words {
        assert!(line.contains(word), "{line:?} should contain {word:?}");
    }
}

#[test]
fn every_rule_parses_to_its_value() {
    let c = ok(&with_neighbor(
        r#"
local_as = 65100
local_as_no_prepend = true
local_as_replace_as = true
remove_private_as = "replace"
allowas_in = 3
as_override = true
role = "customer"
role_strict = true

[[neighbors.max_prefix]]
family = "ipv4-unicast"
limit = 1000
warning_percent = 90
restart_after = 60

[[neighbors.max_prefix]]
family = "ipv6-unicast"
limit = 50

[[neighbors.add_path]]
family = "ipv4-unicast"
mode = "both"
send_max = 4

[[neighbors.add_path]]
family = "ipv6-unicast"
mode = "receive"
"#,
    ));
    assert_eq!(
        c.neighbors[0].rules,
        SessionRules {
            local_as: Some(LocalAs {
                asn: 65100,
                no_prepend: true,
                replace_as: true,
            }),
            remove_private_as: Some(RemovePrivateAs::Replace),
            allowas_in: 3,
            as_override: true,
            role: Some(Role::Customer),
            role_strict: true,
            max_prefix: vec![
                MaxPrefix {
                    family: Family::IPV4_UNICAST,
                    limit: 1000,
                    warning_percent: 90,
                    restart_after: Some(Duration::from_secs(60)),
                },
                MaxPrefix {
                    family: Family::IPV6_UNICAST,
                    limit: 50,
                    warning_percent: 75,
                    restart_after: None,
                },
            ],
            add_path: vec![
                AddPath {
                    family: Family::IPV4_UNICAST,
                    mode: AddPathMode::Both,
                    send_max: Some(4),
                },
                AddPath {
                    family: Family::IPV6_UNICAST,
                    mode: AddPathMode::Receive,
                    send_max: None,
                },
            ],
        }
    );
    let plain = ok(&with_neighbor(""));
    assert_eq!(plain.neighbors[0].rules, SessionRules::default());
}

#[test]
fn every_role_name_is_accepted_and_others_are_listed() {
    for (name, role) in [
        ("provider", Role::Provider),
        ("customer", Role::Customer),
        ("rs", Role::RouteServer),
        ("rs-client", Role::RouteServerClient),
        ("peer", Role::Peer),
    ] {
        let c = ok(&with_neighbor(&format!("role = \"{name}\"")));
        assert_eq!(c.neighbors[0].rules.role, Some(role));
    }
    rejects(
        &with_neighbor("role = \"upstream\""),
        "neighbors[0].role",
        &["\"upstream\" is not a BGP role", "\"rs-client\""],
    );
    rejects(
        &with_neighbor("role_strict = true"),
        "neighbors[0].role_strict",
        &["needs a role"],
    );
}

#[test]
fn as_rules_are_checked() {
    rejects(
        &with_neighbor("local_as = 65000"),
        "neighbors[0].local_as",
        &["global.asn already"],
    );
    rejects(
        &with_neighbor("local_as = 65001"),
        "neighbors[0].local_as",
        &["peer_asn"],
    );
    rejects(
        &with_neighbor("local_as = 23456"),
        "neighbors[0].local_as",
        &["AS_TRANS"],
    );
    rejects(
        &with_neighbor("local_as_replace_as = true"),
        "neighbors[0].local_as_replace_as",
        &["needs local_as"],
    );
    rejects(
        &with_neighbor("remove_private_as = \"some\""),
        "neighbors[0].remove_private_as",
        &["\"all\"", "\"replace\""],
    );
    rejects(
        &with_neighbor("allowas_in = 11"),
        "neighbors[0].allowas_in",
        &["11 is out of range", "0..=10"],
    );
    rejects(
        &with_neighbor("as_override = \"yes\""),
        "neighbors[0].as_override",
        &["true or false"],
    );
}

#[test]
fn ebgp_only_rules_are_refused_on_ibgp_neighbors() {
    let ibgp = |line: &str| {
        format!("{GLOBAL}[[neighbors]]\naddress = \"10.0.0.3\"\npeer_asn = 65000\n{line}\n")
    };
    for (line, key) in [
        ("local_as = 65100", "local_as"),
        ("remove_private_as = \"all\"", "remove_private_as"),
        ("as_override = true", "as_override"),
        ("role = \"peer\"", "role"),
    ] {
        rejects(
            &ibgp(line),
            &format!("neighbors[0].{key}"),
            &["only for eBGP neighbors"],
        );
    }
}

#[test]
fn max_prefix_entries_are_checked() {
    let entry = |lines: &str| with_neighbor(&format!("[[neighbors.max_prefix]]\n{lines}"));
    rejects(
        &entry("family = \"ipv4-unicast\""),
        "neighbors[0].max_prefix[0].limit",
        &["missing"],
    );
    rejects(
        &entry("family = \"ipv4-unicast\"\nlimit = 0"),
        "neighbors[0].max_prefix[0].limit",
        &["0 is out of range"],
    );
    rejects(
        &entry("family = \"ipv4-unicast\"\nlimit = 10\nwarning_percent = 101"),
        "neighbors[0].max_prefix[0].warning_percent",
        &["1..=100"],
    );
    rejects(
        &entry("family = \"ipv4-unicast\"\nlimit = 10\nrestart_after = 0"),
        "neighbors[0].max_prefix[0].restart_after",
        &["seconds 1..=65535"],
    );
    rejects(
        &entry("family = \"ipv4-unicast\"\nlimit = 10\nlimt = 3"),
        "neighbors[0].max_prefix[0].limt",
        &["unknown key", "did you mean `limit`"],
    );
    rejects(
        &entry(
            "family = \"ipv4-unicast\"\nlimit = 10\n[[neighbors.max_prefix]]\n\
             family = \"ipv4-unicast\"\nlimit = 20",
        ),
        "neighbors[0].max_prefix[1].family",
        &["one entry per family"],
    );
    // A family the neighbor does not use.
    let v4_only = format!(
        "{GLOBAL}[[neighbors]]\naddress = \"10.0.0.2\"\npeer_asn = 65001\n\
         [[neighbors.max_prefix]]\nfamily = \"ipv6-unicast\"\nlimit = 5\n"
    );
    rejects(
        &v4_only,
        "neighbors[0].max_prefix[0].family",
        &["not in this neighbor's families", "ipv4-unicast"],
    );
}

#[test]
fn add_path_entries_are_checked() {
    let entry = |lines: &str| with_neighbor(&format!("[[neighbors.add_path]]\n{lines}"));
    rejects(
        &entry("family = \"ipv4-unicast\"\nmode = \"sometimes\""),
        "neighbors[0].add_path[0].mode",
        &["\"receive\", \"send\" or \"both\""],
    );
    rejects(
        &entry("family = \"ipv4-unicast\"\nmode = \"receive\"\nsend_max = 2"),
        "neighbors[0].add_path[0].send_max",
        &["only for sending"],
    );
    rejects(
        &entry("family = \"ipv4-unicast\"\nmode = \"send\"\nsend_max = 0"),
        "neighbors[0].add_path[0].send_max",
        &["1..=1024"],
    );
    rejects(
        &entry("mode = \"send\""),
        "neighbors[0].add_path[0].family",
        &["missing"],
    );
    rejects(
        &entry("family = \"l2vpn\"\nmode = \"send\""),
        "neighbors[0].add_path[0].family",
        &["not a known family"],
    );
}
