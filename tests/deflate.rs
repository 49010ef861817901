//! permessage-deflate in the connection (RFC 7692 §6, §7.2): the RFC's byte-exact examples,
//! round trips through the in-memory pair, the RSV1 rules, limits on inflated size, streaming.
#![cfg(feature = "deflate")]

use wsmachine::extensions::DeflateParams;
use wsmachine::frame::{FrameHeader, OpCode, RSV1};
use wsmachine::{Config, Event, MessageKind, ProtocolError, Role, Text};
use wsmachine_testkit::deflate::connection;
use wsmachine_testkit::{
    Feed, KEY, Pair, assert_failed, events, frame, frames, output, pattern, peek_output,
};

/// Params from a compact description: `s`/`c` no context takeover, `S<n>`/`C<n>` window bits.
fn params(spec: &str) -> DeflateParams {
    let mut p = DeflateParams::new();
    for word in spec.split_whitespace() {
        match word.split_at(1) {
            ("s", "") => p.server_no_context_takeover = true,
            ("c", "") => p.client_no_context_takeover = true,
            ("S", n) => p.server_max_window_bits = Some(n.parse().unwrap()),
            ("C", n) => p.client_max_window_bits = Some(n.parse().unwrap()),
            _ => panic!("bad spec {word}"),
        }
    }
    p
}

/// A config that compresses every message (threshold 0), each on its own (the default).
fn eager() -> Config {
    let mut c = Config::default();
    c.deflate.threshold = 0;
    c
}

/// [`eager`], keeping the compressor's context between messages where the peer allows it.
fn takeover() -> Config {
    let mut c = eager();
    c.deflate.context_takeover = true;
    c
}

fn text(s: &str) -> Event {
    Event::Text(Text::from(s))
}

// RFC 7692 §7.2.3 payloads of "Hello".
const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
const HELLO_AGAIN: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];
const HELLO_STORED: &[u8] = &[
    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
];
const HELLO_BFINAL: &[u8] = &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
const HELLO_TWO_BLOCKS: &[u8] = &[
    0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
];

#[test]
fn rfc7692_examples_are_read_in_both_roles_and_any_split() {
    // (the frames of one or more messages, as a server would send them)
    let cases: Vec<(Vec<Vec<u8>>, usize)> = vec![
        // §7.2.3.1: one frame, and the same payload in two fragments.
        (vec![frame(true, RSV1, OpCode::Text, None, HELLO)], 1),
        (
            vec![
                frame(false, RSV1, OpCode::Text, None, &HELLO[..3]),
                frame(true, 0, OpCode::Continuation, None, &HELLO[3..]),
            ],
            1,
        ),
        // §7.2.3.2: the second message refers to the first one's window.
        (
            vec![
                frame(true, RSV1, OpCode::Text, None, HELLO),
                frame(true, RSV1, OpCode::Text, None, HELLO_AGAIN),
            ],
            2,
        ),
        // §7.2.3.3-5: a stored block, a final block, two blocks.
        (vec![frame(true, RSV1, OpCode::Text, None, HELLO_STORED)], 1),
        (vec![frame(true, RSV1, OpCode::Text, None, HELLO_BFINAL)], 1),
        (
            vec![frame(true, RSV1, OpCode::Text, None, HELLO_TWO_BLOCKS)],
            1,
        ),
        // After a final block, the next message starts a new stream.
        (
            vec![
                frame(true, RSV1, OpCode::Text, None, HELLO_BFINAL),
                frame(true, RSV1, OpCode::Text, None, HELLO),
            ],
            2,
        ),
        // An uncompressed message between compressed ones.
        (
            vec![
                frame(true, RSV1, OpCode::Text, None, HELLO),
                frame(true, 0, OpCode::Text, None, b"Hello"),
                frame(true, RSV1, OpCode::Text, None, HELLO_AGAIN),
            ],
            3,
        ),
    ];
    for (frames_in, count) in cases {
        let expected = vec![text("Hello"); count];
        for role in [Role::Client, Role::Server] {
            // A server receives the same frames masked.
            let wire: Vec<u8> = frames_in
                .iter()
                .flat_map(|f| match role {
                    Role::Client => f.clone(),
                    Role::Server => remask(f),
                })
                .collect();
            for feed in Feed::ALL {
                let mut conn = connection(role, Some(DeflateParams::new()), Config::default());
                feed.receive(&mut conn, &wire);
                assert_eq!(events(&mut conn), expected, "{role:?} {feed:?} {wire:02x?}");
            }
        }
    }
}

