//! Limits and switches for a [`Connection`](crate::Connection).

/// Configuration of a [`Connection`](crate::Connection).
///
/// ```
/// use wsmachine::Config;
/// let mut config = Config::default();
/// config.max_message_size = 1 << 20;
/// config.streaming = true;
/// ```
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary` (any limits, any switches).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub struct Config {
    /// The largest message accepted, in bytes (default 64 MiB). A frame whose declared length
    /// would take the message over it fails the connection with 1009 before any of its payload
    /// is buffered. Applies in streaming mode too. A compressed message (permessage-deflate)
    /// is held to it twice: as sent, and as inflated, failing with 1009 as soon as the
    /// inflated bytes pass it, so an inflate bomb never costs more memory than this.
    pub max_message_size: usize,
    /// The largest frame accepted, in bytes (default 16 MiB); checked against the declared
    /// length, 1009.
    pub max_frame_size: usize,
    /// Answer each Ping with a Pong automatically (default `true`), one for one. Once 16
    /// automatic Pongs wait unwritten, a new one replaces the last one not yet started (RFC 6455
    /// §5.5.3 allows answering only the latest Ping), so a Ping flood cannot grow the output.
    pub auto_pong: bool,
    /// Deliver data as it arrives, as [`Event::TextChunk`](crate::Event::TextChunk) and
    /// [`Event::BinaryChunk`](crate::Event::BinaryChunk), instead of whole messages (default
    /// `false`). For proxies and transfers too big to hold.
    pub streaming: bool,
    /// Accept payload lengths that are not in their minimal encoding (default `false`: such a
    /// frame fails the connection with 1002, as RFC 6455 §5.2 says "MUST").
    pub allow_non_minimal_length: bool,
    /// How permessage-deflate is used when the handshake agreed to it (feature `deflate`):
    /// compression level and the size below which messages go uncompressed.
    #[cfg(feature = "deflate")]
    pub deflate: crate::extensions::DeflateConfig,
}

impl Config {
    /// The defaults: 64 MiB messages, 16 MiB frames, automatic pongs, whole messages, strict
    /// length encoding (and, with feature `deflate`, compression level 6 for messages of 64
    /// bytes or more).
    pub const fn new() -> Self {
        Self {
            max_message_size: 64 << 20,
            max_frame_size: 16 << 20,
            auto_pong: true,
            streaming: false,
            allow_non_minimal_length: false,
            #[cfg(feature = "deflate")]
            deflate: crate::extensions::DeflateConfig::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}
