//! Interop with the `http` crate (feature `http`): validate a request that an HTTP server
//! already parsed — an HTTP/1.1 upgrade, or an extended CONNECT over HTTP/2 (RFC 8441) or
//! HTTP/3 (RFC 9220) — and answer it as an `http::Response`.

use alloc::vec::Vec;

use super::accept::Accepted;
use super::error::{BuildError, RequestError};
use super::response::Response;
use super::server::{Bootstrap, Request, check_version, host, resource_name};
use super::{Header, values};

impl Request {
    /// Validates an HTTP/1.1 upgrade request that an HTTP server (hyper, axum, ...) has
    /// already parsed, with the same rules as [`ServerHandshake`](super::ServerHandshake).
    ///
    /// The server owns the transport, so there are no leftover bytes here: hyper hands any
    /// bytes read past the request to its upgraded IO object. Answer with
    /// [`accept`](Self::accept) and [`Accepted::to_http`], or refuse with
    /// [`Response::to_http`].
    ///
    /// ```
    /// use wsmachine::handshake::{Accept, Bootstrap, Request};
    /// let req = http::Request::get("/chat")
    ///     .header("host", "example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("sec-websocket-version", "13")
    ///     .body(())
    ///     .unwrap();
    /// let request = Request::from_http(&req).unwrap();
    /// assert!(matches!(request.bootstrap(), Bootstrap::Http1 { .. }));
    /// let accepted = request.accept(&Accept::new()).unwrap();
    /// let response = accepted.to_http().unwrap();
    /// assert_eq!(response.status(), 101);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn from_http<B>(request: &::http::Request<B>) -> Result<Request, RequestError> {
        let uri = request.uri();
        Request::from_http1(
            request.method().as_str(),
            request.version() >= ::http::Version::HTTP_11,
            uri.path_and_query().map_or("/", |target| target.as_str()),
            headers_of(request.headers()),
            uri.authority().map(|authority| authority.as_str()),
            Vec::new(),
        )
    }

    /// Validates an extended CONNECT request: a WebSocket bootstrapped on an HTTP/2 stream
    /// (RFC 8441) or an HTTP/3 stream (RFC 9220), told apart by `request.version()`.
    ///
    /// `protocol` is the value of the `:protocol` pseudo-header, which the `http` crate has no
    /// place for; HTTP/2 servers carry it as a request extension. With hyper, enable extended
    /// CONNECT on the server (`http2().enable_connect_protocol()`), then pass
    /// `req.extensions().get::<hyper::ext::Protocol>().map(|p| p.as_str())`; with `h2`
    /// directly, `h2::ext::Protocol` the same way; over HTTP/3 the server must have sent
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 9220 §3) and its library carries `:protocol`
    /// likewise.
    ///
    /// Checks (RFC 8441 §4, §5, which RFC 9220 §3 applies to HTTP/3): version HTTP/2 or
    /// HTTP/3 (else `505`), method `CONNECT` (else `405`), `:protocol` is `websocket` (else
    /// `400`), an `:authority` or `Host`, a `:path`, `Sec-WebSocket-Version: 13` (else `426`),
    /// no `Sec-WebSocket-Key` (it is not used over HTTP/2 or HTTP/3), and the `Origin`,
    /// subprotocol and extension fields as over HTTP/1.1. The request's
    /// [`bootstrap`](Self::bootstrap) is [`Bootstrap::Http2`] or [`Bootstrap::Http3`].
    ///
    /// Then [`accept`](Self::accept) gives the `200` response ([`Accepted::to_http`]) to send
    /// on the stream, and the [`Negotiated`](crate::Negotiated) value. Keep the stream open and
    /// run [`Connection::server`](crate::Connection::server) over it: the request body's DATA go to
    /// `receive`, `pending_output` goes into the response body's DATA, the end of the request
    /// stream is `receive_eof`, and `wants_transport_close` means ending the response stream.
    ///
    /// ```
    /// use wsmachine::handshake::{Accept, Bootstrap, Request};
    /// let req = http::Request::connect("https://example.com/chat")
    ///     .version(http::Version::HTTP_2)
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-protocol", "chat")
    ///     .body(())
    ///     .unwrap();
    /// let request = Request::from_extended_connect(&req, Some("websocket")).unwrap();
    /// assert_eq!(request.bootstrap(), &Bootstrap::Http2);
    /// let accepted = request.accept(&Accept::new().protocol("chat")).unwrap();
    /// let response = accepted.to_http().unwrap();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    /// assert_eq!(accepted.negotiated.protocol(), Some("chat"));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn from_extended_connect<B>(
        request: &::http::Request<B>,
        protocol: Option<&str>,
    ) -> Result<Request, RequestError> {
        let bootstrap = match request.version() {
            ::http::Version::HTTP_2 => Bootstrap::Http2,
            ::http::Version::HTTP_3 => Bootstrap::Http3,
            _ => return Err(RequestError::HttpVersion),
        };
        if request.method() != ::http::Method::CONNECT {
            return Err(RequestError::ConnectRequired);
        }
        if !protocol.is_some_and(|p| p.eq_ignore_ascii_case(super::ExtendedConnect::PROTOCOL)) {
            return Err(RequestError::MissingConnectProtocol);
        }
        let headers = headers_of(request.headers());
        let uri = request.uri();
        let target = uri.path_and_query().ok_or(RequestError::BadTarget)?;
        let resource = resource_name(target.as_str())?;
        let host = host(&headers, uri.authority().map(|a| a.as_str()))?;
        check_version(&headers)?;
        if values(&headers, "sec-websocket-key").next().is_some() {
            return Err(RequestError::UnexpectedKey);
        }
        Request::with_fields(resource, host, headers, bootstrap, Vec::new())
    }
}

