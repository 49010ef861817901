//! The compressor and decompressor behind permessage-deflate (RFC 7692 §7.2): raw DEFLATE
//! (RFC 1951) through zlib-rs, worked in bounded steps.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;

use zlib_rs::{Deflate, DeflateFlush, Inflate, InflateFlush, Status};

use crate::frame::apply_mask;

/// The end of an empty stored block, which a sync flush ends with: the sender removes it from
/// the end of each message and the receiver puts it back (RFC 7692 §7.2.1, §7.2.2).
pub(super) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Masked compressed bytes are unmasked into a buffer of this size on the stack, a piece at a
/// time, before the decompressor reads them.
const INPUT_STEP: usize = 2 * 1024;

/// Decompressed bytes produced per step, at most: the decompressor's output buffer, which an
/// active connection keeps (the connection gathers the steps into its message buffer).
const OUTPUT_STEP: usize = 4 * 1024;

/// A compress buffer larger than this is not kept between messages.
const KEEP_BUFFER: usize = 64 * 1024;

/// The compressed data is not valid DEFLATE.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct InflateError;

/// The compressor reported an error (it does not, given output space, as zlib documents).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CompressError;

/// The decompressor for the messages we receive.
///
/// It never produces more than the caller allows per step, so a small message that inflates
/// to gigabytes costs only as much memory and work as the caller's limit.
pub(crate) struct Inflater {
    z: Inflate,
    /// The stream ended (a block with BFINAL set) inside the current message.
    ended: bool,
    output: Box<[u8; OUTPUT_STEP]>,
}

