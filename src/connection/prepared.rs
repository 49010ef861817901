//! Messages encoded once and sent to many connections.

use alloc::sync::Arc;
#[cfg(feature = "deflate")]
use alloc::vec::Vec;
use core::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::event::MessageKind;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use crate::text::Text;

/// A message encoded once, to send to any number of connections with
/// [`Connection::send_prepared`](crate::Connection::send_prepared).
///
/// A server that fans one message out (a chat room, market data, game state) would otherwise
/// encode the frame and copy the payload once per connection. A prepared message holds the
/// frame a server sends, header and payload, in one shared [`Bytes`]: each connection queues
/// that frame as it is (by reference when it is 4 KiB or more, else by a plain copy of its
/// bytes), with no encoding. Cloning a `PreparedMessage` is cheap (a reference count), and it
/// can be shared between threads.
///
/// - **Clients** must mask every frame with a fresh key (RFC 6455 §5.3), so a client
///   connection encodes a prepared message as it would any other; the payload is still not
///   copied before that.
/// - **permessage-deflate.** A connection that compresses each message on its own (the
///   default, [`DeflateConfig::context_takeover`](crate::DeflateConfig::context_takeover)
///   off) uses a compressed form built once and shared by every such connection with the
///   same window: the first one to need it compresses it. A connection that keeps its
///   compressor's context between messages compresses the message itself, since its
///   compressed bytes refer to the messages it sent before: a compressed form shared with
///   such a stream would corrupt it (the peer's decompressor would read references into a
///   window it does not have). Connections that did not agree to compression, and messages
///   under the [threshold](crate::DeflateConfig::threshold), use the plain frame.
///
/// ```
/// use wsmachine::{Config, Connection, Negotiated, PreparedMessage};
///
/// let mut room: Vec<Connection> = (0..3)
///     .map(|_| Connection::server(Negotiated::default(), Config::default()))
///     .collect();
/// let news = PreparedMessage::text("{\"price\":101.5}");
/// for conn in &mut room {
///     conn.send_prepared(&news)?;
/// }
/// assert_eq!(room[2].pending_output(), b"\x81\x0f{\"price\":101.5}");
///
/// // One message sent uncompressed, even where permessage-deflate was agreed:
/// let raw = PreparedMessage::binary(vec![0u8; 1000]).uncompressed();
/// room[0].send_prepared(&raw)?;
/// # Ok::<(), wsmachine::SendError>(())
/// ```
#[derive(Clone)]
pub struct PreparedMessage {
    inner: Arc<Inner>,
}

struct Inner {
    kind: MessageKind,
    /// The frame a server sends uncompressed: header, then payload.
    frame: Bytes,
    /// Where the payload starts in `frame`.
    header_len: usize,
    /// Whether a connection that agreed to compression may compress it.
    compress: bool,
    /// Frames compressed on their own, by the key of the connections that can use them.
    #[cfg(feature = "deflate")]
    encoded: std::sync::Mutex<Vec<(u8, Encoded)>>,
}

/// A frame whose payload an extension encoded, and where that payload starts.
#[cfg(feature = "deflate")]
#[derive(Clone)]
pub(super) struct Encoded {
    pub(super) frame: Bytes,
    pub(super) header_len: usize,
}

impl PreparedMessage {
    /// A text message.
    pub fn text(text: impl Into<Text>) -> Self {
        Self::new(MessageKind::Text, text.into().into_bytes(), true)
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::new(MessageKind::Binary, data.into(), true)
    }

    /// The same message, never compressed: sent as it is even where permessage-deflate was
    /// agreed and the message is over the threshold (already compressed data, say, or a
    /// message whose latency matters more than its size).
    #[must_use]
    pub fn uncompressed(self) -> Self {
        // The same frame, shared: nothing is encoded or copied again.
        let Inner {
            kind,
            ref frame,
            header_len,
            ..
        } = *self.inner;
        Self::from_frame(kind, frame.clone(), header_len, false)
    }

    fn new(kind: MessageKind, payload: Bytes, compress: bool) -> Self {
        let (frame, header_len) = encode_frame(kind.opcode(), 0, &payload);
        Self::from_frame(kind, frame, header_len, compress)
    }

    fn from_frame(kind: MessageKind, frame: Bytes, header_len: usize, compress: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind,
                frame,
                header_len,
                compress,
                #[cfg(feature = "deflate")]
                encoded: std::sync::Mutex::new(Vec::new()),
            }),
        }
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.inner.kind
    }

    /// The message's payload (shared, not copied).
    pub fn payload(&self) -> Bytes {
        self.inner.frame.slice(self.inner.header_len..)
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.inner.frame.len() - self.inner.header_len
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a connection that agreed to compression may compress it (see
    /// [`uncompressed`](Self::uncompressed)).
    pub fn compressible(&self) -> bool {
        self.inner.compress
    }

    /// The frame a server sends uncompressed, header and payload.
    pub(super) fn frame(&self) -> &Bytes {
        &self.inner.frame
    }

    /// The length of the frame's header.
    pub(super) fn header_len(&self) -> usize {
        self.inner.header_len
    }

    /// The payload, borrowed.
    pub(super) fn payload_slice(&self) -> &[u8] {
        &self.inner.frame[self.inner.header_len..]
    }

    /// The frame with its payload encoded on its own by an extension whose encodings are
    /// shared under `key`, with `rsv` set: built by `encode` the first time a connection
    /// with that key asks, then shared.
    #[cfg(feature = "deflate")]
    pub(super) fn encoded<E>(
        &self,
        key: u8,
        rsv: u8,
        encode: impl FnOnce(&[u8], &mut dyn FnMut(&[u8])) -> Result<(), E>,
    ) -> Result<Encoded, E> {
        // A poisoned lock only means another thread panicked while encoding: what the list
        // holds is still whole (entries are pushed complete).
        let mut encoded = self
            .inner
            .encoded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, found)) = encoded.iter().find(|(k, _)| *k == key) {
            return Ok(found.clone());
        }
        let mut made = None;
        encode(self.payload_slice(), &mut |payload| {
            made = Some(encode_frame(self.kind().opcode(), rsv, payload));
        })?;
        let (frame, header_len) =
            made.unwrap_or_else(|| encode_frame(self.kind().opcode(), rsv, &[]));
        let entry = Encoded { frame, header_len };
        encoded.push((key, entry.clone()));
        Ok(entry)
    }
}

/// One final, unmasked frame: its bytes and its header's length.
fn encode_frame(opcode: OpCode, rsv: u8, payload: &[u8]) -> (Bytes, usize) {
    let header = FrameHeader {
        fin: true,
        rsv,
        opcode,
        masking_key: None,
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let header_len = header.encode(&mut head);
    let mut frame = BytesMut::with_capacity(header_len + payload.len());
    frame.put_slice(&head[..header_len]);
    frame.put_slice(payload);
    (frame.freeze(), header_len)
}

impl fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("kind", &self.inner.kind)
            .field("len", &self.len())
            .field("compressible", &self.inner.compress)
            .finish_non_exhaustive()
    }
}
