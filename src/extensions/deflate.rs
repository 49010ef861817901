//! permessage-deflate (RFC 7692): negotiation of its four parameters, and the compressor and
//! decompressor a connection runs.
//!
//! # Negotiation (RFC 7692 §7.1)
//!
//! A client offers the extension with the parameters it wants ([`DeflateOptions::offer`]); a
//! server accepts the first offer it can honour and declines the rest
//! ([`DeflateOptions::negotiate`]), answering with [`DeflateParams::to_extension`]; the client
//! checks that answer against its offers ([`DeflateParams::from_response`]). Both ends then
//! hold the same [`DeflateParams`], which the handshake puts into
//! [`Negotiated`](crate::Negotiated).
//!
//! ```
//! use wsmachine::extensions::{DeflateOptions, DeflateParams};
//! use wsmachine::handshake::Extension;
//!
//! // Client: offer, asking the server to reset its compressor after every message.
//! let mut ours = DeflateOptions::new();
//! ours.server_no_context_takeover = true;
//! let offer = ours.offer();
//! assert_eq!(
//!     offer.to_string(),
//!     "permessage-deflate; server_no_context_takeover; client_max_window_bits"
//! );
//!
//! // Server: accept the first acceptable offer, with a 10-bit window for what it sends.
//! let mut theirs = DeflateOptions::new();
//! theirs.server_max_window_bits = Some(10);
//! let agreed = theirs.negotiate(&[offer.clone()]).unwrap();
//! let response = agreed.to_extension();
//! assert_eq!(
//!     response.to_string(),
//!     "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
//! );
//!
//! // Client: check the response against what it offered.
//! assert_eq!(DeflateParams::from_response(&response, &[offer]), Ok(agreed));
//! ```
//!
//! # Window sizes of 8 bits
//!
//! RFC 7692 allows LZ77 windows of 8 to 15 bits, but zlib-class compressors cannot produce an
//! 8-bit window. wsmachine still agrees to 8 bits, in both roles, and keeps its word by not
//! compressing what it sends in that direction (RFC 7692 lets any message go uncompressed).
//! Receiving is unaffected: a 9-bit decompressor reads every stream an 8-bit compressor
//! writes, because a window may always be larger than the sender's.
//!
//! # Memory
//!
//! Nothing is allocated when the extension is agreed; the decompressor is created with the
//! first compressed message received. It holds about 46 KiB (zlib-rs allocates a 32 KiB
//! window whatever the window bits) plus a 4 KiB output buffer, until the connection ends.
//!
//! What we send is, by default, compressed one message at a time
//! ([`DeflateConfig::context_takeover`] off): each message on its own, by a compressor that
//! the connections of a thread share, borrowing it for one message (or, for a fragmented
//! message, from its first fragment to its last). A connection then holds no compressor, and
//! a [`PreparedMessage`](crate::PreparedMessage) can be compressed once for all of them. RFC
//! 7692 lets a sender forget its window whenever it likes, so this needs no negotiation and
//! every peer reads it. With context takeover on, each connection owns a compressor for its
//! life, and a stream of similar short messages compresses about twice as well; zlib-rs's
//! compressor costs at least 135 KiB whatever its settings (a fixed 128 KiB hash table), so
//! that choice cannot be made cheap.
//!
//! Measured with `cargo bench --bench deflate_settings --features deflate`: a server
//! connection answering 60 JSON-like chat messages of 100 to 1,500 bytes from a browser-like
//! client (which keeps its context), one message at a time; heap counted by a counting
//! allocator, ratio = compressed frames / the same frames uncompressed, level 6:
//!
//! | context takeover | window bits | memory level | heap per connection | compressor per thread | compressed / plain |
//! |---|---|---|---|---|---|
//! | no (default) | 15 (default) | 8 (default) | 55 KiB | 372 KiB | 0.259 |
//! | no | 12 | 5 | 55 KiB | 162 KiB | 0.259 |
//! | no | 9 | 1 | 55 KiB | 135 KiB | 0.269 |
//! | yes | 15 | 8 | 427 KiB | — | 0.116 |
//! | yes | 15 | 5 | 329 KiB | — | 0.116 |
//! | yes | 12 | 5 | 217 KiB | — | 0.116 |
//! | yes | 10 | 3 | 194 KiB | — | 0.137 |
//! | yes | 9 | 1 | 190 KiB | — | 0.170 |
//!
//! The defaults follow from it: without context takeover the window and memory level change
//! only the one compressor a thread holds (and the ratio of messages longer than the window),
//! so they stay at zlib's 15 bits and level 8; with it, 12 bits and memory level 5 keep the
//! ratio of the largest settings for messages of this size at half their memory. Level 1
//! instead of 6 compresses about twice as fast for about 15% more bytes (the program prints
//! both, and the time per message). Compressing each message on its own is also somewhat
//! slower per message than keeping the context, since zlib clears its 128 KiB hash table for
//! every message. The heap per connection includes the connection's own buffers (about 5 KiB here);
//! a test (`tests/deflate_memory.rs`) holds the default to 64 KiB in both roles.

