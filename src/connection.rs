//! The connection state machine: frames in, events out; sends in, bytes out.
//!
//! See the crate documentation for the driver contract and the policy table.

#[cfg(feature = "deflate")]
mod deflate;
mod event;
mod output;
mod receive;
mod send;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub use event::{CloseOutcome, Event, Initiator, MessageKind, Payload, ReadyState, TextPayload};
use output::Output;
use receive::Receiver;

use crate::close::{self, CloseCode};
use crate::config::Config;
use crate::error::{ProtocolError, SendError};
use crate::frame::OpCode;
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
/// let mut server = Connection::new(Role::Server, Negotiated::default(), Config::default());
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
    rx: Receiver,
    events: VecDeque<Event>,
    /// Input received while the event queue was full, parsed as events are taken.
    stash: Vec<u8>,
    stash_pos: usize,
    out: Output,
    /// The fragmented message we are sending, if one is open.
    sending: Option<Sending>,
    close: CloseState,
    /// permessage-deflate, when the handshake agreed to it.
    #[cfg(feature = "deflate")]
    deflate: deflate::Codec,
}

struct Sending {
    kind: MessageKind,
    utf8: Utf8Validator,
    /// Its frames are compressed (permessage-deflate).
    compressed: bool,
}

#[derive(Default)]
struct CloseState {
    /// Our Close frame is queued.
    sent: bool,
    /// Who started closing, once somebody has.
    initiator: Option<Initiator>,
    /// The peer's Close frame arrived (its event may not be taken yet): input is ignored.
    received: bool,
    /// The peer broke the protocol; the connection fails once the events before it are taken.
    failing: Option<ProtocolError>,
    /// The outcome was reported: no more events, input is ignored.
    closed: bool,
    /// The closing handshake completed.
    clean: bool,
    /// The transport's end of stream was seen.
    eof: bool,
}

impl Connection {
    /// A connection for `role` after a handshake that produced `negotiated`.
    ///
    /// A client draws its masking keys from [`OsRandom`](crate::OsRandom) (feature
    /// `getrandom`, on by default). Without that feature a client made here has no key source
    /// and every send fails with [`SendError::NoMaskSource`]: use
    /// [`with_mask_source`](Self::with_mask_source). Servers never draw keys.
    pub fn new(role: Role, negotiated: Negotiated, config: Config) -> Self {
        let source: Option<Box<dyn MaskSource + Send>> = match role {
            Role::Server => None,
            #[cfg(feature = "getrandom")]
            Role::Client => Some(Box::new(crate::mask_source::OsRandom::new())),
            #[cfg(not(feature = "getrandom"))]
            Role::Client => None,
        };
        Self::build(role, negotiated, config, source)
    }

    /// A connection whose masking keys come from `source` (used only by a client).
    pub fn with_mask_source(
        role: Role,
        negotiated: Negotiated,
        config: Config,
        source: impl MaskSource + Send + 'static,
    ) -> Self {
        let source: Option<Box<dyn MaskSource + Send>> = match role {
            Role::Client => Some(Box::new(source)),
            Role::Server => None,
        };
        Self::build(role, negotiated, config, source)
    }