/// The same frame with a masking key.
fn remask(unmasked: &[u8]) -> Vec<u8> {
    let Ok(wsmachine::Status::Complete((mut h, used))) = FrameHeader::decode(unmasked) else {
        panic!()
    };
    h.masking_key = Some(KEY);
    frame(h.fin, h.rsv, h.opcode, Some(KEY), &unmasked[used..])
}

#[test]
fn rfc7692_examples_are_sent_byte_exact() {
    let mut server = connection(Role::Server, Some(DeflateParams::new()), takeover());
    server.send_text("Hello").unwrap();
    server.send_text("Hello").unwrap();
    let mut expected = frame(true, RSV1, OpCode::Text, None, HELLO);
    expected.extend(frame(true, RSV1, OpCode::Text, None, HELLO_AGAIN));
    assert_eq!(output(&mut server), expected);

    // Without context takeover each message stands alone: when the peer asks for it, and by
    // default (our configuration's choice).
    let mut server = connection(Role::Server, Some(DeflateParams::new()), eager());
    server.send_text("Hello").unwrap();
    server.send_text("Hello").unwrap();
    let mut expected = frame(true, RSV1, OpCode::Text, None, HELLO);
    expected.extend(frame(true, RSV1, OpCode::Text, None, HELLO));
    assert_eq!(output(&mut server), expected);
    let mut server = connection(Role::Server, Some(params("s")), takeover());
    server.send_text("Hello").unwrap();
    server.send_text("Hello").unwrap();
    let one = frame(true, RSV1, OpCode::Text, None, HELLO);
    assert_eq!(output(&mut server), [one.clone(), one].concat());

    // A client masks the compressed payload; the client's own no_context_takeover applies.
    let mut client = connection(Role::Client, Some(params("c")), takeover());
    for _ in 0..2 {
        client.send_binary(&b"Hello"[..]).unwrap();
    }
    let sent = frames(&output(&mut client));
    assert_eq!(sent.len(), 2);
    for f in sent {
        assert!(f.masked);
        assert_eq!(
            (f.rsv, f.opcode, &f.payload[..]),
            (RSV1, OpCode::Binary, HELLO)
        );
    }

    // Fragments: RSV1 on the first frame only; the tail is removed from the last one only.
    let mut server = connection(Role::Server, Some(DeflateParams::new()), Config::default());
    server
        .send_fragment(MessageKind::Text, "Hel", false)
        .unwrap();
    server.send_fragment(MessageKind::Text, "lo", true).unwrap();
    let wire = output(&mut server);
    let sent = frames(&wire);
    assert_eq!(
        sent.iter()
            .map(|f| (f.rsv, f.opcode, f.fin))
            .collect::<Vec<_>>(),
        [(RSV1, OpCode::Text, false), (0, OpCode::Continuation, true)]
    );
    assert!(sent[0].payload.ends_with(&[0x00, 0x00, 0xff, 0xff]));
    let mut client = connection(Role::Client, Some(DeflateParams::new()), Config::default());
    client.receive(&wire);
    assert_eq!(events(&mut client), [text("Hello")]);
}

#[test]
fn control_frames_and_short_messages_go_uncompressed() {
    let mut server = connection(Role::Server, Some(DeflateParams::new()), Config::default());
    server
        .send_ping(b"ping ping ping ping ping ping ping ping")
        .unwrap();
    server.send_pong(b"pong").unwrap();
    // Default threshold 64: 63 bytes plain, 64 compressed.
    server.send_text("a".repeat(63)).unwrap();
    server.send_text("a".repeat(64)).unwrap();
    server.receive(&frame(
        true,
        0,
        OpCode::Ping,
        Some(KEY),
        b"auto auto auto auto",
    ));
    let _ = events(&mut server);
    server
        .close(wsmachine::CloseCode::NORMAL, "bye bye bye bye bye bye bye")
        .unwrap();
    let sent = frames(&output(&mut server));
    assert_eq!(
        sent.iter().map(|f| (f.opcode, f.rsv)).collect::<Vec<_>>(),
        [
            (OpCode::Ping, 0),
            (OpCode::Pong, 0),
            (OpCode::Text, 0),
            (OpCode::Text, RSV1),
            (OpCode::Pong, 0),
            (OpCode::Close, 0),
        ]
    );
    assert_eq!(sent[2].payload.len(), 63);
    assert!(sent[3].payload.len() < 64);

    // threshold usize::MAX: nothing is compressed, fragments included; input still is read.
    let mut config = Config::default();
    config.deflate.threshold = usize::MAX;
    let mut server = connection(Role::Server, Some(DeflateParams::new()), config);
    server.send_text("b".repeat(10_000)).unwrap();
    server
        .send_fragment(MessageKind::Binary, &[7; 1000][..], true)
        .unwrap();
    assert!(frames(&output(&mut server)).iter().all(|f| f.rsv == 0));
    server.receive(&remask(&frame(true, RSV1, OpCode::Text, None, HELLO)));
    assert_eq!(events(&mut server), [text("Hello")]);

    // Without deflate negotiated, nothing is compressed.
    let mut plain = connection(Role::Server, None, eager());
    plain.send_text("c".repeat(1000)).unwrap();
    assert_eq!(frames(&output(&mut plain))[0].rsv, 0);
}

