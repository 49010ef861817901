//! The compressor and decompressor behind permessage-deflate (RFC 7692 §7.2): raw DEFLATE
//! (RFC 1951) through flate2, worked in bounded steps.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::frame::apply_mask;

/// The end of an empty stored block, which a sync flush ends with: the sender removes it from
/// the end of each message and the receiver puts it back (RFC 7692 §7.2.1, §7.2.2).
pub(super) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Compressed bytes unmasked and fed to the decompressor per step.
const INPUT_STEP: usize = 8 * 1024;

/// Decompressed bytes produced per step, at most.
const OUTPUT_STEP: usize = crate::extensions::seam::DECODE_STEP;

/// A compress buffer larger than this is not kept between messages.
const KEEP_BUFFER: usize = 64 * 1024;

/// The compressed data is not valid DEFLATE.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct InflateError;

/// The compressor reported an error (it does not, used as flate2 documents).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CompressError;

/// The decompressor for the messages we receive.
///
/// It never produces more than the caller allows per step, so a small message that inflates
/// to gigabytes costs only as much memory and work as the caller's limit.
pub(crate) struct Inflater {
    z: Decompress,
    /// The stream ended (a block with BFINAL set) inside the current message.
    ended: bool,
    /// Masked input is unmasked here.
    input: Box<[u8]>,
    output: Box<[u8]>,
}

impl Inflater {
    /// A decompressor for a sender whose window is at most `window_bits`.
    pub(crate) fn new(window_bits: u8) -> Self {
        Self {
            // A window may be larger than the sender's; 9 bits reads 8-bit streams (flate2
            // cannot make an 8-bit decompressor).
            z: Decompress::new_with_window_bits(false, window_bits.clamp(9, 15)),
            ended: false,
            input: vec![0; INPUT_STEP].into_boxed_slice(),
            output: vec![0; OUTPUT_STEP].into_boxed_slice(),
        }
    }

    /// One bounded step: inflates from the start of `wire` (unmasked first when `mask` gives
    /// the key and its phase), producing at most `room` bytes (and at most
    /// [`OUTPUT_STEP`]). Returns how many bytes of `wire` were used and the output.
    ///
    /// A step that uses no input and fills less than `room` has nothing more to give until it
    /// gets more input.
    pub(crate) fn step(
        &mut self,
        wire: &[u8],
        mask: Option<([u8; 4], usize)>,
        room: usize,
    ) -> Result<(usize, &[u8]), InflateError> {
        let Self {
            z,
            ended,
            input,
            output,
        } = self;
        let input: &[u8] = match mask {
            Some((key, phase)) => {
                let n = wire.len().min(input.len());
                input[..n].copy_from_slice(&wire[..n]);
                apply_mask(&mut input[..n], key, phase);
                &input[..n]
            }
            None => wire,
        };
        if *ended {
            // RFC 1951 §3.2.3: the block with BFINAL set is the last of the stream; what follows
            // it is not DEFLATE data. RFC 7692 §7.2.3.4 has a sender follow it with the header
            // of an empty stored block, so the receiver can append the tail as always: ignore it.
            return Ok((input.len(), &[]));
        }
        let room = room.min(output.len());
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let status = z
            .decompress(input, &mut output[..room], FlushDecompress::None)
            .map_err(|_| InflateError)?;
        // Both differences are bounded by the slices given.
        let used = (z.total_in() - in_before) as usize;
        let produced = (z.total_out() - out_before) as usize;
        if status == Status::StreamEnd {
            *ended = true;
        }
        Ok((used, &output[..produced]))
    }

    /// Whether the sender ended its DEFLATE stream in this message (RFC 7692 §7.2.3.4).
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// A message is complete: forget the window if the sender does not take over its context
    /// (RFC 7692 §7.1.1), or if its stream ended.
    pub(crate) fn end_message(&mut self, reset: bool) {
        if reset || self.ended {
            self.z.reset(false);
            self.ended = false;
        }
    }
}

/// The compressor for the messages we send.
pub(crate) struct Deflater {
    z: Compress,
    /// The output buffer, kept between messages when small.
    buf: Vec<u8>,
}

impl Deflater {
    /// A compressor with `level` (0–9) and a window of `window_bits` (9–15).
    pub(crate) fn new(level: u8, window_bits: u8) -> Self {
        Self {
            z: Compress::new_with_window_bits(
                Compression::new(u32::from(level.min(9))),
                false,
                window_bits.clamp(9, 15),
            ),
            buf: Vec::new(),
        }
    }

