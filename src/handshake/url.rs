//! `ws://` and `wss://` URIs (RFC 6455 §3).

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

/// A parsed `ws://` or `wss://` URI (RFC 6455 §3): what a client connects to and what its
/// request names.
///
/// ```
/// use wsmachine::handshake::Url;
/// let url = Url::parse("wss://example.com/chat?room=1").unwrap();
/// assert!(url.is_tls());
/// assert_eq!((url.host(), url.port()), ("example.com", 443));
/// assert_eq!(url.resource(), "/chat?room=1");
/// assert_eq!(url.host_header(), "example.com"); // the default port is left out
///
/// let url = Url::parse("ws://[::1]:9001").unwrap();
/// assert_eq!((url.host(), url.port()), ("::1", 9001)); // for connecting: no brackets
/// assert_eq!(url.host_header(), "[::1]:9001");
/// assert_eq!(url.resource(), "/");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Url {
    tls: bool,
    /// Lower case; an IPv6 address without its brackets.
    host: String,
    ipv6: bool,
    port: u16,
    /// Path and query; `/` when the URI has no path.
    resource: String,
}

/// Why a string is not a WebSocket URI.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws` or `wss`.
    Scheme,
    /// No `//` and host after the scheme, or an empty host.
    MissingHost,
    /// A host that is not a registered name, an IPv4 address or a bracketed IPv6 address.
    InvalidHost,
    /// A port that is not a number from 0 to 65535.
    InvalidPort,
    /// User information (`user:pass@`), which WebSocket URIs do not have.
    UserInfo,
    /// A fragment (`#...`): RFC 6455 §3 forbids them; escape `#` as `%23`.
    Fragment,
    /// A character that cannot appear in a request target (space, control, non-ASCII):
    /// percent-encode it.
    InvalidCharacter,
}

impl UrlError {
    /// A short static description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Scheme => "scheme must be ws or wss",
            Self::MissingHost => "missing host",
            Self::InvalidHost => "invalid host",
            Self::InvalidPort => "invalid port",
            Self::UserInfo => "user information is not allowed",
            Self::Fragment => "fragments are not allowed",
            Self::InvalidCharacter => "invalid character in path or query",
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for UrlError {}

impl Url {
    /// Parses `ws://host[:port][/path][?query]` or the same with `wss`.
    ///
    /// The scheme and a registered host name are case-insensitive and kept in lower case.
    /// Path and query are kept as given; they must be printable ASCII (percent-encode the
    /// rest).
    pub fn parse(s: &str) -> Result<Self, UrlError> {
        let (scheme, rest) = s.split_once(':').ok_or(UrlError::Scheme)?;
        let tls = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(UrlError::Scheme);
        };
        let rest = rest.strip_prefix("//").ok_or(UrlError::MissingHost)?;
        if rest.contains('#') {
            return Err(UrlError::Fragment);
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, ipv6, port) = parse_authority(authority)?;
        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UrlError::InvalidCharacter);
        }
        let mut path = String::with_capacity(resource.len() + 1);
        if !resource.starts_with('/') {
            path.push('/');
        }
        path.push_str(resource);
        let default_port = if tls { 443 } else { 80 };
        Ok(Self {
            tls,
            host,
            ipv6,
            port: port.unwrap_or(default_port),
            resource: path,
        })
    }

    /// Whether the scheme is `wss` (TLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// `"ws"` or `"wss"`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "wss" } else { "ws" }
    }

    /// The host to connect to: a name, an IPv4 address, or an IPv6 address without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the one given, or 80 for `ws` and 443 for `wss`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The resource name for the request line: path and query, `/` when there is no path.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The `Host` field value: the host (an IPv6 address in brackets) and the port unless it
    /// is the scheme's default (RFC 6455 §4.1 item 4, RFC 7230 §5.4).
    pub fn host_header(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 8);
        if self.ipv6 {
            out.push('[');
            out.push_str(&self.host);
            out.push(']');
        } else {
            out.push_str(&self.host);
        }
        if self.port != if self.tls { 443 } else { 80 } {
            use core::fmt::Write;
            let _ = write!(out, ":{}", self.port);
        }
        out
    }
}

