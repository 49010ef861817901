//! The wire format (RFC 6455 §5.2): frame headers and masking.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! ```
//!
//! [`FrameHeader::decode`] works on a possibly incomplete buffer: it returns
//! [`Status::Partial`] until the whole header is there, never an error for missing bytes.

pub(crate) mod decoder;
mod mask;
pub(crate) mod output;

pub use mask::{apply_mask, apply_mask_reference, extend_masked, mask_copy};

use crate::error::ProtocolError;

/// The longest frame header: 2 bytes, an 8-byte extended length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

pub use crate::Status;

/// A frame opcode (RFC 6455 §5.2). Reserved opcodes are rejected when decoding.
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary` (any of the six opcodes).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: Close.
    Close,
    /// 0x9: Ping.
    Ping,
    /// 0xA: Pong.
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for a reserved one.
    pub const fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, Ping and Pong are control frames.
    pub const fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A decoded frame header.
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary`, producing only headers that
/// can be on the wire: `rsv` within its three bits and `payload_len` below 2^63, so
/// [`encode`](Self::encode) then [`decode`](Self::decode) gives the same header back.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1–RSV3 as the low three bits (RSV1 = `0b100`), for extensions.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_rsv))]
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the MASK bit is set.
    pub masking_key: Option<[u8; 4]>,
    /// The payload length.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_payload_len))]
    pub payload_len: u64,
}

/// RSV bits for an arbitrary header: the three wire bits only.
#[cfg(feature = "arbitrary")]
fn arbitrary_rsv(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<u8> {
    Ok(u.arbitrary::<u8>()? & 0b111)
}

/// A payload length for an arbitrary header: RFC 6455 §5.2 keeps the top bit of the 64-bit
/// length clear. Small lengths are as likely as large ones, so each length form gets used.
#[cfg(feature = "arbitrary")]
fn arbitrary_payload_len(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => u64::from(u.int_in_range(0..=125u8)?),
        1 => u64::from(u.arbitrary::<u16>()?),
        _ => u.arbitrary::<u64>()? >> 1,
    })
}

/// RSV1, used by permessage-deflate (RFC 7692).
pub const RSV1: u8 = 0b100;

impl FrameHeader {
    /// Decodes a header from the start of `buf`, strictly: a length that is not in its minimal
    /// form fails with [`ProtocolError::NonMinimalLength`].
    ///
    /// ```
    /// use wsmachine::frame::{FrameHeader, OpCode, Status};
    /// let Status::Complete((h, used)) = FrameHeader::decode(b"\x81\x05Hello").unwrap() else {
    ///     panic!()
    /// };
    /// assert_eq!((h.opcode, h.fin, h.payload_len, used), (OpCode::Text, true, 5, 2));
    /// assert_eq!(FrameHeader::decode(b"\x82\x7e\x01").unwrap(), Status::Partial);
    /// ```
    pub fn decode(buf: &[u8]) -> Result<Status<(Self, usize)>, ProtocolError> {
        Self::decode_with(buf, false)
    }

    /// Decodes a header; with `allow_non_minimal_length`, a length in a longer form than needed
    /// is accepted.
    ///
    /// Errors: [`ReservedOpcode`](ProtocolError::ReservedOpcode) (as soon as the first byte is
    /// there), [`LengthOverflow`](ProtocolError::LengthOverflow) for a 64-bit length with its top
    /// bit set, [`NonMinimalLength`](ProtocolError::NonMinimalLength).
    #[inline]
    pub fn decode_with(
        buf: &[u8],
        allow_non_minimal_length: bool,
    ) -> Result<Status<(Self, usize)>, ProtocolError> {
        let Some(&b0) = buf.first() else {
            return Ok(Status::Partial);
        };
        let opcode = OpCode::from_u8(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode)?;
        let Some(&b1) = buf.get(1) else {
            return Ok(Status::Partial);
        };
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut used) = match b1 & 0x7F {
            126 => {
                let Some(ext) = buf.get(2..4) else {
                    return Ok(Status::Partial);
                };
                let len = u64::from(u16::from_be_bytes([ext[0], ext[1]]));
                if len < 126 && !allow_non_minimal_length {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 4)
            }
            127 => {
                let Some(ext) = buf.get(2..10) else {
                    return Ok(Status::Partial);
                };
                let len = u64::from_be_bytes(ext.try_into().expect("8 bytes"));
                if len >> 63 != 0 {
                    return Err(ProtocolError::LengthOverflow);
                }
                if len <= 0xFFFF && !allow_non_minimal_length {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 10)
            }
            len => (u64::from(len), 2),
        };
        let masking_key = if masked {
            let Some(key) = buf.get(used..used + 4) else {
                return Ok(Status::Partial);
            };
            used += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        let header = Self {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0b111,
            opcode,
            masking_key,
            payload_len,
        };
        Ok(Status::Complete((header, used)))
    }

    /// The number of bytes [`encode`](Self::encode) writes (2 to 14).
    pub const fn encoded_len(&self) -> usize {
        let ext = if self.payload_len < 126 {
            0
        } else if self.payload_len <= 0xFFFF {
            2
        } else {
            8
        };
        2 + ext + if self.masking_key.is_some() { 4 } else { 0 }
    }

