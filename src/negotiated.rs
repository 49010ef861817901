//! What the opening handshake decided, handed to the [`Connection`](crate::Connection).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::extensions::Extension;
use crate::extensions::params::{PERMESSAGE_DEFLATE, push_element};

/// Which end of the connection we are. It decides the masking direction (RFC 6455 §5.1):
/// a client masks every frame it sends and a server never does.
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Role {
    /// The end that opened the connection; it masks what it sends.
    Client,
    /// The end that accepted the connection; it never masks.
    Server,
}

/// The outcome of the opening handshake that the connection needs: the chosen subprotocol
/// and extensions.
///
/// The handshake layer produces it (over HTTP/1.1 or an RFC 8441 HTTP/2 stream); a test or a
/// custom transport can build one directly:
///
/// ```
/// use wsmachine::Negotiated;
/// let n = Negotiated::default().with_protocol("chat");
/// assert_eq!(n.protocol(), Some("chat"));
/// ```
///
/// The agreed extensions are held as typed values: permessage-deflate's parameters
/// (`with_deflate`, feature `deflate`) apart from the
/// [other extensions](Self::other_extensions), and the `Sec-WebSocket-Extensions` value is
/// derived from them ([`extensions`](Self::extensions)), so the two cannot disagree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    protocol: Option<String>,
    /// The agreed permessage-deflate parameters, if it was agreed.
    #[cfg(feature = "deflate")]
    deflate: Option<crate::extensions::DeflateParams>,
    /// The other agreed extensions, in the order of the response. The connection does not
    /// run them.
    others: Vec<Extension>,
}

impl Negotiated {
    /// No subprotocol, no extensions.
    pub const fn new() -> Self {
        Self {
            protocol: None,
            #[cfg(feature = "deflate")]
            deflate: None,
            others: Vec::new(),
        }
    }

