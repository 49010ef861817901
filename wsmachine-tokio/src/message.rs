//! The messages a [`WebSocket`](crate::WebSocket) receives and sends.

use wsmachine::{Bytes, CloseCode, CloseFrame, SendError, Text};

/// A WebSocket message, received or to send. Payloads are shared, not copied: [`Text`]
/// derefs to `str` and [`Bytes`] to `[u8]`, both over the received buffer.
///
/// Received Pings were already answered (with [`Config::auto_pong`](wsmachine::Config), the
/// default); a received `Close` is the peer's Close frame, whose reply is already queued; keep
/// calling [`recv`](crate::WebSocket::recv) until `None` to finish the closing handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message (valid UTF-8).
    Text(Text),
    /// A binary message.
    Binary(Bytes),
    /// A Ping (at most 125 bytes).
    Ping(Bytes),
    /// A Pong (at most 125 bytes).
    Pong(Bytes),
    /// A Close frame: `None` for an empty one (no status code). Sending it starts the closing
    /// handshake, with 1000 for `None`.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Text>) -> Self {
        Self::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::Binary(data.into())
    }

    /// A Ping.
    pub fn ping(data: impl Into<Bytes>) -> Self {
        Self::Ping(data.into())
    }

    /// A Pong.
    pub fn pong(data: impl Into<Bytes>) -> Self {
        Self::Pong(data.into())
    }

    /// A Close frame with `code` and `reason`; fails if the code cannot be sent (1005, 1006,
    /// 1015, unassigned) or the reason is longer than 123 bytes.
    pub fn close(code: CloseCode, reason: &str) -> Result<Self, SendError> {
        Ok(Self::Close(Some(CloseFrame::new(code, reason)?)))
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// Whether this is a Close frame.
    pub fn is_close(&self) -> bool {
        matches!(self, Self::Close(_))
    }

    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The payload bytes (a Close frame's reason).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(data) | Self::Ping(data) | Self::Pong(data) => data,
            Self::Close(Some(frame)) => frame.reason().as_bytes(),
            Self::Close(None) => &[],
        }
    }

    /// The payload as `Bytes`, without a copy (a Close frame's reason is copied).
    pub fn into_bytes(self) -> Bytes {
        match self {
            Self::Text(text) => text.into_bytes(),
            Self::Binary(data) | Self::Ping(data) | Self::Pong(data) => data,
            Self::Close(Some(frame)) => Bytes::copy_from_slice(frame.reason().as_bytes()),
            Self::Close(None) => Bytes::new(),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text.into())
    }
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Self::Binary(data.into())
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(data))
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Self::Binary(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_the_type_and_the_bytes() {
        assert_eq!(Message::from("hi"), Message::text("hi"));
        assert_eq!(Message::from(String::from("hi")).as_text(), Some("hi"));
        assert_eq!(Message::from(vec![1u8, 2]), Message::binary(vec![1u8, 2]));
        assert!(Message::from(&b"x"[..]).is_binary());
        assert_eq!(Message::from(Bytes::from_static(b"ab")).as_bytes(), b"ab");
        assert_eq!(Message::text("ok").into_bytes(), Bytes::from_static(b"ok"));
        let close = Message::close(CloseCode::NORMAL, "bye").unwrap();
        assert!(close.is_close());
        assert_eq!(close.as_bytes(), b"bye");
        assert!(Message::close(CloseCode(1005), "").is_err());
    }
}
