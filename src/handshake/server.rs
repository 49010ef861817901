//! The server side of the opening handshake (RFC 6455 §4.2): read and validate the client's
//! upgrade request (§4.2.1), and the request view every bootstrap shares ([`Request`], which
//! knows how it arrived: [`Bootstrap`]). Accepting it is in `accept`; refusing it is a
//! [`Response`](super::Response).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::error::RequestError;
use super::grammar::{contains_token, parse_protocols, trim_ows};
use super::head::{HeadReader, Push};
use super::origin::OriginPolicy;
use super::{HandshakeLimits, Header, Status, first_str, is_valid_key, values};
use crate::extensions::params::{Extension, is_tchar, parse_extension_values};

/// Receives a client's upgrade request, incrementally and within bounds.
///
/// Feed it what the transport reads, in any split, until it returns
/// [`Status::Complete`] with the validated [`Request`] or an error. On an error, write
/// [`RequestError::response`] and close the transport. After either, the handshake is
/// finished: the bytes that followed the request are in [`Request::leftover`], and a further
/// call returns [`RequestError::Finished`].
///
/// Each call scans only its own bytes for the end of the header block, and `httparse` runs
/// once, when the block is complete. A block that passes
/// [`HandshakeLimits::max_header_bytes`] is refused with `431` as soon as it does.
///
/// ```
/// use wsmachine::handshake::{HandshakeLimits, OriginPolicy, ServerHandshake};
/// let mut limits = HandshakeLimits::default();
/// limits.max_header_bytes = 8 * 1024;
/// let handshake = ServerHandshake::new()
///     .limits(limits)
///     .origin_policy(OriginPolicy::allow_list(["https://example.com"]));
/// ```
#[derive(Debug)]
pub struct ServerHandshake {
    reader: HeadReader,
    max_headers: usize,
    origin: OriginPolicy,
    parse_attempts: u32,
    finished: bool,
}

impl Default for ServerHandshake {
    /// A handshake with the default limits, accepting any origin.
    fn default() -> Self {
        Self::new()
    }
}

impl ServerHandshake {
    /// A handshake with the default [`HandshakeLimits`], accepting any origin.
    pub fn new() -> Self {
        let limits = HandshakeLimits::new();
        Self {
            reader: HeadReader::new(limits.max_header_bytes, request_prefix_ok),
            max_headers: limits.max_headers,
            origin: OriginPolicy::any(),
            parse_attempts: 0,
            finished: false,
        }
    }

    /// Sets the bounds on the request's header block.
    pub fn limits(mut self, limits: HandshakeLimits) -> Self {
        self.reader.set_limit(limits.max_header_bytes);
        self.max_headers = limits.max_headers;
        self
    }

    /// Refuses requests whose `Origin` the policy does not allow, with `403`.
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = policy;
        self
    }

    /// Feeds bytes read from the transport.
    ///
    /// Returns `Partial` until the header block is complete, then the validated request (the
    /// bytes after the block are in [`Request::leftover`]), or the reason to refuse it.
    pub fn receive(&mut self, data: &[u8]) -> Result<Status<Request>, RequestError> {
        if self.finished {
            return Err(RequestError::Finished);
        }
        let pushed = self.reader.push(data);
        if pushed == Push::Partial {
            return Ok(Status::Partial);
        }
        self.finished = true;
        match pushed {
            Push::TooLarge => Err(RequestError::HeadersTooLarge),
            Push::Garbage => Err(RequestError::Malformed),
            _ => {
                let request = self.parse()?;
                self.origin.check(request.origin())?;
                Ok(Status::Complete(request))
            }
        }
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

    fn parse(&mut self) -> Result<Request, RequestError> {
        self.parse_attempts += 1;
        let mut fields = vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut parsed = httparse::Request::new(&mut fields);
        let head = self.reader.head();
        match parsed.parse(head) {
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Err(httparse::Error::TooManyHeaders) => return Err(RequestError::HeadersTooLarge),
            Err(httparse::Error::Version) if names_http_version(head) => {
                return Err(RequestError::HttpVersion);
            }
            _ => return Err(RequestError::Malformed),
        }
        let (Some(method), Some(target), Some(version)) =
            (parsed.method, parsed.path, parsed.version)
        else {
            return Err(RequestError::Malformed);
        };
        let headers = parsed
            .headers
            .iter()
            .map(|h| Header::new(h.name, h.value))
            .collect();
        let mut request =
            Request::from_http1(method, version >= 1, target, headers, None, Vec::new())?;
        request.leftover = self.reader.take_leftover();
        Ok(request)
    }
}

