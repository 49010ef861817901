//! The one frame builder, for hand-made input, and a parser for checking output (RFC 6455
//! §5.2).
//!
//! The builder writes the bits itself rather than through the crate's encoder, so that it can
//! write what a broken peer writes (reserved opcodes, RSV bits, lengths not in their minimal
//! form, a length that is not the payload's) and so that tests do not check the crate against
//! itself. The parser uses the crate's own strict decoder.

use wsmachine::frame::{FrameHeader, OpCode, Status, apply_mask};

/// The four opcode bits of a hand-made frame: an [`OpCode`], or any raw value, reserved ones
/// included (`frame(true, 0, 0x3, None, b"")`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RawOpcode(pub u8);

impl From<OpCode> for RawOpcode {
    fn from(opcode: OpCode) -> Self {
        Self(opcode.as_u8())
    }
}

impl From<u8> for RawOpcode {
    fn from(bits: u8) -> Self {
        Self(bits)
    }
}

/// How a hand-made frame writes its payload length (RFC 6455 §5.2).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Length {
    /// The payload's length in its minimal form, as the RFC requires.
    #[default]
    Minimal,
    /// The payload's length in the 16-bit form (126 and two bytes), even where 7 bits would do.
    Extended16,
    /// The payload's length in the 64-bit form (127 and eight bytes), even where fewer would do.
    Extended64,
    /// This length, in its minimal form, whatever the payload is.
    Declared(u64),
}

/// A frame as a peer writes it, bit by bit; a broken peer too. [`frame`] is the shorthand for
/// the common case.
#[derive(Copy, Clone, Debug)]
pub struct FrameBuilder<'a> {
    /// FIN: the final fragment of a message.
    pub fin: bool,
    /// RSV1–RSV3 as the low three bits, as in [`FrameHeader::rsv`] (RSV1 = `0b100`).
    pub rsv: u8,
    /// The opcode bits.
    pub opcode: RawOpcode,
    /// The masking key; the payload is masked with it and the MASK bit set.
    pub masking_key: Option<[u8; 4]>,
    /// How the length is written.
    pub length: Length,
    /// The payload, unmasked.
    pub payload: &'a [u8],
}

impl FrameBuilder<'_> {
    /// The frame's bytes.
    ///
    /// # Panics
    ///
    /// If `rsv` or `opcode` do not fit their bits, or the payload does not fit
    /// [`Length::Extended16`].
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(14 + self.payload.len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the frame's bytes to `out`. Panics as [`encode`](Self::encode) does.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        assert!(
            self.rsv <= 0b111,
            "RSV bits {:#b} over three bits",
            self.rsv
        );
        assert!(
            self.opcode.0 <= 0xF,
            "opcode {:#x} over four bits",
            self.opcode.0
        );
        out.push((u8::from(self.fin) << 7) | (self.rsv << 4) | self.opcode.0);
        let mask_bit = if self.masking_key.is_some() { 0x80 } else { 0 };
        let len = self.payload.len() as u64;
        let (len, form) = match self.length {
            Length::Minimal if len < 126 => (len, 7),
            Length::Minimal if len <= 0xFFFF => (len, 16),
            Length::Minimal => (len, 64),
            Length::Extended16 => {
                assert!(len <= 0xFFFF, "{len} bytes do not fit the 16-bit length");
                (len, 16)
            }
            Length::Extended64 => (len, 64),
            Length::Declared(d) if d < 126 => (d, 7),
            Length::Declared(d) if d <= 0xFFFF => (d, 16),
            Length::Declared(d) => (d, 64),
        };
        match form {
            7 => out.push(mask_bit | len as u8),
            16 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        match self.masking_key {
            // RFC 6455 §5.3: octet i is XORed with key octet i mod 4.
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(
                    self.payload
                        .iter()
                        .zip(key.iter().cycle())
                        .map(|(b, k)| b ^ k),
                );
            }
            None => out.extend_from_slice(self.payload),
        }
    }
}

/// Encodes one frame, its length in the minimal form, masked with `masking_key` if given.
///
/// ```
/// use wsmachine::frame::{OpCode, RSV1};
/// use wsmachine_testkit::frame;
///
/// assert_eq!(frame(true, 0, OpCode::Text, None, b"Hi"), b"\x81\x02Hi");
/// assert_eq!(frame(false, RSV1, 0x2, None, b""), b"\x42\x00");
/// assert_eq!(frame(true, 0, 0x9, Some([1, 2, 3, 4]), b"\x01\x02"), b"\x89\x82\x01\x02\x03\x04\x00\x00");
/// ```
pub fn frame(
    fin: bool,
    rsv: u8,
    opcode: impl Into<RawOpcode>,
    masking_key: Option<[u8; 4]>,
    payload: &[u8],
) -> Vec<u8> {
    FrameBuilder {
        fin,
        rsv,
        opcode: opcode.into(),
        masking_key,
        length: Length::Minimal,
        payload,
    }
    .encode()
}

