//! What the opening handshake decided, handed to the [`Connection`](crate::Connection).

use alloc::string::String;

/// Which end of the connection we are. It decides the masking direction (RFC 6455 §5.1):
/// a client masks every frame it sends and a server never does.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
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
}

impl Negotiated {
    /// No subprotocol, no extensions.
    pub const fn new() -> Self {
        Self { protocol: None }
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
}
