//! One connection driven by a structured sequence of operations, with its invariants checked
//! after every step (the `connection_server` and `connection_client` targets).
//!
//! Input layout: a little-endian `u16` giving the length of the [`Script`] part, the script
//! (decoded with `arbitrary`), then raw peer bytes ("the wire") that [`Op::ReceiveWire`] feeds
//! piece by piece and that are fed whole at the end. A seed of `00 00` followed by frames is
//! therefore just those frames arriving from the peer.
//!
//! The script may agree to permessage-deflate; [`Op::ReceiveCompressed`] then sends messages
//! compressed as a conforming peer would (and with RSV1 where nothing was agreed, to be
//! refused).

use arbitrary::{Arbitrary, Unstructured};
use flate2::{Compress, Compression};
use wsmachine::extensions::DeflateParams;
use wsmachine::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, RSV1};
use wsmachine::{
    CloseCode, CloseFrame, Config, Connection, Event, Initiator, MessageKind, Negotiated,
    ReadyState, Role, SendError,
};
use wsmachine_testkit::deflate::{Direction, compress_message};
use wsmachine_testkit::{FrameBuilder, Length, RawOpcode, WireChecker, fragments, take_output};

use crate::spread_windows;

/// The largest control frame on the wire: a 14-byte header and 125 bytes of payload.
pub const MAX_CONTROL_FRAME: usize = MAX_HEADER_LEN + MAX_CONTROL_PAYLOAD;

/// How many automatic Pongs may wait unwritten before the newest replaces the last one not
/// started (the crate's policy table: one Pong per Ping, up to 16).
pub const MAX_UNSENT_PONGS: usize = 16;

/// The most output peer input alone can cause: the unwritten automatic Pongs and the Close
/// (our reply, or the one sent on a protocol error).
pub const PEER_OUTPUT_BOUND: usize = (MAX_UNSENT_PONGS + 1) * MAX_CONTROL_FRAME;

/// How to configure the connection.
#[derive(Arbitrary, Debug)]
pub enum ConfigChoice {
    Default,
    Tweaked {
        max_message_size: u16,
        max_frame_size: u16,
        auto_pong: bool,
        streaming: bool,
        allow_non_minimal_length: bool,
        deflate_level: u8,
        deflate_threshold: u8,
    },
    /// The crate's own `Arbitrary` config (any limits).
    Any(Config),
}

impl ConfigChoice {
    pub fn build(&self) -> Config {
        match self {
            Self::Default => Config::default(),
            Self::Tweaked {
                max_message_size,
                max_frame_size,
                auto_pong,
                streaming,
                allow_non_minimal_length,
                deflate_level,
                deflate_threshold,
            } => {
                let mut c = Config::default();
                c.max_message_size = usize::from(*max_message_size);
                c.max_frame_size = usize::from(*max_frame_size);
                c.auto_pong = *auto_pong;
                c.streaming = *streaming;
                c.allow_non_minimal_length = *allow_non_minimal_length;
                c.deflate.level = *deflate_level % 10;
                c.deflate.threshold = usize::from(*deflate_threshold);
                c
            }
            Self::Any(c) => c.clone(),
        }
    }
}

/// A frame from the peer, well-formed for the receiving role unless a quirk says otherwise.
#[derive(Arbitrary, Debug)]
pub struct FrameSpec {
    pub fin: bool,
    pub opcode: OpCode,
    pub payload: Vec<u8>,
    pub key: [u8; 4],
    pub quirk: Option<Quirk>,
    /// Where to split the frame between two `receive` calls.
    pub split: u16,
}

/// A way to bend a frame.
#[derive(Arbitrary, Debug)]
pub enum Quirk {
    Rsv(u8),
    RawOpcode(u8),
    WrongMask,
    /// A 16-bit length even where 7 bits would do.
    Len16,
    /// A 64-bit length even where fewer bits would do.
    Len64,
    /// Declare this length whatever the payload is.
    DeclaredLen(u64),
}

