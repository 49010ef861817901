//! Scenarios through the in-memory pair: closing from either side, simultaneous close,
//! failures, EOF, many messages, streaming.

use wsmachine::frame::OpCode;
use wsmachine::{
    Bytes, CloseCode, Config, Connection, Event, FixedMask, Initiator, MessageKind, Negotiated,
    ProtocolError, ReadyState,
};
use wsmachine_testkit::{KEY, Pair, events, frame, frames, output};

fn outcome(events: &[Event]) -> &wsmachine::CloseOutcome {
    match events.last() {
        Some(Event::Closed(o)) => o,
        other => panic!("no outcome at the end: {other:?} in {events:?}"),
    }
}

#[test]
fn messages_flow_both_ways() {
    let mut pair = Pair::connected();
    pair.client.send_text("hello").unwrap();
    pair.client.send_binary(&[1u8, 2, 3][..]).unwrap();
    pair.server.send_text("κόσμε").unwrap();
    pair.drive();
    assert_eq!(
        pair.take_server_events(),
        [
            Event::Text("hello".into()),
            Event::Binary(Bytes::from_static(&[1, 2, 3]))
        ]
    );
    assert_eq!(pair.take_client_events(), [Event::Text("κόσμε".into())]);
}

#[test]
fn client_initiated_close() {
    let mut pair = Pair::connected();
    pair.client.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(pair.client.state(), ReadyState::Closing);
    pair.drive();
    let s = pair.take_server_events();
    let c = pair.take_client_events();
    let (so, co) = (outcome(&s), outcome(&c));
    assert!(so.clean && co.clean);
    assert_eq!(
        (so.code, so.reason.as_str(), so.initiator),
        (CloseCode::NORMAL, "bye", Initiator::Remote)
    );
    assert_eq!(
        (co.code, co.initiator),
        (CloseCode::NORMAL, Initiator::Local)
    );
    assert_eq!(pair.client.state(), ReadyState::Closed);
    assert_eq!(pair.server.state(), ReadyState::Closed);
    // The server closed the transport first; the client saw EOF after the clean close.
    assert!(pair.transport_closed());
    assert!(pair.client.wants_transport_close());
}

#[test]
fn server_initiated_close() {
    let mut pair = Pair::connected();
    pair.server.close(CloseCode(4000), "app").unwrap();
    pair.drive();
    let s = pair.take_server_events();
    let c = pair.take_client_events();
    assert_eq!(
        (outcome(&c).code, outcome(&c).initiator),
        (CloseCode(4000), Initiator::Remote)
    );
    assert_eq!(
        (outcome(&s).code, outcome(&s).initiator),
        (CloseCode(4000), Initiator::Local)
    );
    assert!(outcome(&s).clean && outcome(&c).clean);
}

#[test]
fn simultaneous_close() {
    let mut pair = Pair::connected();
    pair.client.close(CloseCode::NORMAL, "c").unwrap();
    pair.server.close(CloseCode::GOING_AWAY, "s").unwrap();
    pair.drive();
    let s = pair.take_server_events();
    let c = pair.take_client_events();
    // Each side sees the other's Close, both are clean, neither echoes a second Close.
    assert_eq!(outcome(&s).code, CloseCode::NORMAL);
    assert_eq!(outcome(&c).code, CloseCode::GOING_AWAY);
    assert!(outcome(&s).clean && outcome(&c).clean);
    assert_eq!(outcome(&s).initiator, Initiator::Local);
    assert_eq!(outcome(&c).initiator, Initiator::Local);
}

#[test]
fn messages_sent_before_close_are_delivered_and_nothing_after() {
    let mut pair = Pair::connected();
    for i in 0..10 {
        pair.server.send_text(format!("m{i}")).unwrap();
    }
    pair.server.close(CloseCode::NORMAL, "").unwrap();
    pair.drive();
    let c = pair.take_client_events();
    assert_eq!(c.len(), 12);
    for (i, e) in c[..10].iter().enumerate() {
        assert_eq!(e, &Event::Text(format!("m{i}").into()));
    }
    assert!(matches!(c[10], Event::Close(_)));
}