#[test]
fn an_eight_bit_window_is_kept_by_sending_uncompressed() {
    // The server must use at most 8 bits: it sends plainly. The client's direction compresses.
    let mut pair = Pair::with_deflate(params("S8"), eager(), eager());
    let message = "eight bits ".repeat(100);
    pair.server.send_text(message.as_str()).unwrap();
    assert_eq!(frames(&peek_output(&pair.server))[0].rsv, 0);
    pair.client.send_text(message.as_str()).unwrap();
    assert_eq!(frames(&peek_output(&pair.client))[0].rsv, RSV1);
    pair.drive();
    assert_eq!(pair.take_client_events(), [text(&message)]);
    assert_eq!(pair.take_server_events(), [text(&message)]);
}

#[test]
fn round_trips_with_and_without_context_takeover_and_any_window() {
    let texts: Vec<String> = vec![
        String::new(),
        "x".into(),
        "Hello".repeat(20),
        "κόσμε 𝄞 ✓ ".repeat(1000),
        "{\"id\": 1, \"name\": \"wsmachine\", \"tags\": [\"a\", \"b\"]}".repeat(5000),
    ];
    let binaries = [vec![], pattern(7, 100_000), vec![0; 300_000]];
    for spec in [
        "",
        "s",
        "c",
        "s c",
        "S9 C9",
        "S8 C8",
        "S12 C10",
        "s c S9 C15",
    ] {
        let p = params(spec);
        for (client, server) in [
            (eager(), eager()),
            (takeover(), takeover()),
            (eager(), takeover()),
            (Config::default(), Config::default()),
        ] {
            let mut pair = Pair::with_deflate(p, client, server);
            let mut sent_compressed = 0;
            for round in 0..2 {
                for t in &texts {
                    pair.client.send_text(t.as_str()).unwrap();
                    pair.server.send_text(t.as_str()).unwrap();
                }
                for b in &binaries {
                    pair.client.send_binary(b).unwrap();
                    pair.server.send_binary(b).unwrap();
                }
                // Fragmented, compressed as a whole.
                pair.client
                    .send_fragment(MessageKind::Text, "frag", false)
                    .unwrap();
                pair.client.send_ping(b"between").unwrap();
                pair.client
                    .send_fragment(MessageKind::Text, "", false)
                    .unwrap();
                pair.client
                    .send_fragment(MessageKind::Text, "mented", true)
                    .unwrap();
                sent_compressed += frames(&peek_output(&pair.client))
                    .iter()
                    .filter(|f| f.rsv == RSV1)
                    .count();
                pair.drive();
                let mut expected: Vec<Event> = texts.iter().map(|t| text(t)).collect();
                expected.extend(binaries.iter().map(|b| Event::Binary(b.clone().into())));
                let server_events = pair.take_server_events();
                let (pings, messages): (Vec<_>, Vec<_>) = server_events
                    .into_iter()
                    .partition(|e| matches!(e, Event::Ping(_)));
                assert_eq!(pings.len(), 1, "{spec:?} round {round}");
                let mut expected_server = expected.clone();
                expected_server.push(text("fragmented"));
                assert_eq!(messages, expected_server, "{spec:?} round {round}");
                let client_events: Vec<Event> = pair
                    .take_client_events()
                    .into_iter()
                    .filter(|e| !matches!(e, Event::Pong(_)))
                    .collect();
                assert_eq!(client_events, expected, "{spec:?} round {round}");
            }
            // An 8-bit client window is kept by not compressing.
            let can = p.client_max_window_bits != Some(8);
            assert_eq!(
                sent_compressed > 0,
                can,
                "{spec:?}: {sent_compressed} compressed frames"
            );
        }
    }
}