impl FrameSpec {
    /// The frame's bytes as a peer would send them to `receiver`.
    pub fn encode(&self, receiver: Role) -> Vec<u8> {
        let mut frame = FrameBuilder {
            fin: self.fin,
            rsv: 0,
            opcode: self.opcode.into(),
            masking_key: (receiver == Role::Server).then_some(self.key),
            length: Length::Minimal,
            payload: &self.payload,
        };
        match self.quirk {
            None => {}
            Some(Quirk::Rsv(r)) => frame.rsv = r & 0b111,
            Some(Quirk::RawOpcode(o)) => frame.opcode = RawOpcode(o & 0x0F),
            Some(Quirk::WrongMask) => {
                frame.masking_key = match frame.masking_key {
                    Some(_) => None,
                    None => Some(self.key),
                }
            }
            Some(Quirk::Len16) if self.payload.len() <= 0xFFFF => frame.length = Length::Extended16,
            Some(Quirk::Len16) => {}
            Some(Quirk::Len64) => frame.length = Length::Extended64,
            Some(Quirk::DeclaredLen(d)) => frame.length = Length::Declared(d),
        }
        frame.encode()
    }
}

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// Feed the next bytes of the wire.
    ReceiveWire(u16),
    /// Feed these bytes.
    Receive(Vec<u8>),
    /// Feed a frame, in two pieces.
    ReceiveFrame(FrameSpec),
    /// Feed a valid Close frame.
    ReceiveClose(CloseFrame, [u8; 4]),
    /// Feed a message compressed as permessage-deflate (RFC 7692) would, in fragments cut at
    /// these offsets of the compressed bytes (RSV1 on the first), whether or not it was agreed.
    ReceiveCompressed {
        text: bool,
        data: Vec<u8>,
        cuts: Vec<u16>,
        key: [u8; 4],
    },
    ReceiveEof,
    SendText(String),
    SendBinary(Vec<u8>),
    /// A large message (the zero-copy path for servers starts at 4 KiB).
    SendLarge {
        byte: u8,
        len: u16,
        text: bool,
    },
    SendFragment {
        text: bool,
        data: Vec<u8>,
        fin: bool,
    },
    SendPing(Vec<u8>),
    SendPong(Vec<u8>),
    Close(CloseCode, String),
    CloseValid(CloseFrame),
    Fail(CloseCode, String),
    /// A short write.
    Consume(u8),
    ConsumeMany(u16),
    ConsumeAll,
    Poll(u8),
    PollAll,
}

/// The structured part of the input.
#[derive(Arbitrary, Debug)]
pub struct Script {
    pub config: ConfigChoice,
    pub key: [u8; 4],
    /// permessage-deflate, if the handshake agreed to it.
    pub deflate: Option<DeflateParams>,
    pub ops: Vec<Op>,
}

/// Runs one fuzz input against a connection of `role`.
pub fn run(role: Role, data: &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let script_len = usize::from(u16::from_le_bytes(*head)).min(rest.len());
    let (script, wire) = rest.split_at(script_len);
    let Ok(script) = Script::arbitrary_take_rest(Unstructured::new(script)) else {
        return;
    };
    run_script(role, &script, wire);
}

/// Runs a decoded script with `wire` as the peer's bytes (also for regression tests).
pub fn run_script(role: Role, script: &Script, wire: &[u8]) {
    let mut h = Harness::new(role, script);
    let mut wire_pos = 0;
    for op in &script.ops {
        h.step(op, wire, &mut wire_pos);
    }
    h.end(&wire[wire_pos..]);
}

/// The connection under test and what the checks remember about it.
pub struct Harness {
    role: Role,
    conn: Connection,
    config: Config,
    wire: WireChecker,
    /// `Event::Closed` was seen.
    closed: bool,
    /// The last event was `Event::Close`: `Event::Closed` must follow.
    close_event: Option<CloseFrame>,
    /// An open streaming message.
    chunked: Option<MessageKind>,
    /// Our `close` succeeded.
    local_close: Option<(CloseCode, String)>,
    /// Our `fail` succeeded.
    failed: Option<(CloseCode, String)>,
    /// The peer's Close frame, once the outcome it caused was seen.
    peer_close: Option<CloseFrame>,
    /// `receive_eof` was called.
    eof_fed: bool,
    /// Some output since the queue was last empty came from our own send calls.
    ours_since_empty: bool,
    /// The queue length once the connection is closed: it may only shrink.
    closed_len: Option<usize>,
    last_ping: Option<Vec<u8>>,
    pongs_sent: usize,
    /// The peer's compressor, kept between messages when its parameters allow.
    peer_deflate: Option<Compress>,
    deflate: Option<DeflateParams>,
    /// The size of the streamed message being received so far.
    chunked_len: usize,
    /// Events taken so far: every other one is taken borrowed (`poll_event_ref`).
    polls: usize,
}