    fn build(
        role: Role,
        negotiated: Negotiated,
        config: Config,
        mask_source: Option<Box<dyn MaskSource + Send>>,
    ) -> Self {
        Self {
            rx: Receiver::new(),
            #[cfg(feature = "deflate")]
            deflate: deflate::Codec::new(role, &negotiated),
            role,
            config,
            negotiated,
            mask_source,
            events: VecDeque::new(),
            stash: Vec::new(),
            stash_pos: 0,
            out: Output::default(),
            sending: None,
            close: CloseState::default(),
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
        if self.close.closed {
            ReadyState::Closed
        } else if self.close.sent {
            ReadyState::Closing
        } else {
            ReadyState::Open
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
    /// then close anyway). After a failure or the peer's end of stream, either side closes.
    pub fn wants_transport_close(&self) -> bool {
        self.close.closed
            && self.out.is_empty()
            && (self.role == Role::Server || !self.close.clean || self.close.eof)
    }

    // ---- input ----

    /// Feeds bytes read from the transport. Never fails: a protocol violation fails the
    /// connection (a Close frame is queued and [`Event::Closed`] reported). Input after the
    /// peer's Close frame or after the connection closed is ignored.
    pub fn receive(&mut self, data: &[u8]) {
        if self.close.eof || self.input_done() || data.is_empty() {
            return;
        }
        if self.stash_pos < self.stash.len() {
            // Earlier input is still waiting: keep the order.
            self.stash.extend_from_slice(data);
            if self.events.is_empty() {
                self.process_stash();
            }
            return;
        }
        let used = self.process(data);
        if used < data.len() && !self.input_done() {
            self.stash.clear();
            self.stash_pos = 0;
            self.stash.extend_from_slice(&data[used..]);
        }
    }

    /// The transport reached end of stream (TCP FIN, HTTP/2 END_STREAM). Idempotent. Without
    /// a completed closing handshake the outcome is 1006, not clean; events already produced,
    /// and any input received before, are still delivered first.
    pub fn receive_eof(&mut self) {
        if self.close.eof {
            return;
        }
        self.close.eof = true;
        self.finish_if_eof();
    }

    // ---- pollers ----

    /// The next event, if any. [`Event::Closed`] is the last one.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.process_stash();
        }
        if self.events.is_empty() {
            if let Some(error) = self.close.failing.take() {
                self.fail_protocol(error);
            }
        }
        let event = self.events.pop_front();
        if let Some(Event::Close(frame)) = &event {
            // The peer's Close takes effect when the application takes it: what it sent in
            // reply to earlier messages goes out before our Close (RFC 6455 §5.5.1).
            self.close_taken(frame.clone());
        }
        event
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
    /// used. Consume what was written with [`consume_output`](Self::consume_output).
    #[cfg(feature = "std")]
    #[must_use]
    pub fn pending_output_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        self.out.pending_vectored(dst)
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
        self.send_message(OpCode::Text, text.into().0)
    }

    /// Sends a whole binary message. A server queues a large [`Bytes`](bytes::Bytes) payload without
    /// copying it.
    pub fn send_binary<'a>(&mut self, data: impl Into<Payload<'a>>) -> Result<(), SendError> {
        self.send_message(OpCode::Binary, data.into())
    }