#[test]
fn compression_shrinks_repetitive_text_and_context_takeover_shrinks_it_more() {
    let json =
        "{\"type\": \"update\", \"payload\": {\"x\": 1, \"y\": 2}, \"more\": {\"x\": 1, \"y\": 2}}";
    let size = |spec: &str| {
        let mut server = connection(Role::Server, Some(params(spec)), takeover());
        for _ in 0..100 {
            server.send_text(json).unwrap();
        }
        output(&mut server).len()
    };
    let (with, without) = (size(""), size("s"));
    let plain = 100 * (2 + json.len());
    assert!(
        with * 5 < without && without < plain,
        "{with} {without} {plain}"
    );
}

/// Compressed `data` as a raw DEFLATE message payload, by the crate's own sender.
fn compressed(data: &[u8]) -> Vec<u8> {
    let mut server = connection(Role::Server, Some(DeflateParams::new()), eager());
    server.send_binary(data).unwrap();
    frames(&output(&mut server)).remove(0).payload
}

#[test]
fn rsv1_and_corrupt_data_fail_the_connection() {
    let m = |fin, rsv, op, payload: &[u8]| frame(fin, rsv, op, Some(KEY), payload);
    let hello = compressed(b"Hello");
    let big = compressed(&vec![b'a'; 2000]);
    let mut bad_text = compressed(b"ok \xff not UTF-8 at all, and more text follows here");
    let bad_text_head = compressed(b"\xc0");
    // (agreed parameters, config, input, close code, error)
    type Case = (Option<DeflateParams>, Config, Vec<u8>, u16, ProtocolError);
    let cases: Vec<Case> = vec![
        // RSV1 means nothing without permessage-deflate.
        (
            None,
            Config::default(),
            m(true, RSV1, OpCode::Text, &hello),
            1002,
            ProtocolError::ReservedBits,
        ),
        // RSV2 and RSV3 mean nothing with it.
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, 0b010, OpCode::Text, b"x"),
            1002,
            ProtocolError::ReservedBits,
        ),
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1 | 0b001, OpCode::Text, &hello),
            1002,
            ProtocolError::ReservedBits,
        ),
        // Control frames are never compressed.
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1, OpCode::Ping, b""),
            1002,
            ProtocolError::CompressedControlFrame,
        ),
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1, OpCode::Pong, b""),
            1002,
            ProtocolError::CompressedControlFrame,
        ),
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1, OpCode::Close, &[0x03, 0xe8]),
            1002,
            ProtocolError::CompressedControlFrame,
        ),
        // RSV1 belongs on the first frame only, compressed message or not.
        (
            Some(DeflateParams::new()),
            Config::default(),
            [
                m(false, RSV1, OpCode::Text, &hello[..2]),
                m(true, RSV1, OpCode::Continuation, &hello[2..]),
            ]
            .concat(),
            1002,
            ProtocolError::CompressedContinuation,
        ),
        (
            Some(DeflateParams::new()),
            Config::default(),
            [
                m(false, 0, OpCode::Text, b"a"),
                m(true, RSV1, OpCode::Continuation, b"b"),
            ]
            .concat(),
            1002,
            ProtocolError::CompressedContinuation,
        ),
        // Not DEFLATE: a reserved block type; a stored block with a bad NLEN.
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1, OpCode::Binary, &[0xff, 0x00]),
            1007,
            ProtocolError::InvalidCompressedData,
        ),
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1, OpCode::Binary, &[0x00, 0x05, 0x00, 0x00, 0x00]),
            1007,
            ProtocolError::InvalidCompressedData,
        ),
        // Inflated text that is not UTF-8.
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1, OpCode::Text, &bad_text),
            1007,
            ProtocolError::InvalidUtf8,
        ),
        (
            Some(DeflateParams::new()),
            Config::default(),
            m(true, RSV1, OpCode::Text, &bad_text_head),
            1007,
            ProtocolError::InvalidUtf8,
        ),
        // Inflated over the message limit, though small on the wire.
        (
            Some(DeflateParams::new()),
            limit(1000),
            m(true, RSV1, OpCode::Binary, &big),
            1009,
            ProtocolError::MessageTooLarge,
        ),
        (
            Some(DeflateParams::new()),
            streaming(limit(1000)),
            m(true, RSV1, OpCode::Binary, &big),
            1009,
            ProtocolError::MessageTooLarge,
        ),
    ];
    for (deflate, config, input, code, error) in cases {
        assert_eq!(error.close_code().0, code, "{error:?}");
        for feed in Feed::ALL {
            let mut server = connection(Role::Server, deflate, config.clone());
            feed.receive(&mut server, &input);
            let got = events(&mut server);
            assert_failed(
                &mut server,
                &got,
                error,
                format_args!("{input:02x?} {feed:?}"),
            );
        }
    }
    // Fail fast: invalid UTF-8 is seen before the rest of the frame arrives.
    bad_text.extend_from_slice(&[0; 100]);
    let input = m(true, RSV1, OpCode::Text, &bad_text);
    let mut server = connection(Role::Server, Some(DeflateParams::new()), Config::default());
    server.receive(&input[..input.len() - 100]);
    let got = events(&mut server);
    assert_failed(&mut server, &got, ProtocolError::InvalidUtf8, "fail fast");
}

