//! One QUIC connection with HTTP/3 on it: the state the streams share, and the task that
//! moves its datagrams and runs its timers.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use quiche::h3::{self, NameValue};
use tokio::net::UdpSocket;
use tokio::sync::{Notify, mpsc};

use super::{H3Error, H3Request};

/// HTTP/3 error code `H3_NO_ERROR` (RFC 9114 §8.1).
pub(super) const H3_NO_ERROR: u64 = 0x100;
/// HTTP/3 error code `H3_REQUEST_REJECTED` (RFC 9114 §8.1): nothing of the request was
/// processed.
pub(super) const H3_REQUEST_REJECTED: u64 = 0x10b;
/// HTTP/3 error code `H3_REQUEST_CANCELLED` (RFC 9114 §8.1).
pub(super) const H3_REQUEST_CANCELLED: u64 = 0x10c;
/// HTTP/3 error code `H3_MESSAGE_ERROR` (RFC 9114 §8.1): a malformed request.
pub(super) const H3_MESSAGE_ERROR: u64 = 0x10e;

/// The largest UDP payload sent or received.
const MAX_DATAGRAM: usize = 65_535;
/// The largest header section accepted (SETTINGS_MAX_FIELD_SECTION_SIZE, RFC 9114 §4.2.2).
const MAX_FIELD_SECTION: u64 = 16 * 1024;
/// The least send capacity, in bytes, worth waking a writer for: a DATA frame header (at
/// most 9 bytes) and some payload.
pub(super) const WRITE_LOW_WATER: usize = 64;

/// Which end of the connection we are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Role {
    Client,
    Server,
}

/// What the application's handles and the connection's task share.
pub(super) struct Shared {
    state: Mutex<State>,
    /// Wakes the task after the application changed the state (data to send, credit to
    /// give back).
    pub(super) wake_task: Notify,
}

impl Shared {
    pub(super) fn new(quic: quiche::Connection, role: Role) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                quic,
                h3: None,
                role,
                streams: HashMap::new(),
                closed: None,
                settings_waiter: None,
            }),
            wake_task: Notify::new(),
        })
    }

    /// The state, also after a panic elsewhere (it holds no invariant a panic can break
    /// half-way that matters more than the connection going on).
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Per stream: who waits, and what the connection learned about it.
#[derive(Default)]
pub(super) struct Slot {
    /// A reader (or, on a client, the request waiting for its response) to wake.
    pub(super) read: Option<Waker>,
    /// A writer waiting for send capacity.
    pub(super) write: Option<Waker>,
    /// Client: the response's fields, once a final (non-1xx) response arrived.
    pub(super) response: Option<Vec<h3::Header>>,
    /// The peer's FIN was seen.
    pub(super) finished: bool,
    /// The peer reset the stream with this code.
    pub(super) reset: Option<u64>,
}

impl Slot {
    fn wake_all(&mut self) {
        if let Some(w) = self.read.take() {
            w.wake();
        }
        if let Some(w) = self.write.take() {
            w.wake();
        }
    }
}

/// Ends stream `id` in both directions with the HTTP/3 error `code` (RESET_STREAM and
/// STOP_SENDING). A stream already over either way is left as it is.
pub(super) fn abort_stream(quic: &mut quiche::Connection, id: u64, code: u64) {
    for direction in [quiche::Shutdown::Read, quiche::Shutdown::Write] {
        let _ = quic.stream_shutdown(id, direction, code);
    }
}

/// The connection: quiche's QUIC and HTTP/3 state and the streams the application holds.
pub(super) struct State {
    pub(super) quic: quiche::Connection,
    pub(super) h3: Option<h3::Connection>,
    role: Role,
    pub(super) streams: HashMap<u64, Slot>,
    /// Why the connection is over, once it is.
    pub(super) closed: Option<H3Error>,
    /// Client: waits for the server's SETTINGS.
    pub(super) settings_waiter: Option<Waker>,
}

impl State {
    /// The peer's SETTINGS arrived (so whether it allows extended CONNECT is known).
    pub(super) fn settings_known(&self) -> bool {
        self.h3
            .as_ref()
            .is_some_and(|h3| h3.peer_settings_raw().is_some())
    }

