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
    CloseCode, CloseFrame, CloseOutcome, Config, Connection, Event, Initiator, MessageKind,
    Negotiated, PreparedMessage, ReadyState, Role,
};
use wsmachine_testkit::{Pair, WireChecker};

use crate::spread_windows;

/// What one side does.
#[derive(Arbitrary, Debug)]
pub enum SideOp {
    SendText(String),
    SendBinary(Vec<u8>),
    /// A prepared message (text: the data made valid UTF-8), maybe never compressed.
    SendPrepared {
        text: bool,
        data: Vec<u8>,
        compress: bool,
    },
    /// The last prepared message again (its shared forms already built).
    ResendPrepared,
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
    /// permessage-deflate: keep the compressor's context, and its window and memory level.
    pub deflate_context_takeover: bool,
    pub deflate_window: u8,
    pub deflate_mem_level: u8,
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

/// A connection of `role` configured by `config`, maybe with permessage-deflate.
fn connection(
    role: Role,
    config: &SideConfig,
    key: [u8; 4],
    deflate: Option<DeflateParams>,
) -> Connection {
    let mut c = Config::default();
    c.auto_pong = config.auto_pong;
    c.streaming = config.streaming;
    c.deflate.level = config.deflate_level % 10;
    c.deflate.threshold = usize::from(config.deflate_threshold);
    c.deflate.context_takeover = config.deflate_context_takeover;
    c.deflate.window_bits = 9 + config.deflate_window % 7;
    c.deflate.mem_level = 1 + config.deflate_mem_level % 9;
    let mut negotiated = Negotiated::new();
    if let Some(params) = deflate.map(spread_windows) {
        negotiated = negotiated.with_deflate(params);
    }
    wsmachine_testkit::connection_with(role, negotiated, c, key)
}

/// The model of what one end sent and received.
#[derive(Default)]
struct Side {
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
    /// The last prepared message and what it says.
    prepared: Option<(PreparedMessage, Message)>,
}

impl Side {
    fn act(&mut self, conn: &mut Connection, op: &SideOp) {
        match op {
            SideOp::SendText(s) => {
                if conn.send_text(s.as_str()).is_ok() {
                    self.sent.push((MessageKind::Text, s.as_bytes().to_vec()));
                }
            }
            SideOp::SendBinary(b) => {
                if conn.send_binary(&b[..]).is_ok() {
                    self.sent.push((MessageKind::Binary, b.clone()));
                }
            }
            SideOp::SendPrepared {
                text,
                data,
                compress,
            } => {
                let (message, said) = if *text {
                    let s = String::from_utf8_lossy(data).into_owned();
                    let said = (MessageKind::Text, s.as_bytes().to_vec());
                    (PreparedMessage::text(s), said)
                } else {
                    let said = (MessageKind::Binary, data.clone());
                    (PreparedMessage::binary(data.clone()), said)
                };
                let message = if *compress {
                    message
                } else {
                    message.uncompressed()
                };
                self.prepared = Some((message, said));
                self.act(conn, &SideOp::ResendPrepared);
            }
            SideOp::ResendPrepared => {
                if let Some((message, said)) = &self.prepared {
                    if conn.send_prepared(message).is_ok() {
                        self.sent.push(said.clone());
                    }
                }
            }
            SideOp::SendLarge { byte, len } => {
                let data = vec![*byte; usize::from(*len)];
                if conn.send_binary(data.clone()).is_ok() {
                    self.sent.push((MessageKind::Binary, data));
                }
            }
            SideOp::SendFragment { text, data, fin } => {
                let kind = if *text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.fragment(conn, kind, data, *fin);
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
                    if !self.fragment(conn, MessageKind::Text, &bytes[start..cut], false) {
                        return;
                    }
                    start = cut;
                }
                self.fragment(conn, MessageKind::Text, &bytes[start..], true);
            }
            SideOp::Ping(p) => {
                let open = conn.state() == ReadyState::Open;
                if conn.send_ping(p).is_ok() && open {
                    self.pings.push(p.clone());
                }
            }
            SideOp::Pong(p) => {
                if conn.send_pong(p).is_ok() {
                    self.pongs.push(p.clone());
                }
            }
            SideOp::Close(frame) => {
                let _ = conn.close(frame.code(), frame.reason());
            }
            SideOp::Fail(frame) => {
                if conn.fail(frame.code(), frame.reason()).is_ok() {
                    self.failed = true;
                }
            }
        }
    }

