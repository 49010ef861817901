//! The permessage-deflate receive path against a one-shot reference (the `inflate` target).
//!
//! A peer sends compressed messages — compressed by a conforming compressor, possibly
//! corrupted, or arbitrary bytes — in fragments, with Pings between them, masked when the
//! receiver is a server, and the bytes arrive in arbitrary pieces. The connection inflates
//! them step by step, bounded by the message limit, in whole-message or streaming mode. The
//! reference inflates each message's whole payload in one call with its own decompressor.
//!
//! Checked: every message the reference accepts is delivered with exactly its bytes (whole, or
//! as chunks that concatenate to it, each valid UTF-8 for text); the first message the
//! reference refuses (corrupt data, inflated size over the limit, invalid UTF-8, too long on
//! the wire) fails the connection with 1007 or 1009 and nothing after it is delivered; no
//! panic, and the connection's output stays small (Pongs and one Close).

use arbitrary::{Arbitrary, Unstructured};
use flate2::{Compress, Compression, Decompress, FlushDecompress, Status};
use wsmachine::extensions::DeflateParams;
use wsmachine::frame::{OpCode, RSV1};
use wsmachine::{Config, Connection, Event, Role};
use wsmachine_testkit::deflate::{TAIL, compress_message, connection};
use wsmachine_testkit::{fragments, frame, peer_key, take_output};

