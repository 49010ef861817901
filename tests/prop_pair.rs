//! Property: any sequence of messages, fragmented messages and pings that one side sends
//! arrives identically at the other through the in-memory pair, in either direction and
//! whether the receiver takes whole messages or streams them; then a close completes cleanly.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use wsmachine::{Bytes, CloseCode, Config, Connection, Event, MessageKind};
use wsmachine_testkit::Pair;

#[derive(Clone, Debug)]
enum Send {
    Text(String),
    Binary(Vec<u8>),
    /// A message in fragments cut at these byte offsets (text may be cut inside a code point),
    /// with a Ping after some fragments.
    Fragmented {
        kind: MessageKind,
        bytes: Vec<u8>,
        cuts: Vec<usize>,
        pings: Vec<Option<Vec<u8>>>,
    },
    Ping(Vec<u8>),
}

fn ping() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=125)
}

fn binary() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(any::<u8>(), 0..200),
        // Past the server's zero-copy threshold (4 KiB) and the 16-bit length form.
        1 => prop::collection::vec(any::<u8>(), 4000..70_000),
    ]
}

fn send() -> impl Strategy<Value = Send> {
    prop_oneof![
        3 => ".{0,40}".prop_map(Send::Text),
        3 => binary().prop_map(Send::Binary),
        3 => (
            any::<bool>(),
            prop_oneof![".{0,40}".prop_map(String::into_bytes), binary()],
            prop::collection::vec(any::<usize>(), 0..5),
            prop::collection::vec(prop::option::weighted(0.3, ping()), 5),
        )
            .prop_map(|(text, bytes, cuts, pings)| {
                let (kind, bytes) = if text {
                    let s = String::from_utf8_lossy(&bytes).into_owned();
                    (MessageKind::Text, s.into_bytes())
                } else {
                    (MessageKind::Binary, bytes)
                };
                Send::Fragmented { kind, bytes, cuts, pings }
            }),
        2 => ping().prop_map(Send::Ping),
    ]
}

/// Sends `items` from `conn`; returns the events the receiver should report, in order.
fn send_all(conn: &mut Connection, items: &[Send]) -> Vec<Event> {
    let mut expected = Vec::new();
    for item in items {
        match item {
            Send::Text(s) => {
                conn.send_text(s.as_str()).unwrap();
                expected.push(Event::Text(s.as_str().into()));
            }
            Send::Binary(b) => {
                conn.send_binary(b.clone()).unwrap();
                expected.push(Event::Binary(Bytes::from(b.clone())));
            }
            Send::Fragmented {
                kind,
                bytes,
                cuts,
                pings,
            } => {
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
                cuts.sort_unstable();
                cuts.push(bytes.len());
                let mut start = 0;
                let mut pinged = Vec::new();
                for (i, &cut) in cuts.iter().enumerate() {
                    let fin = i == cuts.len() - 1;
                    conn.send_fragment(*kind, &bytes[start..cut], fin).unwrap();
                    if let (false, Some(Some(p))) = (fin, pings.get(i)) {
                        conn.send_ping(p).unwrap();
                        pinged.push(Event::Ping(Bytes::from(p.clone())));
                    }
                    start = cut;
                }
                // Pings between fragments arrive before the message they interrupt.
                expected.extend(pinged);
                expected.push(match kind {
                    MessageKind::Text => {
                        Event::Text(String::from_utf8(bytes.clone()).unwrap().into())
                    }
                    MessageKind::Binary => Event::Binary(Bytes::from(bytes.clone())),
                });
            }
            Send::Ping(p) => {
                conn.send_ping(p).unwrap();
                expected.push(Event::Ping(Bytes::from(p.clone())));
            }
        }
    }
    expected
}

/// Joins streamed chunks into whole-message events.
fn join_chunks(events: Vec<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    for event in events {
        let (kind, data, fin) = match event {
            Event::TextChunk { text, fin } => (MessageKind::Text, text.as_bytes().to_vec(), fin),
            Event::BinaryChunk { data, fin } => (MessageKind::Binary, data.to_vec(), fin),
            other => {
                out.push(other);
                continue;
            }
        };
        let (open_kind, bytes) = open.get_or_insert_with(|| (kind, Vec::new()));
        assert_eq!(*open_kind, kind);
        bytes.extend(data);
        if fin {
            let (kind, bytes) = open.take().unwrap();
            out.push(match kind {
                MessageKind::Text => Event::Text(String::from_utf8(bytes).unwrap().into()),
                MessageKind::Binary => Event::Binary(Bytes::from(bytes)),
            });
        }
    }
    assert!(open.is_none(), "a streamed message never finished");
    out
}

/// Sends `items` one way through `pair`, then closes from the sender: the receiver reports
/// exactly what was sent, and both end cleanly with the sender's code.
fn check_delivery(mut pair: Pair, from_client: bool, items: &[Send]) -> Result<(), TestCaseError> {
    let expected = if from_client {
        send_all(&mut pair.client, items)
    } else {
        send_all(&mut pair.server, items)
    };
    pair.drive();
    let got = if from_client {
        pair.take_server_events()
    } else {
        pair.take_client_events()
    };
    // The receiver never pinged, so it sees exactly what was sent.
    prop_assert_eq!(join_chunks(got), expected);

    let sender = if from_client {
        &mut pair.client
    } else {
        &mut pair.server
    };
    sender.close(CloseCode(4000), "done").unwrap();
    pair.drive();
    for events in [pair.take_client_events(), pair.take_server_events()] {
        let Some(Event::Closed(outcome)) = events.last() else {
            panic!("no outcome: {events:?}")
        };
        prop_assert!(outcome.clean);
        prop_assert_eq!(outcome.code, CloseCode(4000));
    }
    Ok(())
}

/// Configs for the sender and the receiver; the receiver maybe streaming.
fn configs(from_client: bool, streaming: bool) -> (Config, Config) {
    let mut receiving = Config::default();
    receiving.streaming = streaming;
    if from_client {
        (Config::default(), receiving)
    } else {
        (receiving, Config::default())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn what_one_side_sends_arrives_identically(
        from_client in any::<bool>(),
        streaming in any::<bool>(),
        items in prop::collection::vec(send(), 0..10),
    ) {
        let (client, server) = configs(from_client, streaming);
        check_delivery(Pair::with_config(client, server), from_client, &items)?;
    }
}

/// The same with permessage-deflate agreed (any parameters, level and threshold).
#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use wsmachine::extensions::DeflateParams;

    fn params() -> impl Strategy<Value = DeflateParams> {
        (
            any::<bool>(),
            any::<bool>(),
            prop::option::of(8u8..=15),
            prop::option::of(8u8..=15),
        )
            .prop_map(|(snct, cnct, sbits, cbits)| {
                let mut p = DeflateParams::new();
                p.server_no_context_takeover = snct;
                p.client_no_context_takeover = cnct;
                p.server_max_window_bits = sbits;
                p.client_max_window_bits = cbits;
                p
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn what_one_side_sends_arrives_identically_compressed(
            from_client in any::<bool>(),
            streaming in any::<bool>(),
            params in params(),
            level in 0u8..=9,
            threshold in prop_oneof![Just(0usize), 0usize..300],
            items in prop::collection::vec(send(), 0..10),
        ) {
            let (mut client, mut server) = configs(from_client, streaming);
            for c in [&mut client, &mut server] {
                c.deflate.level = level;
                c.deflate.threshold = threshold;
            }
            check_delivery(Pair::with_deflate(params, client, server), from_client, &items)?;
        }
    }
}