#[test]
fn failure_on_one_side_reaches_the_other_as_a_close_with_that_code() {
    let mut pair = Pair::connected();
    // A server that (wrongly) masks: inject a masked frame into the client by hand.
    pair.client
        .receive(&frame(true, 0, 0x1, Some([1, 2, 3, 4]), b"x"));
    pair.drive();
    let c = pair.take_client_events();
    let s = pair.take_server_events();
    assert_eq!(outcome(&c).error, Some(ProtocolError::MaskedFrame));
    assert_eq!(outcome(&s).code, CloseCode::PROTOCOL_ERROR);
    assert_eq!(
        outcome(&s).reason.as_str(),
        ProtocolError::MaskedFrame.description()
    );
}

#[test]
fn application_fail_closes_at_once() {
    let mut pair = Pair::connected();
    pair.server
        .fail(CloseCode::POLICY_VIOLATION, "go away")
        .unwrap();
    let s = events(&mut pair.server);
    assert!(
        matches!(&s[..], [Event::Closed(o)] if !o.clean && o.code == CloseCode::POLICY_VIOLATION && o.error.is_none())
    );
    pair.drive();
    let c = pair.take_client_events();
    assert_eq!(
        (outcome(&c).code, outcome(&c).reason.as_str()),
        (CloseCode::POLICY_VIOLATION, "go away")
    );
}

#[test]
fn eof_without_close_on_either_side() {
    let mut pair = Pair::connected();
    pair.client.send_text("last words").unwrap();
    pair.drive();
    pair.server.receive_eof();
    pair.drive();
    let s = pair.take_server_events();
    assert_eq!(s[0], Event::Text("last words".into()));
    assert_eq!(
        (outcome(&s).code, outcome(&s).clean),
        (CloseCode::ABNORMAL, false)
    );
}

#[test]
fn many_small_messages_in_one_read_are_bounded_and_complete() {
    // 10,000 frames in one receive: events come out in order, the queue stays bounded.
    let mut input = Vec::new();
    for i in 0..10_000u32 {
        input.extend(frame(true, 0, 0x2, Some(KEY), &i.to_be_bytes()));
    }
    input.extend(frame(true, 0, 0x8, Some(KEY), b"\x03\xe8"));
    let mut s = Connection::server(Negotiated::default(), Config::default());
    s.receive(&input);
    let got = events(&mut s);
    assert_eq!(got.len(), 10_002);
    for (i, e) in got[..10_000].iter().enumerate() {
        assert_eq!(
            e,
            &Event::Binary(Bytes::copy_from_slice(&(i as u32).to_be_bytes()))
        );
    }
    assert!(matches!(got[10_001], Event::Closed(ref o) if o.clean));
    // Pending input and EOF: the queued input is still delivered before the 1006 outcome.
    let mut s = Connection::server(Negotiated::default(), Config::default());
    s.receive(&input[..input.len() - 8]);
    s.receive_eof();
    let got = events(&mut s);
    assert_eq!(got.len(), 10_001);
    assert_eq!(outcome(&got).code, CloseCode::ABNORMAL);
}

#[test]
fn fragmented_sending_with_interleaved_control_frames() {
    let mut pair = Pair::connected();
    pair.client
        .send_fragment(MessageKind::Binary, &b"ab"[..], false)
        .unwrap();
    pair.client.send_ping(b"mid").unwrap();
    pair.client
        .send_fragment(MessageKind::Binary, &b""[..], false)
        .unwrap();
    pair.client
        .send_fragment(MessageKind::Binary, &b"cd"[..], true)
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.take_server_events(),
        [
            Event::Ping(Bytes::from_static(b"mid")),
            Event::Binary(Bytes::from_static(b"abcd"))
        ]
    );
    assert_eq!(
        pair.take_client_events(),
        [Event::Pong(Bytes::from_static(b"mid"))]
    );
}

