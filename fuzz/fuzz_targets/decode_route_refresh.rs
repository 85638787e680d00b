#![no_main]
//! ROUTE-REFRESH bodies: never panic; errors are ROUTE-REFRESH Message Errors.

use bgp_proto::RouteRefresh;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Err(e) = RouteRefresh::decode_body(body, 19) {
        assert_eq!(e.notification().code, 7, "{e}");
    }
});