impl Harness {
    fn new(role: Role, script: &Script) -> Self {
        let config = script.config.build();
        let deflate = script.deflate.map(spread_windows);
        let mut negotiated = Negotiated::new();
        if let Some(params) = deflate {
            negotiated = negotiated.with_deflate(params);
        }
        let conn = wsmachine_testkit::connection_with(role, negotiated, config.clone(), script.key);
        Self {
            role,
            conn,
            config,
            wire: WireChecker::with_deflate(role, deflate.as_ref()),
            closed: false,
            close_event: None,
            chunked: None,
            local_close: None,
            failed: None,
            peer_close: None,
            eof_fed: false,
            ours_since_empty: false,
            closed_len: None,
            last_ping: None,
            pongs_sent: 0,
            polls: 0,
            peer_deflate: None,
            deflate,
            chunked_len: 0,
        }
    }

    fn step(&mut self, op: &Op, wire: &[u8], wire_pos: &mut usize) {
        match op {
            Op::ReceiveWire(n) => {
                let end = (*wire_pos + usize::from(*n)).min(wire.len());
                let piece = &wire[*wire_pos..end];
                *wire_pos = end;
                self.input(|c| c.receive(piece));
            }
            Op::Receive(bytes) => self.input(|c| c.receive(bytes)),
            Op::ReceiveFrame(spec) => {
                let bytes = spec.encode(self.role);
                let (a, b) = bytes.split_at(usize::from(spec.split).min(bytes.len()));
                self.input(|c| c.receive(a));
                self.input(|c| c.receive(b));
            }
            Op::ReceiveClose(frame, key) => {
                let mut payload = Vec::new();
                frame.encode(&mut payload);
                let spec = FrameSpec {
                    fin: true,
                    opcode: OpCode::Close,
                    payload,
                    key: *key,
                    quirk: None,
                    split: 0,
                };
                let bytes = spec.encode(self.role);
                self.input(|c| c.receive(&bytes));
            }
            Op::ReceiveCompressed {
                text,
                data,
                cuts,
                key,
            } => {
                let bytes = self.compressed_message(*text, data, cuts, *key);
                self.input(|c| c.receive(&bytes));
            }
            Op::ReceiveEof => {
                self.eof_fed = true;
                self.input(Connection::receive_eof);
            }
            Op::SendText(s) => self.send_data(|c| c.send_text(s.as_str())),
            Op::SendBinary(b) => self.send_data(|c| c.send_binary(b.clone())),
            Op::SendLarge { byte, len, text } => {
                let data = vec![byte & 0x7F; usize::from(*len)];
                if *text {
                    let s = String::from_utf8(data).expect("ASCII");
                    self.send_data(|c| c.send_text(s));
                } else {
                    self.send_data(|c| c.send_binary(data));
                }
            }
            Op::SendFragment { text, data, fin } => {
                let kind = if *text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.send_data(|c| c.send_fragment(kind, &data[..], *fin));
            }
            Op::SendPing(p) => {
                self.send_control(p, |c| c.send_ping(p));
            }
            Op::SendPong(p) => {
                if self.send_control(p, |c| c.send_pong(p)) {
                    self.pongs_sent += 1;
                }
            }
            Op::Close(code, reason) => self.close(*code, reason),
            Op::CloseValid(frame) => self.close(frame.code(), frame.reason()),
            Op::Fail(code, reason) => self.fail(*code, reason),
            Op::Consume(n) => self.consume(usize::from(*n)),
            Op::ConsumeMany(n) => self.consume(usize::from(*n)),
            Op::ConsumeAll => self.consume(usize::MAX),
            Op::Poll(n) => {
                for _ in 0..*n {
                    if !self.poll_one() {
                        break;
                    }
                }
                self.after_op();
            }
            Op::PollAll => self.poll_all(),
        }
    }

