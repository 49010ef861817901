//! A client and a server joined in memory under random operations on both sides (the `pair`
//! target).
//!
//! Both sides may have agreed to permessage-deflate (the same parameters, each with its own
//! level and threshold).
//!
//! Checks: both write only valid frames; every message and Ping a side sent before its Close
//! arrives intact and in order (all of them unless the receiver failed the connection itself
//! or the transport was cut); neither ever sees a protocol error from the other; and both
//! reach the same closing outcome.

use arbitrary::{Arbitrary, Unstructured};
use wsmachine::extensions::DeflateParams;
use wsmachine::frame::OpCode;
use wsmachine::{
    CloseCode, CloseFrame, CloseOutcome, Config, Connection, Event, FixedMask, Initiator,
    MessageKind, Negotiated, ReadyState, Role,
};

use crate::output::take_output;
use crate::wire::{WireChecker, spread_windows};

/// What one side does.
#[derive(Arbitrary, Debug)]
pub enum SideOp {
    SendText(String),
    SendBinary(Vec<u8>),
    SendLarge {
        byte: u8,
        len: u16,
    },
    SendFragment {
        text: bool,
        data: Vec<u8>,
        fin: bool,
    },
    /// A whole text message sent as fragments cut at these byte offsets (code points may be
    /// split across fragments).
    SendTextInPieces {
        text: String,
        cuts: Vec<u16>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(CloseFrame),
    Fail(CloseFrame),
}

/// One step of the pair.
#[derive(Arbitrary, Debug)]
pub enum PairOp {
    Client(SideOp),
    Server(SideOp),
    /// Moves up to `n` written bytes towards one side.
    Transfer {
        to_server: bool,
        n: u8,
    },
    TransferMany {
        to_server: bool,
        n: u16,
    },
    TransferAll,
    Poll {
        server: bool,
        n: u8,
    },
    /// The transport breaks: both sides see the end of stream.
    Cut,
}

/// Per-side switches (limits stay at their defaults: nothing here is too big).
#[derive(Arbitrary, Debug)]
pub struct SideConfig {
    pub auto_pong: bool,
    pub streaming: bool,
    /// permessage-deflate compression level and threshold, when it is agreed.
    pub deflate_level: u8,
    pub deflate_threshold: u8,
}

#[derive(Arbitrary, Debug)]
pub struct PairScript {
    pub client: SideConfig,
    pub server: SideConfig,
    pub key: [u8; 4],
    /// permessage-deflate, agreed by both sides, or not.
    pub deflate: Option<DeflateParams>,
    pub ops: Vec<PairOp>,
}

type Message = (MessageKind, Vec<u8>);

/// One end and the model of what it sent and received.
struct Side {
    conn: Connection,
    wire: WireChecker,
    /// Complete messages sent, in order.
    sent: Vec<Message>,
    /// The fragmented message being sent.
    sending: Option<Message>,
    /// Pings sent while open (before our Close).
    pings: Vec<Vec<u8>>,
    /// Pongs sent by hand.
    pongs: Vec<Vec<u8>>,
    /// `fail` succeeded.
    failed: bool,
    /// Complete messages received, in order.
    received: Vec<Message>,
    /// A streaming message being received.
    chunks: Option<Message>,
    received_pings: Vec<Vec<u8>>,
    received_pongs: Vec<Vec<u8>>,
    /// The peer's Close frame, as reported.
    close_event: Option<CloseFrame>,
    outcome: Option<CloseOutcome>,
}

impl Side {
    fn new(role: Role, config: &SideConfig, key: [u8; 4], deflate: Option<DeflateParams>) -> Self {
        let mut c = Config::default();
        c.auto_pong = config.auto_pong;
        c.streaming = config.streaming;
        c.deflate.level = config.deflate_level % 10;
        c.deflate.threshold = usize::from(config.deflate_threshold);
        let deflate = deflate.map(spread_windows);
        let mut negotiated = Negotiated::new();
        if let Some(params) = deflate {
            negotiated = negotiated.with_deflate(params);
        }
        Self {
            conn: Connection::with_mask_source(role, negotiated, c, FixedMask(key)),
            wire: WireChecker::with_deflate(role, deflate.as_ref()),
            sent: Vec::new(),
            sending: None,
            pings: Vec::new(),
            pongs: Vec::new(),
            failed: false,
            received: Vec::new(),
            chunks: None,
            received_pings: Vec::new(),
            received_pongs: Vec::new(),
            close_event: None,
            outcome: None,
        }
    }

