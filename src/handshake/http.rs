//! Interop with the `http` crate (feature `http`): validate an upgrade that an HTTP server
//! already parsed, over HTTP/1.1 or as an RFC 8441 extended CONNECT over HTTP/2, and answer
//! it as an `http::Response`.

use alloc::vec::Vec;

use super::accept::Accept;
use super::error::{BuildError, RequestError};
use super::response::Response;
use super::server::{Request, check_version, host, resource_name};
use super::{Header, values};
use crate::negotiated::Negotiated;

impl Request {
    /// Validates an HTTP/1.1 upgrade request that an HTTP server (hyper, axum, ...) has
    /// already parsed, with the same rules as [`ServerHandshake`](super::ServerHandshake).
    ///
    /// The server owns the transport, so there are no leftover bytes here: hyper hands any
    /// bytes read past the request to its upgraded IO object. Answer with
    /// [`accept_http`](Self::accept_http), or refuse with
    /// [`Response::to_http`].
    ///
    /// ```
    /// use wsmachine::handshake::{Accept, Request};
    /// let req = http::Request::get("/chat")
    ///     .header("host", "example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("sec-websocket-version", "13")
    ///     .body(())
    ///     .unwrap();
    /// let request = Request::from_http(&req).unwrap();
    /// let (response, _negotiated) = request.accept_http(&Accept::new()).unwrap();
    /// assert_eq!(response.status(), 101);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// ```
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

    /// Validates an RFC 8441 extended CONNECT request: a WebSocket bootstrapped on an HTTP/2
    /// stream (or an HTTP/3 one, RFC 9220).
    ///
    /// `protocol` is the value of the `:protocol` pseudo-header, which the `http` crate has no
    /// place for; HTTP/2 servers carry it as a request extension. With hyper, enable extended
    /// CONNECT on the server (`http2().enable_connect_protocol()`), then pass
    /// `req.extensions().get::<hyper::ext::Protocol>().map(|p| p.as_str())`; with `h2`
    /// directly, `h2::ext::Protocol` the same way.
    ///
    /// Checks (RFC 8441 §4, §5): version HTTP/2 or later (else `505`), method `CONNECT` (else
    /// `405`), `:protocol` is `websocket` (else `400`), an `:authority` or `Host`, a `:path`,
    /// `Sec-WebSocket-Version: 13` (else `426`), no `Sec-WebSocket-Key` (it is not used over
    /// HTTP/2), and the `Origin`, subprotocol and extension fields as over HTTP/1.1.
    ///
    /// Then [`accept_http`](Self::accept_http) gives the `200` response to send on the stream
    /// and the [`Negotiated`] value. Keep the stream open and run
    /// [`Connection::new`](crate::Connection::new) with [`Role::Server`](crate::Role::Server)
    /// over it: the request body's DATA go to `receive`, `pending_output` goes into the
    /// response body's DATA, the end of the request stream is `receive_eof`, and
    /// `wants_transport_close` means ending the response stream.
    ///
    /// ```
    /// use wsmachine::handshake::{Accept, Request};
    /// let req = http::Request::connect("https://example.com/chat")
    ///     .version(http::Version::HTTP_2)
    ///     .header("sec-websocket-version", "13")
    ///     .header("sec-websocket-protocol", "chat")
    ///     .body(())
    ///     .unwrap();
    /// let request = Request::from_extended_connect(&req, Some("websocket")).unwrap();
    /// let (response, negotiated) = request.accept_http(&Accept::new().protocol("chat")).unwrap();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    /// assert_eq!(negotiated.protocol(), Some("chat"));
    /// ```
    pub fn from_extended_connect<B>(
        request: &::http::Request<B>,
        protocol: Option<&str>,
    ) -> Result<Request, RequestError> {
        if request.version() < ::http::Version::HTTP_2 {
            return Err(RequestError::HttpVersion);
        }
        if request.method() != ::http::Method::CONNECT {
            return Err(RequestError::ConnectRequired);
        }
        if !protocol.is_some_and(|p| p.eq_ignore_ascii_case("websocket")) {
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
        Request::with_fields(resource, host, headers, None, Vec::new())
    }

    /// Accepts the request as an `http::Response<()>`, with the [`Negotiated`] value.
    ///
    /// For an HTTP/1.1 request that is `101 Switching Protocols` with `Upgrade`,
    /// `Connection` and `Sec-WebSocket-Accept`; for an RFC 8441 request it is `200` (RFC 8441
    /// §5). Either way with the chosen subprotocol, extensions and extra fields, checked as
    /// in [`accept`](Self::accept).
    ///
    /// A request from [`ServerHandshake`](super::ServerHandshake) may have
    /// [`leftover`](Self::leftover) bytes, which this does not carry: feed them to the
    /// connection yourself, or use [`accept`](Self::accept).
    pub fn accept_http(
        &self,
        accept: &Accept,
    ) -> Result<(::http::Response<()>, Negotiated), BuildError> {
        let (fields, negotiated) = self.response_fields(accept)?;
        let mut response = ::http::Response::new(()); // 200 OK: RFC 8441 §5
        if let Some(key) = self.key() {
            *response.status_mut() = ::http::StatusCode::SWITCHING_PROTOCOLS;
            let headers = response.headers_mut();
            append(headers, &Header::new("upgrade", "websocket"))?;
            append(headers, &Header::new("connection", "Upgrade"))?;
            append(
                headers,
                &Header::new("sec-websocket-accept", super::accept_key(key)),
            )?;
        }
        for field in &fields {
            append(response.headers_mut(), field)?;
        }
        Ok((response, negotiated))
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
fn append(headers: &mut ::http::HeaderMap, field: &Header) -> Result<(), BuildError> {
    let name = ::http::HeaderName::from_bytes(field.name().as_bytes())
        .map_err(|_| BuildError::InvalidHeaderName)?;
    let value = ::http::HeaderValue::from_bytes(field.value())
        .map_err(|_| BuildError::InvalidHeaderValue)?;
    headers.append(name, value);
    Ok(())
}

/// The fields of an `http::HeaderMap`, in its order (names in lower case).
fn headers_of(map: &::http::HeaderMap) -> Vec<Header> {
    map.iter()
        .map(|(name, value)| Header::new(name.as_str(), value.as_bytes()))
        .collect()
}
