//! The connection state machine: frames in, events out; sends in, bytes out.
//!
//! See the crate documentation for the driver contract and the policy table.

mod event;
pub(crate) mod lifecycle;
mod prepared;
mod receive;
mod send;
mod timers;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub use event::{
    CloseOutcome, Event, EventRef, Initiator, MessageKind, Payload, ReadyState, TextPayload,
};
use lifecycle::{Ending, Input, Lifecycle, State};
pub use prepared::PreparedMessage;
use receive::Inbound;
pub use timers::Timeout;
use timers::Timers;

use crate::close::{self, CloseCode};
use crate::config::Config;
use crate::error::SendError;
use crate::extensions::seam::Extensions;
use crate::frame::decoder::Decoder;
use crate::frame::output::Output;
use crate::mask_source::MaskSource;
use crate::negotiated::{Negotiated, Role};
use crate::text::Text;
use crate::utf8::Utf8Validator;

/// Events queued before [`Connection::receive`] stops parsing and keeps the rest of the input
/// for later [`Connection::poll_event`] calls: bounds memory whatever one read holds.
const MAX_QUEUED_EVENTS: usize = 64;

/// A WebSocket connection after the opening handshake, as a state machine without IO.
///
/// Feed it the bytes read from the transport with [`receive`](Self::receive) (and
/// [`receive_eof`](Self::receive_eof) at end of stream), take [`Event`]s with
/// [`poll_event`](Self::poll_event), ask it to send with the `send_*` methods, and write what
/// [`pending_output`](Self::pending_output) shows, then [`consume_output`](Self::consume_output)
/// what was written. After every call that feeds input or asks to send, drain `poll_event`
/// until `None` and write `pending_output` before waiting for the transport again.
///
/// ```
/// use wsmachine::{Config, Connection, Event, FixedMask, Negotiated, Role};
///
/// let mut server = Connection::server(Negotiated::default(), Config::default());
/// // RFC 6455 §5.7: a masked "Hello" from a client.
/// server.receive(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
/// assert_eq!(server.poll_event(), Some(Event::Text("Hello".into())));
/// server.send_text("Hello").unwrap();
/// assert_eq!(server.pending_output(), b"\x81\x05Hello");
/// server.consume_output(7);
/// assert_eq!(server.buffered_amount(), 0);
/// ```
pub struct Connection {
    role: Role,
    config: Config,
    negotiated: Negotiated,
    mask_source: Option<Box<dyn MaskSource + Send>>,
    /// Open, closing, closed: the one state, changed only through its transition function.
    lifecycle: Lifecycle,
    /// Bytes to frames (the wire format).
    decoder: Decoder,
    /// The inbound message as the policy sees it: kind, length, UTF-8.
    inbound: Inbound,
    /// The agreed extensions (permessage-deflate), behind their seam.
    extensions: Extensions,
    events: VecDeque<Event>,
    /// Input received while the event queue was full, parsed as events are taken.
    stash: Vec<u8>,
    stash_pos: usize,
    /// Frames to the wire.
    out: Output,
    /// The fragmented message we are sending, if one is open.
    sending: Option<Sending>,
    /// Keepalive, Pong deadline, idle and close timeouts.
    timers: Timers,
}

struct Sending {
    kind: MessageKind,
    utf8: Utf8Validator,
    /// Its frames go through the extension (permessage-deflate: compressed).
    encoded: bool,
}

impl Connection {
    /// A server connection after a handshake that produced `negotiated`. Servers never mask
    /// what they send (RFC 6455 §5.1), so they need no key source.
    pub fn server(negotiated: Negotiated, config: Config) -> Self {
        Self::build(Role::Server, negotiated, config, None)
    }

    /// A client connection after a handshake that produced `negotiated`, masking what it sends
    /// with keys from the OS CSPRNG ([`OsRandom`](crate::OsRandom), feature `getrandom`, on by
    /// default), as RFC 6455 §5.3 asks: keys the server cannot predict.
    #[cfg(feature = "getrandom")]
    pub fn client(negotiated: Negotiated, config: Config) -> Self {
        Self::client_with_mask_source(negotiated, config, crate::mask_source::OsRandom::new())
    }

    /// A client connection whose masking keys come from `source` (without feature
    /// `getrandom`, the only way to build a client; or a [`FixedMask`](crate::FixedMask) in
    /// tests, for byte-exact output).
    pub fn client_with_mask_source(
        negotiated: Negotiated,
        config: Config,
        source: impl MaskSource + Send + 'static,
    ) -> Self {
        Self::build(Role::Client, negotiated, config, Some(Box::new(source)))
    }

