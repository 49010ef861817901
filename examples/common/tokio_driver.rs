//! An async driver for wsmachine under tokio, shared by the tokio and hyper examples: the
//! integration guide's tokio example, not part of the crate.
//!
//! [`AsyncWs`] owns one [`Connection`] and one transport (anything `AsyncRead + AsyncWrite`: a
//! `TcpStream`, hyper's upgraded IO, a TLS stream) and is driven by one task.
//!
//! # What a driver must get right
//!
//! - **The contract.** After every `receive` and every send, drain `poll_event` and write
//!   `pending_output` before waiting on the transport again. Input makes output too (the
//!   automatic Pong, the Close reply), so [`AsyncWs::next_event`] writes while it reads.
//! - **Leftover bytes.** Whatever followed the handshake in the same read belongs to the
//!   connection: [`AsyncWs::accept`] and [`AsyncWs::client`] feed it before anything else.
//! - **Backpressure.** When the peer stops reading, output must not grow without bound.
//!   [`AsyncWs::send_text`] and [`AsyncWs::send_binary`] queue the message, then write until
//!   [`buffered_amount`](Connection::buffered_amount) is back under a bound
//!   ([`AsyncWs::with_max_buffered`]), and they do not read meanwhile: a loop that answers what
//!   it reads (the echo server) stops reading while its answers cannot be written, and the
//!   peer's writes stall in TCP instead of in our memory. Input is read only when the
//!   application asks for the next event, so a slow consumer stops the reading too.
//! - **No deadlock in full duplex.** If both peers stopped reading while they have much to
//!   write, they would wait on each other forever. So `next_event` always reads *and* writes,
//!   and a loop that must keep receiving while a large output drains (a client streaming
//!   uploads, a chat server relaying) takes new messages only while [`AsyncWs::has_room`], and
//!   queues them with [`conn_mut`](AsyncWs::conn_mut)`().send_text(..)` without waiting; the
//!   next `next_event` writes them (see `examples/tokio_client.rs`).
//! - **No lost wake-ups.** One task owns the connection and the transport, so there is no
//!   cross-task notification to lose: every change to the connection (`receive`, a send,
//!   `consume_output`) is made by that task, between two waits, and each wait is built from the
//!   state after the change — it polls the write side whenever output is pending and the read
//!   side whenever input is wanted, registering the task's waker with both before it returns
//!   `Pending`. Other tasks hand messages over through a channel whose `recv()` sits in the same
//!   `select!`, and a channel stores what was sent before anyone waited. (With a split reader
//!   task and writer task instead, the reader must wake the writer after *every* `receive`,
//!   with something that remembers a wake-up given before the writer waits, such as
//!   `tokio::sync::Notify::notify_one`.)
//! - **Cancel safety.** `next_event` may be dropped at any `.await` — in `select!`, under
//!   `tokio::time::timeout` — without losing data: it hands a completed read to `receive` and
//!   a completed write to `consume_output` before it awaits again, and a dropped read or write
//!   moved no bytes. So `tokio::time::timeout(d, ws.next_event())` is "the next event or a
//!   timeout", and `next_event` can sit in a `select!` beside other work. A `send_*` dropped
//!   while it waits leaves its message queued: the next `next_event` writes it.
//! - **Flushing.** Writes are flushed (`poll_flush`) once the output is empty, for transports
//!   that buffer, like TLS.
//! - **Timers.** wsmachine has no clock; the driver brings one. Every wait also ends at the
//!   connection's `poll_timeout()` (times since the driver's start), and then the driver calls
//!   `handle_timeout(now)`: the connection sends its keepalive Pings, gives up on a peer that
//!   let a timer run out (outcome 1006), and says when a client has waited long enough for
//!   the server to close the transport. Which timers run is the `Config`'s choice
//!   (`keepalive_interval`, `pong_timeout`, `idle_timeout`, `close_timeout`).
#![allow(dead_code)]

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use wsmachine::handshake::{
    Accept, ClientHandshake, ClientOptions, Request, Response, ServerHandshake, Status, Url,
};
use wsmachine::{CloseCode, Config, Connection, Event, Payload, TextPayload};

/// The default bound on [`Connection::buffered_amount`] above which sends wait.
pub const DEFAULT_MAX_BUFFERED: usize = 256 * 1024;

/// The size of the read buffer.
const READ_BUF: usize = 32 * 1024;

/// A WebSocket connection over an async transport, driven by one task.
pub struct AsyncWs<S> {
    io: S,
    conn: Connection,
    buf: Vec<u8>,
    max_buffered: usize,
    /// Bytes were written since the last flush.
    unflushed: bool,
    /// The transport's end of stream was seen.
    eof: bool,
    /// The transport is shut down: `next_event` returns `None`.
    done: bool,
    /// The origin of the connection's clock (its timers take durations since it).
    start: Instant,
}

