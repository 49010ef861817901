//! The connection's lifecycle against its transition table (the `connection::lifecycle`
//! docs): random operation sequences in both roles, every observed change of state checked
//! against the table, and what the application sees (ready state, send results, Close frames
//! on the wire, the one `Closed` event) checked against the state.

use proptest::prelude::*;
use wsmachine::frame::{FrameHeader, OpCode, Status};
use wsmachine::{
    CloseCode, Config, Connection, Event, FixedMask, LifecycleState as S, Negotiated, ReadyState,
    Role, SendError,
};

/// What the peer, the transport or the application does.
#[derive(Clone, Debug)]
enum Op {
    /// The peer sends these frames, delivered in one read or cut at `cut`.
    Receive(Vec<PeerFrame>, Option<usize>),
    SendText,
    SendPing,
    Close(u16),
    Fail(u16),
    Eof,
    /// The application takes one event.
    PollOne,
    /// The application takes every event.
    PollAll,
    /// The driver writes all output.
    Flush,
    /// The clock moves on by this many seconds, and the driver gives the time.
    Advance(u8),
}

#[derive(Clone, Debug)]
enum PeerFrame {
    Text(String),
    Ping,
    /// Many Pings in one read: more events than one `receive` queues, so input is kept.
    PingFlood(u8),
    /// The start of a fragmented message.
    Fragment,
    Close(Option<u16>),
    /// A frame that breaks the protocol.
    Violation(u8),
}

fn peer_frame() -> impl Strategy<Value = PeerFrame> {
    prop_oneof![
        "[a-zé]{0,10}".prop_map(PeerFrame::Text),
        Just(PeerFrame::Ping),
        (60u8..90).prop_map(PeerFrame::PingFlood),
        Just(PeerFrame::Fragment),
        prop_oneof![
            Just(None),
            Just(Some(1000)),
            Just(Some(1001)),
            Just(Some(4000))
        ]
        .prop_map(PeerFrame::Close),
        (0u8..5).prop_map(PeerFrame::Violation),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop::collection::vec(peer_frame(), 1..4), prop::option::of(0usize..400))
            .prop_map(|(f, cut)| Op::Receive(f, cut)),
        1 => Just(Op::SendText),
        1 => Just(Op::SendPing),
        1 => prop_oneof![Just(1000u16), Just(1001), Just(1005)].prop_map(Op::Close),
        1 => prop_oneof![Just(1002u16), Just(1011)].prop_map(Op::Fail),
        1 => Just(Op::Eof),
        2 => Just(Op::PollOne),
        2 => Just(Op::PollAll),
        1 => Just(Op::Flush),
        1 => (0u8..8).prop_map(Op::Advance),
    ]
}

/// A frame as the peer of `role` sends it (masked towards a server).
fn encode(role: Role, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let key = (role == Role::Server).then_some([1, 2, 3, 4]);
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        masking_key: key,
        payload_len: payload.len() as u64,
    };
    let mut buf = [0; 14];
    let n = header.encode(&mut buf);
    let mut out = buf[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = key {
        wsmachine::frame::apply_mask(&mut out[start..], key, 0);
    }
    out
}

fn wire(role: Role, frame: &PeerFrame) -> Vec<u8> {
    match frame {
        PeerFrame::Text(s) => encode(role, true, 0, OpCode::Text, s.as_bytes()),
        PeerFrame::Ping => encode(role, true, 0, OpCode::Ping, b"p"),
        PeerFrame::PingFlood(n) => (0..*n)
            .flat_map(|_| encode(role, true, 0, OpCode::Ping, b""))
            .collect(),
        PeerFrame::Fragment => encode(role, false, 0, OpCode::Binary, b"frag"),
        PeerFrame::Close(None) => encode(role, true, 0, OpCode::Close, b""),
        PeerFrame::Close(Some(code)) => encode(role, true, 0, OpCode::Close, &code.to_be_bytes()),
        PeerFrame::Violation(kind) => match kind {
            0 => encode(role, true, 0b010, OpCode::Text, b"rsv2"),
            1 => encode(role, true, 0, OpCode::Text, b"\xff"),
            2 => encode(role, true, 0, OpCode::Continuation, b"nothing to continue"),
            3 => encode(role, false, 0, OpCode::Ping, b""),
            // The wrong masking for the role.
            _ => {
                let other = match role {
                    Role::Server => Role::Client,
                    Role::Client => Role::Server,
                };
                encode(other, true, 0, OpCode::Binary, b"mask")
            }
        },
    }
}

