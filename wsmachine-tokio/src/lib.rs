//! The tokio driver for [wsmachine](wsmachine).
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod driver;
mod error;
#[cfg(feature = "h2")]
mod h2;
mod handshake;
mod message;
mod options;
mod split;
mod stream;
#[cfg(feature = "rustls")]
mod tls;
#[cfg(feature = "hyper")]
mod upgrade;
mod websocket;

pub use driver::DEFAULT_MAX_BUFFERED;
pub use error::Error;
#[cfg(feature = "h2")]
#[cfg_attr(docsrs, doc(cfg(feature = "h2")))]
pub use h2::{H2Stream, accept_h2, connect_h2, h2_client};
pub use handshake::{accept, accept_with, client_on, connect, connect_with};
pub use message::Message;
pub use options::{AcceptOptions, ConnectOptions, DEFAULT_HANDSHAKE_TIMEOUT};
pub use split::{ReadHalf, ReuniteError, WriteHalf};
pub use stream::MaybeTlsStream;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub use upgrade::{Refusal, Upgrading, UpgradedIo, upgrade};
pub use websocket::WebSocket;
/// The protocol core, for its types (`Config`, `CloseCode`, `CloseFrame`, `Text`, ...).
pub use wsmachine;
pub use wsmachine::{Bytes, CloseCode, CloseFrame, CloseOutcome, Config, Text};