/// What one wait on the transport produced.
enum Io {
    Read(usize),
    Wrote(usize),
    Flushed,
}

impl AsyncWs<TcpStream> {
    /// Connects to a `ws://` URL and runs the client handshake (`wss://` needs a TLS stream:
    /// connect it yourself and use [`client`](Self::client)).
    pub async fn connect(url: &str, options: ClientOptions, config: Config) -> io::Result<Self> {
        let url = Url::parse(url).map_err(|e| invalid_input(e.to_string()))?;
        if url.is_tls() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "wss:// needs a TLS layer",
            ));
        }
        let stream = TcpStream::connect((url.host(), url.port())).await?;
        stream.set_nodelay(true)?;
        Self::client(stream, &url, options, config).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWs<S> {
    /// Runs the server handshake on `stream`. `choose` sees the validated request and returns
    /// the `Accept` to answer with, or `None` to refuse it with `403`. A refused or invalid
    /// request gets its error response before the error is returned. Bound the whole call
    /// with `tokio::time::timeout`: a client may never finish its request.
    pub async fn accept(
        mut stream: S,
        config: Config,
        choose: impl FnOnce(&Request) -> Option<Accept>,
    ) -> io::Result<Self> {
        let mut handshake = ServerHandshake::default();
        let mut buf = vec![0; READ_BUF];
        let request = loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            match handshake.receive(&buf[..n]) {
                Ok(Status::Complete(request)) => break request,
                Ok(Status::Partial) => {}
                Err(rejection) => {
                    let reason = rejection.to_string();
                    stream.write_all(&rejection.response().to_bytes()).await?;
                    stream.shutdown().await?;
                    return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
                }
            }
        };
        let Some(accept) = choose(&request) else {
            let refusal = Response::new(403).map_err(io::Error::other)?;
            stream
                .write_all(&refusal.with_body("forbidden").to_bytes())
                .await?;
            stream.shutdown().await?;
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "refused"));
        };
        let accepted = request.accept(&accept).map_err(io::Error::other)?;
        stream.write_all(&accepted.to_bytes()).await?;
        stream.flush().await?; // a buffering transport (TLS) would otherwise hold the 101
        let mut conn = Connection::server(accepted.negotiated, config);
        // Frames the client sent right behind its request: never drop them.
        conn.receive(&accepted.leftover);
        Ok(Self::new(stream, conn))
    }

    /// Runs the client handshake for `url` on a connected `stream`.
    pub async fn client(
        mut stream: S,
        url: &Url,
        options: ClientOptions,
        config: Config,
    ) -> io::Result<Self> {
        let mut handshake =
            ClientHandshake::new(url, options).map_err(|e| invalid_input(e.to_string()))?;
        stream.write_all(handshake.request_bytes()).await?;
        stream.flush().await?;
        let mut buf = vec![0; READ_BUF];
        let established = loop {
            let n = stream.read(&mut buf).await?;
            let result = if n == 0 {
                handshake.receive_eof().map(|()| Status::Partial)
            } else {
                handshake.receive(&buf[..n])
            };
            match result {
                Ok(Status::Complete(established)) => break established,
                Ok(Status::Partial) if n > 0 => {}
                Ok(Status::Partial) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        };
        let mut conn = Connection::client(established.negotiated, config);
        // The server's first frames may have come with its response.
        conn.receive(&established.leftover);
        Ok(Self::new(stream, conn))
    }

    /// Wraps a transport whose handshake is done (hyper's upgraded IO, say) and its
    /// connection, which must already have been fed any bytes read past the handshake.
    pub fn new(io: S, conn: Connection) -> Self {
        Self {
            io,
            conn,
            buf: vec![0; READ_BUF],
            max_buffered: DEFAULT_MAX_BUFFERED,
            unflushed: false,
            eof: false,
            done: false,
            start: Instant::now(),
        }
    }

    /// Sets the bound on [`Connection::buffered_amount`] above which sends wait
    /// (default [`DEFAULT_MAX_BUFFERED`]).
    pub fn with_max_buffered(mut self, max_buffered: usize) -> Self {
        self.max_buffered = max_buffered;
        self
    }

    /// The connection, for its getters (`state`, `buffered_amount`, `negotiated`).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, to queue frames without waiting (`send_ping`, fragments, or messages in
    /// a full-duplex loop behind [`has_room`](Self::has_room)). `next_event` writes them.
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Whether the output is at most the bound: a full-duplex loop takes its next outgoing
    /// message only then (`msg = rx.recv(), if ws.has_room() => ...` in `select!`).
    pub fn has_room(&self) -> bool {
        self.conn.buffered_amount() <= self.max_buffered
    }

    /// Queues a text message, then writes until the output is under the bound. It does not
    /// read meanwhile: that is the backpressure of a loop that answers what it reads.
    pub async fn send_text<'a>(&mut self, text: impl Into<TextPayload<'a>>) -> io::Result<()> {
        self.conn.send_text(text).map_err(io::Error::other)?;
        self.write_until_room().await
    }

    /// Queues a binary message, then writes until the output is under the bound (see
    /// [`send_text`](Self::send_text)).
    pub async fn send_binary<'a>(&mut self, data: impl Into<Payload<'a>>) -> io::Result<()> {
        self.conn.send_binary(data).map_err(io::Error::other)?;
        self.write_until_room().await
    }

    /// Starts the closing handshake: queues a Close frame. Keep calling
    /// [`next_event`](Self::next_event) until `None`: it writes the Close, delivers the
    /// messages the peer sent before its own Close, and ends with `Event::Closed`.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> io::Result<()> {
        self.conn.close(code, reason).map_err(io::Error::other)
    }

    /// Echoes every text and binary message as the same type until the connection ends,
    /// waiting for room in the output before taking the next message (backpressure).
    pub async fn echo_all(mut self) -> io::Result<()> {
        while let Some(event) = self.next_event().await? {
            match event {
                Event::Text(text) => self.send_text(text).await?,
                Event::Binary(data) => self.send_binary(data).await?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The next event, writing pending output and reading as needed; `None` once the
    /// connection is over and the transport shut down. Cancel-safe (see the module docs).
    pub async fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            if let Some(event) = self.conn.poll_event() {
                return Ok(Some(event));
            }
            if self.done {
                return Ok(None);
            }
            let nothing_to_write = self.conn.pending_output().is_empty() && !self.unflushed;
            if self.conn.wants_transport_close() || (self.eof && nothing_to_write) {
                self.shut_down().await;
                return Ok(None);
            }
            let read = !self.eof;
            // The wait ends at the connection's next timer (keepalive, Pong deadline, idle
            // and close timeouts, as its `Config` sets them), on this driver's clock.
            let deadline = self.conn.poll_timeout().map(|at| self.start + at);
            let io = poll_fn(|cx| self.poll_io(cx, read));
            let io = match deadline {
                None => io.await,
                Some(deadline) => match tokio::time::timeout_at(deadline.into(), io).await {
                    Ok(io) => io,
                    Err(_elapsed) => {
                        self.conn.handle_timeout(self.start.elapsed());
                        continue;
                    }
                },
            };
            match io {
                Ok(Io::Read(0)) => self.end_of_stream(),
                Ok(Io::Read(n)) => self.conn.receive(&self.buf[..n]),
                Ok(Io::Wrote(n)) => self.conn.consume_output(n),
                Ok(Io::Flushed) => {}
                // The peer is gone: report 1006 like an end of stream; nothing more can be
                // written.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                    ) =>
                {
                    self.end_of_stream();
                    self.done = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes until the output is under the bound, without reading.
    async fn write_until_room(&mut self) -> io::Result<()> {
        while !self.has_room() {
            match poll_fn(|cx| self.poll_io(cx, false)).await? {
                Io::Wrote(n) => self.conn.consume_output(n),
                Io::Read(_) | Io::Flushed => {}
            }
        }
        Ok(())
    }

    /// Waits for the first of: some output written (while there is output), the output
    /// flushed (once it is all written), some input read (if `read`). Each direction
    /// registers the task's waker before this returns `Pending`.
    fn poll_io(&mut self, cx: &mut Context<'_>, read: bool) -> Poll<io::Result<Io>> {
        let output = self.conn.pending_output();
        if !output.is_empty() {
            if let Poll::Ready(result) = Pin::new(&mut self.io).poll_write(cx, output) {
                return Poll::Ready(match result {
                    Ok(0) => Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        self.unflushed = true;
                        Ok(Io::Wrote(n))
                    }
                    Err(e) => Err(e),
                });
            }
        } else if self.unflushed {
            if let Poll::Ready(result) = Pin::new(&mut self.io).poll_flush(cx) {
                self.unflushed = false;
                return Poll::Ready(result.map(|()| Io::Flushed));
            }
        }
        if read {
            let mut buf = ReadBuf::new(&mut self.buf);
            if let Poll::Ready(result) = Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                return Poll::Ready(result.map(|()| Io::Read(buf.filled().len())));
            }
        }
        Poll::Pending
    }

    fn end_of_stream(&mut self) {
        self.eof = true;
        self.conn.receive_eof();
    }

    /// Shuts the transport down (TCP FIN after the pending output); errors do not matter here.
    async fn shut_down(&mut self) {
        let _ = self.io.shutdown().await;
        self.done = true;
    }
}

fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
