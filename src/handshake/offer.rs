//! What a client offers (RFC 6455 §4.1 items 9–12: subprotocols, extensions, `Origin`, extra
//! fields) and the check of the server's choice against that offer (§4.1 items 5–6 of the
//! response checks, RFC 7692 §7), shared by the HTTP/1.1 client and the extended CONNECT one.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::{BuildError, ClientError};
use super::grammar::list_elements;
use super::response::{check_header, check_value};
use super::{HandshakeLimits, Header, values};
use crate::extensions::params::{Extension, is_token, parse_extension_values};
use crate::negotiated::Negotiated;

/// What a client offers and adds to its request (an HTTP/1.1 upgrade or an extended CONNECT).
///
/// ```
/// use wsmachine::handshake::{ClientOptions, Extension};
/// let options = ClientOptions::new()
///     .protocol("graphql-transport-ws")
///     .extension(Extension::new("x-my-extension").with_param("level", Some("2")))
///     .origin("https://example.com")
///     .header("Authorization", "Bearer abc");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientOptions {
    pub(crate) protocols: Vec<String>,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) origin: Option<String>,
    pub(crate) headers: Vec<Header>,
    pub(crate) limits: HandshakeLimits,
}

impl ClientOptions {
    /// No subprotocols, extensions, `Origin` or extra fields; default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers a subprotocol; offers go out in the order they are added.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Offers an extension with its parameters; offers go out in the order they are added.
    /// For permessage-deflate, `ClientOptions::deflate` (feature `deflate`) builds the offer.
    pub fn extension(mut self, extension: Extension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Offers permessage-deflate with `options` (feature `deflate`; RFC 7692). The server's
    /// answer is checked against the offer ([`DeflateParams::from_response`]), and the agreed
    /// parameters are in [`Negotiated::deflate`](crate::Negotiated::deflate), so the
    /// connection compresses.
    ///
    /// [`DeflateParams::from_response`]: crate::extensions::DeflateParams::from_response
    ///
    /// ```
    /// use wsmachine::extensions::DeflateOptions;
    /// use wsmachine::handshake::{ClientHandshake, ClientOptions, Url};
    /// let url = Url::parse("ws://example.com/").unwrap();
    /// let options = ClientOptions::new().deflate(DeflateOptions::new());
    /// let hs = ClientHandshake::with_nonce(&url, options, [0; 16]).unwrap();
    /// let request = String::from_utf8_lossy(hs.request_bytes());
    /// assert!(request.contains("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
    /// ```
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(self, options: crate::extensions::DeflateOptions) -> Self {
        self.extension(options.offer())
    }

    /// Sends an `Origin` field (browsers do; other clients need not).
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Adds a header field (cookies, authorization, ...).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(Header::new(name.into(), value.into()));
        self
    }

    /// Sets the bounds on the response (an HTTP/1.1 upgrade's; over HTTP/2 and HTTP/3 the
    /// HTTP library bounds the response).
    pub fn limits(mut self, limits: HandshakeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Checks the offer before anything is sent: subprotocols are unique tokens (RFC 6455
    /// §4.1 item 10), extensions follow §9.1, the `Origin` and extra fields are valid and the
    /// extra fields are none of `reserved` (lower case), which the request writes itself.
    pub(crate) fn check(&self, reserved: &[&str]) -> Result<(), BuildError> {
        let protocols = &self.protocols;
        for (i, protocol) in protocols.iter().enumerate() {
            if !is_token(protocol.as_bytes()) || protocols[..i].contains(protocol) {
                return Err(BuildError::InvalidProtocol);
            }
        }
        if !self.extensions.iter().all(Extension::is_valid) {
            return Err(BuildError::InvalidExtension);
        }
        if let Some(origin) = &self.origin {
            check_value(origin.as_bytes())?;
        }
        for header in &self.headers {
            check_header(header.name(), header.value(), reserved)?;
        }
        Ok(())
    }
}

/// What a client offered, kept to check the server's choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Offer {
    pub(crate) protocols: Vec<String>,
    pub(crate) extensions: Vec<Extension>,
}

impl Offer {
    /// The server's choice in a successful response's `headers`, checked against the offer
    /// (RFC 6455 §4.1: a subprotocol or extension that was not offered fails the connection;
    /// RFC 7692 §7 for permessage-deflate's parameters), as the [`Negotiated`] value.
    pub(crate) fn negotiate(&self, headers: &[Header]) -> Result<Negotiated, ClientError> {
        let extensions = parse_extension_values(values(headers, "sec-websocket-extensions"))
            .map_err(|_| ClientError::MalformedExtensions)?;
        for extension in &extensions {
            let offered = |o: &Extension| o.name().eq_ignore_ascii_case(extension.name());
            if !self.extensions.iter().any(offered) {
                return Err(ClientError::UnofferedExtension);
            }
        }
        let protocol = {
            let mut chosen = values(headers, "sec-websocket-protocol").flat_map(list_elements);
            match (chosen.next(), chosen.next()) {
                (None, _) => None,
                (Some(_), Some(_)) => return Err(ClientError::MultipleProtocols),
                // RFC 6455 §4.1 item 6: a subprotocol that was not in our offer fails.
                (Some(chosen), None) => Some(
                    self.protocols
                        .iter()
                        .find(|offer| offer.as_bytes() == chosen)
                        .ok_or(ClientError::UnofferedProtocol)?,
                ),
            }
        };
        let mut negotiated = Negotiated::new();
        if let Some(protocol) = protocol {
            negotiated = negotiated.with_protocol(protocol.as_str());
        }
        #[cfg(feature = "deflate")]
        let (negotiated, extensions) = self.take_deflate(negotiated, extensions)?;
        // What is left the connection does not run: the application's own extensions.
        Ok(negotiated.with_agreed(extensions))
    }

