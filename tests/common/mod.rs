//! Test support shared by the integration tests: an in-memory client/server pair and a frame
//! parser for checking what went on the wire.
#![allow(dead_code)]

use wsmachine::frame::{FrameHeader, OpCode, Status, apply_mask};
use wsmachine::{Config, Connection, Event, FixedMask, Negotiated, Role};

/// The masking key the pair's client uses, so output is byte-exact.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A client and a server joined in memory.
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    /// Events each side produced during `drive`, in order.
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// Whether each side's transport is closed (no more bytes move towards it).
    pub client_eof: bool,
    pub server_eof: bool,
}

impl Pair {
    /// A pair with default configuration, as after a handshake.
    pub fn connected() -> Self {
        Self::with_config(Config::default(), Config::default())
    }

    pub fn with_config(client: Config, server: Config) -> Self {
        Self::from_connections(
            Connection::with_mask_source(
                Role::Client,
                Negotiated::default(),
                client,
                FixedMask(KEY),
            ),
            Connection::new(Role::Server, Negotiated::default(), server),
        )
    }

    pub fn from_connections(client: Connection, server: Connection) -> Self {
        Self {
            client,
            server,
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_eof: false,
            server_eof: false,
        }
    }

    /// Moves bytes both ways, collecting events, until both sides are quiet. Also closes the
    /// transport the way a driver would when a side asks for it. Panics on a livelock.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
                progress = true;
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
                progress = true;
            }
            progress |= transfer(&mut self.client, &mut self.server, self.server_eof);
            progress |= transfer(&mut self.server, &mut self.client, self.client_eof);
            // The side that wants to close its transport: the other side sees EOF.
            if self.server.wants_transport_close() && !self.client_eof {
                self.client_eof = true;
                self.client.receive_eof();
                self.server_eof = true;
                self.server.receive_eof();
                progress = true;
            }
            if self.client.wants_transport_close() && !self.server_eof {
                self.server_eof = true;
                self.server.receive_eof();
                self.client_eof = true;
                self.client.receive_eof();
                progress = true;
            }
            if !progress {
                return;
            }
        }
        panic!("pair did not settle");
    }

    pub fn take_client_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_events)
    }

    pub fn take_server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_events)
    }
}

/// Moves all pending output of `from` into `to` (dropped if `to`'s transport is closed).
fn transfer(from: &mut Connection, to: &mut Connection, to_closed: bool) -> bool {
    let mut moved = false;
    loop {
        let out = from.pending_output();
        if out.is_empty() {
            return moved;
        }
        let n = out.len();
        if !to_closed {
            to.receive(out);
        }
        from.consume_output(n);
        moved = true;
    }
}

/// Drains all events.
pub fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Takes all pending output.
pub fn output(conn: &mut Connection) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let out = conn.pending_output();
        if out.is_empty() {
            return all;
        }
        all.extend_from_slice(out);
        let n = out.len();
        conn.consume_output(n);
    }
}

/// A parsed frame: header and unmasked payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: OpCode,
    pub masked: bool,
    pub payload: Vec<u8>,
}

/// All pending output, left queued (`pending_output` shows only the first piece of it).
pub fn peek_output(conn: &Connection) -> Vec<u8> {
    let mut slices = vec![std::io::IoSlice::new(&[]); 4096];
    let n = conn.pending_output_vectored(&mut slices);
    assert!(n < slices.len(), "more output pieces than the test expects");
    slices[..n].iter().flat_map(|s| s.iter().copied()).collect()
}

/// Parses a byte stream into whole frames with the crate's own decoder; panics on leftovers.
pub fn frames(mut bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let Ok(Status::Complete((h, used))) = FrameHeader::decode(bytes) else {
            panic!("bad or partial header in {bytes:x?}")
        };
        let len = h.payload_len as usize;
        let mut payload = bytes[used..used + len].to_vec();
        if let Some(key) = h.masking_key {
            apply_mask(&mut payload, key, 0);
        }
        out.push(Frame {
            fin: h.fin,
            rsv: h.rsv,
            opcode: h.opcode,
            masked: h.masking_key.is_some(),
            payload,
        });
        bytes = &bytes[used + len..];
    }
    out
}

/// Encodes a frame (masked with `key` if given), for feeding hand-made input.
pub fn frame(fin: bool, opcode: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xFFFF {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let mut body = payload.to_vec();
    if let Some(key) = key {
        out.extend_from_slice(&key);
        apply_mask(&mut body, key, 0);
    }
    out.extend_from_slice(&body);
    out
}