/// Whether the first bytes can start a request line: a method token, then a space.
fn request_prefix_ok(prefix: &[u8]) -> bool {
    match prefix.iter().position(|&b| b == b' ') {
        Some(0) => false,
        Some(n) => prefix[..n].iter().all(|&b| is_tchar(b)),
        None => prefix.iter().all(|&b| is_tchar(b)),
    }
}

/// Whether the request line names an HTTP version `httparse` does not read (`HTTP/2.0`,
/// `HTTP/1.2`): that is a `505`, anything else unreadable is a `400`.
fn names_http_version(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    line.windows(6).any(|w| w == b" HTTP/")
}

/// How a WebSocket request arrived, which decides how it is answered.
///
/// A [`Request`] always knows its bootstrap, and
/// [`Request::accept`](Request::accept) answers each one the way its RFC says, so there is no
/// request that cannot be accepted:
///
/// | bootstrap | request | accepted with |
/// |---|---|---|
/// | [`Http1`](Self::Http1) (RFC 6455 §4) | `GET` with `Upgrade: websocket` and a `Sec-WebSocket-Key` | `101 Switching Protocols` with `Sec-WebSocket-Accept`; the connection then owns the TCP stream |
/// | [`Http2`](Self::Http2) (RFC 8441) | extended `CONNECT` with `:protocol = websocket` on an HTTP/2 stream | `200`; the connection then runs over the stream's DATA |
/// | [`Http3`](Self::Http3) (RFC 9220) | the same extended `CONNECT` on an HTTP/3 stream | `200`; the same over the stream |
///
/// ```
/// use wsmachine::handshake::{Bootstrap, ServerHandshake, Status};
/// let Ok(Status::Complete(request)) = ServerHandshake::new().receive(
///     b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
/// ) else { panic!() };
/// assert_eq!(request.bootstrap(), &Bootstrap::Http1 { key: "dGhlIHNhbXBsZSBub25jZQ==".into() });
/// assert!(!request.bootstrap().is_extended_connect());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Bootstrap {
    /// An HTTP/1.1 upgrade (RFC 6455 §4.1).
    Http1 {
        /// The `Sec-WebSocket-Key`, validated (base64 for 16 bytes), as sent.
        key: String,
    },
    /// An extended CONNECT on an HTTP/2 stream (RFC 8441 §4, §5).
    Http2,
    /// An extended CONNECT on an HTTP/3 stream (RFC 9220 §3).
    Http3,
}

impl Bootstrap {
    /// The `Sec-WebSocket-Key` of an HTTP/1.1 upgrade; an extended CONNECT has none (RFC 8441
    /// §5).
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Http1 { key } => Some(key),
            Self::Http2 | Self::Http3 => None,
        }
    }

    /// Whether the request is an extended CONNECT (over HTTP/2 or HTTP/3).
    pub fn is_extended_connect(&self) -> bool {
        matches!(self, Self::Http2 | Self::Http3)
    }
}

/// A validated WebSocket request: what the application needs to decide whether to accept it.
///
/// Everything RFC 6455 (or RFC 8441 / RFC 9220) requires has been checked. What is left is
/// the application's policy: the path, cookies or `Authorization` ([`header`](Self::header)),
/// the `Origin` (or an [`OriginPolicy`]), the subprotocol
/// ([`select_protocol`](Self::select_protocol)). Then [`accept`](Self::accept), or refuse
/// with a [`Response`](super::Response). How it arrived is its [`bootstrap`](Self::bootstrap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    resource: String,
    host: String,
    origin: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<Extension>,
    headers: Vec<Header>,
    bootstrap: Bootstrap,
    leftover: Vec<u8>,
}