mod codec;
mod per_message;

use alloc::format;

pub(crate) use per_message::PerMessageDeflate;

// Defined with the rest of the connection's configuration; re-exported beside the negotiation.
pub use crate::config::DeflateConfig;

use super::params::{Extension, PERMESSAGE_DEFLATE, ParamError, named, sort_params};
use core::fmt;

/// The extension name, `permessage-deflate` (RFC 7692 §7).
pub const EXTENSION_NAME: &str = PERMESSAGE_DEFLATE;

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";
const PARAMS: [&str; 4] = [
    SERVER_NO_CONTEXT_TAKEOVER,
    CLIENT_NO_CONTEXT_TAKEOVER,
    SERVER_MAX_WINDOW_BITS,
    CLIENT_MAX_WINDOW_BITS,
];

/// The parameters both ends agreed on in the opening handshake (RFC 7692 §7.1).
///
/// "Server" and "client" name the direction: `server_*` applies to what the server compresses
/// and the client decompresses, `client_*` to the other direction.
///
/// A server gets it from [`DeflateOptions::negotiate`] (or
/// [`Request::select_deflate`](crate::handshake::Request::select_deflate)), a client from
/// [`from_response`](Self::from_response) (the client handshake does it), and both find it in
/// [`Negotiated::deflate`](crate::Negotiated::deflate). A test or a custom transport can build
/// one: `DeflateParams::new()` is `permessage-deflate` without parameters (context takeover
/// and 15-bit windows both ways).
///
/// ```
/// use wsmachine::extensions::DeflateParams;
/// use wsmachine::{Config, Connection, Negotiated, Role};
/// let mut params = DeflateParams::new();
/// params.client_no_context_takeover = true;
/// let negotiated = Negotiated::new().with_deflate(params);
/// let server = Connection::server(negotiated, Config::default());
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub struct DeflateParams {
    /// The server resets its compressor after every message (RFC 7692 §7.1.1.1), so the
    /// client's decompressor may too.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message (RFC 7692 §7.1.1.2).
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window, in bits (8–15), that the server compresses with (RFC 7692
    /// §7.1.2.1); `None` is 15. Values outside 8–15 are taken as the nearest of them.
    pub server_max_window_bits: Option<u8>,
    /// The largest LZ77 window, in bits (8–15), that the client compresses with (RFC 7692
    /// §7.1.2.2); `None` is 15. Values outside 8–15 are taken as the nearest of them.
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// No parameters: context takeover and 15-bit windows in both directions.
    pub const fn new() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        }
    }

    /// The server's response element for these parameters: every parameter that is set, in
    /// RFC 7692 order.
    ///
    /// ```
    /// use wsmachine::extensions::DeflateParams;
    /// let mut p = DeflateParams::new();
    /// assert_eq!(p.to_extension().to_string(), "permessage-deflate");
    /// p.client_no_context_takeover = true;
    /// p.client_max_window_bits = Some(9);
    /// assert_eq!(
    ///     p.to_extension().to_string(),
    ///     "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"
    /// );
    /// ```
    pub fn to_extension(&self) -> Extension {
        element(
            self.server_no_context_takeover,
            self.client_no_context_takeover,
            self.server_max_window_bits,
            self.client_max_window_bits.map(Some),
        )
    }

    /// Client side: checks a server's `permessage-deflate` response element against the
    /// extensions we offered (RFC 7692 §7.1), and gives the parameters it agrees to.
    ///
    /// The response must use only the four parameters of RFC 7692, each at most once, with
    /// a value exactly where one is required (a window size of 8–15 written without leading
    /// zeros); and it must accept one of our `permessage-deflate` offers: include
    /// `server_no_context_takeover` if that offer asked for it, answer its
    /// `server_max_window_bits` with the same or a smaller value, and include
    /// `client_max_window_bits` only if that offer did. The first offer it accepts wins. A
    /// `client_max_window_bits` hint in our offer still binds us: the agreed client window is
    /// the smaller of the hint and the response's value.
    ///
    /// ```
    /// use wsmachine::extensions::{DeflateError, DeflateParams};
    /// use wsmachine::handshake::Extension;
    /// let offers = Extension::parse_list("permessage-deflate; server_max_window_bits=10").unwrap();
    /// let ok = Extension::parse_list("permessage-deflate; server_max_window_bits=9").unwrap();
    /// let p = DeflateParams::from_response(&ok[0], &offers).unwrap();
    /// assert_eq!(p.server_max_window_bits, Some(9));
    /// let too_big = Extension::parse_list("permessage-deflate; server_max_window_bits=11").unwrap();
    /// assert_eq!(DeflateParams::from_response(&too_big[0], &offers), Err(DeflateError::NotOffered));
    /// ```
    pub fn from_response(response: &Extension, offers: &[Extension]) -> Result<Self, DeflateError> {
        if !response.name().eq_ignore_ascii_case(EXTENSION_NAME) {
            return Err(DeflateError::NotOffered);
        }
        let r = Parsed::parse(response)?;
        // RFC 7692 §7.1.2: in a response both window parameters carry a value.
        let r_server_bits = r.server_max_window_bits.map(require_value).transpose()?;
        let r_client_bits = r.client_max_window_bits.map(require_value).transpose()?;
        for offer in named(offers, EXTENSION_NAME) {
            // Our own offers are well-formed if they came from `DeflateOptions::offer`; skip
            // any that are not rather than trusting them.
            let Ok(o) = Parsed::parse(offer) else {
                continue;
            };
            let Ok(o_server_bits) = o.server_max_window_bits.map(require_value).transpose() else {
                continue;
            };
            // §7.1.1.1: a server accepts server_no_context_takeover by including it.
            if o.server_no_context_takeover && !r.server_no_context_takeover {
                continue;
            }
            // §7.1.2.1: ... and server_max_window_bits with the same or a smaller value.
            if let Some(asked) = o_server_bits {
                if r_server_bits.is_none_or(|given| given > asked) {
                    continue;
                }
            }
            // §7.1.2.2: client_max_window_bits only in answer to an offer that has it.
            let Some(o_client_bits) = o.client_max_window_bits else {
                if r_client_bits.is_some() {
                    continue;
                }
                return Ok(r.agreed(r_server_bits, None));
            };
            let client_bits = min_bits(r_client_bits, o_client_bits);
            let mut agreed = r.agreed(r_server_bits, client_bits);
            // §7.1.1.2: offering client_no_context_takeover is a promise.
            agreed.client_no_context_takeover |= o.client_no_context_takeover;
            return Ok(agreed);
        }
        Err(DeflateError::NotOffered)
    }

    /// The window bits the sender in `server`'s direction (server if true) compresses with,
    /// 8–15.
    pub(crate) fn window_bits(&self, server: bool) -> u8 {
        let bits = if server {
            self.server_max_window_bits
        } else {
            self.client_max_window_bits
        };
        bits.map_or(15, clamp_bits)
    }

    /// Whether the sender in `server`'s direction resets its compressor after each message.
    pub(crate) fn no_context_takeover(&self, server: bool) -> bool {
        if server {
            self.server_no_context_takeover
        } else {
            self.client_no_context_takeover
        }
    }
}

