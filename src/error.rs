//! Error types: what a peer did wrong ([`ProtocolError`]) and what the caller did wrong
//! ([`SendError`]).
//!
//! Both are small `Copy` enums with static descriptions. A [`ProtocolError`] never reaches the
//! caller as an `Err`: the [`Connection`](crate::Connection) fails the connection with the
//! error's [`close_code`](ProtocolError::close_code) and reports it in the final
//! [`CloseOutcome`](crate::CloseOutcome). A [`SendError`] is returned by the sending methods and
//! guarantees that nothing was queued.

use core::fmt;

/// A violation of RFC 6455 (or of a configured limit) by the peer.
///
/// Each kind maps to the close code the connection sends when it fails because of it
/// ([`close_code`](Self::close_code)), following the policy table in the crate docs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A client sent a frame without a masking key (RFC 6455 §5.1). Close code 1002.
    UnmaskedFrame,
    /// A server sent a masked frame (RFC 6455 §5.1). Close code 1002.
    MaskedFrame,
    /// RSV1, RSV2 or RSV3 set without a negotiated extension that defines it (§5.2). 1002.
    ReservedBits,
    /// An opcode reserved for future use (0x3–0x7, 0xB–0xF) (§5.2). 1002.
    ReservedOpcode,
    /// A control frame with a payload over 125 bytes (§5.5). 1002.
    ControlFrameTooLong,
    /// A control frame with FIN clear (§5.5: control frames MUST NOT be fragmented). 1002.
    FragmentedControlFrame,
    /// A 64-bit payload length with the most significant bit set (§5.2). 1002.
    LengthOverflow,
    /// A payload length not in its minimal encoding (§5.2: "the minimal number of bytes MUST
    /// be used"). 1002.
    NonMinimalLength,
    /// A continuation frame with no message in progress (§5.4). 1002.
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress (§5.4). 1002.
    ExpectedContinuation,
    /// A Close frame whose payload is 1 byte long (§5.5.1). 1002.
    CloseFrameTooShort,
    /// A Close frame with a status code that must not appear on the wire (§7.4). 1002.
    InvalidCloseCode,
    /// Text or a close reason that is not valid UTF-8 (§8.1). 1007.
    InvalidUtf8,
    /// A data frame whose declared length is over
    /// [`Config::max_frame_size`](crate::Config::max_frame_size) (with room for DEFLATE's
    /// expansion if compressed). 1009.
    FrameTooLarge,
    /// A message whose declared length is over
    /// [`Config::max_message_size`](crate::Config::max_message_size) (with room for DEFLATE's
    /// expansion if compressed), or a compressed message whose inflated size passes it. 1009.
    MessageTooLarge,
    /// RSV1 (permessage-deflate's "compressed" bit) on a control frame (RFC 7692 §6.1:
    /// control frames are never compressed). 1002.
    CompressedControlFrame,
    /// RSV1 on a continuation frame (RFC 7692 §6.1: only the first frame of a message carries
    /// it). 1002.
    CompressedContinuation,
    /// A compressed message whose payload is not valid DEFLATE data (RFC 7692 §7.2.2). 1007:
    /// the payload is not consistent with the message type, as for invalid UTF-8.
    InvalidCompressedData,
}

// `close_code` is defined beside `CloseCode`, in the `close` module: errors sit below close
// codes, so this module imports nothing.
impl ProtocolError {
    /// A short static description, also used as the reason of the Close frame we send.
    pub const fn description(self) -> &'static str {
        match self {
            Self::UnmaskedFrame => "unmasked frame from client",
            Self::MaskedFrame => "masked frame from server",
            Self::ReservedBits => "reserved bits set",
            Self::ReservedOpcode => "reserved opcode",
            Self::ControlFrameTooLong => "control frame over 125 bytes",
            Self::FragmentedControlFrame => "fragmented control frame",
            Self::LengthOverflow => "payload length top bit set",
            Self::NonMinimalLength => "non-minimal payload length",
            Self::UnexpectedContinuation => "continuation without a message",
            Self::ExpectedContinuation => "new message inside a fragmented message",
            Self::CloseFrameTooShort => "close payload of 1 byte",
            Self::InvalidCloseCode => "invalid close code",
            Self::InvalidUtf8 => "invalid UTF-8",
            Self::FrameTooLarge => "frame too large",
            Self::MessageTooLarge => "message too large",
            Self::CompressedControlFrame => "compressed control frame",
            Self::CompressedContinuation => "RSV1 on a continuation frame",
            Self::InvalidCompressedData => "invalid compressed data",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for ProtocolError {}

/// A caller mistake: the requested send or close was refused and nothing was queued.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is closed (closing handshake complete, failed, or the transport ended).
    Closed,
    /// We already sent a Close frame: no data frames may follow it (RFC 6455 §5.5.1), and
    /// `close` may be called only once.
    CloseSent,
    /// A whole message or a new fragmented message was sent while a fragmented message is
    /// still open (RFC 6455 §5.4).
    MessageInProgress,
    /// A fragment's kind does not match the open fragmented message.
    FragmentKindMismatch,
    /// A control payload (ping, pong) over 125 bytes (RFC 6455 §5.5).
    ControlPayloadTooLong,
    /// A close code that an endpoint must not send (1005, 1006, 1015, unassigned ranges).
    InvalidCloseCode,
    /// A close reason over 123 bytes (125 minus the 2-byte code).
    CloseReasonTooLong,
    /// Text fragments that are not valid UTF-8 as far as they go.
    InvalidUtf8,
    /// An extension could not encode the message (permessage-deflate: the compressor
    /// reported an error, which zlib does only on misuse). Nothing was queued; the
    /// compressor's state is unknown, so close or fail the connection.
    ExtensionFailed,
}

impl SendError {
    /// A short static description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Closed => "connection closed",
            Self::CloseSent => "close frame already sent",
            Self::MessageInProgress => "a fragmented message is in progress",
            Self::FragmentKindMismatch => "fragment kind does not match the open message",
            Self::ControlPayloadTooLong => "control payload over 125 bytes",
            Self::InvalidCloseCode => "close code not sendable",
            Self::CloseReasonTooLong => "close reason over 123 bytes",
            Self::InvalidUtf8 => "text is not valid UTF-8",
            Self::ExtensionFailed => "an extension could not encode the message",
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for SendError {}
