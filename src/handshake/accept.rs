//! Accepting a validated request: choosing the subprotocol and extensions among the client's
//! offers, and the response that says so with the [`Negotiated`] value it makes — a
//! `101 Switching Protocols` for an HTTP/1.1 upgrade (RFC 6455 §4.2.2), a `200` for an
//! extended CONNECT (RFC 8441 §5, RFC 9220 §3).

use alloc::string::String;
use alloc::vec::Vec;

use super::error::BuildError;
use super::response::{check_header, reason_phrase, write_header, write_status_line};
use super::server::{Bootstrap, Request};
use super::{Header, accept_key};
use crate::extensions::params::{Extension, PERMESSAGE_DEFLATE, named};
use crate::negotiated::Negotiated;

/// Our first preference that the client offered, if any (RFC 6455 §4.2.2: the server picks
/// one of the client's offers; wsmachine's policy is the server's first preference).
/// Subprotocol names compare exactly, case included.
///
/// ```
/// use wsmachine::handshake::select_protocol;
/// let offers = ["graphql-ws", "graphql-transport-ws"];
/// assert_eq!(select_protocol(&["graphql-transport-ws", "graphql-ws"], &offers), Some("graphql-transport-ws"));
/// assert_eq!(select_protocol(&["mqtt"], &offers), None);
/// ```
pub fn select_protocol<'a, P: AsRef<str>, O: AsRef<str>>(
    preferences: &'a [P],
    offers: &[O],
) -> Option<&'a str> {
    preferences
        .iter()
        .map(AsRef::as_ref)
        .find(|preference| offers.iter().any(|offer| offer.as_ref() == *preference))
}