    /// Sets the chosen subprotocol.
    pub fn with_protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// The chosen subprotocol, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Adds an agreed extension that the application runs itself (one it accepted with
    /// [`Accept::extension`](crate::handshake::Accept::extension)), after those already added.
    ///
    /// The connection does not run it: like any frame with RSV bits no agreed extension of the
    /// connection defines, a frame using RSV bits it might claim fails the connection with
    /// 1002 (RFC 6455 §5.2). permessage-deflate is refused
    /// ([`NegotiatedError::DeflateAsExtension`]): set it with `with_deflate` (feature
    /// `deflate`), which also makes the connection compress. So is an extension whose name,
    /// parameter names or values are not tokens ([`NegotiatedError::InvalidExtension`],
    /// RFC 6455 §9.1).
    ///
    /// ```
    /// use wsmachine::handshake::Extension;
    /// use wsmachine::{Negotiated, NegotiatedError};
    /// let n = Negotiated::new().with_extension(Extension::new("x-foo")).unwrap();
    /// assert_eq!(n.extensions().as_deref(), Some("x-foo"));
    /// assert_eq!(
    ///     Negotiated::new().with_extension(Extension::new("permessage-deflate")),
    ///     Err(NegotiatedError::DeflateAsExtension)
    /// );
    /// ```
    pub fn with_extension(mut self, extension: Extension) -> Result<Self, NegotiatedError> {
        if extension.name().eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
            return Err(NegotiatedError::DeflateAsExtension);
        }
        if !extension.is_valid() {
            return Err(NegotiatedError::InvalidExtension);
        }
        self.others.push(extension);
        Ok(self)
    }

    /// Records the extensions a server agreed to that the connection does not run, as the
    /// client handshake found them in the response (already parsed, so valid tokens).
    ///
    /// Unlike [`with_extension`](Self::with_extension) this keeps a permessage-deflate
    /// element: the client handshake takes it out when it runs permessage-deflate (feature
    /// `deflate`); without the feature a client may still have offered it through
    /// `ClientOptions::extension`, and the connection does not run it, as for any other.
    pub(crate) fn with_agreed(mut self, extensions: Vec<Extension>) -> Self {
        self.others.extend(extensions);
        self
    }

    /// The agreed extensions other than permessage-deflate, in the order they were added;
    /// the connection does not run them.
    pub fn other_extensions(&self) -> &[Extension] {
        &self.others
    }

    /// The `Sec-WebSocket-Extensions` value for the agreed extensions (RFC 6455 §9.1), or
    /// `None` if none was agreed.
    ///
    /// It is derived from the typed values, in canonical form: the
    /// [others](Self::other_extensions) in order, then permessage-deflate (its parameters in
    /// RFC 7692 order), joined with `", "`. The server handshake writes it into its response.
    ///
    /// ```
    /// use wsmachine::Negotiated;
    /// use wsmachine::handshake::Extension;
    /// let n = Negotiated::new()
    ///     .with_extension(Extension::new("x-foo").with_param("a", Some("1")))
    ///     .unwrap();
    /// assert_eq!(n.extensions().as_deref(), Some("x-foo; a=1"));
    /// assert_eq!(Negotiated::new().extensions(), None);
    /// ```
    pub fn extensions(&self) -> Option<String> {
        let mut value = String::new();
        for extension in &self.others {
            push_element(&mut value, extension);
        }
        #[cfg(feature = "deflate")]
        if let Some(params) = &self.deflate {
            push_element(&mut value, &params.to_extension());
        }
        Some(value).filter(|v| !v.is_empty())
    }

    /// Sets the agreed permessage-deflate parameters (feature `deflate`): the connection then
    /// reads compressed messages (RSV1) and compresses what it sends, and
    /// [`extensions`](Self::extensions) lists it.
    ///
    /// The handshake sets them when it agreed to permessage-deflate
    /// ([`Accept::deflate`](crate::handshake::Accept::deflate),
    /// [`ClientOptions::deflate`](crate::handshake::ClientOptions::deflate)); a custom
    /// transport or a test sets them here.
    ///
    /// ```
    /// use wsmachine::Negotiated;
    /// use wsmachine::extensions::DeflateParams;
    /// let n = Negotiated::new().with_deflate(DeflateParams::new());
    /// assert_eq!(n.deflate(), Some(&DeflateParams::new()));
    /// assert_eq!(n.extensions().as_deref(), Some("permessage-deflate"));
    /// assert_eq!(Negotiated::new().deflate(), None);
    /// ```
    #[cfg(feature = "deflate")]
    pub fn with_deflate(mut self, params: crate::extensions::DeflateParams) -> Self {
        self.deflate = Some(params);
        self
    }

    /// The agreed permessage-deflate parameters, if permessage-deflate was agreed (feature
    /// `deflate`).
    #[cfg(feature = "deflate")]
    pub fn deflate(&self) -> Option<&crate::extensions::DeflateParams> {
        self.deflate.as_ref()
    }
}

/// Why [`Negotiated::with_extension`] refused an extension.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NegotiatedError {
    /// permessage-deflate as a generic extension: the connection would not compress, and
    /// would fail on the peer's compressed frames. Use `Negotiated::with_deflate` (feature
    /// `deflate`).
    DeflateAsExtension,
    /// An extension name, parameter name or value that is not a token (RFC 6455 §9.1).
    InvalidExtension,
}

impl NegotiatedError {
    /// A short static description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::DeflateAsExtension => "permessage-deflate is set with with_deflate",
            Self::InvalidExtension => "extension parameters must be tokens",
        }
    }
}

impl fmt::Display for NegotiatedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for NegotiatedError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_extensions() {
        for (extension, expected) in [
            (
                Extension::new("permessage-deflate"),
                NegotiatedError::DeflateAsExtension,
            ),
            (
                Extension::new("PerMessage-Deflate").with_param("x", None),
                NegotiatedError::DeflateAsExtension,
            ),
            (Extension::new(""), NegotiatedError::InvalidExtension),
            (Extension::new("a b"), NegotiatedError::InvalidExtension),
            (
                Extension::new("x").with_param("p", Some("1\r\n")),
                NegotiatedError::InvalidExtension,
            ),
        ] {
            let refused = Negotiated::new().with_extension(extension.clone());
            assert_eq!(refused, Err(expected), "{extension:?}");
        }
    }

    #[test]
    fn others_keep_their_order() {
        let n = Negotiated::new()
            .with_extension(Extension::new("b"))
            .and_then(|n| n.with_extension(Extension::new("a").with_param("x", None)))
            .unwrap();
        assert_eq!(n.extensions().as_deref(), Some("b, a; x"));
        assert_eq!(n.other_extensions().len(), 2);
    }
}
