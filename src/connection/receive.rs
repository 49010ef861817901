//! The receive path: headers, payload copy-and-unmask, message assembly, policy checks.

use bytes::BytesMut;

use super::{Connection, Event, MAX_QUEUED_EVENTS, MessageKind};
use crate::close::CloseFrame;
use crate::error::ProtocolError;
use crate::frame::{
    FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, RSV1, Status, apply_mask,
    extend_masked,
};
use crate::negotiated::Role;
use crate::text::Text;
use crate::utf8::Utf8Validator;

/// Space reserved for a data frame's declared length, at most: past this a peer must send
/// bytes, not just claim a length, to make the buffer grow.
const EAGER_RESERVE: usize = 1 << 20;

/// The first receive buffer ("arena") allocated. Messages are split off an arena as `Bytes`,
/// and an arena is reused once the application has dropped every message in it. Two arenas
/// alternate; when the older one is still held by the application as the newer one fills, the
/// next arena is twice as large (up to `MAX_ARENA`), so the pair soon spans what the
/// application keeps in flight and the steady state allocates nothing.
const MIN_ARENA: usize = 4 * 1024;
const MAX_ARENA: usize = 128 * 1024;

/// An inflated message longer than this leaves the arena for a buffer of its own, grown to
/// exactly what it needs up to the message limit, so an inflate bomb cannot make a buffer
/// overshoot the limit the way doubling growth would.
#[cfg(feature = "deflate")]
const SPILL_AT: usize = 64 * 1024;

/// Receive-side state. Holds no heap memory until data arrives.
pub(super) struct Receiver {
    /// A header split across reads.
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    /// The frame whose payload is arriving.
    frame: Option<FrameState>,
    /// The data message in progress and its size so far.
    pub(super) message: Option<MessageKind>,
    pub(super) message_len: u64,
    pub(super) utf8: Utf8Validator,
    /// The data message being assembled; whole messages are split off it as `Bytes`.
    pub(super) data: BytesMut,
    /// The previous arena, reused once every message split off it has been dropped.
    spare: BytesMut,
    /// The sizes the two arenas were allocated with.
    data_size: usize,
    spare_size: usize,
    /// A control frame's payload when it arrives inside a fragmented message (otherwise control
    /// payloads are assembled in the data arena, which is then empty).
    control: BytesMut,
    /// permessage-deflate: the data message in progress is compressed (RSV1 on its first
    /// frame).
    #[cfg(feature = "deflate")]
    pub(super) compressed: bool,
    /// The inflated size of the compressed message in progress.
    #[cfg(feature = "deflate")]
    pub(super) inflated: usize,
    /// A large inflated message, out of the arena (see `SPILL_AT`); empty otherwise.
    #[cfg(feature = "deflate")]
    spill: alloc::vec::Vec<u8>,
}

#[derive(Copy, Clone)]
pub(super) struct FrameState {
    opcode: OpCode,
    fin: bool,
    pub(super) remaining: u64,
    pub(super) masking_key: Option<[u8; 4]>,
    pub(super) phase: usize,
    /// Whether a control payload is assembled in the data arena (else in `control`).
    in_arena: bool,
    /// permessage-deflate: a data frame of a compressed message, inflated as it arrives.
    #[cfg(feature = "deflate")]
    pub(super) compressed: bool,
    /// Bytes of the 4-byte tail (RFC 7692 §7.2.2) still to feed after the payload: 4 for the
    /// last frame of a compressed message, else 0.
    #[cfg(feature = "deflate")]
    pub(super) tail: u8,
    /// The decompressor has given all the output its input so far makes.
    #[cfg(feature = "deflate")]
    pub(super) drained: bool,
}

#[cfg(feature = "deflate")]
impl FrameState {
    /// The payload and tail are all inflated and the output delivered.
    fn inflated(&self) -> bool {
        self.remaining == 0 && self.tail == 0 && self.drained
    }
}

impl Receiver {
    /// Makes room for `want` more bytes of data. At the start of a message, reuse an arena
    /// nobody else holds (the current one or the spare), else start a new one; the old arena
    /// becomes the spare, reclaimed when the application drops its messages. In the steady
    /// state this allocates nothing.
    #[inline]
    fn reserve_data(&mut self, want: usize) {
        if self.data.capacity() - self.data.len() < want {
            self.make_room(want);
        }
    }

