//! The configuration file as an operator meets it: what parses to what, and what each
//! mistake is told as (file, key, problem, what is allowed).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use bgp_proto::Family;
use bgpd::config::{
    self, Community, Config, ConfigError, LargeCommunity, Location, Origin, from_str, load,
};
use proptest::prelude::*;

const FILE: &str = "test.toml";

/// The example from issue 3.
const EXAMPLE: &str = r#"
[global]
asn = 65000
router_id = "10.0.0.1"
listen = ["0.0.0.0:179", "[::]:179"]   # default; port may differ for tests; [] = do not listen (outbound only)

[[neighbors]]
address = "10.0.0.2"
peer_asn = 65001
passive = false                 # default false
hold_time = 90                  # keepalive is a third of it unless set
families = ["ipv4-unicast", "ipv6-unicast"]
local_address = "10.0.0.1"      # optional
multihop_ttl = 1                # optional, eBGP multihop
route_reflector_client = false  # iBGP only
description = "tor-1"

[[originate]]                   # prefixes this router announces
prefix = "192.0.2.0/24"
"#;

const GLOBAL: &str = "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\n";

fn ok(toml: &str) -> Config {
    from_str(toml, FILE).unwrap_or_else(|e| panic!("expected a valid config, got:\n{e}"))
}

fn err(toml: &str) -> ConfigError {
    match from_str(toml, FILE) {
        Ok(config) => panic!("expected an error, got {config:#?}"),
        Err(e) => e,
    }
}

/// `GLOBAL` plus one neighbor with these extra lines.
fn with_neighbor(lines: &str) -> String {
    format!("{GLOBAL}[[neighbors]]\naddress = \"10.0.0.2\"\npeer_asn = 65001\n{lines}\n")
}

/// `GLOBAL` plus one originate entry with these lines.
fn with_originate(lines: &str) -> String {
    format!("{GLOBAL}[[originate]]\n{lines}\n")
}