/// The lifecycle inputs of the table.
#[derive(Copy, Clone, Debug)]
enum In {
    Close,
    Fail,
    PeerClose,
    Violation,
    Eof { pending: bool },
    Drained,
    CloseTaken,
    EventsTaken,
    TimedOut,
}

/// One row of the table: the next state, or `None` where the input changes nothing.
fn next(s: S, input: In) -> Option<S> {
    use In as I;
    Some(match (s, input) {
        (S::Open, I::Close) => S::CloseSent,
        (S::PeerClosed { sent: false, eof }, I::Close) => S::PeerClosed { sent: true, eof },
        (S::Failing { sent: false, eof }, I::Close) => S::Failing { sent: true, eof },
        (S::Ending { sent: false }, I::Close) => S::Ending { sent: true },
        (S::Closed { .. }, I::Fail) => return None,
        (s, I::Fail) => S::Closed {
            clean: false,
            eof: matches!(
                s,
                S::Ending { .. } | S::PeerClosed { eof: true, .. } | S::Failing { eof: true, .. }
            ),
        },
        (S::Open, I::PeerClose) => S::PeerClosed {
            sent: false,
            eof: false,
        },
        (S::CloseSent, I::PeerClose) => S::PeerClosed {
            sent: true,
            eof: false,
        },
        (S::Ending { sent }, I::PeerClose) => S::PeerClosed { sent, eof: true },
        (S::Open, I::Violation) => S::Failing {
            sent: false,
            eof: false,
        },
        (S::CloseSent, I::Violation) => S::Failing {
            sent: true,
            eof: false,
        },
        (S::Ending { sent }, I::Violation) => S::Failing { sent, eof: true },
        (S::Open | S::CloseSent, I::Eof { pending: false }) => S::Closed {
            clean: false,
            eof: true,
        },
        (S::Open, I::Eof { pending: true }) => S::Ending { sent: false },
        (S::CloseSent, I::Eof { pending: true }) => S::Ending { sent: true },
        (S::PeerClosed { sent, .. }, I::Eof { .. }) => S::PeerClosed { sent, eof: true },
        (S::Failing { sent, .. }, I::Eof { .. }) => S::Failing { sent, eof: true },
        (S::Closed { clean, .. }, I::Eof { .. }) => S::Closed { clean, eof: true },
        (S::Ending { .. }, I::Drained) => S::Closed {
            clean: false,
            eof: true,
        },
        (S::PeerClosed { eof, .. }, I::CloseTaken) => S::Closed { clean: true, eof },
        (S::Failing { eof, .. }, I::EventsTaken) => S::Closed { clean: false, eof },
        (S::Closed { .. }, I::TimedOut) => return None,
        (s, I::TimedOut) => S::Closed {
            clean: false,
            eof: matches!(
                s,
                S::Ending { .. } | S::PeerClosed { eof: true, .. } | S::Failing { eof: true, .. }
            ),
        },
        _ => return None,
    })
}

/// The states one operation may lead to from `s`: each operation is a pattern of table
/// inputs (parsing may meet a Close or a violation; taking events may complete a close).
fn allowed(s: S, op: &Op) -> Vec<S> {
    use In as I;
    let singles = |inputs: &[In]| -> Vec<S> {
        let mut out = vec![s];
        out.extend(inputs.iter().filter_map(|&i| next(s, i)));
        out
    };
    match op {
        Op::Close(_) => singles(&[I::Close]),
        Op::Fail(_) => singles(&[I::Fail]),
        Op::Eof => singles(&[I::Eof { pending: false }, I::Eof { pending: true }]),
        Op::Receive(..) => singles(&[I::PeerClose, I::Violation]),
        Op::SendText | Op::SendPing | Op::Flush => vec![s],
        Op::Advance(_) => singles(&[I::TimedOut]),
        Op::PollOne | Op::PollAll => {
            // Any chain of: parsing kept input, the end of the kept input, taking events.
            let steps = [
                I::PeerClose,
                I::Violation,
                I::Drained,
                I::CloseTaken,
                I::EventsTaken,
            ];
            let mut seen = vec![s];
            let mut frontier = vec![s];
            while let Some(state) = frontier.pop() {
                for &i in &steps {
                    if let Some(n) = next(state, i) {
                        if !seen.contains(&n) {
                            seen.push(n);
                            frontier.push(n);
                        }
                    }
                }
            }
            seen
        }
    }
}

fn sent(s: S) -> bool {
    match s {
        S::Open => false,
        S::CloseSent => true,
        S::PeerClosed { sent, .. } | S::Failing { sent, .. } | S::Ending { sent } => sent,
        S::Closed { .. } => true,
    }
}