    /// The end of the script: the rest of the wire, end of stream, everything drained.
    fn end(&mut self, rest: &[u8]) {
        self.input(|c| c.receive(rest));
        self.poll_all();
        self.eof_fed = true;
        self.input(Connection::receive_eof);
        self.poll_all();
        assert!(self.closed, "no outcome after end of stream");
        assert_eq!(self.conn.state(), ReadyState::Closed);
        self.consume(usize::MAX);
        assert_eq!(self.conn.buffered_amount(), 0);
        self.wire.finish();
        assert!(
            self.conn.wants_transport_close(),
            "closed, written and at end of stream, yet not ready to close the transport"
        );
        self.check_close_frame();
        self.check_pongs();
    }

    /// Input from the peer: it may add at most the unwritten Pongs and one Close.
    fn input(&mut self, f: impl FnOnce(&mut Connection)) {
        let before = self.conn.buffered_amount();
        f(&mut self.conn);
        let after = self.conn.buffered_amount();
        assert!(
            after <= before + PEER_OUTPUT_BOUND,
            "one input call queued {} bytes of output",
            after - before.min(after)
        );
        self.after_op();
    }

    /// A whole message or a fragment.
    fn send_data(&mut self, f: impl FnOnce(&mut Connection) -> Result<(), SendError>) {
        let state = self.conn.state();
        let result = self.send(f);
        match state {
            ReadyState::Closed => assert_eq!(result, Err(SendError::Closed)),
            ReadyState::Closing => assert_eq!(result, Err(SendError::CloseSent)),
            _ => {}
        }
    }

    /// A Ping or a Pong; returns whether it was queued.
    fn send_control(
        &mut self,
        payload: &[u8],
        f: impl FnOnce(&mut Connection) -> Result<(), SendError>,
    ) -> bool {
        let state = self.conn.state();
        let result = self.send(f);
        let expected = if state == ReadyState::Closed {
            Err(SendError::Closed)
        } else if payload.len() > MAX_CONTROL_PAYLOAD {
            Err(SendError::ControlPayloadTooLong)
        } else {
            Ok(())
        };
        assert_eq!(result, expected);
        result.is_ok()
    }

    fn close(&mut self, code: CloseCode, reason: &str) {
        let state = self.conn.state();
        let result = self.send(|c| c.close(code, reason));
        let expected = match state {
            ReadyState::Closed => Err(SendError::Closed),
            ReadyState::Closing => Err(SendError::CloseSent),
            _ if !code.is_sendable() => Err(SendError::InvalidCloseCode),
            _ if reason.len() > 123 => Err(SendError::CloseReasonTooLong),
            _ => Ok(()),
        };
        assert_eq!(result, expected);
        if result.is_ok() {
            assert_eq!(self.conn.state(), ReadyState::Closing);
            self.local_close = Some((code, reason.to_owned()));
        }
    }

    fn fail(&mut self, code: CloseCode, reason: &str) {
        let state = self.conn.state();
        let result = self.send(|c| c.fail(code, reason));
        let expected = match state {
            ReadyState::Closed => Err(SendError::Closed),
            _ if !code.is_sendable() => Err(SendError::InvalidCloseCode),
            _ if reason.len() > 123 => Err(SendError::CloseReasonTooLong),
            _ => Ok(()),
        };
        assert_eq!(result, expected);
        if result.is_ok() {
            assert_eq!(self.conn.state(), ReadyState::Closed);
            self.failed = Some((code, reason.to_owned()));
        }
    }

    /// Any send call: an error queues nothing and changes nothing.
    fn send(
        &mut self,
        f: impl FnOnce(&mut Connection) -> Result<(), SendError>,
    ) -> Result<(), SendError> {
        let before = self.conn.buffered_amount();
        let state = self.conn.state();
        let result = f(&mut self.conn);
        match result {
            Ok(()) => self.ours_since_empty = true,
            Err(e) => {
                assert_eq!(self.conn.buffered_amount(), before, "{e:?} queued output");
                assert_eq!(self.conn.state(), state, "{e:?} changed the state");
            }
        }
        self.after_op();
        result
    }

    fn consume(&mut self, n: usize) {
        let written = take_output(&mut self.conn, n);
        self.wire.push(&written);
        self.after_op();
    }

