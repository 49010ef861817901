//! The receive policy: what the decoder's frames mean. Each header is judged against the
//! policy table (crate docs), payloads are checked (UTF-8, limits) as they arrive, decoded by
//! an extension where one applies, and whole frames become events and lifecycle inputs.
//!
//! A protocol error leaves the receive path in one place, [`Connection::process`].

use super::lifecycle::Input;
use super::{Connection, Event, EventRef, MAX_QUEUED_EVENTS, MessageKind};
use crate::close::CloseFrame;
use crate::error::ProtocolError;
use crate::extensions::seam::DECODE_STEP;
use crate::frame::decoder::{Decoder, Frame, Sink};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};
use crate::negotiated::Role;
use crate::text::Text;
use crate::utf8::Utf8Validator;

/// The inbound data message as the policy sees it.
pub(super) struct Inbound {
    /// The kind of the data message in progress.
    message: Option<MessageKind>,
    /// Its payload so far, as sent (compressed, for a compressed message).
    len: u64,
    /// Its text so far, checked as it arrives.
    utf8: Utf8Validator,
    /// An extension decodes it (permessage-deflate: RSV1 on its first frame).
    decoded: bool,
    /// The bytes the extension has decoded of it so far.
    decoded_len: usize,
    /// The last event lent by [`Connection::poll_event_ref`], kept until the next call.
    lent: Option<Event>,
}

impl Inbound {
    pub(super) const fn new() -> Self {
        Self {
            message: None,
            len: 0,
            utf8: Utf8Validator::new(),
            decoded: false,
            decoded_len: 0,
            lent: None,
        }
    }
}

/// A short frame lent where it lies in the stash: its opcode and payload offsets.
struct Lent {
    opcode: u8,
    start: usize,
    end: usize,
}

/// What the receive loop does next.
enum Flow {
    /// Go on with the next frame.
    Next,
    /// All the input is used (inside a header or a payload).
    Done,
}

impl Connection {
    /// Parses `input` until it is used up, the event queue is full, or parsing stops (the
    /// peer's Close, a protocol error, the end). Returns how many bytes were used (all of them
    /// once parsing stopped).
    pub(super) fn process(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        while self.lifecycle.parsing() && self.events.len() < MAX_QUEUED_EVENTS {
            match self.next_frame(input, &mut pos) {
                Ok(Flow::Next) => {}
                Ok(Flow::Done) => return input.len(),
                Err(error) => {
                    // Every protocol error leaves the receive path here: input stops, and the
                    // connection fails once the events before the error are taken.
                    self.step(Input::Violation(error));
                    break;
                }
            }
        }
        if self.lifecycle.parsing() {
            pos
        } else {
            input.len()
        }
    }