/// What we offer (client) or are willing to agree to (server) for permessage-deflate.
///
/// The same four knobs mean the same thing in both roles, seen from each side of RFC 7692
/// §7.1:
///
/// | field | client: the offer | server: the response |
/// |---|---|---|
/// | `server_no_context_takeover` | asks the server to reset its compressor per message | resets ours per message, even if not asked |
/// | `client_no_context_takeover` | promises to reset ours per message | asks the client to reset its compressor (a client's own promise is always echoed) |
/// | `server_max_window_bits` | asks the server for at most this window | compresses with at most this window |
/// | `client_max_window_bits` | sent always (we can honour any limit); a value is a hint we keep to | limits the client's window, if its offer allows it |
///
/// The defaults ([`new`](Self::new)) ask for nothing: context takeover and 15-bit windows,
/// the best compression, which is what browsers offer. A server short of memory sets
/// `server_no_context_takeover`, `client_no_context_takeover` and small windows.
///
/// ```
/// use wsmachine::extensions::DeflateOptions;
/// let mut options = DeflateOptions::new();
/// options.client_max_window_bits = Some(12);
/// assert_eq!(
///     options.offer().to_string(),
///     "permessage-deflate; client_max_window_bits=12"
/// );
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateOptions {
    /// Client: ask the server not to use context takeover. Server: never use it for what we
    /// send (and say so in the response).
    pub server_no_context_takeover: bool,
    /// Client: promise not to use context takeover. Server: ask the client not to use it (a
    /// client that promised it in its offer gets it echoed either way).
    pub client_no_context_takeover: bool,
    /// Client: ask the server to compress with at most this window (8–15 bits). Server:
    /// compress with at most this window. `None`: no limit (15).
    pub server_max_window_bits: Option<u8>,
    /// Client: a hint that we compress with at most this window (8–15 bits); we keep to it.
    /// Server: ask the client to compress with at most this window (possible only if its
    /// offer has `client_max_window_bits`). `None`: no limit (15).
    pub client_max_window_bits: Option<u8>,
}

