//! Property tests for OPEN, capabilities, ROUTE-REFRESH, NOTIFICATION and KEEPALIVE:
//! encoding then decoding gives the value back, and no byte string makes the decoder
//! panic.

mod strategies {
    pub(crate) mod open;
}

use bgp_proto::{Capability, DecodeCtx, EncodeCtx, Message, Open, OptionalParam};
use bytes::BytesMut;
use proptest::prelude::*;
use strategies::open as s;

/// Encodes with the default (pre-negotiation) context and decodes again.
fn round_trip(msg: &Message) -> Message {
    let bytes = msg
        .to_bytes(&EncodeCtx::default())
        .expect("strategy values encode");
    assert!(
        bytes.len() <= 4096,
        "OPEN, NOTIFICATION and friends fit 4096 bytes here"
    );
    Message::decode(&bytes, &DecodeCtx::default()).expect("encoded messages decode")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_message_survives_encode_then_decode(msg in s::message()) {
        prop_assert_eq!(round_trip(&msg), msg);
    }

    #[test]
    fn any_capability_survives_an_open_round_trip(cap in s::capability()) {
        let open = Message::Open(Open {
            my_as: 65001,
            hold_time: 90,
            bgp_id: [192, 0, 2, 1].into(),
            params: vec![OptionalParam::Capabilities(vec![cap.clone()])],
            extended_params: false,
        });
        let Message::Open(back) = round_trip(&open) else {
            panic!("an OPEN decoded as another message");
        };
        prop_assert_eq!(back.capabilities().next(), Some(&cap));
        prop_assert_eq!(Message::Open(back), open);
    }

    #[test]
    fn any_capability_survives_its_own_encoder(cap in s::capability()) {
        let mut out = BytesMut::new();
        cap.encode(&mut out).unwrap();
        prop_assert_eq!(usize::from(out[1]), out.len() - 2);
        prop_assert_eq!(Capability::decode(out[0], &out[2..]).unwrap(), cap);
    }

    /// The extended form is used exactly when asked for or needed, and decoding says so.
    #[test]
    fn open_parameter_form_is_preserved(open in s::open()) {
        let bytes = Message::Open(open.clone()).to_bytes(&EncodeCtx::default()).unwrap();
        let extended_on_wire = bytes[28] == 255 && bytes.get(29) == Some(&255);
        prop_assert_eq!(extended_on_wire, open.extended_params);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), ctx in s::decode_ctx()) {
        let _ = Message::decode(&bytes, &ctx);
    }

    /// Framed bodies reach the body decoders; whatever decodes re-encodes to a message
    /// that decodes to the same value (hickory's decode, encode, decode check).
    #[test]
    fn framed_garbage_never_panics_and_what_decodes_is_stable(bytes in s::framed_bytes(), ctx in s::decode_ctx()) {
        check_decode_encode_decode(&bytes, &ctx)?;
    }

    #[test]
    fn damaged_opens_never_panic_and_what_decodes_is_stable(bytes in s::damaged_open()) {
        check_decode_encode_decode(&bytes, &DecodeCtx::default())?;
    }
}

fn check_decode_encode_decode(bytes: &[u8], ctx: &DecodeCtx) -> Result<(), TestCaseError> {
    let Ok(msg) = Message::decode(bytes, ctx) else {
        return Ok(());
    };
    let enc_ctx = EncodeCtx {
        extended_message: ctx.extended_message,
        ..EncodeCtx::default()
    };
    let again = msg
        .to_bytes(&enc_ctx)
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(Message::decode(&again, ctx).ok(), Some(msg));
    Ok(())
}
