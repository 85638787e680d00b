//! A tokio-util [`Decoder`]/[`Encoder`] that frames a BGP byte stream into [`Message`]s.
//!
//! The codec holds the session context; a peer task replaces it with [`BgpCodec::set_ctx`]
//! once the OPENs are exchanged. A header error is reported as soon as the header is in,
//! without waiting for a body that may never come.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::ctx::{DecodeCtx, EncodeCtx};
use crate::error::{DecodeError, EncodeError};
use crate::header::{HEADER_LEN, check_header};
use crate::message::Message;

/// Frames and decodes BGP messages with the negotiated session context.
#[derive(Debug, Clone, Default)]
pub struct BgpCodec {
    decode: DecodeCtx,
    encode: EncodeCtx,
}

/// Errors of the framed stream.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent a message that cannot be decoded; send
    /// [`DecodeError::notification`] and close.
    #[error("decode error: {0}")]
    Decode(#[from] DecodeError),
    /// A message of ours cannot be encoded.
    #[error("encode error: {0}")]
    Encode(#[from] EncodeError),
}

impl BgpCodec {
    /// A codec for a session that has not negotiated anything yet (OPEN exchange).
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with the given contexts.
    pub fn with_ctx(decode: DecodeCtx, encode: EncodeCtx) -> Self {
        BgpCodec { decode, encode }
    }

    /// Switches to the contexts negotiated by the OPEN exchange.
    pub fn set_ctx(&mut self, decode: DecodeCtx, encode: EncodeCtx) {
        self.decode = decode;
        self.encode = encode;
    }

    /// The context used to decode.
    pub fn decode_ctx(&self) -> &DecodeCtx {
        &self.decode
    }

    /// The context used to encode.
    pub fn encode_ctx(&self) -> &EncodeCtx {
        &self.encode
    }
}

impl Decoder for BgpCodec {
    type Item = Message;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, CodecError> {
        if src.len() < HEADER_LEN {
            src.reserve(HEADER_LEN - src.len());
            return Ok(None);
        }
        let header = check_header(src, &self.decode)?;
        let len = usize::from(header.length);
        if src.len() < len {
            src.reserve(len - src.len());
            return Ok(None);
        }
        let frame = src.split_to(len);
        Ok(Some(Message::decode(&frame, &self.decode)?))
    }
}

impl Encoder<&Message> for BgpCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Message, dst: &mut BytesMut) -> Result<(), CodecError> {
        Ok(item.encode(&self.encode, dst)?)
    }
}

impl Encoder<Message> for BgpCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), CodecError> {
        Ok(item.encode(&self.encode, dst)?)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::notification::{ErrorCode, Notification, cease_subcode};

    #[test]
    fn messages_split_across_reads_come_out_whole_and_in_order() {
        let mut codec = BgpCodec::new();
        let msgs = [
            Message::Keepalive,
            Message::Notification(Notification::new(
                ErrorCode::Cease,
                cease_subcode::PEER_DECONFIGURED,
                Bytes::new(),
            )),
        ];
        let mut wire = BytesMut::new();
        for m in &msgs {
            codec.encode(m, &mut wire).unwrap();
        }
        // Feed one byte at a time, as a slow socket would.
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for b in wire.iter() {
            buf.extend_from_slice(&[*b]);
            while let Some(m) = codec.decode(&mut buf).unwrap() {
                out.push(m);
            }
        }
        assert_eq!(out, msgs);
        assert!(buf.is_empty());
    }

    #[test]
    fn bad_header_is_reported_before_the_body_arrives() {
        let mut codec = BgpCodec::new();
        let mut buf = BytesMut::from(&[0xffu8; 16][..]);
        buf.extend_from_slice(&[0xff, 0xff, 2]); // UPDATE claiming 65535 bytes
        let err = codec.decode(&mut buf).unwrap_err();
        match err {
            CodecError::Decode(e) => {
                let n = e.notification();
                assert_eq!((n.code, n.subcode, &n.data[..]), (1, 2, &[0xff, 0xff][..]));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