    /// Compresses a message, or one frame's part of a fragmented one, up to a byte boundary
    /// (a sync flush, so the peer can inflate all of it now). For the last frame (`fin`) the
    /// 4-byte tail is removed (RFC 7692 §7.2.1); a last frame with nothing to flush is the
    /// single byte `0x00` (§7.2.3.6), so that the tail the receiver appends completes an
    /// empty stored block. Give the buffer back with [`recycle`](Self::recycle).
    pub(crate) fn compress(&mut self, data: &[u8], fin: bool) -> Result<Vec<u8>, CompressError> {
        let mut out = core::mem::take(&mut self.buf);
        out.clear();
        out.reserve(data.len() / 2 + 64);
        let mut rest = data;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity());
            }
            let before = self.z.total_in();
            self.z
                .compress_vec(rest, &mut out, FlushCompress::Sync)
                .map_err(|_| CompressError)?;
            rest = &rest[(self.z.total_in() - before) as usize..];
            // zlib: the flush is complete when it returns with output space left.
            if rest.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if fin {
            if out.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if out.is_empty() {
                out.push(0x00);
            }
        }
        Ok(out)
    }

    /// Takes back the buffer [`compress`](Self::compress) returned, to reuse it.
    pub(crate) fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() <= KEEP_BUFFER {
            self.buf = buf;
        }
    }

    /// Forgets the window: the next message is compressed on its own (no context takeover).
    pub(crate) fn reset(&mut self) {
        self.z.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inflates a whole message payload (appending the tail) in one go.
    fn inflate(inflater: &mut Inflater, payload: &[u8]) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        for (part, tail) in [(payload, false), (&TAIL[..], true)] {
            let mut rest = part;
            loop {
                if inflater.ended() && tail {
                    break;
                }
                let (used, data) = inflater.step(rest, None, usize::MAX)?;
                out.extend_from_slice(data);
                rest = &rest[used..];
                if used == 0 && data.len() < OUTPUT_STEP {
                    break;
                }
            }
        }
        inflater.end_message(false);
        Ok(out)
    }

    #[test]
    fn rfc7692_examples() {
        // §7.2.3.1: "Hello" in one compressed message.
        let mut d = Deflater::new(6, 15);
        assert_eq!(
            d.compress(b"Hello", true).unwrap(),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        // §7.2.3.2: a second "Hello" with the window shared.
        assert_eq!(
            d.compress(b"Hello", true).unwrap(),
            [0xf2, 0x00, 0x11, 0x00, 0x00]
        );
        let mut i = Inflater::new(15);
        for payload in [
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00][..],
            &[0xf2, 0x00, 0x11, 0x00, 0x00],
        ] {
            assert_eq!(inflate(&mut i, payload).unwrap(), b"Hello");
        }
        for payload in [
            // §7.2.3.3: a stored (uncompressed) block.
            &[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ][..],
            // §7.2.3.4: a block with BFINAL set.
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            // §7.2.3.5: two blocks.
            &[
                0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
            ],
        ] {
            assert_eq!(inflate(&mut Inflater::new(15), payload).unwrap(), b"Hello");
        }
        // §7.2.3.6: an empty message.
        assert_eq!(Deflater::new(6, 15).compress(b"", true).unwrap(), [0x00]);
        assert_eq!(inflate(&mut Inflater::new(15), &[0x00]).unwrap(), b"");
    }

    #[test]
    fn corrupt_data_fails_and_data_after_the_final_block_is_ignored() {
        // BTYPE 11 is reserved (RFC 1951 §3.2.3).
        assert_eq!(inflate(&mut Inflater::new(15), &[0xff]), Err(InflateError));
        // A stored block whose NLEN is not the complement of LEN.
        assert_eq!(
            inflate(&mut Inflater::new(15), &[0x00, 0x05, 0x00, 0x00, 0x00]),
            Err(InflateError)
        );
        // An empty final block, then anything: the stream is over.
        let mut i = Inflater::new(15);
        assert_eq!(inflate(&mut i, &[0x03, 0x00, 0xff, 0x01]).unwrap(), b"");
        // The decompressor starts a new stream for the next message.
        assert_eq!(
            inflate(&mut i, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(),
            b"Hello"
        );
    }

    #[test]
    fn fragments_keep_their_flush_markers() {
        let mut d = Deflater::new(6, 15);
        let mut payload = d.compress(b"Hel", false).unwrap();
        assert!(payload.ends_with(&TAIL), "a non-final frame keeps its tail");
        payload.extend(d.compress(b"lo", true).unwrap());
        // Nothing new to flush: the last frame still completes an empty stored block.
        let mut first = d.compress(b"Hello", false).unwrap();
        first.extend(d.compress(b"", true).unwrap());
        let mut i = Inflater::new(15);
        assert_eq!(inflate(&mut i, &payload).unwrap(), b"Hello");
        assert_eq!(inflate(&mut i, &first).unwrap(), b"Hello");
    }

    #[test]
    fn output_is_bounded_per_step() {
        let data = vec![b'a'; 1 << 20];
        let payload = Deflater::new(9, 15).compress(&data, true).unwrap();
        let mut i = Inflater::new(15);
        let (used, out) = i.step(&payload, None, 100).unwrap();
        assert_eq!(out.len(), 100);
        assert!(used <= payload.len());
        let (_, out) = i.step(&payload[used..], None, usize::MAX).unwrap();
        assert_eq!(out.len(), OUTPUT_STEP);
    }

    #[test]
    fn masked_input_is_unmasked_at_any_phase() {
        let payload = Deflater::new(6, 15)
            .compress(b"Hello, Hello, Hello", true)
            .unwrap();
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut masked = payload.clone();
        apply_mask(&mut masked, key, 0);
        let mut i = Inflater::new(15);
        let mut out = Vec::new();
        let mut phase = 0;
        for piece in masked.chunks(3) {
            let (used, data) = i.step(piece, Some((key, phase)), usize::MAX).unwrap();
            assert_eq!(used, piece.len());
            out.extend_from_slice(data);
            phase = (phase + used) & 3;
        }
        let (_, data) = i.step(&TAIL, None, usize::MAX).unwrap();
        out.extend_from_slice(data);
        assert_eq!(out, b"Hello, Hello, Hello");
    }
}
