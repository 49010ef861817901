//! The frame decoder: bytes in, frame headers and unmasked payloads out, into reusable
//! buffers.
//!
//! It knows the wire format and nothing of the policy. The connection reads each header with
//! [`Decoder::read_header`], judges it, and tells the decoder where the payload goes with
//! [`Decoder::start`]: into the message buffer (data), beside it (a control frame inside a
//! fragmented message), or nowhere (an extension transforms it, and the decoder only counts
//! and unmasks it). The decoder also holds the message being assembled and hands it out as
//! [`Bytes`] that share its buffers.

use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use super::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, Status, extend_masked};
use crate::error::ProtocolError;

/// Space reserved for a data frame's declared length, at most: past this a peer must send
/// bytes, not just claim a length, to make the buffer grow.
const EAGER_RESERVE: usize = 1 << 20;

/// The first receive buffer ("arena") allocated. Messages are split off an arena as `Bytes`,
/// and an arena is reused once the application has dropped every message in it. Two arenas
/// alternate; when the older one is still held by the application as the newer one fills, the
/// next arena is twice as large (up to `MAX_ARENA`), so the pair soon spans what the
/// application keeps in flight and the steady state allocates nothing.
const MIN_ARENA: usize = 2 * 1024;
const MAX_ARENA: usize = 128 * 1024;

/// A message decoded by an extension that grows past this leaves the arena for a buffer of
/// its own, grown to exactly what it needs up to the message limit, so (for example) an
/// inflate bomb cannot make a buffer overshoot the limit the way doubling growth would.
const SPILL_AT: usize = 64 * 1024;

/// Where a frame's payload goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sink {
    /// Appended to the message buffer: data frames, and control frames outside a fragmented
    /// message (the buffer is empty then).
    Message,
    /// Into a buffer of its own: a control frame that arrives inside a fragmented message.
    Control,
    /// Handed back undecoded ([`Decoder::raw`]): an extension decodes it.
    Raw,
}

/// The frame whose payload is arriving.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Frame {
    pub(crate) opcode: OpCode,
    pub(crate) fin: bool,
    /// Payload bytes still to come.
    pub(crate) remaining: u64,
    masking_key: Option<[u8; 4]>,
    /// The masking-key offset of the next payload byte.
    phase: usize,
    sink: Sink,
}

/// A whole short frame found by [`Decoder::short_frame`].
pub(crate) struct ShortFrame {
    /// The frame's first byte: FIN, RSV and opcode.
    pub(crate) b0: u8,
    /// The unmasked payload.
    pub(crate) payload: Bytes,
}

/// Where a whole short frame lies in the input (see [`Decoder::short_frame`]).
#[derive(Copy, Clone, Debug)]
pub(crate) struct ShortHeader {
    /// The frame's first byte: FIN, RSV and opcode.
    pub(crate) b0: u8,
    /// The masking key, if masked.
    key: Option<[u8; 4]>,
    /// The payload's offsets in the input; `end` is also the frame's length.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl ShortHeader {
    /// A whole frame at the start of `input` with at most 125 bytes of payload, a 7-bit
    /// length, no RSV bits, FIN set, masked exactly when `masked` says, whose opcode is Ping
    /// or Pong, or Text or Binary with at most `data_max` bytes when `data_max` is `Some`.
    #[inline(always)]
    fn parse(input: &[u8], masked: bool, data_max: Option<usize>) -> Option<Self> {
        let (&[b0, b1], rest) = input.split_first_chunk::<2>()?;
        let len = usize::from(b1 & 0x7f);
        // FIN set and no RSV bits; the 7-bit length of a short frame; the masking asked for.
        if b0 & 0xf0 != 0x80 || len > MAX_CONTROL_PAYLOAD || (b1 & 0x80 != 0) != masked {
            return None;
        }
        let key = match masked {
            true => Some(*rest.first_chunk::<4>()?),
            false => None,
        };
        let start = 2 + 4 * usize::from(masked);
        let end = start + len;
        if input.len() < end {
            return None;
        }
        let eligible = match b0 & 0x0f {
            0x1 | 0x2 => data_max.is_some_and(|max| len <= max),
            0x9 | 0xa => true,
            _ => false,
        };
        eligible.then_some(Self {
            b0,
            key,
            start,
            end,
        })
    }
}

