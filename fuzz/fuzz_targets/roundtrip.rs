#![no_main]
//! decode -> encode -> decode gives the same value (hickory-dns style equality target).

use bgp_proto::Message;
use bgp_proto_fuzz::FuzzCtx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (FuzzCtx, &[u8])| {
    let (ctx, data) = input;
    let Ok(first) = Message::decode(data, &ctx.decode()) else {
        return;
    };
    // An UPDATE with RFC 7606 errors re-encodes without what was malformed, so only clean
    // decodes must come back equal (fuzz/regressions/roundtrip-*.bin).
    if matches!(&first, Message::Update(u) if !u.errors.is_empty()) {
        return;
    }
    let bytes = match first.to_bytes(&ctx.encode()) {
        Ok(b) => b,
        // A decoded value may legitimately not re-encode (e.g. it only fits as received
        // with extended message); that is an error, never a panic.
        Err(_) => return,
    };
    let second = Message::decode(&bytes, &ctx.decode())
        .unwrap_or_else(|e| panic!("re-encoded message does not decode: {e}\n{first:?}"));
    assert_eq!(first, second);
});
