//! The opening handshake, on both sides, for every bootstrap: the HTTP/1.1 upgrade
//! (RFC 6455 §4) as a sans-IO parser, and the extended CONNECT over HTTP/2 (RFC 8441) or
//! HTTP/3 (RFC 9220) on top of an HTTP library. Each ends in a [`Negotiated`] value.
//!
//! The handshake layer never knows about frames. It ends with three things for the driver:
//! the response or request to send, the [`Negotiated`] value for
//! [`Connection::server`](crate::Connection::server) or
//! [`Connection::client`](crate::Connection::client), and the *leftover*: every byte that arrived
//! after the header block. Pipelined first frames are common (a client may send its first
//! message in the same packet as its request), so the driver must feed the leftover to the
//! connection before anything else read from the transport. Over HTTP/2 and HTTP/3 the
//! handshake is the HEADERS exchange and there is no leftover.
//!
//! # Bounded and incremental
//!
//! Both sides buffer the header block as it arrives. Each call scans only the bytes it was
//! given (plus two bytes of overlap) for the end of the block, and runs `httparse` once, when
//! that end has been seen: feeding a request one byte at a time costs work linear in its size.
//! The block is limited in bytes and in header count ([`HandshakeLimits`]); a block that passes
//! the byte limit is rejected as soon as the limit is passed, with `431`.
//!
//! # Server
//!
//! ```
//! use wsmachine::handshake::{Accept, ServerHandshake, Status};
//! use wsmachine::{Config, Connection, Role};
//!
//! let mut handshake = ServerHandshake::new();
//! let bytes = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
//! let request = match handshake.receive(bytes) {
//!     Ok(Status::Complete(request)) => request,
//!     Ok(Status::Partial) => return, // read more from the socket and call `receive` again
//!     Err(rejection) => {
//!         let _response: Vec<u8> = rejection.response().to_bytes(); // write it, then close
//!         return;
//!     }
//! };
//! assert_eq!(request.path(), "/chat");
//! // The application's own checks go here: cookies, authorization, origin, path.
//! let protocol = request.select_protocol(&["chat"]);
//! let accepted = request.accept(&Accept::new().protocol(protocol)).unwrap();
//! assert!(accepted.to_bytes().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! let mut conn = Connection::server(accepted.negotiated, Config::default());
//! conn.receive(&accepted.leftover); // bytes that followed the request: never drop them
//! ```
//!
//! # Client
//!
//! ```
//! use wsmachine::handshake::{ClientHandshake, ClientOptions, Status, Url};
//!
//! let url = Url::parse("ws://example.com/chat").unwrap();
//! // The nonce comes from the OS CSPRNG (feature `getrandom`); `with_mask_source` takes
//! // another source.
//! let mut handshake = ClientHandshake::new(&url, ClientOptions::new().protocol("chat")).unwrap();
//! let _request: &[u8] = handshake.request_bytes(); // write it to the transport
//! # let response = format!(
//! #     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
//! #      Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
//! #     wsmachine::handshake::accept_key(handshake.key()));
//! match handshake.receive(response.as_bytes()) {
//!     Ok(Status::Complete(established)) => {
//!         assert_eq!(established.negotiated.protocol(), Some("chat"));
//!         // Connection::client(established.negotiated, ...), then feed it
//!         // `established.leftover`.
//!     }
//!     Ok(Status::Partial) => { /* read more */ }
//!     Err(error) => panic!("handshake failed: {error}"),
//! }
//! ```
//!
//! # HTTP/2, HTTP/3 and existing HTTP servers (feature `http`)
//!
//! A [`Request`] knows how it arrived ([`Bootstrap`]): an HTTP/1.1 upgrade with its key, or an
//! extended CONNECT over HTTP/2 or HTTP/3. [`Request::accept`] answers each the way its RFC
//! says, as one [`Accepted`] value that renders as HTTP/1.1 bytes or, with the `http`
//! feature, as an `http::Response`. With that feature, `Request::from_http` validates an
//! upgrade that hyper or axum already parsed, `Request::from_extended_connect` an extended
//! CONNECT on an HTTP/2 or HTTP/3 stream, and `Accepted::to_http` gives the response
//! (`101` or `200`). On the client side, `ExtendedConnect` builds the extended CONNECT request
//! and validates its response.
//!
//! # Builders
//!
//! Every builder starts from a `new()` that takes nothing (and equals its `Default`), and is
//! configured by methods named for what they set, which consume and return it:
//! `ServerHandshake::new().limits(l).origin_policy(p)`, `Accept::new().protocol(p)`,
//! `ClientOptions::new().protocol(p).header(n, v)`. Values that are read as well as built
//! ([`Response`], [`Extension`], [`Negotiated`]) name those methods `with_*`, because the
//! bare name is their getter: `Response::new(401)?.with_header(n, v)?.with_body(b)`.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

mod accept;
mod client;
mod error;
#[cfg(feature = "http")]
mod extended_connect;
mod grammar;
mod head;
#[cfg(feature = "http")]
mod http;
mod offer;
mod origin;
mod response;
mod server;
mod url;