    fn act(&mut self, op: &SideOp) {
        match op {
            SideOp::SendText(s) => {
                if self.conn.send_text(s.as_str()).is_ok() {
                    self.sent.push((MessageKind::Text, s.as_bytes().to_vec()));
                }
            }
            SideOp::SendBinary(b) => {
                if self.conn.send_binary(&b[..]).is_ok() {
                    self.sent.push((MessageKind::Binary, b.clone()));
                }
            }
            SideOp::SendLarge { byte, len } => {
                let data = vec![*byte; usize::from(*len)];
                if self.conn.send_binary(data.clone()).is_ok() {
                    self.sent.push((MessageKind::Binary, data));
                }
            }
            SideOp::SendFragment { text, data, fin } => {
                let kind = if *text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.fragment(kind, data, *fin);
            }
            SideOp::SendTextInPieces { text, cuts } => {
                let bytes = text.as_bytes();
                let mut cuts: Vec<usize> = cuts
                    .iter()
                    .map(|&c| usize::from(c) % (bytes.len() + 1))
                    .collect();
                cuts.sort_unstable();
                let mut start = 0;
                for cut in cuts {
                    if !self.fragment(MessageKind::Text, &bytes[start..cut], false) {
                        return;
                    }
                    start = cut;
                }
                self.fragment(MessageKind::Text, &bytes[start..], true);
            }
            SideOp::Ping(p) => {
                let open = self.conn.state() == ReadyState::Open;
                if self.conn.send_ping(p).is_ok() && open {
                    self.pings.push(p.clone());
                }
            }
            SideOp::Pong(p) => {
                if self.conn.send_pong(p).is_ok() {
                    self.pongs.push(p.clone());
                }
            }
            SideOp::Close(frame) => {
                let _ = self.conn.close(frame.code(), frame.reason());
            }
            SideOp::Fail(frame) => {
                if self.conn.fail(frame.code(), frame.reason()).is_ok() {
                    self.failed = true;
                }
            }
        }
    }

    /// Sends a fragment; returns whether it was accepted.
    fn fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> bool {
        if self.conn.send_fragment(kind, data, fin).is_err() {
            return false;
        }
        let (open_kind, bytes) = self.sending.get_or_insert_with(|| (kind, Vec::new()));
        assert_eq!(*open_kind, kind, "a fragment of another kind was accepted");
        bytes.extend_from_slice(data);
        if fin {
            let message = self.sending.take().expect("just set");
            self.sent.push(message);
        }
        true
    }

    /// Takes up to `n` events; returns whether there was any.
    fn poll(&mut self, n: usize) -> bool {
        let mut any = false;
        for _ in 0..n {
            let Some(event) = self.conn.poll_event() else {
                break;
            };
            any = true;
            assert!(self.outcome.is_none(), "event after the outcome: {event:?}");
            match event {
                Event::Text(t) => self
                    .received
                    .push((MessageKind::Text, t.as_bytes().to_vec())),
                Event::Binary(b) => self.received.push((MessageKind::Binary, b.to_vec())),
                Event::TextChunk { text, fin } => {
                    self.chunk(MessageKind::Text, text.as_bytes(), fin)
                }
                Event::BinaryChunk { data, fin } => self.chunk(MessageKind::Binary, &data, fin),
                Event::Ping(p) => self.received_pings.push(p.to_vec()),
                Event::Pong(p) => self.received_pongs.push(p.to_vec()),
                Event::Close(frame) => self.close_event = Some(frame),
                Event::Closed(outcome) => self.outcome = Some(outcome),
                other => panic!("unknown event {other:?}"),
            }
        }
        any
    }

    fn chunk(&mut self, kind: MessageKind, data: &[u8], fin: bool) {
        let (open_kind, bytes) = self.chunks.get_or_insert_with(|| (kind, Vec::new()));
        assert_eq!(*open_kind, kind, "chunks of two kinds in one message");
        bytes.extend_from_slice(data);
        if fin {
            let message = self.chunks.take().expect("just set");
            self.received.push(message);
        }
    }
}

/// The two sides and the transport between them.
struct Pair {
    client: Side,
    server: Side,
    /// The transport is closed (both directions).
    closed: bool,
    /// It was closed by a cut, not by a side that asked for it.
    cut: bool,
}

impl Pair {
    /// Moves up to `n` bytes from one side to the other; returns whether any moved.
    fn transfer(&mut self, to_server: bool, n: usize) -> bool {
        let (from, to) = if to_server {
            (&mut self.client, &mut self.server)
        } else {
            (&mut self.server, &mut self.client)
        };
        let bytes = take_output(&mut from.conn, n);
        from.wire.push(&bytes);
        if !self.closed {
            to.conn.receive(&bytes);
        }
        !bytes.is_empty()
    }

    fn eof(&mut self) {
        self.closed = true;
        self.client.conn.receive_eof();
        self.server.conn.receive_eof();
    }

    /// Closes the transport when a side asks for it, as a driver does.
    fn after_op(&mut self) -> bool {
        if !self.closed
            && (self.client.conn.wants_transport_close()
                || self.server.conn.wants_transport_close())
        {
            self.eof();
            return true;
        }
        false
    }

