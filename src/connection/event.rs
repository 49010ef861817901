//! What a [`Connection`](crate::Connection) reports and accepts: events, the close outcome,
//! the ready state, and payloads to send.

use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

use super::timers::Timeout;
use crate::close::CloseCode;
use crate::error::ProtocolError;
use crate::frame::OpCode;
use crate::frame::output::Body;
use crate::text::Text;

/// Something that happened on the connection, in order. Owned and zero-copy: payloads are
/// [`Bytes`] that share the connection's receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A whole text message (UTF-8 checked).
    Text(Text),
    /// A whole binary message.
    Binary(Bytes),
    /// Streaming mode: the next piece of a text message. Pieces end on code-point boundaries
    /// (an unfinished code point is held back for the next piece), so each is valid UTF-8.
    TextChunk {
        /// The piece.
        text: Text,
        /// Whether this is the last piece of the message.
        fin: bool,
    },
    /// Streaming mode: the next piece of a binary message.
    BinaryChunk {
        /// The piece.
        data: Bytes,
        /// Whether this is the last piece of the message.
        fin: bool,
    },
    /// A Ping arrived (at most 125 bytes). With [`Config::auto_pong`](crate::Config), the Pong
    /// is already queued.
    Ping(Bytes),
    /// A Pong arrived, solicited or not.
    Pong(Bytes),
    /// The peer's Close frame arrived: the peer is closing (one step of the closing
    /// handshake, not its end). Input after it is ignored. Taking this event queues our reply
    /// (unless we closed first) and completes the closing handshake, so anything the
    /// application sends in answer to the messages before it still goes out first; the
    /// [`Event::Closed`] outcome follows.
    ///
    /// ```
    /// use wsmachine::{Config, Connection, Event, Negotiated};
    /// let mut server = Connection::server(Negotiated::new(), Config::default());
    /// server.receive(b"\x88\x82\0\0\0\0\x03\xe8"); // a masked Close, code 1000
    /// // First what the peer said: `Close`, the frame…
    /// let Some(Event::Close(frame)) = server.poll_event() else { panic!() };
    /// assert_eq!(frame.code().0, 1000);
    /// // …then how the connection ended: `Closed`, the outcome, always the last event.
    /// let Some(Event::Closed(outcome)) = server.poll_event() else { panic!() };
    /// assert!(outcome.clean);
    /// assert_eq!(server.poll_event(), None);
    /// ```
    Close(crate::close::CloseFrame),
    /// The connection is over, however it ended (closing handshake, failure, end of stream,
    /// timeout): the last event, reported exactly once, with the [`CloseOutcome`]. Unlike
    /// [`Event::Close`], which only reports the peer's Close frame, this is the end.
    Closed(CloseOutcome),
}