    fn make_room(&mut self, want: usize) {
        if !self.data.is_empty() {
            // A fragmented message continues: grow it.
            self.data.reserve(want);
            return;
        }
        if self.data.try_reclaim(want) {
            return;
        }
        let spare_free = self.spare.try_reclaim(want);
        if spare_free && self.spare_size >= self.data_size {
            core::mem::swap(&mut self.data, &mut self.spare);
            core::mem::swap(&mut self.data_size, &mut self.spare_size);
            return;
        }
        // A new arena: as large as the current one, or twice as large if the spare is still
        // held by the application (the arenas are too small for what it keeps in flight).
        let size = if spare_free || self.spare_size == 0 {
            self.data_size.max(MIN_ARENA)
        } else {
            (self.data_size * 2).clamp(MIN_ARENA, MAX_ARENA)
        }
        .max(want);
        self.spare = core::mem::replace(&mut self.data, BytesMut::with_capacity(size));
        self.spare_size = self.data_size;
        self.data_size = size;
    }

    /// Makes room for a control payload outside the data arena.
    fn reserve_control(&mut self) {
        if self.control.capacity() - self.control.len() < MAX_CONTROL_PAYLOAD
            && !self.control.try_reclaim(MAX_CONTROL_PAYLOAD)
        {
            self.control = BytesMut::with_capacity(8 * MAX_CONTROL_PAYLOAD);
        }
    }

    /// Appends inflated bytes to the message: in the arena while it is small or in streaming
    /// mode (where chunks leave the arena as they fill), else in the spill buffer, grown
    /// exactly and never past `limit` (the caller has checked the message against it).
    #[cfg(feature = "deflate")]
    pub(super) fn push_inflated(&mut self, bytes: &[u8], limit: usize, streaming: bool) {
        let len = self.data.len() + self.spill.len();
        if self.spill.is_empty() && (streaming || len + bytes.len() <= SPILL_AT) {
            self.reserve_data(bytes.len());
            self.data.extend_from_slice(bytes);
            return;
        }
        if self.spill.len() + bytes.len() > self.spill.capacity() {
            let want = (2 * len)
                .max(len + bytes.len())
                .min(limit.max(len + bytes.len()));
            self.spill.reserve_exact(want - self.spill.len());
        }
        if self.spill.is_empty() {
            // The message leaves the arena (which stays, empty, for the next one).
            self.spill.extend_from_slice(&self.data);
            self.data.clear();
        }
        self.spill.extend_from_slice(bytes);
    }

    /// The bytes of the whole message just completed: split off the arena, or the spill
    /// buffer of a large inflated message.
    fn take_message(&mut self) -> bytes::Bytes {
        #[cfg(feature = "deflate")]
        if !self.spill.is_empty() {
            return core::mem::take(&mut self.spill).into();
        }
        self.data.split().freeze()
    }

    /// Whether a compressed frame has work left that needs no input: output the decompressor
    /// holds back, or the tail to feed.
    #[cfg(feature = "deflate")]
    pub(super) fn inflate_pending(&self) -> bool {
        self.frame
            .is_some_and(|f| f.compressed && (!f.drained || (f.remaining == 0 && f.tail > 0)))
    }

    /// Takes a complete control payload.
    fn take_control(&mut self, frame: &FrameState) -> bytes::Bytes {
        if frame.in_arena {
            self.data.split()
        } else {
            self.control.split()
        }
        .freeze()
    }

    pub(super) fn new() -> Self {
        Self {
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            message_len: 0,
            utf8: Utf8Validator::new(),
            data: BytesMut::new(),
            spare: BytesMut::new(),
            data_size: 0,
            spare_size: 0,
            control: BytesMut::new(),
            #[cfg(feature = "deflate")]
            compressed: false,
            #[cfg(feature = "deflate")]
            inflated: 0,
            #[cfg(feature = "deflate")]
            spill: alloc::vec::Vec::new(),
        }
    }
}

