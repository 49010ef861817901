//! Why a blocking WebSocket call failed.

use core::fmt;
use std::io;

use crate::error::SendError;
use crate::handshake::{BuildError, ClientError, RequestError, UrlError};

/// Why a call on a blocking [`WebSocket`](super::WebSocket) failed.
///
/// How the connection *ended* is not an error: [`read`](super::WebSocket::read) reports it
/// as [`Event::Closed`](crate::Event::Closed), timeouts and protocol errors included. Errors
/// are what stops the driver itself: the transport, the opening handshake, a caller mistake,
/// and calls after the end.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed (other than a read timing out, which only runs the timers).
    Io(io::Error),
    /// The URL given to a client is not a `ws://` or `wss://` URL.
    Url(UrlError),
    /// A `wss://` URL given to [`connect`](super::WebSocket::connect), which dials plain TCP:
    /// bring a TLS stream to [`client`](super::WebSocket::client) instead.
    TlsRequired,
    /// Server: the client's request is not a valid WebSocket upgrade, or a policy refused it
    /// (the origin, the header limits). The refusal (`rejection.response()`) was written and the
    /// stream ended.
    Request(RequestError),
    /// Client: the server refused the upgrade or answered against RFC 6455 §4.1.
    Response(ClientError),
    /// The options cannot make a valid handshake (an invalid or reserved extra header field):
    /// a caller mistake. A server answers the request with `500` first.
    Options(BuildError),
    /// The opening handshake did not complete within the handshake timeout.
    HandshakeTimeout,
    /// The transport ended before the opening handshake completed.
    HandshakeEof,
    /// A send or close was refused (a caller mistake); nothing was queued.
    Send(SendError),
    /// The connection is over: [`Event::Closed`](crate::Event::Closed) was already returned.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e}"),
            Self::Url(e) => write!(f, "invalid URL: {e}"),
            Self::TlsRequired => f.write_str("wss:// needs a TLS stream (use WebSocket::client)"),
            Self::Request(e) => write!(f, "handshake request refused: {e}"),
            Self::Response(e) => write!(f, "handshake failed: {e}"),
            Self::Options(e) => write!(f, "invalid handshake options: {e}"),
            Self::HandshakeTimeout => f.write_str("opening handshake timed out"),
            Self::HandshakeEof => f.write_str("transport ended during the opening handshake"),
            Self::Send(e) => write!(f, "send refused: {e}"),
            Self::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Url(e) => Some(e),
            Self::Request(e) => Some(e),
            Self::Response(e) => Some(e),
            Self::Options(e) => Some(e),
            Self::Send(e) => Some(e),
            Self::TlsRequired | Self::HandshakeTimeout | Self::HandshakeEof | Self::Closed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        Self::Send(e)
    }
}

impl From<Error> for io::Error {
    /// For `?` in functions that return `io::Result`: the transport's own error as it was,
    /// the others wrapped with a fitting kind.
    fn from(e: Error) -> Self {
        let kind = match e {
            Error::Io(e) => return e,
            Error::Url(_) | Error::TlsRequired | Error::Options(_) | Error::Send(_) => {
                io::ErrorKind::InvalidInput
            }
            Error::Request(_) | Error::Response(_) => io::ErrorKind::InvalidData,
            Error::HandshakeTimeout => io::ErrorKind::TimedOut,
            Error::HandshakeEof => io::ErrorKind::UnexpectedEof,
            Error::Closed => io::ErrorKind::NotConnected,
        };
        io::Error::new(kind, e)
    }
}