impl Request {
    /// Validates an HTTP/1.1 upgrade request (RFC 6455 §4.2.1). `authority` is the host from
    /// an absolute request target, used when there is no `Host` field.
    pub(crate) fn from_http1(
        method: &str,
        http11: bool,
        target: &str,
        headers: Vec<Header>,
        authority: Option<&str>,
        leftover: Vec<u8>,
    ) -> Result<Self, RequestError> {
        // RFC 6455 §4.2.1 items 1-6, in the order of the policy table.
        if !http11 {
            return Err(RequestError::HttpVersion);
        }
        if method != "GET" {
            return Err(RequestError::MethodNotAllowed);
        }
        let resource = resource_name(target)?;
        let host = host(&headers, authority)?;
        if !contains_token(values(&headers, "upgrade"), "websocket") {
            return Err(RequestError::MissingUpgrade);
        }
        if !contains_token(values(&headers, "connection"), "upgrade") {
            return Err(RequestError::MissingConnectionUpgrade);
        }
        check_version(&headers)?;
        let key = {
            let mut keys = values(&headers, "sec-websocket-key");
            match (keys.next(), keys.next()) {
                (None, _) => return Err(RequestError::MissingKey),
                (Some(_), Some(_)) => return Err(RequestError::DuplicateKey),
                (Some(key), None) if is_valid_key(trim_ows(key)) => {
                    String::from_utf8_lossy(trim_ows(key)).into_owned()
                }
                (Some(_), None) => return Err(RequestError::InvalidKey),
            }
        };
        check_no_body(&headers)?;
        Self::with_fields(resource, host, headers, Bootstrap::Http1 { key }, leftover)
    }

    /// Reads the fields every bootstrap shares: `Origin`, subprotocols, extensions.
    pub(crate) fn with_fields(
        resource: String,
        host: String,
        headers: Vec<Header>,
        bootstrap: Bootstrap,
        leftover: Vec<u8>,
    ) -> Result<Self, RequestError> {
        let origin = {
            let mut origins = values(&headers, "origin");
            match (origins.next(), origins.next()) {
                (Some(_), Some(_)) => return Err(RequestError::DuplicateOrigin),
                (origin, _) => origin.map(|o| String::from_utf8_lossy(o).into_owned()),
            }
        };
        let protocols = parse_protocols(values(&headers, "sec-websocket-protocol"))
            .ok_or(RequestError::MalformedProtocols)?;
        let extensions = parse_extension_values(values(&headers, "sec-websocket-extensions"))
            .map_err(|_| RequestError::MalformedExtensions)?;
        Ok(Self {
            resource,
            host,
            origin,
            protocols,
            extensions,
            headers,
            bootstrap,
            leftover,
        })
    }

    /// The resource name: path and query, as sent (`/chat?room=1`).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The path, without the query (`/chat`).
    pub fn path(&self) -> &str {
        self.resource
            .split_once('?')
            .map_or(&self.resource, |(path, _)| path)
    }

    /// The query, without the `?` (`room=1`), if there is one.
    pub fn query(&self) -> Option<&str> {
        self.resource.split_once('?').map(|(_, query)| query)
    }

    /// The `Host` field (or, over HTTP/2 and HTTP/3, the `:authority`), as sent.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `Origin` field, if the client sent one (browsers always do).
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The offered subprotocols, in the client's order, from every `Sec-WebSocket-Protocol`
    /// field merged as if comma-joined.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The offered extensions, in the client's order, from every `Sec-WebSocket-Extensions`
    /// field merged as if comma-joined, parsed by the RFC 6455 §9.1 grammar.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// Every header field, in order, for the application's own checks.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of the field called `name` (ASCII case-insensitive), if it is UTF-8.
    /// For a repeated field, iterate [`headers`](Self::headers).
    pub fn header(&self, name: &str) -> Option<&str> {
        first_str(&self.headers, name)
    }

    /// How the request arrived: an HTTP/1.1 upgrade or an extended CONNECT over HTTP/2 or
    /// HTTP/3.
    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    /// The `Sec-WebSocket-Key` of an HTTP/1.1 upgrade; `None` for an extended CONNECT
    /// (RFC 8441, RFC 9220), which has none.
    pub fn key(&self) -> Option<&str> {
        self.bootstrap.key()
    }

    /// The bytes that followed the header block in what was fed (pipelined frames). They
    /// belong to the connection: [`Accepted::leftover`](super::Accepted::leftover) carries them.
    /// Always empty for an extended CONNECT, and for a request an HTTP server parsed.
    pub fn leftover(&self) -> &[u8] {
        &self.leftover
    }
}

