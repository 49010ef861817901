//! A checker for what a connection writes: the byte stream must parse, with the crate's own
//! strict decoder, into frames that are valid for the sender's role.

use flate2::{Decompress, FlushDecompress};
use wsmachine::extensions::DeflateParams;
use wsmachine::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, RSV1, Status, apply_mask};
use wsmachine::{Bytes, CloseFrame, Role};

/// What a sender's permessage-deflate parameters say about its direction.
#[derive(Copy, Clone, Debug)]
pub struct Direction {
    /// The sender resets its compressor after every message.
    pub no_context_takeover: bool,
    /// The sender's largest LZ77 window, 8–15 bits.
    pub window_bits: u8,
}

impl Direction {
    /// The direction in which `sender` compresses.
    pub fn of(params: &DeflateParams, sender: Role) -> Self {
        let (nct, bits) = match sender {
            Role::Server => (
                params.server_no_context_takeover,
                params.server_max_window_bits,
            ),
            Role::Client => (
                params.client_no_context_takeover,
                params.client_max_window_bits,
            ),
        };
        Self {
            no_context_takeover: nct,
            window_bits: bits.map_or(15, |b| b.clamp(8, 15)),
        }
    }
}

/// `params` with every window size moved into 8–15 (`b` becomes `8 + b % 8`), so that fuzzed
/// agreements use every window size rather than mostly the clamped ends.
pub fn spread_windows(mut params: DeflateParams) -> DeflateParams {
    let spread = |b: Option<u8>| b.map(|b| 8 + b % 8);
    params.server_max_window_bits = spread(params.server_max_window_bits);
    params.client_max_window_bits = spread(params.client_max_window_bits);
    params
}

/// Reads a sender's compressed messages the strict way: a decompressor no larger than the
/// window the sender may use (9 bits for 8: zlib has no 8-bit window), fresh for every message
/// when the sender must reset its compressor.
struct Reader {
    direction: Direction,
    z: Option<Decompress>,
}

impl Reader {
    fn inflate(&mut self, compressed: &[u8]) -> Vec<u8> {
        let bits = self.direction.window_bits.max(9);
        if self.direction.no_context_takeover {
            self.z = None;
        }
        let z = self
            .z
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let mut input = compressed.to_vec();
        input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]); // RFC 7692 §7.2.2
        let mut out = Vec::with_capacity(input.len() * 4 + 64);
        let mut pos = 0;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.len().max(1024));
            }
            let before_in = z.total_in();
            z.decompress_vec(&input[pos..], &mut out, FlushDecompress::Sync)
                .unwrap_or_else(|e| {
                    panic!(
                        "the sender's compressed message does not inflate ({e}): {compressed:x?}"
                    )
                });
            pos += (z.total_in() - before_in) as usize;
            if pos == input.len() && out.len() < out.capacity() {
                return out;
            }
            assert!(
                out.len() < 64 << 20,
                "a compressed message inflates past 64 MiB"
            );
        }
    }
}

/// A frame parsed from the output, unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: OpCode,
    pub payload: Vec<u8>,
}

/// Parses the output stream of a connection of `role` as it is written, and asserts the rules
/// a sender must follow (RFC 6455 §5): no RSV bits (but RSV1 on the first frame of a message
/// compressed as agreed, RFC 7692 §6), masking by the client only, control frames short and
/// unfragmented, fragments in order, text messages UTF-8 (after inflating), one Close frame
/// with a valid payload, and after it no data frame. Compressed messages are inflated with a
/// window no larger than the sender agreed to, from a fresh decompressor for every message
/// when the sender agreed to reset its compressor.
pub struct WireChecker {
    role: Role,
    buf: Vec<u8>,
    /// The data message being sent: its opcode, whether it is compressed, its bytes so far.
    message: Option<(OpCode, bool, Vec<u8>)>,
    /// permessage-deflate in this sender's direction, if agreed.
    deflate: Option<Reader>,
    /// The Close frame sent, once it was.
    close: Option<CloseFrame>,
    /// Every complete frame, in order.
    pub frames: Vec<Frame>,
    /// Complete data messages, in order: `(is_text, bytes)`.
    pub messages: Vec<(bool, Vec<u8>)>,
}

impl WireChecker {
    pub fn new(role: Role) -> Self {
        Self::with_deflate(role, None)
    }

