//! wsmachine: WebSocket (RFC 6455) as a sans-IO state machine.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod close;
mod config;
mod connection;
pub mod error;
pub mod frame;
pub mod mask_source;
mod negotiated;
mod text;
pub mod utf8;

pub use bytes::Bytes;
pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use connection::{
    CloseOutcome, Connection, Event, Initiator, MessageKind, Payload, ReadyState, TextPayload,
};
pub use error::{ProtocolError, SendError};
#[cfg(feature = "getrandom")]
pub use mask_source::OsRandom;
pub use mask_source::{FixedMask, MaskSource};
pub use negotiated::{Negotiated, Role};
pub use text::Text;
