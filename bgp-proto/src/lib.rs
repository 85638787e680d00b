//! The BGP-4 wire format: messages, capabilities, path attributes and NLRI, with the error
//! handling of RFC 4271 and RFC 7606. Sans-IO: this crate turns bytes into values and back,
//! and knows nothing of sockets or timers.
//!
//! Entry points:
//! - [`frame_len`] says how long the next message in a buffer is, once its header is in;
//!   [`check_header`] validates that header against the session.
//! - [`Message::decode`] and [`Message::encode`] take the negotiated session context
//!   ([`DecodeCtx`], [`EncodeCtx`]), which [`negotiate()`] derives from the two OPENs.
//! - [`update::pack`] writes one attribute set with many prefixes as few UPDATEs as fit.
//! - Every [`DecodeError`] maps to the NOTIFICATION to send ([`DecodeError::notification`]);
//!   the RFC 7606 outcomes that do not reset the session are reported inside [`Update`].
//! - With the `codec` feature, `codec::BgpCodec` frames a byte stream for tokio-util.

pub mod attr;
pub mod capability;
#[cfg(feature = "codec")]
pub mod codec;
pub mod ctx;
pub mod error;
pub mod header;
pub mod message;
pub mod negotiate;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod route_refresh;
pub mod update;
mod wire;

pub use attr::{AttrAction, AttrError, PathAttribute, PathAttributes};
pub use capability::Capability;
pub use ctx::{Afi, DecodeCtx, EncodeCtx, Family, Safi};
pub use error::{DecodeError, EncodeError, ErrorKind};
pub use header::{HEADER_LEN, MessageType, check_header, frame_len};
pub use message::Message;
pub use negotiate::{Negotiated, negotiate};
pub use nlri::{Nlri, Prefix};
pub use notification::{ErrorCode, Notification};
pub use open::{Open, OptionalParam};
pub use route_refresh::RouteRefresh;
pub use update::Update;