/// Appends a short payload (at most 125 bytes), unmasked with `key` if given, in pieces of
/// fixed sizes that compile to plain moves (a call to `memcpy` and a second pass to unmask
/// cost more than the whole frame otherwise).
#[inline(always)]
fn extend_short(dst: &mut BytesMut, src: &[u8], key: Option<[u8; 4]>) {
    let key = key.unwrap_or([0; 4]);
    let key4 = u32::from_ne_bytes(key);
    let key8 = u64::from(key4) | (u64::from(key4) << 32);
    let key16 = u128::from(key8) | (u128::from(key8) << 64);
    // Every piece is a multiple of 4 bytes long, so each starts at key offset 0.
    let mut pieces = src.chunks_exact(16);
    for piece in &mut pieces {
        let piece = u128::from_ne_bytes(piece.try_into().expect("16 bytes"));
        dst.extend_from_slice(&(piece ^ key16).to_ne_bytes());
    }
    let mut rest = pieces.remainder();
    if let Some((word, more)) = rest.split_first_chunk::<8>() {
        dst.extend_from_slice(&(u64::from_ne_bytes(*word) ^ key8).to_ne_bytes());
        rest = more;
    }
    if let Some((word, more)) = rest.split_first_chunk::<4>() {
        dst.extend_from_slice(&(u32::from_ne_bytes(*word) ^ key4).to_ne_bytes());
        rest = more;
    }
    for (i, &byte) in rest.iter().enumerate() {
        dst.extend_from_slice(&[byte ^ key[i]]);
    }
}

