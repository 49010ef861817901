//! permessage-deflate in the connection (RFC 7692 §6): inflating a received message as its
//! payload arrives, compressing what we send.

use alloc::boxed::Box;

use super::receive::FrameState;
use super::{Connection, MAX_QUEUED_EVENTS, MessageKind};
use crate::close::CloseCode;
use crate::error::{ProtocolError, SendError};
use crate::extensions::DeflateParams;
use crate::extensions::deflate::{Deflater, Inflater, OUTPUT_STEP, TAIL};
use crate::frame::{OpCode, RSV1};
use crate::negotiated::{Negotiated, Role};

/// The connection's compression state: the agreed parameters, and the compressor and
/// decompressor, each created when first needed (an idle connection holds neither).
pub(super) struct Codec {
    /// Our role (which direction each parameter applies to) and the parameters, if agreed.
    server: bool,
    params: Option<DeflateParams>,
    inflater: Option<Box<Inflater>>,
    deflater: Option<Box<Deflater>>,
}

impl Codec {
    pub(super) fn new(role: Role, negotiated: &Negotiated) -> Self {
        Self {
            server: role == Role::Server,
            params: negotiated.deflate().copied(),
            inflater: None,
            deflater: None,
        }
    }

    /// Whether permessage-deflate was agreed: RSV1 marks a compressed message.
    pub(super) fn active(&self) -> bool {
        self.params.is_some()
    }

    /// Whether we may compress what we send: agreed, and with a window a zlib-class
    /// compressor can honour (an 8-bit limit is kept by sending uncompressed).
    fn can_send(&self) -> bool {
        self.params.is_some_and(|p| p.window_bits(self.server) >= 9)
    }

    /// Drops the compressor and decompressor (the connection is over).
    pub(super) fn release(&mut self) {
        self.inflater = None;
        self.deflater = None;
    }

    fn inflater(&mut self) -> &mut Inflater {
        let bits = self.params.unwrap_or_default().window_bits(!self.server);
        self.inflater
            .get_or_insert_with(|| Box::new(Inflater::new(bits)))
    }

    fn deflater(&mut self, level: u8) -> &mut Deflater {
        let bits = self.params.unwrap_or_default().window_bits(self.server);
        self.deflater
            .get_or_insert_with(|| Box::new(Deflater::new(level, bits)))
    }

    /// A received compressed message is complete: reset the decompressor if the peer does
    /// not take over its context.
    pub(super) fn end_inflated_message(&mut self) {
        let reset = self
            .params
            .is_some_and(|p| p.no_context_takeover(!self.server));
        if let Some(inflater) = &mut self.inflater {
            inflater.end_message(reset);
        }
    }
}

impl Connection {
    /// Inflates a compressed data frame: the payload bytes at the start of `input` (at most
    /// what the frame has left), then, at the end of the message, the 4-byte tail the sender
    /// removed (RFC 7692 §7.2.2). Returns how many bytes of `input` were used.
    ///
    /// The output is checked as it comes: against [`Config::max_message_size`] (1009 as soon
    /// as the inflated message passes it, so memory never grows past it) and, for text, as
    /// UTF-8 (1007). In streaming mode it is delivered in chunks of [`OUTPUT_STEP`], and the
    /// step stops when the event queue is full, to go on when events are taken.
    ///
    /// [`Config::max_message_size`]: crate::Config::max_message_size
    pub(super) fn inflate_frame(
        &mut self,
        frame: &mut FrameState,
        input: &[u8],
    ) -> Result<usize, ProtocolError> {
        let avail = input
            .len()
            .min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
        let limit = self.config.max_message_size;
        let streaming = self.config.streaming;
        let text = self.rx.message == Some(MessageKind::Text);
        let mut used = 0;
        loop {
            if streaming && self.events.len() >= MAX_QUEUED_EVENTS {
                return Ok(used);
            }
            let from_payload = used < avail;
            let (wire, mask): (&[u8], _) = if from_payload {
                let key = frame.masking_key.map(|key| (key, frame.phase));
                (&input[used..avail], key)
            } else if frame.remaining == 0 && frame.tail > 0 {
                (&TAIL[TAIL.len() - usize::from(frame.tail)..], None)
            } else {
                (&[], None)
            };
            let inflater = self.deflate.inflater();
            if inflater.ended() && !from_payload {
                // The sender ended its stream with a final block (RFC 7692 §7.2.3.4): the
                // tail is not part of it.
                frame.tail = 0;
                frame.drained = true;
                return Ok(used);
            }
            let room = if streaming {
                OUTPUT_STEP
            } else {
                // One byte over the limit is enough to know it is passed.
                limit.saturating_sub(self.rx.inflated).saturating_add(1)
            };
            let (n, out) = inflater
                .step(wire, mask, room)
                .map_err(|_| ProtocolError::InvalidCompressedData)?;
            let produced = out.len();
            if from_payload {
                used += n;
                frame.remaining -= n as u64;
                frame.phase = (frame.phase + n) & 3;
                self.rx.message_len += n as u64;
            } else {
                // At most the tail's length.
                frame.tail -= n as u8;
            }
            if produced > 0 {
                self.rx.inflated += produced;
                if self.rx.inflated > limit {
                    return Err(ProtocolError::MessageTooLarge);
                }
                if text {
                    // RFC 6455 §8.1 on the inflated text: fail as soon as it proves invalid.
                    self.rx
                        .utf8
                        .feed(out)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                self.rx.push_inflated(out, limit, streaming);
                if streaming && self.rx.data.len() >= OUTPUT_STEP {
                    self.emit_chunk(false);
                }
            }
            frame.drained = produced < room;
            if n == 0 && frame.drained {
                return Ok(used);
            }
        }
    }

    /// Whether a whole message of `len` bytes is sent compressed.
    pub(super) fn compresses(&self, len: usize) -> bool {
        self.deflate.can_send() && len >= self.config.deflate.threshold
    }

    /// Whether a fragmented message is sent compressed (its size is not known up front).
    pub(super) fn compresses_fragments(&self) -> bool {
        self.deflate.can_send() && self.config.deflate.threshold != usize::MAX
    }

    /// Compresses `data` and queues it as one frame; the first frame of a message carries
    /// RSV1 (RFC 7692 §6.1). At the end of the message the compressor forgets its window if
    /// we do not take over our context.
    pub(super) fn write_compressed(
        &mut self,
        opcode: OpCode,
        first: bool,
        fin: bool,
        data: &[u8],
    ) -> Result<(), SendError> {
        // Checked before the compressor sees the data: its window must hold only what is sent.
        if self.role == Role::Client && self.mask_source.is_none() {
            return Err(SendError::NoMaskSource);
        }
        let level = self.config.deflate.level;
        let Ok(payload) = self.deflate.deflater(level).compress(data, fin) else {
            // zlib fails only on misuse; the stream cannot go on.
            let _ = self.fail(CloseCode::INTERNAL_ERROR, "compression failed");
            return Err(SendError::Closed);
        };
        let rsv = if first { RSV1 } else { 0 };
        let result = self.write_frame(opcode, fin, rsv, payload.as_slice().into());
        let reset = fin
            && self
                .deflate
                .params
                .is_some_and(|p| p.no_context_takeover(self.deflate.server));
        let deflater = self.deflate.deflater(level);
        deflater.recycle(payload);
        if reset {
            deflater.reset();
        }
        result
    }
}
