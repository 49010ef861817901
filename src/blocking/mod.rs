//! A blocking WebSocket over any `Read + Write` stream (feature `std`): the opening handshake,
//! the driver contract and the connection's timers, in one value.
//!
//! [`WebSocket`] is a thin driver over a [`Connection`]: it knows the stream and the clock,
//! and leaves every protocol rule to the core. It reads only when it must, writes everything
//! the connection queued before it waits for input again, and closes the stream when the
//! connection says so, so the automatic Pong and the Close reply always go out.
//!
//! ```no_run
//! use wsmachine::blocking::WebSocket;
//! use wsmachine::{CloseCode, Event};
//!
//! // A server: one thread per connection, echoing every message.
//! let listener = std::net::TcpListener::bind("127.0.0.1:9001")?;
//! for stream in listener.incoming() {
//!     let stream = stream?;
//!     std::thread::spawn(move || -> Result<(), wsmachine::blocking::Error> {
//!         let mut ws = WebSocket::accept(stream)?;
//!         loop {
//!             match ws.read()? {
//!                 Event::Text(text) => ws.send(text)?,
//!                 Event::Binary(data) => ws.send(data)?,
//!                 Event::Closed(_) => return Ok(()),
//!                 _ => {}
//!             }
//!         }
//!     });
//! }
//!
//! // A client.
//! let mut ws = WebSocket::connect("ws://127.0.0.1:9001/")?;
//! ws.send("Hello")?;
//! if let Event::Text(echo) = ws.read()? {
//!     println!("{echo}");
//! }
//! ws.close(CloseCode::NORMAL, "done")?;
//! while !matches!(ws.read()?, Event::Closed(_)) {}
//! # Ok::<(), wsmachine::blocking::Error>(())
//! ```
//!
//! # Choices
//!
//! - **Events, not a message type.** [`read`](WebSocket::read) returns the core's [`Event`]s
//!   as they come: messages, Pings and Pongs (already answered), the peer's Close, and
//!   [`Event::Closed`] last, once the stream is done with. How the connection ended is that
//!   event (a timeout, a protocol error, a lost transport: 1006), not an [`Error`]; errors are
//!   the transport's, the handshake's, caller mistakes, and calls after the end
//!   ([`Error::Closed`]).
//! - **Timers on the read timeout.** Times are [`Instant`]s since the connection's start; each
//!   read waits at most until [`Connection::poll_timeout`], then the driver calls
//!   [`Connection::handle_timeout`]: keepalive Pings, the pong and idle deadlines and the close
//!   timeout run while the caller sits in `read`. Streams say how to bound a read through the
//!   [`Transport`] trait ([`TcpStream`](std::net::TcpStream) does; wrap others in
//!   [`WithTimeout`]). The timers do not run while the caller is not in `read` or a send.
//! - **Sends write through.** Each send queues the frame and writes all queued output before
//!   it returns, so a peer that stops reading blocks the sender in `write` (TCP backpressure,
//!   no unbounded buffer). A blocking driver cannot read while it writes: two peers that both
//!   send large amounts without reading can deadlock, as with any blocking socket code; give
//!   the stream a write timeout if that matters.
//! - **The end.** After the closing handshake a server ends the stream at once; a client
//!   waits for the server to end it first (RFC 6455 §7.1.1), at most
//!   [`Config::close_timeout`](crate::Config::close_timeout), inside the `read` that returns
//!   [`Event::Closed`]. If the peer resets the stream, or a write finds it gone, the
//!   connection sees the end of the stream (1006) and the output is dropped.
//! - **A bounded handshake.** Both roles give the peer
//!   [10 seconds](DEFAULT_HANDSHAKE_TIMEOUT) by default to complete the opening handshake
//!   ([`AcceptOptions::handshake_timeout`], [`ConnectOptions::handshake_timeout`]). A server
//!   answers a bad request with the core's refusal (`400`, `403`, `426`, ...) and returns
//!   [`Error::Request`].
//! - **No TLS here.** [`connect`](WebSocket::connect) dials `ws://` over TCP;
//!   for `wss://`, open a TLS stream yourself and hand it to [`client`](WebSocket::client).

mod error;
mod opening;
mod options;
mod transport;

use alloc::vec;
use alloc::vec::Vec;
use std::io::{self, IoSlice};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::close::CloseCode;
use crate::connection::{Connection, Event, MessageKind, Payload, TextPayload};
use crate::text::Text;

pub use error::Error;
pub use options::{AcceptOptions, ConnectOptions, DEFAULT_HANDSHAKE_TIMEOUT};
pub use transport::{Transport, WithTimeout};

/// How much one read takes from the stream.
const READ_BUFFER: usize = 64 * 1024;