fn limit(n: usize) -> Config {
    let mut c = Config::default();
    c.max_message_size = n;
    c
}

fn streaming(mut c: Config) -> Config {
    c.streaming = true;
    c
}

#[test]
fn the_inflated_limit_is_exact() {
    // Compressible and incompressible (the compressed form is then longer than the limit).
    for (size, limit_bytes, ok) in [(1000, 1000, true), (1001, 1000, false), (1, 1, true)] {
        for data in [vec![b'z'; size], pattern(3, size)] {
            let payload = compressed(&data);
            let mut server =
                connection(Role::Server, Some(DeflateParams::new()), limit(limit_bytes));
            server.receive(&frame(true, RSV1, OpCode::Binary, Some(KEY), &payload));
            let got = events(&mut server);
            if ok {
                assert_eq!(got, [Event::Binary(data.into())], "{size}");
            } else {
                assert!(
                    matches!(&got[..], [Event::Closed(o)] if o.error == Some(ProtocolError::MessageTooLarge)),
                    "{size}: {got:?}"
                );
            }
        }
    }
    // On the wire a compressed message may exceed the limit by DEFLATE's worst-case expansion
    // (an eighth, plus 64 bytes) and no more.
    let garbage_that_inflates_to_nothing: Vec<u8> = [0x00, 0x00, 0x00, 0xff, 0xff].repeat(300);
    for (len, ok) in [(1189, true), (1190, false)] {
        let mut server = connection(Role::Server, Some(DeflateParams::new()), limit(1000));
        let payload = &garbage_that_inflates_to_nothing[..len];
        let mut header = frame(true, RSV1, OpCode::Binary, Some(KEY), payload);
        header.truncate(header.len() - len); // judged on the declared length
        server.receive(&header);
        let got = events(&mut server);
        assert_eq!(got.is_empty(), ok, "{len}: {got:?}");
    }
}

#[test]
fn an_empty_compressed_payload_is_an_empty_message() {
    let mut server = connection(Role::Server, Some(DeflateParams::new()), Config::default());
    server.receive(&frame(true, RSV1, OpCode::Text, Some(KEY), b""));
    server.receive(&frame(true, RSV1, OpCode::Binary, Some(KEY), &[0x00]));
    // The window is intact afterwards.
    server.receive(&frame(true, RSV1, OpCode::Text, Some(KEY), HELLO));
    assert_eq!(
        events(&mut server),
        [text(""), Event::Binary(vec![].into()), text("Hello")]
    );
}