    /// Moves everything and takes every event until nothing changes.
    fn settle(&mut self) {
        for _ in 0..1000 {
            let mut progress = self.transfer(true, usize::MAX);
            progress |= self.transfer(false, usize::MAX);
            progress |= self.client.poll(usize::MAX);
            progress |= self.server.poll(usize::MAX);
            progress |= self.after_op();
            if !progress {
                return;
            }
        }
        panic!("the pair did not settle");
    }
}

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let Ok(script) = PairScript::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut pair = Pair {
        client: Side::new(Role::Client, &script.client, script.key, script.deflate),
        server: Side::new(Role::Server, &script.server, script.key, script.deflate),
        closed: false,
        cut: false,
    };
    for op in &script.ops {
        match op {
            PairOp::Client(op) => pair.client.act(op),
            PairOp::Server(op) => pair.server.act(op),
            PairOp::Transfer { to_server, n } => {
                pair.transfer(*to_server, usize::from(*n));
            }
            PairOp::TransferMany { to_server, n } => {
                pair.transfer(*to_server, usize::from(*n));
            }
            PairOp::TransferAll => {
                pair.transfer(true, usize::MAX);
                pair.transfer(false, usize::MAX);
            }
            PairOp::Poll { server: true, n } => {
                pair.server.poll(usize::from(*n));
            }
            PairOp::Poll { server: false, n } => {
                pair.client.poll(usize::from(*n));
            }
            PairOp::Cut => {
                if !pair.closed {
                    pair.cut = true;
                    pair.eof();
                }
            }
        }
        pair.after_op();
    }
    // Whatever is in flight arrives; then the client closes if nobody has, then the server.
    pair.settle();
    if pair.client.conn.state() == ReadyState::Open {
        pair.client.conn.close(CloseCode::NORMAL, "").expect("open");
        pair.settle();
    }
    if pair.server.conn.state() == ReadyState::Open {
        pair.server.conn.close(CloseCode::NORMAL, "").expect("open");
        pair.settle();
    }
    check(&pair);
}

fn check(pair: &Pair) {
    assert!(pair.closed, "the transport was never closed");
    for (name, side, peer) in [
        ("client", &pair.client, &pair.server),
        ("server", &pair.server, &pair.client),
    ] {
        side.wire.finish();
        let outcome = side
            .outcome
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has no outcome"));
        assert_eq!(
            outcome.error, None,
            "{name} saw a protocol error from our own peer"
        );
        assert_eq!(side.conn.state(), ReadyState::Closed);
        // Everything arrives in order; all of it unless the receiver failed or the wire broke.
        let complete = !side.failed && !pair.cut;
        assert!(
            peer.sent.starts_with(&side.received),
            "{name} received messages that were not sent, or out of order"
        );
        assert!(
            peer.pings.starts_with(&side.received_pings),
            "{name} received pings that were not sent, or out of order"
        );
        if complete {
            assert_eq!(
                side.received.len(),
                peer.sent.len(),
                "{name} did not receive every message"
            );
            assert_eq!(side.received_pings, peer.pings, "{name} lost pings");
        }
        for pong in &side.received_pongs {
            assert!(
                side.wire_pinged(pong) || peer.pongs.contains(pong),
                "{name} received a Pong nobody asked for: {pong:x?}"
            );
        }
        // The outcome follows from what happened.
        if side.failed {
            assert!(!outcome.clean);
            assert_eq!(outcome.initiator, Initiator::Local);
        } else if outcome.clean {
            let peer_close = peer
                .wire
                .close_frame()
                .expect("a clean close saw the peer's Close");
            assert_eq!(outcome.code, peer_close.code());
            assert_eq!(outcome.reason, peer_close.reason());
            assert_eq!(side.close_event.as_ref(), Some(peer_close));
        } else {
            assert!(
                pair.cut,
                "{name} closed uncleanly without a cause: {outcome:?}"
            );
            assert_eq!(outcome.code, CloseCode::ABNORMAL);
        }
    }
    // Both reach the same outcome: a clean close with the initiator's code, unless somebody
    // failed or the wire broke.
    let (c, s) = (
        pair.client.outcome.as_ref().expect("checked"),
        pair.server.outcome.as_ref().expect("checked"),
    );
    if !pair.client.failed && !pair.server.failed && !pair.cut {
        assert!(c.clean && s.clean, "not both clean: {c:?} {s:?}");
        if c.initiator != s.initiator {
            assert_eq!(c.code, s.code, "different codes: {c:?} {s:?}");
        } else {
            assert_eq!(c.initiator, Initiator::Local, "both remote: {c:?} {s:?}");
        }
    }
}

impl Side {
    /// Whether this side sent a Ping with `payload` (also after its Close).
    fn wire_pinged(&self, payload: &[u8]) -> bool {
        self.wire
            .frames
            .iter()
            .any(|f| f.opcode == OpCode::Ping && f.payload == payload)
    }
}