    /// Takes the next frame, or the next part of one, from `input[*pos..]`.
    #[inline]
    fn next_frame(&mut self, input: &[u8], pos: &mut usize) -> Result<Flow, ProtocolError> {
        if self.decoder.at_frame_start() {
            if let Some(used) = self.short_frame(&input[*pos..])? {
                *pos += used;
                return Ok(Flow::Next);
            }
        }
        if self.decoder.frame().is_none() {
            let allow = self.config.allow_non_minimal_length;
            let Some((header, used)) = self.decoder.read_header(&input[*pos..], allow)? else {
                return Ok(Flow::Done);
            };
            *pos += used;
            let sink = self.check_header(&header)?;
            self.decoder.start(&header, sink);
        }
        if self.inbound.decoded && self.decoder.frame().is_some_and(|f| !f.opcode.is_control()) {
            return self.decode_payload(input, pos);
        }
        if *pos < input.len() {
            let data = self.decoder.frame().is_some_and(|f| !f.opcode.is_control());
            let (used, added) = self.decoder.payload(&input[*pos..]);
            *pos += used;
            if data {
                self.inbound.len += used as u64;
                if self.inbound.message == Some(MessageKind::Text) {
                    // RFC 6455 §8.1: fail as soon as the bytes prove the text invalid.
                    self.inbound
                        .utf8
                        .feed(added)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
            }
        }
        match self.decoder.frame() {
            Some(frame) if frame.remaining > 0 => {
                // Input used up inside the payload.
                if self.config.streaming && !frame.opcode.is_control() {
                    self.emit_piece(false);
                }
                Ok(Flow::Done)
            }
            _ => {
                let frame = self.decoder.finish_frame().expect("a frame in progress");
                self.end_frame(&frame)?;
                Ok(Flow::Next)
            }
        }
    }

    /// The fast path for the commonest frames: a whole unfragmented Text or Binary message, or
    /// a Ping or Pong, with at most 125 bytes of payload, entirely in `input`, outside a
    /// fragmented message and outside streaming mode, with the masking the role requires and
    /// no RSV bits. It delivers the event (answering a Ping) and checks text (invalid UTF-8
    /// is an error here as anywhere). `Ok(None)`: not such a frame; the general path takes it,
    /// whatever it is.
    #[inline]
    fn short_frame(&mut self, input: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let data_max = (self.inbound.message.is_none() && !self.config.streaming)
            .then(|| self.config.max_frame_size.min(self.config.max_message_size));
        let masked = self.role == Role::Server;
        let Some((frame, used)) = self.decoder.short_frame(input, masked, data_max) else {
            return Ok(None);
        };
        let payload = frame.payload;
        let event = match frame.b0 & 0x0f {
            0x1 => {
                // RFC 6455 §8.1.
                if !payload.is_ascii() && !crate::utf8::is_valid(&payload) {
                    return Err(ProtocolError::InvalidUtf8);
                }
                Event::Text(Text::from_validated(payload))
            }
            0x2 => Event::Binary(payload),
            opcode => self.ping_or_pong(opcode == 0x9, payload),
        };
        self.events.push_back(event);
        Ok(Some(used))
    }

    /// The next event, lent ([`Connection::poll_event_ref`]): a short frame at the front of
    /// the stash straight from there, anything else through [`Connection::poll_event`].
    pub(super) fn next_event_ref(&mut self) -> Option<EventRef<'_>> {
        self.inbound.lent = None;
        if self.stash_pos > 0 && self.stash_pos == self.stash.len() {
            // The last call lent the end of the stash.
            self.stash.clear();
            self.stash_pos = 0;
            if self.stash.capacity() > 256 * 1024 {
                self.stash = alloc::vec::Vec::new();
            }
            self.end_if_drained();
        }
        match self.lend_short() {
            Some(Lent { opcode, start, end }) => {
                let payload = &self.stash[start..end];
                Some(match opcode {
                    // `lend_short` took the frame only if this succeeds.
                    0x1 => EventRef::Text(crate::utf8::to_str(payload).unwrap_or_default()),
                    0x2 => EventRef::Binary(payload),
                    0x9 => EventRef::Ping(payload),
                    _ => EventRef::Pong(payload),
                })
            }
            None => {
                let event = self.poll_event()?;
                Some(EventRef::from(&*self.inbound.lent.insert(event)))
            }
        }
    }

    /// Takes the frame at the front of the stash if it is a short frame the fast path takes
    /// ([`Connection::short_frame`]) and nothing comes before it: unmasks it in place, checks
    /// text, answers a Ping, and says where it lies. `None` (with nothing changed): the
    /// general path takes the next event, whatever it is.
    #[inline]
    fn lend_short(&mut self) -> Option<Lent> {
        if !self.events.is_empty()
            || self.stash_pos >= self.stash.len()
            || !self.decoder.at_frame_start()
            || !self.lifecycle.parsing()
        {
            return None;
        }
        let data_max = (self.inbound.message.is_none() && !self.config.streaming)
            .then(|| self.config.max_frame_size.min(self.config.max_message_size));
        let masked = self.role == Role::Server;
        let base = self.stash_pos;
        let short = Decoder::short_frame_in_place(&mut self.stash[base..], masked, data_max)?;
        let (start, end) = (base + short.start, base + short.end);
        let opcode = short.b0 & 0x0f;
        match opcode {
            // RFC 6455 §8.1. Invalid text is masked again (the same XOR), for the general path
            // to find and fail the connection on, after the events before it.
            0x1 if crate::utf8::to_str(&self.stash[start..end]).is_err() => {
                Decoder::short_frame_in_place(&mut self.stash[base..], masked, data_max);
                return None;
            }
            0x9 if self.config.auto_pong => {
                let key = self.masking_key();
                self.out.push_auto_pong(key, &self.stash[start..end]);
            }
            0xa => self.timers.pong(),
            _ => {}
        }
        // A stash used up is cleared (and the end of stream acted on) by the next call: the
        // event borrows it.
        self.stash_pos = end;
        Some(Lent { opcode, start, end })
    }