/// The resource name of a request target: an absolute path (origin-form) as is, or the path
/// and query of an absolute URI (absolute-form, which RFC 7230 §5.3.2 says a server MUST
/// accept). Fragments are refused (RFC 6455 §3).
pub(crate) fn resource_name(target: &str) -> Result<String, RequestError> {
    if target.contains('#') {
        return Err(RequestError::BadTarget);
    }
    if target.starts_with('/') {
        return Ok(String::from(target));
    }
    let (scheme, rest) = target.split_once("://").ok_or(RequestError::BadTarget)?;
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok {
        return Err(RequestError::BadTarget);
    }
    let path = &rest[rest.find(['/', '?']).unwrap_or(rest.len())..];
    let mut resource = String::with_capacity(path.len() + 1);
    if !path.starts_with('/') {
        resource.push('/');
    }
    resource.push_str(path);
    Ok(resource)
}

/// The single `Host` field (RFC 7230 §5.4), or `authority` when there is none.
pub(crate) fn host(headers: &[Header], authority: Option<&str>) -> Result<String, RequestError> {
    let mut hosts = values(headers, "host");
    let host = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => return Err(RequestError::DuplicateHost),
        (Some(host), None) => core::str::from_utf8(trim_ows(host)).ok(),
        (None, _) => authority,
    };
    match host {
        Some(host) if !host.is_empty() => Ok(String::from(host)),
        _ => Err(RequestError::MissingHost),
    }
}

/// Exactly one `Sec-WebSocket-Version: 13` (RFC 6455 §4.2.1 item 6).
pub(crate) fn check_version(headers: &[Header]) -> Result<(), RequestError> {
    let mut versions = values(headers, "sec-websocket-version");
    match (versions.next(), versions.next()) {
        (Some(_), Some(_)) => Err(RequestError::DuplicateVersion),
        (Some(version), None) if trim_ows(version) == b"13" => Ok(()),
        _ => Err(RequestError::UnsupportedVersion),
    }
}

/// No request body: the bytes after the header block are WebSocket frames.
fn check_no_body(headers: &[Header]) -> Result<(), RequestError> {
    if values(headers, "transfer-encoding").next().is_some() {
        return Err(RequestError::UnexpectedBody);
    }
    let zero = |v: &[u8]| {
        let v = trim_ows(v);
        !v.is_empty() && v.iter().all(|&b| b == b'0')
    };
    if !values(headers, "content-length").all(zero) {
        return Err(RequestError::UnexpectedBody);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names() {
        for (target, expected) in [
            ("/", Ok("/")),
            ("/chat?room=1", Ok("/chat?room=1")),
            ("http://example.com/chat?x", Ok("/chat?x")),
            ("ws://example.com", Ok("/")),
            ("wss://example.com?x=1", Ok("/?x=1")),
            ("/chat#frag", Err(RequestError::BadTarget)),
            ("*", Err(RequestError::BadTarget)),
            ("example.com:80", Err(RequestError::BadTarget)),
            ("1http://x/", Err(RequestError::BadTarget)),
        ] {
            assert_eq!(
                resource_name(target).as_deref(),
                expected.as_ref().map(|s| *s),
                "{target}"
            );
        }
    }

    #[test]
    fn prefixes() {
        for (prefix, ok) in [
            (&b"GET / HTTP/1.1\r\n"[..], true),
            (b"GE", true),
            (b"POST ", true),
            (b" GET", false),
            (b"\x16\x03\x01\x02\x00", false),
            (b"GET\r\n", false),
            (b"{\"json\": 1}", false),
        ] {
            assert_eq!(request_prefix_ok(prefix), ok, "{prefix:?}");
        }
    }

    #[test]
    fn bodies() {
        let h = |name: &str, value: &str| vec![Header::new(name, value)];
        assert_eq!(check_no_body(&[]), Ok(()));
        assert_eq!(check_no_body(&h("Content-Length", "0")), Ok(()));
        assert_eq!(check_no_body(&h("content-length", " 00 ")), Ok(()));
        assert_eq!(
            check_no_body(&h("Content-Length", "1")),
            Err(RequestError::UnexpectedBody)
        );
        assert_eq!(
            check_no_body(&h("Content-Length", "")),
            Err(RequestError::UnexpectedBody)
        );
        assert_eq!(
            check_no_body(&h("Content-Length", "-0")),
            Err(RequestError::UnexpectedBody)
        );
        assert_eq!(
            check_no_body(&h("Transfer-Encoding", "identity")),
            Err(RequestError::UnexpectedBody)
        );
    }
}