#[cfg(feature = "std")]
#[test]
fn large_shared_payloads_are_queued_without_copying_and_written_vectored() {
    let big = Bytes::from(vec![7u8; 100_000]);
    let mut s = Connection::server(Negotiated::default(), Config::default());
    s.send_text("head").unwrap();
    s.send_binary(big.clone()).unwrap();
    s.send_text("tail").unwrap();
    // The first piece is the small frames queued before the big payload's header... the big
    // payload itself is the same allocation we passed in.
    let mut slices = [std::io::IoSlice::new(&[]); 8];
    let n = s.pending_output_vectored(&mut slices);
    assert!(n >= 3);
    assert!(
        slices[..n].iter().any(|s| s.as_ptr() == big.as_ptr()),
        "payload was copied"
    );
    let total: usize = slices[..n].iter().map(|s| s.len()).sum();
    assert_eq!(total, s.buffered_amount());
    let mut wire = Vec::new();
    for sl in &slices[..n] {
        wire.extend_from_slice(sl);
    }
    s.consume_output(total);
    assert_eq!(s.buffered_amount(), 0);
    let f = frames(&wire);
    assert_eq!(f.len(), 3);
    assert_eq!(f[1].payload.len(), 100_000);
    // Consuming in odd steps across pieces gives the same bytes.
    let mut s = Connection::server(Negotiated::default(), Config::default());
    s.send_text("head").unwrap();
    s.send_binary(big).unwrap();
    s.send_text("tail").unwrap();
    let mut stepped = Vec::new();
    while !s.pending_output().is_empty() {
        let out = s.pending_output();
        let n = out.len().min(999);
        stepped.extend_from_slice(&out[..n]);
        s.consume_output(n);
    }
    assert_eq!(stepped, wire);
}

#[test]
fn streaming_delivers_chunks_as_they_arrive_with_fin() {
    let mut config = Config::default();
    config.streaming = true;
    let mut s = Connection::server(Negotiated::default(), config);
    let text = "añ€𝄞".repeat(50);
    let mut input = frame(false, 0, 0x1, Some(KEY), &text.as_bytes()[..101]);
    input.extend(frame(true, 0, 0x0, Some(KEY), &text.as_bytes()[101..]));
    let mut chunks = Vec::new();
    for piece in input.chunks(7) {
        s.receive(piece);
        chunks.extend(events(&mut s));
    }
    let mut joined = String::new();
    let mut fins = Vec::new();
    for e in &chunks {
        let Event::TextChunk { text, fin } = e else {
            panic!("{e:?}")
        };
        joined.push_str(text);
        fins.push(*fin);
    }
    assert_eq!(joined, text);
    assert!(chunks.len() > 10, "delivered as it arrives");
    assert_eq!(fins.iter().filter(|f| **f).count(), 1);
    assert!(fins.last().unwrap());
    // Binary, and an empty final fragment still ends the message.
    let mut input = frame(false, 0, 0x2, Some(KEY), b"abc");
    input.extend(frame(true, 0, 0x0, Some(KEY), b""));
    s.receive(&input);
    assert_eq!(
        events(&mut s),
        [
            Event::BinaryChunk {
                data: Bytes::from_static(b"abc"),
                fin: false
            },
            Event::BinaryChunk {
                data: Bytes::new(),
                fin: true
            }
        ]
    );
    // UTF-8 is still checked in streaming mode, fail-fast.
    s.receive(&frame(false, 0, 0x1, Some(KEY), b"ok\xc0"));
    let got = events(&mut s);
    assert_eq!(outcome(&got).error, Some(ProtocolError::InvalidUtf8));
}

