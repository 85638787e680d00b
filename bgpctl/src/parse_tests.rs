use super::*;

fn seq(asns: &[u32]) -> AsSegment {
    AsSegment {
        r#type: as_segment::Type::Sequence as i32,
        asns: asns.to_vec(),
    }
}

fn seg(ty: as_segment::Type, asns: &[u32]) -> AsSegment {
    AsSegment {
        r#type: ty as i32,
        asns: asns.to_vec(),
    }
}

fn msg<T: fmt::Debug>(r: Result<T, ParseError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn prefixes() {
    let p = prefix("192.0.2.0/24").unwrap();
    assert_eq!(p.to_string(), "192.0.2.0/24");
    assert_eq!(prefix("2001:db8::/32").unwrap().len, 32);
    assert_eq!(prefix("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
    assert_eq!(prefix("::/0").unwrap().to_string(), "::/0");
    assert_eq!(prefix("10.1.2.3/32").unwrap().to_string(), "10.1.2.3/32");
    assert_eq!(prefix("2001:db8::1/128").unwrap().len, 128);
}

#[test]
fn bad_prefixes_explain() {
    assert_eq!(
        msg(prefix("192.0.2.1/24")),
        "\"192.0.2.1/24\" has host bits set; did you mean 192.0.2.0/24?"
    );
    assert_eq!(
        msg(prefix("2001:db8::1/32")),
        "\"2001:db8::1/32\" has host bits set; did you mean 2001:db8::/32?"
    );
    assert_eq!(
        msg(prefix("192.0.2.0/33")),
        "\"192.0.2.0/33\": prefix length \"33\" is not 0..=32"
    );
    assert_eq!(
        msg(prefix("::/129")),
        "\"::/129\": prefix length \"129\" is not 0..=128"
    );
    assert!(msg(prefix("192.0.2.0")).contains("expected ADDR/LEN"));
    assert!(msg(prefix("192.0.2/24")).contains("not an IPv4 or IPv6 address"));
    assert!(msg(prefix("10.0.0.0/-1")).contains("prefix length"));
}

#[test]
fn prefix_filters_accept_bare_addresses() {
    let f = prefix_filter("192.0.2.1").unwrap();
    assert!(f.host);
    assert_eq!(f.prefix.to_string(), "192.0.2.1/32");
    let f = prefix_filter("2001:db8::1").unwrap();
    assert_eq!(f.prefix.to_string(), "2001:db8::1/128");
    let f = prefix_filter("192.0.2.0/24").unwrap();
    assert!(!f.host);
    assert!(msg(prefix_filter("foo")).contains("neither a prefix"));
    assert!(msg(prefix_filter("192.0.2.1/24")).contains("host bits"));
}

#[test]
fn communities() {
    assert_eq!(community("65000:1").unwrap(), 65000 << 16 | 1);
    assert_eq!(community("0:0").unwrap(), 0);
    assert_eq!(community("65535:65535").unwrap(), 0xFFFF_FFFF);
    assert_eq!(community("no-export").unwrap(), 0xFFFF_FF01);
    assert_eq!(community("NO-ADVERTISE").unwrap(), 0xFFFF_FF02);
    assert_eq!(community("blackhole").unwrap(), 0xFFFF_029A);
    assert_eq!(community("graceful-shutdown").unwrap(), 0xFFFF_0000);
    assert_eq!(community("no-export-subconfed").unwrap(), 0xFFFF_FF03);
    assert_eq!(community("no-peer").unwrap(), 0xFFFF_FF04);
}

#[test]
fn bad_communities_list_the_names() {
    let m = msg(community("65000:70000"));
    assert!(
        m.starts_with("\"65000:70000\" is not a community; expected ASN:VALUE"),
        "{m}"
    );
    assert!(m.contains("no-export"), "{m}");
    assert!(msg(community("no-exprot")).contains("is not a community"));
    assert!(msg(community("65000")).contains("is not a community"));
    assert!(msg(community("1:2:3")).contains("is not a community"));
}

#[test]
fn communities_print_like_they_parse() {
    for s in [
        "65000:1",
        "0:0",
        "no-export",
        "no-llgr",
        "llgr-stale",
        "accept-own",
        "1:65535",
    ] {
        assert_eq!(fmt_community(community(s).unwrap()), s);
    }
    assert_eq!(fmt_community(0xFFFF_FF05), "65535:65285");
}

#[test]
fn large_communities() {
    let c = large_community("65000:1:2").unwrap();
    assert_eq!(
        (c.global_admin, c.local_data1, c.local_data2),
        (65000, 1, 2)
    );
    let c = large_community("4294967295:0:4294967295").unwrap();
    assert_eq!(fmt_large_community(&c), "4294967295:0:4294967295");
    assert!(msg(large_community("65000:1")).contains("expected GLOBAL:LOCAL1:LOCAL2"));
    assert!(msg(large_community("65000:1:4294967296")).contains("is not a large community"));
    assert!(msg(large_community("a:b:c")).contains("is not a large community"));
}

#[test]
fn ext_communities_encode_rfc4360_octets() {
    // Two-octet AS route target: type 0x00, sub-type 0x02, AS 65000 (0xfde8), value 100.
    assert_eq!(
        ext_community("rt:65000:100").unwrap(),
        0x0002_fde8_0000_0064
    );
    // IPv4-address specific route origin: type 0x01, sub-type 0x03, 192.0.2.1, value 7.
    assert_eq!(
        ext_community("soo:192.0.2.1:7").unwrap(),
        0x0103_c000_0201_0007
    );
    // Four-octet AS route target (RFC 5668): type 0x02, AS 4200000000 (0xfa56ea00), value 5.
    assert_eq!(
        ext_community("rt:4200000000:5").unwrap(),
        0x0202_fa56_ea00_0005
    );
    assert_eq!(
        ext_community("0x0002fde800000064").unwrap(),
        0x0002_fde8_0000_0064
    );
}

#[test]
fn ext_communities_print_like_they_parse() {
    for s in [
        "rt:65000:100",
        "soo:65000:4294967295",
        "rt:192.0.2.1:65535",
        "rt:4200000000:5",
    ] {
        assert_eq!(fmt_ext_community(ext_community(s).unwrap()), s);
    }
    // An unknown kind (here an opaque one, type 0x03) is printed as its octets.
    assert_eq!(
        fmt_ext_community(0x030c_0000_0000_0008),
        "0x030c000000000008"
    );
}

#[test]
fn bad_ext_communities_explain() {
    assert!(msg(ext_community("rt:65000")).contains("expected rt:ASN:VALUE"));
    assert!(msg(ext_community("xx:65000:1")).contains("unknown kind"));
    assert!(msg(ext_community("rt:192.0.2.1:70000")).contains("0..=65535"));
    assert!(msg(ext_community("rt:4200000000:70000")).contains("4-octet AS"));
    assert!(msg(ext_community("rt:foo:1")).contains("neither an AS number"));
    assert!(msg(ext_community("0x12")).contains("16 hex digits"));
}

#[test]
fn as_paths() {
    assert_eq!(as_path("").unwrap().0, vec![]);
    assert_eq!(
        as_path("65001 65002").unwrap().0,
        vec![seq(&[65001, 65002])]
    );
    assert_eq!(
        as_path("65001 {65002,65003} 65004").unwrap().0,
        vec![
            seq(&[65001]),
            seg(as_segment::Type::Set, &[65002, 65003]),
            seq(&[65004])
        ]
    );
    assert_eq!(
        as_path("(65010 65011) 65001{1 2}").unwrap().0,
        vec![
            seg(as_segment::Type::ConfedSequence, &[65010, 65011]),
            seq(&[65001]),
            seg(as_segment::Type::Set, &[1, 2]),
        ]
    );
    assert_eq!(
        as_path("[7,8]").unwrap().0,
        vec![seg(as_segment::Type::ConfedSet, &[7, 8])]
    );
    assert_eq!(
        as_path(" 4294967295 ").unwrap().0,
        vec![seq(&[4_294_967_295])]
    );
}

#[test]
fn bad_as_paths_explain() {
    assert!(msg(as_path("65001 4294967296")).contains("4294967296 is not 0..=4294967295"));
    assert!(msg(as_path("65001 {1 2")).contains("missing '}'"));
    assert!(msg(as_path("{1 (2)}")).contains("cannot nest"));
    assert!(msg(as_path("{}")).contains("empty } segment"));
    assert!(msg(as_path("65001,65002")).contains("unexpected ','"));
    assert!(msg(as_path("AS65001")).contains("unexpected 'A'"));
    assert!(msg(as_path("1 }")).contains("unexpected '}'"));
}

#[test]
fn as_paths_print_like_they_parse() {
    for s in [
        "65001 65002",
        "65001 {65002,65003} 65004",
        "(65010 65011) 65001",
        "[7,8]",
        "",
    ] {
        assert_eq!(fmt_as_path(&as_path(s).unwrap().0), s);
    }
}