impl DeflateOptions {
    /// Ask for nothing: context takeover and 15-bit windows both ways.
    pub const fn new() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        }
    }

    /// Client side: the offer for `Sec-WebSocket-Extensions` (give it to
    /// [`ClientOptions::deflate`](crate::handshake::ClientOptions::deflate), which does this).
    /// It always includes `client_max_window_bits`, so the server may limit our window.
    pub fn offer(&self) -> Extension {
        element(
            self.server_no_context_takeover,
            self.client_no_context_takeover,
            self.server_max_window_bits,
            Some(self.client_max_window_bits),
        )
    }

    /// Server side: the parameters for the first of the client's `permessage-deflate` offers
    /// that we can honour, or `None` if there is none (then the connection runs without
    /// compression). Answer with [`DeflateParams::to_extension`], or let
    /// [`Accept::deflate`](crate::handshake::Accept::deflate) do it.
    ///
    /// An offer is declined (RFC 7692 §7) if it has a parameter RFC 7692 does not define for
    /// offers, a parameter twice, a value on `*_no_context_takeover`, or a window size that
    /// is missing (for `server_max_window_bits`) or not 8–15 without leading zeros. Any
    /// well-formed offer can be honoured.
    ///
    /// ```
    /// use wsmachine::extensions::DeflateOptions;
    /// use wsmachine::handshake::Extension;
    /// let offers = Extension::parse_list(
    ///     "permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits",
    /// )
    /// .unwrap();
    /// let agreed = DeflateOptions::new().negotiate(&offers).unwrap(); // the first is declined
    /// assert_eq!(agreed.to_extension().to_string(), "permessage-deflate");
    /// ```
    pub fn negotiate(&self, offers: &[Extension]) -> Option<DeflateParams> {
        named(offers, EXTENSION_NAME).find_map(|offer| self.accept(offer).ok())
    }

    /// The parameters to answer `offer` with, or why it must be declined.
    fn accept(&self, offer: &Extension) -> Result<DeflateParams, DeflateError> {
        let o = Parsed::parse(offer)?;
        // §7.1.2.1: server_max_window_bits in an offer has a value.
        let asked_server_bits = o.server_max_window_bits.map(require_value).transpose()?;
        let ours = |bits: Option<u8>| bits.map(clamp_bits);
        Ok(DeflateParams {
            // §7.1.1.1: accepted by including it; we may also include it unasked.
            server_no_context_takeover: o.server_no_context_takeover
                || self.server_no_context_takeover,
            // §7.1.1.2: our request, or the client's own promise, answered so both ends agree.
            client_no_context_takeover: o.client_no_context_takeover
                || self.client_no_context_takeover,
            // §7.1.2.1: answered with the same or a smaller value; we may also limit our own
            // window unasked.
            server_max_window_bits: min_bits(asked_server_bits, ours(self.server_max_window_bits)),
            // §7.1.2.2: only if offered. The client's hint lets us keep our decompressor small.
            client_max_window_bits: o
                .client_max_window_bits
                .and_then(|hint| min_bits(hint, ours(self.client_max_window_bits))),
        })
    }
}

/// Why a permessage-deflate offer is declined, or a response fails the handshake (RFC 7692
/// §7).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeflateError {
    /// A parameter RFC 7692 does not define.
    UnknownParameter,
    /// A parameter given twice.
    DuplicateParameter,
    /// A value on a parameter that has none, no value where one is required, or a window
    /// size that is not 8–15 written without leading zeros.
    InvalidValue,
    /// A response that accepts none of our offers (a parameter we did not offer, a window
    /// larger than we asked for, or a request of ours left out).
    NotOffered,
    /// More than one `permessage-deflate` element in a response.
    DuplicateExtension,
}

impl DeflateError {
    /// A short static description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::UnknownParameter => "unknown permessage-deflate parameter",
            Self::DuplicateParameter => "repeated permessage-deflate parameter",
            Self::InvalidValue => "invalid permessage-deflate parameter value",
            Self::NotOffered => "permessage-deflate response does not match our offer",
            Self::DuplicateExtension => "permessage-deflate accepted twice",
        }
    }
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl core::error::Error for DeflateError {}