    fn poll_all(&mut self) {
        while self.poll_one() {}
        if self.conn.state() == ReadyState::Closed {
            assert!(self.closed, "closed without an outcome event");
        }
        self.after_op();
    }

    /// Takes one event and checks it; returns whether there was one.
    fn poll_one(&mut self) -> bool {
        let before = self.conn.buffered_amount();
        // Both ways of taking events give the same events with the same effects.
        self.polls += 1;
        let event = if self.polls % 2 == 0 {
            self.conn.poll_event_ref().map(|e| e.to_event())
        } else {
            self.conn.poll_event()
        };
        // Taking events may parse input that waited for room in the queue.
        let after = self.conn.buffered_amount();
        assert!(after <= before + PEER_OUTPUT_BOUND);
        let Some(event) = event else {
            return false;
        };
        assert!(!self.closed, "event after the outcome: {event:?}");
        if let Some(frame) = &self.close_event {
            assert!(
                matches!(&event, Event::Closed(_)),
                "Close({frame:?}) not followed by the outcome but by {event:?}"
            );
        }
        match event {
            Event::Text(t) => self.message(t.len()),
            Event::Binary(b) => self.message(b.len()),
            Event::TextChunk { text, fin } => self.chunk(MessageKind::Text, text.len(), fin),
            Event::BinaryChunk { data, fin } => self.chunk(MessageKind::Binary, data.len(), fin),
            Event::Ping(p) => {
                assert!(p.len() <= MAX_CONTROL_PAYLOAD);
                self.last_ping = Some(p.to_vec());
            }
            Event::Pong(p) => assert!(p.len() <= MAX_CONTROL_PAYLOAD),
            Event::Close(frame) => {
                assert!(frame.code().is_valid_on_wire() || frame.code() == CloseCode::NO_STATUS);
                self.close_event = Some(frame);
            }
            Event::Closed(outcome) => {
                self.closed = true;
                assert_eq!(self.conn.state(), ReadyState::Closed);
                let close_event = self.close_event.take();
                let by_us = if self.local_close.is_some() {
                    Initiator::Local
                } else {
                    Initiator::Remote
                };
                if let Some(error) = outcome.error {
                    assert!(self.failed.is_none());
                    assert!(close_event.is_none());
                    assert_eq!(outcome.code, error.close_code());
                    assert_eq!(outcome.reason, error.description());
                    assert!(!outcome.clean);
                    assert_eq!(outcome.initiator, Initiator::Local);
                } else if let Some((code, reason)) = &self.failed {
                    // The peer's Close may have been queued as an event before we failed: it
                    // takes effect only when the application reaches it, so ours came first.
                    assert_eq!(outcome.code, *code);
                    assert_eq!(outcome.reason, reason.as_str());
                    assert!(!outcome.clean);
                    assert_eq!(outcome.initiator, Initiator::Local);
                } else if let Some(frame) = close_event {
                    assert!(outcome.clean);
                    assert_eq!(outcome.code, frame.code());
                    assert_eq!(outcome.reason, frame.reason());
                    assert_eq!(outcome.initiator, by_us);
                    // Keep it for the reply check at the end.
                    self.close_event = None;
                    self.peer_close = Some(frame);
                } else {
                    assert!(self.eof_fed, "an outcome without a cause: {outcome:?}");
                    assert_eq!(outcome.code, CloseCode::ABNORMAL);
                    assert!(!outcome.clean);
                    assert_eq!(outcome.initiator, by_us);
                }
            }
            other => panic!("unknown event {other:?}"),
        }
        true
    }

    /// A whole message: never over the limit, inflated or not.
    fn message(&mut self, len: usize) {
        assert!(!self.config.streaming, "a whole message in streaming mode");
        assert!(
            len <= self.config.max_message_size,
            "a {len}-byte message over the {}-byte limit",
            self.config.max_message_size
        );
    }

