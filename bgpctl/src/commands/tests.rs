//! From command lines to the requests sent, and the monitor's output lines.

use bgp_api::bgpd::v1::{
    Family, ListPathsRequest, Match, Origin, PeerEvent, SessionState, Table, WatchEvent,
    WatchResponse, watch_event,
};
use clap::Parser;

use crate::cli::{Cli, Command, MonitorArgs, NeighborCmd, Output, RibCmd};
use crate::error::{EXIT_USAGE, Error};

fn cli(args: &[&str]) -> Command {
    Cli::try_parse_from(std::iter::once("bgpctl").chain(args.iter().copied()))
        .unwrap()
        .command
}

fn list_request(args: &[&str]) -> Result<ListPathsRequest, Error> {
    let mut argv = vec!["rib", "list"];
    argv.extend_from_slice(args);
    let Command::Rib {
        action: Some(RibCmd::List(l)),
    } = cli(&argv)
    else {
        unreachable!()
    };
    super::rib::list_request(&l)
}

fn usage_message(e: Error) -> String {
    assert_eq!(e.exit_code(), EXIT_USAGE, "{e}");
    e.to_string()
}

#[test]
fn neighbor_add_request() {
    let Command::Neighbor {
        action: Some(NeighborCmd::Add(a)),
    } = cli(&[
        "neighbor",
        "add",
        "127.0.0.9",
        "--as",
        "65009",
        "--passive",
        "--family",
        "ipv4",
        "--family",
        "ipv6",
        "--family",
        "ipv4",
        "--description",
        "lab",
    ])
    else {
        unreachable!()
    };
    let c = super::neighbor::peer_config(&a).unwrap();
    assert_eq!(c.address, "127.0.0.9");
    assert_eq!(c.peer_asn, 65009);
    assert!(c.passive);
    assert_eq!(
        c.families,
        vec![Family::Ipv4Unicast as i32, Family::Ipv6Unicast as i32]
    );
    assert_eq!(c.description, "lab");
    // Unset options are the API's defaults: port 179, hold time 90, enabled.
    assert_eq!(
        (c.port, c.hold_time, c.multihop_ttl, c.enabled),
        (0, 0, 0, None)
    );
    assert_eq!(c.local_address, "");
}

#[test]
fn neighbor_add_checks_the_local_address_family() {
    let Command::Neighbor {
        action: Some(NeighborCmd::Add(a)),
    } = cli(&[
        "neighbor",
        "add",
        "10.0.0.2",
        "--as",
        "1",
        "--local-address",
        "2001:db8::1",
    ])
    else {
        unreachable!()
    };
    assert_eq!(
        usage_message(super::neighbor::peer_config(&a).unwrap_err()),
        "neighbor add: --local-address 2001:db8::1 and the neighbor 10.0.0.2 are of different families"
    );
}

