//! The client side of a WebSocket bootstrapped with an extended CONNECT: over HTTP/2
//! (RFC 8441) or HTTP/3 (RFC 9220, which carries RFC 8441 over HTTP/3). Build the request,
//! then check the response (feature `http`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::Header;
use super::client::RESERVED_IN_REQUEST;
use super::error::{BuildError, ClientError};
use super::http::{append, headers_of};
use super::offer::{ClientOptions, Offer};
use super::response::{Response, reason_phrase};
use super::url::Url;
use crate::extensions::params::join_extensions;
use crate::negotiated::Negotiated;

/// Fields an extended CONNECT request may not carry besides those the request writes itself:
/// the connection-specific ones HTTP/2 and HTTP/3 forbid (RFC 9113 §8.2.2, RFC 9114 §4.2).
const CONNECTION_SPECIFIC: &[&str] = &["keep-alive", "proxy-connection", "te"];

/// A client's WebSocket over an HTTP/2 stream (RFC 8441) or an HTTP/3 stream (RFC 9220):
/// the extended CONNECT request to send, and the check of the server's response.
///
/// The counterpart of [`ClientHandshake`](super::ClientHandshake) for these transports, with
/// the same [`ClientOptions`] and the same checks of the server's choice: the subprotocol
/// must be one we offered, an extension one we offered, permessage-deflate's parameters must
/// answer one of our offers (feature `deflate`). There is no nonce: the stream is the
/// WebSocket's own, so no `Sec-WebSocket-Key` is needed (RFC 8441 §5). The
/// [`limits`](ClientOptions::limits) do not apply; the HTTP library bounds the response.
///
/// What the driver does (RFC 8441 §3–§5):
///
/// 1. Wait for the server's SETTINGS and check that it sent
///    `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (`0x08` in both HTTP/2 and HTTP/3); without it
///    the server does not understand `:protocol`, and the request must not be sent.
/// 2. Send [`request`](Self::request) on a new stream, without ending the stream, after
///    attaching the `:protocol` pseudo-header with the value [`PROTOCOL`](Self::PROTOCOL).
///    The `http` crate has no place for it: h2 and hyper take it as a request extension
///    (`h2::ext::Protocol` / `hyper::ext::Protocol`), other libraries in their own way.
/// 3. Check the response's status and fields with [`validate`](Self::validate) (or
///    [`validate_fields`](Self::validate_fields)); a `2xx` that passes gives the
///    [`Negotiated`] value for [`Connection::client`](crate::Connection::client). The
///    connection then runs over the stream: the
///    response body's DATA go to `receive`, `pending_output` goes into the request body's
///    DATA. There are no leftover bytes.
///
/// ```
/// use wsmachine::handshake::{ClientOptions, ExtendedConnect, Url};
/// let url = Url::parse("wss://example.com/chat").unwrap();
/// let connect = ExtendedConnect::http2(&url, ClientOptions::new().protocol("chat")).unwrap();
/// let mut request = connect.request();
/// request
///     .extensions_mut()
///     .insert(h2::ext::Protocol::from_static(ExtendedConnect::PROTOCOL));
/// assert_eq!(request.method(), http::Method::CONNECT);
/// assert_eq!(request.uri(), "https://example.com/chat");
/// assert_eq!(request.headers()["sec-websocket-version"], "13");
///
/// let response = http::Response::builder()
///     .version(http::Version::HTTP_2)
///     .header("sec-websocket-protocol", "chat")
///     .body(())
///     .unwrap();
/// let negotiated = connect.validate(&response).unwrap();
/// assert_eq!(negotiated.protocol(), Some("chat"));
/// ```
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub struct ExtendedConnect {
    uri: ::http::Uri,
    version: ::http::Version,
    headers: ::http::HeaderMap,
    offer: Offer,
}

impl ExtendedConnect {
    /// The value of the `:protocol` pseudo-header for a WebSocket (RFC 8441 §4), which the
    /// driver attaches to [`request`](Self::request).
    pub const PROTOCOL: &'static str = "websocket";

    /// An extended CONNECT for `url` on an HTTP/2 stream (RFC 8441).
    ///
    /// Fails, producing nothing, if `options` are invalid (as for
    /// [`ClientHandshake::with_nonce`](super::ClientHandshake::with_nonce); the
    /// connection-specific fields such as `Keep-Alive` or `TE` are refused too, RFC 9113
    /// §8.2.2) or the URL's path or query has a character the `http` crate refuses in a URI
    /// ([`BuildError::InvalidUri`]).
    pub fn http2(url: &Url, options: ClientOptions) -> Result<Self, BuildError> {
        Self::new(url, options, ::http::Version::HTTP_2)
    }

