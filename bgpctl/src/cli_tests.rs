use clap::CommandFactory;
use clap::error::ErrorKind;

use super::*;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("bgpctl").chain(args.iter().copied()))
}

fn usage_error(args: &[&str]) -> String {
    let e = parse(args).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{args:?}: {e}");
    e.to_string()
}

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn global_options_anywhere() {
    let cli = parse(&["neighbor", "list", "-o", "json", "--api", "127.0.0.1:50051"]).unwrap();
    assert_eq!(cli.output, Output::Json);
    assert_eq!(
        cli.api,
        ApiAddr::Tcp {
            host_port: "127.0.0.1:50051".into(),
            https: false
        }
    );
    let cli = parse(&["--api", "unix:///tmp/b.sock", "global"]).unwrap();
    assert_eq!(cli.api, ApiAddr::Unix("/tmp/b.sock".into()));
    assert_eq!(cli.output, Output::Table);
}

#[test]
fn bad_api_address_is_a_usage_error() {
    let e = usage_error(&["--api", "localhost", "global"]);
    assert!(
        e.contains("no port; expected unix:///PATH, HOST:PORT, http://HOST:PORT or https://"),
        "{e}"
    );
}

#[test]
fn neighbor_add_takes_every_option() {
    let cli = parse(&[
        "neighbor",
        "add",
        "2001:db8::2",
        "--as",
        "65001",
        "--passive",
        "--hold-time",
        "30",
        "--family",
        "ipv4",
        "--family",
        "ipv6-unicast",
        "--local-address",
        "2001:db8::1",
        "--multihop-ttl",
        "3",
        "--rr-client",
        "--description",
        "tor 1",
        "--port",
        "1179",
    ])
    .unwrap();
    let Command::Neighbor {
        action: Some(NeighborCmd::Add(a)),
    } = cli.command
    else {
        panic!("not neighbor add: {:?}", cli.command);
    };
    assert_eq!(a.address, "2001:db8::2".parse::<IpAddr>().unwrap());
    assert_eq!(a.asn, 65001);
    assert!(a.passive && a.rr_client);
    assert_eq!(a.hold_time, Some(30));
    assert_eq!(a.family, vec![FamilyArg::Ipv4, FamilyArg::Ipv6]);
    assert_eq!(a.multihop_ttl, Some(3));
    assert_eq!(a.description.as_deref(), Some("tor 1"));
    assert_eq!(a.port, Some(1179));
}

#[test]
fn neighbor_add_rejects_bad_values() {
    assert!(usage_error(&["neighbor", "add", "10.0.0.300", "--as", "1"]).contains("10.0.0.300"));
    assert!(usage_error(&["neighbor", "add", "10.0.0.2"]).contains("--as <ASN>"));
    assert!(usage_error(&["neighbor", "add", "10.0.0.2", "--as", "0"]).contains("--as"));
    assert!(
        usage_error(&[
            "neighbor",
            "add",
            "10.0.0.2",
            "--as",
            "1",
            "--hold-time",
            "2"
        ])
        .contains("expected 0 or 3..=65535 seconds")
    );
    assert!(
        usage_error(&[
            "neighbor", "add", "10.0.0.2", "--as", "1", "--family", "vpnv4"
        ])
        .contains("possible values: ipv4, ipv6")
    );
    assert!(
        usage_error(&[
            "neighbor",
            "add",
            "10.0.0.2",
            "--as",
            "1",
            "--multihop-ttl",
            "256"
        ])
        .contains("--multihop-ttl")
    );
}