impl Connection {
    /// Parses `input` until it is used up, the event queue is full, or the connection closes.
    /// Returns how many bytes were used (all of them once the connection is closed).
    pub(super) fn process(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        while !self.input_done() && self.events.len() < MAX_QUEUED_EVENTS {
            if self.rx.frame.is_none() && self.rx.header_len == 0 {
                if let Some(used) = self.small_frame(&input[pos..]) {
                    pos += used;
                    continue;
                }
            }
            let mut frame = match self.rx.frame {
                Some(frame) => frame,
                None => match self.read_header(&input[pos..]) {
                    Ok(Some((header, used))) => {
                        pos += used;
                        match self.start_frame(&header) {
                            Ok(frame) => frame,
                            Err(e) => {
                                self.protocol_error(e);
                                break;
                            }
                        }
                    }
                    Ok(None) => return input.len(),
                    Err(e) => {
                        self.protocol_error(e);
                        break;
                    }
                },
            };
            #[cfg(feature = "deflate")]
            if frame.compressed {
                match self.inflate_frame(&mut frame, &input[pos..]) {
                    Ok(used) => pos += used,
                    Err(e) => {
                        self.protocol_error(e);
                        break;
                    }
                }
                if !frame.inflated() {
                    self.rx.frame = Some(frame);
                    let tail_pending = frame.remaining == 0 && frame.tail > 0;
                    if pos == input.len() && frame.drained && !tail_pending {
                        // Input used up inside the payload.
                        if self.config.streaming {
                            self.emit_chunk(false);
                        }
                        return input.len();
                    }
                    // Paused: the event queue is full (streaming mode).
                    continue;
                }
                self.rx.frame = None;
                if let Err(e) = self.end_frame(&frame) {
                    self.protocol_error(e);
                    break;
                }
                continue;
            }
            let take =
                (input.len() - pos).min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
            if take > 0 {
                if let Err(e) = self.payload(&mut frame, &input[pos..pos + take]) {
                    self.protocol_error(e);
                    break;
                }
                pos += take;
            }
            if frame.remaining > 0 {
                // Input used up inside the payload.
                self.rx.frame = Some(frame);
                if self.config.streaming && !frame.opcode.is_control() {
                    self.emit_chunk(false);
                }
                return input.len();
            }
            self.rx.frame = None;
            if let Err(e) = self.end_frame(&frame) {
                self.protocol_error(e);
                break;
            }
        }
        if self.input_done() { input.len() } else { pos }
    }

    /// The fast path for the commonest frames: a whole unfragmented message or a Ping or Pong,
    /// with at most 125 bytes of payload, entirely in `input`, outside a fragmented message
    /// and outside streaming mode. Returns the bytes used, or `None` to take the general path,
    /// which handles everything else and reports every protocol error but invalid UTF-8.
    #[inline]
    fn small_frame(&mut self, input: &[u8]) -> Option<usize> {
        let (&[b0, b1], rest) = input.split_first_chunk::<2>()?;
        let len = usize::from(b1 & 0x7f);
        let masked = b1 & 0x80 != 0;
        // RSV bits (permessage-deflate included), extended lengths, a wrong masking for the
        // role, and Close go the general way.
        if b0 & 0x70 != 0 || len > MAX_CONTROL_PAYLOAD || masked != (self.role == Role::Server) {
            return None;
        }
        let (key, rest) = match masked {
            true => {
                let (key, rest) = rest.split_first_chunk::<4>()?;
                (Some(*key), rest)
            }
            false => (None, rest),
        };
        let payload = rest.get(..len)?;
        let used = 2 + 4 * usize::from(masked) + len;
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0f;
        let data_message = matches!(opcode, 0x1 | 0x2);
        if !fin
            || !self.rx.data.is_empty()
            || !(data_message || matches!(opcode, 0x9 | 0xa))
            || (data_message
                && (self.rx.message.is_some()
                    || self.config.streaming
                    || len > self.config.max_frame_size
                    || len > self.config.max_message_size))
        {
            return None;
        }
        self.rx.reserve_data(len);
        self.rx.data.extend_from_slice(payload);
        if let Some(key) = key {
            apply_mask(&mut self.rx.data, key, 0);
        }
        let payload = self.rx.data.split().freeze();
        let event = match opcode {
            0x1 => {
                // RFC 6455 §8.1.
                if !payload.is_ascii() && !crate::utf8::is_valid(&payload) {
                    self.protocol_error(ProtocolError::InvalidUtf8);
                    return Some(used);
                }
                Event::Text(Text::from_validated(payload))
            }
            0x2 => Event::Binary(payload),
            _ => self.ping_or_pong(opcode == 0x9, payload),
        };
        self.events.push_back(event);
        Some(used)
    }

