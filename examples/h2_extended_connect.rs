//! WebSockets over HTTP/2 (RFC 8441, extended CONNECT) with the `h2` crate, both ends in one
//! process: an echo server and a client that sends one message, prints the echo and closes.
//!
//! ```sh
//! cargo run --features http --example h2_extended_connect
//! ```
//!
//! The server enables the extended CONNECT protocol (`SETTINGS_ENABLE_CONNECT_PROTOCOL`),
//! validates each `CONNECT` with `:protocol: websocket` with `Request::from_extended_connect`
//! (feature `http`), answers with the `200` that `accept` gives (`Accepted::to_http`), and
//! runs a `Connection` over the stream. The client builds the `CONNECT` with
//! `ExtendedConnect::http2` (`h2::ext::Protocol` carries `:protocol`), checks the answer with
//! `ExtendedConnect::validate`, and runs a client `Connection` over its stream. [`H2Ws`] is the driver both use. What a driver must get right:
//!
//! - **The mapping.** The payloads of the DATA frames received go to `receive`;
//!   `pending_output` goes out as DATA; the peer's END_STREAM is `receive_eof`; when
//!   `wants_transport_close` says so, we end our side with END_STREAM. The DATA frames do not
//!   line up with WebSocket frames in either direction, and need not.
//! - **Flow control, receiving.** HTTP/2 stops the peer after a window of bytes (64 KiB by
//!   default) until we give capacity back. `receive` copies what it is given, so capacity is
//!   released right after it. Data is taken from h2 only when the application asks for the
//!   next event, so a slow application stops the window from reopening: that is the inward
//!   backpressure.
//! - **Flow control, sending.** `send_data` accepts anything and buffers without bound what
//!   the window does not allow, so reserve capacity for the queued output, wait for it, and
//!   send no more than was assigned. `send_text` / `send_binary` then write until the output
//!   is under a bound, without reading, as in `tokio_echo_server`.
//! - **Wake-ups.** One task owns the `Connection` and the stream's two halves; each wait polls
//!   both capacity and data, which registers the task with both before it returns `Pending`.
//!   h2 remembers a capacity increase until `poll_capacity` is called, so an increase between
//!   `capacity()` and `poll_capacity` is not lost either.
//! - **The client waits for the server's SETTINGS** before it uses `:protocol` (RFC 8441 §3).
//!   The server's SETTINGS is the first frame it sends, so once a PING round trip is done, it
//!   has been read.
//! - **The h2 connection must keep being polled** (the server's `accept` loop, the client's
//!   `Connection` future in its own task), or no stream makes progress.
//! - **No leftover.** The handshake is the HEADERS exchange; every DATA byte belongs to the
//!   WebSocket.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use h2::ext::Protocol;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use tokio::net::{TcpListener, TcpStream};
use wsmachine::handshake::{Accept, ClientOptions, ExtendedConnect, Request, Url};
use wsmachine::{Bytes, CloseCode, Config, Connection, Event, Payload, ReadyState, TextPayload};

/// How long a peer may stay silent once closing has started (waiting for its Close, or for
/// the server's END_STREAM after the closing handshake) before the stream is reset.
pub const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// The bound on the connection's `buffered_amount` above which sends wait.
pub const MAX_BUFFERED: usize = 256 * 1024;

/// The most send capacity asked for at once (h2 counts windows in `u32`).
const MAX_RESERVE: usize = 1 << 20;

/// The subprotocols the server speaks, in its order of preference.
const PROTOCOLS: [&str; 1] = ["echo"];

#[tokio::main]
async fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Err(e) = serve(stream).await {
                    eprintln!("server: {e}");
                }
            });
        }
    });

    let mut ws = connect(addr, "/echo", &["echo"]).await?;
    println!(
        "connected over HTTP/2, subprotocol {:?}",
        ws.conn().negotiated().protocol()
    );
    ws.send_text("hello over HTTP/2").await?;
    while let Some(event) = ws.next_event().await? {
        match event {
            Event::Text(text) => {
                println!("echo: {text}");
                ws.close(CloseCode::NORMAL, "done")?;
            }
            Event::Closed(outcome) => println!(
                "closed: {} {:?} (clean: {})",
                outcome.code,
                outcome.reason.as_str(),
                outcome.clean
            ),
            _ => {}
        }
    }
    Ok(())
}

/// A WebSocket over one HTTP/2 stream, driven by one task.
pub struct H2Ws {
    conn: Connection,
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// The peer's END_STREAM (or a reset) was seen.
    eof: bool,
    /// Our END_STREAM was sent: `next_event` returns `None`.
    done: bool,
}

