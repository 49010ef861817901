//! Borrowed events (`poll_event_ref`): the same events, in the same order, with the same
//! effects (automatic Pongs, failures, the closing handshake) as `poll_event`, whichever of
//! the two takes each event and however the input is split.

use proptest::prelude::*;
use wsmachine::{Config, Connection, Event, EventRef, Role};
use wsmachine_testkit::{connection, frame, output, peer_key};

/// One frame from the peer, as the generator sees it.
#[derive(Clone, Debug)]
enum Item {
    /// A whole text message (valid UTF-8 unless `corrupt`).
    Text {
        text: String,
        corrupt: bool,
    },
    /// A whole binary message.
    Binary(Vec<u8>),
    /// A text message in two fragments with a Ping between them.
    Fragmented(String, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The peer's Close (code 1000).
    Close,
    /// A frame with an RSV bit no extension claims: a protocol error.
    Reserved,
}

fn item() -> impl Strategy<Value = Item> {
    let short = prop::collection::vec(any::<u8>(), 0..=125);
    prop_oneof![
        8 => (".{0,40}", prop::bool::weighted(0.03))
            .prop_map(|(text, corrupt)| Item::Text { text, corrupt }),
        4 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Item::Binary),
        1 => (".{0,20}", short.clone()).prop_map(|(t, p)| Item::Fragmented(t, p)),
        3 => short.clone().prop_map(Item::Ping),
        2 => short.prop_map(Item::Pong),
    ]
}

/// How the peer's stream ends: nothing more, its Close, or a protocol error.
fn ending() -> impl Strategy<Value = Option<Item>> {
    prop_oneof![
        Just(None),
        Just(Some(Item::Close)),
        Just(Some(Item::Reserved))
    ]
}

/// The wire bytes a peer of `receiver` sends for `items`.
fn wire(receiver: Role, items: &[Item]) -> Vec<u8> {
    let key = peer_key(receiver);
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Text { text, corrupt } => {
                let mut bytes = text.clone().into_bytes();
                if *corrupt {
                    bytes.push(0xff);
                }
                out.extend(frame(true, 0, 0x1, key, &bytes));
            }
            Item::Binary(data) => out.extend(frame(true, 0, 0x2, key, data)),
            Item::Fragmented(text, ping) => {
                let (a, b) = text.as_bytes().split_at(text.len() / 2);
                out.extend(frame(false, 0, 0x1, key, a));
                out.extend(frame(true, 0, 0x9, key, ping));
                out.extend(frame(true, 0, 0x0, key, b));
            }
            Item::Ping(data) => out.extend(frame(true, 0, 0x9, key, data)),
            Item::Pong(data) => out.extend(frame(true, 0, 0xa, key, data)),
            Item::Close => out.extend(frame(true, 0, 0x8, key, &1000u16.to_be_bytes())),
            Item::Reserved => out.extend(frame(true, 0b100, 0x2, key, b"x")),
        }
    }
    out
}

/// Feeds `input` in reads cut at `reads` (sizes, cycled), taking every event after each read
/// (and after the end of stream) the way `borrowed` says (cycled: `true` takes it with
/// `poll_event_ref`), and writing the output out; with `early_eof`, the end of stream comes
/// before the events of the last read are taken. Returns the events and the output.
fn run(
    role: Role,
    config: &Config,
    input: &[u8],
    reads: &[usize],
    borrowed: &[bool],
    early_eof: bool,
) -> (Vec<Event>, Vec<u8>) {
    let mut conn = connection(role, config.clone());
    let mut events = Vec::new();
    let mut wrote = Vec::new();
    let mut turn = 0;
    let mut take = |conn: &mut Connection, events: &mut Vec<Event>| loop {
        let lend = borrowed[turn % borrowed.len()];
        turn += 1;
        let event = if lend {
            conn.poll_event_ref().map(|e| e.to_event())
        } else {
            conn.poll_event()
        };
        match event {
            Some(event) => events.push(event),
            None => break,
        }
    };
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = reads[i % reads.len()].clamp(1, rest.len());
        i += 1;
        conn.receive(&rest[..n]);
        rest = &rest[n..];
        if early_eof && rest.is_empty() {
            conn.receive_eof();
        }
        take(&mut conn, &mut events);
        wrote.extend(output(&mut conn));
    }
    conn.receive_eof();
    take(&mut conn, &mut events);
    wrote.extend(output(&mut conn));
    (events, wrote)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn borrowed_and_owned_events_agree(
        items in prop::collection::vec(item(), 0..200),
        end in ending(),
        reads in prop::collection::vec(prop_oneof![1usize..64, 1usize..100_000], 1..4),
        borrowed in prop::collection::vec(any::<bool>(), 1..5),
        server in any::<bool>(),
        streaming in any::<bool>(),
        early_eof in any::<bool>(),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let mut config = Config::default();
        config.streaming = streaming;
        let mut input = wire(role, &items);
        input.extend(wire(role, end.as_slice()));
        let owned = run(role, &config, &input, &reads, &[false], early_eof);
        let mixed = run(role, &config, &input, &reads, &borrowed, early_eof);
        let lent = run(role, &config, &input, &reads, &[true], early_eof);
        prop_assert_eq!(&owned, &mixed);
        prop_assert_eq!(&owned, &lent);
    }
}