    /// Sends one fragment of a message (RFC 6455 §5.4). The first fragment opens a message of
    /// `kind`; later ones must give the same `kind`; `fin` ends it. Control frames may be sent
    /// between fragments; a whole message may not. Text fragments may split code points, but
    /// must be valid UTF-8 as far as they go (checked; [`SendError::InvalidUtf8`] otherwise).
    ///
    /// ```
    /// use wsmachine::{Config, Connection, MessageKind, Negotiated, Role};
    /// let mut c = Connection::new(Role::Server, Negotiated::default(), Config::default());
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
        self.check_data_allowed()?;
        let data = data.into();
        let opcode = match &self.sending {
            None => match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            },
            Some(s) if s.kind != kind => return Err(SendError::FragmentKindMismatch),
            Some(_) => OpCode::Continuation,
        };
        let mut utf8 = self
            .sending
            .as_ref()
            .map_or_else(Utf8Validator::new, |s| s.utf8.clone());
        if kind == MessageKind::Text {
            utf8.feed(data.as_slice())
                .map_err(|_| SendError::InvalidUtf8)?;
            if fin {
                utf8.finish().map_err(|_| SendError::InvalidUtf8)?;
            }
        }
        let compressed = match &self.sending {
            None => self.compresses_fragments(),
            Some(s) => s.compressed,
        };
        let first = self.sending.is_none();
        self.write_data_frame(opcode, first, fin, compressed, data)?;
        self.sending = if fin {
            None
        } else {
            Some(Sending {
                kind,
                utf8,
                compressed,
            })
        };
        Ok(())
    }

    /// Sends a Ping (payload at most 125 bytes). Allowed until the connection closes, also
    /// after our Close.
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited Pong (payload at most 125 bytes), for example as a heartbeat.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Starts the closing handshake: queues a Close frame with `code` and `reason`.
    ///
    /// `code` must be [sendable](CloseCode::is_sendable) and `reason` at most 123 bytes.
    /// Afterwards no data may be sent; pings and pongs may, and incoming messages are still
    /// delivered until the peer's Close arrives and completes the handshake.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if self.close.closed {
            return Err(SendError::Closed);
        }
        if self.close.sent {
            return Err(SendError::CloseSent);
        }
        close::check_sendable(code, reason)?;
        self.write_close(code, reason.as_bytes())?;
        self.close.initiator = Some(Initiator::Local);
        Ok(())
    }

    /// Fails the connection now (RFC 6455 §7.1.7): queues a Close frame with `code` and
    /// `reason` unless one was sent already, reports [`Event::Closed`] (not clean), and ignores
    /// further input. The driver closes the transport once the output is written.
    pub fn fail(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if self.close.closed {
            return Err(SendError::Closed);
        }
        close::check_sendable(code, reason)?;
        if !self.close.sent {
            self.write_close(code, reason.as_bytes())?;
        }
        self.finish(CloseOutcome {
            code,
            reason: Text::from(reason),
            clean: false,
            initiator: Initiator::Local,
            error: None,
        });
        Ok(())
    }

    // ---- internals: closing ----

    /// The peer broke the protocol: stop reading. The connection fails when the application
    /// has taken the events before the error, so it can still answer them (Autobahn 3.2, 5.15:
    /// a valid message, then a bad frame, in one read: the message is echoed, then 1002).
    pub(super) fn protocol_error(&mut self, error: ProtocolError) {
        self.close.failing = Some(error);
    }

    /// Fails the connection because of the peer: Close with the error's code, outcome.
    fn fail_protocol(&mut self, error: ProtocolError) {
        if !self.close.sent {
            // Only a client without a mask source cannot send; it still reports the outcome.
            let _ = self.write_close(error.close_code(), error.description().as_bytes());
        }
        self.finish(CloseOutcome {
            code: error.close_code(),
            reason: Text::from_static(error.description()),
            clean: false,
            initiator: Initiator::Local,
            error: Some(error),
        });
    }

    /// The peer's Close arrived: stop reading and report it; it takes effect when taken.
    fn close_received(&mut self, frame: close::CloseFrame) {
        self.close.received = true;
        self.events.push_back(Event::Close(frame));
    }

    /// The application took the peer's Close: echo it if we had not closed, and complete the
    /// closing handshake.
    fn close_taken(&mut self, frame: close::CloseFrame) {
        if self.close.closed {
            return;
        }
        let initiator = match self.close.initiator {
            Some(i) => i,
            None => {
                // RFC 6455 §5.5.1: reply with a Close, echoing the status code.
                let _ = self.write_close(frame.code(), b"");
                Initiator::Remote
            }
        };
        self.close.sent = true;
        self.close.clean = true;
        let outcome = CloseOutcome {
            code: frame.code(),
            reason: Text::from(frame.reason()),
            clean: true,
            initiator,
            error: None,
        };
        self.finish(outcome);
    }

    /// Reports the outcome (once) and releases the receive buffers.
    fn finish(&mut self, outcome: CloseOutcome) {
        if self.close.closed {
            return;
        }
        self.close.closed = true;
        self.sending = None;
        self.events.push_back(Event::Closed(outcome));
        self.rx = Receiver::new();
        #[cfg(feature = "deflate")]
        self.deflate.release();
        self.stash = Vec::new();
        self.stash_pos = 0;
    }

    fn finish_if_eof(&mut self) {
        // A pending peer Close completes the connection when it is taken, not the EOF.
        if self.close.eof
            && !self.input_done()
            && self.stash_pos == self.stash.len()
            && !self.inflate_pending()
        {
            let initiator = self.close.initiator.unwrap_or(Initiator::Remote);
            self.finish(CloseOutcome {
                code: CloseCode::ABNORMAL,
                reason: Text::new(),
                clean: false,
                initiator,
                error: None,
            });
        }
    }

    // ---- internals: receiving ----

    fn process_stash(&mut self) {
        if self.stash_pos < self.stash.len() && !self.input_done() {
            let stash = core::mem::take(&mut self.stash);
            let used = self.process(&stash[self.stash_pos..]);
            if !self.input_done() {
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
        } else if self.inflate_pending() && !self.input_done() {
            // Inflated output held back while the event queue was full.
            self.process(&[]);
        }
        self.finish_if_eof();
    }

    /// Whether a compressed frame has work left that needs no more input.
    fn inflate_pending(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.rx.inflate_pending();
        #[cfg(not(feature = "deflate"))]
        false
    }
}

impl Connection {
    /// No more input is parsed: the connection closed or the peer's Close arrived.
    fn input_done(&self) -> bool {
        self.close.closed || self.close.received || self.close.failing.is_some()
    }
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
