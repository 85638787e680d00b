#![no_main]
//! NLRI fields of IPv4 and IPv6, with and without ADD-PATH: never panic; prefixes are
//! within the family's length.

use bgp_proto::Afi;
use bgp_proto::nlri::Nlri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, bool, &[u8])| {
    let (v6, add_path, buf) = input;
    let afi = if v6 { Afi::IPV6 } else { Afi::IPV4 };
    if let Ok(all) = Nlri::decode_all(buf, afi, add_path) {
        for n in all {
            assert!(n.prefix.prefix_len() <= if v6 { 128 } else { 32 });
            assert_eq!(n.path_id.is_some(), add_path);
        }
    }
});
