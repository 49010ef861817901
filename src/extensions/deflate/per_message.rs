//! permessage-deflate as a connection runs it (RFC 7692 §6): the extension behind the seam.

use alloc::boxed::Box;

use super::codec::{self, Deflater, Inflater, Settings, TAIL};
use super::{DeflateConfig, DeflateParams};
use crate::error::ProtocolError;
use crate::extensions::seam::{Codec, EncodeError, Step};
use crate::frame::RSV1;

/// The agreed parameters, and the compressor and decompressor, each created when first
/// needed (an idle connection holds neither).
///
/// Unless the configuration keeps the compressor's context and the peer allows it, every
/// message is compressed on its own by the compressor this thread's connections share
/// ([`codec::take_shared`]): the connection borrows it for a whole message, or holds it from
/// the first fragment of a fragmented one to the last.
pub(crate) struct PerMessageDeflate {
    /// Our role: which direction each parameter applies to.
    server: bool,
    params: DeflateParams,
    settings: Settings,
    threshold: usize,
    /// The compressor keeps its window between messages (it is this connection's own).
    keep_context: bool,
    inflater: Option<Box<Inflater>>,
    /// Our own compressor (context kept), or the shared one during a fragmented message.
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
        let window_bits = config.window_bits.min(params.window_bits(server));
        Self {
            server,
            params,
            settings: Settings::new(config.level, window_bits, config.mem_level),
            threshold: config.threshold,
            keep_context: config.context_takeover && !params.no_context_takeover(server),
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

    /// Compresses `data` into one frame's payload: with our own compressor if we keep the
    /// context, else on its own with the thread's shared one (RFC 7692 §7.1.1 lets a sender
    /// always forget its window).
    fn outbound(
        &mut self,
        data: &[u8],
        fin: bool,
        emit: &mut dyn FnMut(&[u8]),
    ) -> Result<(), EncodeError> {
        if !self.keep_context && fin && self.deflater.is_none() {
            // A whole message: borrow the shared compressor for it.
            return self.encode_standalone(data, emit);
        }
        let settings = self.settings;
        let keep_context = self.keep_context;
        let mut deflater = match self.deflater.take() {
            Some(deflater) => deflater,
            None if keep_context => Box::new(Deflater::new(settings)),
            None => codec::take_shared(settings),
        };
        // zlib fails only on misuse.
        let result = deflater.compress(data, fin).map(&mut *emit);
        if keep_context || !fin {
            if fin {
                deflater.trim();
            }
            self.deflater = Some(deflater);
        } else {
            codec::give_back(deflater);
        }
        result.map_err(|_| EncodeError)
    }

    /// The key under which a message compressed on its own by this connection can be shared
    /// with others: the window it is compressed with (any level decodes the same), or `None`
    /// if this connection compresses with its context.
    fn standalone_key(&self) -> Option<u8> {
        (!self.keep_context && self.can_send()).then_some(self.settings.window_bits)
    }

    /// Compresses a whole message on its own, as [`standalone_key`](Codec::standalone_key)
    /// allows sharing.
    fn encode_standalone(
        &self,
        data: &[u8],
        emit: &mut dyn FnMut(&[u8]),
    ) -> Result<(), EncodeError> {
        codec::compress_alone(self.settings, data, emit).map_err(|_| EncodeError)
    }

    fn release(&mut self) {
        self.inflater = None;
        self.deflater = None;
    }
}
