//! The client side of the opening handshake (RFC 6455 §4.1): write the upgrade request, then
//! read and check the server's response.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::error::{BuildError, ClientError};
use super::grammar::{contains_token, trim_ows};
use super::head::{HeadReader, Push};
use super::offer::{ClientOptions, Offer};
use super::response::{Response, write_header};
use super::url::Url;
use super::{Header, Status, accept_key, key_for_nonce, values};
use crate::extensions::params::join_extensions;
use crate::mask_source::MaskSource;
use crate::negotiated::Negotiated;

/// Fields the request writes itself (lower case).
pub(crate) const RESERVED_IN_REQUEST: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "origin",
    "content-length",
    "transfer-encoding",
];

/// A client's opening handshake: the request to write, then the server's response, read
/// incrementally and within bounds.
///
/// Write [`request_bytes`](Self::request_bytes), then feed what the transport reads to
/// [`receive`](Self::receive) until it returns [`Status::Complete`] with an [`Established`]
/// connection or an error (RFC 6455 §4.1: on any error the client fails the connection). If
/// the transport closes first, call [`receive_eof`](Self::receive_eof).
///
/// The request's `Sec-WebSocket-Key` is a random nonce (RFC 6455 §4.1 item 7): from the OS
/// CSPRNG with [`new`](Self::new) (feature `getrandom`, on by default), from a
/// [`MaskSource`] with [`with_mask_source`](Self::with_mask_source), or given, for tests,
/// with [`with_nonce`](Self::with_nonce). For a WebSocket over HTTP/2 or HTTP/3, see
/// `handshake::ExtendedConnect` (feature `http`).
#[derive(Debug)]
pub struct ClientHandshake {
    request: Vec<u8>,
    key: String,
    offer: Offer,
    reader: HeadReader,
    max_headers: usize,
    max_body_bytes: usize,
    parse_attempts: u32,
    state: State,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Finished,
    Head,
    /// A refusal whose body is being read; `remaining` is `None` when the body ends with the
    /// transport.
    Body {
        response: Response,
        remaining: Option<usize>,
    },
}

impl ClientHandshake {
    /// A handshake for `url` whose 16-byte nonce comes from the OS CSPRNG
    /// ([`OsRandom`](crate::OsRandom); feature `getrandom`).
    ///
    /// Fails, producing nothing, if `options` are invalid (a subprotocol that is not a token
    /// or is repeated, an invalid extension or field, a field the request writes itself).
    ///
    /// # Panics
    /// If the operating system cannot provide random bytes (see
    /// [`OsRandom`](crate::OsRandom)).
    ///
    /// ```
    /// use wsmachine::handshake::{ClientHandshake, ClientOptions, Url};
    /// let url = Url::parse("ws://example.com/chat").unwrap();
    /// let handshake = ClientHandshake::new(&url, ClientOptions::new().protocol("chat")).unwrap();
    /// assert!(handshake.request_bytes().starts_with(b"GET /chat HTTP/1.1\r\n"));
    /// ```
    #[cfg(feature = "getrandom")]
    #[cfg_attr(docsrs, doc(cfg(feature = "getrandom")))]
    pub fn new(url: &Url, options: ClientOptions) -> Result<Self, BuildError> {
        Self::with_mask_source(url, options, &mut crate::mask_source::OsRandom::new())
    }

    /// A handshake for `url` whose 16-byte nonce comes from `masks` (RFC 6455 §4.1 item 7:
    /// "randomly selected"): the connection's [`MaskSource`], for instance, or any source
    /// without feature `getrandom`.
    pub fn with_mask_source<M: MaskSource + ?Sized>(
        url: &Url,
        options: ClientOptions,
        masks: &mut M,
    ) -> Result<Self, BuildError> {
        let mut nonce = [0u8; 16];
        masks.fill_bytes(&mut nonce);
        Self::with_nonce(url, options, nonce)
    }