/// What one wait on the stream produced.
enum Io {
    /// Send capacity assigned to the stream, in bytes.
    Capacity(usize),
    Data(Bytes),
    End,
}

impl H2Ws {
    /// A WebSocket over a stream whose extended CONNECT was answered with `200`.
    pub fn new(conn: Connection, send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self {
            conn,
            send,
            recv,
            eof: false,
            done: false,
        }
    }

    /// The connection, for its getters.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, to queue frames without waiting; `next_event` writes them.
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Queues a text message, then writes until the output is under [`MAX_BUFFERED`].
    pub async fn send_text<'a>(&mut self, text: impl Into<TextPayload<'a>>) -> io::Result<()> {
        self.conn.send_text(text).map_err(io::Error::other)?;
        self.write_until_room().await
    }

    /// Queues a binary message, then writes until the output is under [`MAX_BUFFERED`].
    pub async fn send_binary<'a>(&mut self, data: impl Into<Payload<'a>>) -> io::Result<()> {
        self.conn.send_binary(data).map_err(io::Error::other)?;
        self.write_until_room().await
    }

    /// Queues a Close frame; keep calling [`next_event`](Self::next_event) until `None`.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> io::Result<()> {
        self.conn.close(code, reason).map_err(io::Error::other)
    }

    /// The next event, sending pending output and receiving DATA as needed; `None` once the
    /// connection is over and our side of the stream ended. Cancel-safe: a completed wait is
    /// acted on before the next `.await`.
    pub async fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            if let Some(event) = self.conn.poll_event() {
                return Ok(Some(event));
            }
            if self.done {
                return Ok(None);
            }
            if self.conn.wants_transport_close()
                || (self.eof && self.conn.pending_output().is_empty())
            {
                // END_STREAM on our side. It fails only if the stream was reset meanwhile.
                let _ = self.send.send_data(Bytes::new(), true);
                self.done = true;
                continue;
            }
            let read = !self.eof;
            let closing = self.conn.state() != ReadyState::Open;
            let io = poll_fn(|cx| self.poll_io(cx, read));
            let io = if closing {
                // A peer silent for CLOSE_WAIT (no Close reply, or no END_STREAM from the
                // server after the closing handshake) is given up: reset the stream.
                match tokio::time::timeout(CLOSE_WAIT, io).await {
                    Ok(io) => io,
                    Err(_elapsed) => {
                        self.conn.receive_eof();
                        self.send.send_reset(h2::Reason::CANCEL);
                        self.done = true;
                        continue;
                    }
                }
            } else {
                io.await
            };
            match io? {
                Io::Capacity(capacity) => self.send_output(capacity)?,
                Io::Data(data) => {
                    self.conn.receive(&data);
                    // The connection has its own copy now: let the peer send that much more.
                    let _ = self.recv.flow_control().release_capacity(data.len());
                }
                Io::End => {
                    self.eof = true;
                    self.conn.receive_eof();
                }
            }
        }
    }

    /// Sends output until it is under the bound, without reading.
    async fn write_until_room(&mut self) -> io::Result<()> {
        while self.conn.buffered_amount() > MAX_BUFFERED {
            if let Io::Capacity(capacity) = poll_fn(|cx| self.poll_io(cx, false)).await? {
                self.send_output(capacity)?;
            }
        }
        Ok(())
    }

    /// Sends at most `capacity` bytes of the pending output as DATA.
    fn send_output(&mut self, capacity: usize) -> io::Result<()> {
        let output = self.conn.pending_output();
        let n = output.len().min(capacity);
        self.send
            .send_data(Bytes::copy_from_slice(&output[..n]), false)
            .map_err(io::Error::other)?;
        self.conn.consume_output(n);
        Ok(())
    }

    /// Waits for the first of: send capacity (while there is output), DATA or END_STREAM (if
    /// `read`). Both are polled, so the task is registered with both before `Pending`.
    fn poll_io(&mut self, cx: &mut Context<'_>, read: bool) -> Poll<io::Result<Io>> {
        let queued = self.conn.buffered_amount();
        if queued > 0 {
            // A total, not an increment; it shrinks as data is sent.
            self.send.reserve_capacity(queued.min(MAX_RESERVE));
            match self.send.capacity() {
                0 => match self.send.poll_capacity(cx) {
                    Poll::Ready(Some(Ok(capacity))) => {
                        return Poll::Ready(Ok(Io::Capacity(capacity)));
                    }
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(stream_error(e))),
                    Poll::Ready(None) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::BrokenPipe,
                            "the stream was closed for sending",
                        )));
                    }
                    Poll::Pending => {}
                },
                capacity => return Poll::Ready(Ok(Io::Capacity(capacity))),
            }
        }
        if read {
            match self.recv.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => return Poll::Ready(Ok(Io::Data(data))),
                // A reset is the end of the transport, like a TCP RST: the outcome is 1006.
                Poll::Ready(Some(Err(e))) if e.is_reset() => return Poll::Ready(Ok(Io::End)),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(stream_error(e))),
                Poll::Ready(None) => return Poll::Ready(Ok(Io::End)),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }
}