    /// A checker for a sender that agreed to permessage-deflate with `params`.
    pub fn with_deflate(role: Role, params: Option<&DeflateParams>) -> Self {
        Self {
            role,
            buf: Vec::new(),
            message: None,
            deflate: params.map(|p| Reader {
                direction: Direction::of(p, role),
                z: None,
            }),
            close: None,
            frames: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// The Close frame the connection sent, if it did.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.close.as_ref()
    }

    /// Takes the next written bytes and checks every frame they complete.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let mut pos = 0;
        loop {
            let rest = &self.buf[pos..];
            let (header, used) = match FrameHeader::decode(rest) {
                Ok(Status::Complete(done)) => done,
                Ok(Status::Partial) => break,
                Err(e) => panic!("{:?} wrote an invalid header ({e}): {rest:x?}", self.role),
            };
            let Ok(len) = usize::try_from(header.payload_len) else {
                panic!("payload length over usize: {header:?}")
            };
            if rest.len() - used < len {
                break;
            }
            let mut payload = rest[used..used + len].to_vec();
            pos += used + len;
            self.check_header(&header);
            if let Some(key) = header.masking_key {
                apply_mask(&mut payload, key, 0);
            }
            self.frame(
                Frame {
                    fin: header.fin,
                    opcode: header.opcode,
                    payload,
                },
                header.rsv == RSV1,
            );
        }
        self.buf.drain(..pos);
    }

    /// The stream ended: no partial frame may be left.
    pub fn finish(&self) {
        assert!(
            self.buf.is_empty(),
            "{:?} output ends inside a frame: {:x?}",
            self.role,
            self.buf
        );
    }

    fn check_header(&self, h: &FrameHeader) {
        // RSV1 marks a compressed message: only on its first frame, only if agreed (RFC 7692
        // §6), and never when the sender's window is 8 bits (wsmachine does not compress then).
        let compressed_ok = matches!(h.opcode, OpCode::Text | OpCode::Binary)
            && self
                .deflate
                .as_ref()
                .is_some_and(|d| d.direction.window_bits > 8);
        if !(compressed_ok && h.rsv == RSV1) {
            assert_eq!(h.rsv, 0, "RSV bits set where not allowed: {h:?}");
        }
        assert_eq!(
            h.masking_key.is_some(),
            self.role == Role::Client,
            "{:?} sent a frame with the wrong masking: {h:?}",
            self.role
        );
        if h.opcode.is_control() {
            assert!(h.fin, "fragmented control frame: {h:?}");
            assert!(
                h.payload_len <= MAX_CONTROL_PAYLOAD as u64,
                "control frame over 125 bytes: {h:?}"
            );
        }
    }

    fn frame(&mut self, frame: Frame, compressed: bool) {
        if self.close.is_some() {
            assert!(
                matches!(frame.opcode, OpCode::Ping | OpCode::Pong),
                "{:?} sent {:?} after its Close frame",
                self.role,
                frame.opcode
            );
        }
        match frame.opcode {
            OpCode::Text | OpCode::Binary => {
                assert!(
                    self.message.is_none(),
                    "a new message inside a fragmented one"
                );
                self.message = Some((frame.opcode, compressed, Vec::new()));
                self.data(&frame);
            }
            OpCode::Continuation => {
                assert!(self.message.is_some(), "a continuation without a message");
                self.data(&frame);
            }
            OpCode::Close => {
                let parsed =
                    CloseFrame::parse(Bytes::from(frame.payload.clone())).unwrap_or_else(|e| {
                        panic!("invalid Close payload ({e}): {:x?}", frame.payload)
                    });
                self.close = Some(parsed);
            }
            OpCode::Ping | OpCode::Pong => {}
        }
        self.frames.push(frame);
    }

    fn data(&mut self, frame: &Frame) {
        let (opcode, compressed, bytes) = self.message.as_mut().expect("checked by the caller");
        bytes.extend_from_slice(&frame.payload);
        let text = *opcode == OpCode::Text;
        if text && !*compressed {
            // As far as it goes, text must be UTF-8: at most an unfinished code point at the end.
            if let Err(e) = core::str::from_utf8(bytes) {
                assert!(
                    e.error_len().is_none() && !frame.fin,
                    "invalid UTF-8 in a text message: {bytes:x?}"
                );
            }
        }
        if frame.fin {
            let (_, compressed, mut bytes) = self.message.take().expect("checked above");
            if compressed {
                bytes = self.deflate.as_mut().expect("checked").inflate(&bytes);
                if text {
                    assert!(
                        core::str::from_utf8(&bytes).is_ok(),
                        "invalid UTF-8 in a compressed text message: {bytes:x?}"
                    );
                }
            }
            self.messages.push((text, bytes));
        }
    }
}
