//! The message enum and its entry points: decode one framed message, encode one message.

use bytes::{BufMut, BytesMut};

use crate::ctx::{DecodeCtx, EncodeCtx, MAX_MESSAGE_LEN};
use crate::error::{DecodeError, EncodeError};
use crate::header::{HEADER_LEN, HeaderError, MARKER, MessageType, check_header};
use crate::notification::Notification;
use crate::open::Open;
use crate::route_refresh::RouteRefresh;
use crate::update::Update;

/// A BGP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// OPEN.
    Open(Open),
    /// UPDATE.
    Update(Update),
    /// NOTIFICATION.
    Notification(Notification),
    /// KEEPALIVE.
    Keepalive,
    /// ROUTE-REFRESH (with the RFC 7313 subtypes).
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// The message's type code.
    pub fn kind(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Decodes the message at the start of `buf` (header included). `buf` must hold at
    /// least the length the header gives (see [`crate::frame_len`]); bytes past it are
    /// not read.
    pub fn decode(buf: &[u8], ctx: &DecodeCtx) -> Result<Message, DecodeError> {
        let header = check_header(buf, ctx)?;
        let len = usize::from(header.length);
        let body = buf.get(HEADER_LEN..len).ok_or(DecodeError::new(
            0,
            HeaderError::Truncated {
                needed: len,
                have: buf.len(),
            },
        ))?;
        Ok(match header.kind {
            MessageType::Open => Message::Open(Open::decode_body(body, HEADER_LEN)?),
            MessageType::Update => Message::Update(Update::decode_body(body, HEADER_LEN, ctx)?),
            MessageType::Notification => Message::Notification(Notification::decode_body(body)),
            MessageType::Keepalive => Message::Keepalive,
            MessageType::RouteRefresh => {
                Message::RouteRefresh(RouteRefresh::decode_body(body, HEADER_LEN)?)
            }
        })
    }

    /// Appends the encoded message, header included, to `out`. On error `out` is left as
    /// it was.
    pub fn encode(&self, ctx: &EncodeCtx, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        out.reserve(HEADER_LEN);
        out.put_slice(&MARKER);
        out.put_u16(0);
        out.put_u8(self.kind() as u8);
        let body = match self {
            Message::Open(m) => m.encode_body(out),
            Message::Update(m) => m.encode_body(ctx, out),
            Message::Notification(m) => {
                m.encode_body(out);
                Ok(())
            }
            Message::Keepalive => Ok(()),
            Message::RouteRefresh(m) => {
                m.encode_body(out);
                Ok(())
            }
        };
        let max = match self {
            Message::Open(_) | Message::Keepalive => MAX_MESSAGE_LEN,
            _ => ctx.max_message_len(),
        };
        let len = out.len() - start;
        let result = body.and_then(|()| {
            u16::try_from(len)
                .ok()
                .filter(|_| len <= max)
                .ok_or(EncodeError::MessageTooLong { len, max })
        });
        match result {
            Ok(len16) => {
                out[start + 16..start + 18].copy_from_slice(&len16.to_be_bytes());
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Encodes into a fresh buffer; a convenience for tests and one-off messages.
    pub fn to_bytes(&self, ctx: &EncodeCtx) -> Result<BytesMut, EncodeError> {
        let mut out = BytesMut::new();
        self.encode(ctx, &mut out)?;
        Ok(out)
    }
}