/// Unmasks a short payload (at most 125 bytes) in place with fixed-size pieces, as
/// [`extend_short`] does while copying.
#[inline(always)]
fn unmask_short(data: &mut [u8], key: [u8; 4]) {
    let key4 = u32::from_ne_bytes(key);
    let key8 = u64::from(key4) | (u64::from(key4) << 32);
    let key16 = u128::from(key8) | (u128::from(key8) << 64);
    // Every piece is a multiple of 4 bytes long, so each starts at key offset 0.
    let mut pieces = data.chunks_exact_mut(16);
    for piece in &mut pieces {
        let piece: &mut [u8; 16] = piece.try_into().expect("16 bytes");
        *piece = (u128::from_ne_bytes(*piece) ^ key16).to_ne_bytes();
    }
    let rest = pieces.into_remainder();
    let (word, rest) = rest.split_at_mut(rest.len() & 8);
    if let Ok(word) = <&mut [u8; 8]>::try_from(word) {
        *word = (u64::from_ne_bytes(*word) ^ key8).to_ne_bytes();
    }
    let (word, rest) = rest.split_at_mut(rest.len() & 4);
    if let Ok(word) = <&mut [u8; 4]>::try_from(word) {
        *word = (u32::from_ne_bytes(*word) ^ key4).to_ne_bytes();
    }
    for (byte, k) in rest.iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// The receive side of the wire format. Holds no heap memory until data arrives.
pub(crate) struct Decoder {
    /// A header split across reads.
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    frame: Option<Frame>,
    /// The message being assembled; whole messages are split off it as `Bytes`.
    data: BytesMut,
    /// The previous arena, reused once every message split off it has been dropped.
    spare: BytesMut,
    /// The sizes the two arenas were allocated with.
    data_size: usize,
    spare_size: usize,
    /// A control frame's payload when it arrives inside a fragmented message.
    control: BytesMut,
    /// A large message decoded by an extension, out of the arena (see `SPILL_AT`).
    spill: Vec<u8>,
}

impl Decoder {
    pub(crate) fn new() -> Self {
        Self {
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            data: BytesMut::new(),
            spare: BytesMut::new(),
            data_size: 0,
            spare_size: 0,
            control: BytesMut::new(),
            spill: Vec::new(),
        }
    }

    /// The frame whose payload is arriving, if a header has been read and its payload not
    /// yet finished.
    #[inline]
    pub(crate) fn frame(&self) -> Option<&Frame> {
        self.frame.as_ref()
    }

    /// Whether the next byte starts a frame: no header or payload is half read.
    #[inline]
    pub(crate) fn at_frame_start(&self) -> bool {
        self.frame.is_none() && self.header_len == 0
    }

    /// Bytes of the message in progress held in the message buffer.
    #[inline]
    pub(crate) fn buffered(&self) -> usize {
        self.data.len() + self.spill.len()
    }

    /// A whole frame at the start of `input` with at most 125 bytes of payload, a 7-bit
    /// length, no RSV bits, FIN set, masked exactly when `masked` says, whose opcode is Ping
    /// or Pong, or Text or Binary with at most `data_max` bytes when `data_max` is `Some`,
    /// while no message is being assembled. Returns it with the bytes it took, or `None`:
    /// then [`read_header`](Self::read_header) takes the frame, whatever it is.
    #[inline]
    pub(crate) fn short_frame(
        &mut self,
        input: &[u8],
        masked: bool,
        data_max: Option<usize>,
    ) -> Option<(ShortFrame, usize)> {
        if !self.data.is_empty() {
            return None;
        }
        let short = ShortHeader::parse(input, masked, data_max)?;
        let payload = &input[short.start..short.end];
        self.reserve_data(payload.len());
        // For payloads this short, fixed-size moves beat a call to the general copy.
        extend_short(&mut self.data, payload, short.key);
        let payload = self.data.split().freeze();
        Some((
            ShortFrame {
                b0: short.b0,
                payload,
            },
            short.end,
        ))
    }

    /// [`short_frame`](Self::short_frame) without the message buffer: the frame is unmasked
    /// where it lies in `input`, and only its place is returned, so that no [`Bytes`] is
    /// made for it (a borrowed event). Whether a message is being assembled does not matter:
    /// the buffer is not touched.
    #[inline(always)]
    pub(crate) fn short_frame_in_place(
        input: &mut [u8],
        masked: bool,
        data_max: Option<usize>,
    ) -> Option<ShortHeader> {
        let short = ShortHeader::parse(input, masked, data_max)?;
        if let Some(key) = short.key {
            unmask_short(&mut input[short.start..short.end], key);
        }
        Some(short)
    }

    /// Reads a header from the bytes kept from earlier reads and `input`. `Ok(None)`: all of
    /// `input` was kept and more is needed. A header that breaks the wire format (reserved
    /// opcode, 64-bit length with the top bit set, a length not in its shortest form unless
    /// `allow_non_minimal`) is an error.
    #[inline]
    pub(crate) fn read_header(
        &mut self,
        input: &[u8],
        allow_non_minimal: bool,
    ) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        if self.header_len == 0 {
            // The whole header is usually in this read.
            return match FrameHeader::decode_with(input, allow_non_minimal)? {
                Status::Complete(done) => Ok(Some(done)),
                Status::Partial => {
                    self.header[..input.len()].copy_from_slice(input);
                    self.header_len = input.len();
                    Ok(None)
                }
            };
        }
        let have = self.header_len;
        let add = input.len().min(MAX_HEADER_LEN - have);
        self.header[have..have + add].copy_from_slice(&input[..add]);
        match FrameHeader::decode_with(&self.header[..have + add], allow_non_minimal)? {
            Status::Complete((header, used)) => {
                self.header_len = 0;
                Ok(Some((header, used - have)))
            }
            Status::Partial => {
                self.header_len = have + add;
                Ok(None)
            }
        }
    }

    /// Starts the payload of the frame `header` describes, into `sink`. A control frame goes
    /// to the message buffer when it is empty and beside it otherwise; the caller asks for
    /// [`Sink::Raw`] or [`Sink::Message`] for data frames.
    #[inline]
    pub(crate) fn start(&mut self, header: &FrameHeader, sink: Sink) {
        let len = header.payload_len;
        let sink = match sink {
            Sink::Message | Sink::Control if header.opcode.is_control() => {
                if self.data.is_empty() {
                    self.reserve_data(len as usize);
                    Sink::Message
                } else {
                    self.reserve_control();
                    Sink::Control
                }
            }
            Sink::Message | Sink::Control => {
                self.reserve_data(
                    usize::try_from(len)
                        .unwrap_or(usize::MAX)
                        .min(EAGER_RESERVE),
                );
                Sink::Message
            }
            Sink::Raw => Sink::Raw,
        };
        self.frame = Some(Frame {
            opcode: header.opcode,
            fin: header.fin,
            remaining: len,
            masking_key: header.masking_key,
            phase: 0,
            sink,
        });
    }

    /// Copies and unmasks the next payload bytes from the start of `input` (at most what the
    /// frame has left) into the frame's buffer. Returns how many bytes were used and the
    /// unmasked bytes just added.
    #[inline]
    pub(crate) fn payload(&mut self, input: &[u8]) -> (usize, &[u8]) {
        let Some(frame) = &mut self.frame else {
            return (0, &[]);
        };
        let take = input
            .len()
            .min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
        let bytes = &input[..take];
        frame.remaining -= take as u64;
        let buf = match frame.sink {
            Sink::Control => &mut self.control,
            Sink::Message | Sink::Raw => &mut self.data,
        };
        let start = buf.len();
        match frame.masking_key {
            Some(key) => frame.phase = extend_masked(buf, bytes, key, frame.phase),
            None => buf.extend_from_slice(bytes),
        }
        (take, &buf[start..])
    }

    /// The payload bytes at the start of `input` that belong to the current frame, still
    /// masked, with the masking key and its offset: for an extension that decodes the payload
    /// itself. Mark what it used with [`advance_raw`](Self::advance_raw).
    #[inline]
    pub(crate) fn raw<'a>(&self, input: &'a [u8]) -> (&'a [u8], Option<([u8; 4], usize)>) {
        match &self.frame {
            Some(frame) => {
                let take = input
                    .len()
                    .min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
                (
                    &input[..take],
                    frame.masking_key.map(|key| (key, frame.phase)),
                )
            }
            None => (&[], None),
        }
    }

    /// Marks `n` raw payload bytes as used.
    #[inline]
    pub(crate) fn advance_raw(&mut self, n: usize) {
        if let Some(frame) = &mut self.frame {
            frame.remaining -= n as u64;
            frame.phase = (frame.phase + n) & 3;
        }
    }

    /// The current frame's payload is complete (or handled): forget the frame and return it.
    #[inline]
    pub(crate) fn finish_frame(&mut self) -> Option<Frame> {
        self.frame.take()
    }

    /// Appends bytes an extension decoded to the message: in the arena while it is small or
    /// when `chunked` (its pieces leave the arena as they fill), else in the spill buffer,
    /// grown exactly and never past `limit` (the caller has checked the message against it).
    pub(crate) fn push_decoded(&mut self, bytes: &[u8], limit: usize, chunked: bool) {
        let len = self.data.len() + self.spill.len();
        if self.spill.is_empty() && (chunked || len + bytes.len() <= SPILL_AT) {
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

    /// The whole message just completed: split off the arena, or the spill buffer.
    #[inline]
    pub(crate) fn take_message(&mut self) -> Bytes {
        if !self.spill.is_empty() {
            return core::mem::take(&mut self.spill).into();
        }
        self.data.split().freeze()
    }

    /// The first `n` bytes of the message buffer (a piece of a message delivered as it
    /// arrives).
    pub(crate) fn take_piece(&mut self, n: usize) -> Bytes {
        self.data.split_to(n).freeze()
    }

    /// The complete payload of the control frame `frame`.
    pub(crate) fn take_control(&mut self, frame: &Frame) -> Bytes {
        match frame.sink {
            Sink::Control => self.control.split(),
            Sink::Message | Sink::Raw => self.data.split(),
        }
        .freeze()
    }

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

    /// Makes room for a control payload outside the message buffer.
    fn reserve_control(&mut self) {
        if self.control.capacity() - self.control.len() < MAX_CONTROL_PAYLOAD
            && !self.control.try_reclaim(MAX_CONTROL_PAYLOAD)
        {
            self.control = BytesMut::with_capacity(8 * MAX_CONTROL_PAYLOAD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::apply_mask_reference;

    #[test]
    fn short_payloads_unmask_like_the_definition_at_every_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let masked: Vec<u8> = (0..=MAX_CONTROL_PAYLOAD as u32)
            .map(|i| (i * 29 + 7) as u8)
            .collect();
        for len in 0..=MAX_CONTROL_PAYLOAD {
            let mut expected = masked[..len].to_vec();
            apply_mask_reference(&mut expected, key, 0);
            // Copied (into a buffer holding other bytes) and in place.
            let mut copied = BytesMut::from(&b"xy"[..]);
            extend_short(&mut copied, &masked[..len], Some(key));
            assert_eq!(&copied[2..], &expected[..], "copied, len {len}");
            let mut in_place = masked[..len].to_vec();
            unmask_short(&mut in_place, key);
            assert_eq!(in_place, expected, "in place, len {len}");
            // Unmasked frames are copied as they are.
            let mut plain = BytesMut::new();
            extend_short(&mut plain, &masked[..len], None);
            assert_eq!(&plain[..], &masked[..len]);
        }
    }

    #[test]
    fn short_frames_in_place_are_the_fast_path_frames() {
        let key = [1, 2, 3, 4];
        let masked = |b0: u8, payload: &[u8]| {
            let mut f = alloc::vec![b0, 0x80 | payload.len() as u8, 1, 2, 3, 4];
            let mut p = payload.to_vec();
            apply_mask_reference(&mut p, key, 0);
            f.extend(p);
            f
        };
        // (frame, masked wanted, data limit, expected payload or not taken)
        type Case = (Vec<u8>, bool, Option<usize>, Option<&'static [u8]>);
        let cases: &[Case] = &[
            (masked(0x81, b"Hello"), true, Some(100), Some(b"Hello")),
            (masked(0x82, b"\0\x01"), true, Some(100), Some(b"\0\x01")),
            (masked(0x89, b"p"), true, None, Some(b"p")),
            (masked(0x8a, b""), true, None, Some(b"")),
            // Data frames only with a limit that allows them.
            (masked(0x81, b"Hello"), true, None, None),
            (masked(0x81, b"Hello"), true, Some(4), None),
            // Not FIN, RSV bits, Close, wrong masking, cut short.
            (masked(0x01, b"Hi"), true, Some(100), None),
            (masked(0xc1, b"Hi"), true, Some(100), None),
            (masked(0x88, b"\x03\xe8"), true, Some(100), None),
            (masked(0x81, b"Hi"), false, Some(100), None),
            (alloc::vec![0x81, 0x02, b'H', b'i'], true, Some(100), None),
            (masked(0x81, b"Hi")[..7].to_vec(), true, Some(100), None),
            (
                alloc::vec![0x81, 0x02, b'H', b'i'],
                false,
                Some(100),
                Some(b"Hi"),
            ),
        ];
        for (frame, masked, data_max, expected) in cases {
            let mut input = frame.clone();
            let got = Decoder::short_frame_in_place(&mut input, *masked, *data_max);
            match (got, expected) {
                (Some(short), Some(payload)) => {
                    assert_eq!(&input[short.start..short.end], *payload, "{frame:x?}");
                    assert_eq!(short.end, frame.len());
                    assert_eq!(short.b0, frame[0]);
                }
                (None, None) => assert_eq!(&input, frame, "changed without taking it"),
                (got, _) => panic!("{frame:x?}: {got:?}, expected {expected:?}"),
            }
        }
    }
}
