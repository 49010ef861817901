//! permessage-deflate (RFC 7692) from the peer's side: what its parameters say about one
//! direction, the compressor a conforming peer uses, and a strict inflater for checking what a
//! connection sends.

use flate2::{Compress, Decompress, FlushCompress, FlushDecompress};
use wsmachine::Role;
use wsmachine::extensions::DeflateParams;

/// The `00 00 ff ff` a sync flush ends with, which the sender removes (RFC 7692 §7.2.1).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What a sender's permessage-deflate parameters say about its direction.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
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

/// Compresses one message's payload as a conforming peer does (RFC 7692 §7.2.1): `data`
/// through `z` with a sync flush, the [`TAIL`] removed. When there is nothing to write (an
/// empty message right after another, zlib writes nothing), a single `00` stands for an empty
/// block (RFC 7692 §7.2.3.6). The caller resets `z` between messages if the peer must.
pub fn compress_message(z: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut pos = 0;
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.len().max(64));
        }
        let before = z.total_in();
        z.compress_vec(&data[pos..], &mut out, FlushCompress::Sync)
            .expect("compressing in memory");
        pos += (z.total_in() - before) as usize;
        if pos == data.len() && out.len() < out.capacity() {
            break;
        }
    }
    if !out.is_empty() {
        assert!(out.ends_with(&TAIL), "a sync flush ends the block");
        out.truncate(out.len() - TAIL.len());
    }
    if out.is_empty() {
        out.push(0x00);
    }
    out
}

/// Reads a sender's compressed messages the strict way: a decompressor no larger than the
/// window the sender may use (9 bits for 8: zlib has no 8-bit window), fresh for every message
/// when the sender must reset its compressor.
pub struct Inflater {
    direction: Direction,
    z: Option<Decompress>,
}

impl Inflater {
    /// An inflater for messages sent in `direction`.
    pub fn new(direction: Direction) -> Self {
        Self { direction, z: None }
    }

    /// The direction it reads.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// One message's payload, inflated; panics if it does not inflate or passes 64 MiB.
    pub fn inflate(&mut self, compressed: &[u8]) -> Vec<u8> {
        let bits = self.direction.window_bits.max(9);
        if self.direction.no_context_takeover {
            self.z = None;
        }
        let z = self
            .z
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
        let mut input = compressed.to_vec();
        input.extend_from_slice(&TAIL); // RFC 7692 §7.2.2
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

/// A connection of `role` (a client masks with [`KEY`](crate::KEY)) that agreed to
/// permessage-deflate with `params`, or to no extension.
pub fn connection(
    role: wsmachine::Role,
    params: Option<DeflateParams>,
    config: wsmachine::Config,
) -> wsmachine::Connection {
    let mut negotiated = wsmachine::Negotiated::new();
    if let Some(params) = params {
        negotiated = negotiated.with_deflate(params);
    }
    crate::connection_with(role, negotiated, config, crate::KEY)
}

/// JSON-like chat traffic for measuring compression: 60 messages of 100 to 1,500 bytes, each
/// a batch of records with ids, names, text and timestamps, each batch a little different.
pub fn json_corpus() -> Vec<String> {
    (0..60)
        .map(|i| {
            let items: Vec<String> = (0..1 + i % 12)
                .map(|j| {
                    format!(
                        "{{\"id\":{},\"user\":\"user{}\",\"text\":\"message number {} in the room\",\"ts\":{}}}",
                        i * 100 + j,
                        j % 7,
                        i,
                        1_700_000_000 + i * 37 + j
                    )
                })
                .collect();
            format!("{{\"type\":\"batch\",\"items\":[{}]}}", items.join(","))
        })
        .collect()
}

/// A conversation, one message in flight: feeds each of `reads` (one message each) to
/// `conn`, answers every text message with the same text, and writes the answers out.
/// Returns the bytes `conn` sent.
pub fn converse(conn: &mut wsmachine::Connection, reads: &[Vec<u8>]) -> usize {
    let mut sent = 0;
    for read in reads {
        conn.receive(read);
        while let Some(event) = conn.poll_event() {
            if let wsmachine::Event::Text(text) = event {
                conn.send_text(text.as_str()).expect("an open connection");
            }
        }
        sent += crate::output(conn).len();
    }
    sent
}
