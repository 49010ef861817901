//! The seam between the connection and the extensions it runs (RFC 6455 §9).
//!
//! An extension that the handshake agreed to is one [`Codec`]: it claims RSV bits, decodes
//! the payload of the inbound messages that carry them as it arrives, learns when such a
//! message ends, and encodes the outbound messages it applies to. The connection calls these
//! hooks and applies its policy (limits, UTF-8, events) to what they produce; an extension
//! never sees the connection, and the connection knows no extension by name.
//!
//! Per-message extensions (RFC 7692 §6) set their bits on the first frame of a data message
//! only; the connection fails a control frame or a continuation frame that carries them.

use crate::error::ProtocolError;

/// Decoded bytes an extension hands over per step, at most, when the connection delivers a
/// message in pieces (streaming mode): the size of those pieces.
pub(crate) const DECODE_STEP: usize = 16 * 1024;

/// What one inbound step did.
pub(crate) struct Step<'a> {
    /// Payload bytes used.
    pub(crate) used: usize,
    /// Decoded message bytes: at most the room the connection gave.
    pub(crate) output: &'a [u8],
    /// Nothing more comes out without more payload: the connection stops stepping.
    pub(crate) stalled: bool,
}

/// The extension could not encode a message; nothing was queued.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncodeError;

/// One agreed extension, as the connection runs it.
pub(crate) trait Codec: Send {
    /// The RSV bits it claims (`0b100` is RSV1).
    fn rsv(&self) -> u8;

    /// A frame of an inbound message it decodes starts: `fin` if it is the message's last,
    /// `empty` if the message has no payload at all (so far and in this frame).
    fn inbound_frame(&mut self, fin: bool, empty: bool);

    /// Decodes from the start of `payload` (the frame's payload bytes in this read, still
    /// masked with `mask`'s key from its offset, if given), giving at most `room` bytes.
    /// `payload_done`: the frame has no payload left beyond `payload`.
    fn inbound_step(
        &mut self,
        payload: &[u8],
        mask: Option<([u8; 4], usize)>,
        payload_done: bool,
        room: usize,
    ) -> Result<Step<'_>, ProtocolError>;

    /// Whether the current frame has work left that needs no more payload (output held
    /// back, or data the extension adds at the end of the message). `payload_done`: the
    /// frame's payload has all been stepped through.
    fn inbound_pending(&self, payload_done: bool) -> bool;

    /// The inbound message it decoded is complete.
    fn inbound_message_end(&mut self);

    /// Whether it encodes an outbound message of `len` bytes (`None`: fragmented, size
    /// unknown).
    fn outbound_applies(&self, len: Option<usize>) -> bool;

    /// Encodes the next part of an outbound message (`fin`: the last) and hands the frame
    /// payload to `emit`. On an error nothing is emitted.
    fn outbound(
        &mut self,
        data: &[u8],
        fin: bool,
        emit: &mut dyn FnMut(&[u8]),
    ) -> Result<(), EncodeError>;

    /// A key under which this extension's encoding of a whole message on its own (sharing no
    /// state with other messages) can be reused by other connections: two connections that
    /// give the same key produce interchangeable encodings. `None` if its encodings depend on
    /// the connection (state kept between messages).
    // Used by prepared messages, which share encodings only where a lock exists (`std`).
    #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
    fn standalone_key(&self) -> Option<u8>;

    /// Encodes a whole message on its own, as [`standalone_key`](Self::standalone_key)
    /// allows sharing, and hands the frame payload to `emit`. On an error nothing is emitted.
    #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
    fn encode_standalone(
        &self,
        data: &[u8],
        emit: &mut dyn FnMut(&[u8]),
    ) -> Result<(), EncodeError>;

    /// The connection is over: release memory.
    fn release(&mut self);
}

/// The extensions a connection runs: today at most one, since wsmachine implements one
/// message-transforming extension (permessage-deflate). Stored inline, so agreeing to an
/// extension allocates nothing until it has work.
#[derive(Default)]
pub(crate) struct Extensions {
    agreed: Option<Agreed>,
}

/// The extensions behind the seam, one variant each.
enum Agreed {
    #[cfg(feature = "deflate")]
    Deflate(crate::extensions::deflate::PerMessageDeflate),
}

impl Agreed {
    fn codec(&mut self) -> &mut dyn Codec {
        match *self {
            #[cfg(feature = "deflate")]
            Self::Deflate(ref mut codec) => codec,
        }
    }

    fn codec_ref(&self) -> &dyn Codec {
        match *self {
            #[cfg(feature = "deflate")]
            Self::Deflate(ref codec) => codec,
        }
    }
}

impl Extensions {
    /// None.
    pub(crate) const fn none() -> Self {
        Self { agreed: None }
    }

    /// permessage-deflate.
    #[cfg(feature = "deflate")]
    pub(crate) fn deflate(codec: crate::extensions::deflate::PerMessageDeflate) -> Self {
        Self {
            agreed: Some(Agreed::Deflate(codec)),
        }
    }

    /// The RSV bits the agreed extensions claim.
    #[inline]
    pub(crate) fn rsv(&self) -> u8 {
        self.agreed.as_ref().map_or(0, |a| a.codec_ref().rsv())
    }

    /// The extension that decodes inbound messages with its bits, and encodes outbound ones.
    #[inline]
    pub(crate) fn codec(&mut self) -> Option<&mut dyn Codec> {
        self.agreed.as_mut().map(Agreed::codec)
    }

    /// Whether an extension encodes an outbound message of `len` bytes (`None`: fragmented).
    #[inline]
    pub(crate) fn outbound_applies(&self, len: Option<usize>) -> bool {
        self.agreed
            .as_ref()
            .is_some_and(|a| a.codec_ref().outbound_applies(len))
    }

    /// Whether the extension decoding the current inbound frame has work left that needs no
    /// more payload (see [`Codec::inbound_pending`]).
    #[inline]
    pub(crate) fn inbound_pending(&self, payload_done: bool) -> bool {
        self.agreed
            .as_ref()
            .is_some_and(|a| a.codec_ref().inbound_pending(payload_done))
    }

    /// The key under which an outbound message encoded on its own can be shared with other
    /// connections (see [`Codec::standalone_key`]), if an extension encodes it.
    #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
    pub(crate) fn standalone_key(&self) -> Option<u8> {
        self.agreed
            .as_ref()
            .and_then(|a| a.codec_ref().standalone_key())
    }

    /// Encodes a whole outbound message on its own (see [`Codec::encode_standalone`]); with
    /// no extension, the message as it is.
    #[cfg_attr(not(feature = "deflate"), allow(dead_code))]
    pub(crate) fn encode_standalone(
        &self,
        data: &[u8],
        emit: &mut dyn FnMut(&[u8]),
    ) -> Result<(), EncodeError> {
        match &self.agreed {
            Some(agreed) => agreed.codec_ref().encode_standalone(data, emit),
            None => {
                emit(data);
                Ok(())
            }
        }
    }

    /// Releases every extension's memory.
    pub(crate) fn release(&mut self) {
        if let Some(agreed) = &mut self.agreed {
            agreed.codec().release();
        }
    }
}