/// The shortest read timeout: zero means "no timeout" to `set_read_timeout` (and is refused
/// by `TcpStream`), so a timer due in less than this waits this long.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// A message to send with [`WebSocket::send`]; built from `&str`, `String` and [`Text`]
/// (text), `Vec<u8>`, `&[u8]` and [`Bytes`] (binary).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// A text message.
    Text(Text),
    /// A binary message.
    Binary(Bytes),
    /// A Ping (at most 125 bytes).
    Ping(Bytes),
    /// An unsolicited Pong (at most 125 bytes).
    Pong(Bytes),
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<alloc::string::String> for Message {
    fn from(text: alloc::string::String) -> Self {
        Self::Text(text.into())
    }
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Self::Text(text)
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Self::Binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Self::Binary(data.into())
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(data))
    }
}

/// A WebSocket over a blocking stream: [`accept`](Self::accept) on a server,
/// [`connect`](Self::connect) or [`client`](Self::client) on a client, then
/// [`read`](Self::read) and the sends. See the [module docs](self) for the choices it makes.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
    /// The connection's timers count from here.
    start: Instant,
    buf: Vec<u8>,
    /// The read timeout the stream was last given (`None`: not set yet).
    read_timeout: Option<Option<Duration>>,
    /// The stream ended (end of stream, reset, or a write found it gone).
    eof: bool,
    /// A write found the stream gone: output is dropped from now on.
    broken: bool,
    /// `read` returned `Event::Closed`.
    closed: bool,
}

