//! The server: a UDP endpoint that accepts QUIC connections, and the WebSocket handshake on
//! each extended CONNECT they carry.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{ToSocketAddrs, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wsmachine::Connection;
use wsmachine::handshake::Request;

use super::conn::{self, Inbound, Role, Shared};
use super::{H3Error, H3Stream, StreamHandle, fields_of};
use crate::options::Decline;
use crate::{AcceptOptions, Error, WebSocket};

/// The length of the connection IDs this server gives itself.
const CID_LEN: usize = 16;
/// The most QUIC connections served at once; Initial packets beyond it are dropped.
const MAX_CONNECTIONS: usize = 4096;
/// Datagrams waiting for one connection's task; more are dropped (QUIC retransmits).
const ROUTE_QUEUE: usize = 256;
/// The largest datagram taken: QUIC never needs more than the path's MTU, and
/// [`quic_config`](super::quic_config) announces 1,350 bytes; with [`ROUTE_QUEUE`] it bounds
/// what one connection's queue holds (384 KiB).
const MAX_DATAGRAM: usize = 1500;
/// Requests waiting for [`H3Server::accept`]; more are refused with `H3_REQUEST_REJECTED`.
const ACCEPT_QUEUE: usize = 256;

/// The connections' datagram queues by connection ID.
type Routes = Arc<Mutex<HashMap<Vec<u8>, mpsc::Sender<(Vec<u8>, SocketAddr)>>>>;