pub use crate::extensions::{Extension, ExtensionSyntaxError};
pub use accept::{Accept, Accepted, select_protocol};
pub use client::{ClientHandshake, Established};
pub use error::{BuildError, ClientError, RequestError};
#[cfg(feature = "http")]
pub use extended_connect::ExtendedConnect;
pub use offer::ClientOptions;
pub use origin::OriginPolicy;
pub use response::Response;
pub use server::{Bootstrap, Request, ServerHandshake};
pub use url::{Url, UrlError};

#[cfg(doc)]
use crate::Negotiated;

/// The GUID appended to the key before hashing (RFC 6455 §1.3, §4.2.2).
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
///
/// `key` is the header value as sent (the base64 text, not the decoded nonce): the accept
/// value is `base64(SHA-1(key ++ "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))`.
///
/// ```
/// use wsmachine::handshake::accept_key;
/// assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: impl AsRef<[u8]>) -> String {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key.as_ref());
    sha1.update(GUID);
    BASE64.encode(sha1.digest().bytes())
}

/// Whether a `Sec-WebSocket-Key` value is base64 for exactly 16 bytes (RFC 6455 §4.2.1 item 5).
fn is_valid_key(key: &[u8]) -> bool {
    // 16 bytes are 24 base64 characters, padding included; checking the length first bounds
    // the decoding work and the buffer.
    let mut nonce = [0u8; 18];
    key.len() == 24 && matches!(BASE64.decode_slice(key, &mut nonce), Ok(16))
}

/// The `Sec-WebSocket-Key` value for a 16-byte nonce.
fn key_for_nonce(nonce: &[u8; 16]) -> String {
    BASE64.encode(nonce)
}

/// Bounds on what a handshake buffers, on both sides.
///
/// ```
/// use wsmachine::handshake::{ClientOptions, HandshakeLimits, ServerHandshake};
/// let mut limits = HandshakeLimits::default();
/// limits.max_header_bytes = 8 * 1024;
/// let server = ServerHandshake::new().limits(limits.clone());
/// let client = ClientOptions::new().limits(limits);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeLimits {
    /// The largest header block, in bytes, request or status line and the final empty line
    /// included (default 16 KiB). A longer block is rejected with `431` (server) or
    /// [`ClientError::TooLarge`] (client) as soon as the limit is passed.
    pub max_header_bytes: usize,
    /// The most header fields in the block (default 64); more is `431` /
    /// [`ClientError::TooLarge`].
    pub max_headers: usize,
    /// Client only: how much of the body of a refusal (a non-`101` response) is kept for
    /// [`ClientError::Rejected`] (default 16 KiB). The rest is not waited for.
    pub max_body_bytes: usize,
}

impl HandshakeLimits {
    /// The defaults: 16 KiB of header block, 64 headers, 16 KiB of refusal body.
    pub const fn new() -> Self {
        Self {
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 16 * 1024,
        }
    }
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        Self::new()
    }
}

pub use crate::Status;

/// One header field of a request or response, as received (or as it will be sent).
///
/// Names compare ASCII case-insensitively everywhere in this module; the value is kept as
/// bytes because HTTP allows non-UTF-8 (`obs-text`) values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    name: String,
    value: Vec<u8>,
}

impl Header {
    /// A header field. Nothing is checked here: sending functions check names and values.
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }

    /// The field name, in the case it was received.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field value, without surrounding whitespace.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The field value as text, if it is valid UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.value).ok()
    }

    /// Whether this field is called `name` (ASCII case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// The values of every field called `name`, in order.
fn values<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.is(name))
        .map(|h| h.value())
}

/// The first value of the field called `name`, if it is text.
fn first_str<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.is(name))
        .and_then(Header::value_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_vectors() {
        for (key, accept) in [
            // RFC 6455 §1.3.
            ("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("sN9cRrP/n9NdMgdcy2VJFQ==", "fFBooB7FAkLlXgRSz0BT3v4hq5s="),
            ("w4v7O6xFTi36lq3RNcgctw==", "Oy4NRAQ13jhfONC7bP8dTKb4PTU="),
        ] {
            assert_eq!(accept_key(key), accept, "{key}");
            assert_eq!(accept_key(key.as_bytes()), accept, "{key}");
        }
    }

    #[test]
    fn key_validity() {
        for (key, valid) in [
            (&b"dGhlIHNhbXBsZSBub25jZQ=="[..], true),
            (b"AAAAAAAAAAAAAAAAAAAAAA==", true),
            (b"dGhlIHNhbXBsZSBub25j", false),   // 15 bytes, unpadded
            (b"dGhlIHNhbXBsZSBu", false),       // 12 bytes
            (b"dGhlIHNhbXBsZSBub25jZQ", false), // padding missing
            (b"dGhlIHNhbXBsZSBub25jZR==", false), // non-zero trailing bits
            (b"dGhlIHNhbXBsZSBub25jZQ=!", false), // not base64
            (b"!!!!!!!!!!!!!!!!!!!!!!==", false), // not base64
            (b"dGhlIHNhbXBsZSBub25jZSBv", false), // 18 bytes
            (b"", false),
        ] {
            assert_eq!(is_valid_key(key), valid, "{:?}", core::str::from_utf8(key));
        }
        assert_eq!(
            key_for_nonce(b"the sample nonce"),
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
    }
}
