//! Accepting a validated request (RFC 6455 §4.2.2): choosing the subprotocol and extensions
//! among the client's offers, and writing the `101 Switching Protocols` response with the
//! [`Negotiated`] value it makes.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::BuildError;
use super::response::{check_header, write_header, write_status_line};
use super::server::Request;
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
    /// assert!(accepted.response.windows(34).any(|w| w == b"Sec-WebSocket-Extensions: permessa"));
    /// ```
    #[cfg(feature = "deflate")]
    pub fn select_deflate(
        &self,
        options: &crate::extensions::DeflateOptions,
    ) -> Option<crate::extensions::DeflateParams> {
        options.negotiate(self.extensions())
    }

    /// Accepts the request: the `101 Switching Protocols` response bytes, the [`Negotiated`]
    /// value for the connection and the bytes that followed the request.
    ///
    /// Fails, producing nothing, if the subprotocol or an extension was not offered, or an
    /// extra header is invalid or one the handshake writes itself.
    ///
    /// ```
    /// # use wsmachine::handshake::{Accept, ServerHandshake, Status};
    /// # let mut hs = ServerHandshake::default();
    /// # let Ok(Status::Complete(request)) = hs.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\
    /// #   Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
    /// #   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n") else { panic!() };
    /// let accepted = request.accept(&Accept::new().header("Set-Cookie", "id=1")).unwrap();
    /// assert_eq!(
    ///     accepted.response,
    ///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: id=1\r\n\r\n"
    /// );
    /// ```
    pub fn accept(&self, accept: &Accept) -> Result<Accepted, BuildError> {
        let key = self.key().ok_or(BuildError::NotHttp1)?;
        let (fields, negotiated) = self.response_fields(accept)?;
        let mut response = Vec::with_capacity(160);
        write_status_line(&mut response, 101, "Switching Protocols");
        write_header(&mut response, "Upgrade", b"websocket");
        write_header(&mut response, "Connection", b"Upgrade");
        write_header(
            &mut response,
            "Sec-WebSocket-Accept",
            accept_key(key).as_bytes(),
        );
        for field in &fields {
            write_header(&mut response, field.name(), field.value());
        }
        response.extend_from_slice(b"\r\n");
        Ok(Accepted {
            response,
            negotiated,
            leftover: self.leftover().to_vec(),
        })
    }

    /// The fields of a successful response after the fixed ones (subprotocol, extensions,
    /// extra headers), and the `Negotiated` value they make.
    pub(crate) fn response_fields(
        &self,
        accept: &Accept,
    ) -> Result<(Vec<Header>, Negotiated), BuildError> {
        let mut fields = Vec::new();
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
            check_header(header.name(), header.value(), RESERVED_IN_ACCEPT)?;
            fields.push(header.clone());
        }
        Ok((fields, negotiated))
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
    /// response gets their `permessage-deflate` element (first, before any
    /// [`extension`](Self::extension)s) and the [`Negotiated`] value carries them, so the
    /// connection compresses. Take them from [`Request::select_deflate`].
    #[cfg(feature = "deflate")]
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

/// An accepted handshake: what to write, what to give the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    /// The `101 Switching Protocols` response to write to the transport.
    pub response: Vec<u8>,
    /// The subprotocol and extensions, for [`Connection::new`](crate::Connection::new).
    pub negotiated: Negotiated,
    /// The bytes that followed the request: feed them to the connection first.
    pub leftover: Vec<u8>,
}
