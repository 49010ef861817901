//! WebSocket extensions (RFC 6455 §9): their parameters in the handshake, and running them.
//!
//! The handshake carries extensions as [`Extension`] values (a name and parameters, in the
//! RFC 6455 §9.1 grammar); they are defined here, below the handshake, so that an extension
//! reads its own parameters without knowing about HTTP. The handshake re-exports them as
//! `handshake::Extension` and `handshake::ExtensionSyntaxError`.
//!
//! The one extension wsmachine runs is `deflate`: permessage-deflate (RFC 7692), behind the
//! feature `deflate`, like the re-exports of its types here. This module never sees a socket
//! or an HTTP message.
//!
//! The glue for the handshake is in the handshake types:
//! `Request::select_deflate` and `Accept::deflate` on a server, `ClientOptions::deflate` on a
//! client. Either way the agreed `DeflateParams` end up in the [`Negotiated`](crate::Negotiated)
//! value that [`Connection::server`](crate::Connection::server) and
//! [`Connection::client`](crate::Connection::client) start from.

#[cfg(feature = "deflate")]
pub mod deflate;
pub(crate) mod params;
pub(crate) mod seam;

#[cfg(feature = "deflate")]
pub use deflate::{DeflateConfig, DeflateError, DeflateOptions, DeflateParams};
pub use params::{Extension, ExtensionSyntaxError};
