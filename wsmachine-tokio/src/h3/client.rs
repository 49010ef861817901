//! The client: one QUIC connection to a server, and WebSockets opened on it with extended
//! CONNECT requests.

use std::fmt;
use std::future::poll_fn;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::task::Poll;

use tokio::net::UdpSocket;
use wsmachine::Connection;
use wsmachine::handshake::{ExtendedConnect, Url};

use super::conn::{self, Inbound, Role, Shared};
use super::{H3Error, H3Stream, Handle, StreamHandle, fields_of, response_of};
use crate::handshake::bounded;
use crate::{ConnectOptions, DEFAULT_HANDSHAKE_TIMEOUT, Error, WebSocket};

/// The length of the connection IDs this client gives itself.
const CID_LEN: usize = 16;

/// A client's HTTP/3 connection: open any number of WebSockets on it with [`connect_h3`].
///
/// Clones share the connection. It is closed (`H3_NO_ERROR`) when the last clone and the
/// last stream opened on it are dropped.
#[derive(Clone)]
pub struct H3Client {
    handle: Arc<Handle>,
    server: SocketAddr,
}

impl fmt::Debug for H3Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H3Client")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Client: connects to an HTTP/3 server at `server` over a new UDP socket, with `config`
/// (from [`quic_config`](super::quic_config), with the roots to verify the server by) and
/// `server_name` for SNI and the certificate check. Spawns the connection's task and waits
/// for the QUIC handshake and the server's SETTINGS (at most 10 s), so the returned client
/// knows whether [`connect_h3`] may be used.
pub async fn h3_client(
    server: SocketAddr,
    server_name: &str,
    mut config: quiche::Config,
) -> Result<H3Client, Error> {
    config
        .set_application_protos(quiche::h3::APPLICATION_PROTOCOL)
        .map_err(H3Error::Quic)?;
    let bind: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(server).await?;
    let local = socket.local_addr()?;
    let mut scid = [0u8; CID_LEN];
    getrandom::fill(&mut scid).map_err(|e| Error::Io(std::io::Error::other(e)))?;
    let scid = quiche::ConnectionId::from_ref(&scid);
    let quic = quiche::connect(Some(server_name), &scid, local, server, &mut config)
        .map_err(H3Error::Quic)?;
    let shared = Shared::new(quic, Role::Client);
    tokio::spawn(conn::drive(
        shared.clone(),
        Arc::new(socket),
        Inbound::Socket,
        local,
        None,
    ));
    let client = H3Client {
        handle: Arc::new(Handle {
            shared: shared.clone(),
            close_on_drop: true,
        }),
        server,
    };
    let settings = poll_fn(|cx| {
        let mut state = shared.lock();
        if state.settings_known() {
            return Poll::Ready(Ok(()));
        }
        state.check_open()?;
        state.settings_waiter = Some(cx.waker().clone());
        Poll::Pending
    });
    match tokio::time::timeout(DEFAULT_HANDSHAKE_TIMEOUT, settings).await {
        Ok(result) => result.map_err(Error::H3)?,
        Err(_) => return Err(H3Error::HandshakeTimeout.into()),
    }
    Ok(client)
}

impl H3Client {
    /// The server's address.
    pub fn server_addr(&self) -> SocketAddr {
        self.server
    }

    /// The server allows extended CONNECT (`SETTINGS_ENABLE_CONNECT_PROTOCOL`, RFC 9220 §3).
    pub fn is_extended_connect_enabled(&self) -> bool {
        let state = self.handle.shared.lock();
        state
            .h3
            .as_ref()
            .is_some_and(|h3| h3.extended_connect_enabled_by_peer())
    }

    /// Sends a request (with `:protocol` when `protocol` is given: an extended CONNECT) on
    /// a new stream and waits for its final response; the stream stays open both ways.
    /// For a WebSocket, [`connect_h3`] does this and checks the answer.
    pub async fn send_request(
        &self,
        request: &http::Request<()>,
        protocol: Option<&str>,
    ) -> Result<(http::Response<()>, H3Stream), Error> {
        let uri = request.uri();
        let mut pseudo: Vec<(&[u8], &[u8])> =
            vec![(b":method".as_slice(), request.method().as_str().as_bytes())];
        if let Some(protocol) = protocol {
            pseudo.push((b":protocol".as_slice(), protocol.as_bytes()));
        }
        pseudo.push((
            b":scheme".as_slice(),
            uri.scheme_str().unwrap_or("https").as_bytes(),
        ));
        if let Some(authority) = uri.authority() {
            pseudo.push((b":authority".as_slice(), authority.as_str().as_bytes()));
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        pseudo.push((b":path".as_slice(), path.as_bytes()));
        let fields = fields_of(&pseudo, request.headers());
        let shared = &self.handle.shared;
        let id = {
            let mut state = shared.lock();
            let state = &mut *state;
            state.check_open()?;
            let h3 = state.h3.as_mut().ok_or(Error::AlreadyClosed)?;
            let id = h3
                .send_request(&mut state.quic, &fields, false)
                .map_err(H3Error::of_h3)?;
            state.streams.insert(id, conn::Slot::default());
            id
        };
        shared.wake_task.notify_one();
        // From here the stream is ours: dropping it resets the stream.
        let stream = H3Stream::new(StreamHandle {
            handle: self.handle.clone(),
            id,
        });
        let list = poll_fn(|cx| {
            let mut state = shared.lock();
            let slot = state.streams.entry(id).or_default();
            if let Some(list) = slot.response.take() {
                return Poll::Ready(Ok(list));
            }
            if let Some(code) = slot.reset {
                return Poll::Ready(Err(H3Error::StreamReset(code)));
            }
            if slot.finished {
                return Poll::Ready(Err(H3Error::MalformedResponse));
            }
            slot.read = Some(cx.waker().clone());
            state.check_open()?;
            Poll::Pending
        })
        .await?;
        let response = response_of(&list)?;
        Ok((response, stream))
    }
}

/// Client: opens a WebSocket at `url` on an HTTP/3 connection with an extended CONNECT
/// (RFC 9220 §3), checks the answer, and returns the WebSocket on the stream. Several
/// WebSockets can share one connection, as many at once as the server's stream limit allows
/// (128 with [`quic_config`](super::quic_config)); past it the call fails with
/// [`H3Error::Http3`] and sends nothing. Fails with [`H3Error::ExtendedConnectDisabled`] if
/// the server's SETTINGS did not allow it.
pub async fn connect_h3(
    client: &H3Client,
    url: &str,
    options: &ConnectOptions,
) -> Result<WebSocket<H3Stream>, Error> {
    let url = Url::parse(url)?;
    if !client.is_extended_connect_enabled() {
        return Err(H3Error::ExtendedConnectDisabled.into());
    }
    bounded(options.handshake_timeout, async {
        let connect = ExtendedConnect::http3(&url, options.client.clone())?;
        let request = connect.request();
        let (response, stream) = client
            .send_request(&request, Some(ExtendedConnect::PROTOCOL))
            .await?;
        // RFC 9220 §3, RFC 6455 §4.1: a 2xx whose subprotocol and extensions we offered.
        let negotiated = connect.validate(&response).map_err(Error::Response)?;
        let conn = Connection::client(negotiated, options.config.clone());
        let mut ws = WebSocket::from_connection(stream, conn);
        ws.set_max_buffered(options.max_buffered);
        Ok(ws)
    })
    .await
}
