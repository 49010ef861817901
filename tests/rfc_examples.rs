//! RFC 6455 §5.7 examples, byte-exact, in both directions, and the fragmentation walk-through.

use wsmachine::{Bytes, Config, Connection, Event, FixedMask, MessageKind, Negotiated};
use wsmachine_testkit::{Feed, KEY, events, frame, output};

fn server() -> Connection {
    Connection::server(Negotiated::default(), Config::default())
}

fn client() -> Connection {
    Connection::client_with_mask_source(Negotiated::default(), Config::default(), FixedMask(KEY))
}

/// Feeds `bytes` whole and one byte at a time; both must give `expected`.
fn assert_receives(make: fn() -> Connection, bytes: &[u8], expected: &[Event]) {
    for feed in Feed::ALL {
        let mut conn = make();
        assert_eq!(feed.receive_polling(&mut conn, bytes), expected, "{feed:?}");
    }
}

#[test]
fn unmasked_hello_sent_by_server_and_received_by_client() {
    let mut s = server();
    s.send_text("Hello").unwrap();
    assert_eq!(output(&mut s), b"\x81\x05\x48\x65\x6c\x6c\x6f");
    assert_receives(
        client,
        b"\x81\x05\x48\x65\x6c\x6c\x6f",
        &[Event::Text("Hello".into())],
    );
}

#[test]
fn masked_hello_sent_by_client_and_received_by_server() {
    let wire = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    let mut c = client();
    c.send_text("Hello").unwrap();
    assert_eq!(output(&mut c), wire);
    assert_receives(server, wire, &[Event::Text("Hello".into())]);
}

#[test]
fn fragmented_unmasked_text() {
    let wire = b"\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f";
    let mut s = server();
    s.send_fragment(MessageKind::Text, "Hel", false).unwrap();
    s.send_fragment(MessageKind::Text, "lo", true).unwrap();
    assert_eq!(output(&mut s), wire);
    assert_receives(client, wire, &[Event::Text("Hello".into())]);
}

#[test]
fn unmasked_ping_and_masked_pong() {
    let ping = b"\x89\x05\x48\x65\x6c\x6c\x6f";
    let pong = b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    let mut s = server();
    s.send_ping(b"Hello").unwrap();
    assert_eq!(output(&mut s), ping);
    // The client answers the ping with exactly the RFC's masked pong.
    let mut c = client();
    c.receive(ping);
    assert_eq!(events(&mut c), [Event::Ping(Bytes::from_static(b"Hello"))]);
    assert_eq!(output(&mut c), pong);
    assert_receives(server, pong, &[Event::Pong(Bytes::from_static(b"Hello"))]);
}

#[test]
fn binary_256_bytes_and_64_kib() {
    for (len, header) in [
        (256usize, &b"\x82\x7E\x01\x00"[..]),
        (65536, &b"\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00"[..]),
    ] {
        let payload: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
        let mut s = server();
        s.send_binary(&payload).unwrap();
        let out = output(&mut s);
        assert_eq!(&out[..header.len()], header);
        assert_eq!(&out[header.len()..], &payload[..]);
        assert_receives(client, &out, &[Event::Binary(payload.into())]);
    }
}

#[test]
fn fragmentation_walk_through_with_ping_between_fragments() {
    let k = Some(KEY);
    let mut wire = frame(true, 0, 0x1, k, b"hello");
    wire.extend(frame(false, 0, 0x1, k, b"and a"));
    wire.extend(frame(true, 0, 0x9, k, b"are you there?"));
    wire.extend(frame(false, 0, 0x0, k, b"happy new"));
    wire.extend(frame(true, 0, 0x0, k, b"year!"));
    let expected = [
        Event::Text("hello".into()),
        Event::Ping(Bytes::from_static(b"are you there?")),
        Event::Text("and ahappy newyear!".into()),
    ];
    assert_receives(server, &wire, &expected);
    let mut s = server();
    s.receive(&wire);
    let _ = events(&mut s);
    // The ping was answered by a pong with the same payload, unmasked from a server.
    assert_eq!(output(&mut s), b"\x8a\x0eare you there?");
}