impl Request {
    /// Our first preference that the client offered (RFC 6455 §4.2.2: the server picks one of
    /// the client's offers), if any. See [`select_protocol`].
    pub fn select_protocol<'a, P: AsRef<str>>(&self, preferences: &'a [P]) -> Option<&'a str> {
        select_protocol(preferences, self.protocols())
    }

    /// The permessage-deflate parameters for the first of the client's offers that `options`
    /// can honour (feature `deflate`; RFC 7692 §7: the server accepts one offer and declines
    /// the others), or `None` if it made no acceptable offer. Give the result to
    /// [`Accept::deflate`]. See [`DeflateOptions::negotiate`](crate::extensions::DeflateOptions::negotiate).
    ///
    /// ```
    /// # use wsmachine::handshake::{Accept, ServerHandshake, Status};
    /// use wsmachine::extensions::DeflateOptions;
    /// # let mut hs = ServerHandshake::default();
    /// # let Ok(Status::Complete(request)) = hs.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\
    /// #   Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
    /// #   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    /// #   Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n") else { panic!() };
    /// let deflate = request.select_deflate(&DeflateOptions::new());
    /// let accepted = request.accept(&Accept::new().deflate(deflate)).unwrap();
    /// assert!(accepted.negotiated.deflate().is_some());
    /// let extensions = accepted.header("Sec-WebSocket-Extensions").unwrap();
    /// assert!(extensions.starts_with("permessage-deflate"));
    /// ```
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn select_deflate(
        &self,
        options: &crate::extensions::DeflateOptions,
    ) -> Option<crate::extensions::DeflateParams> {
        options.negotiate(self.extensions())
    }

    /// Accepts the request: the response, the [`Negotiated`] value for the connection and the
    /// bytes that followed the request, as one [`Accepted`] value.
    ///
    /// The response follows the request's [`bootstrap`](Self::bootstrap): `101 Switching
    /// Protocols` with `Upgrade`, `Connection` and `Sec-WebSocket-Accept` for an HTTP/1.1
    /// upgrade (RFC 6455 §4.2.2), `200` for an extended CONNECT (RFC 8441 §5, RFC 9220 §3);
    /// either way with the chosen subprotocol, extensions and extra fields. Write it with
    /// [`Accepted::to_bytes`], or hand `Accepted::to_http` (feature `http`) to an HTTP server.
    ///
    /// Fails, producing nothing, if the subprotocol or an extension was not offered, or an
    /// extra header is invalid or one the handshake writes itself (over HTTP/2 and HTTP/3 the
    /// connection-specific fields too, RFC 9113 §8.2.2).
    ///
    /// ```
    /// # use wsmachine::handshake::{Accept, ServerHandshake, Status};
    /// # let mut hs = ServerHandshake::default();
    /// # let Ok(Status::Complete(request)) = hs.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\
    /// #   Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
    /// #   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n") else { panic!() };
    /// let accepted = request.accept(&Accept::new().header("Set-Cookie", "id=1")).unwrap();
    /// assert_eq!(accepted.status(), 101);
    /// assert_eq!(
    ///     accepted.to_bytes(),
    ///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: id=1\r\n\r\n"
    /// );
    /// ```
    pub fn accept(&self, accept: &Accept) -> Result<Accepted, BuildError> {
        let reserved = if self.bootstrap().is_extended_connect() {
            RESERVED_IN_CONNECT_ACCEPT
        } else {
            RESERVED_IN_ACCEPT
        };
        let mut headers = Vec::new();
        // RFC 8441 §5: an extended CONNECT has no key to answer; a 2xx accepts it.
        if let Bootstrap::Http1 { key } = self.bootstrap() {
            headers.push(Header::new("Upgrade", "websocket"));
            headers.push(Header::new("Connection", "Upgrade"));
            headers.push(Header::new("Sec-WebSocket-Accept", accept_key(key)));
        }
        let negotiated = self.response_fields(accept, reserved, &mut headers)?;
        Ok(Accepted {
            bootstrap: self.bootstrap().clone(),
            headers,
            negotiated,
            leftover: self.leftover().to_vec(),
        })
    }

    /// Appends the fields of a successful response after the fixed ones (subprotocol,
    /// extensions, extra headers) to `fields`, and returns the `Negotiated` value they make.
    fn response_fields(
        &self,
        accept: &Accept,
        reserved: &[&str],
        fields: &mut Vec<Header>,
    ) -> Result<Negotiated, BuildError> {
        let mut negotiated = Negotiated::new();
        if let Some(protocol) = &accept.protocol {
            // RFC 6455 §4.2.2 item 5: the server's choice is one of the client's values.
            if !self.protocols().iter().any(|offer| offer == protocol) {
                return Err(BuildError::UnofferedProtocol);
            }
            fields.push(Header::new("Sec-WebSocket-Protocol", protocol.as_str()));
            negotiated = negotiated.with_protocol(protocol.as_str());
        }
        // permessage-deflate must come through `Accept::deflate`, so that the connection
        // compresses; a generic element would make the two ends disagree. Checked for every
        // element before any other check.
        if named(&accept.extensions, PERMESSAGE_DEFLATE)
            .next()
            .is_some()
        {
            return Err(BuildError::DeflateAsExtension);
        }
        // RFC 6455 §9.1: the server accepts extensions from the client's offer.
        let offered = |name: &str| named(self.extensions(), name).next().is_some();
        for extension in &accept.extensions {
            negotiated = negotiated.with_extension(extension.clone())?;
            if !offered(extension.name()) {
                return Err(BuildError::UnofferedExtension);
            }
        }
        #[cfg(feature = "deflate")]
        if let Some(params) = accept.deflate {
            if !offered(PERMESSAGE_DEFLATE) {
                return Err(BuildError::UnofferedExtension);
            }
            negotiated = negotiated.with_deflate(params);
        }
        // The value is derived from what was agreed, in canonical form: the others in the
        // order they were accepted, then permessage-deflate.
        if let Some(value) = negotiated.extensions() {
            fields.push(Header::new("Sec-WebSocket-Extensions", value));
        }
        for header in &accept.headers {
            check_header(header.name(), header.value(), reserved)?;
            fields.push(header.clone());
        }
        Ok(negotiated)
    }
}

/// Fields the accepting response writes itself (lower case).
const RESERVED_IN_ACCEPT: &[&str] = &[
    "upgrade",
    "connection",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
];

/// Fields an extended CONNECT's response may not carry (lower case): the ones the response
/// writes itself, and the connection-specific ones HTTP/2 and HTTP/3 forbid (RFC 9113
/// §8.2.2, RFC 9114 §4.2).
const RESERVED_IN_CONNECT_ACCEPT: &[&str] = &[
    "upgrade",
    "connection",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "proxy-connection",
    "te",
];

/// How to accept a request: the chosen subprotocol and extensions, and extra header fields.
///
/// ```
/// use wsmachine::handshake::{Accept, Extension};
/// let accept = Accept::new()
///     .protocol("chat")
///     .extension(Extension::new("x-my-extension"))
///     .header("Set-Cookie", "session=1");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accept {
    protocol: Option<String>,
    extensions: Vec<Extension>,
    headers: Vec<Header>,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::extensions::DeflateParams>,
}