impl<S: Transport> WebSocket<S> {
    /// Drives a `conn` whose opening handshake happened elsewhere (an HTTP server's upgrade)
    /// over `stream`. Its timers start now.
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        Self::new(stream, conn, vec![0; READ_BUFFER], None)
    }

    fn new(
        stream: S,
        conn: Connection,
        buf: Vec<u8>,
        read_timeout: Option<Option<Duration>>,
    ) -> Self {
        Self {
            stream,
            conn,
            start: Instant::now(),
            buf,
            read_timeout,
            eof: false,
            broken: false,
            closed: false,
        }
    }

    /// The next event, reading from the stream as needed; [`Event::Closed`] is the last one,
    /// and calls after it fail with [`Error::Closed`].
    ///
    /// Before it waits, it writes everything queued (the automatic Pong, the Close reply); while
    /// it waits, the connection's timers run. The `read` that returns `Event::Closed` has
    /// written the last output and ended the stream (a client first waits, at most the close
    /// timeout, for the server to end it: RFC 6455 §7.1.1).
    pub fn read(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(event) = self.read_until(None)? {
                return Ok(event);
            }
        }
    }

    /// [`read`](Self::read), waiting at most `timeout`: `Ok(None)` if no event came by then
    /// (queued output was written and the timers ran all the same). For a loop that has other
    /// work between reads. The read that returns [`Event::Closed`] may take longer: a client
    /// waits there for the server to end the stream.
    pub fn read_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, Error> {
        self.read_until(Some(Instant::now() + timeout))
    }

    fn read_until(&mut self, deadline: Option<Instant>) -> Result<Option<Event>, Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        loop {
            if let Some(event) = self.conn.poll_event() {
                if matches!(event, Event::Closed(_)) {
                    self.closed = true;
                    self.finish();
                }
                return Ok(Some(event));
            }
            match self.write_output() {
                Err(Error::Io(e)) if !self.broken => return Err(Error::Io(e)),
                // The stream is gone: the connection now sees its end and reports it.
                Err(_) | Ok(()) => {}
            }
            let left = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(None),
                },
                None => None,
            };
            self.wait(left)?;
        }
    }

    /// Sends a message (text, binary, Ping or Pong) and writes it out.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        match message.into() {
            Message::Text(text) => self.conn.send_text(text)?,
            Message::Binary(data) => self.conn.send_binary(data)?,
            Message::Ping(payload) => self.conn.send_ping(&payload)?,
            Message::Pong(payload) => self.conn.send_pong(&payload)?,
        }
        self.flush()
    }

    /// Sends a text message and writes it out.
    pub fn send_text<'a>(&mut self, text: impl Into<TextPayload<'a>>) -> Result<(), Error> {
        self.conn.send_text(text)?;
        self.flush()
    }

    /// Sends a binary message and writes it out.
    pub fn send_binary<'a>(&mut self, data: impl Into<Payload<'a>>) -> Result<(), Error> {
        self.conn.send_binary(data)?;
        self.flush()
    }

    /// Sends a message encoded once for many connections and writes it out (see
    /// [`PreparedMessage`](crate::PreparedMessage) for what is shared).
    pub fn send_prepared(&mut self, message: &crate::PreparedMessage) -> Result<(), Error> {
        self.conn.send_prepared(message)?;
        self.flush()
    }

    /// Sends one fragment of a message (RFC 6455 §5.4) and writes it out: the first opens a
    /// message of `kind`, `fin` ends it. See [`Connection::send_fragment`].
    pub fn send_fragment<'a>(
        &mut self,
        kind: MessageKind,
        data: impl Into<Payload<'a>>,
        fin: bool,
    ) -> Result<(), Error> {
        self.conn.send_fragment(kind, data, fin)?;
        self.flush()
    }

    /// Sends a Ping (at most 125 bytes) and writes it out; its Pong arrives as
    /// [`Event::Pong`].
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.send_ping(payload)?;
        self.flush()
    }

    /// Sends an unsolicited Pong (at most 125 bytes) and writes it out.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.send_pong(payload)?;
        self.flush()
    }

    /// Starts the closing handshake with `code` and `reason` and writes the Close out; then
    /// [`read`](Self::read) until [`Event::Closed`] (messages that were already on their way
    /// still arrive before it). The peer has [`Config::close_timeout`](crate::Config) to
    /// answer.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush()
    }

    /// Writes everything the connection queued. The sends call it; it is needed only after
    /// changing the connection by other means.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.write_output()
    }

    /// The connection: its state, what was negotiated, its configuration.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably. Reading or writing it directly corrupts the WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream, and with it the end of the connection: queued output that was not written
    /// is lost.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Writes all queued output; if the stream turns out to be gone, drops the output and
    /// lets the connection see the end of the stream.
    fn write_output(&mut self) -> Result<(), Error> {
        while self.conn.buffered_amount() > 0 {
            if self.broken {
                self.conn.consume_output(self.conn.buffered_amount());
                break;
            }
            let mut slices = [IoSlice::new(&[]); 16];
            let count = self.conn.pending_output_vectored(&mut slices);
            match self.stream.write_vectored(&slices[..count]) {
                Ok(0) => return Err(self.lost(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.conn.consume_output(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_disconnect(&e) => return Err(self.lost(e)),
                Err(e) => return Err(e.into()),
            }
        }
        if !self.broken {
            self.stream.flush()?;
        }
        Ok(())
    }

    /// The stream is gone (a write failed for good): nothing more goes out or comes in.
    fn lost(&mut self, e: io::Error) -> Error {
        self.broken = true;
        self.conn.consume_output(self.conn.buffered_amount());
        self.end_of_stream();
        Error::Io(e)
    }

    fn end_of_stream(&mut self) {
        self.eof = true;
        self.conn.receive_eof();
    }

    /// One wait: read until the connection's next timer (or at most `limit`), feed what came,
    /// run the timers.
    fn wait(&mut self, limit: Option<Duration>) -> Result<(), Error> {
        let now = self.start.elapsed();
        let wait = match self.conn.poll_timeout() {
            // A timer is due, or an event started one that needs the time: no reading.
            Some(at) if at <= now => {
                self.conn.handle_timeout(now);
                return Ok(());
            }
            Some(at) => Some(at - now),
            None => None,
        };
        let wait = match (wait, limit) {
            (Some(wait), Some(limit)) => Some(wait.min(limit)),
            (wait, limit) => wait.or(limit),
        }
        .map(|wait| wait.max(MIN_WAIT));
        if self.eof {
            // Nothing more can arrive: only a timer can still change the connection.
            let Some(wait) = wait else {
                self.closed = true;
                return Err(Error::Closed);
            };
            std::thread::sleep(wait);
        } else {
            set_read_timeout(&mut self.stream, &mut self.read_timeout, wait)?;
            match self.stream.read(&mut self.buf) {
                Ok(0) => self.end_of_stream(),
                Ok(n) => self.conn.receive(&self.buf[..n]),
                Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
                // A reset is the end of the stream without a closing handshake: 1006.
                Err(e) if is_disconnect(&e) => self.end_of_stream(),
                Err(e) => return Err(e.into()),
            }
        }
        self.conn.handle_timeout(self.start.elapsed());
        Ok(())
    }

    /// After `Event::Closed`: the last output, the wait for the server to end the stream
    /// (clients), then the end of the stream.
    fn finish(&mut self) {
        let _ = self.write_output();
        // RFC 6455 §7.1.1: the server ends the TCP connection first; the connection says when
        // a client has waited long enough (the close timeout).
        while !self.conn.wants_transport_close() && !self.eof && !self.broken {
            if self.wait(None).is_err() {
                break;
            }
        }
        let _ = self.stream.shutdown();
    }
}

/// Sets the stream's read timeout unless it already has that one (one system call saved per
/// read when no timer runs).
fn set_read_timeout<S: Transport>(
    stream: &mut S,
    current: &mut Option<Option<Duration>>,
    wait: Option<Duration>,
) -> io::Result<()> {
    if *current != Some(wait) {
        stream.set_read_timeout(wait)?;
        *current = Some(wait);
    }
    Ok(())
}

/// A read that ran out of time: `WouldBlock` on Unix, `TimedOut` on Windows.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The peer is gone: the stream ended without a FIN.
fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
