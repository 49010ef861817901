//! What the opening handshake decided, handed to the [`Connection`](crate::Connection).

use alloc::string::String;

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    protocol: Option<String>,
    /// The agreed `Sec-WebSocket-Extensions` value (RFC 6455 §9.1), empty for none.
    extensions: String,
    /// The agreed permessage-deflate parameters, if it was agreed.
    #[cfg(feature = "deflate")]
    deflate: Option<crate::extensions::DeflateParams>,
}

impl Negotiated {
    /// No subprotocol, no extensions.
    pub const fn new() -> Self {
        Self {
            protocol: None,
            extensions: String::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
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

    /// Sets the agreed extensions: the `Sec-WebSocket-Extensions` value of the server's
    /// response, in RFC 6455 §9.1 form (`permessage-deflate; client_max_window_bits=10`).
    ///
    /// The handshake writes it in the canonical form of
    /// [`Extension`](crate::handshake::Extension)s joined with `", "`. An empty value means none.
    pub fn with_extensions(mut self, extensions: impl Into<String>) -> Self {
        self.extensions = extensions.into();
        self
    }

    /// The agreed `Sec-WebSocket-Extensions` value, if any extension was agreed.
    ///
    /// ```
    /// use wsmachine::Negotiated;
    /// let n = Negotiated::new().with_extensions("permessage-deflate");
    /// assert_eq!(n.extensions(), Some("permessage-deflate"));
    /// assert_eq!(Negotiated::new().extensions(), None);
    /// ```
    pub fn extensions(&self) -> Option<&str> {
        Some(self.extensions.as_str()).filter(|e| !e.is_empty())
    }

    /// Sets the agreed permessage-deflate parameters (feature `deflate`): the connection then
    /// reads compressed messages (RSV1) and compresses what it sends.
    ///
    /// The handshake sets them, together with the extension in
    /// [`extensions`](Self::extensions), when it agreed to permessage-deflate
    /// ([`Accept::deflate`](crate::handshake::Accept::deflate),
    /// [`ClientOptions::deflate`](crate::handshake::ClientOptions::deflate)); a custom
    /// transport or a test sets them here.
    ///
    /// ```
    /// use wsmachine::Negotiated;
    /// use wsmachine::extensions::DeflateParams;
    /// let n = Negotiated::new().with_deflate(DeflateParams::new());
    /// assert_eq!(n.deflate(), Some(&DeflateParams::new()));
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