impl From<ParamError> for DeflateError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::Unknown => Self::UnknownParameter,
            ParamError::Duplicate => Self::DuplicateParameter,
        }
    }
}

/// The four parameters of one offer or response, syntax checked.
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// `None`: absent; `Some(None)`: present without a value; `Some(Some(bits))`.
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

impl Parsed {
    fn parse(extension: &Extension) -> Result<Self, DeflateError> {
        let [snct, cnct, smwb, cmwb] = sort_params(extension, PARAMS)?;
        // §7.1.1: the context-takeover parameters have no value.
        let flag = |p: Option<Option<&str>>| match p {
            None => Ok(false),
            Some(None) => Ok(true),
            Some(Some(_)) => Err(DeflateError::InvalidValue),
        };
        let bits = |p: Option<Option<&str>>| match p {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(v)) => parse_bits(v).map(|b| Some(Some(b))),
        };
        Ok(Self {
            server_no_context_takeover: flag(snct)?,
            client_no_context_takeover: flag(cnct)?,
            server_max_window_bits: bits(smwb)?,
            client_max_window_bits: bits(cmwb)?,
        })
    }

    /// The parameters of a response, with the window sizes decided by the caller.
    fn agreed(&self, server_bits: Option<u8>, client_bits: Option<u8>) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        }
    }
}

/// A window size value: 8–15 in decimal without leading zeros (RFC 7692 §7.1.2).
fn parse_bits(value: &str) -> Result<u8, DeflateError> {
    match value.as_bytes() {
        [d @ b'8'..=b'9'] => Ok(d - b'0'),
        [b'1', d @ b'0'..=b'5'] => Ok(10 + d - b'0'),
        _ => Err(DeflateError::InvalidValue),
    }
}

/// A window parameter whose value is required.
fn require_value(bits: Option<u8>) -> Result<u8, DeflateError> {
    bits.ok_or(DeflateError::InvalidValue)
}

/// The smaller of two optional limits (a missing one is no limit).
fn min_bits(a: Option<u8>, b: Option<u8>) -> Option<u8> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A `permessage-deflate` element with the parameters that are set, in RFC 7692 order.
/// `client_max_window_bits`: `None` leaves it out, `Some(None)` writes it without a value.
fn element(
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
) -> Extension {
    let mut e = Extension::new(EXTENSION_NAME);
    if server_no_context_takeover {
        e = e.with_param(SERVER_NO_CONTEXT_TAKEOVER, None);
    }
    if client_no_context_takeover {
        e = e.with_param(CLIENT_NO_CONTEXT_TAKEOVER, None);
    }
    if let Some(bits) = server_max_window_bits {
        e = e.with_param(
            SERVER_MAX_WINDOW_BITS,
            Some(&format!("{}", clamp_bits(bits))),
        );
    }
    if let Some(bits) = client_max_window_bits {
        let value = bits.map(|b| format!("{}", clamp_bits(b)));
        e = e.with_param(CLIENT_MAX_WINDOW_BITS, value.as_deref());
    }
    e
}

fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(8, 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_sizes() {
        for (value, bits) in [
            ("8", Ok(8)),
            ("9", Ok(9)),
            ("10", Ok(10)),
            ("15", Ok(15)),
            ("7", Err(DeflateError::InvalidValue)),
            ("16", Err(DeflateError::InvalidValue)),
            ("08", Err(DeflateError::InvalidValue)),
            ("+9", Err(DeflateError::InvalidValue)),
            ("1", Err(DeflateError::InvalidValue)),
            ("", Err(DeflateError::InvalidValue)),
            ("150", Err(DeflateError::InvalidValue)),
            ("x", Err(DeflateError::InvalidValue)),
        ] {
            assert_eq!(parse_bits(value), bits, "{value:?}");
        }
    }

    #[test]
    fn directions() {
        let mut p = DeflateParams::new();
        p.server_max_window_bits = Some(9);
        p.client_max_window_bits = Some(20);
        p.client_no_context_takeover = true;
        assert_eq!((p.window_bits(true), p.window_bits(false)), (9, 15));
        assert_eq!(
            (p.no_context_takeover(true), p.no_context_takeover(false)),
            (false, true)
        );
        assert_eq!(DeflateParams::new().window_bits(true), 15);
        let mut tiny = DeflateParams::new();
        tiny.client_max_window_bits = Some(0);
        assert_eq!(tiny.window_bits(false), 8);
    }
}
