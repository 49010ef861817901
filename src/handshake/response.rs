//! HTTP/1.1 responses other than `101`: refusals built by a server, or received by a client.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::BuildError;
use super::{Header, first_str};
use crate::extensions::params::is_token;

/// An HTTP response that is not a successful upgrade: a server's refusal, or what a client
/// received instead of `101`.
///
/// A server builds one to reject a handshake with any status, headers and body, and writes
/// [`to_bytes`](Self::to_bytes). [`RequestError::response`](super::RequestError::response)
/// gives the one for each protocol violation.
///
/// ```
/// use wsmachine::handshake::Response;
/// let response = Response::new(401)?
///     .with_header("WWW-Authenticate", "Bearer")?
///     .with_body("login first");
/// assert_eq!(
///     response.to_bytes(),
///     b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 11\r\n\
///       Connection: close\r\n\r\nlogin first"
/// );
/// # Ok::<(), wsmachine::handshake::BuildError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    reason: String,
    headers: Vec<Header>,
    body: Vec<u8>,
}

impl Response {
    /// A response with a final status (200–599) and its standard reason phrase, no headers
    /// and no body.
    ///
    /// A `1xx` status is refused: it is not a final response, and `101` is what
    /// [`Request::accept`](super::Request::accept) writes.
    pub fn new(status: u16) -> Result<Self, BuildError> {
        if !(200..=599).contains(&status) {
            return Err(BuildError::InvalidStatus);
        }
        Ok(Self::unchecked(status, String::from(reason_phrase(status))))
    }

    pub(crate) fn unchecked(status: u16, reason: String) -> Self {
        Self {
            status,
            reason,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field. `Content-Length`, `Transfer-Encoding` and `Connection` are
    /// written by [`to_bytes`](Self::to_bytes) and refused here.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, BuildError> {
        check_header(
            name,
            value.as_bytes(),
            &["content-length", "transfer-encoding", "connection"],
        )?;
        self.headers.push(Header::new(name, value));
        Ok(self)
    }

    pub(crate) fn push_header(&mut self, header: Header) {
        self.headers.push(header);
    }

    /// Sets the body (sent with a `Content-Length`).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub(crate) fn body_mut(&mut self) -> &mut Vec<u8> {
        &mut self.body
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase: the standard one for a built response, as received otherwise.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The header fields in order (for a built response, without the ones
    /// [`to_bytes`](Self::to_bytes) adds).
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of the header field called `name` (ASCII case-insensitive), if it is
    /// UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        first_str(&self.headers, name)
    }

    /// The body (for a received response, at most
    /// [`HandshakeLimits::max_body_bytes`](super::HandshakeLimits::max_body_bytes) of it).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The response as HTTP/1.1 bytes: status line, headers, `Content-Length`,
    /// `Connection: close` (the driver closes the transport after writing a refusal), body.
    ///
    /// If the response has an `Upgrade` field (the `426` for a wrong version does), the
    /// connection option is `Connection: Upgrade, close`, as RFC 7230 §6.7 requires.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        write_status_line(&mut out, self.status, &self.reason);
        for h in &self.headers {
            write_header(&mut out, h.name(), h.value());
        }
        let mut digits = [0u8; 20];
        write_header(
            &mut out,
            "Content-Length",
            decimal(self.body.len(), &mut digits),
        );
        let upgrade = self.headers.iter().any(|h| h.is("upgrade"));
        let connection = if upgrade { "Upgrade, close" } else { "close" };
        write_header(&mut out, "Connection", connection.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// `n` in decimal, written at the end of `buf`.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

pub(crate) fn write_status_line(out: &mut Vec<u8>, status: u16, reason: &str) {
    out.extend_from_slice(b"HTTP/1.1 ");
    let mut digits = [0u8; 20];
    out.extend_from_slice(decimal(usize::from(status), &mut digits));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
}

pub(crate) fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Checks a header field the caller wants to send: the name is a token, not in `reserved`
/// (lower case) and the value has no control characters but tab (so no CR or LF: no header
/// injection), no surrounding whitespace.
pub(crate) fn check_header(name: &str, value: &[u8], reserved: &[&str]) -> Result<(), BuildError> {
    if !is_token(name.as_bytes()) {
        return Err(BuildError::InvalidHeaderName);
    }
    if reserved.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        return Err(BuildError::ReservedHeader);
    }
    check_value(value)
}

/// A field value: `*( VCHAR / obs-text / SP / HTAB )`, not starting or ending in whitespace.
pub(crate) fn check_value(value: &[u8]) -> Result<(), BuildError> {
    let field_char = |b: u8| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80;
    let padded =
        matches!(value.first(), Some(b' ' | b'\t')) || matches!(value.last(), Some(b' ' | b'\t'));
    if padded || !value.iter().all(|&b| field_char(b)) {
        return Err(BuildError::InvalidHeaderValue);
    }
    Ok(())
}

/// The standard reason phrase for a status (RFC 9110 §15), or an empty one (allowed by
/// RFC 7230 §3.1.2) for an unusual status.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn statuses() {
        for (status, ok) in [
            (99, false),
            (100, false),
            (101, false),
            (199, false),
            (200, true),
            (404, true),
            (599, true),
            (600, false),
        ] {
            assert_eq!(Response::new(status).is_ok(), ok, "{status}");
        }
        assert_eq!(
            Response::new(499).unwrap().to_bytes(),
            b"HTTP/1.1 499 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn headers_are_checked() {
        let r = || Response::new(400).unwrap();
        for (name, value, result) in [
            ("X-Ok", "a b\tc", Ok(())),
            ("X-Utf8", "é", Ok(())),
            ("X Bad", "v", Err(BuildError::InvalidHeaderName)),
            ("", "v", Err(BuildError::InvalidHeaderName)),
            (
                "X-Inject",
                "v\r\nSet-Cookie: a=b",
                Err(BuildError::InvalidHeaderValue),
            ),
            ("X-Nul", "v\0", Err(BuildError::InvalidHeaderValue)),
            ("X-Pad", " v", Err(BuildError::InvalidHeaderValue)),
            ("content-length", "5", Err(BuildError::ReservedHeader)),
            ("Connection", "keep-alive", Err(BuildError::ReservedHeader)),
            (
                "Transfer-Encoding",
                "chunked",
                Err(BuildError::ReservedHeader),
            ),
        ] {
            assert_eq!(
                r().with_header(name, value).map(|_| ()),
                result,
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn bytes() {
        let r = Response::new(426)
            .unwrap()
            .with_header("Upgrade", "websocket")
            .unwrap()
            .with_body("x");
        assert_eq!(
            r.to_bytes(),
            b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nContent-Length: 1\r\n\
              Connection: Upgrade, close\r\n\r\nx"
        );
        let mut digits = [0; 20];
        assert_eq!(decimal(0, &mut digits), b"0");
        assert_eq!(
            decimal(usize::MAX, &mut digits),
            usize::MAX.to_string().as_bytes()
        );
    }
}
