//! Close codes and Close frames (RFC 6455 §5.5.1, §7.4).

use core::fmt;

use bytes::Bytes;

use crate::error::{ProtocolError, SendError};
use crate::text::Text;

/// The longest close reason: a control payload is at most 125 bytes, 2 of them the code.
pub const MAX_REASON_LEN: usize = 123;

/// A WebSocket close status code (RFC 6455 §7.4).
///
/// The set is open (3000–3999 registered with IANA, 4000–4999 private use), so this is a
/// newtype with named constants and classifying methods rather than a closed enum.
///
/// ```
/// use wsmachine::CloseCode;
/// assert!(CloseCode::NORMAL.is_sendable());
/// assert!(CloseCode(4000).is_sendable());
/// assert!(!CloseCode::ABNORMAL.is_valid_on_wire()); // 1006 is only ever reported locally
/// ```
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary` (any `u16`, valid or not).
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present. Reported locally; never sent.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection closed without a Close frame. Reported locally; never sent.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: data inconsistent with the message type (for example invalid UTF-8 in text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message violates the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: bad gateway (IANA registry).
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: the TLS handshake failed. Reported locally; never sent.
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Whether the code may appear in a Close frame: 1000–1003, 1007–1014 and 3000–4999.
    ///
    /// A received Close frame with any other code fails the connection with 1002.
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether an application may send this code with
    /// [`Connection::close`](crate::Connection::close): exactly the codes valid on the wire.
    ///
    /// 1005, 1006 and 1015 are reserved for local reporting (§7.4.1), 1004 and 1016–2999 are
    /// reserved for future protocol use, and codes from 5000 up do not exist.
    pub const fn is_sendable(self) -> bool {
        self.is_valid_on_wire()
    }

    /// Whether the code is one RFC 6455 reserves for local reporting only: 1005, 1006, 1015.
    pub const fn is_local_only(self) -> bool {
        matches!(self.0, 1005 | 1006 | 1015)
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

// Defined here rather than beside `ProtocolError` so that the dependency runs one way: close
// codes know the errors, and the `error` module imports nothing.
impl ProtocolError {
    /// The close code the connection sends when it fails because of this error.
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCompressedData => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge | Self::MessageTooLarge => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// The content of a Close frame: a status code and a UTF-8 reason.
///
/// An empty Close payload is represented by [`CloseCode::NO_STATUS`] (1005) with an empty
/// reason, which is also how browsers report it; encoding that value gives an empty payload.
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary`, producing only valid frames:
/// the empty frame, or a code valid on the wire with a reason of at most 123 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    code: CloseCode,
    reason: Text,
}

impl CloseFrame {
    /// A Close frame to send: `code` must be [sendable](CloseCode::is_sendable) and `reason` at
    /// most 123 bytes.
    pub fn new(code: CloseCode, reason: &str) -> Result<Self, SendError> {
        check_sendable(code, reason)?;
        Ok(Self {
            code,
            reason: Text::from(reason),
        })
    }

    /// The frame for an empty Close payload (code 1005, no reason).
    pub const fn empty() -> Self {
        Self {
            code: CloseCode::NO_STATUS,
            reason: Text::new(),
        }
    }

    /// Parses a received Close payload (already unmasked), with every RFC 6455 check:
    /// a 1-byte payload and codes invalid on the wire fail with 1002, a reason that is not
    /// UTF-8 fails with 1007.
    pub fn parse(payload: Bytes) -> Result<Self, ProtocolError> {
        match payload.len() {
            0 => Ok(Self::empty()),
            1 => Err(ProtocolError::CloseFrameTooShort),
            _ => {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_valid_on_wire() {
                    return Err(ProtocolError::InvalidCloseCode);
                }
                let reason = Text::try_from_bytes(payload.slice(2..))
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
                Ok(Self { code, reason })
            }
        }
    }

    /// The status code (1005 for an empty Close payload).
    pub fn code(&self) -> CloseCode {
        self.code
    }

    /// The reason (empty if none).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The length of the encoded payload.
    pub fn encoded_len(&self) -> usize {
        if self.code == CloseCode::NO_STATUS {
            0
        } else {
            2 + self.reason.len()
        }
    }