    /// A handshake with a given nonce: **for tests** that need byte-exact requests.
    ///
    /// ```
    /// use wsmachine::handshake::{ClientHandshake, ClientOptions, Url};
    /// let url = Url::parse("ws://server.example.com/chat").unwrap();
    /// let options = ClientOptions::new().origin("http://example.com").protocol("chat");
    /// let hs = ClientHandshake::with_nonce(&url, options, *b"the sample nonce").unwrap();
    /// assert_eq!(
    ///     hs.request_bytes(),
    ///     b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
    ///       Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///       Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
    ///       Sec-WebSocket-Protocol: chat\r\n\r\n"
    /// );
    /// ```
    pub fn with_nonce(
        url: &Url,
        options: ClientOptions,
        nonce: [u8; 16],
    ) -> Result<Self, BuildError> {
        options.check(RESERVED_IN_REQUEST)?;
        let ClientOptions {
            protocols,
            extensions,
            origin,
            headers,
            limits,
        } = options;

        let key = key_for_nonce(&nonce);
        let mut request = Vec::with_capacity(256);
        request.extend_from_slice(b"GET ");
        request.extend_from_slice(url.resource().as_bytes());
        request.extend_from_slice(b" HTTP/1.1\r\n");
        write_header(&mut request, "Host", url.host_header().as_bytes());
        write_header(&mut request, "Upgrade", b"websocket");
        write_header(&mut request, "Connection", b"Upgrade");
        write_header(&mut request, "Sec-WebSocket-Key", key.as_bytes());
        write_header(&mut request, "Sec-WebSocket-Version", b"13");
        if let Some(origin) = &origin {
            write_header(&mut request, "Origin", origin.as_bytes());
        }
        if !protocols.is_empty() {
            write_header(
                &mut request,
                "Sec-WebSocket-Protocol",
                protocols.join(", ").as_bytes(),
            );
        }
        if !extensions.is_empty() {
            let value = join_extensions(&extensions);
            write_header(&mut request, "Sec-WebSocket-Extensions", value.as_bytes());
        }
        for header in &headers {
            write_header(&mut request, header.name(), header.value());
        }
        request.extend_from_slice(b"\r\n");

        Ok(Self {
            request,
            key,
            offer: Offer {
                protocols,
                extensions,
            },
            reader: HeadReader::new(limits.max_header_bytes, response_prefix_ok),
            max_headers: limits.max_headers,
            max_body_bytes: limits.max_body_bytes,
            parse_attempts: 0,
            state: State::Head,
        })
    }

    /// The upgrade request to write to the transport.
    pub fn request_bytes(&self) -> &[u8] {
        &self.request
    }

    /// The `Sec-WebSocket-Key` we sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// How many times the HTTP parser has run: at most once per handshake (a test hook).
    #[doc(hidden)]
    pub fn parse_attempts(&self) -> u32 {
        self.parse_attempts
    }

    /// How many bytes the search for the end of the header block has examined: at most the
    /// bytes fed plus two per call (a test hook).
    #[doc(hidden)]
    pub fn bytes_scanned(&self) -> usize {
        self.reader.scanned()
    }

    /// Feeds bytes read from the transport.
    ///
    /// Returns `Partial` until the response is complete. A `101` that passes every check of
    /// RFC 6455 §4.1 gives [`Established`], with the bytes that followed the response. Any
    /// other final status is read with its body (per `Content-Length`, or up to the end of
    /// the transport when there is none; a chunked body is not read) and returned as
    /// [`ClientError::Rejected`]. After `Complete` or an error, the handshake is finished.
    pub fn receive(&mut self, data: &[u8]) -> Result<Status<Established>, ClientError> {
        match self.state {
            State::Finished => Err(ClientError::Finished),
            State::Body { .. } => self.receive_body(data),
            State::Head => match self.reader.push(data) {
                Push::Partial => Ok(Status::Partial),
                Push::TooLarge => self.fail(ClientError::TooLarge),
                Push::Garbage => self.fail(ClientError::Malformed),
                Push::Complete => self.parse_head(),
            },
        }
    }