fn stream_error(e: h2::Error) -> io::Error {
    if e.is_io() {
        e.into_io()
            .unwrap_or_else(|| io::Error::other("h2 I/O error"))
    } else {
        io::Error::other(e)
    }
}

// ---- server ----

/// Serves one HTTP/2 connection (cleartext, prior knowledge); each extended CONNECT gets its
/// own task. Returns when the client closes the connection.
pub async fn serve(stream: TcpStream) -> Result<(), h2::Error> {
    let _ = stream.set_nodelay(true);
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake(stream)
        .await?;
    // Polling `accept` also drives the connection for every stream already accepted.
    while let Some(request) = connection.accept().await {
        let (request, respond) = request?;
        tokio::spawn(async move {
            if let Err(e) = handle(request, respond).await {
                eprintln!("stream: {e}");
            }
        });
    }
    Ok(())
}

/// Validates an extended CONNECT, answers it, and echoes messages on the stream.
pub async fn handle(
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) -> io::Result<()> {
    let protocol = request.extensions().get::<Protocol>().map(Protocol::as_str);
    let ws_request = match Request::from_extended_connect(&request, protocol) {
        Ok(ws_request) => ws_request,
        Err(rejection) => {
            let reason = rejection.to_string();
            let (parts, body) = rejection
                .response()
                .to_http()
                .map_err(io::Error::other)?
                .into_parts();
            let response = http::Response::from_parts(parts, ());
            let mut send = respond
                .send_response(response, body.is_empty())
                .map_err(io::Error::other)?;
            if !body.is_empty() {
                send.send_data(Bytes::from(body), true)
                    .map_err(io::Error::other)?;
            }
            return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
        }
    };
    // The application's checks go here: path, `Origin`, cookies.
    let accept = Accept::new().protocol(ws_request.select_protocol(&PROTOCOLS));
    let accepted = ws_request.accept(&accept).map_err(io::Error::other)?;
    let response = accepted.to_http().map_err(io::Error::other)?;
    let negotiated = accepted.negotiated;
    let send = respond
        .send_response(response, false)
        .map_err(io::Error::other)?;
    let conn = Connection::server(negotiated, Config::default());
    let mut ws = H2Ws::new(conn, send, request.into_body());
    while let Some(event) = ws.next_event().await? {
        match event {
            Event::Text(text) => ws.send_text(text).await?,
            Event::Binary(data) => ws.send_binary(data).await?,
            _ => {}
        }
    }
    Ok(())
}

// ---- client ----

/// Opens an HTTP/2 connection to `addr` and a WebSocket on it at `path`, offering
/// `protocols`.
pub async fn connect(addr: SocketAddr, path: &str, protocols: &[&str]) -> io::Result<H2Ws> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (client, mut connection) = h2::client::handshake(stream).await.map_err(stream_error)?;
    let mut ping_pong = connection.ping_pong().expect("taken once");
    // The connection does the I/O for every stream: it runs in its own task.
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("h2 connection: {e}");
        }
    });
    // RFC 8441 §3: `:protocol` only after the server's SETTINGS allowed it. That SETTINGS is
    // the first frame the server sends, so it has been read once a PING comes back.
    ping_pong
        .ping(h2::Ping::opaque())
        .await
        .map_err(stream_error)?;
    if !client.is_extended_connect_protocol_enabled() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the server does not support RFC 8441",
        ));
    }
    let mut client = client.ready().await.map_err(stream_error)?;

    let url = Url::parse(&format!("ws://{addr}{path}"))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let options = protocols
        .iter()
        .fold(ClientOptions::new(), |options, p| options.protocol(*p));
    let connect = ExtendedConnect::http2(&url, options)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut request = connect.request();
    request
        .extensions_mut()
        .insert(Protocol::from_static(ExtendedConnect::PROTOCOL));
    let (response, send) = client.send_request(request, false).map_err(stream_error)?;
    let response = response.await.map_err(stream_error)?;
    // RFC 8441 §5, RFC 6455 §4.1: a 2xx whose subprotocol and extensions we offered.
    let negotiated = connect
        .validate(&response)
        .map_err(|e| io::Error::new(io::ErrorKind::ConnectionRefused, e))?;
    let conn = Connection::client(negotiated, Config::default());
    Ok(H2Ws::new(conn, send, response.into_body()))
}
