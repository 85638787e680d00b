#![no_main]
//! Framing never panics, always makes progress, and agrees with the header check.

use bgp_proto::{HEADER_LEN, check_header, frame_len};
use bgp_proto_fuzz::FuzzCtx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (FuzzCtx, &[u8])| {
    let (ctx, data) = input;
    let len = frame_len(data);
    assert_eq!(len.is_some(), data.len() >= HEADER_LEN);
    if let Some(len) = len {
        assert!(len >= HEADER_LEN);
        if let Ok(h) = check_header(data, &ctx.decode()) {
            assert_eq!(usize::from(h.length), len);
        }
    }
});