#[derive(Arbitrary, Debug, Clone)]
pub struct Input {
    /// The receiver is the server (masked input) or the client.
    pub server: bool,
    /// The peer's window (8–15 after `% 8 + 8`).
    pub window_bits: u8,
    /// The peer resets its compressor per message.
    pub no_context_takeover: bool,
    pub streaming: bool,
    pub limit: Limit,
    /// Sizes of the reads the bytes arrive in (cycled; 0 counts as 1).
    pub reads: Vec<u16>,
    pub messages: Vec<Message>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Limit {
    Tiny(u8),
    Small(u16),
    Large,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Message {
    pub text: bool,
    pub payload: Payload,
    /// Fragments: the payload cut at these offsets (mod its length).
    pub cuts: Vec<u16>,
    /// A Ping after each non-final fragment.
    pub pings: bool,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Payload {
    /// What a conforming peer sends for this data (its compressor keeps its context unless
    /// it agreed not to).
    Compressed {
        data: Vec<u8>,
        repeat: u8,
        level: u8,
    },
    /// The same, with one byte changed.
    Corrupted { data: Vec<u8>, at: u16, xor: u8 },
    /// Any bytes.
    Raw(Vec<u8>),
}

/// The reference's verdict on one message.
#[derive(Debug, PartialEq)]
enum Verdict {
    Deliver(Vec<u8>),
    Fail,
}

pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    check(&input);
}

/// Runs one decoded input (also for regression tests).
pub fn check(input: &Input) {
    let window_bits = input.window_bits % 8 + 8;
    let limit = match input.limit {
        Limit::Tiny(n) => usize::from(n),
        Limit::Small(n) => usize::from(n),
        Limit::Large => 1 << 20,
    };
    let role = if input.server {
        Role::Server
    } else {
        Role::Client
    };
    let mut params = DeflateParams::new();
    // The peer's direction: the client's if we are the server.
    let (bits, nct) = (Some(window_bits), input.no_context_takeover);
    if input.server {
        params.client_max_window_bits = bits;
        params.client_no_context_takeover = nct;
    } else {
        params.server_max_window_bits = bits;
        params.server_no_context_takeover = nct;
    }
    let mut config = Config::default();
    config.max_message_size = limit;
    config.streaming = input.streaming;
    let mut conn = connection(role, Some(params), config);

    // The peer: its compressor, the wire, and the reference's verdicts.
    let mut peer = Compress::new_with_window_bits(Compression::new(6), false, window_bits.max(9));
    let mut reference = Reference::new(window_bits, nct, limit);
    let mut wire = Vec::new();
    let mut verdicts = Vec::new();
    for m in input.messages.iter().take(16) {
        let payload = m.payload.bytes(&mut peer, nct);
        let verdict = reference.judge(&payload, m.text);
        let fail = verdict == Verdict::Fail;
        verdicts.push(verdict);
        wire.extend(m.frames(&payload, role));
        if fail {
            break;
        }
    }

    // Feed it in pieces, taking events as a driver would.
    let mut got = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut failure = None;
    let mut pos = 0;
    let mut reads = input.reads.iter().cycle();
    while pos < wire.len() {
        let n = reads
            .next()
            .map_or(wire.len(), |&r| usize::from(r).max(1))
            .min(wire.len() - pos);
        conn.receive(&wire[pos..pos + n]);
        pos += n;
        drain(&mut conn, &mut got, &mut current, &mut failure);
        // Peer input causes little output: Pongs and a Close.
        let out = take_output(&mut conn, usize::MAX);
        assert!(out.len() <= 64 * 1024, "{} bytes of output", out.len());
    }
    drain(&mut conn, &mut got, &mut current, &mut failure);

    // Compare with the reference.
    let expected: Vec<&Vec<u8>> = verdicts
        .iter()
        .map_while(|v| match v {
            Verdict::Deliver(bytes) => Some(bytes),
            Verdict::Fail => None,
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "messages delivered");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert!(
            g == *e,
            "message {i}: {} bytes, expected {}",
            g.len(),
            e.len()
        );
    }
    if verdicts.last() == Some(&Verdict::Fail) {
        let code = failure.expect("the connection failed");
        assert!(code == 1007 || code == 1009, "failed with {code}");
        assert!(current.is_none_or(|c| c.len() <= limit));
    } else {
        assert_eq!(failure, None, "the connection failed");
        assert!(current.is_none(), "a message was left open");
    }
}

/// Takes every event: whole messages and chunks into `got`, the failure's close code.
fn drain(
    conn: &mut Connection,
    got: &mut Vec<Vec<u8>>,
    current: &mut Option<Vec<u8>>,
    failure: &mut Option<u16>,
) {
    while let Some(event) = conn.poll_event() {
        assert!(failure.is_none(), "an event after the end: {event:?}");
        match event {
            Event::Text(t) => got.push(t.as_bytes().to_vec()),
            Event::Binary(b) => got.push(b.to_vec()),
            Event::TextChunk { text, fin } => {
                current
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(text.as_bytes());
                if fin {
                    got.push(current.take().expect("open"));
                }
            }
            Event::BinaryChunk { data, fin } => {
                current
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&data);
                if fin {
                    got.push(current.take().expect("open"));
                }
            }
            Event::Ping(_) | Event::Pong(_) => {}
            Event::Closed(outcome) => {
                assert!(!outcome.clean);
                *failure = Some(outcome.code.0);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

impl Payload {
    /// The compressed payload of the message.
    fn bytes(&self, peer: &mut Compress, no_context_takeover: bool) -> Vec<u8> {
        let compress = |peer: &mut Compress, data: &[u8], level: u8| {
            let _ = peer.set_level(Compression::new(u32::from(level % 10)));
            let out = compress_message(peer, data);
            if no_context_takeover {
                peer.reset();
            }
            out
        };
        match self {
            Self::Compressed {
                data,
                repeat,
                level,
            } => {
                let data = data.repeat(usize::from(*repeat % 64) + 1);
                compress(peer, &data, *level)
            }
            Self::Corrupted { data, at, xor } => {
                let mut out = compress(peer, data, 6);
                let i = usize::from(*at) % out.len();
                out[i] ^= xor | 1;
                out
            }
            Self::Raw(bytes) => bytes.clone(),
        }
    }
}

impl Message {
    /// The message's frames as the peer sends them to `receiver`.
    fn frames(&self, payload: &[u8], receiver: Role) -> Vec<u8> {
        let mut cuts: Vec<usize> = self
            .cuts
            .iter()
            .take(8)
            .map(|&c| {
                if payload.is_empty() {
                    0
                } else {
                    usize::from(c) % payload.len()
                }
            })
            .collect();
        cuts.sort_unstable();
        let opcode = if self.text {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        let key = peer_key(receiver);
        let ping = frame(true, 0, OpCode::Ping, key, b"between");
        let fragments = fragments(opcode, RSV1, key, payload, &cuts);
        let mut out = Vec::new();
        for (i, fragment) in fragments.iter().enumerate() {
            if i > 0 && self.pings {
                out.extend_from_slice(&ping);
            }
            out.extend_from_slice(fragment);
        }
        out
    }
}

/// One-shot inflation of whole payloads, with the same rules as the connection.
struct Reference {
    z: Decompress,
    no_context_takeover: bool,
    limit: usize,
}

impl Reference {
    fn new(window_bits: u8, no_context_takeover: bool, limit: usize) -> Self {
        Self {
            z: Decompress::new_with_window_bits(false, window_bits.max(9)),
            no_context_takeover,
            limit,
        }
    }

    fn judge(&mut self, payload: &[u8], text: bool) -> Verdict {
        // On the wire: the limit plus DEFLATE's worst-case expansion.
        if payload.len() as u64 > self.limit as u64 + self.limit as u64 / 8 + 64 {
            return Verdict::Fail;
        }
        if payload.is_empty() {
            return Verdict::Deliver(Vec::new());
        }
        let mut input = payload.to_vec();
        input.extend_from_slice(&TAIL);
        // One byte over the limit is enough to know it is passed; DEFLATE expands at most
        // 1032 times (a 258-byte match in 2 bits), so no more room is ever needed.
        let mut out = vec![0; (self.limit + 1).min(input.len() * 1040 + 64)];
        let before = (self.z.total_in(), self.z.total_out());
        let status = self.z.decompress(&input, &mut out, FlushDecompress::None);
        let produced = (self.z.total_out() - before.1) as usize;
        let Ok(status) = status else {
            return Verdict::Fail;
        };
        if produced > self.limit {
            return Verdict::Fail;
        }
        out.truncate(produced);
        if text && std::str::from_utf8(&out).is_err() {
            return Verdict::Fail;
        }
        if self.no_context_takeover || status == Status::StreamEnd {
            self.z.reset(false);
        }
        Verdict::Deliver(out)
    }
}
