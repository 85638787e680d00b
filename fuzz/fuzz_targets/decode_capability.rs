#![no_main]
//! One capability value of any code: never panics; what decodes re-encodes to the same
//! value.

use bgp_proto::Capability;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &[u8])| {
    let (code, value) = input;
    if let Ok(cap) = Capability::decode(code, value) {
        let mut out = BytesMut::new();
        if cap.encode(&mut out).is_ok() {
            // Code, length, value.
            let again = Capability::decode(out[0], &out[2..]).expect("re-encoded capability decodes");
            assert_eq!(cap, again);
        }
    }
});
