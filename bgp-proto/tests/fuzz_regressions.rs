//! Inputs the fuzzers found, kept so that what they showed stays true.

use bgp_proto::{DecodeCtx, EncodeCtx, Message};

/// The BGP message inside a fuzz input: after the fuzzer's context bytes, as long as its
/// header says (the decoder reads no further).
fn message(input: &[u8]) -> &[u8] {
    (0..input.len().saturating_sub(18))
        .find_map(|i| {
            let len = usize::from(u16::from_be_bytes([input[i + 16], input[i + 17]]));
            let whole = input[i..i + 16].iter().all(|b| *b == 0xff) && len <= input.len() - i;
            whole.then(|| &input[i..i + len])
        })
        .expect("a whole BGP message in the input")
}

/// The context the fuzzer chose for this input: 4-octet AS and extended message.
fn ctx() -> (DecodeCtx, EncodeCtx) {
    let d = DecodeCtx {
        extended_message: true,
        ..DecodeCtx::modern()
    };
    let e = EncodeCtx {
        extended_message: true,
        ..EncodeCtx::modern()
    };
    (d, e)
}

/// An UPDATE whose attribute overruns the attribute list is treat-as-withdraw (RFC 7606
/// section 4), keeps every announced prefix so the daemon can withdraw them, and
/// re-encodes without the malformed part (found by the `roundtrip` target, whose
/// comparison now skips decodes that carry RFC 7606 errors).
#[test]
fn overrunning_attribute_is_treat_as_withdraw_and_re_encodes() {
    let input = include_bytes!("../../fuzz/regressions/roundtrip-treat-as-withdraw.bin");
    let msg = message(input);
    let (dctx, ectx) = ctx();
    let Message::Update(u) = Message::decode(msg, &dctx).expect("decodes") else {
        panic!("not an UPDATE");
    };
    assert!(u.treat_as_withdraw(), "{:?}", u.errors);
    assert_eq!(u.announced().count(), 6);
    let again = Message::Update(u).to_bytes(&ectx).expect("re-encodes");
    let Message::Update(u2) = Message::decode(&again, &dctx).expect("decodes again") else {
        panic!("not an UPDATE");
    };
    // Without attributes, the announced prefixes lack the mandatory ones: still withdrawn.
    assert!(u2.treat_as_withdraw());
    assert_eq!(u2.announced().count(), 6);
}
