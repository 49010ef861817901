//! Property: how the input is split across `receive` calls never changes what the connection
//! reports or writes, for either role, for valid streams and for streams with a corrupted
//! byte, whether events are taken after every read or only at the end.

use proptest::prelude::*;
use wsmachine::{Config, Event, MessageKind, Role};
use wsmachine_testkit::{frame, output, peer_key};

/// One frame from the peer: fin, opcode, payload.
type Frame = (bool, u8, Vec<u8>);

/// A message and the control frames sent between its fragments.
#[derive(Clone, Debug)]
enum Item {
    Message {
        text: bool,
        bytes: Vec<u8>,
        cuts: Vec<usize>,
        pings: Vec<Option<Vec<u8>>>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn control_payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=125)
}

fn item() -> impl Strategy<Value = Item> {
    let message = (
        any::<bool>(),
        prop_oneof![
            ".{0,40}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..300),
        ],
        prop::collection::vec(any::<usize>(), 0..4),
        prop::collection::vec(prop::option::weighted(0.3, control_payload()), 4),
    )
        .prop_map(|(text, bytes, cuts, pings)| {
            // Text needs UTF-8 bytes: a binary payload becomes its lossy string.
            let bytes = if text {
                String::from_utf8_lossy(&bytes).into_owned().into_bytes()
            } else {
                bytes
            };
            Item::Message {
                text,
                bytes,
                cuts,
                pings,
            }
        });
    prop_oneof![
        6 => message,
        2 => control_payload().prop_map(Item::Ping),
        1 => control_payload().prop_map(Item::Pong),
    ]
}

/// The frames for a list of items (fragments cut at any byte, code points included).
fn frames_of(items: &[Item]) -> Vec<Frame> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Message {
                text,
                bytes,
                cuts,
                pings,
            } => {
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
                cuts.sort_unstable();
                cuts.push(bytes.len());
                let mut start = 0;
                for (i, &cut) in cuts.iter().enumerate() {
                    let fin = i == cuts.len() - 1;
                    let opcode = match (i, text) {
                        (0, true) => 1,
                        (0, false) => 2,
                        _ => 0,
                    };
                    out.push((fin, opcode, bytes[start..cut].to_vec()));
                    if !fin {
                        if let Some(Some(p)) = pings.get(i) {
                            out.push((true, 9, p.clone()));
                        }
                    }
                    start = cut;
                }
            }
            Item::Ping(p) => out.push((true, 9, p.clone())),
            Item::Pong(p) => out.push((true, 10, p.clone())),
        }
    }
    out
}

/// A whole stream from the peer of `role`: frames, maybe a Close, maybe a corrupted byte.
#[derive(Clone, Debug)]
struct Stream {
    role: Role,
    streaming: bool,
    auto_pong: bool,
    bytes: Vec<u8>,
    cuts: Vec<usize>,
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        prop_oneof![Just(Role::Server), Just(Role::Client)],
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(item(), 0..8),
        prop::option::of((1000u16..=1003, ".{0,20}")),
        prop::option::weighted(0.3, (any::<usize>(), 1..=255u8)),
        prop::collection::vec(any::<usize>(), 0..24),
    )
        .prop_map(
            |(role, streaming, auto_pong, items, close, corrupt, cuts)| {
                let key = peer_key(role);
                let mut bytes = Vec::new();
                for (fin, opcode, payload) in frames_of(&items) {
                    bytes.extend(frame(fin, 0, opcode, key, &payload));
                }
                if let Some((code, reason)) = close {
                    let mut payload = code.to_be_bytes().to_vec();
                    payload.extend_from_slice(reason.as_bytes());
                    payload.truncate(125);
                    bytes.extend(frame(true, 0, 8, key, &payload));
                    // Anything after the Close is ignored.
                    bytes.extend(frame(true, 0, 2, key, b"late"));
                }
                if let Some((at, xor)) = corrupt {
                    if !bytes.is_empty() {
                        let at = at % bytes.len();
                        bytes[at] ^= xor;
                    }
                }
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
                cuts.sort_unstable();
                Stream {
                    role,
                    streaming,
                    auto_pong,
                    bytes,
                    cuts,
                }
            },
        )
}

/// What a run reports, with streaming chunks joined into messages: how data is cut into chunks
/// depends on the reads by design, but the messages and every other event do not. A message
/// cut short by the end of the connection is left out for the same reason.
#[derive(Debug, PartialEq)]
enum Seen {
    Message(MessageKind, Vec<u8>),
    Other(Event),
}

fn normalize(events: Vec<Event>) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut chunks: Option<(MessageKind, Vec<u8>)> = None;
    for event in events {
        let (kind, data, fin) = match event {
            Event::Text(t) => {
                out.push(Seen::Message(MessageKind::Text, t.as_bytes().to_vec()));
                continue;
            }
            Event::Binary(b) => {
                out.push(Seen::Message(MessageKind::Binary, b.to_vec()));
                continue;
            }
            Event::TextChunk { text, fin } => (MessageKind::Text, text.as_bytes().to_vec(), fin),
            Event::BinaryChunk { data, fin } => (MessageKind::Binary, data.to_vec(), fin),
            other => {
                out.push(Seen::Other(other));
                continue;
            }
        };
        let open = chunks.get_or_insert_with(|| (kind, Vec::new()));
        assert_eq!(open.0, kind, "chunks of two kinds in one message");
        open.1.extend(data);
        if fin {
            let (kind, bytes) = chunks.take().expect("just set");
            out.push(Seen::Message(kind, bytes));
        }
    }
    out
}

/// Feeds the stream cut at `cuts`, taking events after every read or only at the end, then
/// the end of stream. Returns the events and every byte written.
fn run(s: &Stream, cuts: &[usize], poll_each: bool) -> (Vec<Seen>, Vec<u8>) {
    let mut config = Config::default();
    config.streaming = s.streaming;
    config.auto_pong = s.auto_pong;
    let mut conn = wsmachine_testkit::connection(s.role, config);
    let mut events = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&s.bytes.len())) {
        conn.receive(&s.bytes[start..cut]);
        start = cut;
        if poll_each {
            events.extend(wsmachine_testkit::events(&mut conn));
        }
    }
    conn.receive_eof();
    events.extend(wsmachine_testkit::events(&mut conn));
    assert!(
        matches!(events.last(), Some(Event::Closed(_))),
        "no outcome at the end: {events:?}"
    );
    (normalize(events), output(&mut conn))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn splitting_the_input_never_changes_events_or_output(s in stream()) {
        let whole = run(&s, &[], false);
        let split = run(&s, &s.cuts, true);
        prop_assert_eq!(&whole, &split);
        let split_polled_at_end = run(&s, &s.cuts, false);
        prop_assert_eq!(&whole, &split_polled_at_end);
    }

    #[test]
    fn one_byte_at_a_time_is_the_same_as_whole(mut s in stream()) {
        // Keep it quick: a stream cut short still has to give the same result either way.
        s.bytes.truncate(600);
        let whole = run(&s, &[], false);
        let every: Vec<usize> = (1..s.bytes.len()).collect();
        prop_assert_eq!(whole, run(&s, &every, true));
    }
}