    /// RFC 7692 §7: the server's permessage-deflate element, if any, must accept one of our
    /// offers; its parameters are what the connection uses. Returns `negotiated` with them,
    /// and the other extensions, which the connection does not run.
    #[cfg(feature = "deflate")]
    fn take_deflate(
        &self,
        negotiated: Negotiated,
        mut extensions: Vec<Extension>,
    ) -> Result<(Negotiated, Vec<Extension>), ClientError> {
        use crate::extensions::params::{PERMESSAGE_DEFLATE, named};
        use crate::extensions::{DeflateError, DeflateParams};
        let params = {
            let mut responses = named(&extensions, PERMESSAGE_DEFLATE);
            match (responses.next(), responses.next()) {
                (None, _) => None,
                (Some(_), Some(_)) => {
                    return Err(ClientError::Deflate(DeflateError::DuplicateExtension));
                }
                (Some(response), None) => Some(
                    DeflateParams::from_response(response, &self.extensions)
                        .map_err(ClientError::Deflate)?,
                ),
            }
        };
        let Some(params) = params else {
            return Ok((negotiated, extensions));
        };
        extensions.retain(|e| !e.name().eq_ignore_ascii_case(PERMESSAGE_DEFLATE));
        Ok((negotiated.with_deflate(params), extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_against_the_offer() {
        let offer = Offer {
            protocols: alloc::vec!["chat".into(), "superchat".into()],
            extensions: alloc::vec![Extension::new("x-foo")],
        };
        let h = |name: &str, value: &str| Header::new(name, value);
        for (headers, expected) in [
            (alloc::vec![], Ok((None, None))),
            (
                alloc::vec![h("Sec-WebSocket-Protocol", "superchat")],
                Ok((Some("superchat"), None)),
            ),
            (
                alloc::vec![h("sec-websocket-extensions", "X-FOO; a=1")],
                Ok((None, Some("X-FOO; a=1"))),
            ),
            (
                alloc::vec![h("Sec-WebSocket-Protocol", "Chat")],
                Err(ClientError::UnofferedProtocol),
            ),
            (
                alloc::vec![h("Sec-WebSocket-Protocol", "chat, superchat")],
                Err(ClientError::MultipleProtocols),
            ),
            (
                alloc::vec![h("Sec-WebSocket-Extensions", "x-bar")],
                Err(ClientError::UnofferedExtension),
            ),
            (
                alloc::vec![h("Sec-WebSocket-Extensions", "x-foo; =")],
                Err(ClientError::MalformedExtensions),
            ),
        ] {
            let result = offer.negotiate(&headers);
            let result = result
                .as_ref()
                .map(|n| (n.protocol(), n.extensions()))
                .map_err(Clone::clone);
            let expected = expected.map(|(p, e)| (p, e.map(String::from)));
            assert_eq!(result, expected, "{headers:?}");
        }
    }

    #[test]
    fn options_reserve_fields() {
        let options = ClientOptions::new().header("X-A", "1").header("Host", "h");
        assert_eq!(options.check(&["host"]), Err(BuildError::ReservedHeader));
        assert_eq!(options.check(&["x-b"]), Ok(()));
    }
}