/// Many short messages in one read: past the first events of the read, they are lent from the
/// input (no `Bytes` made), each the right message, and the Pings answered one for one up to
/// the limit on unwritten Pongs.
#[test]
fn many_short_messages_in_one_read() {
    let key = peer_key(Role::Server);
    let mut input = Vec::new();
    for i in 0..1000u32 {
        input.extend(frame(true, 0, 0x1, key, format!("text {i}").as_bytes()));
        input.extend(frame(true, 0, 0x2, key, &i.to_be_bytes()));
        input.extend(frame(true, 0, 0x9, key, &i.to_be_bytes()));
    }
    let mut conn = connection(Role::Server, Config::default());
    conn.receive(&input);
    for i in 0..1000u32 {
        assert_eq!(
            conn.poll_event_ref(),
            Some(EventRef::Text(&format!("text {i}")))
        );
        assert_eq!(
            conn.poll_event_ref(),
            Some(EventRef::Binary(&i.to_be_bytes()[..]))
        );
        assert_eq!(
            conn.poll_event_ref(),
            Some(EventRef::Ping(&i.to_be_bytes()[..]))
        );
    }
    assert_eq!(conn.poll_event_ref(), None);
    // At most 16 Pongs wait unwritten (RFC 6455 §5.5.3): the first 15, then the newest, which
    // replaced the others.
    let mut pongs: Vec<u8> = (0..15u32)
        .flat_map(|i| frame(true, 0, 0xa, None, &i.to_be_bytes()))
        .collect();
    pongs.extend(frame(true, 0, 0xa, None, &999u32.to_be_bytes()));
    assert_eq!(output(&mut conn), pongs);
}

/// Invalid UTF-8 in a short text message lent from the input fails the connection with 1007,
/// after the messages before it.
#[test]
fn invalid_text_fails_after_the_messages_before_it() {
    let key = peer_key(Role::Server);
    let mut input = Vec::new();
    for _ in 0..100 {
        input.extend(frame(true, 0, 0x1, key, b"ok"));
    }
    input.extend(frame(true, 0, 0x1, key, b"\xc3"));
    input.extend(frame(true, 0, 0x1, key, b"never"));
    let mut conn = connection(Role::Server, Config::default());
    conn.receive(&input);
    for _ in 0..100 {
        assert_eq!(conn.poll_event_ref(), Some(EventRef::Text("ok")));
    }
    match conn.poll_event_ref() {
        Some(EventRef::Closed(outcome)) => assert_eq!(outcome.code.0, 1007),
        other => panic!("expected the failure, got {other:?}"),
    }
    assert_eq!(conn.poll_event_ref(), None);
}

/// The end of stream while short messages wait in the input: they are lent, then the outcome
/// (1006) follows.
#[test]
fn end_of_stream_after_the_lent_messages() {
    let key = peer_key(Role::Server);
    let input = frame(true, 0, 0x1, key, b"hi").repeat(200);
    let mut conn = connection(Role::Server, Config::default());
    conn.receive(&input);
    conn.receive_eof();
    for _ in 0..200 {
        assert_eq!(conn.poll_event_ref(), Some(EventRef::Text("hi")));
    }
    match conn.poll_event_ref() {
        Some(EventRef::Closed(outcome)) => assert_eq!(outcome.code.0, 1006),
        other => panic!("expected the outcome, got {other:?}"),
    }
    assert_eq!(conn.poll_event_ref(), None);
}

/// An event lent from an owned one keeps its content until the next call.
#[test]
fn to_event_copies_what_was_lent() {
    let key = peer_key(Role::Server);
    let mut conn = connection(Role::Server, Config::default());
    conn.receive(&frame(true, 0, 0x2, key, &[7; 300]));
    let event = conn.poll_event_ref().expect("a message").to_event();
    assert_eq!(event, Event::Binary(vec![7; 300].into()));
    assert_eq!(conn.poll_event_ref(), None);
}