/// `host [":" port]`: the host in lower case (without brackets), whether it is IPv6, and the
/// port if one was given (an empty port means the default, RFC 3986 §3.2.3).
fn parse_authority(authority: &str) -> Result<(String, bool, Option<u16>), UrlError> {
    let (host, ipv6, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (address, after) = rest.split_once(']').ok_or(UrlError::InvalidHost)?;
        if address.parse::<core::net::Ipv6Addr>().is_err() {
            return Err(UrlError::InvalidHost);
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UrlError::InvalidHost)?),
        };
        (address, true, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, false, Some(port)),
            None => (authority, false, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    // reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2); IPv4 addresses
    // are made of the same characters.
    let reg_name_char = |b: u8| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b);
    if !ipv6 && !host.bytes().all(reg_name_char) {
        return Err(UrlError::InvalidHost);
    }
    let port = match port {
        None | Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.parse::<u16>().map_err(|_| UrlError::InvalidPort)?)
        }
        Some(_) => return Err(UrlError::InvalidPort),
    };
    Ok((host.to_ascii_lowercase(), ipv6, port))
}

impl FromStr for Url {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, UrlError> {
        Self::parse(s)
    }
}

impl fmt::Display for Url {
    /// `scheme://host[:port]/resource`, the default port left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme(),
            self.host_header(),
            self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn valid() {
        // input, tls, host, port, resource, Host header
        for (input, tls, host, port, resource, host_header) in [
            (
                "ws://example.com",
                false,
                "example.com",
                80,
                "/",
                "example.com",
            ),
            (
                "ws://example.com/",
                false,
                "example.com",
                80,
                "/",
                "example.com",
            ),
            (
                "wss://example.com",
                true,
                "example.com",
                443,
                "/",
                "example.com",
            ),
            (
                "WSS://Example.COM/Chat",
                true,
                "example.com",
                443,
                "/Chat",
                "example.com",
            ),
            (
                "ws://example.com:80/x",
                false,
                "example.com",
                80,
                "/x",
                "example.com",
            ),
            (
                "ws://example.com:443/x",
                false,
                "example.com",
                443,
                "/x",
                "example.com:443",
            ),
            (
                "wss://example.com:80",
                true,
                "example.com",
                80,
                "/",
                "example.com:80",
            ),
            (
                "wss://example.com:443",
                true,
                "example.com",
                443,
                "/",
                "example.com",
            ),
            (
                "ws://example.com:/",
                false,
                "example.com",
                80,
                "/",
                "example.com",
            ),
            (
                "ws://127.0.0.1:9001/runCase?case=1&agent=x",
                false,
                "127.0.0.1",
                9001,
                "/runCase?case=1&agent=x",
                "127.0.0.1:9001",
            ),
            ("ws://[::1]", false, "::1", 80, "/", "[::1]"),
            (
                "wss://[2001:DB8::1]:8443/a",
                true,
                "2001:db8::1",
                8443,
                "/a",
                "[2001:db8::1]:8443",
            ),
            ("ws://host?q=1", false, "host", 80, "/?q=1", "host"),
            (
                "ws://host/a%20b?x=%23",
                false,
                "host",
                80,
                "/a%20b?x=%23",
                "host",
            ),
            ("ws://h:00080", false, "h", 80, "/", "h"),
            ("ws://h:65535", false, "h", 65535, "/", "h:65535"),
        ] {
            let url = Url::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(url.is_tls(), tls, "{input}");
            assert_eq!(url.host(), host, "{input}");
            assert_eq!(url.port(), port, "{input}");
            assert_eq!(url.resource(), resource, "{input}");
            assert_eq!(url.host_header(), host_header, "{input}");
            assert_eq!(
                Url::parse(&url.to_string()),
                Ok(url.clone()),
                "{input} round trip"
            );
        }
    }

    #[test]
    fn invalid() {
        for (input, error) in [
            ("http://example.com", UrlError::Scheme),
            ("https://example.com", UrlError::Scheme),
            ("wss", UrlError::Scheme),
            ("", UrlError::Scheme),
            ("ws:example.com", UrlError::MissingHost),
            ("ws://", UrlError::MissingHost),
            ("ws:///path", UrlError::MissingHost),
            ("ws://:80", UrlError::MissingHost),
            ("ws://example.com/#frag", UrlError::Fragment),
            ("ws://example.com#", UrlError::Fragment),
            ("ws://user:pw@example.com", UrlError::UserInfo),
            ("ws://example.com:99999", UrlError::InvalidPort),
            ("ws://example.com:8o", UrlError::InvalidPort),
            ("ws://example.com:-1", UrlError::InvalidPort),
            ("ws://exa mple.com", UrlError::InvalidHost),
            ("ws://[::1", UrlError::InvalidHost),
            ("ws://[not-ip]/", UrlError::InvalidHost),
            ("ws://[::1]x", UrlError::InvalidHost),
            ("ws://::1/", UrlError::MissingHost),
            ("ws://host/a b", UrlError::InvalidCharacter),
            ("ws://host/\r\nX: y", UrlError::InvalidCharacter),
            ("ws://host/é", UrlError::InvalidCharacter),
        ] {
            assert_eq!(Url::parse(input), Err(error), "{input}");
        }
    }
}
