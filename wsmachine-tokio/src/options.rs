//! The options of [`accept_with`](crate::accept_with) and [`connect_with`](crate::connect_with).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use wsmachine::Config;
use wsmachine::handshake::{
    Accept, Accepted, BuildError, ClientOptions, HandshakeLimits, OriginPolicy, Request,
    RequestError, Response,
};

use crate::Error;
use crate::driver::DEFAULT_MAX_BUFFERED;

/// The default bound on the opening handshake: 10 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The application's decision on a request: the [`Accept`] to answer with (prepared from the
/// options, to change or keep), or the response that refuses it.
type Decide = dyn Fn(&Request, Accept) -> Result<Accept, Response> + Send + Sync;

/// How a server accepts connections: subprotocols, permessage-deflate, extra headers, origin
/// policy, the connection's [`Config`], the handshake's limits and timeout, the output bound.
///
/// Build it once and share it (`&AcceptOptions` per connection, behind an `Arc` across
/// tasks).
///
/// ```
/// use std::time::Duration;
/// use wsmachine_tokio::AcceptOptions;
/// use wsmachine_tokio::wsmachine::{Config, handshake::{OriginPolicy, Response}};
///
/// let mut config = Config::default();
/// config.keepalive_interval = Some(Duration::from_secs(20));
/// config.pong_timeout = Some(Duration::from_secs(10));
/// let options = AcceptOptions::new()
///     .protocols(["chat.v2", "chat.v1"])
///     .origin_policy(OriginPolicy::allow_list(["https://example.com"]))
///     .config(config)
///     .on_request(|request, accept| {
///         if request.path() == "/chat" {
///             Ok(accept.header("Set-Cookie", "seen=1"))
///         } else {
///             Err(Response::new(404).unwrap().with_body("no such endpoint"))
///         }
///     });
/// ```
#[derive(Clone)]
pub struct AcceptOptions {
    pub(crate) config: Config,
    protocols: Vec<String>,
    #[cfg(feature = "deflate")]
    deflate: Option<wsmachine::extensions::DeflateOptions>,
    headers: Vec<(String, String)>,
    origin: Arc<OriginPolicy>,
    pub(crate) limits: HandshakeLimits,
    decide: Option<Arc<Decide>>,
    pub(crate) handshake_timeout: Option<Duration>,
    pub(crate) max_buffered: usize,
}

impl Default for AcceptOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl AcceptOptions {
    /// No subprotocols or extensions, any origin, the default [`Config`], a 10-second
    /// handshake timeout, a 128 KiB output bound.
    pub fn new() -> Self {
        Self {
            config: Config::default(),
            protocols: Vec::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
            headers: Vec::new(),
            origin: Arc::new(OriginPolicy::any()),
            limits: HandshakeLimits::default(),
            decide: None,
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
            max_buffered: DEFAULT_MAX_BUFFERED,
        }
    }

    /// The subprotocols this server speaks, in its order of preference: the first one the
    /// client offered is chosen (RFC 6455 §4.2.2), none if it offered none of them.
    pub fn protocols<I: IntoIterator<Item = P>, P: Into<String>>(mut self, protocols: I) -> Self {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts permessage-deflate (RFC 7692) when the client offers it, with these options.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, options: wsmachine::extensions::DeflateOptions) -> Self {
        self.deflate = Some(options);
        self
    }