/// An HTTP/3 server endpoint on one UDP socket: accepts QUIC connections (any number of
/// request streams each) and hands out their requests.
///
/// Each connection runs in its own task, fed by the endpoint's task, which reads the socket
/// and routes datagrams by connection ID. The endpoint answers SETTINGS with
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 9220 §3). It does no address validation (QUIC
/// Retry): quiche limits what it sends to an unvalidated address to three times what it
/// received. Memory is bounded per connection: at most 256 datagrams of at most 1,500 bytes
/// wait for its task (more, or larger, are dropped), and 256 requests wait for
/// [`accept`](Self::accept) (more are refused). Dropping the server stops accepting; connections already open run on until
/// they close or go idle.
pub struct H3Server {
    incoming: mpsc::Receiver<H3Request>,
    local_addr: SocketAddr,
    endpoint: JoinHandle<()>,
}

impl H3Server {
    /// Binds a UDP socket at `addr` and serves QUIC with `config` (give it a certificate
    /// and key; [`quic_config`](super::quic_config) sets the rest).
    pub async fn bind(addr: impl ToSocketAddrs, config: quiche::Config) -> Result<Self, Error> {
        let socket = UdpSocket::bind(addr).await?;
        Self::from_socket(socket, config)
    }

    /// Serves QUIC on a bound UDP socket.
    pub fn from_socket(socket: UdpSocket, mut config: quiche::Config) -> Result<Self, Error> {
        config
            .set_application_protos(quiche::h3::APPLICATION_PROTOCOL)
            .map_err(H3Error::Quic)?;
        let local_addr = socket.local_addr()?;
        let (tx, incoming) = mpsc::channel(ACCEPT_QUEUE);
        let endpoint = tokio::spawn(serve(Arc::new(socket), local_addr, config, tx));
        Ok(Self {
            incoming,
            local_addr,
            endpoint,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next request of any connection, in arrival order; give a WebSocket request to
    /// [`accept_h3`]. `None` once the endpoint stopped (its socket failed).
    pub async fn accept(&mut self) -> Option<H3Request> {
        self.incoming.recv().await
    }
}

impl Drop for H3Server {
    fn drop(&mut self) {
        self.endpoint.abort();
    }
}

impl fmt::Debug for H3Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H3Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// The endpoint's task: reads the socket, starts connections, routes datagrams.
async fn serve(
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    mut config: quiche::Config,
    incoming: mpsc::Sender<H3Request>,
) {
    let routes: Routes = Arc::default();
    let mut buf = vec![0u8; 65_535];
    let mut out = vec![0u8; 1350];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            // ICMP errors for one peer say nothing about the others.
            Err(_) => continue,
        };
        if n > MAX_DATAGRAM {
            continue;
        }
        let datagram = &mut buf[..n];
        let Ok(header) = quiche::Header::from_slice(datagram, CID_LEN) else {
            continue;
        };
        let route = routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(header.dcid.as_ref())
            .cloned();
        if let Some(route) = route {
            let _ = route.try_send((datagram.to_vec(), from));
            continue;
        }
        if header.ty != quiche::Type::Initial {
            continue;
        }
        if !quiche::version_is_supported(header.version) {
            if let Ok(len) = quiche::negotiate_version(&header.scid, &header.dcid, &mut out) {
                let _ = socket.send_to(&out[..len], from).await;
            }
            continue;
        }
        if routes.lock().unwrap_or_else(|e| e.into_inner()).len() >= MAX_CONNECTIONS * 2 {
            continue;
        }
        let mut scid = [0u8; CID_LEN];
        if getrandom::fill(&mut scid).is_err() {
            continue;
        }
        let scid = quiche::ConnectionId::from_vec(scid.to_vec());
        let Ok(quic) = quiche::accept(&scid, None, local, from, &mut config) else {
            continue;
        };
        let (tx, rx) = mpsc::channel(ROUTE_QUEUE);
        let _ = tx.try_send((datagram.to_vec(), from));
        // The client keeps its first destination ID until our first packet arrives.
        let ids = vec![scid.to_vec(), header.dcid.to_vec()];
        {
            let mut routes = routes.lock().unwrap_or_else(|e| e.into_inner());
            for id in &ids {
                routes.insert(id.clone(), tx.clone());
            }
        }
        let shared = Shared::new(quic, Role::Server);
        let (socket, routes, incoming) = (socket.clone(), routes.clone(), incoming.clone());
        tokio::spawn(async move {
            conn::drive(shared, socket, Inbound::Routed(rx), local, Some(incoming)).await;
            let mut routes = routes.lock().unwrap_or_else(|e| e.into_inner());
            for id in &ids {
                routes.remove(id);
            }
        });
    }
}

/// A request that arrived on a server connection: its head, and its stream.
pub struct H3Request {
    request: http::Request<()>,
    protocol: Option<String>,
    stream: Option<StreamHandle>,
}

impl H3Request {
    pub(super) fn new(
        request: http::Request<()>,
        protocol: Option<String>,
        stream: StreamHandle,
    ) -> Self {
        Self {
            request,
            protocol,
            stream: Some(stream),
        }
    }

    /// The request head (method, URI from `:scheme`, `:authority` and `:path`, fields;
    /// version HTTP/3).
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// The `:protocol` pseudo-header of an extended CONNECT (`websocket` for RFC 9220).
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Answers with `response` and returns the stream (for a request that is not a
    /// WebSocket, or to run your own protocol on it). The response's body, if any, is
    /// written to the stream.
    pub fn respond(mut self, response: http::Response<()>) -> Result<H3Stream, Error> {
        let stream = self.stream.take().ok_or(Error::AlreadyClosed)?;
        let status = response.status();
        let fields = fields_of(
            &[(b":status".as_slice(), status.as_str().as_bytes())],
            response.headers(),
        );
        let sent = {
            let mut state = stream.handle.shared.lock();
            let state = &mut *state;
            let sent = match (state.check_open(), state.h3.as_mut()) {
                (Err(e), _) => Err(e.into()),
                (Ok(()), None) => Err(Error::AlreadyClosed),
                (Ok(()), Some(h3)) => h3
                    .send_response(&mut state.quic, stream.id, &fields, false)
                    .map_err(|e| H3Error::of_h3(e).into()),
            };
            if sent.is_err() {
                // The stream is over (reset meanwhile, or the connection closed): forget it.
                conn::abort_stream(&mut state.quic, stream.id, conn::H3_REQUEST_CANCELLED);
                state.streams.remove(&stream.id);
            }
            sent
        };
        stream.handle.shared.wake_task.notify_one();
        sent.map(|()| H3Stream::new(stream))
    }
}

impl Drop for H3Request {
    fn drop(&mut self) {
        // Unanswered: the request was not processed (RFC 9114 §4.1.1).
        if let Some(stream) = self.stream.take() {
            let mut state = stream.handle.shared.lock();
            conn::abort_stream(&mut state.quic, stream.id, conn::H3_REQUEST_REJECTED);
            state.streams.remove(&stream.id);
            drop(state);
            stream.handle.shared.wake_task.notify_one();
        }
    }
}

impl fmt::Debug for H3Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H3Request")
            .field("request", &self.request)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// Server: accepts an extended CONNECT (`:protocol: websocket`, RFC 9220) that an
/// [`H3Server`] received. Answers `200` and returns the WebSocket on the stream; a request
/// that is not valid or that the options refuse gets its error response (with a body, then
/// the stream's end) and the call fails.
pub async fn accept_h3(
    request: H3Request,
    options: &AcceptOptions,
) -> Result<WebSocket<H3Stream>, Error> {
    let decided = Request::from_extended_connect(request.request(), request.protocol())
        .map_err(Decline::Invalid)
        .and_then(|parsed| options.decide(&parsed));
    match decided {
        Ok(accepted) => {
            let response = accepted.to_http()?;
            let stream = request.respond(response)?;
            let conn = Connection::server(accepted.negotiated, options.config.clone());
            let mut ws = WebSocket::from_connection(stream, conn);
            ws.set_max_buffered(options.max_buffered);
            Ok(ws)
        }
        Err(decline) => {
            let (parts, body) = decline.response().to_http()?.into_parts();
            if let Ok(mut stream) = request.respond(http::Response::from_parts(parts, ())) {
                use tokio::io::AsyncWriteExt;
                // Best effort, bounded by the handshake's own timeout: the refusal stands.
                let _ = crate::handshake::bounded(options.handshake_timeout, async {
                    stream.write_all(&body).await?;
                    stream.shutdown().await?;
                    Ok(())
                })
                .await;
            }
            Err(decline.into_error())
        }
    }
}
