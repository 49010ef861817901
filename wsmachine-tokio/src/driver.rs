//! The driver loop: one [`Connection`] over one transport, as poll functions that both the
//! whole [`WebSocket`](crate::WebSocket) and its split halves call.
//!
//! Every function here is synchronous and acts on what a poll completed before it returns, so
//! a future built on them can be dropped at any `.await` without losing a byte: a completed
//! read is already in `receive`, a completed write already in `consume_output`, and a poll
//! that returned `Pending` moved nothing.

use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use wsmachine::{CloseCode, CloseOutcome, Connection, Event};

use crate::{Error, Message};

/// How many bytes one read takes from the transport. The buffer is on the stack of the poll
/// call, not in the connection, so an idle connection holds no read buffer at all; it is
/// never zero-filled (`ReadBuf::uninit`). 64 KiB takes a 16 KiB message and its header in one
/// read (16 KiB took two system calls for it) and a loopback or LAN burst in a few.
const READ_CHUNK: usize = 64 * 1024;

/// How many output pieces one vectored write hands over.
const MAX_SLICES: usize = 16;

/// For a transport without vectored writes: queued pieces are gathered into one write up to
/// this many bytes (a frame's header and its payload, several small frames), so a message is
/// not split into a write per piece. A front piece at least this large is written directly.
/// The size of the output queue's buffers, so a queue of small frames goes out in one write.
const GATHER: usize = 64 * 1024;

/// The default bound on queued output above which sends wait: 128 KiB.
pub const DEFAULT_MAX_BUFFERED: usize = 128 * 1024;

/// One connection and its transport, with the driver's own state.
pub(crate) struct Driver<S> {
    pub(crate) io: S,
    pub(crate) conn: Connection,
    pub(crate) max_buffered: usize,
    /// Bytes were written since the last flush.
    unflushed: bool,
    /// The transport's end of stream was seen (or it failed).
    eof: bool,
    /// The transport is shut down or unusable: nothing more is read or written.
    done: bool,
    /// How the connection ended (its `Event::Closed`).
    outcome: Option<CloseOutcome>,
    /// A transport error to report once from `recv`, before the end.
    error: Option<Error>,
    /// The end was reported by `recv`: it returns `None` from now on.
    reported: bool,
    /// The origin of the connection's clock: its timers take durations since it.
    start: Instant,
    /// The timer's sleep, allocated the first time a timer runs.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Bumped on every change that the other half may wait for (input taken, output written,
    /// a timer acted): the split halves wake each other when it moves.
    pub(crate) changes: u64,
}