    /// The transport closed. Before the response was complete, that is
    /// [`ClientError::UnexpectedEof`]; while reading a refusal's body, it ends the body and
    /// gives [`ClientError::Rejected`]. After the handshake finished, `Ok(())`.
    pub fn receive_eof(&mut self) -> Result<(), ClientError> {
        match core::mem::take(&mut self.state) {
            State::Finished => Ok(()),
            State::Head => Err(ClientError::UnexpectedEof),
            State::Body { response, .. } => Err(ClientError::Rejected(Box::new(response))),
        }
    }

    fn fail<T>(&mut self, error: ClientError) -> Result<T, ClientError> {
        self.state = State::Finished;
        Err(error)
    }

    fn parse_head(&mut self) -> Result<Status<Established>, ClientError> {
        self.state = State::Finished;
        self.parse_attempts += 1;
        let mut fields = vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut parsed = httparse::Response::new(&mut fields);
        let head = self.reader.head();
        match parsed.parse(head) {
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Err(httparse::Error::TooManyHeaders) => return Err(ClientError::TooLarge),
            _ => return Err(ClientError::Malformed),
        }
        let (Some(version), Some(status)) = (parsed.version, parsed.code) else {
            return Err(ClientError::Malformed);
        };
        // RFC 6455 §4.1: the upgrade is an HTTP/1.1 exchange.
        if version != 1 {
            return Err(ClientError::HttpVersion);
        }
        let mut response = Response::unchecked(status, String::from(parsed.reason.unwrap_or("")));
        for field in parsed.headers.iter() {
            response.push_header(Header::new(field.name, field.value));
        }
        let leftover = self.reader.take_leftover();
        match status {
            101 => self.check_upgrade(response, leftover).map(Status::Complete),
            100..=199 => Err(ClientError::Informational(status)),
            _ => {
                let remaining = body_length(&response);
                self.state = State::Body {
                    response,
                    remaining,
                };
                self.receive_body(&leftover)
            }
        }
    }

    /// Reads the body of a refusal, up to its length and to the limit.
    fn receive_body(&mut self, data: &[u8]) -> Result<Status<Established>, ClientError> {
        let State::Body {
            response,
            remaining,
        } = &mut self.state
        else {
            return self.fail(ClientError::Finished);
        };
        let room = self.max_body_bytes.saturating_sub(response.body().len());
        let take = data.len().min(remaining.map_or(room, |r| r.min(room)));
        response.body_mut().extend_from_slice(&data[..take]);
        if let Some(remaining) = remaining {
            *remaining -= take;
        }
        if *remaining == Some(0) || response.body().len() >= self.max_body_bytes {
            let State::Body { response, .. } = core::mem::take(&mut self.state) else {
                return Err(ClientError::Finished);
            };
            return Err(ClientError::Rejected(Box::new(response)));
        }
        Ok(Status::Partial)
    }

    /// RFC 6455 §4.1, the client's checks of a `101` response.
    fn check_upgrade(
        &self,
        response: Response,
        leftover: Vec<u8>,
    ) -> Result<Established, ClientError> {
        let headers = response.headers();
        if !contains_token(values(headers, "upgrade"), "websocket") {
            return Err(ClientError::MissingUpgrade);
        }
        if !contains_token(values(headers, "connection"), "upgrade") {
            return Err(ClientError::MissingConnection);
        }
        // RFC 6455 §4.1 item 4: exactly the accept value for our key.
        let accept = {
            let mut accepts = values(headers, "sec-websocket-accept");
            (accepts.next(), accepts.next())
        };
        match accept {
            (None, _) => return Err(ClientError::MissingAccept),
            (Some(accept), None) if trim_ows(accept) == accept_key(&self.key).as_bytes() => {}
            _ => return Err(ClientError::BadAccept),
        }
        Ok(Established {
            negotiated: self.offer.negotiate(headers)?,
            response,
            leftover,
        })
    }
}

