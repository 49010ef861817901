//! permessage-deflate as a connection runs it (RFC 7692 §6): the extension behind the seam.

use alloc::boxed::Box;

use super::codec::{Deflater, Inflater, TAIL};
use super::{DeflateConfig, DeflateParams};
use crate::error::ProtocolError;
use crate::extensions::seam::{Codec, EncodeError, Step};
use crate::frame::RSV1;

/// The agreed parameters, and the compressor and decompressor, each created when first
/// needed (an idle connection holds neither).
pub(crate) struct PerMessageDeflate {
    /// Our role: which direction each parameter applies to.
    server: bool,
    params: DeflateParams,
    level: u8,
    threshold: usize,
    inflater: Option<Box<Inflater>>,
    deflater: Option<Box<Deflater>>,
    /// Bytes of the 4-byte tail (RFC 7692 §7.2.2) still to feed after the current frame's
    /// payload: 4 for the last frame of a non-empty message, else 0.
    tail: u8,
    /// The decompressor has given all the output its input so far makes.
    drained: bool,
}

impl PerMessageDeflate {
    /// The extension for a server (`server`) or a client that agreed to `params`.
    pub(crate) fn new(server: bool, params: DeflateParams, config: &DeflateConfig) -> Self {
        Self {
            server,
            params,
            level: config.level,
            threshold: config.threshold,
            inflater: None,
            deflater: None,
            tail: 0,
            drained: true,
        }
    }

    /// Whether we may compress what we send: with a window a zlib-class compressor can
    /// honour (an 8-bit limit is kept by sending uncompressed).
    fn can_send(&self) -> bool {
        self.params.window_bits(self.server) >= 9
    }

    fn deflater(&mut self) -> &mut Deflater {
        let (level, bits) = (self.level, self.params.window_bits(self.server));
        self.deflater
            .get_or_insert_with(|| Box::new(Deflater::new(level, bits)))
    }
}

impl Codec for PerMessageDeflate {
    /// RFC 7692 §6: RSV1 marks a compressed message.
    fn rsv(&self) -> u8 {
        RSV1
    }

    fn inbound_frame(&mut self, fin: bool, empty: bool) {
        // The tail completes the last frame; a message with an empty compressed payload is
        // empty, with nothing to inflate (RFC 7692's smallest form of one is 0x00).
        self.tail = if fin && !empty { 4 } else { 0 };
        self.drained = true;
    }

    fn inbound_step(
        &mut self,
        payload: &[u8],
        mask: Option<([u8; 4], usize)>,
        payload_done: bool,
        room: usize,
    ) -> Result<Step<'_>, ProtocolError> {
        let from_payload = !payload.is_empty();
        let tail = self.tail;
        let (wire, mask): (&[u8], _) = if from_payload {
            (payload, mask)
        } else if payload_done && tail > 0 {
            (&TAIL[TAIL.len() - usize::from(tail)..], None)
        } else {
            (&[], None)
        };
        let inflater = self
            .inflater
            .get_or_insert_with(|| Box::new(Inflater::new(self.params.window_bits(!self.server))));
        if inflater.ended() && !from_payload {
            // The sender ended its stream with a final block (RFC 7692 §7.2.3.4): the tail
            // is not part of it.
            self.tail = 0;
            self.drained = true;
            return Ok(Step {
                used: 0,
                output: &[],
                stalled: true,
            });
        }
        let (n, output) = inflater
            .step(wire, mask, room)
            .map_err(|_| ProtocolError::InvalidCompressedData)?;
        let used = if from_payload {
            n
        } else {
            // At most the tail's length.
            self.tail -= n as u8;
            0
        };
        self.drained = output.len() < room;
        let stalled = n == 0 && self.drained;
        Ok(Step {
            used,
            output,
            stalled,
        })
    }

    fn inbound_pending(&self, payload_done: bool) -> bool {
        !self.drained || (payload_done && self.tail > 0)
    }

    /// Resets the decompressor if the peer does not take over its context (RFC 7692 §7.1.1).
    fn inbound_message_end(&mut self) {
        let reset = self.params.no_context_takeover(!self.server);
        if let Some(inflater) = &mut self.inflater {
            inflater.end_message(reset);
        }
    }

    fn outbound_applies(&self, len: Option<usize>) -> bool {
        self.can_send()
            && match len {
                Some(len) => len >= self.threshold,
                None => self.threshold != usize::MAX,
            }
    }

    /// Compresses `data` into one frame's payload. At the end of the message the compressor
    /// forgets its window if we do not take over our context (RFC 7692 §7.1.1).
    fn outbound(
        &mut self,
        data: &[u8],
        fin: bool,
        emit: &mut dyn FnMut(&[u8]),
    ) -> Result<(), EncodeError> {
        let reset = fin && self.params.no_context_takeover(self.server);
        let deflater = self.deflater();
        // zlib fails only on misuse.
        let payload = deflater.compress(data, fin).map_err(|_| EncodeError)?;
        emit(&payload);
        deflater.recycle(payload);
        if reset {
            deflater.reset();
        }
        Ok(())
    }

    fn release(&mut self) {
        self.inflater = None;
        self.deflater = None;
    }
}