/// Asserts that `toml` is rejected with a problem at `key` whose line reads
/// `test.toml: KEY: ...` and contains every one of `words`; returns that line.
#[track_caller]
fn rejects(toml: &str, key: &str, words: &[&str]) -> String {
    let e = err(toml);
    let Some(problem) = e.errors().iter().find(|p| p.key() == Some(key)) else {
        panic!("no problem at {key}; got:\n{e}");
    };
    let line = problem.to_string();
    assert!(line.starts_with(&format!("{FILE}: {key}: ")), "{line}");
    for word in words {
        assert!(line.contains(word), "{line:?} should contain {word:?}");
    }
    assert!(
        e.to_string().lines().any(|l| l == line),
        "Display should list {line:?}:\n{e}"
    );
    line
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn the_issue_example_parses_with_its_values_and_defaults() {
    let c = ok(EXAMPLE);
    let g = &c.global;
    assert_eq!(g.asn, 65000);
    assert_eq!(g.router_id, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(
        g.cluster_id, g.router_id,
        "cluster_id defaults to router_id"
    );
    let listen: Vec<SocketAddr> = vec!["0.0.0.0:179".parse().unwrap(), "[::]:179".parse().unwrap()];
    assert_eq!(g.listen, listen);
    assert!(!g.always_compare_med);
    assert!(!g.multipath);
    assert_eq!(g.connect_retry, secs(5));
    assert_eq!(g.connect_retry_max, secs(120));

    assert_eq!(c.neighbors.len(), 1);
    let n = &c.neighbors[0];
    assert_eq!(n.address, IpAddr::from([10, 0, 0, 2]));
    assert_eq!(n.port, 179);
    assert_eq!(n.peer_asn, 65001);
    assert!(!n.is_ibgp(g.asn));
    assert!(!n.passive);
    assert!(n.enabled);
    assert_eq!(n.hold_time, secs(90));
    assert_eq!(n.keepalive, secs(30), "a third of the hold time");
    assert_eq!(n.families, [Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert_eq!(n.local_address, Some(IpAddr::from([10, 0, 0, 1])));
    assert_eq!(n.multihop_ttl, Some(1));
    assert!(!n.route_reflector_client);
    assert_eq!(n.description.as_deref(), Some("tor-1"));
    assert_eq!(n.connect_retry, secs(5), "the global connect_retry");
    assert_eq!(n.socket_addr(), "10.0.0.2:179".parse().unwrap());
    assert_eq!(c.neighbor(n.address), Some(n));

    assert_eq!(c.originate.len(), 1);
    let o = &c.originate[0];
    assert_eq!(o.prefix, "192.0.2.0/24".parse().unwrap());
    assert_eq!(o.next_hop, None);
    assert!(o.communities.is_empty() && o.large_communities.is_empty());
    assert_eq!((o.med, o.local_pref, o.origin), (None, None, Origin::Igp));
}

#[test]
fn every_key_of_the_full_fixture_is_read() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/full.toml");
    let c = load(&path).unwrap_or_else(|e| panic!("{e}"));
    let g = &c.global;
    assert_eq!(g.cluster_id, Ipv4Addr::new(10, 255, 0, 1));
    assert_eq!(g.listen.len(), 2);
    assert_eq!(g.listen[1], "[::1]:1179".parse().unwrap());
    assert!(g.always_compare_med && g.multipath);
    assert_eq!((g.connect_retry, g.connect_retry_max), (secs(2), secs(60)));

    let n = &c.neighbors[0];
    assert_eq!(n.port, 1179);
    assert!(!n.enabled && n.passive);
    assert_eq!((n.hold_time, n.keepalive), (secs(30), secs(5)));
    assert_eq!(n.multihop_ttl, Some(2));
    assert_eq!(n.connect_retry, secs(1), "the neighbor's own connect_retry");

    let v6 = &c.neighbors[1];
    assert!(v6.is_ibgp(g.asn) && v6.route_reflector_client);
    assert_eq!(
        v6.families,
        [Family::IPV6_UNICAST],
        "defaults to the address's family"
    );
    assert_eq!(v6.connect_retry, secs(2), "the global connect_retry");

    let o = &c.originate[0];
    assert_eq!(o.next_hop, Some(IpAddr::from([10, 0, 0, 1])));
    assert_eq!(
        o.communities,
        [Community::new(65000, 100), Community::NO_EXPORT]
    );
    assert_eq!(
        o.large_communities,
        [LargeCommunity {
            global: 65000,
            local1: 1,
            local2: 2
        }]
    );
    assert_eq!((o.med, o.local_pref), (Some(10), Some(200)));
    assert_eq!(o.origin, Origin::Incomplete);
    assert_eq!(c.originate[1].prefix, "2001:db8:100::/48".parse().unwrap());
}

#[test]
fn a_minimal_file_gets_every_default() {
    let c = ok(GLOBAL);
    assert_eq!(c.global.listen.len(), 2);
    assert!(c.neighbors.is_empty() && c.originate.is_empty());
    let c = ok(&format!("{GLOBAL}listen = []\n"));
    assert!(c.global.listen.is_empty(), "[] means outbound only");
}

#[test]
fn equal_files_give_equal_configs_and_a_change_shows() {
    let a = ok(EXAMPLE);
    assert_eq!(a, ok(EXAMPLE).clone());
    let b = ok(&EXAMPLE.replace("hold_time = 90", "hold_time = 30"));
    assert_ne!(a, b);
    assert_eq!(b.neighbors[0].keepalive, secs(10));
}

// ---- how problems are reported ----

#[test]
fn a_missing_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let e = load(&path).unwrap_err();
    let line = e.to_string();
    assert!(line.starts_with(&path.display().to_string()), "{line}");
    assert!(line.contains("cannot read configuration file"), "{line}");
    assert_eq!(e.errors()[0].location(), &Location::File);
}

#[test]
fn load_names_the_file_in_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bgpd.toml");
    std::fs::write(&path, "[global]\nasn = 0\nrouter_id = \"0.0.0.0\"\n").unwrap();
    let e = load(&path).unwrap_err();
    let file = path.display().to_string();
    assert_eq!(e.errors().len(), 2, "{e}");
    for problem in e.errors() {
        assert_eq!(problem.file(), file);
        assert!(problem.to_string().starts_with(&format!("{file}: global.")));
    }
}

#[test]
fn a_toml_syntax_error_is_one_problem_with_line_and_column() {
    let e = err("[global]\nasn = 65000\nrouter_id = abc\n");
    assert_eq!(e.errors().len(), 1, "{e}");
    let Location::Position { line, column } = *e.errors()[0].location() else {
        panic!("no position in {e}");
    };
    assert_eq!((line, column), (3, 13));
    let text = e.to_string();
    assert!(
        text.starts_with("test.toml:3:13: TOML syntax error: "),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn a_duplicate_key_is_a_syntax_error_at_its_line() {
    let e = err("[global]\nasn = 65000\nasn = 65001\nrouter_id = \"10.0.0.1\"\n");
    assert!(e.to_string().starts_with("test.toml:3:"), "{e}");
}

#[test]
fn unknown_keys_are_named_at_every_level() {
    rejects(
        &format!("{GLOBAL}[bgp]\nasn = 1\n"),
        "bgp",
        &[
            "unknown key",
            "allowed at the top level: global, neighbors, originate",
        ],
    );
    rejects(
        &format!("{GLOBAL}routerid = \"10.0.0.9\"\n"),
        "global.routerid",
        &[
            "unknown key",
            "did you mean `router_id`?",
            "connect_retry_max",
        ],
    );
    rejects(
        &with_neighbor("holdtime = 30"),
        "neighbors[0].holdtime",
        &["unknown key", "did you mean `hold_time`?"],
    );
    rejects(
        &with_originate("prefix = \"192.0.2.0/24\"\ncommunity = [\"1:1\"]"),
        "originate[0].community",
        &["unknown key", "did you mean `communities`?"],
    );
}

#[test]
fn a_string_is_not_a_number_nor_a_boolean() {
    rejects(
        "[global]\nasn = \"65000\"\nrouter_id = \"10.0.0.1\"\n",
        "global.asn",
        &[r#"found string "65000""#, "expected an AS number"],
    );
    rejects(
        &with_neighbor("passive = \"yes\""),
        "neighbors[0].passive",
        &[r#"found string "yes""#, "expected true or false"],
    );
    rejects(
        &with_neighbor("families = \"ipv4-unicast\""),
        "neighbors[0].families",
        &["found string", "expected an array"],
    );
    rejects(
        &with_neighbor("description = 5"),
        "neighbors[0].description",
        &["found integer 5", "expected a string"],
    );
    rejects(
        "[global]\nasn = 65000\nrouter_id = \"10.0.0.1\"\nlisten = \"0.0.0.0:179\"\n",
        "global.listen",
        &["found string", "expected an array"],
    );
}

#[test]
fn sections_must_have_their_shape() {
    rejects(
        &format!("{GLOBAL}[neighbors]\naddress = \"10.0.0.2\"\n"),
        "neighbors",
        &["found a table", "[[neighbors]]"],
    );
    rejects("global = 5\n", "global", &["found integer 5", "[global]"]);
    rejects("", "global", &["missing", "asn and router_id"]);
    rejects("[global]\nasn = 65000\n", "global.router_id", &["missing"]);
    rejects(
        &format!("{GLOBAL}[[neighbors]]\npeer_asn = 1\n"),
        "neighbors[0].address",
        &["missing"],
    );
    rejects(
        &format!("{GLOBAL}[[neighbors]]\naddress = \"10.0.0.2\"\n"),
        "neighbors[0].peer_asn",
        &["missing"],
    );
    rejects(
        &with_originate("med = 1"),
        "originate[0].prefix",
        &["missing"],
    );
}

#[test]
fn every_problem_of_a_file_is_reported_in_file_order() {
    let toml = r#"
        typo = 1
        [global]
        asn = 23456
        router_id = "0.0.0.0"
        listen = ["0.0.0.0"]
        [[neighbors]]
        address = "10.0.0.2"
        peer_asn = "x"
        hold_time = 2
        [[neighbors]]
        address = "10.0.0.2"
        peer_asn = 65001
        families = ["ipv4-unicast", "l2vpn-evpn"]
        [[originate]]
        prefix = "192.0.2.1/24"
        origin = "bgp"
    "#;
    let e = err(toml);
    let keys: Vec<&str> = e.errors().iter().filter_map(|p| p.key()).collect();
    assert_eq!(
        keys,
        [
            "typo",
            "global.asn",
            "global.router_id",
            "global.listen[0]",
            "neighbors[0].peer_asn",
            "neighbors[0].hold_time",
            "neighbors[1].address",
            "neighbors[1].families[1]",
            "originate[0].prefix",
            "originate[0].origin",
        ],
        "{e}"
    );
    assert_eq!(e.to_string().lines().count(), keys.len());
    assert!(e.to_string().lines().all(|l| l.starts_with("test.toml: ")));
}

// ---- one test per rule ----

#[test]
fn asn_is_1_to_u32_max_but_not_as_trans() {
    for (asn, words) in [
        ("0", &["0 is out of range", "1..=4294967295"][..]),
        ("4294967296", &["4294967296 is out of range"]),
        ("-5", &["-5 is out of range"]),
        ("23456", &["AS_TRANS", "other than 23456"]),
    ] {
        let toml = format!("[global]\nasn = {asn}\nrouter_id = \"10.0.0.1\"\n");
        rejects(&toml, "global.asn", words);
        rejects(
            &with_neighbor("").replace("65001", asn),
            "neighbors[0].peer_asn",
            words,
        );
    }
    assert_eq!(
        ok(&GLOBAL.replace("65000", "4294967295")).global.asn,
        u32::MAX
    );
}

#[test]
fn router_id_is_an_ipv4_address_other_than_zero() {
    rejects(
        &GLOBAL.replace("10.0.0.1", "0.0.0.0"),
        "global.router_id",
        &["0.0.0.0 is not a valid router id"],
    );
    rejects(
        &GLOBAL.replace("10.0.0.1", "2001:db8::1"),
        "global.router_id",
        &["expected an IPv4 address"],
    );
}

#[test]
fn cluster_id_is_a_dotted_quad_or_a_number() {
    let c = ok(&format!("{GLOBAL}cluster_id = 1\n"));
    assert_eq!(c.global.cluster_id, Ipv4Addr::new(0, 0, 0, 1));
    rejects(
        &format!("{GLOBAL}cluster_id = \"x\"\n"),
        "global.cluster_id",
        &["dotted quad"],
    );
}

#[test]
fn listen_entries_are_socket_addresses_once_each() {
    rejects(
        &format!("{GLOBAL}listen = [\"127.0.0.1:1179\", \"10.0.0.1\"]\n"),
        "global.listen[1]",
        &[
            "not a socket address",
            "did you mean \"10.0.0.1:179\"?",
            "IP:PORT",
        ],
    );
    rejects(
        &format!("{GLOBAL}listen = [\"[::1]:1179\", \"[::1]:1179\"]\n"),
        "global.listen[1]",
        &["listed twice"],
    );
}

#[test]
fn connect_retry_max_is_at_least_connect_retry() {
    rejects(
        &format!("{GLOBAL}connect_retry = 30\nconnect_retry_max = 10\n"),
        "global.connect_retry_max",
        &["less than connect_retry"],
    );
    rejects(
        &format!("{GLOBAL}connect_retry = 0\n"),
        "global.connect_retry",
        &["0 is out of range", "1..=65535"],
    );
    rejects(
        &with_neighbor("connect_retry = 70000"),
        "neighbors[0].connect_retry",
        &["out of range"],
    );
}

#[test]
fn neighbor_addresses_are_unique_unicast_addresses() {
    let toml = format!(
        "{}[[neighbors]]\naddress = \"10.0.0.2\"\npeer_asn = 65002\n",
        with_neighbor("")
    );
    rejects(
        &toml,
        "neighbors[1].address",
        &["already the address of neighbors[0]"],
    );
    rejects(
        &with_neighbor("").replace("10.0.0.2", "224.0.0.5"),
        "neighbors[0].address",
        &["not a unicast address"],
    );
    rejects(
        &with_neighbor("").replace("10.0.0.2", "10.0.0.300"),
        "neighbors[0].address",
        &["\"10.0.0.300\" is not valid"],
    );
}

#[test]
fn hold_time_is_zero_or_three_to_65535() {
    for bad in ["1", "2"] {
        rejects(
            &with_neighbor(&format!("hold_time = {bad}")),
            "neighbors[0].hold_time",
            &["too short", "0 (no keepalives) or 3..=65535"],
        );
    }
    rejects(
        &with_neighbor("hold_time = 65536"),
        "neighbors[0].hold_time",
        &["out of range"],
    );
    let n = &ok(&with_neighbor("hold_time = 0")).neighbors[0];
    assert_eq!((n.hold_time, n.keepalive), (secs(0), secs(0)));
    let n = &ok(&with_neighbor("hold_time = 3")).neighbors[0];
    assert_eq!((n.hold_time, n.keepalive), (secs(3), secs(1)));
}

#[test]
fn keepalive_is_less_than_hold_time_and_zero_only_without_one() {
    rejects(
        &with_neighbor("hold_time = 30\nkeepalive = 30"),
        "neighbors[0].keepalive",
        &["not less than hold_time 30", "1..=29"],
    );
    rejects(
        &with_neighbor("keepalive = 0"),
        "neighbors[0].keepalive",
        &["needs hold_time 0", "1..=89"],
    );
    rejects(
        &with_neighbor("hold_time = 0\nkeepalive = 10"),
        "neighbors[0].keepalive",
        &["hold_time is 0"],
    );
    assert_eq!(
        ok(&with_neighbor("hold_time = 0\nkeepalive = 0")).neighbors[0].keepalive,
        secs(0)
    );
    assert_eq!(
        ok(&with_neighbor("keepalive = 89")).neighbors[0].keepalive,
        secs(89)
    );
}

#[test]
fn route_reflector_clients_are_ibgp_only() {
    rejects(
        &with_neighbor("route_reflector_client = true"),
        "neighbors[0].route_reflector_client",
        &["only for iBGP", "eBGP"],
    );
    let ibgp = with_neighbor("route_reflector_client = true").replace("65001", "65000");
    assert!(ok(&ibgp).neighbors[0].route_reflector_client);
}

#[test]
fn multihop_ttl_is_1_to_255_and_ebgp_only() {
    rejects(
        &with_neighbor("multihop_ttl = 0"),
        "neighbors[0].multihop_ttl",
        &["0 is out of range", "1..=255"],
    );
    rejects(
        &with_neighbor("multihop_ttl = 256"),
        "neighbors[0].multihop_ttl",
        &["256 is out of range"],
    );
    let ibgp = with_neighbor("multihop_ttl = 5").replace("65001", "65000");
    rejects(
        &ibgp,
        "neighbors[0].multihop_ttl",
        &["only for eBGP", "iBGP"],
    );
    assert_eq!(
        ok(&with_neighbor("multihop_ttl = 255")).neighbors[0].multihop_ttl,
        Some(255)
    );
}

#[test]
fn local_address_is_of_the_neighbor_address_family() {
    rejects(
        &with_neighbor("local_address = \"2001:db8::1\""),
        "neighbors[0].local_address",
        &["not of the same family", "IPv4"],
    );
    rejects(
        &with_neighbor("local_address = \"0.0.0.0\""),
        "neighbors[0].local_address",
        &["not a unicast address"],
    );
}

#[test]
fn families_are_known_names_once_each_and_not_none() {
    rejects(
        &with_neighbor("families = [\"ipv4-unicast\", \"l2vpn-evpn\"]"),
        "neighbors[0].families[1]",
        &[
            "\"l2vpn-evpn\" is not a known family",
            "\"ipv4-unicast\", \"ipv6-unicast\"",
        ],
    );
    rejects(
        &with_neighbor("families = [\"ipv6-unicast\", \"ipv6-unicast\"]"),
        "neighbors[0].families[1]",
        &["listed twice"],
    );
    rejects(
        &with_neighbor("families = []"),
        "neighbors[0].families",
        &["is empty"],
    );
    let n = &ok(&with_neighbor("families = [\"ipv6-unicast\"]")).neighbors[0];
    assert_eq!(
        n.families,
        [Family::IPV6_UNICAST],
        "IPv6 over an IPv4 session is allowed"
    );
}

#[test]
fn description_is_at_most_255_printable_bytes() {
    rejects(
        &with_neighbor(&format!("description = \"{}\"", "x".repeat(256))),
        "neighbors[0].description",
        &["256 bytes", "at most 255"],
    );
    rejects(
        &with_neighbor("description = \"a\\nb\""),
        "neighbors[0].description",
        &["control character"],
    );
    let long = "é".repeat(127); // 254 bytes
    assert_eq!(
        ok(&with_neighbor(&format!("description = \"{long}\""))).neighbors[0].description,
        Some(long)
    );
}

#[test]
fn port_is_1_to_65535() {
    rejects(
        &with_neighbor("port = 0"),
        "neighbors[0].port",
        &["out of range", "1..=65535"],
    );
    assert_eq!(ok(&with_neighbor("port = 10179")).neighbors[0].port, 10179);
}

#[test]
fn originate_prefixes_have_no_host_bits_and_appear_once() {
    rejects(
        &with_originate("prefix = \"192.0.2.1/24\""),
        "originate[0].prefix",
        &["host bits set", "did you mean \"192.0.2.0/24\"?"],
    );
    rejects(
        &with_originate("prefix = \"2001:db8::1/32\""),
        "originate[0].prefix",
        &["did you mean \"2001:db8::/32\"?"],
    );
    rejects(
        &with_originate("prefix = \"192.0.2.1\""),
        "originate[0].prefix",
        &["not a prefix", "did you mean \"192.0.2.1/32\"?"],
    );
    let twice = format!(
        "{}[[originate]]\nprefix = \"192.0.2.0/24\"\n",
        with_originate("prefix = \"192.0.2.0/24\"")
    );
    rejects(
        &twice,
        "originate[1].prefix",
        &["already originated by originate[0]"],
    );
}

#[test]
fn originate_attributes_are_checked() {
    let p = "prefix = \"192.0.2.0/24\"\n";
    rejects(
        &with_originate(&format!("{p}next_hop = \"2001:db8::1\"")),
        "originate[0].next_hop",
        &["not of the same family", "IPv4"],
    );
    rejects(
        &with_originate(&format!("{p}communities = [\"1:1\", \"65536:1\"]")),
        "originate[0].communities[1]",
        &["not a community", "no-export"],
    );
    rejects(
        &with_originate(&format!("{p}large_communities = [\"1:2\"]")),
        "originate[0].large_communities[0]",
        &["GLOBAL:LOCAL1:LOCAL2"],
    );
    rejects(
        &with_originate(&format!("{p}med = -1")),
        "originate[0].med",
        &["-1 is out of range", "0..=4294967295"],
    );
    rejects(
        &with_originate(&format!("{p}local_pref = 4294967296")),
        "originate[0].local_pref",
        &["out of range"],
    );
    rejects(
        &with_originate(&format!("{p}origin = \"IGP\"")),
        "originate[0].origin",
        &["\"igp\", \"egp\" or \"incomplete\""],
    );
    let o = &ok(&with_originate(&format!(
        "{p}communities = [\"no-advertise\", \"blackhole\"]\norigin = \"egp\""
    )))
    .originate[0];
    assert_eq!(
        o.communities,
        [Community::NO_ADVERTISE, Community::BLACKHOLE]
    );
    assert_eq!(o.origin, Origin::Egp);
}

// ---- properties ----

proptest! {
    #[test]
    fn any_hold_time_is_accepted_exactly_when_valid(hold in -10i64..70_000) {
        let result = from_str(&with_neighbor(&format!("hold_time = {hold}")), FILE);
        let valid = hold == 0 || (3..=65535).contains(&hold);
        match result {
            Ok(c) => {
                prop_assert!(valid);
                let n = &c.neighbors[0];
                prop_assert_eq!(n.hold_time.as_secs(), hold as u64);
                prop_assert_eq!(n.keepalive.as_secs(), hold as u64 / 3);
            }
            Err(e) => {
                prop_assert!(!valid);
                prop_assert_eq!(e.errors().len(), 1);
                prop_assert_eq!(e.errors()[0].key(), Some("neighbors[0].hold_time"));
            }
        }
    }

    #[test]
    fn communities_print_as_they_parse(asn: u16, value: u16) {
        let c = Community::new(asn, value);
        let printed = c.to_string();
        prop_assert_eq!(printed.parse::<Community>(), Ok(c));
        let lines = format!("prefix = \"10.0.0.0/8\"\ncommunities = [\"{printed}\"]");
        let toml = with_originate(&lines);
        prop_assert_eq!(&ok(&toml).originate[0].communities, &[c]);
    }

    #[test]
    fn dropping_lines_of_the_full_file_gives_a_config_or_located_problems(
        keep in proptest::collection::vec(any::<bool>(), 60),
    ) {
        let full = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config/full.toml"),
        ).unwrap();
        let text: Vec<&str> = full
            .lines()
            .zip(keep.iter().cycle())
            .filter_map(|(line, keep)| keep.then_some(line))
            .collect();
        if let Err(e) = from_str(&text.join("\n"), FILE) {
            for problem in e.errors() {
                prop_assert!(problem.location() != &Location::File, "{}", problem);
                let prefix = format!("{FILE}:");
                prop_assert!(problem.to_string().starts_with(&prefix), "{}", problem);
            }
        }
    }

    #[test]
    fn any_text_is_either_a_config_or_problems_that_name_the_file(text in "\\PC{0,200}") {
        if let Err(e) = config::from_str(&text, FILE) {
            prop_assert!(!e.errors().is_empty());
            for line in e.to_string().lines() {
                prop_assert!(line.starts_with(FILE), "{}", line);
            }
        }
    }
}

// ---- the documentation stays true ----

fn docs() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_toml_examples_in_the_docs_parse() {
    let docs = docs();
    let blocks: Vec<&str> = docs
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .collect();
    assert!(blocks.len() >= 2);
    for block in blocks {
        from_str(block, "docs").unwrap_or_else(|e| panic!("{e}\nin:\n{block}"));
    }
}

#[test]
fn every_key_is_documented_in_its_section() {
    let docs = docs();
    for (section, toml) in [
        ("## `[global]`", format!("{GLOBAL}zzz = 1\n")),
        ("## `[[neighbors]]`", with_neighbor("zzz = 1")),
        (
            "## `[[originate]]`",
            with_originate("prefix = \"10.0.0.0/8\"\nzzz = 1"),
        ),
        ("## `[api]`", format!("{GLOBAL}[api]\nzzz = 1\n")),
        ("## `[metrics]`", format!("{GLOBAL}[metrics]\nzzz = 1\n")),
    ] {
        let start = docs.find(section).unwrap_or_else(|| panic!("no {section}"));
        let rest = &docs[start + section.len()..];
        let text = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
        let message = err(&toml).errors()[0].message().to_owned();
        let (_, allowed) = message.split_once(": ").unwrap();
        for key in allowed.split(", ") {
            assert!(
                text.contains(&format!("| `{key}` |")),
                "{key} is not documented under {section}"
            );
        }
    }
}