#[test]
fn softreset_directions_exclude_each_other() {
    let cli = parse(&["neighbor", "softreset", "10.0.0.2", "--in"]).unwrap();
    assert!(matches!(
        cli.command,
        Command::Neighbor {
            action: Some(NeighborCmd::Softreset {
                in_: true,
                out_: false,
                ..
            })
        }
    ));
    let e = parse(&["neighbor", "softreset", "10.0.0.2", "--in", "--out"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
}

#[test]
fn rib_add_parses_attributes() {
    let cli = parse(&[
        "rib",
        "add",
        "192.0.2.0/24",
        "--next-hop",
        "10.0.0.1",
        "--origin",
        "incomplete",
        "--as-path",
        "65001 65002",
        "--med",
        "10",
        "--local-pref",
        "200",
        "--community",
        "65000:1",
        "no-export",
        "--large-community",
        "65000:1:2",
        "--ext-community",
        "rt:65000:100",
    ])
    .unwrap();
    let Command::Rib {
        action: Some(RibCmd::Add(a)),
    } = cli.command
    else {
        panic!("not rib add: {:?}", cli.command);
    };
    assert_eq!(a.prefix.to_string(), "192.0.2.0/24");
    assert_eq!(a.origin, OriginArg::Incomplete);
    assert_eq!(a.as_path.map(|p| p.0.len()), Some(1));
    assert_eq!(a.community, vec![65000 << 16 | 1, 0xFFFF_FF01]);
    assert_eq!(a.large_community.len(), 1);
    assert_eq!(a.ext_community, vec![0x0002_fde8_0000_0064]);
}

#[test]
fn rib_add_rejects_bad_values_with_the_reason() {
    let e = usage_error(&["rib", "add", "192.0.2.1/24"]);
    assert!(
        e.contains("has host bits set; did you mean 192.0.2.0/24?"),
        "{e}"
    );
    let e = usage_error(&["rib", "add", "192.0.2.0/24", "--community", "no-exprot"]);
    assert!(e.contains("is not a community"), "{e}");
    let e = usage_error(&["rib", "add", "192.0.2.0/24", "--as-path", "65001 {65002"]);
    assert!(e.contains("missing '}'"), "{e}");
    let e = usage_error(&["rib", "add", "192.0.2.0/24", "--large-community", "1:2"]);
    assert!(e.contains("GLOBAL:LOCAL1:LOCAL2"), "{e}");
    let e = usage_error(&["rib", "add", "192.0.2.0/24", "--ext-community", "rt:1"]);
    assert!(e.contains("rt:ASN:VALUE"), "{e}");
}

#[test]
fn rib_list_filters() {
    let cli = parse(&["rib", "list", "192.0.2.0/24", "--longer", "--all"]).unwrap();
    let Command::Rib {
        action: Some(RibCmd::List(l)),
    } = cli.command
    else {
        panic!("not rib list");
    };
    assert!(l.longer && l.all && !l.shorter);
    assert_eq!(l.table.table, TableArg::Loc);
    // --table in needs --peer; --longer needs a prefix and excludes --shorter.
    assert!(usage_error(&["rib", "list", "--table", "in"]).contains("--peer <ADDR>"));
    assert!(parse(&["rib", "list", "--table", "out", "--peer", "10.0.0.2"]).is_ok());
    assert!(usage_error(&["rib", "list", "--longer"]).contains("<PREFIX>"));
    let e = parse(&["rib", "list", "10.0.0.0/8", "--longer", "--shorter"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
    assert!(usage_error(&["rib", "count", "--table", "in"]).contains("--peer <ADDR>"));
}

#[test]
fn bare_commands_default_to_listing() {
    assert!(matches!(
        parse(&["neighbor"]).unwrap().command,
        Command::Neighbor { action: None }
    ));
    assert!(matches!(
        parse(&["rib"]).unwrap().command,
        Command::Rib { action: None }
    ));
    assert!(matches!(
        parse(&["global"]).unwrap().command,
        Command::Global { action: None }
    ));
}

#[test]
fn completion_shells() {
    for shell in ["bash", "zsh", "fish"] {
        assert!(parse(&["completion", shell]).is_ok());
    }
    assert!(usage_error(&["completion", "tcsh"]).contains("tcsh"));
}