    /// Encodes the header in its minimal form into `dst`, returning the length used.
    ///
    /// A `payload_len` with the top bit set cannot be represented; it is encoded with that bit
    /// cleared, and [`Connection`](crate::Connection) never produces one.
    ///
    /// ```
    /// use wsmachine::frame::{FrameHeader, OpCode};
    /// let h = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, masking_key: None, payload_len: 256 };
    /// let mut buf = [0; 14];
    /// let n = h.encode(&mut buf);
    /// assert_eq!(&buf[..n], &[0x82, 0x7E, 0x01, 0x00]);
    /// ```
    #[inline]
    pub fn encode(&self, dst: &mut [u8; MAX_HEADER_LEN]) -> usize {
        dst[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0b111) << 4) | self.opcode.as_u8();
        let mask_bit = if self.masking_key.is_some() { 0x80 } else { 0 };
        let len = self.payload_len & (u64::MAX >> 1);
        let mut used = if len < 126 {
            dst[1] = mask_bit | len as u8;
            2
        } else if len <= 0xFFFF {
            dst[1] = mask_bit | 126;
            dst[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        } else {
            dst[1] = mask_bit | 127;
            dst[2..10].copy_from_slice(&len.to_be_bytes());
            10
        };
        if let Some(key) = self.masking_key {
            dst[used..used + 4].copy_from_slice(&key);
            used += 4;
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::decode(buf).unwrap() {
            Status::Complete(v) => v,
            Status::Partial => panic!("partial: {buf:x?}"),
        }
    }

    #[test]
    fn rfc_6455_section_5_7_headers() {
        // (bytes, fin, opcode, masking key, payload length, header length)
        type Row = (&'static [u8], bool, OpCode, Option<[u8; 4]>, u64, usize);
        let table: &[Row] = &[
            (b"\x81\x05", true, OpCode::Text, None, 5, 2),
            (
                b"\x81\x85\x37\xfa\x21\x3d",
                true,
                OpCode::Text,
                Some([0x37, 0xfa, 0x21, 0x3d]),
                5,
                6,
            ),
            (b"\x01\x03", false, OpCode::Text, None, 3, 2),
            (b"\x80\x02", true, OpCode::Continuation, None, 2, 2),
            (b"\x89\x05", true, OpCode::Ping, None, 5, 2),
            (
                b"\x8a\x85\x37\xfa\x21\x3d",
                true,
                OpCode::Pong,
                Some([0x37, 0xfa, 0x21, 0x3d]),
                5,
                6,
            ),
            (b"\x82\x7E\x01\x00", true, OpCode::Binary, None, 256, 4),
            (
                b"\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00",
                true,
                OpCode::Binary,
                None,
                65536,
                10,
            ),
        ];
        for &(bytes, fin, opcode, key, len, used) in table {
            let (h, n) = complete(bytes);
            assert_eq!(
                (h.fin, h.opcode, h.masking_key, h.payload_len, h.rsv, n),
                (fin, opcode, key, len, 0, used)
            );
            let mut out = [0; MAX_HEADER_LEN];
            let n = h.encode(&mut out);
            assert_eq!(&out[..n], bytes);
            assert_eq!(h.encoded_len(), used);
            // Every strict prefix is partial, never an error.
            for cut in 0..bytes.len() {
                assert_eq!(FrameHeader::decode(&bytes[..cut]).unwrap(), Status::Partial);
            }
        }
    }

    #[test]
    fn errors() {
        let table: &[(&[u8], ProtocolError)] = &[
            (b"\x83", ProtocolError::ReservedOpcode),
            (b"\x8b\x00", ProtocolError::ReservedOpcode),
            (b"\x8f", ProtocolError::ReservedOpcode),
            (b"\x82\x7E\x00\x7d", ProtocolError::NonMinimalLength),
            (
                b"\x82\x7F\x00\x00\x00\x00\x00\x00\xff\xff",
                ProtocolError::NonMinimalLength,
            ),
            (
                b"\x82\x7F\x80\x00\x00\x00\x00\x00\x00\x00",
                ProtocolError::LengthOverflow,
            ),
        ];
        for &(bytes, err) in table {
            assert_eq!(FrameHeader::decode(bytes), Err(err), "{bytes:x?}");
        }
        // The relaxed mode accepts non-minimal lengths.
        let Ok(Status::Complete((h, 4))) = FrameHeader::decode_with(b"\x82\x7E\x00\x7d", true)
        else {
            panic!()
        };
        assert_eq!(h.payload_len, 125);
    }

    #[test]
    fn rsv_bits_and_boundaries_round_trip() {
        for rsv in 0..8u8 {
            for len in [0u64, 125, 126, 0xFFFF, 0x10000, (1 << 63) - 1] {
                for key in [None, Some([1, 2, 3, 4])] {
                    let h = FrameHeader {
                        fin: rsv % 2 == 0,
                        rsv,
                        opcode: OpCode::Binary,
                        masking_key: key,
                        payload_len: len,
                    };
                    let mut out = [0; MAX_HEADER_LEN];
                    let n = h.encode(&mut out);
                    assert_eq!(complete(&out[..n]), (h, n));
                }
            }
        }
    }
}