    /// The event for a complete Ping (answered first, with `auto_pong`) or Pong.
    fn ping_or_pong(&mut self, ping: bool, payload: bytes::Bytes) -> Event {
        if !ping {
            return Event::Pong(payload);
        }
        if self.config.auto_pong {
            self.queue_auto_pong(&payload);
        }
        Event::Ping(payload)
    }

    /// Reads a header from the stash and `input`. `Ok(None)`: all of `input` went into the
    /// stash and more is needed.
    fn read_header(&mut self, input: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let allow = self.config.allow_non_minimal_length;
        if self.rx.header_len == 0 {
            // Fast path: the whole header is in this read.
            return match FrameHeader::decode_with(input, allow)? {
                Status::Complete(done) => Ok(Some(done)),
                Status::Partial => {
                    self.rx.header[..input.len()].copy_from_slice(input);
                    self.rx.header_len = input.len();
                    Ok(None)
                }
            };
        }
        let have = self.rx.header_len;
        let add = input.len().min(MAX_HEADER_LEN - have);
        self.rx.header[have..have + add].copy_from_slice(&input[..add]);
        match FrameHeader::decode_with(&self.rx.header[..have + add], allow)? {
            Status::Complete((header, used)) => {
                self.rx.header_len = 0;
                Ok(Some((header, used - have)))
            }
            Status::Partial => {
                self.rx.header_len = have + add;
                Ok(None)
            }
        }
    }

    /// Checks a header against the policy table and sets up its frame.
    fn start_frame(&mut self, h: &FrameHeader) -> Result<FrameState, ProtocolError> {
        // RFC 6455 §5.2: RSV bits MUST be 0 unless an extension defines them; permessage-deflate
        // defines RSV1 (RFC 7692 §6).
        #[cfg(feature = "deflate")]
        let deflate = self.deflate.active();
        #[cfg(not(feature = "deflate"))]
        let deflate = false;
        let rsv1 = h.rsv & RSV1 != 0;
        if h.rsv & !RSV1 != 0 || (rsv1 && !deflate) {
            return Err(ProtocolError::ReservedBits);
        }
        // RFC 6455 §5.1: clients mask, servers do not.
        match (self.role, h.masking_key.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if h.opcode.is_control() {
            // RFC 6455 §5.5: control frames are at most 125 bytes and never fragmented.
            if !h.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if h.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong);
            }
            // RFC 7692 §6.1: control frames are never compressed.
            if rsv1 {
                return Err(ProtocolError::CompressedControlFrame);
            }
            if self.rx.data.is_empty() {
                self.rx.reserve_data(h.payload_len as usize);
            } else {
                self.rx.reserve_control();
            }
        } else {
            // RFC 6455 §5.4: fragments of one message are not interleaved with another.
            match (h.opcode, self.rx.message) {
                (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
                (OpCode::Text | OpCode::Binary, Some(_)) => {
                    return Err(ProtocolError::ExpectedContinuation);
                }
                // RFC 7692 §6.1: RSV1 is set on the first frame of a compressed message only.
                (OpCode::Continuation, Some(_)) if rsv1 => {
                    return Err(ProtocolError::CompressedContinuation);
                }
                _ => {}
            }
            #[cfg(feature = "deflate")]
            let compressed = if h.opcode == OpCode::Continuation {
                self.rx.compressed
            } else {
                rsv1
            };
            #[cfg(not(feature = "deflate"))]
            let compressed = false;
            // Limits are checked against the declared length, before any payload is kept. A
            // compressed payload is not kept at all (its inflated size is limited as it is
            // inflated); on the wire it may exceed the limits by DEFLATE's worst-case expansion.
            let wire_limit = |limit: usize| {
                let limit = limit as u64;
                if compressed {
                    limit.saturating_add(limit / 8 + 64)
                } else {
                    limit
                }
            };
            if h.payload_len > wire_limit(self.config.max_frame_size) {
                return Err(ProtocolError::FrameTooLarge);
            }
            if self.rx.message_len + h.payload_len > wire_limit(self.config.max_message_size) {
                return Err(ProtocolError::MessageTooLarge);
            }
            match h.opcode {
                OpCode::Text => self.rx.message = Some(MessageKind::Text),
                OpCode::Binary => self.rx.message = Some(MessageKind::Binary),
                _ => {}
            }
            #[cfg(feature = "deflate")]
            {
                self.rx.compressed = compressed;
            }
            // A compressed payload is inflated as it arrives, never kept.
            if !compressed {
                self.rx
                    .reserve_data((h.payload_len as usize).min(EAGER_RESERVE));
            }
        }
        #[cfg(feature = "deflate")]
        let compressed = self.rx.compressed && !h.opcode.is_control();
        Ok(FrameState {
            opcode: h.opcode,
            fin: h.fin,
            remaining: h.payload_len,
            masking_key: h.masking_key,
            phase: 0,
            in_arena: self.rx.data.is_empty(),
            #[cfg(feature = "deflate")]
            compressed,
            // The tail completes the last frame; a message with an empty compressed payload is
            // empty, with nothing to inflate (RFC 7692's smallest form of one is 0x00).
            #[cfg(feature = "deflate")]
            tail: if compressed && h.fin && self.rx.message_len + h.payload_len > 0 {
                4
            } else {
                0
            },
            #[cfg(feature = "deflate")]
            drained: true,
        })
    }