/// An [`Event`] lent by [`Connection::poll_event_ref`](crate::Connection::poll_event_ref):
/// the same events in the same order, with payloads borrowed from the connection until the
/// next call that takes `&mut` of it.
///
/// Short whole messages (at most 125 bytes) and Pings and Pongs that arrive in one read are
/// lent straight from the input, unmasked where they lie: no [`Bytes`] is made for them, so
/// they cost no reference count (an atomic operation). Other events are made as
/// [`poll_event`](crate::Connection::poll_event) makes them and lent from there. Use
/// [`to_event`](Self::to_event) to keep one.
///
/// ```
/// use wsmachine::{Config, Connection, EventRef, Negotiated};
/// let mut server = Connection::server(Negotiated::default(), Config::default());
/// // RFC 6455 §5.7: a masked "Hello" from a client.
/// server.receive(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
/// assert_eq!(server.poll_event_ref(), Some(EventRef::Text("Hello")));
/// assert_eq!(server.poll_event_ref(), None);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventRef<'a> {
    /// [`Event::Text`]: a whole text message (UTF-8 checked).
    Text(&'a str),
    /// [`Event::Binary`]: a whole binary message.
    Binary(&'a [u8]),
    /// [`Event::TextChunk`]: streaming mode, the next piece of a text message.
    TextChunk {
        /// The piece.
        text: &'a str,
        /// Whether this is the last piece of the message.
        fin: bool,
    },
    /// [`Event::BinaryChunk`]: streaming mode, the next piece of a binary message.
    BinaryChunk {
        /// The piece.
        data: &'a [u8],
        /// Whether this is the last piece of the message.
        fin: bool,
    },
    /// [`Event::Ping`]: a Ping arrived (with [`Config::auto_pong`](crate::Config), the Pong is
    /// already queued).
    Ping(&'a [u8]),
    /// [`Event::Pong`]: a Pong arrived.
    Pong(&'a [u8]),
    /// [`Event::Close`]: the peer's Close frame arrived.
    Close(&'a crate::close::CloseFrame),
    /// [`Event::Closed`]: the connection is over; the last event.
    Closed(&'a CloseOutcome),
}

impl<'a> From<&'a Event> for EventRef<'a> {
    fn from(event: &'a Event) -> Self {
        match event {
            Event::Text(text) => EventRef::Text(text),
            Event::Binary(data) => EventRef::Binary(data),
            Event::TextChunk { text, fin } => EventRef::TextChunk { text, fin: *fin },
            Event::BinaryChunk { data, fin } => EventRef::BinaryChunk { data, fin: *fin },
            Event::Ping(data) => EventRef::Ping(data),
            Event::Pong(data) => EventRef::Pong(data),
            Event::Close(frame) => EventRef::Close(frame),
            Event::Closed(outcome) => EventRef::Closed(outcome),
        }
    }
}

impl EventRef<'_> {
    /// The owned [`Event`], with its payload copied.
    pub fn to_event(&self) -> Event {
        match *self {
            EventRef::Text(text) => Event::Text(Text::from(text)),
            EventRef::Binary(data) => Event::Binary(Bytes::copy_from_slice(data)),
            EventRef::TextChunk { text, fin } => Event::TextChunk {
                text: Text::from(text),
                fin,
            },
            EventRef::BinaryChunk { data, fin } => Event::BinaryChunk {
                data: Bytes::copy_from_slice(data),
                fin,
            },
            EventRef::Ping(data) => Event::Ping(Bytes::copy_from_slice(data)),
            EventRef::Pong(data) => Event::Pong(Bytes::copy_from_slice(data)),
            EventRef::Close(frame) => Event::Close(frame.clone()),
            EventRef::Closed(outcome) => Event::Closed(outcome.clone()),
        }
    }
}

/// Who started the end of the connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    /// We did: [`close`](crate::Connection::close), [`fail`](crate::Connection::fail), or a
    /// protocol error by the peer that made us fail the connection.
    Local,
    /// The peer did: its Close frame, or the transport ended.
    Remote,
}

/// How the connection ended, like the browser's `CloseEvent`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseOutcome {
    /// The code: the peer's (1005 if its Close was empty) after a closing handshake, the one
    /// we sent when we failed the connection, or 1006 when the transport ended without a
    /// closing handshake.
    pub code: CloseCode,
    /// The reason that went with `code`.
    pub reason: Text,
    /// Whether the closing handshake completed (both Close frames exchanged).
    pub clean: bool,
    /// Who started it.
    pub initiator: Initiator,
    /// The peer's protocol violation, when that is why we failed the connection.
    pub error: Option<ProtocolError>,
    /// The timer that gave up on the peer, when that is why the connection ended (code 1006).
    pub timeout: Option<Timeout>,
}

/// The connection's state, numbered like the browser's `WebSocket.readyState`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadyState {
    /// 0: the opening handshake is in progress. A [`Connection`](crate::Connection) exists only
    /// after the handshake, so it never reports this; drivers use it for the handshake phase.
    Connecting = 0,
    /// 1: messages flow both ways.
    Open = 1,
    /// 2: we sent a Close frame and wait for the peer's.
    Closing = 2,
    /// 3: the closing handshake is complete, or the connection failed or lost its transport.
    Closed = 3,
}

impl ReadyState {
    /// The browser's numeric `readyState`.
    pub const fn as_u16(self) -> u16 {
        self as u16
    }
}