/// Whether the first bytes can start a status line.
fn response_prefix_ok(prefix: &[u8]) -> bool {
    b"HTTP/".starts_with(&prefix[..prefix.len().min(5)])
}

/// How much body a refusal has: `Some(0)` for none (or a chunked one, which is not read),
/// `None` when it ends with the transport (RFC 7230 §3.3.3).
fn body_length(response: &Response) -> Option<usize> {
    let headers = response.headers();
    if matches!(response.status(), 204 | 304)
        || values(headers, "transfer-encoding").next().is_some()
    {
        return Some(0);
    }
    let mut lengths = values(headers, "content-length");
    match (lengths.next(), lengths.next()) {
        (None, _) => None,
        (Some(length), None) => {
            let digits = trim_ows(length);
            let valid = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
            // A length too big for usize is more than the body limit anyway.
            Some(if valid {
                core::str::from_utf8(digits)
                    .ok()?
                    .parse()
                    .unwrap_or(usize::MAX)
            } else {
                0
            })
        }
        (Some(_), Some(_)) => Some(0),
    }
}

/// A successful client handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Established {
    /// The subprotocol and extensions, for [`Connection::server`](crate::Connection::server)
    /// or [`Connection::client`](crate::Connection::client).
    pub negotiated: Negotiated,
    /// The `101` response: its header fields (`Set-Cookie`, ...).
    pub response: Response,
    /// The bytes that followed the response (the server's first frames): feed them to the
    /// connection first.
    pub leftover: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extensions::params::Extension;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        let mut r = Response::unchecked(status, String::new());
        for (n, v) in headers {
            r.push_header(Header::new(*n, *v));
        }
        r
    }

    #[test]
    fn body_lengths() {
        for (status, headers, length) in [
            (403, &[("Content-Length", "12")][..], Some(12)),
            (403, &[("content-length", " 0 ")], Some(0)),
            (403, &[], None),
            (204, &[], Some(0)),
            (304, &[("Content-Length", "5")], Some(0)),
            (403, &[("Transfer-Encoding", "chunked")], Some(0)),
            (403, &[("Content-Length", "x")], Some(0)),
            (
                403,
                &[("Content-Length", "1"), ("Content-Length", "1")],
                Some(0),
            ),
            (
                403,
                &[("Content-Length", "99999999999999999999999")],
                Some(usize::MAX),
            ),
        ] {
            assert_eq!(
                body_length(&response(status, headers)),
                length,
                "{status} {headers:?}"
            );
        }
    }

    #[test]
    fn options_are_checked() {
        let url = Url::parse("ws://h/").unwrap();
        let build = |options| ClientHandshake::with_nonce(&url, options, [0; 16]).map(|_| ());
        for (options, result) in [
            (ClientOptions::new().protocol("a").protocol("b"), Ok(())),
            (
                ClientOptions::new().protocol("a").protocol("a"),
                Err(BuildError::InvalidProtocol),
            ),
            (
                ClientOptions::new().protocol("a b"),
                Err(BuildError::InvalidProtocol),
            ),
            (
                ClientOptions::new().protocol(""),
                Err(BuildError::InvalidProtocol),
            ),
            (
                ClientOptions::new().extension(Extension::new("x y")),
                Err(BuildError::InvalidExtension),
            ),
            (
                ClientOptions::new().origin("a\r\nb"),
                Err(BuildError::InvalidHeaderValue),
            ),
            (
                ClientOptions::new().header("Host", "h"),
                Err(BuildError::ReservedHeader),
            ),
            (
                ClientOptions::new().header("sec-websocket-key", "k"),
                Err(BuildError::ReservedHeader),
            ),
            (
                ClientOptions::new().header("X:", "k"),
                Err(BuildError::InvalidHeaderName),
            ),
            (
                ClientOptions::new().header("Cookie", "a=b\nX: y"),
                Err(BuildError::InvalidHeaderValue),
            ),
        ] {
            assert_eq!(build(options.clone()), result, "{options:?}");
        }
    }
}