impl<S> Driver<S> {
    /// How the connection ended, once it has.
    pub(crate) fn outcome(&self) -> Option<&CloseOutcome> {
        self.outcome.as_ref()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    pub(crate) fn new(io: S, conn: Connection, max_buffered: usize) -> Self {
        Self {
            io,
            conn,
            max_buffered,
            unflushed: false,
            eof: false,
            done: false,
            outcome: None,
            error: None,
            reported: false,
            start: Instant::now(),
            sleep: None,
            changes: 0,
        }
    }

    /// The next message: takes events, writes pending output, runs the timers, reads, and
    /// shuts the transport down when the connection is over. `None` after a clean end.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if let Some(event) = self.conn.poll_event() {
                // Taking an event can queue output (the reply to the peer's Close).
                self.changes += 1;
                if let Some(message) = self.message(event) {
                    return Poll::Ready(Some(Ok(message)));
                }
                continue;
            }
            if self.done {
                return Poll::Ready(self.end());
            }
            let idle_output = self.conn.pending_output().is_empty() && !self.unflushed;
            if self.conn.wants_transport_close() || (self.eof && idle_output) {
                // RFC 6455 §7.1.1: the server closes the TCP connection first; the client
                // after the server did, or once the close timeout says it waited enough.
                // An error here changes nothing: the connection is over either way.
                let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
                self.done = true;
                self.changes += 1;
                continue;
            }
            if self.poll_timers(cx) {
                continue;
            }
            let had_output = !idle_output;
            match self.poll_write_down_to(cx, 0) {
                Poll::Ready(_) if had_output => continue,
                // A write error ended the transport (`done`): the loop reports the end.
                Poll::Ready(Err(_)) => continue,
                Poll::Ready(Ok(())) | Poll::Pending => {}
            }
            if !self.eof && ready!(self.poll_read(cx)) {
                continue;
            }
            return Poll::Pending;
        }
    }

    /// Turns an event into a message; `None` for the end (recorded) and empty pieces.
    fn message(&mut self, event: Event) -> Option<Message> {
        Some(match event {
            Event::Text(text) => Message::Text(text),
            Event::Binary(data) => Message::Binary(data),
            // Streaming mode (`Config::streaming`): each piece is a message of its own.
            Event::TextChunk { text, .. } => Message::Text(text),
            Event::BinaryChunk { data, .. } => Message::Binary(data),
            Event::Ping(data) => Message::Ping(data),
            Event::Pong(data) => Message::Pong(data),
            Event::Close(frame) if frame.code() == CloseCode::NO_STATUS => Message::Close(None),
            Event::Close(frame) => Message::Close(Some(frame)),
            Event::Closed(outcome) => {
                self.outcome = Some(outcome);
                return None;
            }
            // Events a newer core may add: nothing this driver knows to deliver.
            _ => return None,
        })
    }

    /// What `recv` says once the transport is done: a transport error, then an abnormal end,
    /// once; `None` after that and after a clean end.
    fn end(&mut self) -> Option<Result<Message, Error>> {
        if let Some(error) = self.error.take() {
            self.reported = true;
            return Some(Err(error));
        }
        if self.reported {
            return None;
        }
        self.reported = true;
        match &self.outcome {
            Some(outcome) if !outcome.clean => Some(Err(Error::Closed(outcome.clone()))),
            _ => None,
        }
    }

    /// Runs the connection's timers on tokio's clock; `true` if one acted.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.conn.poll_timeout() else {
            return false;
        };
        let deadline = self.start + at;
        let due = deadline <= Instant::now() || {
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            sleep.as_mut().poll(cx).is_ready()
        };
        if due {
            self.conn.handle_timeout(self.start.elapsed());
            self.changes += 1;
        }
        due
    }

    /// Reads once into a stack buffer and feeds the connection; `Ready(true)` if anything
    /// changed (input, end of stream, failure).
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut storage = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut buf = ReadBuf::uninit(&mut storage);
        match ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf)) {
            Ok(()) if buf.filled().is_empty() => {
                self.eof = true;
                self.conn.receive_eof();
            }
            Ok(()) => self.conn.receive(buf.filled()),
            Err(e) => self.transport_failed(e),
        }
        self.changes += 1;
        Poll::Ready(true)
    }

    /// The transport failed: the connection ends with 1006. A reset or a broken pipe is the
    /// peer going away, reported as the outcome; an HTTP/2 stream reset is reported with its
    /// reason; any other error is reported as itself.
    fn transport_failed(&mut self, e: io::Error) {
        if let Some(error) = Error::from_transport(e) {
            self.error = Some(error);
        }
        self.eof = true;
        self.done = true;
        self.conn.receive_eof();
        self.changes += 1;
    }

    /// Writes until at most `limit` bytes are queued, and flushes when `limit` is 0.
    /// `Pending` while the transport cannot take more.
    pub(crate) fn poll_write_down_to(
        &mut self,
        cx: &mut Context<'_>,
        limit: usize,
    ) -> Poll<Result<(), Error>> {
        while self.conn.buffered_amount() > limit {
            if self.done {
                return Poll::Ready(Err(Error::AlreadyClosed));
            }
            let written = self.poll_write_once(cx);
            match ready!(written) {
                Ok(0) => {
                    self.transport_failed(io::ErrorKind::WriteZero.into());
                    return Poll::Ready(Err(Error::AlreadyClosed));
                }
                Ok(n) => {
                    self.conn.consume_output(n);
                    self.unflushed = true;
                    self.changes += 1;
                }
                Err(e) => {
                    let kind = e.kind();
                    self.transport_failed(e);
                    return Poll::Ready(Err(Error::Io(kind.into())));
                }
            }
        }
        if limit == 0 && self.unflushed && !self.done {
            // Transports that buffer (TLS) hold the bytes until flushed.
            if let Err(e) = ready!(Pin::new(&mut self.io).poll_flush(cx)) {
                let kind = e.kind();
                self.transport_failed(e);
                return Poll::Ready(Err(Error::Io(kind.into())));
            }
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// One write of the queued output: every piece at once (vectored) where the transport
    /// supports it; otherwise the front piece, with the small pieces behind it gathered into
    /// the same write.
    fn poll_write_once(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let n = self.conn.pending_output_vectored(&mut slices);
        let io = Pin::new(&mut self.io);
        if n == 1 || io.is_write_vectored() {
            return io.poll_write_vectored(cx, &slices[..n]);
        }
        if slices[0].len() >= GATHER {
            return io.poll_write(cx, &slices[0]);
        }
        // A copy of at most `GATHER` bytes, on the stack (never zero-filled): cheaper than a
        // system call (or a TLS record) per piece. Only what was written is consumed, so a short write is fine.
        let mut storage = [MaybeUninit::<u8>::uninit(); GATHER];
        let mut gathered = ReadBuf::uninit(&mut storage);
        for slice in &slices[..n] {
            let take = slice.len().min(gathered.remaining());
            gathered.put_slice(&slice[..take]);
            if gathered.remaining() == 0 {
                break;
            }
        }
        io.poll_write(cx, gathered.filled())
    }

    /// Waits for room: writes while the queued output is over the bound.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.done {
            return Poll::Ready(Err(Error::AlreadyClosed));
        }
        let limit = self.max_buffered;
        self.poll_write_down_to(cx, limit)
    }

    /// Queues a message (nothing is written yet).
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        if self.done {
            return Err(Error::AlreadyClosed);
        }
        match message {
            Message::Text(text) => self.conn.send_text(text)?,
            Message::Binary(data) => self.conn.send_binary(data)?,
            Message::Ping(data) => self.conn.send_ping(&data)?,
            Message::Pong(data) => self.conn.send_pong(&data)?,
            Message::Close(Some(frame)) => self.conn.close(frame.code(), frame.reason())?,
            Message::Close(None) => self.conn.close(CloseCode::NORMAL, "")?,
        }
        self.changes += 1;
        Ok(())
    }

    /// Queues a prepared message (nothing is written yet).
    pub(crate) fn start_send_prepared(
        &mut self,
        message: &wsmachine::PreparedMessage,
    ) -> Result<(), Error> {
        if self.done {
            return Err(Error::AlreadyClosed);
        }
        self.conn.send_prepared(message)?;
        self.changes += 1;
        Ok(())
    }

    /// Writes all queued output and flushes it.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll_write_down_to(cx, 0)
    }

    /// Sink close: starts the closing handshake with 1000 if it has not started, and writes
    /// the Close frame.
    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if !self.done && self.conn.state() == wsmachine::ReadyState::Open {
            self.conn.close(CloseCode::NORMAL, "")?;
            self.changes += 1;
        }
        match ready!(self.poll_write_down_to(cx, 0)) {
            Err(Error::AlreadyClosed) | Ok(()) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
