#![no_main]
//! Whole-message decoding never panics, and every error has a NOTIFICATION to send.

use bgp_proto::Message;
use bgp_proto_fuzz::FuzzCtx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (FuzzCtx, &[u8])| {
    let (ctx, data) = input;
    if let Err(e) = Message::decode(data, &ctx.decode()) {
        let n = e.notification();
        assert_ne!(n.code, 0, "{e}");
    }
});
