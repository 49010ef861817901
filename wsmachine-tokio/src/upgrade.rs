//! Upgrades of a hyper 1 (or axum) connection to a WebSocket (feature `hyper`): HTTP/1.1
//! `Upgrade: websocket` and, over HTTP/2, the extended CONNECT of RFC 8441.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use wsmachine::handshake::Request;
use wsmachine::{Config, Connection, Negotiated};

use crate::options::Decline;
use crate::{AcceptOptions, Error, WebSocket};

/// The transport of an upgraded hyper connection.
pub type UpgradedIo = TokioIo<Upgraded>;

/// Validates `request` as a WebSocket upgrade and answers it: the response to return from
/// the handler (`101 Switching Protocols`, or `200` for an extended CONNECT over HTTP/2), and
/// a future that yields the [`WebSocket`] once hyper has sent that response and handed the
/// connection over. Spawn the future (it resolves only after the response is written), then
/// return the response.
///
/// An HTTP/2 request is recognized by its `:protocol` (`hyper::ext::Protocol`; enable
/// `http2::Builder::enable_connect_protocol` on the server). A request that is not a valid
/// upgrade, or that the options refuse, gives a [`Refusal`] with the response to send
/// instead (`400`, `426`, `403`, or the application's own).
///
/// The HTTP/1.1 connection must be served `.with_upgrades()`. Bytes hyper read past the
/// request stay inside the upgraded IO, so nothing is lost.
pub fn upgrade<B>(
    request: &mut http::Request<B>,
    options: &AcceptOptions,
) -> Result<(http::Response<()>, Upgrading), Refusal> {
    let protocol = request
        .extensions()
        .get::<hyper::ext::Protocol>()
        .map(|p| p.as_str().to_owned());
    let parsed = match protocol {
        Some(protocol) => Request::from_extended_connect(request, Some(&protocol)),
        None => Request::from_http(request),
    };
    let decided = parsed
        .map_err(Decline::Invalid)
        .and_then(|parsed| options.decide(&parsed));
    let accepted = match decided {
        Ok(accepted) => accepted,
        Err(decline) => return Err(Refusal::new(decline)),
    };
    let response = match accepted.to_http() {
        Ok(response) => response,
        Err(e) => return Err(Refusal::new(Decline::Build(e))),
    };
    let upgrading = Upgrading {
        on: hyper::upgrade::on(request),
        negotiated: Some(accepted.negotiated),
        config: options.config.clone(),
        max_buffered: options.max_buffered,
    };
    Ok((response, upgrading))
}

/// The WebSocket of an accepted upgrade, once hyper hands the connection over.
#[must_use = "spawn it: the WebSocket exists only once it resolves"]
pub struct Upgrading {
    on: OnUpgrade,
    negotiated: Option<Negotiated>,
    config: Config,
    max_buffered: usize,
}

impl Future for Upgrading {
    type Output = Result<WebSocket<UpgradedIo>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let upgraded = ready!(Pin::new(&mut this.on).poll(cx)).map_err(Error::Upgrade)?;
        let negotiated = this.negotiated.take().ok_or(Error::AlreadyClosed)?;
        let conn = Connection::server(negotiated, this.config.clone());
        let mut ws = WebSocket::from_connection(TokioIo::new(upgraded), conn);
        ws.set_max_buffered(this.max_buffered);
        Poll::Ready(Ok(ws))
    }
}

impl std::fmt::Debug for Upgrading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrading").finish_non_exhaustive()
    }
}

/// A request that is not accepted: the response to send, and why.
#[derive(Debug)]
pub struct Refusal(Box<RefusalInner>);

#[derive(Debug)]
struct RefusalInner {
    response: http::Response<Vec<u8>>,
    error: Error,
}

impl Refusal {
    fn new(decline: Decline) -> Self {
        let response = decline.response().to_http().unwrap_or_else(|_| {
            let mut response = http::Response::new(Vec::new());
            *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            response
        });
        Self(Box::new(RefusalInner {
            response,
            error: decline.into_error(),
        }))
    }

    /// The status of the response.
    pub fn status(&self) -> u16 {
        self.0.response.status().as_u16()
    }

    /// Why the request was not accepted.
    pub fn error(&self) -> &Error {
        &self.0.error
    }

    /// The response to send (with a short body that says why); `.map(Into::into)` turns the
    /// body into `Full<Bytes>` or axum's `Body`.
    pub fn into_response(self) -> http::Response<Vec<u8>> {
        self.0.response
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upgrade refused ({}): {}", self.status(), self.0.error)
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.error)
    }
}