/// The frames of one message whose payload is cut at `cuts` (offsets in ascending order):
/// the first frame has `opcode` and `rsv`, the others are continuations without RSV bits, the
/// last one has FIN (RFC 6455 §5.4; RFC 7692 §6.1 sets RSV1 on the first frame only). Empty
/// fragments are kept.
pub fn fragments(
    opcode: OpCode,
    rsv: u8,
    masking_key: Option<[u8; 4]>,
    payload: &[u8],
    cuts: &[usize],
) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for (i, end) in cuts.iter().copied().chain([payload.len()]).enumerate() {
        let first = i == 0;
        out.push(frame(
            i == cuts.len(),
            if first { rsv } else { 0 },
            if first { opcode } else { OpCode::Continuation },
            masking_key,
            &payload[start..end],
        ));
        start = end;
    }
    out
}

/// A frame parsed from output: its header bits and its unmasked payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// FIN.
    pub fin: bool,
    /// RSV1–RSV3 as the low three bits.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// Whether the MASK bit was set.
    pub masked: bool,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
}

impl Frame {
    /// Parses the first frame in `bytes` with the crate's strict decoder: the frame and the
    /// bytes it took, `Ok(None)` if `bytes` ends inside it, or the decoder's error.
    pub fn parse(bytes: &[u8]) -> Result<Option<(Self, usize)>, wsmachine::ProtocolError> {
        let (header, used) = match FrameHeader::decode(bytes)? {
            Status::Complete(done) => done,
            Status::Partial => return Ok(None),
        };
        let Ok(len) = usize::try_from(header.payload_len) else {
            panic!("payload length over usize: {header:?}")
        };
        if bytes.len() - used < len {
            return Ok(None);
        }
        let mut payload = bytes[used..used + len].to_vec();
        if let Some(key) = header.masking_key {
            apply_mask(&mut payload, key, 0);
        }
        let frame = Self {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            masked: header.masking_key.is_some(),
            payload,
        };
        Ok(Some((frame, used + len)))
    }
}

/// Parses a byte stream into whole frames with the crate's own decoder; panics on an invalid
/// header or leftover bytes.
pub fn frames(mut bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let Ok(Some((frame, used))) = Frame::parse(bytes) else {
            panic!("bad or partial frame in {bytes:x?}")
        };
        out.push(frame);
        bytes = &bytes[used..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_table() {
        let hello = b"Hello";
        let key = Some([0x37, 0xfa, 0x21, 0x3d]);
        let build = |fin, rsv, opcode: u8, masking_key, length, payload| {
            FrameBuilder {
                fin,
                rsv,
                opcode: RawOpcode(opcode),
                masking_key,
                length,
                payload,
            }
            .encode()
        };
        // (frame, bytes on the wire): RFC 6455 §5.7, then the forms only a broken peer writes.
        let cases: [(Vec<u8>, &[u8]); 7] = [
            (
                build(true, 0, 0x1, None, Length::Minimal, hello),
                b"\x81\x05Hello",
            ),
            (
                build(true, 0, 0x1, key, Length::Minimal, hello),
                b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
            ),
            (
                build(false, 0b100, 0x3, None, Length::Minimal, b""),
                b"\x43\x00",
            ),
            (
                build(true, 0, 0x2, None, Length::Extended16, b"a"),
                b"\x82\x7e\x00\x01a",
            ),
            (
                build(true, 0, 0x2, None, Length::Extended64, b"a"),
                b"\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x01a",
            ),
            (
                build(true, 0, 0x2, None, Length::Declared(300), b""),
                b"\x82\x7e\x01\x2c",
            ),
            (
                build(true, 0, 0x9, key, Length::Declared(0), b""),
                b"\x89\x80\x37\xfa\x21\x3d",
            ),
        ];
        for (i, (got, expected)) in cases.iter().enumerate() {
            assert_eq!(got, expected, "case {i}");
        }
    }

    #[test]
    fn frames_parse_what_frame_builds() {
        for len in [0, 125, 126, 65_535, 65_536] {
            for key in [None, Some([1, 2, 3, 4])] {
                let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let wire = [
                    frame(false, 0b100, OpCode::Binary, key, &payload),
                    frame(true, 0, OpCode::Continuation, key, b"end"),
                ]
                .concat();
                let parsed = frames(&wire);
                assert_eq!(parsed.len(), 2);
                assert_eq!(
                    (
                        parsed[0].fin,
                        parsed[0].rsv,
                        parsed[0].opcode,
                        parsed[0].masked
                    ),
                    (false, 0b100, OpCode::Binary, key.is_some())
                );
                assert_eq!(parsed[0].payload, payload);
                assert_eq!(parsed[1].payload, b"end");
            }
        }
    }

    #[test]
    fn fragments_cut_where_asked() {
        let parsed: Vec<Frame> = fragments(OpCode::Text, 0b100, None, b"abcdef", &[0, 2, 2])
            .iter()
            .flat_map(|f| frames(f))
            .collect();
        let summary: Vec<_> = parsed
            .iter()
            .map(|f| (f.fin, f.rsv, f.opcode, &f.payload[..]))
            .collect();
        assert_eq!(
            summary,
            [
                (false, 0b100, OpCode::Text, &b""[..]),
                (false, 0, OpCode::Continuation, b"ab"),
                (false, 0, OpCode::Continuation, b""),
                (true, 0, OpCode::Continuation, b"cdef"),
            ]
        );
    }
}
