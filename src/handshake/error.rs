//! Handshake errors: what a client's request got wrong ([`RequestError`], each with the HTTP
//! response that says so), what a server's response got wrong ([`ClientError`]), and what the
//! caller got wrong ([`BuildError`]).

use alloc::boxed::Box;
use core::fmt;

use super::Header;
use super::response::Response;
use crate::negotiated::NegotiatedError;

/// Why a server rejects an upgrade request; each has the HTTP response that says so.
///
/// Statuses follow the crate's policy table: a malformed request or a missing or bad
/// WebSocket field is `400`, a method other than `GET` is `405`, HTTP/1.0 is `505`, a
/// `Sec-WebSocket-Version` other than 13 is `426`, a header block over the limits is `431`, a
/// refused `Origin` is `403`.
///
/// ```
/// use wsmachine::handshake::RequestError;
/// let e = RequestError::UnsupportedVersion;
/// assert_eq!(e.status(), 426);
/// assert_eq!(e.response().header("Sec-WebSocket-Version"), Some("13"));
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestError {
    /// Not an HTTP/1.1 request (garbage, a TLS handshake on a plain port, a bad header line).
    /// `400`.
    Malformed,
    /// The header block passed [`max_header_bytes`](super::HandshakeLimits::max_header_bytes)
    /// or [`max_headers`](super::HandshakeLimits::max_headers). `431`.
    HeadersTooLarge,
    /// HTTP/1.0, or a version `httparse` cannot read (RFC 6455 §4.1: HTTP/1.1 or higher); for
    /// an extended CONNECT, a version other than HTTP/2 and HTTP/3 (RFC 8441 §4, RFC 9220 §3).
    /// `505`.
    HttpVersion,
    /// The method is not `GET` (RFC 6455 §4.1). `405` with `Allow: GET`.
    MethodNotAllowed,
    /// RFC 8441 §4: the method of an HTTP/2 or HTTP/3 WebSocket request is not `CONNECT`.
    /// `405` with `Allow: CONNECT`.
    ConnectRequired,
    /// The request target is neither an absolute path nor an absolute URI, or has a fragment
    /// (RFC 6455 §3). `400`.
    BadTarget,
    /// No `Host` field, or an empty or non-text one (RFC 6455 §4.1 item 4). `400`.
    MissingHost,
    /// More than one `Host` field (RFC 7230 §5.4). `400`.
    DuplicateHost,
    /// No `Upgrade` field with the token `websocket` (RFC 6455 §4.2.1 item 3). `400`.
    MissingUpgrade,
    /// No `Connection` field with the token `upgrade` (RFC 6455 §4.2.1 item 4). `400`.
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Version` missing or not `13` (RFC 6455 §4.2.2, §4.4). `426` with
    /// `Sec-WebSocket-Version: 13`.
    UnsupportedVersion,
    /// More than one `Sec-WebSocket-Version` field. `400`.
    DuplicateVersion,
    /// No `Sec-WebSocket-Key` (RFC 6455 §4.2.1 item 5). `400`.
    MissingKey,
    /// More than one `Sec-WebSocket-Key` field. `400`.
    DuplicateKey,
    /// A `Sec-WebSocket-Key` that is not base64 for exactly 16 bytes. `400`.
    InvalidKey,
    /// RFC 8441 §5: a `Sec-WebSocket-Key` on an extended CONNECT, where it is not used.
    /// `400`.
    UnexpectedKey,
    /// RFC 8441 §4: the `:protocol` pseudo-header is missing or not `websocket`. `400`.
    MissingConnectProtocol,
    /// A request body: a non-zero or invalid `Content-Length`, or any `Transfer-Encoding`.
    /// The bytes after the header block belong to the WebSocket connection. `400`.
    UnexpectedBody,
    /// A `Sec-WebSocket-Protocol` element that is not a token. `400`.
    MalformedProtocols,
    /// A `Sec-WebSocket-Extensions` value that does not follow RFC 6455 §9.1. `400`.
    MalformedExtensions,
    /// More than one `Origin` field. `400`.
    DuplicateOrigin,
    /// The [`OriginPolicy`](super::OriginPolicy) refused the `Origin` (RFC 6455 §4.2.2 item
    /// 4, §10.2). `403`.
    ForbiddenOrigin,
    /// [`ServerHandshake::receive`](super::ServerHandshake::receive) was called after it had
    /// finished (a bug in the caller, not the peer). `500`.
    Finished,
}

impl RequestError {
    /// The HTTP status code for this rejection.
    pub const fn status(self) -> u16 {
        match self {
            Self::HeadersTooLarge => 431,
            Self::HttpVersion => 505,
            Self::MethodNotAllowed | Self::ConnectRequired => 405,
            Self::UnsupportedVersion => 426,
            Self::ForbiddenOrigin => 403,
            Self::Finished => 500,
            _ => 400,
        }
    }

    /// A short static description, also the body of [`response`](Self::response).
    pub const fn description(self) -> &'static str {
        match self {
            Self::Malformed => "malformed HTTP request",
            Self::HeadersTooLarge => "request header block too large",
            Self::HttpVersion => "HTTP/1.1 or higher required",
            Self::MethodNotAllowed => "a WebSocket upgrade must use GET",
            Self::ConnectRequired => "a WebSocket over HTTP/2 or HTTP/3 must use CONNECT",
            Self::BadTarget => "invalid request target",
            Self::MissingHost => "missing Host header",
            Self::DuplicateHost => "repeated Host header",
            Self::MissingUpgrade => "missing Upgrade: websocket",
            Self::MissingConnectionUpgrade => "missing Connection: Upgrade",
            Self::UnsupportedVersion => "Sec-WebSocket-Version 13 required",
            Self::DuplicateVersion => "repeated Sec-WebSocket-Version header",
            Self::MissingKey => "missing Sec-WebSocket-Key",
            Self::DuplicateKey => "repeated Sec-WebSocket-Key header",
            Self::InvalidKey => "Sec-WebSocket-Key must be base64 for 16 bytes",
            Self::UnexpectedKey => "Sec-WebSocket-Key is not used over HTTP/2 or HTTP/3",
            Self::MissingConnectProtocol => "missing :protocol websocket",
            Self::UnexpectedBody => "a WebSocket upgrade has no body",
            Self::MalformedProtocols => "malformed Sec-WebSocket-Protocol",
            Self::MalformedExtensions => "malformed Sec-WebSocket-Extensions",
            Self::DuplicateOrigin => "repeated Origin header",
            Self::ForbiddenOrigin => "origin not allowed",
            Self::Finished => "handshake already finished",
        }
    }

    /// The response to send before closing the transport: the status, the fields this
    /// rejection requires (`Allow` for 405, `Sec-WebSocket-Version: 13` and
    /// `Upgrade: websocket` for 426), a `text/plain` body with the
    /// [`description`](Self::description). Write it with
    /// [`Response::to_bytes`].
    pub fn response(self) -> Response {
        let status = self.status();
        let reason = alloc::string::String::from(super::response::reason_phrase(status));
        let mut response = Response::unchecked(status, reason);
        match self {
            Self::MethodNotAllowed => response.push_header(Header::new("Allow", "GET")),
            Self::ConnectRequired => response.push_header(Header::new("Allow", "CONNECT")),
            Self::UnsupportedVersion => {
                // RFC 6455 §4.4: the versions the server understands; RFC 7231 §6.5.15: a 426
                // names the protocol to upgrade to.
                response.push_header(Header::new("Sec-WebSocket-Version", "13"));
                response.push_header(Header::new("Upgrade", "websocket"));
            }
            _ => {}
        }
        response.push_header(Header::new("Content-Type", "text/plain; charset=utf-8"));
        response.with_body(self.description())
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.description(), self.status())
    }
}

impl core::error::Error for RequestError {}

/// Why a client's handshake failed: the server refused, or its response breaks RFC 6455 §4.1
/// (or RFC 8441 §5 for an extended CONNECT); the client must then fail the WebSocket
/// connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a final status other than `101` (for an extended CONNECT:
    /// other than `2xx`): its status, headers and (up to
    /// [`max_body_bytes`](super::HandshakeLimits::max_body_bytes) of) its body. An extended
    /// CONNECT's refusal comes without its body, which travels in DATA frames.
    Rejected(Box<Response>),
    /// An informational status other than `101` (such as `100 Continue`), which a WebSocket
    /// server has no reason to send; for an extended CONNECT any `1xx` (RFC 9113 §8.6: no
    /// `101` over HTTP/2).
    Informational(u16),
    /// The status line is not `HTTP/1.1`.
    HttpVersion,
    /// No `Upgrade` field with the token `websocket`.
    MissingUpgrade,
    /// No `Connection` field with the token `upgrade`.
    MissingConnection,
    /// No `Sec-WebSocket-Accept` field.
    MissingAccept,
    /// A `Sec-WebSocket-Accept` that is not the one for our key, or more than one.
    BadAccept,
    /// A subprotocol we did not offer (or one when we offered none).
    UnofferedProtocol,
    /// More than one subprotocol chosen.
    MultipleProtocols,
    /// An extension we did not offer.
    UnofferedExtension,
    /// A `Sec-WebSocket-Extensions` value that does not follow RFC 6455 §9.1.
    MalformedExtensions,
    /// A permessage-deflate response the client must fail the connection on (feature
    /// `deflate`; RFC 7692 §7): why.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    Deflate(crate::extensions::DeflateError),
    /// The header block passed the limits of [`HandshakeLimits`](super::HandshakeLimits).
    TooLarge,
    /// Not an HTTP/1.1 response.
    Malformed,
    /// The transport closed before the response was complete.
    UnexpectedEof,
    /// The handshake had already finished (a bug in the caller).
    Finished,
}

impl ClientError {
    /// A short static description.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Rejected(_) => "the server refused the upgrade",
            Self::Informational(_) => "unexpected informational response",
            Self::HttpVersion => "response is not HTTP/1.1",
            Self::MissingUpgrade => "missing Upgrade: websocket",
            Self::MissingConnection => "missing Connection: Upgrade",
            Self::MissingAccept => "missing Sec-WebSocket-Accept",
            Self::BadAccept => "wrong Sec-WebSocket-Accept",
            Self::UnofferedProtocol => "the server chose a subprotocol we did not offer",
            Self::MultipleProtocols => "the server chose more than one subprotocol",
            Self::UnofferedExtension => "the server chose an extension we did not offer",
            Self::MalformedExtensions => "malformed Sec-WebSocket-Extensions",
            #[cfg(feature = "deflate")]
            Self::Deflate(e) => e.description(),
            Self::TooLarge => "response header block too large",
            Self::Malformed => "malformed HTTP response",
            Self::UnexpectedEof => "connection closed during the handshake",
            Self::Finished => "handshake already finished",
        }
    }

    /// The status the server sent, for [`Rejected`](Self::Rejected) and
    /// [`Informational`](Self::Informational).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected(response) => Some(response.status()),
            Self::Informational(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status() {
            Some(status) => write!(f, "{} ({status})", self.description()),
            None => f.write_str(self.description()),
        }
    }
}

impl core::error::Error for ClientError {}

/// A caller mistake while building a handshake message; nothing was produced.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildError {
    /// The server accepted a subprotocol the client did not offer (RFC 6455 §4.2.2).
    UnofferedProtocol,
    /// The server accepted an extension the client did not offer (RFC 6455 §9.1).
    UnofferedExtension,
    /// A subprotocol that is not a token, or offered twice (RFC 6455 §4.1).
    InvalidProtocol,
    /// An extension name, parameter name or value that is not a token (RFC 6455 §9.1).
    InvalidExtension,
    /// A header name that is not a token.
    InvalidHeaderName,
    /// A header value with a control character (CR or LF would inject headers) or
    /// surrounding whitespace.
    InvalidHeaderValue,
    /// A header field the handshake writes itself (such as `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept` or `Content-Length`).
    ReservedHeader,
    /// A status outside 200–599 for a refusal.
    InvalidStatus,
    /// A URL that the `http` crate cannot take as a request's URI (a path or query with
    /// characters such as `<`, `>` or `` ` ``: percent-encode them).
    InvalidUri,
    /// `permessage-deflate` accepted as a generic [`Extension`](super::Extension): the
    /// connection would not compress (and would fail on the client's compressed frames). Use
    /// `Accept::deflate` with feature `deflate`.
    DeflateAsExtension,
}

impl BuildError {
    /// A short static description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::UnofferedProtocol => "subprotocol not offered by the client",
            Self::UnofferedExtension => "extension not offered by the client",
            Self::InvalidProtocol => "subprotocol is not a token or is repeated",
            Self::InvalidExtension => "extension parameters must be tokens",
            Self::InvalidHeaderName => "header name is not a token",
            Self::InvalidHeaderValue => "invalid character in header value",
            Self::ReservedHeader => "header is written by the handshake",
            Self::InvalidStatus => "status must be 200-599",
            Self::InvalidUri => "URL is not a valid http::Uri",
            Self::DeflateAsExtension => "accept permessage-deflate with Accept::deflate",
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for BuildError {}

impl From<NegotiatedError> for BuildError {
    fn from(e: NegotiatedError) -> Self {
        match e {
            NegotiatedError::DeflateAsExtension => Self::DeflateAsExtension,
            NegotiatedError::InvalidExtension => Self::InvalidExtension,
        }
    }
}