#[test]
fn rib_list_requests() {
    let r = list_request(&[]).unwrap();
    assert_eq!(r.table, Table::Loc as i32);
    assert_eq!(
        (r.prefix.as_str(), r.r#match, r.all_paths),
        ("", Match::Exact as i32, false)
    );
    assert_eq!(r.family, Family::Unspecified as i32);

    let r = list_request(&["10.0.0.0/8", "--longer", "--family", "ipv4", "--all"]).unwrap();
    assert_eq!(
        (r.prefix.as_str(), r.r#match),
        ("10.0.0.0/8", Match::Longer as i32)
    );
    assert_eq!(r.family, Family::Ipv4Unicast as i32);
    assert!(r.all_paths);

    // A bare address looks up the routes covering it.
    let r = list_request(&["192.0.2.7"]).unwrap();
    assert_eq!(
        (r.prefix.as_str(), r.r#match),
        ("192.0.2.7/32", Match::Shorter as i32)
    );

    let r = list_request(&["--table", "in", "--peer", "10.0.0.2"]).unwrap();
    assert_eq!(
        (r.table, r.peer.as_str()),
        (Table::AdjIn as i32, "10.0.0.2")
    );
}

#[test]
fn rib_list_local_checks() {
    assert_eq!(
        usage_message(list_request(&["--peer", "10.0.0.2"]).unwrap_err()),
        "rib list: --peer selects a neighbor's table: give it with --table in or --table out"
    );
    assert_eq!(
        usage_message(list_request(&["2001:db8::/32", "--family", "ipv4"]).unwrap_err()),
        "rib list: 2001:db8::/32 is not in --family ipv4-unicast"
    );
}

#[test]
fn rib_add_request() {
    let Command::Rib {
        action: Some(RibCmd::Add(a)),
    } = cli(&[
        "rib",
        "add",
        "2001:db8::/32",
        "--next-hop",
        "2001:db8::1",
        "--as-path",
        "65001",
        "--origin",
        "egp",
        "--community",
        "no-export",
        "--med",
        "5",
    ])
    else {
        unreachable!()
    };
    let p = super::rib::path(&a).unwrap();
    assert_eq!(
        (p.prefix.as_str(), p.next_hop.as_str()),
        ("2001:db8::/32", "2001:db8::1")
    );
    assert_eq!(p.origin, Origin::Egp as i32);
    assert_eq!(p.as_path.len(), 1);
    assert_eq!(p.communities, vec![0xFFFF_FF01]);
    assert_eq!((p.med, p.local_pref), (Some(5), None));

    let Command::Rib {
        action: Some(RibCmd::Add(a)),
    } = cli(&["rib", "add", "192.0.2.0/24", "--next-hop", "2001:db8::1"])
    else {
        unreachable!()
    };
    assert!(usage_message(super::rib::path(&a).unwrap_err()).contains("different families"));
}

#[test]
fn monitor_asks_for_both_kinds_by_default() {
    let req = |peers, routes, dump| {
        super::monitor::request(&MonitorArgs {
            peers,
            routes,
            dump,
        })
    };
    let r = req(false, false, false);
    assert!(r.peer_events && r.best_path_events && !r.initial_dump);
    let r = req(true, false, true);
    assert!(r.peer_events && !r.best_path_events && r.initial_dump);
    let r = req(false, true, false);
    assert!(!r.peer_events && r.best_path_events);
}

fn monitor_output(output: Output, response: &WatchResponse) -> String {
    let mut out = Vec::new();
    super::monitor::write_response(&mut out, output, "2025-03-01T12:00:05Z", response).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn monitor_prints_one_line_per_event() {
    let event = |addr: &str| WatchEvent {
        event: Some(watch_event::Event::Peer(PeerEvent {
            address: addr.into(),
            old_state: SessionState::Active as i32,
            new_state: SessionState::OpenSent as i32,
            reason: String::new(),
        })),
    };
    let response = WatchResponse {
        events: vec![event("10.0.0.2"), event("10.0.0.3")],
        initial_dump_done: true,
        lagged: false,
    };
    assert_eq!(
        monitor_output(Output::Table, &response),
        "2025-03-01T12:00:05Z peer 10.0.0.2 Active -> OpenSent\n\
         2025-03-01T12:00:05Z peer 10.0.0.3 Active -> OpenSent\n\
         2025-03-01T12:00:05Z initial dump done, following changes\n"
    );
    let json = monitor_output(Output::Json, &response);
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["address"], "10.0.0.3");
    assert_eq!(lines[2]["type"], "dump_done");
}

#[test]
fn monitor_reports_lagged_in_json() {
    let response = WatchResponse {
        events: vec![],
        initial_dump_done: false,
        lagged: true,
    };
    assert_eq!(
        monitor_output(Output::Json, &response),
        "{\"type\":\"lagged\",\"time\":\"2025-03-01T12:00:05Z\"}\n"
    );
    // People read it on stderr, from the error that ends the command.
    assert_eq!(monitor_output(Output::Table, &response), "");
    let e = Error::Lagged { command: "monitor" };
    assert!(e.to_string().starts_with("monitor: lagged: "));
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn routes_are_listed_in_prefix_order_best_first() {
    use bgp_api::bgpd::v1::Path;
    let path = |prefix: &str, best: bool| Path {
        prefix: prefix.into(),
        best,
        ..Path::default()
    };
    let mut paths = vec![
        path("2001:db8::/32", true),
        path("192.0.2.0/25", true),
        path("10.0.0.0/8", false),
        path("192.0.2.0/24", true),
        path("10.0.0.0/8", true),
        path("9.0.0.0/8", true),
    ];
    super::rib::sort(&mut paths);
    let order: Vec<_> = paths.iter().map(|p| (p.prefix.as_str(), p.best)).collect();
    assert_eq!(
        order,
        [
            ("9.0.0.0/8", true),
            ("10.0.0.0/8", true),
            ("10.0.0.0/8", false),
            ("192.0.2.0/24", true),
            ("192.0.2.0/25", true),
            ("2001:db8::/32", true),
        ]
    );
}