impl Accepted {
    /// The response as an `http::Response<()>`, for an HTTP server (hyper, axum, h2, h3) to
    /// send: `101 Switching Protocols` with `Upgrade`, `Connection` and
    /// `Sec-WebSocket-Accept` for an HTTP/1.1 upgrade, `200` for an extended CONNECT (RFC
    /// 8441 §5, RFC 9220 §3); either way with the agreed subprotocol and extensions and the
    /// extra fields. Its version is the request's (HTTP/1.1, HTTP/2 or HTTP/3).
    ///
    /// [`leftover`](Self::leftover) is not in it: feed those bytes to the connection.
    ///
    /// Fails only for a field the `http` crate refuses although this crate accepted it (a
    /// name longer than 65535 bytes).
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn to_http(&self) -> Result<::http::Response<()>, BuildError> {
        let mut response = ::http::Response::new(());
        *response.status_mut() =
            ::http::StatusCode::from_u16(self.status()).map_err(|_| BuildError::InvalidStatus)?;
        *response.version_mut() = match self.bootstrap() {
            Bootstrap::Http1 { .. } => ::http::Version::HTTP_11,
            Bootstrap::Http2 => ::http::Version::HTTP_2,
            Bootstrap::Http3 => ::http::Version::HTTP_3,
        };
        for field in self.headers() {
            append(response.headers_mut(), field)?;
        }
        Ok(response)
    }
}

impl Response {
    /// The response as an `http::Response`, for an HTTP server to send.
    ///
    /// Connection-specific fields (`Upgrade`, `Connection`, `Keep-Alive`,
    /// `Transfer-Encoding`) are left out: they belong to the HTTP/1.1 connection, which the
    /// server manages, and HTTP/2 forbids them (RFC 9113 §8.2.2). Fails only for a status or
    /// field the `http` crate refuses (possible only for a received response).
    ///
    /// ```
    /// use wsmachine::handshake::RequestError;
    /// let response = RequestError::MethodNotAllowed.response().to_http().unwrap();
    /// assert_eq!(response.status(), 405);
    /// assert_eq!(response.headers()["allow"], "GET");
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn to_http(&self) -> Result<::http::Response<Vec<u8>>, BuildError> {
        let mut response = ::http::Response::new(self.body().to_vec());
        *response.status_mut() =
            ::http::StatusCode::from_u16(self.status()).map_err(|_| BuildError::InvalidStatus)?;
        const CONNECTION_SPECIFIC: [&str; 5] = [
            "upgrade",
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
        ];
        for field in self.headers() {
            if !CONNECTION_SPECIFIC.iter().any(|name| field.is(name)) {
                append(response.headers_mut(), field)?;
            }
        }
        Ok(response)
    }
}

/// Appends a field to an `http::HeaderMap`.
pub(crate) fn append(headers: &mut ::http::HeaderMap, field: &Header) -> Result<(), BuildError> {
    let name = ::http::HeaderName::from_bytes(field.name().as_bytes())
        .map_err(|_| BuildError::InvalidHeaderName)?;
    let value = ::http::HeaderValue::from_bytes(field.value())
        .map_err(|_| BuildError::InvalidHeaderValue)?;
    headers.append(name, value);
    Ok(())
}

/// The fields of an `http::HeaderMap`, in its order (names in lower case).
pub(crate) fn headers_of(map: &::http::HeaderMap) -> Vec<Header> {
    map.iter()
        .map(|(name, value)| Header::new(name.as_str(), value.as_bytes()))
        .collect()
}
