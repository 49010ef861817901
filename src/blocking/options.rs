//! How a blocking WebSocket is opened: the server's and the client's options.

use alloc::string::String;
use alloc::vec::Vec;
use std::time::Duration;

use crate::config::Config;
use crate::handshake::{ClientOptions, HandshakeLimits, OriginPolicy};

/// The default bound on the opening handshake, both roles: a peer that has not completed its
/// part within it is dropped (a server is not held by a client that never sends its request).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a server accepts a connection: [`WebSocket::accept_with`](super::WebSocket::accept_with).
///
/// ```
/// use std::time::Duration;
/// use wsmachine::Config;
/// use wsmachine::blocking::AcceptOptions;
/// use wsmachine::handshake::OriginPolicy;
///
/// let mut config = Config::default();
/// config.keepalive_interval = Some(Duration::from_secs(30));
/// let options = AcceptOptions::new()
///     .protocols(["chat.v2", "chat.v1"]) // our preference order
///     .origin_policy(OriginPolicy::allow_list(["https://example.com"]))
///     .handshake_timeout(Duration::from_secs(5))
///     .config(config);
/// ```
#[derive(Debug)]
pub struct AcceptOptions {
    pub(super) config: Config,
    pub(super) protocols: Vec<String>,
    #[cfg(feature = "deflate")]
    pub(super) deflate: Option<crate::extensions::DeflateOptions>,
    pub(super) origin_policy: OriginPolicy,
    pub(super) limits: HandshakeLimits,
    pub(super) headers: Vec<(String, String)>,
    pub(super) handshake_timeout: Option<Duration>,
}

impl AcceptOptions {
    /// The defaults: [`Config::default`], no subprotocol, no compression, any origin, the
    /// default [`HandshakeLimits`], a [10-second](DEFAULT_HANDSHAKE_TIMEOUT) handshake.
    pub fn new() -> Self {
        Self {
            config: Config::default(),
            protocols: Vec::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
            origin_policy: OriginPolicy::any(),
            limits: HandshakeLimits::default(),
            headers: Vec::new(),
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
        }
    }

    /// The connection's configuration (limits, timers, compression level).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The subprotocols we speak, in our order of preference: the first one the client offered
    /// is selected (RFC 6455 §4.2.2), none if it offered none of them.
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts permessage-deflate (RFC 7692) when the client offers it, within `options`.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, options: crate::extensions::DeflateOptions) -> Self {
        self.deflate = Some(options);
        self
    }

    /// Which `Origin` values are accepted (RFC 6455 §10.2); others get `403`.
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin_policy = policy;
        self
    }

    /// Bounds on the request's header block.
    pub fn limits(mut self, limits: HandshakeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Adds a header field to the `101` response (a cookie, say).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long the client has to send its whole request, from the call to
    /// [`accept_with`](super::WebSocket::accept_with) (`None`: without limit, which lets a
    /// silent client hold the server's thread forever).
    pub fn handshake_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.handshake_timeout = timeout.into();
        self
    }
}

impl Default for AcceptOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// How a client connects: [`WebSocket::connect_with`](super::WebSocket::connect_with) and
/// [`WebSocket::client`](super::WebSocket::client).
///
/// ```
/// use wsmachine::blocking::ConnectOptions;
/// let options = ConnectOptions::new()
///     .protocol("chat.v2")
///     .header("Authorization", "Bearer abc");
/// ```
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub(super) config: Config,
    pub(super) handshake: ClientOptions,
    pub(super) handshake_timeout: Option<Duration>,
}

impl ConnectOptions {
    /// The defaults: [`Config::default`], a plain offer (no subprotocol, no extension), a
    /// [10-second](DEFAULT_HANDSHAKE_TIMEOUT) handshake.
    pub fn new() -> Self {
        Self {
            config: Config::default(),
            handshake: ClientOptions::new(),
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
        }
    }

    /// The connection's configuration (limits, timers, compression level).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The whole offer at once (subprotocols, extensions, `Origin`, header fields, limits),
    /// replacing what the other methods set.
    pub fn handshake(mut self, options: ClientOptions) -> Self {
        self.handshake = options;
        self
    }

    /// Offers a subprotocol (call again for more, in order of preference).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.handshake = self.handshake.protocol(protocol);
        self
    }

    /// Offers permessage-deflate (RFC 7692) with `options`.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, options: crate::extensions::DeflateOptions) -> Self {
        self.handshake = self.handshake.deflate(options);
        self
    }

    /// Adds a header field to the request (cookies, authorization, ...).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.handshake = self.handshake.header(name, value);
        self
    }

    /// How long the whole opening handshake may take, from the call: for
    /// [`connect_with`](super::WebSocket::connect_with) the TCP connection too, not the name
    /// lookup (`None`: without limit).
    pub fn handshake_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.handshake_timeout = timeout.into();
        self
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self::new()
    }
}