/// The kind of a data message.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Binary data (opcode 0x2).
    Binary,
}

impl MessageKind {
    /// The opcode that starts a message of this kind.
    pub(crate) fn opcode(self) -> OpCode {
        match self {
            Self::Text => OpCode::Text,
            Self::Binary => OpCode::Binary,
        }
    }
}

/// A payload to send: borrowed (copied into the output queue) or shared [`Bytes`] (a server
/// queues large ones without copying).
#[derive(Clone, Debug)]
pub struct Payload<'a>(pub(crate) Body<'a>);

impl Payload<'_> {
    /// The payload bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl<'a> From<&'a [u8]> for Payload<'a> {
    fn from(b: &'a [u8]) -> Self {
        Self(Body::Borrowed(b))
    }
}
impl<'a, const N: usize> From<&'a [u8; N]> for Payload<'a> {
    fn from(b: &'a [u8; N]) -> Self {
        Self(Body::Borrowed(b))
    }
}
impl<'a> From<&'a Vec<u8>> for Payload<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Self(Body::Borrowed(b))
    }
}
impl<'a> From<&'a str> for Payload<'a> {
    fn from(s: &'a str) -> Self {
        Self(Body::Borrowed(s.as_bytes()))
    }
}
impl From<Vec<u8>> for Payload<'_> {
    fn from(b: Vec<u8>) -> Self {
        Self(Body::Shared(b.into()))
    }
}
impl From<alloc::boxed::Box<[u8]>> for Payload<'_> {
    fn from(b: alloc::boxed::Box<[u8]>) -> Self {
        Self(Body::Shared(b.into()))
    }
}
impl<'a> From<alloc::borrow::Cow<'a, [u8]>> for Payload<'a> {
    fn from(b: alloc::borrow::Cow<'a, [u8]>) -> Self {
        match b {
            alloc::borrow::Cow::Borrowed(b) => b.into(),
            alloc::borrow::Cow::Owned(b) => b.into(),
        }
    }
}
impl From<Bytes> for Payload<'_> {
    fn from(b: Bytes) -> Self {
        Self(Body::Shared(b))
    }
}
impl<'a> From<&'a Bytes> for Payload<'a> {
    fn from(b: &'a Bytes) -> Self {
        Self(Body::Shared(b.clone()))
    }
}
impl From<Text> for Payload<'_> {
    fn from(t: Text) -> Self {
        Self(Body::Shared(t.into_bytes()))
    }
}
impl<'a> From<&'a Text> for Payload<'a> {
    fn from(t: &'a Text) -> Self {
        Self(Body::Shared(t.as_bytes().clone()))
    }
}

/// A text payload to send: only types that are UTF-8 by construction convert into it.
#[derive(Clone, Debug)]
pub struct TextPayload<'a>(pub(crate) Payload<'a>);

impl<'a> From<&'a str> for TextPayload<'a> {
    fn from(s: &'a str) -> Self {
        Self(s.into())
    }
}
impl<'a> From<&'a String> for TextPayload<'a> {
    fn from(s: &'a String) -> Self {
        Self(s.as_str().into())
    }
}
impl From<String> for TextPayload<'_> {
    fn from(s: String) -> Self {
        Self(Payload(Body::Shared(s.into())))
    }
}
impl<'a> From<alloc::borrow::Cow<'a, str>> for TextPayload<'a> {
    fn from(s: alloc::borrow::Cow<'a, str>) -> Self {
        match s {
            alloc::borrow::Cow::Borrowed(s) => s.into(),
            alloc::borrow::Cow::Owned(s) => s.into(),
        }
    }
}
impl From<alloc::boxed::Box<str>> for TextPayload<'_> {
    fn from(s: alloc::boxed::Box<str>) -> Self {
        Self(Payload(Body::Shared(Bytes::from(s.into_boxed_bytes()))))
    }
}
impl From<Text> for TextPayload<'_> {
    fn from(t: Text) -> Self {
        Self(t.into())
    }
}
impl<'a> From<&'a Text> for TextPayload<'a> {
    fn from(t: &'a Text) -> Self {
        Self(t.into())
    }
}