    /// An extended CONNECT for `url` on an HTTP/3 stream (RFC 9220); fails as
    /// [`http2`](Self::http2) does.
    pub fn http3(url: &Url, options: ClientOptions) -> Result<Self, BuildError> {
        Self::new(url, options, ::http::Version::HTTP_3)
    }

    fn new(
        url: &Url,
        options: ClientOptions,
        version: ::http::Version,
    ) -> Result<Self, BuildError> {
        let reserved: Vec<&str> = RESERVED_IN_REQUEST
            .iter()
            .chain(CONNECTION_SPECIFIC)
            .copied()
            .collect();
        options.check(&reserved)?;
        // RFC 8441 §5: `:scheme` is `https` for `wss` and `http` for `ws`; `:authority` and
        // `:path` come from the URI as `Host` and the request target would.
        let uri = ::http::Uri::builder()
            .scheme(if url.is_tls() { "https" } else { "http" })
            .authority(url.host_header())
            .path_and_query(url.resource())
            .build()
            .map_err(|_| BuildError::InvalidUri)?;
        let ClientOptions {
            protocols,
            extensions,
            origin,
            headers: extra,
            limits: _,
        } = options;
        let mut fields = Vec::with_capacity(4 + extra.len());
        fields.push(Header::new("sec-websocket-version", "13"));
        if let Some(origin) = origin {
            fields.push(Header::new("origin", origin));
        }
        if !protocols.is_empty() {
            fields.push(Header::new("sec-websocket-protocol", protocols.join(", ")));
        }
        if !extensions.is_empty() {
            fields.push(Header::new(
                "sec-websocket-extensions",
                join_extensions(&extensions),
            ));
        }
        fields.extend(extra);
        let mut headers = ::http::HeaderMap::with_capacity(fields.len());
        for field in &fields {
            append(&mut headers, field)?;
        }
        Ok(Self {
            uri,
            version,
            headers,
            offer: Offer {
                protocols,
                extensions,
            },
        })
    }

    /// The HTTP version of the stream: `HTTP/2` or `HTTP/3`.
    pub fn version(&self) -> ::http::Version {
        self.version
    }

    /// The request to send, without `:protocol` (attach [`PROTOCOL`](Self::PROTOCOL) as the
    /// HTTP library wants it): method `CONNECT`, the URI (`:scheme`, `:authority`, `:path`),
    /// the version, `sec-websocket-version: 13`, then `origin`, `sec-websocket-protocol` and
    /// `sec-websocket-extensions` as offered, then the extra fields of
    /// [`ClientOptions::header`]. Field names are in lower case, as HTTP/2 and HTTP/3 require.
    pub fn request(&self) -> ::http::Request<()> {
        let mut request = ::http::Request::new(());
        *request.method_mut() = ::http::Method::CONNECT;
        *request.uri_mut() = self.uri.clone();
        *request.version_mut() = self.version;
        *request.headers_mut() = self.headers.clone();
        request
    }

    /// Checks the server's response (RFC 8441 §5): a `2xx` whose subprotocol and extensions
    /// answer our offer gives the [`Negotiated`] value for the connection.
    ///
    /// A `1xx` is [`ClientError::Informational`]; any other status is
    /// [`ClientError::Rejected`] with the status and fields (the body, if any, is in the
    /// stream's DATA). A subprotocol or extension we did not offer, or permessage-deflate
    /// parameters that answer none of our offers, fail as in
    /// [`ClientHandshake::receive`](super::ClientHandshake::receive). The response's version
    /// is not checked: the driver knows which stream it came on.
    pub fn validate<B>(&self, response: &::http::Response<B>) -> Result<Negotiated, ClientError> {
        let headers = headers_of(response.headers());
        self.validate_fields(response.status().as_u16(), &headers)
    }

    /// [`validate`](Self::validate) for an HTTP library without `http` types: the status
    /// and the header fields of the response.
    pub fn validate_fields(
        &self,
        status: u16,
        headers: &[Header],
    ) -> Result<Negotiated, ClientError> {
        match status {
            // RFC 8441 §5, RFC 9110 §9.3.6: any 2xx accepts the CONNECT.
            200..=299 => self.offer.negotiate(headers),
            100..=199 => Err(ClientError::Informational(status)),
            _ => {
                let mut response = Response::unchecked(status, String::from(reason_phrase(status)));
                for field in headers {
                    response.push_header(field.clone());
                }
                Err(ClientError::Rejected(Box::new(response)))
            }
        }
    }
}