#[cfg(feature = "getrandom")]
#[test]
fn client_from_new_masks_with_fresh_os_keys() {
    // `Connection::new` gives clients the OS source when `getrandom` is on (the default).
    let mut c = Connection::client(Negotiated::default(), Config::default());
    c.send_text("x").unwrap();
    c.send_text("x").unwrap();
    let wire = output(&mut c);
    let f = frames(&wire);
    assert!(f.iter().all(|f| f.masked && f.payload == b"x"));
    // Two keys drawn from the OS differ (a 2^-32 chance of a false failure).
    assert_ne!(wire[2..6], wire[9..13]);
}

#[test]
fn client_without_mask_source_refuses_to_send() {
    #[cfg(not(feature = "getrandom"))]
    {
        let mut c = Connection::client(Negotiated::default(), Config::default());
        assert_eq!(c.send_text("x"), Err(wsmachine::SendError::NoMaskSource));
        assert!(c.pending_output().is_empty());
    }
    // With a fixed source the bytes are exact.
    let mut c = Connection::client_with_mask_source(
        Negotiated::default(),
        Config::default(),
        FixedMask(KEY),
    );
    c.send_text("Hello").unwrap();
    assert_eq!(
        output(&mut c),
        b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
    );
    let _ = OpCode::Text;
}

/// Regression (found by the interop client): messages that arrive in the same read as the
/// peer's Close can still be answered, and the answers go out before our Close reply.
#[test]
fn replies_to_messages_before_a_close_go_out_before_the_close_reply() {
    let mut input = frame(true, 0, 0x1, Some(KEY), b"one");
    input.extend(frame(true, 0, 0x1, Some(KEY), b"two"));
    input.extend(frame(true, 0, 0x8, Some(KEY), b"\x03\xe8"));
    let mut s = Connection::server(Negotiated::default(), Config::default());
    s.receive(&input);
    assert_eq!(s.state(), ReadyState::Open, "the Close is not taken yet");
    let mut got = Vec::new();
    while let Some(event) = s.poll_event() {
        if let Event::Text(text) = &event {
            s.send_text(text).unwrap();
        }
        got.push(event);
    }
    assert!(
        matches!(&got[..], [Event::Text(_), Event::Text(_), Event::Close(_), Event::Closed(o)] if o.clean)
    );
    let sent = frames(&output(&mut s));
    let summary: Vec<_> = sent.iter().map(|f| (f.opcode, f.payload.clone())).collect();
    assert_eq!(
        summary,
        [
            (OpCode::Text, b"one".to_vec()),
            (OpCode::Text, b"two".to_vec()),
            (OpCode::Close, b"\x03\xe8".to_vec())
        ]
    );
    // EOF right after the Close (before it is taken) still ends cleanly once it is taken.
    let mut s = Connection::server(Negotiated::default(), Config::default());
    s.receive(&input);
    s.receive_eof();
    let got = events(&mut s);
    assert!(
        matches!(got.last(), Some(Event::Closed(o)) if o.clean && o.code == CloseCode::NORMAL),
        "{got:?}"
    );
}

/// Regression (Autobahn 3.2, 4.1.3, 5.15): a valid message and a bad frame in one read. The
/// message is delivered and can be answered; the connection fails with 1002 after it.
#[test]
fn a_message_before_a_protocol_error_in_the_same_read_can_be_answered() {
    let mut input = frame(true, 0, 0x1, Some(KEY), b"fine");
    input.extend(frame(true, 0b010, 0x1, Some(KEY), b"rsv")); // RSV2
    let mut s = Connection::server(Negotiated::default(), Config::default());
    s.receive(&input);
    let first = s.poll_event();
    assert_eq!(first, Some(Event::Text("fine".into())));
    s.send_text("fine").unwrap();
    let rest = events(&mut s);
    assert!(
        matches!(&rest[..], [Event::Closed(o)] if o.error == Some(ProtocolError::ReservedBits)),
        "{rest:?}"
    );
    let sent = frames(&output(&mut s));
    let ops: Vec<_> = sent.iter().map(|f| f.opcode).collect();
    assert_eq!(ops, [OpCode::Text, OpCode::Close]);
    assert_eq!(sent[1].payload[..2], 1002u16.to_be_bytes());
}
