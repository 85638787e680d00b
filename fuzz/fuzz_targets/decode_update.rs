#![no_main]
//! UPDATE bodies under every negotiated context: never panic; errors carry a NOTIFICATION
//! of code 3; a clean decode re-encodes to an equal value.

use bgp_proto::Update;
use bgp_proto_fuzz::FuzzCtx;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (FuzzCtx, &[u8])| {
    let (ctx, body) = input;
    match Update::decode_body(body, 19, &ctx.decode()) {
        Ok(update) => {
            if !update.errors.is_empty() {
                return;
            }
            let mut out = BytesMut::new();
            if update.encode_body(&ctx.encode(), &mut out).is_ok() {
                let again = Update::decode_body(&out, 19, &ctx.decode())
                    .unwrap_or_else(|e| panic!("re-encoded UPDATE does not decode: {e}"));
                assert_eq!(update, again);
            }
        }
        Err(e) => assert_eq!(e.notification().code, 3, "{e}"),
    }
});
