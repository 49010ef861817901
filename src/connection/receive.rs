//! The receive path: headers, payload copy-and-unmask, message assembly, policy checks.

use bytes::BytesMut;

use super::{Connection, Event, MAX_QUEUED_EVENTS, MessageKind};
use crate::close::CloseFrame;
use crate::error::ProtocolError;
use crate::frame::{
    FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, Status, extend_masked,
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

/// Receive-side state. Holds no heap memory until data arrives.
pub(super) struct Receiver {
    /// A header split across reads.
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    /// The frame whose payload is arriving.
    frame: Option<FrameState>,
    /// The data message in progress and its size so far.
    message: Option<MessageKind>,
    message_len: u64,
    utf8: Utf8Validator,
    /// The data message being assembled; whole messages are split off it as `Bytes`.
    data: BytesMut,
    /// The previous arena, reused once every message split off it has been dropped.
    spare: BytesMut,
    /// The sizes the two arenas were allocated with.
    data_size: usize,
    spare_size: usize,
    /// A control frame's payload when it arrives inside a fragmented message (otherwise control
    /// payloads are assembled in the data arena, which is then empty).
    control: BytesMut,
}

#[derive(Copy, Clone)]
struct FrameState {
    opcode: OpCode,
    fin: bool,
    remaining: u64,
    masking_key: Option<[u8; 4]>,
    phase: usize,
    /// Whether a control payload is assembled in the data arena (else in `control`).
    in_arena: bool,
}

impl Receiver {
    /// Makes room for `want` more bytes of data. At the start of a message, reuse an arena
    /// nobody else holds (the current one or the spare), else start a new one; the old arena
    /// becomes the spare, reclaimed when the application drops its messages. In the steady
    /// state this allocates nothing.
    fn reserve_data(&mut self, want: usize) {
        if self.data.capacity() - self.data.len() >= want {
            return;
        }
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
        }
    }
}

impl Connection {
    /// Parses `input` until it is used up, the event queue is full, or the connection closes.
    /// Returns how many bytes were used (all of them once the connection is closed).
    pub(super) fn process(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        while !self.input_done() && self.events.len() < MAX_QUEUED_EVENTS {
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
        // RFC 6455 §5.2: RSV bits MUST be 0 unless an extension defines them.
        if h.rsv != 0 {
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
                _ => {}
            }
            // Limits are checked against the declared length, before any payload is kept.
            if h.payload_len > self.config.max_frame_size as u64 {
                return Err(ProtocolError::FrameTooLarge);
            }
            if self.rx.message_len + h.payload_len > self.config.max_message_size as u64 {
                return Err(ProtocolError::MessageTooLarge);
            }
            match h.opcode {
                OpCode::Text => self.rx.message = Some(MessageKind::Text),
                OpCode::Binary => self.rx.message = Some(MessageKind::Binary),
                _ => {}
            }
            self.rx
                .reserve_data((h.payload_len as usize).min(EAGER_RESERVE));
        }
        Ok(FrameState {
            opcode: h.opcode,
            fin: h.fin,
            remaining: h.payload_len,
            masking_key: h.masking_key,
            phase: 0,
            in_arena: self.rx.data.is_empty(),
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
                if self.config.streaming {
                    self.emit_last_chunk(kind);
                } else {
                    let data = self.rx.data.split().freeze();
                    self.events.push_back(match kind {
                        MessageKind::Text => Event::Text(Text::from_validated(data)),
                        MessageKind::Binary => Event::Binary(data),
                    });
                }
            }
            OpCode::Ping => {
                let payload = self.rx.take_control(frame);
                if self.config.auto_pong {
                    self.queue_auto_pong(&payload);
                }
                self.events.push_back(Event::Ping(payload));
            }
            OpCode::Pong => {
                let payload = self.rx.take_control(frame);
                self.events.push_back(Event::Pong(payload));
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
    fn emit_chunk(&mut self, fin: bool) {
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