    /// Sends a fragment; returns whether it was accepted.
    fn fragment(
        &mut self,
        conn: &mut Connection,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> bool {
        if conn.send_fragment(kind, data, fin).is_err() {
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

    /// Takes the events the connection reported, in order.
    fn take(&mut self, events: Vec<Event>) {
        for event in events {
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

/// The pair (connections, transport, wire checkers) and the model of each end.
struct Run {
    pair: Pair,
    client: Side,
    server: Side,
}

impl Run {
    /// Hands the events the pair took to the models.
    fn take_events(&mut self) {
        self.client.take(self.pair.take_client_events());
        self.server.take(self.pair.take_server_events());
    }

    /// Moves everything and takes every event until nothing changes.
    fn settle(&mut self) {
        self.pair.drive();
        self.take_events();
    }
}

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let Ok(script) = PairScript::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut run = Run {
        pair: Pair::from_connections(
            connection(Role::Client, &script.client, script.key, script.deflate),
            connection(Role::Server, &script.server, script.key, script.deflate),
        ),
        client: Side::default(),
        server: Side::default(),
    };
    for op in &script.ops {
        match op {
            PairOp::Client(op) => run.client.act(&mut run.pair.client, op),
            PairOp::Server(op) => run.server.act(&mut run.pair.server, op),
            PairOp::Transfer { to_server, n } => {
                run.pair.transfer(role(*to_server), usize::from(*n));
            }
            PairOp::TransferMany { to_server, n } => {
                run.pair.transfer(role(*to_server), usize::from(*n));
            }
            PairOp::TransferAll => {
                run.pair.transfer(Role::Server, usize::MAX);
                run.pair.transfer(Role::Client, usize::MAX);
            }
            PairOp::Poll { server, n } => {
                run.pair.poll(role(*server), usize::from(*n));
                run.take_events();
            }
            PairOp::Cut => run.pair.cut(),
        }
        run.pair.close_transport_if_wanted();
    }
    // Whatever is in flight arrives; then the client closes if nobody has, then the server.
    run.settle();
    if run.pair.client.state() == ReadyState::Open {
        run.pair.client.close(CloseCode::NORMAL, "").expect("open");
        run.settle();
    }
    if run.pair.server.state() == ReadyState::Open {
        run.pair.server.close(CloseCode::NORMAL, "").expect("open");
        run.settle();
    }
    check(&run);
}

/// The server if `server`, else the client.
fn role(server: bool) -> Role {
    if server { Role::Server } else { Role::Client }
}

fn check(run: &Run) {
    let pair = &run.pair;
    assert!(pair.transport_closed(), "the transport was never closed");
    let ends = [
        ("client", &pair.client, &run.client, &pair.client_wire),
        ("server", &pair.server, &run.server, &pair.server_wire),
    ];
    for (i, &(name, conn, side, wire)) in ends.iter().enumerate() {
        let (_, _, peer, peer_wire) = ends[1 - i];
        wire.finish();
        let outcome = side
            .outcome
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has no outcome"));
        assert_eq!(
            outcome.error, None,
            "{name} saw a protocol error from our own peer"
        );
        assert_eq!(conn.state(), ReadyState::Closed);
        // Everything arrives in order; all of it unless the receiver failed or the wire broke.
        let complete = !side.failed && !pair.was_cut();
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
                pinged(wire, pong) || peer.pongs.contains(pong),
                "{name} received a Pong nobody asked for: {pong:x?}"
            );
        }
        // The outcome follows from what happened.
        if side.failed {
            assert!(!outcome.clean);
            assert_eq!(outcome.initiator, Initiator::Local);
        } else if outcome.clean {
            let peer_close = peer_wire
                .close_frame()
                .expect("a clean close saw the peer's Close");
            assert_eq!(outcome.code, peer_close.code());
            assert_eq!(outcome.reason, peer_close.reason());
            assert_eq!(side.close_event.as_ref(), Some(peer_close));
        } else {
            assert!(
                pair.was_cut(),
                "{name} closed uncleanly without a cause: {outcome:?}"
            );
            assert_eq!(outcome.code, CloseCode::ABNORMAL);
        }
    }
    // Both reach the same outcome: a clean close with the initiator's code, unless somebody
    // failed or the wire broke.
    let (c, s) = (
        run.client.outcome.as_ref().expect("checked"),
        run.server.outcome.as_ref().expect("checked"),
    );
    if !run.client.failed && !run.server.failed && !pair.was_cut() {
        assert!(c.clean && s.clean, "not both clean: {c:?} {s:?}");
        if c.initiator != s.initiator {
            assert_eq!(c.code, s.code, "different codes: {c:?} {s:?}");
        } else {
            assert_eq!(c.initiator, Initiator::Local, "both remote: {c:?} {s:?}");
        }
    }
}

/// Whether the side that wrote `wire` sent a Ping with `payload` (also after its Close).
fn pinged(wire: &WireChecker, payload: &[u8]) -> bool {
    wire.frames
        .iter()
        .any(|f| f.opcode == OpCode::Ping && f.payload == payload)
}