impl Accept {
    /// No subprotocol, no extensions, no extra fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses a subprotocol (it must be one the client offered), or none.
    pub fn protocol<'a>(mut self, protocol: impl Into<Option<&'a str>>) -> Self {
        self.protocol = protocol.into().map(String::from);
        self
    }

    /// Accepts an extension (its name must be one the client offered), with the parameters
    /// of the response. permessage-deflate is refused here
    /// ([`BuildError::DeflateAsExtension`]): use `Accept::deflate` (feature `deflate`), which
    /// also tells the connection to compress.
    pub fn extension(mut self, extension: Extension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Accepts permessage-deflate with these parameters, or not (feature `deflate`): the
    /// response gets their `permessage-deflate` element (after any
    /// [`extension`](Self::extension)s) and the [`Negotiated`] value carries them, so the
    /// connection compresses. Take them from [`Request::select_deflate`].
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, params: impl Into<Option<crate::extensions::DeflateParams>>) -> Self {
        self.deflate = params.into();
        self
    }

    /// Adds a header field to the response (checked when accepting).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(Header::new(name.into(), value.into()));
        self
    }
}

/// An accepted handshake: the response to send, and what to give the connection.
///
/// One value for every [`Bootstrap`]: the status (`101` for an HTTP/1.1 upgrade, `200` for an
/// extended CONNECT) and header fields of the response, which render as HTTP/1.1 bytes
/// ([`to_bytes`](Self::to_bytes)) or as an `http::Response` (`to_http`, feature `http`); the
/// [`Negotiated`] value; and the bytes that followed the request.
///
/// ```
/// # use wsmachine::handshake::{Accept, ServerHandshake, Status};
/// # use wsmachine::{Config, Connection, Role};
/// # let Ok(Status::Complete(request)) = ServerHandshake::new().receive(b"GET / HTTP/1.1\r\n\
/// #   Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
/// #   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nearly") else { panic!() };
/// let accepted = request.accept(&Accept::new()).unwrap();
/// let _write_this: Vec<u8> = accepted.to_bytes();
/// assert_eq!(accepted.header("sec-websocket-accept"), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
/// assert_eq!(accepted.leftover, b"early");
/// let mut conn = Connection::server(accepted.negotiated, Config::default());
/// conn.receive(&accepted.leftover);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    bootstrap: Bootstrap,
    /// Every field of the response, the fixed ones first.
    headers: Vec<Header>,
    /// The subprotocol and extensions, for [`Connection::server`](crate::Connection::server)
    /// or [`Connection::client`](crate::Connection::client).
    pub negotiated: Negotiated,
    /// The bytes that followed the request: feed them to the connection first. Always empty
    /// for an extended CONNECT (the handshake is the HEADERS exchange) and for a request an
    /// HTTP server parsed.
    pub leftover: Vec<u8>,
}

impl Accepted {
    /// How the accepted request arrived, and so how the response is sent: as bytes on the
    /// transport ([`Bootstrap::Http1`]) or in a HEADERS frame on the request's stream.
    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    /// The response's status: `101` for an HTTP/1.1 upgrade, `200` for an extended CONNECT.
    pub fn status(&self) -> u16 {
        match self.bootstrap {
            Bootstrap::Http1 { .. } => 101,
            Bootstrap::Http2 | Bootstrap::Http3 => 200,
        }
    }

    /// The response's header fields, in order: for an HTTP/1.1 upgrade `Upgrade`,
    /// `Connection` and `Sec-WebSocket-Accept` first; then `Sec-WebSocket-Protocol` and
    /// `Sec-WebSocket-Extensions` if agreed; then the extra fields of [`Accept::header`].
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of the response field called `name` (ASCII case-insensitive), if it is
    /// UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        super::first_str(&self.headers, name)
    }

    /// The response as HTTP/1.1 bytes: the status line, the [`headers`](Self::headers) and
    /// the empty line. For an HTTP/1.1 upgrade this is the `101 Switching Protocols` to write
    /// to the transport.
    ///
    /// An extended CONNECT is answered in a HEADERS frame, which an HTTP/2 or HTTP/3 library
    /// writes: give it [`status`](Self::status) and [`headers`](Self::headers), or `to_http`
    /// (feature `http`). These bytes are then only the HTTP/1.1 spelling of that `200` (for
    /// logs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        let status = self.status();
        write_status_line(&mut out, status, reason_phrase(status));
        for field in &self.headers {
            write_header(&mut out, field.name(), field.value());
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}