    fn build(
        role: Role,
        negotiated: Negotiated,
        config: Config,
        mask_source: Option<Box<dyn MaskSource + Send>>,
    ) -> Self {
        Self {
            extensions: extensions_for(role, &negotiated, &config),
            role,
            config,
            negotiated,
            mask_source,
            lifecycle: Lifecycle::new(),
            decoder: Decoder::new(),
            inbound: Inbound::new(),
            events: VecDeque::new(),
            stash: Vec::new(),
            stash_pos: 0,
            out: Output::default(),
            sending: None,
            timers: Timers::default(),
        }
    }

    // ---- getters ----

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What the handshake negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The state, numbered like the browser's `readyState` (never `Connecting` here).
    pub fn state(&self) -> ReadyState {
        if self.lifecycle.is_closed() {
            ReadyState::Closed
        } else if self.lifecycle.close_sent() {
            ReadyState::Closing
        } else {
            ReadyState::Open
        }
    }

    /// Whether the connection is over: [`Event::Closed`] was queued (it may not be taken yet),
    /// and nothing more can be sent. The driver may still have output to write.
    pub fn is_closed(&self) -> bool {
        self.lifecycle.is_closed()
    }

    /// The lifecycle state, for tests that check transitions against the table.
    #[doc(hidden)]
    pub fn lifecycle_state(&self) -> LifecycleState {
        match self.lifecycle.state() {
            State::Open => LifecycleState::Open,
            State::CloseSent => LifecycleState::CloseSent,
            State::PeerClosed { sent, eof } => LifecycleState::PeerClosed { sent, eof },
            State::Failing { sent, eof, .. } => LifecycleState::Failing { sent, eof },
            State::Ending { sent } => LifecycleState::Ending { sent },
            State::Closed { clean, eof } => LifecycleState::Closed { clean, eof },
        }
    }

    /// Bytes queued and not yet handed to the transport (all frames, not only application
    /// data as in the browser). Use it for backpressure.
    pub fn buffered_amount(&self) -> usize {
        self.out.len()
    }

    /// Whether the driver should close the transport now: the connection is closed, all
    /// output is written, and it is our turn to close.
    ///
    /// RFC 6455 §7.1.1: after the closing handshake the server closes the TCP connection
    /// first, and the client waits for it (a driver should bound that wait, say a few seconds,
    /// then close anyway: with [`Config::close_timeout`] the connection says when, through
    /// [`poll_timeout`](Self::poll_timeout)). After a failure, a timeout or the peer's end of
    /// stream, either side closes.
    pub fn wants_transport_close(&self) -> bool {
        match self.lifecycle.state() {
            State::Closed { clean, eof } => {
                self.out.is_empty()
                    && (self.role == Role::Server
                        || !clean
                        || eof
                        || self.timers.transport_wait_over())
            }
            _ => false,
        }
    }

    // ---- input ----

    /// Feeds bytes read from the transport. Never fails: a protocol violation fails the
    /// connection (a Close frame is queued and [`Event::Closed`] reported). Input after the
    /// peer's Close frame, after a protocol violation, or after the connection closed is
    /// ignored.
    ///
    /// The peer's Close ([`Event::Close`]) and a failure's [`Event::Closed`] wait until the
    /// events before them are taken with [`poll_event`](Self::poll_event): only then is our
    /// Close frame queued, after anything the application sent in answer to those events.
    pub fn receive(&mut self, data: &[u8]) {
        if !self.lifecycle.reading() || data.is_empty() {
            return;
        }
        self.timers.input();
        if self.stash_pos < self.stash.len() {
            // Earlier input is still waiting: keep the order.
            self.stash.extend_from_slice(data);
            if self.events.is_empty() {
                self.process_stash();
            }
            return;
        }
        let used = self.process(data);
        if used < data.len() && self.lifecycle.parsing() {
            self.stash.clear();
            self.stash_pos = 0;
            self.stash.extend_from_slice(&data[used..]);
        }
    }

    /// The transport reached end of stream (TCP FIN, HTTP/2 END_STREAM). Idempotent. Without
    /// a completed closing handshake the outcome is 1006, not clean; events already produced,
    /// and any input received before, are still delivered first.
    pub fn receive_eof(&mut self) {
        if self.lifecycle.eof() {
            return;
        }
        let pending = self.input_pending();
        self.step(Input::Eof { pending });
    }