    /// Copies (and unmasks) the next part of the payload; checks text as it arrives.
    fn payload(&mut self, frame: &mut FrameState, bytes: &[u8]) -> Result<(), ProtocolError> {
        frame.remaining -= bytes.len() as u64;
        let buf = if frame.opcode.is_control() {
            if frame.in_arena {
                &mut self.rx.data
            } else {
                &mut self.rx.control
            }
        } else {
            &mut self.rx.data
        };
        let start = buf.len();
        match frame.masking_key {
            Some(key) => frame.phase = extend_masked(buf, bytes, key, frame.phase),
            None => buf.extend_from_slice(bytes),
        }
        if !frame.opcode.is_control() {
            self.rx.message_len += bytes.len() as u64;
            if self.rx.message == Some(MessageKind::Text) {
                // RFC 6455 §8.1 / Autobahn 6.4: fail as soon as the bytes prove invalid UTF-8.
                self.rx
                    .utf8
                    .feed(&self.rx.data[start..])
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        }
        Ok(())
    }

    /// A frame's payload is complete.
    fn end_frame(&mut self, frame: &FrameState) -> Result<(), ProtocolError> {
        match frame.opcode {
            OpCode::Continuation | OpCode::Text | OpCode::Binary => {
                if !frame.fin {
                    if self.config.streaming {
                        self.emit_chunk(false);
                    }
                    return Ok(());
                }
                let kind = self.rx.message.take().unwrap_or(MessageKind::Binary);
                self.rx.message_len = 0;
                if kind == MessageKind::Text {
                    self.rx
                        .utf8
                        .finish()
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                #[cfg(feature = "deflate")]
                if frame.compressed {
                    self.deflate.end_inflated_message();
                    self.rx.compressed = false;
                    self.rx.inflated = 0;
                }
                if self.config.streaming {
                    self.emit_last_chunk(kind);
                } else {
                    let data = self.rx.take_message();
                    self.events.push_back(match kind {
                        MessageKind::Text => Event::Text(Text::from_validated(data)),
                        MessageKind::Binary => Event::Binary(data),
                    });
                }
            }
            OpCode::Ping | OpCode::Pong => {
                let payload = self.rx.take_control(frame);
                let event = self.ping_or_pong(frame.opcode == OpCode::Ping, payload);
                self.events.push_back(event);
            }
            OpCode::Close => {
                let payload = self.rx.take_control(frame);
                let frame = CloseFrame::parse(payload)?;
                self.close_received(frame);
            }
        }
        Ok(())
    }

    /// Streaming mode: delivers what has arrived of the current message, holding back an
    /// unfinished code point of text.
    pub(super) fn emit_chunk(&mut self, fin: bool) {
        let Some(kind) = self.rx.message else { return };
        let hold = if kind == MessageKind::Text {
            self.rx.utf8.pending_len()
        } else {
            0
        };
        let n = self.rx.data.len() - hold;
        if n == 0 && !fin {
            return;
        }
        let data = self.rx.data.split_to(n).freeze();
        self.events.push_back(match kind {
            MessageKind::Text => Event::TextChunk {
                text: Text::from_validated(data),
                fin,
            },
            MessageKind::Binary => Event::BinaryChunk { data, fin },
        });
    }

    fn emit_last_chunk(&mut self, kind: MessageKind) {
        self.rx.message = Some(kind);
        self.emit_chunk(true);
        self.rx.message = None;
    }
}