    /// The connection's end as an error, if it is over.
    pub(super) fn check_open(&self) -> Result<(), H3Error> {
        match &self.closed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Why stream `id` can be neither read nor written any more, as the I/O error to return:
    /// the peer reset it, or the connection is over.
    pub(super) fn check_stream(&self, id: u64) -> io::Result<()> {
        if let Some(code) = self.streams.get(&id).and_then(|s| s.reset) {
            return Err(H3Error::StreamReset(code).into_io());
        }
        self.check_open().map_err(H3Error::into_io)
    }

    /// Runs HTTP/3 on what QUIC received: answers each event and wakes who waits for it.
    fn process(&mut self, incoming: Option<&mpsc::Sender<H3Request>>, handle: &HandleSource) {
        if self.h3.is_none() && (self.quic.is_established() || self.quic.is_in_early_data()) {
            let mut config = match h3::Config::new() {
                Ok(c) => c,
                Err(_) => return self.fail(),
            };
            // RFC 9220 §3: a server that accepts WebSockets says so in its SETTINGS.
            config.enable_extended_connect(self.role == Role::Server);
            config.set_max_field_section_size(MAX_FIELD_SECTION);
            match h3::Connection::with_transport(&mut self.quic, &config) {
                Ok(h3) => self.h3 = Some(h3),
                Err(_) => return self.fail(),
            }
        }
        if let Some(h3) = self.h3.as_mut() {
            loop {
                match h3.poll(&mut self.quic) {
                    Ok((id, h3::Event::Headers { list, .. })) => match self.role {
                        Role::Server => {
                            if self.streams.contains_key(&id) {
                                // A trailer section: a WebSocket has no use for it. (A stream
                                // forgotten here was shut down both ways: nothing more comes.)
                                continue;
                            }
                            let request = match request_of(&list) {
                                Some(r) => r,
                                None => {
                                    // RFC 9114 §4.1.2: a malformed request is a stream error.
                                    abort_stream(&mut self.quic, id, H3_MESSAGE_ERROR);
                                    continue;
                                }
                            };
                            // A permit first: a request built and then refused would be
                            // dropped here, under the lock its drop takes.
                            let permit = incoming.and_then(|tx| tx.try_reserve().ok());
                            let Some(permit) = permit else {
                                // Nobody takes requests, or too many wait: refused before
                                // anything of it was processed (RFC 9114 §4.1.1).
                                abort_stream(&mut self.quic, id, H3_REQUEST_REJECTED);
                                continue;
                            };
                            self.streams.insert(id, Slot::default());
                            let (request, protocol) = request;
                            permit.send(H3Request::new(request, protocol, handle.stream(id)));
                        }
                        Role::Client => {
                            let Some(slot) = self.streams.get_mut(&id) else {
                                continue;
                            };
                            let informational = list.iter().any(|h| {
                                h.name() == b":status" && h.value().first() == Some(&b'1')
                            });
                            if slot.response.is_none() && !informational {
                                slot.response = Some(list);
                                if let Some(w) = slot.read.take() {
                                    w.wake();
                                }
                            }
                        }
                    },
                    Ok((id, h3::Event::Data)) => {
                        if let Some(w) = self.streams.get_mut(&id).and_then(|s| s.read.take()) {
                            w.wake();
                        }
                    }
                    Ok((id, h3::Event::Finished)) => {
                        if let Some(slot) = self.streams.get_mut(&id) {
                            slot.finished = true;
                            slot.wake_all();
                        }
                    }
                    Ok((id, h3::Event::Reset(code))) => {
                        if let Some(slot) = self.streams.get_mut(&id) {
                            slot.reset = Some(code);
                            slot.wake_all();
                        }
                    }
                    Ok((_, h3::Event::GoAway | h3::Event::PriorityUpdate)) => {}
                    Err(h3::Error::Done) => break,
                    // quiche closed the connection with the error's code: reported below.
                    Err(_) => break,
                }
            }
            if self.settings_known() {
                if let Some(w) = self.settings_waiter.take() {
                    w.wake();
                }
            }
        }
        // Writers wait for room for a DATA frame header and some payload.
        for (&id, slot) in self.streams.iter_mut() {
            if slot.write.is_some()
                && self
                    .quic
                    .stream_capacity(id)
                    .map_or(true, |room| room >= WRITE_LOW_WATER)
            {
                if let Some(w) = slot.write.take() {
                    w.wake();
                }
            }
        }
        if self.quic.is_closed() {
            self.mark_closed();
        }
    }

    /// HTTP/3 could not start: the connection ends with `H3_INTERNAL_ERROR`.
    fn fail(&mut self) {
        let _ = self.quic.close(true, 0x102, b"");
    }

    /// The connection is over: every handle learns why.
    fn mark_closed(&mut self) {
        if self.closed.is_some() {
            return;
        }
        let error = if let Some(e) = self.quic.peer_error() {
            H3Error::ConnectionClosed {
                by_peer: true,
                application: e.is_app,
                code: e.error_code,
                reason: String::from_utf8_lossy(&e.reason).into_owned(),
            }
        } else if let Some(e) = self.quic.local_error() {
            H3Error::ConnectionClosed {
                by_peer: false,
                application: e.is_app,
                code: e.error_code,
                reason: String::from_utf8_lossy(&e.reason).into_owned(),
            }
        } else if self.quic.is_timed_out() {
            H3Error::IdleTimeout
        } else {
            H3Error::ConnectionClosed {
                by_peer: false,
                application: false,
                code: 0,
                reason: String::new(),
            }
        };
        self.closed = Some(error);
        for slot in self.streams.values_mut() {
            slot.wake_all();
        }
        if let Some(w) = self.settings_waiter.take() {
            w.wake();
        }
    }
}

/// Makes the handles a server gives out for the requests of one connection.
pub(super) struct HandleSource {
    pub(super) shared: Arc<Shared>,
}

impl HandleSource {
    fn stream(&self, id: u64) -> super::StreamHandle {
        super::StreamHandle {
            handle: Arc::new(super::Handle {
                shared: self.shared.clone(),
                close_on_drop: false,
            }),
            id,
        }
    }
}

/// A request's head as `http` types, or `None` if it is malformed (a missing or repeated
/// pseudo-header, a field the `http` crate refuses).
fn request_of(list: &[h3::Header]) -> Option<(http::Request<()>, Option<String>)> {
    let mut method = None;
    let mut scheme = None;
    let mut authority = None;
    let mut path = None;
    let mut protocol = None;
    let mut headers = http::HeaderMap::with_capacity(list.len());
    for field in list {
        let value = field.value();
        let slot = match field.name() {
            b":method" => &mut method,
            b":scheme" => &mut scheme,
            b":authority" => &mut authority,
            b":path" => &mut path,
            b":protocol" => &mut protocol,
            name if name.first() == Some(&b':') => return None,
            name => {
                let name = http::HeaderName::from_bytes(name).ok()?;
                let value = http::HeaderValue::from_bytes(value).ok()?;
                headers.append(name, value);
                continue;
            }
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(std::str::from_utf8(value).ok()?.to_owned());
    }
    let mut uri = http::Uri::builder();
    if let Some(scheme) = &scheme {
        uri = uri.scheme(scheme.as_str());
    }
    if let Some(authority) = &authority {
        uri = uri.authority(authority.as_str());
    }
    if let Some(path) = &path {
        uri = uri.path_and_query(path.as_str());
    }
    let mut request = http::Request::new(());
    *request.method_mut() = http::Method::from_bytes(method?.as_bytes()).ok()?;
    *request.uri_mut() = uri.build().ok()?;
    *request.version_mut() = http::Version::HTTP_3;
    *request.headers_mut() = headers;
    Some((request, protocol))
}

/// Where a connection's datagrams come from: its own socket (a client) or the server's
/// endpoint, which reads the shared socket and routes by connection ID.
pub(super) enum Inbound {
    Socket,
    Routed(mpsc::Receiver<(Vec<u8>, SocketAddr)>),
}

/// Runs one connection until it is closed: sends what quiche has to send, feeds it what
/// arrives, runs its timer, and processes HTTP/3 after each.
pub(super) async fn drive(
    shared: Arc<Shared>,
    socket: Arc<UdpSocket>,
    mut inbound: Inbound,
    local: SocketAddr,
    incoming: Option<mpsc::Sender<H3Request>>,
) {
    let handles = HandleSource {
        shared: shared.clone(),
    };
    let mut out = vec![0u8; MAX_DATAGRAM];
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        // Everything quiche wants to send now (pacing is left to the kernel on loopback
        // and to quiche's congestion window elsewhere).
        loop {
            let sent = shared.lock().quic.send(&mut out);
            match sent {
                Ok((n, info)) => {
                    // A lost datagram is QUIC's business: it retransmits.
                    let _ = socket.send_to(&out[..n], info.to).await;
                }
                Err(_) => break,
            }
        }
        let timeout = {
            let mut state = shared.lock();
            if state.quic.is_closed() {
                state.mark_closed();
                return;
            }
            state.quic.timeout()
        };
        let sleep = async {
            match timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = receive(&mut inbound, &socket, &mut buf) => {
                let mut state = shared.lock();
                match received {
                    Some((n, from)) => {
                        let info = quiche::RecvInfo { from, to: local };
                        // A datagram quiche refuses is dropped, as QUIC says.
                        let _ = state.quic.recv(&mut buf[..n], info);
                    }
                    None => {
                        // The endpoint is gone: nothing more can arrive.
                        let _ = state.quic.close(true, H3_NO_ERROR, b"");
                    }
                }
                state.process(incoming.as_ref(), &handles);
            }
            () = shared.wake_task.notified() => {
                shared.lock().process(incoming.as_ref(), &handles);
            }
            () = sleep => {
                let mut state = shared.lock();
                state.quic.on_timeout();
                state.process(incoming.as_ref(), &handles);
            }
        }
    }
}

/// The next datagram for this connection, or `None` once none can come.
async fn receive(
    inbound: &mut Inbound,
    socket: &UdpSocket,
    buf: &mut [u8],
) -> Option<(usize, SocketAddr)> {
    match inbound {
        Inbound::Socket => loop {
            match socket.recv_from(buf).await {
                Ok(received) => return Some(received),
                // ICMP errors (a port closed for a moment) surface here on some systems:
                // QUIC's own timers decide whether the peer is gone.
                Err(_) => continue,
            }
        },
        Inbound::Routed(rx) => {
            let (data, from) = rx.recv().await?;
            let n = data.len().min(buf.len());
            buf[..n].copy_from_slice(&data[..n]);
            Some((n, from))
        }
    }
}