/// Close frames in `bytes`, the output of a connection of `role`.
fn close_frames(role: Role, mut bytes: &[u8]) -> usize {
    let mut n = 0;
    while let Ok(Status::Complete((h, used))) = FrameHeader::decode(bytes) {
        assert_eq!(
            h.masking_key.is_some(),
            role == Role::Client,
            "masking of our frames"
        );
        n += usize::from(h.opcode == OpCode::Close);
        bytes = &bytes[used + h.payload_len as usize..];
    }
    assert!(bytes.is_empty() || FrameHeader::decode(bytes).is_ok());
    n
}

struct Run {
    role: Role,
    now: std::time::Duration,
    conn: Connection,
    written: Vec<u8>,
    closed_events: usize,
    events_after_closed: usize,
}

impl Run {
    fn take(&mut self, event: Option<Event>) -> bool {
        match event {
            Some(Event::Closed(_)) => {
                self.closed_events += 1;
                true
            }
            Some(_) => {
                self.events_after_closed += usize::from(self.closed_events > 0);
                true
            }
            None => false,
        }
    }

    fn apply(&mut self, op: &Op) -> Option<Result<(), SendError>> {
        match op {
            Op::Receive(frames, cut) => {
                let bytes: Vec<u8> = frames.iter().flat_map(|f| wire(self.role, f)).collect();
                let cut = cut.map_or(bytes.len(), |c| c.min(bytes.len()));
                self.conn.receive(&bytes[..cut]);
                self.conn.receive(&bytes[cut..]);
                None
            }
            Op::SendText => Some(self.conn.send_text("hi")),
            Op::SendPing => Some(self.conn.send_ping(b"")),
            Op::Close(code) => Some(self.conn.close(CloseCode(*code), "bye")),
            Op::Fail(code) => Some(self.conn.fail(CloseCode(*code), "")),
            Op::Eof => {
                self.conn.receive_eof();
                None
            }
            Op::PollOne => {
                let event = self.conn.poll_event();
                self.take(event);
                None
            }
            Op::PollAll => {
                while let Some(event) = self.conn.poll_event() {
                    self.take(Some(event));
                }
                None
            }
            Op::Advance(secs) => {
                self.now += std::time::Duration::from_secs(u64::from(*secs));
                // A driver's timer: the time whenever the connection asked for it by now.
                for _ in 0..4 {
                    match self.conn.poll_timeout() {
                        Some(at) if at <= self.now => self.conn.handle_timeout(self.now),
                        _ => break,
                    }
                }
                None
            }
            Op::Flush => {
                while !self.conn.pending_output().is_empty() {
                    let chunk = self.conn.pending_output().to_vec();
                    self.written.extend_from_slice(&chunk);
                    self.conn.consume_output(chunk.len());
                }
                None
            }
        }
    }

    /// Everything written so far, plus what is still queued.
    fn wire(&self) -> Vec<u8> {
        let mut all = self.written.clone();
        let mut queued = Vec::new();
        let mut slices = [std::io::IoSlice::new(&[]); 64];
        let n = self.conn.pending_output_vectored(&mut slices);
        for s in &slices[..n] {
            queued.extend_from_slice(s);
        }
        all.extend(queued);
        all
    }
}

