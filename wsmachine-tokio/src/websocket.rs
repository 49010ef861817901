//! [`WebSocket`]: a connection over an async transport, with `recv`/`send`, `Stream` and
//! `Sink`.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use wsmachine::{CloseCode, CloseOutcome, Connection, Negotiated, PreparedMessage, ReadyState};

use crate::driver::{DEFAULT_MAX_BUFFERED, Driver};
use crate::split::{self, ReadHalf, WriteHalf};
use crate::{Error, Message};

/// A WebSocket connection over a transport `S` (a `TcpStream`, a TLS stream, hyper's upgraded
/// IO, an HTTP/2 stream): receive with [`recv`](Self::recv) or as a
/// [`Stream`](futures_core::Stream), send with [`send`](Self::send) or as a
/// [`Sink`](futures_sink::Sink).
///
/// # How it runs
///
/// Nothing runs in the background: the connection makes progress while one of its methods is
/// awaited. [`recv`](Self::recv) does the most: it writes pending output (automatic Pongs,
/// the Close reply, what `send` left queued), runs the keepalive, Pong, idle and close
/// timers of the [`Config`](wsmachine::Config) on tokio's clock, reads, and shuts the
/// transport down at the end. So keep a `recv` going (or the reader half, after
/// [`split`](Self::split)) for as long as the connection lives.
///
/// # Backpressure
///
/// Input is read only while `recv` is awaited, and only once the messages already read are
/// taken: a slow consumer stops the reading, and TCP (or HTTP/2 flow control) pushes back on
/// the peer. Output waits in the connection only up to a bound
/// ([`set_max_buffered`](Self::set_max_buffered), default 128 KiB): `send` queues its message
/// and writes until everything is written and flushed (so at most one message waits in
/// memory), and the `Sink`'s `poll_ready` waits, writing, while more than the bound is
/// queued, so `feed`ing many messages holds at most the bound plus one message. A peer that never reads stalls `send` instead of
/// filling memory.
///
/// # Cancel safety
///
/// Every method can be dropped at its `.await` (in `select!`, under a timeout) without
/// losing or repeating a byte: what a poll read is fed to the connection and what it wrote is
/// marked written before the poll returns. Per method: [`recv`](Self::recv) is cancel-safe
/// (no message is lost: one not yet returned stays in the connection). [`send`](Self::send)
/// queues its message exactly once, at its first poll; dropped after that, the message stays
/// queued and the next `recv`, `send` or `flush` writes it (a future dropped before its
/// first poll queued nothing). [`flush`](Self::flush) and [`close`](Self::close) likewise
/// (`close` queues its Close frame at its first poll).
///
/// # The end
///
/// After the closing handshake `recv` returns `None`. A connection that ended otherwise (the
/// peer's protocol error, a timer, the transport ending without a Close) returns one
/// [`Error::Closed`] with the [`CloseOutcome`], then `None`. A transport error is returned
/// once as [`Error::Io`], then `None`. [`close_outcome`](Self::close_outcome) tells how it
/// ended either way.
pub struct WebSocket<S> {
    pub(crate) driver: Driver<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// A WebSocket over a transport whose opening handshake is done, with its connection,
    /// which must already have been fed the bytes read past the handshake (hyper keeps them
    /// inside its upgraded IO; [`accept`](crate::accept) and [`connect`](crate::connect) do
    /// it themselves).
    pub fn from_connection(io: S, conn: Connection) -> Self {
        Self {
            driver: Driver::new(io, conn, DEFAULT_MAX_BUFFERED),
        }
    }

    /// The next message, or `None` once the connection is over (see [the end](Self#the-end)).
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.driver.poll_recv(cx)).await
    }

    /// Queues `message` at its first poll, then writes and flushes all queued output: it
    /// returns once the transport took everything, so a peer that does not read stalls it.
    /// A `Close` starts the closing handshake (keep calling [`recv`](Self::recv) until
    /// `None`). Fails with [`Error::Send`] for a message that cannot be sent (nothing queued),
    /// [`Error::AlreadyClosed`] once the transport is done. Cancel-safe in the sense given
    /// [above](Self#cancel-safety): once polled, the message is queued exactly once.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.driver.start_send(message.into())?;
        self.flush().await
    }

    /// Sends a message encoded once for many connections, as [`send`](Self::send) sends
    /// others: the way to fan one message out to many sockets without encoding (or, with
    /// permessage-deflate, compressing) it for each. See [`PreparedMessage`] for what is
    /// shared.
    ///
    /// ```no_run
    /// # async fn broadcast(sockets: &mut [wsmachine_tokio::WebSocket<tokio::net::TcpStream>]) {
    /// use wsmachine_tokio::PreparedMessage;
    /// let news = PreparedMessage::text("{\"price\":101.5}");
    /// for ws in sockets {
    ///     let _ = ws.send_prepared(&news).await; // a failed socket does not stop the others
    /// }
    /// # }
    /// ```
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.driver.start_send_prepared(message)?;
        self.flush().await
    }

    /// Writes and flushes all queued output. Cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.driver.poll_flush(cx)).await
    }

    /// Starts the closing handshake: queues a Close frame with `code` and `reason` and writes
    /// it. Then keep calling [`recv`](Self::recv) until `None`: it delivers what the peer sent
    /// before its Close and ends the connection. Fails with [`Error::Send`] for a code that
    /// cannot be sent, a reason over 123 bytes, or a second close (nothing queued).
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if !self.driver.conn.is_closed() {
            // Closing twice is the caller's mistake, which the connection reports.
            self.driver.conn.close(code, reason)?;
            self.driver.changes += 1;
        }
        match self.flush().await {
            Err(Error::AlreadyClosed) => Ok(()),
            other => other,
        }
    }

    /// Splits into a reader half and a writer half that can live in two tasks.
    ///
    /// The halves share the connection behind a mutex held only inside a poll, never across
    /// an `.await`. The reader writes what the connection queues in answer to its input
    /// (Pongs, the Close reply) itself, so these go out even while the writer is idle; each
    /// half wakes the other on every change the other may wait for, and both are woken when
    /// the transport is ready, so no wake-up is lost. Timers run while the reader is polled.
    /// [`ReadHalf::reunite`] puts them back together.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        split::split(self.driver)
    }
}

impl<S> WebSocket<S> {
    /// The connection, for its getters (`state`, `buffered_amount`, `negotiated`, ...).
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }

    /// The subprotocol and extensions agreed in the handshake.
    pub fn negotiated(&self) -> &Negotiated {
        self.driver.conn.negotiated()
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.driver.conn.negotiated().protocol()
    }

    /// The connection's state (open, closing, closed).
    pub fn state(&self) -> ReadyState {
        self.driver.conn.state()
    }

    /// Bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        self.driver.conn.buffered_amount()
    }

    /// How the connection ended, once `recv` saw it end.
    pub fn close_outcome(&self) -> Option<&CloseOutcome> {
        self.driver.outcome()
    }

    /// The bound on queued output above which sends wait.
    pub fn max_buffered(&self) -> usize {
        self.driver.max_buffered
    }

    /// Sets the bound on queued output above which sends wait (default 128 KiB).
    pub fn set_max_buffered(&mut self, bytes: usize) {
        self.driver.max_buffered = bytes;
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.driver.io
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().driver.poll_recv(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().driver.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().driver.poll_close(cx)
    }
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("state", &self.driver.conn.state())
            .field("buffered_amount", &self.driver.conn.buffered_amount())
            .finish_non_exhaustive()
    }
}