    /// Adds a header field to every accepting response.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Which `Origin`s are accepted (default: any); others get `403`.
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = Arc::new(policy);
        self
    }

    /// The application's decision on each valid request (path, cookies, the subprotocol):
    /// `decide` gets the request and the [`Accept`] prepared from these options, and returns
    /// the `Accept` to answer with, or the [`Response`] that refuses the request.
    pub fn on_request(
        mut self,
        decide: impl Fn(&Request, Accept) -> Result<Accept, Response> + Send + Sync + 'static,
    ) -> Self {
        self.decide = Some(Arc::new(decide));
        self
    }

    /// The connection's configuration: limits, timers (keepalive, Pong deadline, idle and
    /// close timeouts), automatic Pongs.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The bounds on the request's header block.
    pub fn limits(mut self, limits: HandshakeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The bound on the whole opening handshake (default 10 s; `None`: no bound). A client
    /// that never finishes its request must not hold a task forever.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The bound on queued output above which sends wait (default 128 KiB).
    pub fn max_buffered(mut self, bytes: usize) -> Self {
        self.max_buffered = bytes;
        self
    }

    /// Decides on a valid request: the origin, then the options, then the application.
    pub(crate) fn decide(&self, request: &Request) -> Result<Accepted, Decline> {
        self.origin
            .check(request.origin())
            .map_err(Decline::Invalid)?;
        let mut accept = Accept::new().protocol(request.select_protocol(&self.protocols));
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &self.deflate {
            accept = accept.deflate(request.select_deflate(deflate));
        }
        for (name, value) in &self.headers {
            accept = accept.header(name.as_str(), value.as_str());
        }
        if let Some(decide) = &self.decide {
            accept = decide(request, accept).map_err(Decline::Refused)?;
        }
        request.accept(&accept).map_err(Decline::Build)
    }
}

impl fmt::Debug for AcceptOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptOptions")
            .field("config", &self.config)
            .field("protocols", &self.protocols)
            .field("headers", &self.headers)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("max_buffered", &self.max_buffered)
            .finish_non_exhaustive()
    }
}

/// Why a request is not accepted.
pub(crate) enum Decline {
    /// Invalid, or an origin not allowed.
    Invalid(RequestError),
    /// The application's refusal.
    Refused(Response),
    /// The answer cannot be built from the options.
    Build(BuildError),
}

impl Decline {
    /// The response that tells the client.
    pub(crate) fn response(&self) -> Response {
        match self {
            Self::Invalid(e) => e.response(),
            Self::Refused(response) => response.clone(),
            Self::Build(_) => Response::new(500).expect("500 is a valid status"),
        }
    }

    pub(crate) fn into_error(self) -> Error {
        match self {
            Self::Invalid(e) => Error::Request(e),
            Self::Refused(response) => Error::Refused(response.status()),
            Self::Build(e) => Error::Build(e),
        }
    }
}

/// How a client connects: subprotocols offered, permessage-deflate, extra headers, `Origin`,
/// the connection's [`Config`], the handshake's timeout, the output bound, and (feature
/// `rustls`) the TLS configuration for `wss://`.
///
/// ```
/// use wsmachine_tokio::ConnectOptions;
/// let options = ConnectOptions::new()
///     .protocol("chat.v2")
///     .header("Authorization", "Bearer abc")
///     .origin("https://example.com");
/// ```
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub(crate) client: ClientOptions,
    pub(crate) config: Config,
    pub(crate) handshake_timeout: Option<Duration>,
    pub(crate) max_buffered: usize,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectOptions {
    /// No subprotocols or extensions, the default [`Config`], a 10-second handshake timeout
    /// (name resolution, TCP, TLS and HTTP together), a 128 KiB output bound.
    pub fn new() -> Self {
        Self {
            client: ClientOptions::new(),
            config: Config::default(),
            handshake_timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
            max_buffered: DEFAULT_MAX_BUFFERED,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }

    /// Offers a subprotocol; offers go out in the order they are added.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.client = self.client.protocol(protocol);
        self
    }

    /// Offers permessage-deflate (RFC 7692) with `options`.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, options: wsmachine::extensions::DeflateOptions) -> Self {
        self.client = self.client.deflate(options);
        self
    }

    /// Adds a header field to the request (cookies, authorization, ...).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.client = self.client.header(name, value);
        self
    }

    /// Sends an `Origin` field.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.client = self.client.origin(origin);
        self
    }

    /// Replaces the handshake options (subprotocols, extensions, headers, origin, limits)
    /// with `options`.
    pub fn client_options(mut self, options: ClientOptions) -> Self {
        self.client = options;
        self
    }

    /// The connection's configuration: limits, timers, automatic Pongs.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The bound on the whole opening handshake (default 10 s; `None`: no bound).
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The bound on queued output above which sends wait (default 128 KiB).
    pub fn max_buffered(mut self, bytes: usize) -> Self {
        self.max_buffered = bytes;
        self
    }

    /// The TLS configuration for `wss://` (default: the roots of the `rustls-tls-*`
    /// feature turned on). Its ALPN list should be empty or `http/1.1`.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
}