#[test]
fn streaming_delivers_inflated_chunks_as_they_arrive() {
    let message: String = (0..200_000).map(|i| format!("{i} κόσμε ")).collect();
    let payload = compressed(message.as_bytes());
    assert!(payload.len() < message.len() / 3);
    let input = frame(true, RSV1, OpCode::Text, Some(KEY), &payload);
    let p = Some(DeflateParams::new());
    let mut config = streaming(Config::default());
    config.max_message_size = 64 << 20;

    // Fed in small pieces: chunks come out before the message is complete.
    let mut server = connection(Role::Server, p, config.clone());
    let mut got = String::new();
    let mut chunks_before_last_piece = 0;
    let pieces: Vec<&[u8]> = input.chunks(1000).collect();
    for (i, piece) in pieces.iter().enumerate() {
        server.receive(piece);
        for event in events(&mut server) {
            let Event::TextChunk { text, fin } = event else {
                panic!("{event:?}")
            };
            assert_eq!(
                fin,
                i + 1 == pieces.len() && got.len() + text.len() == message.len()
            );
            if i + 1 < pieces.len() {
                chunks_before_last_piece += 1;
            }
            got.push_str(&text);
        }
    }
    assert!(chunks_before_last_piece > 10, "{chunks_before_last_piece}");
    assert_eq!(got, message);

    // Fed at once: a bounded number of events is queued per call; the rest come as events are
    // taken, in order, each chunk at most 16 KiB.
    let mut server = connection(Role::Server, p, config);
    server.receive(&input);
    let mut got = String::new();
    let mut count = 0;
    while let Some(event) = server.poll_event() {
        let Event::TextChunk { text, fin } = event else {
            panic!("{event:?}")
        };
        assert!(text.len() <= 16 * 1024 + 3);
        got.push_str(&text);
        count += 1;
        assert_eq!(fin, got.len() == message.len());
    }
    assert!(count > 64, "{count} chunks");
    assert_eq!(got, message);
}

#[test]
fn streaming_pauses_when_the_event_queue_is_full_and_resumes_on_poll() {
    // Many messages in one read: the queue fills, parsing stops, and the rest follow in order.
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut sender = connection(Role::Client, Some(DeflateParams::new()), eager());
    for i in 0..300 {
        let m = format!("message {i} ").repeat(50);
        sender.send_text(m.as_str()).unwrap();
        expected.push(m);
    }
    wire.extend(output(&mut sender));
    let mut server = connection(
        Role::Server,
        Some(DeflateParams::new()),
        streaming(Config::default()),
    );
    server.receive(&wire);
    server.receive_eof();
    let mut got = Vec::new();
    let mut current = String::new();
    let mut closed = false;
    while let Some(event) = server.poll_event() {
        match event {
            Event::TextChunk { text, fin } => {
                current.push_str(&text);
                if fin {
                    got.push(std::mem::take(&mut current));
                }
            }
            Event::Closed(o) => {
                assert_eq!(o.code.0, 1006);
                closed = true;
            }
            e => panic!("{e:?}"),
        }
    }
    assert!(closed);
    assert_eq!(got, expected);
}

#[test]
fn compressed_messages_survive_any_split() {
    let mut sender = connection(Role::Client, Some(DeflateParams::new()), eager());
    let messages = [
        "Hello",
        "Hello",
        "κόσμε",
        "",
        "wsmachine wsmachine wsmachine",
    ];
    for m in messages {
        sender.send_text(m).unwrap();
    }
    sender
        .send_fragment(MessageKind::Binary, &b"ab"[..], false)
        .unwrap();
    sender.send_ping(b"p").unwrap();
    sender
        .send_fragment(MessageKind::Binary, &b"cd"[..], true)
        .unwrap();
    let wire = output(&mut sender);
    let mut expected: Vec<Event> = messages.iter().map(|m| text(m)).collect();
    expected.push(Event::Ping(b"p".to_vec().into()));
    expected.push(Event::Binary(b"abcd".to_vec().into()));
    for cut in 0..wire.len() {
        for cut2 in [cut, (cut + 7).min(wire.len())] {
            let mut server =
                connection(Role::Server, Some(DeflateParams::new()), Config::default());
            server.receive(&wire[..cut]);
            server.receive(&wire[cut..cut2]);
            server.receive(&wire[cut2..]);
            let mut got = events(&mut server);
            got.retain(|e| !matches!(e, Event::Pong(_)));
            assert_eq!(got, expected, "cut at {cut}, {cut2}");
        }
    }
}

#[test]
fn large_inflated_messages_are_whole_and_exact() {
    // Past the arena (64 KiB), up to several MiB, in both roles.
    for size in [65_535, 65_536, 65_537, 200_000, 3 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut pair = Pair::with_deflate(DeflateParams::new(), eager(), eager());
        pair.client.send_binary(&data).unwrap();
        pair.server.send_binary(&data).unwrap();
        pair.drive();
        assert_eq!(
            pair.take_server_events(),
            [Event::Binary(data.clone().into())]
        );
        assert_eq!(pair.take_client_events(), [Event::Binary(data.into())]);
    }
}