impl Inflater {
    /// A decompressor for a sender whose window is at most `window_bits`.
    pub(crate) fn new(window_bits: u8) -> Self {
        Self {
            // A window may be larger than the sender's; 9 bits reads 8-bit streams.
            z: Inflate::new(false, window_bits.clamp(9, 15)),
            ended: false,
            output: Box::new([0; OUTPUT_STEP]),
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
        let mut unmasked = [0u8; INPUT_STEP];
        let input: &[u8] = match mask {
            Some((key, phase)) => {
                let n = wire.len().min(INPUT_STEP);
                unmasked[..n].copy_from_slice(&wire[..n]);
                apply_mask(&mut unmasked[..n], key, phase);
                &unmasked[..n]
            }
            None => wire,
        };
        if self.ended {
            // RFC 1951 §3.2.3: the block with BFINAL set is the last of the stream; what follows
            // it is not DEFLATE data. RFC 7692 §7.2.3.4 has a sender follow it with the header
            // of an empty stored block, so the receiver can append the tail as always: ignore it.
            return Ok((input.len(), &[]));
        }
        let room = room.min(OUTPUT_STEP);
        let z = &mut self.z;
        let (in_before, out_before) = (z.total_in(), z.total_out());
        let status = z
            .decompress(input, &mut self.output[..room], InflateFlush::NoFlush)
            .map_err(|_| InflateError)?;
        // Both differences are bounded by the slices given.
        let used = (z.total_in() - in_before) as usize;
        let produced = (z.total_out() - out_before) as usize;
        if status == Status::StreamEnd {
            self.ended = true;
        }
        Ok((used, &self.output[..produced]))
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

/// How a compressor is built: the settings that decide its memory and its output.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    /// 0–9.
    pub(crate) level: u8,
    /// 9–15.
    pub(crate) window_bits: u8,
    /// 1–9.
    pub(crate) mem_level: u8,
}

impl Settings {
    /// The settings, with each value brought into the range zlib accepts.
    pub(crate) fn new(level: u8, window_bits: u8, mem_level: u8) -> Self {
        Self {
            level: level.min(9),
            window_bits: window_bits.clamp(9, 15),
            mem_level: mem_level.clamp(1, 9),
        }
    }
}

/// The compressor for the messages we send.
pub(crate) struct Deflater {
    z: Deflate,
    settings: Settings,
    /// The output buffer, all of it initialized (so it is never zeroed again), kept between
    /// messages when small.
    buf: Vec<u8>,
}

impl Deflater {
    /// A compressor with `settings`.
    pub(crate) fn new(settings: Settings) -> Self {
        let config = zlib_rs::DeflateConfig {
            level: i32::from(settings.level),
            // Negative: raw DEFLATE, no zlib header (RFC 7692 §7.2.1).
            window_bits: -i32::from(settings.window_bits),
            mem_level: i32::from(settings.mem_level),
            ..zlib_rs::DeflateConfig::default()
        };
        Self {
            z: Deflate::new_with_config(config),
            settings,
            buf: Vec::new(),
        }
    }

    /// Compresses a message, or one frame's part of a fragmented one, up to a byte boundary
    /// (a sync flush, so the peer can inflate all of it now). For the last frame (`fin`) the
    /// 4-byte tail is removed (RFC 7692 §7.2.1); a last frame with nothing to flush is the
    /// single byte `0x00` (§7.2.3.6), so that the tail the receiver appends completes an
    /// empty stored block.
    pub(crate) fn compress(&mut self, data: &[u8], fin: bool) -> Result<&[u8], CompressError> {
        let mut used = 0;
        let mut rest = data;
        loop {
            if used == self.buf.len() {
                let grow = self.buf.len().max(data.len() / 2 + 64).max(256);
                self.buf.resize(self.buf.len() + grow, 0);
            }
            let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
            self.z
                .compress(rest, &mut self.buf[used..], DeflateFlush::SyncFlush)
                .map_err(|_| CompressError)?;
            rest = &rest[(self.z.total_in() - in_before) as usize..];
            used += (self.z.total_out() - out_before) as usize;
            // zlib: the flush is complete when it returns with output space left.
            if rest.is_empty() && used < self.buf.len() {
                break;
            }
        }
        if fin {
            if self.buf[..used].ends_with(&TAIL) {
                used -= TAIL.len();
            }
            if used == 0 {
                // The loop left room: `used < buf.len()`.
                self.buf[0] = 0x00;
                used = 1;
            }
        }
        Ok(&self.buf[..used])
    }

    /// Forgets the window (the next message is compressed on its own, no context takeover)
    /// and a large output buffer.
    pub(crate) fn reset(&mut self) {
        self.z.reset();
        self.trim();
    }

    /// Releases the output buffer if one message made it large.
    pub(crate) fn trim(&mut self) {
        if self.buf.len() > KEEP_BUFFER {
            self.buf = Vec::new();
        }
    }
}

/// Compressors a thread keeps for its connections, at most: one per distinct setting in use
/// (a server whose clients agreed to different windows uses several).
const SHARED_PER_THREAD: usize = 4;

std::thread_local! {
    /// The compressors this thread's connections share for the messages each compresses on
    /// its own (no context takeover): a compressor holds nothing between messages, so one
    /// serves them all, and an idle or active connection holds none. The most recently used
    /// last. Boxed: connections hold them boxed during a fragmented message, and they move
    /// between the list and the connections as they are.
    #[allow(clippy::vec_box)]
    static SHARED: RefCell<Vec<Box<Deflater>>> = const { RefCell::new(Vec::new()) };
}

/// Takes this thread's shared compressor with `settings`, or builds one. Give it back with
/// [`give_back`] once the message is complete.
pub(crate) fn take_shared(settings: Settings) -> Box<Deflater> {
    SHARED
        .try_with(|shared| {
            let mut shared = shared.borrow_mut();
            let at = shared.iter().rposition(|d| d.settings == settings)?;
            Some(shared.remove(at))
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| Box::new(Deflater::new(settings)))
}

/// Resets `deflater` and keeps it among this thread's shared compressors (dropping the least
/// recently used past [`SHARED_PER_THREAD`]).
pub(crate) fn give_back(mut deflater: Box<Deflater>) {
    deflater.reset();
    // During thread teardown there is no list: the compressor is dropped.
    let _ = SHARED.try_with(|shared| {
        let mut shared = shared.borrow_mut();
        if shared.len() >= SHARED_PER_THREAD {
            shared.remove(0);
        }
        shared.push(deflater);
    });
}

/// Compresses a whole message on its own (no context) with this thread's shared compressor,
/// handing the frame payload to `f`.
pub(crate) fn compress_alone<R>(
    settings: Settings,
    data: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R, CompressError> {
    let mut deflater = take_shared(settings);
    let result = deflater.compress(data, true).map(f);
    give_back(deflater);
    result
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
    fn a_thread_keeps_a_few_shared_compressors_by_settings() {
        let (a, b) = (Settings::new(6, 15, 8), Settings::new(1, 12, 5));
        let first = take_shared(a);
        let first_at: *const Deflater = &*first;
        give_back(first);
        give_back(take_shared(b));
        // The compressor with `a` is still there, reset: it compresses as a new one does.
        let mut again = take_shared(a);
        assert!(core::ptr::eq(&*again, first_at));
        assert_eq!(
            again.compress(b"Hello", true).unwrap(),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        give_back(again);
        // Past the bound, the least recently used goes.
        for level in 0..SHARED_PER_THREAD as u8 {
            give_back(Box::new(Deflater::new(Settings::new(level, 9, 1))));
        }
        SHARED.with(|shared| {
            let shared = shared.borrow();
            assert_eq!(shared.len(), SHARED_PER_THREAD);
            assert!(shared.iter().all(|d| d.settings.window_bits == 9));
        });
    }

    #[test]
    fn rfc7692_examples() {
        // §7.2.3.1: "Hello" in one compressed message.
        let mut d = Deflater::new(Settings::new(6, 15, 8));
        assert_eq!(
            d.compress(b"Hello", true).unwrap().to_vec(),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        // §7.2.3.2: a second "Hello" with the window shared.
        assert_eq!(
            d.compress(b"Hello", true).unwrap().to_vec(),
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
        assert_eq!(
            Deflater::new(Settings::new(6, 15, 8))
                .compress(b"", true)
                .unwrap(),
            [0x00]
        );
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
        let mut d = Deflater::new(Settings::new(6, 15, 8));
        let mut payload = d.compress(b"Hel", false).unwrap().to_vec();
        assert!(payload.ends_with(&TAIL), "a non-final frame keeps its tail");
        payload.extend(d.compress(b"lo", true).unwrap());
        // Nothing new to flush: the last frame still completes an empty stored block.
        let mut first = d.compress(b"Hello", false).unwrap().to_vec();
        first.extend(d.compress(b"", true).unwrap());
        let mut i = Inflater::new(15);
        assert_eq!(inflate(&mut i, &payload).unwrap(), b"Hello");
        assert_eq!(inflate(&mut i, &first).unwrap(), b"Hello");
    }

    #[test]
    fn output_is_bounded_per_step() {
        let data = vec![b'a'; 1 << 20];
        let payload = Deflater::new(Settings::new(9, 15, 8))
            .compress(&data, true)
            .unwrap()
            .to_vec();
        let mut i = Inflater::new(15);
        let (used, out) = i.step(&payload, None, 100).unwrap();
        assert_eq!(out.len(), 100);
        assert!(used <= payload.len());
        let (_, out) = i.step(&payload[used..], None, usize::MAX).unwrap();
        assert_eq!(out.len(), OUTPUT_STEP);
    }

    #[test]
    fn masked_input_is_unmasked_at_any_phase() {
        let payload = Deflater::new(Settings::new(6, 15, 8))
            .compress(b"Hello, Hello, Hello", true)
            .unwrap()
            .to_vec();
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
