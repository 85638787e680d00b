#![no_main]
//! OPEN bodies: never panic; what decodes re-encodes and decodes to the same value.

use bgp_proto::Open;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match Open::decode_body(body, 19) {
        Ok(open) => {
            let mut out = BytesMut::new();
            if open.encode_body(&mut out).is_ok() {
                let again = Open::decode_body(&out, 19).expect("re-encoded OPEN decodes");
                assert_eq!(open, again);
            }
        }
        Err(e) => {
            assert!(e.offset >= 19, "offset counts from the message start: {e}");
            assert_eq!(e.notification().code, 2, "OPEN errors are OPEN Message Errors: {e}");
        }
    }
});
