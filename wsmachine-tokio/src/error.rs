//! The error type of every fallible call.

use std::fmt;
use std::io;

use wsmachine::handshake::{BuildError, ClientError, RequestError, UrlError};
use wsmachine::{CloseOutcome, SendError};

/// What went wrong: the transport, the opening handshake, TLS, a timer, a misuse.
///
/// [`Closed`](Self::Closed) is how a connection that ended abnormally reports its end
/// (a clean close ends [`WebSocket::recv`](crate::WebSocket::recv) with `None` instead).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    Io(io::Error),
    /// The URL is not a valid `ws://` or `wss://` URL.
    InvalidUrl(UrlError),
    /// `wss://` without a TLS feature (`rustls-tls-webpki-roots`, `rustls-tls-native-roots`,
    /// or `rustls` with `ConnectOptions::tls_config`).
    TlsUnavailable,
    /// The TLS handshake or the TLS layer failed.
    Tls(io::Error),
    /// The opening handshake took longer than its timeout.
    HandshakeTimeout,
    /// Server: the client's request is not a valid upgrade; it was answered with
    /// [`RequestError::status`] (`400`, `426`, ...).
    Request(RequestError),
    /// Server: the application refused the request (its callback returned a response with
    /// this status, which was sent).
    Refused(u16),
    /// Client: the server refused the upgrade or answered with an invalid response
    /// ([`ClientError::status`] gives the status of a refusal).
    Response(ClientError),
    /// The handshake's own answer could not be built (a subprotocol the client did not offer,
    /// an invalid extra header): a mistake in the options.
    Build(BuildError),
    /// A message could not be queued (a close code that cannot be sent, a reason too long, a
    /// send after our Close): a mistake of the caller; nothing was queued.
    Send(SendError),
    /// The connection ended without a clean closing handshake: the peer's protocol error, a
    /// timer (keepalive Pong, idle, close timeout), or the transport ending early (1006).
    Closed(CloseOutcome),
    /// The connection is over: nothing more can be sent.
    AlreadyClosed,
    /// HTTP/2: the server did not enable the extended CONNECT protocol (RFC 8441 §3).
    #[cfg(feature = "h2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "h2")))]
    ExtendedConnectDisabled,
    /// HTTP/2: the `h2` connection or stream failed.
    #[cfg(feature = "h2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "h2")))]
    H2(h2::Error),
    /// HTTP/2: the peer reset the WebSocket's stream (RST_STREAM) with this reason, an abrupt
    /// end: the connection's outcome is 1006 (abnormal closure), as for a lost TCP connection.
    #[cfg(feature = "h2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "h2")))]
    StreamReset(h2::Reason),
    /// hyper: the upgrade of the HTTP connection failed.
    #[cfg(feature = "hyper")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
    Upgrade(hyper::Error),
    /// HTTP/3: the QUIC connection or the request stream failed, or the server does not
    /// allow WebSockets.
    #[cfg(feature = "h3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "h3")))]
    H3(crate::H3Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::InvalidUrl(e) => write!(f, "invalid URL: {e}"),
            Self::TlsUnavailable => f.write_str("wss:// needs a TLS feature"),
            Self::Tls(e) => write!(f, "TLS error: {e}"),
            Self::HandshakeTimeout => f.write_str("the opening handshake timed out"),
            Self::Request(e) => write!(f, "invalid upgrade request ({}): {e}", e.status()),
            Self::Refused(status) => write!(f, "the application refused the upgrade ({status})"),
            Self::Response(e) => match e.status() {
                Some(status) => write!(f, "handshake failed ({status}): {e}"),
                None => write!(f, "handshake failed: {e}"),
            },
            Self::Build(e) => write!(f, "cannot build the handshake answer: {e}"),
            Self::Send(e) => write!(f, "cannot send: {e}"),
            Self::Closed(outcome) => write!(
                f,
                "connection closed abnormally: {} {:?}",
                outcome.code,
                outcome.reason.as_str()
            ),
            Self::AlreadyClosed => f.write_str("the connection is closed"),
            #[cfg(feature = "h2")]
            Self::ExtendedConnectDisabled => {
                f.write_str("the HTTP/2 server does not support WebSockets (RFC 8441)")
            }
            #[cfg(feature = "h2")]
            Self::H2(e) => write!(f, "HTTP/2 error: {e}"),
            #[cfg(feature = "h2")]
            Self::StreamReset(reason) => {
                write!(f, "the peer reset the HTTP/2 stream ({reason})")
            }
            #[cfg(feature = "hyper")]
            Self::Upgrade(e) => write!(f, "HTTP upgrade failed: {e}"),
            #[cfg(feature = "h3")]
            Self::H3(e) => write!(f, "HTTP/3 error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) | Self::Tls(e) => Some(e),
            Self::InvalidUrl(e) => Some(e),
            Self::Request(e) => Some(e),
            Self::Response(e) => Some(e),
            Self::Build(e) => Some(e),
            Self::Send(e) => Some(e),
            #[cfg(feature = "h2")]
            Self::H2(e) => Some(e),
            #[cfg(feature = "hyper")]
            Self::Upgrade(e) => Some(e),
            #[cfg(feature = "h3")]
            Self::H3(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// What a failed transport reports from `recv`: nothing for the peer going away (a reset
    /// or a broken pipe: the 1006 outcome says it all), the reason of an HTTP/2 stream reset,
    /// and any other error as itself.
    pub(crate) fn from_transport(e: io::Error) -> Option<Self> {
        #[cfg(feature = "h2")]
        if let Some(reason) = crate::h2::reset_reason(&e) {
            return Some(Self::StreamReset(reason));
        }
        match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => None,
            _ => Some(Self::Io(e)),
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

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Self::InvalidUrl(e)
    }
}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Self {
        Self::Build(e)
    }
}