    /// Judges a header against the policy table and says where its payload goes.
    fn check_header(&mut self, h: &FrameHeader) -> Result<Sink, ProtocolError> {
        // RFC 6455 §5.2: RSV bits MUST be 0 unless an agreed extension defines them.
        let claimed = self.extensions.rsv();
        if h.rsv & !claimed != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        let extension_bits = h.rsv & claimed != 0;
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
            if extension_bits {
                return Err(ProtocolError::CompressedControlFrame);
            }
            return Ok(Sink::Control);
        }
        // RFC 6455 §5.4: fragments of one message are not interleaved with another.
        match (h.opcode, self.inbound.message) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            // RFC 7692 §6.1: RSV1 is set on the first frame of a compressed message only.
            (OpCode::Continuation, Some(_)) if extension_bits => {
                return Err(ProtocolError::CompressedContinuation);
            }
            _ => {}
        }
        let decoded = if h.opcode == OpCode::Continuation {
            self.inbound.decoded
        } else {
            extension_bits
        };
        // Limits are judged on the declared length, before any payload is kept. A payload an
        // extension decodes is not kept at all (its decoded size is held to the message limit
        // as it is decoded); on the wire it may pass the limits by DEFLATE's worst-case
        // expansion: limit + limit/8 + 64 bytes.
        let wire_limit = |limit: usize| {
            let limit = limit as u64;
            if decoded {
                limit.saturating_add(limit / 8 + 64)
            } else {
                limit
            }
        };
        if h.payload_len > wire_limit(self.config.max_frame_size) {
            return Err(ProtocolError::FrameTooLarge);
        }
        if self.inbound.len + h.payload_len > wire_limit(self.config.max_message_size) {
            return Err(ProtocolError::MessageTooLarge);
        }
        match h.opcode {
            OpCode::Text => self.inbound.message = Some(MessageKind::Text),
            OpCode::Binary => self.inbound.message = Some(MessageKind::Binary),
            _ => {}
        }
        self.inbound.decoded = decoded;
        if !decoded {
            return Ok(Sink::Message);
        }
        let empty = self.inbound.len + h.payload_len == 0;
        if let Some(codec) = self.extensions.codec() {
            codec.inbound_frame(h.fin, empty);
        }
        Ok(Sink::Raw)
    }

    /// Decodes the payload of a frame through the extension: the payload bytes at the start
    /// of `input[*pos..]`, then whatever the extension adds at the end of the message.
    ///
    /// The output is checked as it comes: against [`Config::max_message_size`] (1009 as soon
    /// as the decoded message passes it, so memory never grows past it) and, for text, as
    /// UTF-8 (1007). In streaming mode it is delivered in pieces of [`DECODE_STEP`], and
    /// decoding stops while the event queue is full, to go on when events are taken.
    ///
    /// [`Config::max_message_size`]: crate::Config::max_message_size
    fn decode_payload(&mut self, input: &[u8], pos: &mut usize) -> Result<Flow, ProtocolError> {
        let limit = self.config.max_message_size;
        let streaming = self.config.streaming;
        let text = self.inbound.message == Some(MessageKind::Text);
        let Self {
            decoder,
            extensions,
            inbound,
            events,
            ..
        } = self;
        let codec = extensions
            .codec()
            .expect("a decoded message has its extension");
        loop {
            if streaming && events.len() >= MAX_QUEUED_EVENTS {
                break;
            }
            let (payload, mask) = decoder.raw(&input[*pos..]);
            let remaining = decoder.frame().map_or(0, |f| f.remaining);
            let payload_done = remaining == payload.len() as u64;
            let room = if streaming {
                DECODE_STEP
            } else {
                // One byte over the limit is enough to know it is passed.
                limit.saturating_sub(inbound.decoded_len).saturating_add(1)
            };
            let step = codec.inbound_step(payload, mask, payload_done, room)?;
            decoder.advance_raw(step.used);
            *pos += step.used;
            inbound.len += step.used as u64;
            if !step.output.is_empty() {
                inbound.decoded_len += step.output.len();
                if inbound.decoded_len > limit {
                    return Err(ProtocolError::MessageTooLarge);
                }
                if text {
                    // RFC 6455 §8.1 on the decoded text: fail as soon as it proves invalid.
                    inbound
                        .utf8
                        .feed(step.output)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                decoder.push_decoded(step.output, limit, streaming);
                if streaming && decoder.buffered() >= DECODE_STEP {
                    if let Some(piece) = take_piece(decoder, inbound, false) {
                        events.push_back(piece);
                    }
                }
            }
            if step.stalled {
                break;
            }
        }
        let payload_done = decoder.frame().is_some_and(|f| f.remaining == 0);
        if !payload_done || codec.inbound_pending(true) {
            if *pos < input.len() || codec.inbound_pending(payload_done) {
                // The event queue is full, or the extension has more for this frame.
                return Ok(Flow::Next);
            }
            // Input used up inside the payload.
            if streaming {
                self.emit_piece(false);
            }
            return Ok(Flow::Done);
        }
        let frame = self.decoder.finish_frame().expect("a frame in progress");
        self.end_frame(&frame)?;
        Ok(Flow::Next)
    }

    /// Whether an extension has decoding left for the current frame that needs no input.
    pub(super) fn decode_pending(&self) -> bool {
        match self.decoder.frame() {
            Some(frame) if self.inbound.decoded && !frame.opcode.is_control() => {
                self.extensions.inbound_pending(frame.remaining == 0)
            }
            _ => false,
        }
    }

    /// A frame's payload is complete.
    fn end_frame(&mut self, frame: &Frame) -> Result<(), ProtocolError> {
        match frame.opcode {
            OpCode::Continuation | OpCode::Text | OpCode::Binary => {
                if !frame.fin {
                    if self.config.streaming {
                        self.emit_piece(false);
                    }
                    return Ok(());
                }
                let kind = self.inbound.message.unwrap_or(MessageKind::Binary);
                if kind == MessageKind::Text {
                    self.inbound
                        .utf8
                        .finish()
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                if self.inbound.decoded {
                    if let Some(codec) = self.extensions.codec() {
                        codec.inbound_message_end();
                    }
                }
                if self.config.streaming {
                    if let Some(piece) = take_piece(&mut self.decoder, &mut self.inbound, true) {
                        self.events.push_back(piece);
                    }
                } else {
                    let data = self.decoder.take_message();
                    self.events.push_back(match kind {
                        MessageKind::Text => Event::Text(Text::from_validated(data)),
                        MessageKind::Binary => Event::Binary(data),
                    });
                }
                self.inbound.message = None;
                self.inbound.len = 0;
                self.inbound.decoded = false;
                self.inbound.decoded_len = 0;
            }
            OpCode::Ping | OpCode::Pong => {
                let payload = self.decoder.take_control(frame);
                let event = self.ping_or_pong(frame.opcode == OpCode::Ping, payload);
                self.events.push_back(event);
            }
            OpCode::Close => {
                let payload = self.decoder.take_control(frame);
                let close = CloseFrame::parse(payload)?;
                self.step(Input::PeerClose);
                self.events.push_back(Event::Close(close));
            }
        }
        Ok(())
    }

    /// The event for a complete Ping (answered first, with `auto_pong`) or Pong.
    #[inline]
    fn ping_or_pong(&mut self, ping: bool, payload: bytes::Bytes) -> Event {
        if !ping {
            self.timers.pong();
            return Event::Pong(payload);
        }
        if self.config.auto_pong {
            self.queue_auto_pong(&payload);
        }
        Event::Ping(payload)
    }

    /// Streaming mode: delivers what has arrived of the current message.
    fn emit_piece(&mut self, fin: bool) {
        if let Some(piece) = take_piece(&mut self.decoder, &mut self.inbound, fin) {
            self.events.push_back(piece);
        }
    }
}

/// Streaming mode: the next piece of the current message, holding back an unfinished code
/// point of text; `None` when there is nothing to deliver before the last piece.
fn take_piece(
    decoder: &mut crate::frame::decoder::Decoder,
    inbound: &mut Inbound,
    fin: bool,
) -> Option<Event> {
    let kind = inbound.message?;
    let hold = if kind == MessageKind::Text {
        inbound.utf8.pending_len()
    } else {
        0
    };
    let n = decoder.buffered() - hold;
    if n == 0 && !fin {
        return None;
    }
    let data = decoder.take_piece(n);
    Some(match kind {
        MessageKind::Text => Event::TextChunk {
            text: Text::from_validated(data),
            fin,
        },
        MessageKind::Binary => Event::BinaryChunk { data, fin },
    })
}
