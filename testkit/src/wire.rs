//! A checker for what a connection writes: the byte stream must parse, with the crate's own
//! strict decoder, into frames that are valid for the sender's role.

use wsmachine::frame::{MAX_CONTROL_PAYLOAD, OpCode, RSV1};
use wsmachine::{Bytes, CloseFrame, Connection, Role};

use crate::Frame;

/// Parses the output stream of a connection of `role` as it is written, and asserts the rules
/// a sender must follow (RFC 6455 §5): no RSV bits (but RSV1 on the first frame of a message
/// compressed as agreed, RFC 7692 §6), masking by the client only, control frames short and
/// unfragmented, fragments in order, text messages UTF-8 (after inflating), one Close frame
/// with a valid payload, and after it no data frame. With feature `deflate`, compressed
/// messages are inflated with a window no larger than the sender agreed to, from a fresh
/// decompressor for every message when the sender agreed to reset its compressor.
pub struct WireChecker {
    role: Role,
    buf: Vec<u8>,
    /// The data message being sent: its opcode, whether it is compressed, its bytes so far.
    message: Option<(OpCode, bool, Vec<u8>)>,
    /// permessage-deflate in this sender's direction, if agreed.
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::Inflater>,
    /// The Close frame sent, once it was.
    close: Option<CloseFrame>,
    /// Every complete frame, in order.
    pub frames: Vec<Frame>,
    /// Complete data messages, in order: `(is_text, bytes)`, inflated.
    pub messages: Vec<(bool, Vec<u8>)>,
}

impl WireChecker {
    /// A checker for a sender of `role` without extensions.
    pub fn new(role: Role) -> Self {
        Self {
            role,
            buf: Vec::new(),
            message: None,
            #[cfg(feature = "deflate")]
            deflate: None,
            close: None,
            frames: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// A checker for a sender of `role` that agreed to permessage-deflate with `params`, if
    /// given.
    #[cfg(feature = "deflate")]
    pub fn with_deflate(role: Role, params: Option<&wsmachine::extensions::DeflateParams>) -> Self {
        Self {
            deflate: params
                .map(|p| crate::deflate::Inflater::new(crate::deflate::Direction::of(p, role))),
            ..Self::new(role)
        }
    }

    /// A checker for what `conn` writes: its role and what it negotiated.
    pub fn for_connection(conn: &Connection) -> Self {
        #[cfg(feature = "deflate")]
        return Self::with_deflate(conn.role(), conn.negotiated().deflate());
        #[cfg(not(feature = "deflate"))]
        Self::new(conn.role())
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
            let (frame, used) = match Frame::parse(rest) {
                Ok(Some(done)) => done,
                Ok(None) => break,
                Err(e) => panic!("{:?} wrote an invalid header ({e}): {rest:x?}", self.role),
            };
            pos += used;
            self.check_header(&frame);
            self.frame(frame);
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

    /// Whether this sender may set RSV1 on the first frame of a message: it agreed to
    /// permessage-deflate, and its window is over 8 bits (wsmachine does not compress then).
    fn may_compress(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self
            .deflate
            .as_ref()
            .is_some_and(|d| d.direction().window_bits > 8);
        #[cfg(not(feature = "deflate"))]
        false
    }

    fn check_header(&self, f: &Frame) {
        // RSV1 marks a compressed message: only on its first frame, only if agreed (RFC 7692
        // §6).
        let compressed_ok =
            matches!(f.opcode, OpCode::Text | OpCode::Binary) && self.may_compress();
        if !(compressed_ok && f.rsv == RSV1) {
            assert_eq!(f.rsv, 0, "RSV bits set where not allowed: {f:?}");
        }
        assert_eq!(
            f.masked,
            self.role == Role::Client,
            "{:?} sent a frame with the wrong masking: {f:?}",
            self.role
        );
        if f.opcode.is_control() {
            assert!(f.fin, "fragmented control frame: {f:?}");
            assert!(
                f.payload.len() <= MAX_CONTROL_PAYLOAD,
                "control frame over 125 bytes: {f:?}"
            );
        }
    }

    fn frame(&mut self, frame: Frame) {
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
                self.message = Some((frame.opcode, frame.rsv == RSV1, Vec::new()));
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
            let (_, compressed, bytes) = self.message.take().expect("checked above");
            let bytes = if compressed {
                self.inflate(&bytes)
            } else {
                bytes
            };
            if compressed && text {
                assert!(
                    core::str::from_utf8(&bytes).is_ok(),
                    "invalid UTF-8 in a compressed text message: {bytes:x?}"
                );
            }
            self.messages.push((text, bytes));
        }
    }

    /// A compressed message's payload, inflated (only reached when RSV1 was allowed).
    fn inflate(&mut self, compressed: &[u8]) -> Vec<u8> {
        #[cfg(feature = "deflate")]
        return self
            .deflate
            .as_mut()
            .expect("RSV1 only where agreed")
            .inflate(compressed);
        #[cfg(not(feature = "deflate"))]
        unreachable!("RSV1 without permessage-deflate: {compressed:x?}")
    }
}

#[cfg(test)]
mod tests {
    use wsmachine::frame::OpCode;

    use super::*;
    use crate::frame;

    #[test]
    fn valid_output_in_any_pieces() {
        let wire = [
            frame(false, 0, OpCode::Text, None, "κό".as_bytes()),
            frame(true, 0, OpCode::Ping, None, b"p"),
            frame(true, 0, OpCode::Continuation, None, "σμε".as_bytes()),
            frame(true, 0, OpCode::Close, None, b"\x03\xe8"),
            frame(true, 0, OpCode::Pong, None, b""),
        ]
        .concat();
        let mut checker = WireChecker::new(Role::Server);
        for piece in wire.chunks(3) {
            checker.push(piece);
        }
        checker.finish();
        assert_eq!(checker.frames.len(), 5);
        assert_eq!(checker.messages, [(true, "κόσμε".as_bytes().to_vec())]);
        assert_eq!(checker.close_frame().map(|c| c.code().0), Some(1000));
    }

    #[test]
    #[should_panic(expected = "wrong masking")]
    fn an_unmasked_client_frame_is_refused() {
        WireChecker::new(Role::Client).push(&frame(true, 0, OpCode::Text, None, b"x"));
    }

    #[test]
    #[should_panic(expected = "after its Close frame")]
    fn data_after_close_is_refused() {
        let mut checker = WireChecker::new(Role::Server);
        checker.push(&frame(true, 0, OpCode::Close, None, b""));
        checker.push(&frame(true, 0, OpCode::Text, None, b"x"));
    }

    #[test]
    #[should_panic(expected = "RSV bits")]
    fn rsv1_without_deflate_is_refused() {
        WireChecker::new(Role::Server).push(&frame(true, 0b100, OpCode::Text, None, b"x"));
    }
}
