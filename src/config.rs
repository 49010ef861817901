//! Limits, switches and timers for a [`Connection`](crate::Connection).

use core::time::Duration;

/// Configuration of a [`Connection`](crate::Connection).
///
/// ```
/// use wsmachine::Config;
/// let mut config = Config::default();
/// config.max_message_size = 1 << 20;
/// config.streaming = true;
/// ```
///
/// # Limits on what the peer sends
///
/// Both limits apply to received data messages, in streaming mode too, and are checked
/// against each frame's declared payload length before any of its payload is buffered; a
/// frame over one fails the connection with 1009 (RFC 6455 §7.4.1). Control frames are held
/// to 125 bytes by RFC 6455 §5.5 instead. Nothing we send is checked against them.
///
/// A compressed message (permessage-deflate, RFC 7692) is judged twice. On the wire its
/// declared lengths may exceed the limits by DEFLATE's worst-case expansion: a frame may
/// declare up to `max_frame_size + max_frame_size / 8 + 64` bytes, and the frames of a message
/// together up to `max_message_size + max_message_size / 8 + 64`. Its inflated size is held to
/// `max_message_size` exactly: the connection fails with 1009 as soon as the inflated bytes
/// pass it, so an inflate bomb never costs more memory than the limit.
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary` (any limits, any switches).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub struct Config {
    /// The largest data message accepted, in bytes (default 64 MiB): a frame whose declared
    /// length takes its message's total declared length over it fails with 1009.
    /// A compressed message may declare up to `max_message_size + max_message_size / 8 + 64`
    /// bytes on the wire, and fails with 1009 as soon as its inflated bytes pass
    /// `max_message_size` (see [the limits](Self#limits-on-what-the-peer-sends)).
    pub max_message_size: usize,
    /// The largest data frame (text, binary or continuation) accepted, in bytes (default
    /// 16 MiB): a frame whose declared length is over it fails with 1009. A frame of a
    /// compressed message may declare up to `max_frame_size + max_frame_size / 8 + 64` bytes.
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
    /// How permessage-deflate compresses what we send: compression level and the size below
    /// which messages go uncompressed. Used only when permessage-deflate was agreed, which
    /// needs feature `deflate`.
    pub deflate: DeflateConfig,
    /// Keepalive: send a Ping when nothing has arrived from the peer for this long (default
    /// `None`: no keepalive Pings). Timers run on the time the driver gives
    /// [`Connection::handle_timeout`](crate::Connection::handle_timeout).
    pub keepalive_interval: Option<Duration>,
    /// How long a keepalive Ping may wait for a Pong (default `None`: forever). Past it the
    /// connection ends with 1006, not clean, [`Timeout::Pong`](crate::Timeout::Pong); no Close
    /// frame is sent, and queued output is dropped.
    pub pong_timeout: Option<Duration>,
    /// End the connection when nothing has arrived from the peer for this long (default
    /// `None`): 1006, not clean, [`Timeout::Idle`](crate::Timeout::Idle), no Close frame.
    /// Keepalive Pings, if on, keep an idle but live peer answering.
    pub idle_timeout: Option<Duration>,
    /// Bounds the closing handshake (default 10 seconds; `None` waits forever). After our
    /// Close, the peer's Close must arrive within it, else the connection ends with 1006, not
    /// clean, [`Timeout::Close`](crate::Timeout::Close) (queued output is dropped). After a
    /// clean close, a client waits this long for the server to close the transport (RFC 6455
    /// §7.1.1), then [`wants_transport_close`](crate::Connection::wants_transport_close).
    pub close_timeout: Option<Duration>,
}

impl Config {
    /// The defaults: 64 MiB messages, 16 MiB frames, automatic pongs, whole messages, strict
    /// length encoding, (when permessage-deflate is agreed) compression level 6 for messages
    /// of 64 bytes or more, no keepalive, pong or idle timers, and a 10-second close timeout.
    pub const fn new() -> Self {
        Self {
            keepalive_interval: None,
            pong_timeout: None,
            idle_timeout: None,
            close_timeout: Some(Duration::from_secs(10)),
            max_message_size: 64 << 20,
            max_frame_size: 16 << 20,
            auto_pong: true,
            streaming: false,
            allow_non_minimal_length: false,
            deflate: DeflateConfig::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// How a connection uses permessage-deflate once it is agreed: not negotiated, so it goes in
/// [`Config::deflate`].
///
/// It exists with or without feature `deflate`, so a configuration builds the same either
/// way; it is used only when permessage-deflate was agreed, which needs that feature.
///
/// ```
/// use wsmachine::Config;
/// let mut config = Config::default();
/// config.deflate.level = 1; // fastest
/// config.deflate.threshold = 256; // shorter messages go uncompressed
/// ```
///
/// With feature `arbitrary` it implements `arbitrary::Arbitrary`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub struct DeflateConfig {
    /// The compression level, 0 (stored, no compression) to 9 (best); default 6, zlib's
    /// default, as in most peers. 1 is the fastest that compresses: on the JSON benchmark
    /// (`benches/codec.rs`) about 4.5 times faster than 6, for about 1.5 times the bytes.
    /// Values over 9 count as 9.
    pub level: u8,
    /// Whole messages shorter than this many bytes are sent uncompressed (default 64): for
    /// tiny messages the DEFLATE overhead outweighs the gain. `usize::MAX` never compresses
    /// (we still read compressed messages). Fragmented messages
    /// ([`send_fragment`](crate::Connection::send_fragment)) are always compressed, since
    /// their size is not known when their first frame goes out. To send one message
    /// uncompressed whatever its size, send it as
    /// [`PreparedMessage::uncompressed`](crate::PreparedMessage::uncompressed).
    pub threshold: usize,
    /// The largest LZ77 window, in bits (9–15), our compressor uses; default 15. The window
    /// the handshake agreed for what we send lowers it further. A smaller window costs the
    /// compressor less memory and finds fewer matches. Values outside 9–15 are brought into
    /// that range. The peer's window, which our decompressor must hold, is negotiated instead
    /// (`DeflateOptions`: `client_max_window_bits` on a server, `server_max_window_bits` on a
    /// client); zlib-rs's decompressor allocates a 32 KiB window whatever it is.
    pub window_bits: u8,
    /// zlib's memory level (1–9) for our compressor: the size of its buffer of pending
    /// symbols, `2^(mem_level + 8)` bytes; default 8, zlib's. Lower saves memory and
    /// compresses a little worse. Values outside 1–9 are brought into that range.
    pub mem_level: u8,
    /// Keep our compressor's window from one message to the next (context takeover, RFC 7692
    /// §7.1.1) when the peer has not asked us not to; default `false`.
    ///
    /// With `false`, each message is compressed on its own by a compressor that all the
    /// connections of a thread share (each borrows it for one message): a connection holds
    /// no compressor, and a message prepared once can be sent compressed to any number of
    /// connections ([`PreparedMessage`](crate::PreparedMessage)). With `true`, each
    /// connection owns a compressor for its life (hundreds of KiB: see the table in the
    /// `extensions::deflate` module, feature `deflate`), and a stream of similar short
    /// messages compresses much better, since each can refer to the ones before it.
    pub context_takeover: bool,
}

impl DeflateConfig {
    /// Level 6, threshold 64 bytes, a 15-bit window, memory level 8, no context takeover.
    pub const fn new() -> Self {
        Self {
            level: 6,
            threshold: 64,
            window_bits: 15,
            mem_level: 8,
            context_takeover: false,
        }
    }
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self::new()
    }
}