    fn chunk(&mut self, kind: MessageKind, len: usize, fin: bool) {
        assert!(self.config.streaming, "a chunk outside streaming mode");
        if let Some(open) = self.chunked {
            assert_eq!(open, kind, "chunks of two kinds in one message");
        }
        self.chunked_len += len;
        assert!(
            self.chunked_len <= self.config.max_message_size,
            "a streamed message past the {}-byte limit",
            self.config.max_message_size
        );
        self.chunked = if fin { None } else { Some(kind) };
        if fin {
            self.chunked_len = 0;
        }
    }

    /// The frames of a message the peer compressed (RFC 7692 §7.2.1), as it would: with its
    /// compressor kept between messages unless it must reset, a window no larger than agreed
    /// (9 bits standing in for 8, on a message short enough that it makes no difference), and
    /// the `00 00 ff ff` tail removed.
    fn compressed_message(
        &mut self,
        text: bool,
        data: &[u8],
        cuts: &[u16],
        key: [u8; 4],
    ) -> Vec<u8> {
        let peer = match self.role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        let direction = self.deflate.map_or(
            Direction {
                no_context_takeover: true,
                window_bits: 15,
            },
            |p| Direction::of(&p, peer),
        );
        let mut data = if text {
            String::from_utf8_lossy(data).into_owned().into_bytes()
        } else {
            data.to_vec()
        };
        if direction.window_bits == 8 {
            // Back-references cannot reach further than the message.
            let mut end = data.len().min(256);
            while text && core::str::from_utf8(&data[..end]).is_err() {
                end -= 1;
            }
            data.truncate(end);
        }
        if direction.no_context_takeover || direction.window_bits < 15 {
            self.peer_deflate = None;
        }
        let bits = direction.window_bits.max(9);
        let z = self.peer_deflate.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::default(), false, bits)
        });
        let out = compress_message(z, &data);

        let mut cuts: Vec<usize> = cuts
            .iter()
            .map(|&c| usize::from(c) % (out.len() + 1))
            .collect();
        cuts.sort_unstable();
        let opcode = if text { OpCode::Text } else { OpCode::Binary };
        let key = (self.role == Role::Server).then_some(key);
        fragments(opcode, RSV1, key, &out, &cuts).concat()
    }

    /// Checks after every operation.
    fn after_op(&mut self) {
        let len = self.conn.buffered_amount();
        if len == 0 {
            self.ours_since_empty = false;
        }
        if !self.ours_since_empty {
            // Only the peer caused this output: the automatic Pongs (one of them maybe partly
            // written) and a Close.
            assert!(
                len <= PEER_OUTPUT_BOUND,
                "{len} bytes of output caused by peer input alone"
            );
        }
        if self.conn.state() == ReadyState::Closed {
            if let Some(limit) = self.closed_len {
                assert!(len <= limit, "output grew after the connection closed");
            }
            self.closed_len = Some(len);
        }
        if self.closed {
            assert_eq!(self.conn.state(), ReadyState::Closed);
        }
    }

    /// The Close frame on the wire is the one the story calls for.
    fn check_close_frame(&self) {
        let sent = self.wire.close_frame();
        if let Some((code, reason)) = &self.local_close {
            let sent = sent.expect("close() queued a Close frame");
            assert_eq!((sent.code(), sent.reason()), (*code, reason.as_str()));
        } else if let Some((code, reason)) = &self.failed {
            let sent = sent.expect("fail() queued a Close frame");
            assert_eq!((sent.code(), sent.reason()), (*code, reason.as_str()));
        } else if let Some(peer) = &self.peer_close {
            // RFC 6455 §5.5.1: the reply echoes the status code.
            let sent = sent.expect("the peer's Close was answered");
            assert_eq!((sent.code(), sent.reason()), (peer.code(), ""));
        }
    }

    /// With automatic pongs, the latest Ping was answered; without, only our own Pongs went out.
    fn check_pongs(&self) {
        let pongs: Vec<&[u8]> = self
            .wire
            .frames
            .iter()
            .filter(|f| f.opcode == OpCode::Pong)
            .map(|f| &f.payload[..])
            .collect();
        if self.config.auto_pong {
            if let Some(ping) = &self.last_ping {
                assert!(
                    pongs.contains(&&ping[..]),
                    "the latest Ping {ping:x?} was not answered: {pongs:x?}"
                );
            }
        } else {
            assert_eq!(pongs.len(), self.pongs_sent, "a Pong without auto_pong");
        }
    }
}