    // ---- pollers ----

    /// The next event, if any. [`Event::Closed`] is the last one.
    ///
    /// Taking the peer's [`Event::Close`] queues our reply (unless we closed first) and
    /// completes the closing handshake; once the events before a protocol violation are
    /// taken, the connection fails.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.process_stash();
        }
        if self.events.is_empty() && self.lifecycle.failing().is_some() {
            self.step(Input::EventsTaken);
        }
        let event = self.events.pop_front();
        if let Some(Event::Close(frame)) = &event {
            // The peer's Close takes effect when the application takes it: what it sent in
            // reply to earlier messages goes out before our Close (RFC 6455 §5.5.1).
            let (code, reason) = (frame.code(), Text::from(frame.reason()));
            let _ = self.apply(Input::CloseTaken, code, reason, &[]);
        }
        event
    }

    /// The next event, lent until the next call that takes `&mut self`: the same events in
    /// the same order as [`poll_event`](Self::poll_event), with the same effects, and the two
    /// may be mixed freely.
    ///
    /// Short whole messages and Pings and Pongs (at most 125 bytes each) are lent from the
    /// input where they lie, unmasked in place, so no [`Bytes`](bytes::Bytes) is made and no
    /// reference count is touched for them; this is the cheaper way to take many small
    /// messages. (The first events of each [`receive`](Self::receive) call are made before
    /// they are asked for, as `poll_event` makes them, and lent from there.)
    #[must_use]
    pub fn poll_event_ref(&mut self) -> Option<EventRef<'_>> {
        self.next_event_ref()
    }

    /// The next bytes to write to the transport (empty when there is nothing to write). Peek
    /// only: call [`consume_output`](Self::consume_output) with how many were written.
    ///
    /// The output is queued in pieces — buffers of at most 64 KiB, and a large
    /// [`Bytes`](bytes::Bytes) payload a server sends as its own piece — and this shows the
    /// first one, so loop until it is empty, or write them all at once with
    /// [`pending_output_vectored`](Self::pending_output_vectored).
    #[must_use]
    pub fn pending_output(&self) -> &[u8] {
        self.out.pending()
    }

    /// Fills `dst` with all queued output, for a vectored write; returns how many slices were
    /// used. Consume what was written with [`consume_output`](Self::consume_output). (After
    /// [`write_output`](Self::write_output) has been used, the output up to the first large
    /// payload still to be masked.)
    #[cfg(feature = "std")]
    #[must_use]
    pub fn pending_output_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        self.out.pending_vectored(dst)
    }

    /// Writes queued output into `buf` (as much as fits), removes it from the queue, and
    /// returns how many bytes were written: for a driver that hands the connection its own
    /// write buffer instead of peeking with [`pending_output`](Self::pending_output). Both
    /// give the same bytes in the same order and may be mixed freely.
    ///
    /// Once this method has been called, a client's large (4 KiB or more)
    /// [`Bytes`](bytes::Bytes) or `Vec<u8>` payload is queued by reference and masked as it
    /// leaves, straight into `buf`: one pass over the payload, where otherwise it is masked
    /// into the queue's buffers first and copied out again. From then on,
    /// [`pending_output`](Self::pending_output) still shows the next bytes, but
    /// [`pending_output_vectored`](Self::pending_output_vectored) shows the output only up to
    /// such a payload.
    ///
    /// ```
    /// use wsmachine::{Config, Connection, Negotiated};
    /// let mut server = Connection::server(Negotiated::default(), Config::default());
    /// server.send_text("Hello").unwrap();
    /// let mut buf = [0u8; 4];
    /// assert_eq!(server.write_output(&mut buf), 4);
    /// assert_eq!(&buf, b"\x81\x05He");
    /// assert_eq!(server.write_output(&mut buf), 3);
    /// assert_eq!(&buf[..3], b"llo");
    /// assert_eq!(server.buffered_amount(), 0);
    /// ```
    #[must_use]
    pub fn write_output(&mut self, buf: &mut [u8]) -> usize {
        self.out.write_into(buf)
    }

    /// Marks `n` bytes of output as written. `n` may span several
    /// [`pending_output`](Self::pending_output) pieces; more than
    /// [`buffered_amount`](Self::buffered_amount) is clamped to it.
    pub fn consume_output(&mut self, n: usize) {
        self.out.consume(n);
    }

    // ---- mutators ----

    /// Sends a whole text message.
    pub fn send_text<'a>(&mut self, text: impl Into<TextPayload<'a>>) -> Result<(), SendError> {
        self.send_message(MessageKind::Text, text.into().0)
    }

    /// Sends a whole binary message. A server queues a large [`Bytes`](bytes::Bytes) payload
    /// without copying it.
    pub fn send_binary<'a>(&mut self, data: impl Into<Payload<'a>>) -> Result<(), SendError> {
        self.send_message(MessageKind::Binary, data.into())
    }

    /// Sends a message encoded once for many connections (see [`PreparedMessage`], which
    /// tells what is shared in each case). Refused as [`send_text`](Self::send_text) and
    /// [`send_binary`](Self::send_binary) are: after our Close, and while a fragmented message
    /// is in progress.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.send_prepared_message(message)
    }

    /// Sends one fragment of a message (RFC 6455 §5.4). The first fragment opens a message of
    /// `kind`; later ones must give the same `kind`; `fin` ends it. Control frames may be sent
    /// between fragments; a whole message may not. Text fragments may split code points, but
    /// must be valid UTF-8 as far as they go (checked; [`SendError::InvalidUtf8`] otherwise).
    ///
    /// ```
    /// use wsmachine::{Config, Connection, MessageKind, Negotiated, Role};
    /// let mut c = Connection::server(Negotiated::default(), Config::default());
    /// c.send_fragment(MessageKind::Text, "Hel", false).unwrap();
    /// c.send_fragment(MessageKind::Text, "lo", true).unwrap();
    /// assert_eq!(c.pending_output(), b"\x01\x03Hel\x80\x02lo"); // RFC 6455 §5.7
    /// ```
    pub fn send_fragment<'a>(
        &mut self,
        kind: MessageKind,
        data: impl Into<Payload<'a>>,
        fin: bool,
    ) -> Result<(), SendError> {
        self.send_fragment_of(kind, data.into(), fin)
    }

    /// Sends a Ping (payload at most 125 bytes). Allowed until the connection closes, also
    /// after our Close.
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(crate::frame::OpCode::Ping, payload)
    }

    /// Sends an unsolicited Pong (payload at most 125 bytes), for example as a heartbeat.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(crate::frame::OpCode::Pong, payload)
    }

    /// Starts the closing handshake: queues a Close frame with `code` and `reason`.
    ///
    /// `code` must be [sendable](CloseCode::is_sendable) and `reason` at most 123 bytes.
    /// Afterwards no data may be sent; pings and pongs may, and incoming messages are still
    /// delivered until the peer's Close arrives and completes the handshake.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        // The state's refusal comes first: closing twice is `CloseSent` whatever the code.
        lifecycle::transition(self.lifecycle.state(), Input::Close)?;
        close::check_sendable(code, reason)?;
        self.apply(Input::Close, code, Text::new(), reason.as_bytes())
    }

    /// Fails the connection now (RFC 6455 §7.1.7): queues a Close frame with `code` and
    /// `reason` unless one was sent already, reports [`Event::Closed`] (not clean), and ignores
    /// further input. The driver closes the transport once the output is written.
    pub fn fail(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        lifecycle::transition(self.lifecycle.state(), Input::Fail)?;
        close::check_sendable(code, reason)?;
        self.apply(Input::Fail, code, Text::from(reason), reason.as_bytes())
    }

    // ---- internals: the lifecycle ----

    /// Applies an input from the peer, the transport or a timer (never refused).
    fn step(&mut self, input: Input) {
        let _ = self.apply(input, CloseCode::ABNORMAL, Text::new(), &[]);
    }

    /// Applies `input` to the lifecycle and carries out the transition's output: queues our
    /// Close (with `code` and `close_reason` when we start closing or fail the connection,
    /// the peer's code when we answer its Close, the error's code on a violation) and reports
    /// the outcome (with `code` and `reason` for a clean close or our failure). Fails, and
    /// changes nothing, only where the table refuses the input.
    fn apply(
        &mut self,
        input: Input,
        code: CloseCode,
        reason: Text,
        close_reason: &[u8],
    ) -> Result<(), SendError> {
        let (source, out) = (&mut self.mask_source, &mut self.out);
        let result = self.lifecycle.step(input, |o| {
            if !o.send_close {
                return;
            }
            let (code, reason) = match (o.report, input) {
                (Some(Ending::Violation(error)), _) => {
                    (error.close_code(), error.description().as_bytes())
                }
                // RFC 6455 §5.5.1: the reply echoes the peer's status code.
                (_, Input::CloseTaken) => (code, &[][..]),
                _ => (code, close_reason),
            };
            send::queue_close(out, send::masking_key(source), code, reason);
        });
        let ending = match result? {
            lifecycle::Output {
                report: Some(ending),
                ..
            } => ending,
            _ => return Ok(()),
        };
        let outcome = match ending {
            Ending::Clean { local } => CloseOutcome {
                code,
                reason,
                clean: true,
                initiator: initiator(local),
                error: None,
                timeout: None,
            },
            Ending::Failed => CloseOutcome {
                code,
                reason,
                clean: false,
                initiator: Initiator::Local,
                error: None,
                timeout: None,
            },
            Ending::Violation(error) => CloseOutcome {
                code: error.close_code(),
                reason: Text::from_static(error.description()),
                clean: false,
                initiator: Initiator::Local,
                error: Some(error),
                timeout: None,
            },
            Ending::Abnormal { local } => CloseOutcome {
                code: CloseCode::ABNORMAL,
                reason: Text::new(),
                clean: false,
                initiator: initiator(local),
                error: None,
                timeout: None,
            },
            Ending::TimedOut(timeout) => CloseOutcome {
                code: CloseCode::ABNORMAL,
                reason: Text::from_static(timeout.description()),
                clean: false,
                initiator: Initiator::Local,
                error: None,
                timeout: Some(timeout),
            },
        };
        self.sending = None;
        self.events.push_back(Event::Closed(outcome));
        // The connection is over: release the receive buffers and the extensions' state.
        self.decoder = Decoder::new();
        self.inbound = Inbound::new();
        self.extensions.release();
        self.stash = Vec::new();
        self.stash_pos = 0;
        Ok(())
    }

    /// After the transport ended: once nothing is left to parse, the connection ends.
    fn end_if_drained(&mut self) {
        if matches!(self.lifecycle.state(), State::Ending { .. }) && !self.input_pending() {
            self.step(Input::Drained);
        }
    }

    /// Whether input received earlier, or an extension's decoding, is left to deliver.
    fn input_pending(&self) -> bool {
        self.stash_pos < self.stash.len() || self.decode_pending()
    }

    // ---- internals: receiving ----

    fn process_stash(&mut self) {
        if self.stash_pos < self.stash.len() && self.lifecycle.parsing() {
            let stash = core::mem::take(&mut self.stash);
            let used = self.process(&stash[self.stash_pos..]);
            if self.lifecycle.parsing() {
                self.stash = stash;
                self.stash_pos += used;
                if self.stash_pos == self.stash.len() {
                    self.stash.clear();
                    self.stash_pos = 0;
                    if self.stash.capacity() > 256 * 1024 {
                        self.stash = Vec::new();
                    }
                }
            }
        } else if self.decode_pending() && self.lifecycle.parsing() {
            // Decoded output held back while the event queue was full.
            self.process(&[]);
        }
        self.end_if_drained();
    }
}

/// Who started the end: we did when `local`.
fn initiator(local: bool) -> Initiator {
    if local {
        Initiator::Local
    } else {
        Initiator::Remote
    }
}

/// The extensions the handshake agreed to, as the connection runs them: the one place where
/// they are built from [`Negotiated`].
fn extensions_for(role: Role, negotiated: &Negotiated, config: &Config) -> Extensions {
    #[cfg(feature = "deflate")]
    if let Some(params) = negotiated.deflate() {
        return Extensions::deflate(crate::extensions::deflate::PerMessageDeflate::new(
            role == Role::Server,
            *params,
            &config.deflate,
        ));
    }
    let _ = (role, negotiated, config);
    Extensions::none()
}

/// The connection's lifecycle state, as tests observe it (see the connection module's
/// transition table). Not part of the stable API.
#[doc(hidden)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum LifecycleState {
    Open,
    CloseSent,
    PeerClosed { sent: bool, eof: bool },
    Failing { sent: bool, eof: bool },
    Ending { sent: bool },
    Closed { clean: bool, eof: bool },
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("buffered_amount", &self.buffered_amount())
            .field("queued_events", &self.events.len())
            .finish_non_exhaustive()
    }
}