fn check(role: Role, ops: &[Op]) {
    // Every timer on, short, so random runs reach them.
    let mut config = Config::default();
    config.keepalive_interval = Some(std::time::Duration::from_secs(4));
    config.pong_timeout = Some(std::time::Duration::from_secs(3));
    config.idle_timeout = Some(std::time::Duration::from_secs(20));
    config.close_timeout = Some(std::time::Duration::from_secs(5));
    let conn = match role {
        Role::Server => Connection::server(Negotiated::new(), config),
        Role::Client => {
            Connection::client_with_mask_source(Negotiated::new(), config, FixedMask([9, 9, 9, 9]))
        }
    };
    let mut run = Run {
        role,
        now: std::time::Duration::ZERO,
        conn,
        written: Vec::new(),
        closed_events: 0,
        events_after_closed: 0,
    };
    for op in ops {
        let before = run.conn.lifecycle_state();
        let result = run.apply(op);
        let after = run.conn.lifecycle_state();
        assert!(
            allowed(before, op).contains(&after),
            "{role:?}: {before:?} --{op:?}--> {after:?} is not in the table"
        );
        // The application's requests: refused exactly where the table refuses them.
        match (op, result) {
            (Op::Close(_), Some(r)) => match before {
                S::Closed { .. } => assert_eq!(r, Err(SendError::Closed)),
                s if sent(s) => assert_eq!(r, Err(SendError::CloseSent)),
                _ if CloseCode(match op {
                    Op::Close(c) => *c,
                    _ => unreachable!(),
                })
                .is_sendable() =>
                {
                    assert_eq!(r, Ok(()))
                }
                _ => assert_eq!(r, Err(SendError::InvalidCloseCode)),
            },
            (Op::Fail(_), Some(r)) => match before {
                S::Closed { .. } => assert_eq!(r, Err(SendError::Closed)),
                _ => assert_eq!(r, Ok(())),
            },
            (Op::SendText, Some(r)) => match before {
                S::Closed { .. } => assert_eq!(r, Err(SendError::Closed)),
                s if sent(s) => assert_eq!(r, Err(SendError::CloseSent)),
                _ => assert_eq!(r, Ok(())),
            },
            (Op::SendPing, Some(r)) => match before {
                S::Closed { .. } => assert_eq!(r, Err(SendError::Closed)),
                _ => assert_eq!(r, Ok(())),
            },
            _ => {}
        }
        // Taking every event completes what waited for it: the peer's Close is answered, a
        // violation fails the connection, input kept past the transport's end is delivered.
        if matches!(op, Op::PollAll) {
            assert!(
                !matches!(
                    after,
                    S::PeerClosed { .. } | S::Failing { .. } | S::Ending { .. }
                ),
                "{role:?}: {after:?} after taking every event"
            );
        }
        // The ready state is a view of the lifecycle.
        let ready = match after {
            S::Closed { .. } => ReadyState::Closed,
            s if sent(s) => ReadyState::Closing,
            _ => ReadyState::Open,
        };
        assert_eq!(run.conn.state(), ready, "{after:?}");
        // Our Close is on the wire exactly when the state says it was sent (a connection
        // that ended without the closing handshake may have sent none).
        let closes = close_frames(role, &run.wire());
        match after {
            S::Closed { .. } => assert!(closes <= 1, "{closes} Close frames"),
            s => assert_eq!(closes, usize::from(sent(s)), "{s:?}"),
        }
        // `Closed` is reported once, last, and only once the state is `Closed`.
        assert!(run.closed_events <= 1);
        assert_eq!(run.events_after_closed, 0);
        if run.closed_events == 1 {
            assert!(matches!(after, S::Closed { .. }), "{after:?}");
        }
        if !matches!(after, S::Closed { .. }) {
            assert_eq!(run.closed_events, 0);
        }
    }
    // Drained, a closed connection has reported its end.
    while let Some(event) = run.conn.poll_event() {
        run.take(Some(event));
    }
    if matches!(run.conn.lifecycle_state(), S::Closed { .. }) {
        assert_eq!(run.closed_events, 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_transition_is_in_the_table(
        server in any::<bool>(),
        ops in prop::collection::vec(op(), 1..24),
    ) {
        check(if server { Role::Server } else { Role::Client }, &ops);
    }
}

/// The paths the random runs must not miss, spelled out.
#[test]
fn the_table_paths_are_reachable() {
    use PeerFrame as P;
    let flood = || Op::Receive(vec![P::PingFlood(80), P::Close(Some(1000))], None);
    for role in [Role::Server, Role::Client] {
        for ops in [
            // Ending: the transport ends while kept input waits; then Drained or a Close.
            vec![flood(), Op::Eof, Op::PollAll],
            vec![
                Op::Receive(vec![P::PingFlood(80)], None),
                Op::Eof,
                Op::PollAll,
            ],
            vec![
                Op::Close(1000),
                flood(),
                Op::Eof,
                Op::Close(1000),
                Op::PollAll,
            ],
            // Failing, then closed when the events before the violation are taken.
            vec![
                Op::Receive(vec![P::Text("a".into()), P::Violation(1)], None),
                Op::PollAll,
            ],
            vec![
                Op::Receive(vec![P::Violation(4)], None),
                Op::Eof,
                Op::Close(1000),
                Op::PollAll,
            ],
            // PeerClosed, replied when taken; or closed by us first.
            vec![
                Op::Receive(vec![P::Close(None)], Some(1)),
                Op::PollAll,
                Op::Eof,
            ],
            vec![
                Op::Close(1001),
                Op::Receive(vec![P::Close(Some(1001))], None),
                Op::PollOne,
            ],
            vec![
                Op::Receive(vec![P::Close(Some(4000))], None),
                Op::Close(1000),
                Op::PollAll,
            ],
            vec![
                Op::Receive(vec![P::Fragment, P::Close(None)], None),
                Op::Fail(1011),
            ],
        ] {
            check(role, &ops);
        }
    }
}