    /// Appends the payload bytes (code then reason; nothing for 1005).
    pub fn encode(&self, dst: &mut alloc::vec::Vec<u8>) {
        if self.code != CloseCode::NO_STATUS {
            dst.extend_from_slice(&self.code.0.to_be_bytes());
            dst.extend_from_slice(self.reason.as_bytes());
        }
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for CloseFrame {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // The codes valid on the wire, counted: 1000–1003, 1007–1014, 3000–4999.
        const RANGES: [(u16, u16); 3] = [(1000, 1003), (1007, 1014), (3000, 4999)];
        const COUNT: u16 = 4 + 8 + 2000;
        if u.ratio(1, 8)? {
            return Ok(Self::empty());
        }
        let mut index = u.int_in_range(0..=COUNT - 1)?;
        let mut code = CloseCode::NORMAL;
        for (first, last) in RANGES {
            if index <= last - first {
                code = CloseCode(first + index);
                break;
            }
            index -= last - first + 1;
        }
        let reason: &str = u.arbitrary()?;
        let mut end = reason.len().min(MAX_REASON_LEN);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        Ok(Self::new(code, &reason[..end]).expect("a code valid on the wire and a short reason"))
    }
}

/// The checks for sending a Close frame: a sendable code and a reason of at most 123 bytes.
pub(crate) fn check_sendable(code: CloseCode, reason: &str) -> Result<(), SendError> {
    if !code.is_sendable() {
        return Err(SendError::InvalidCloseCode);
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(SendError::CloseReasonTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn code_classification() {
        // (code, valid on the wire)
        let table: &[(u16, bool)] = &[
            (0, false),
            (999, false),
            (1000, true),
            (1001, true),
            (1002, true),
            (1003, true),
            (1004, false),
            (1005, false),
            (1006, false),
            (1007, true),
            (1008, true),
            (1009, true),
            (1010, true),
            (1011, true),
            (1012, true),
            (1013, true),
            (1014, true),
            (1015, false),
            (1016, false),
            (1100, false),
            (2000, false),
            (2999, false),
            (3000, true),
            (3999, true),
            (4000, true),
            (4999, true),
            (5000, false),
            (65535, false),
        ];
        for &(code, valid) in table {
            assert_eq!(CloseCode(code).is_valid_on_wire(), valid, "{code}");
            assert_eq!(CloseCode(code).is_sendable(), valid, "{code}");
        }
        assert!(CloseCode::NO_STATUS.is_local_only());
        assert!(CloseCode::ABNORMAL.is_local_only());
        assert!(CloseCode::TLS_HANDSHAKE.is_local_only());
        assert!(!CloseCode::NORMAL.is_local_only());
    }

    #[test]
    fn parse_table() {
        let ok: &[(&[u8], u16, &str)] = &[
            (b"", 1005, ""),
            (b"\x03\xe8", 1000, ""),
            (b"\x03\xe8bye", 1000, "bye"),
            (b"\x0f\xa0\xc3\xa9", 4000, "é"),
        ];
        for &(payload, code, reason) in ok {
            let f = CloseFrame::parse(Bytes::copy_from_slice(payload)).unwrap();
            assert_eq!((f.code().0, f.reason()), (code, reason));
            let mut out = Vec::new();
            f.encode(&mut out);
            assert_eq!(out, payload);
            assert_eq!(f.encoded_len(), payload.len());
        }
        let bad: &[(&[u8], ProtocolError)] = &[
            (b"\x03", ProtocolError::CloseFrameTooShort),
            (b"\x03\xec", ProtocolError::InvalidCloseCode), // 1004
            (b"\x03\xed", ProtocolError::InvalidCloseCode), // 1005
            (b"\x03\xee", ProtocolError::InvalidCloseCode), // 1006
            (b"\x03\xf7", ProtocolError::InvalidCloseCode), // 1015
            (b"\x00\x00", ProtocolError::InvalidCloseCode),
            (b"\x13\x88", ProtocolError::InvalidCloseCode), // 5000
            (b"\x03\xe8\xff", ProtocolError::InvalidUtf8),
            (b"\x03\xe8\xce\xba\xe1", ProtocolError::InvalidUtf8),
        ];
        for &(payload, err) in bad {
            assert_eq!(
                CloseFrame::parse(Bytes::copy_from_slice(payload)),
                Err(err),
                "{payload:x?}"
            );
        }
    }

    #[test]
    fn sending_checks() {
        assert!(CloseFrame::new(CloseCode::NORMAL, "").is_ok());
        assert_eq!(
            CloseFrame::new(CloseCode::NO_STATUS, ""),
            Err(SendError::InvalidCloseCode)
        );
        assert_eq!(
            CloseFrame::new(CloseCode(1006), ""),
            Err(SendError::InvalidCloseCode)
        );
        assert_eq!(
            CloseFrame::new(CloseCode(2000), ""),
            Err(SendError::InvalidCloseCode)
        );
        let long = "x".repeat(124);
        assert_eq!(
            CloseFrame::new(CloseCode::NORMAL, &long),
            Err(SendError::CloseReasonTooLong)
        );
        assert!(CloseFrame::new(CloseCode::NORMAL, &long[..123]).is_ok());
    }

    #[test]
    fn protocol_errors_map_to_the_policy_table_codes() {
        let table: &[(ProtocolError, u16)] = &[
            (ProtocolError::UnmaskedFrame, 1002),
            (ProtocolError::MaskedFrame, 1002),
            (ProtocolError::ReservedBits, 1002),
            (ProtocolError::ReservedOpcode, 1002),
            (ProtocolError::ControlFrameTooLong, 1002),
            (ProtocolError::FragmentedControlFrame, 1002),
            (ProtocolError::LengthOverflow, 1002),
            (ProtocolError::NonMinimalLength, 1002),
            (ProtocolError::UnexpectedContinuation, 1002),
            (ProtocolError::ExpectedContinuation, 1002),
            (ProtocolError::CloseFrameTooShort, 1002),
            (ProtocolError::InvalidCloseCode, 1002),
            (ProtocolError::InvalidUtf8, 1007),
            (ProtocolError::FrameTooLarge, 1009),
            (ProtocolError::MessageTooLarge, 1009),
            (ProtocolError::CompressedControlFrame, 1002),
            (ProtocolError::CompressedContinuation, 1002),
            (ProtocolError::InvalidCompressedData, 1007),
        ];
        for &(err, code) in table {
            assert_eq!(err.close_code().0, code, "{err:?}");
            // The description is used as a close reason: it must fit in one.
            assert!(err.description().len() <= MAX_REASON_LEN);
        }
    }
}
