//! The opening handshake end to end: client and server handshakes in memory, then the
//! connections they produce exchanging messages through the pair harness.

use wsmachine::frame::OpCode;
use wsmachine::handshake::{
    Accept, Accepted, ClientHandshake, ClientOptions, Established, Extension, ServerHandshake,
    Status, Url,
};
use wsmachine::{Bytes, CloseCode, Config, Connection, Event, FixedMask};
use wsmachine_testkit::{KEY, Pair, events, frame, frames, output};

/// Runs both handshakes over the given byte split (`chunk` bytes per transport read).
fn handshake(
    options: ClientOptions,
    preferences: &[&str],
    chunk: usize,
) -> (Established, Accepted) {
    let url = Url::parse("ws://example.com/chat?room=1").unwrap();
    let mut client = ClientHandshake::with_mask_source(&url, options, &mut FixedMask(KEY)).unwrap();
    let mut server = ServerHandshake::default();

    let mut request = None;
    for piece in client.request_bytes().chunks(chunk) {
        if let Status::Complete(r) = server.receive(piece).unwrap() {
            request = Some(r);
        }
    }
    let request = request.expect("request incomplete");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), Some("room=1"));
    assert_eq!(request.host(), "example.com");
    let protocol = request.select_protocol(preferences);
    let accepted = request.accept(&Accept::new().protocol(protocol)).unwrap();

    let mut established = None;
    for piece in accepted.to_bytes().chunks(chunk) {
        if let Status::Complete(e) = client.receive(piece).unwrap() {
            established = Some(e);
        }
    }
    (established.expect("response incomplete"), accepted)
}

fn connections(established: &Established, accepted: &Accepted) -> Pair {
    let mut client = Connection::client_with_mask_source(
        established.negotiated.clone(),
        Config::default(),
        FixedMask(KEY),
    );
    let mut server = Connection::server(accepted.negotiated.clone(), Config::default());
    client.receive(&established.leftover);
    server.receive(&accepted.leftover);
    Pair::from_connections(client, server)
}

#[test]
fn handshake_then_messages() {
    for chunk in [1, 7, 4096] {
        let options = ClientOptions::new().protocol("chat").protocol("superchat");
        let (established, accepted) = handshake(options, &["superchat", "chat"], chunk);
        assert_eq!(established.negotiated.protocol(), Some("superchat"));
        assert_eq!(established.negotiated, accepted.negotiated);

        let mut pair = connections(&established, &accepted);
        assert_eq!(pair.client.negotiated().protocol(), Some("superchat"));
        pair.client.send_text("hello").unwrap();
        pair.server.send_binary(&[1u8, 2, 3][..]).unwrap();
        pair.drive();
        assert_eq!(pair.take_server_events(), [Event::Text("hello".into())]);
        assert_eq!(
            pair.take_client_events(),
            [Event::Binary(Bytes::from_static(&[1, 2, 3]))]
        );

        pair.client.close(CloseCode::NORMAL, "bye").unwrap();
        pair.drive();
        let server_events = pair.take_server_events();
        assert!(matches!(server_events.last(), Some(Event::Closed(o)) if o.clean));
        let client_events = pair.take_client_events();
        assert!(matches!(client_events.last(), Some(Event::Closed(o)) if o.clean));
    }
}

#[test]
fn no_common_subprotocol() {
    let options = ClientOptions::new().protocol("chat");
    let (established, accepted) = handshake(options, &["mqtt"], 4096);
    assert_eq!(established.negotiated.protocol(), None);
    assert_eq!(accepted.negotiated.protocol(), None);
}

#[test]
fn server_pipelines_its_first_message_after_the_101() {
    let url = Url::parse("ws://example.com/").unwrap();
    let mut client =
        ClientHandshake::with_mask_source(&url, ClientOptions::new(), &mut FixedMask(KEY)).unwrap();
    let mut server = ServerHandshake::default();
    let Ok(Status::Complete(request)) = server.receive(client.request_bytes()) else {
        panic!()
    };
    let accepted = request.accept(&Accept::new()).unwrap();
    let mut server_conn = Connection::server(accepted.negotiated.clone(), Config::default());
    server_conn.send_text("welcome").unwrap();
    server_conn.send_ping(b"p").unwrap();

    // One write: the 101 and the first frames.
    let mut wire = accepted.to_bytes();
    let first_frames = output(&mut server_conn);
    wire.extend_from_slice(&first_frames);
    let Ok(Status::Complete(established)) = client.receive(&wire) else {
        panic!()
    };
    assert_eq!(established.leftover, first_frames);

    let mut client_conn = Connection::client_with_mask_source(
        established.negotiated,
        Config::default(),
        FixedMask(KEY),
    );
    client_conn.receive(&established.leftover);
    assert_eq!(
        events(&mut client_conn),
        [
            Event::Text("welcome".into()),
            Event::Ping(Bytes::from_static(b"p"))
        ]
    );
    // The automatic Pong answers it.
    let pong = frames(&output(&mut client_conn));
    assert_eq!(pong.len(), 1);
    assert_eq!(
        (pong[0].opcode, pong[0].masked, &pong[0].payload[..]),
        (OpCode::Pong, true, &b"p"[..])
    );
}

#[test]
fn bytes_after_the_request_reach_the_server_connection() {
    // RFC 6455 §4.1 has a client wait for the 101 before sending frames, but a server must
    // still not drop what follows the request: it belongs to the connection.
    let url = Url::parse("ws://example.com/").unwrap();
    let client =
        ClientHandshake::with_mask_source(&url, ClientOptions::new(), &mut FixedMask(KEY)).unwrap();
    let mut wire = client.request_bytes().to_vec();
    wire.extend_from_slice(&frame(true, 0, 0x1, Some(KEY), b"early"));
    wire.extend_from_slice(&frame(true, 0, 0x2, Some(KEY), &[0u8; 300]));
    for split in [
        wire.len(),
        1,
        100,
        client.request_bytes().len(),
        client.request_bytes().len() + 3,
    ] {
        let mut server = ServerHandshake::default();
        let (first, rest) = wire.split_at(split);
        let (request, rest) = match server.receive(first).unwrap() {
            Status::Complete(request) => (request, rest),
            Status::Partial => match server.receive(rest).unwrap() {
                Status::Complete(request) => (request, &[][..]),
                Status::Partial => panic!("split {split}"),
            },
        };
        let accepted = request.accept(&Accept::new()).unwrap();
        let mut conn = Connection::server(accepted.negotiated, Config::default());
        conn.receive(&accepted.leftover);
        conn.receive(rest);
        assert_eq!(
            events(&mut conn),
            [
                Event::Text("early".into()),
                Event::Binary(Bytes::from(vec![0u8; 300]))
            ],
            "split {split}"
        );
    }
}

#[test]
fn extensions_reach_negotiated_on_both_sides() {
    let url = Url::parse("ws://example.com/").unwrap();
    let options =
        ClientOptions::new().extension(Extension::new("x-test").with_param("a", Some("1")));
    let mut client = ClientHandshake::with_mask_source(&url, options, &mut FixedMask(KEY)).unwrap();
    let Ok(Status::Complete(request)) = ServerHandshake::default().receive(client.request_bytes())
    else {
        panic!()
    };
    assert_eq!(request.extensions()[0].param("a"), Some(Some("1")));
    let response = Extension::new("x-test").with_param("a", Some("2"));
    let accepted = request.accept(&Accept::new().extension(response)).unwrap();
    let Ok(Status::Complete(established)) = client.receive(&accepted.to_bytes()) else {
        panic!()
    };
    assert_eq!(
        accepted.negotiated.extensions().as_deref(),
        Some("x-test; a=2")
    );
    assert_eq!(established.negotiated, accepted.negotiated);
}

/// RFC 8441: a WebSocket on an HTTP/2 stream. The stream is modelled by the pair harness: the
/// request body and response body carry the connection's bytes.
#[cfg(feature = "http")]
#[test]
fn extended_connect_then_messages() {
    use wsmachine::Negotiated;
    use wsmachine::handshake::Request;

    let req = http::Request::connect("https://example.com/chat")
        .version(http::Version::HTTP_2)
        .header("sec-websocket-version", "13")
        .header("sec-websocket-protocol", "chat")
        .body(())
        .unwrap();
    let request = Request::from_extended_connect(&req, Some("websocket")).unwrap();
    let protocol = request.select_protocol(&["chat"]);
    let accepted = request.accept(&Accept::new().protocol(protocol)).unwrap();
    let response = accepted.to_http().unwrap();
    let negotiated = accepted.negotiated;
    assert_eq!(response.status(), http::StatusCode::OK);

    // The client reads the same choice from the 200 response's fields.
    let chosen = response.headers()["sec-websocket-protocol"]
        .to_str()
        .unwrap();
    let client_negotiated = Negotiated::new().with_protocol(chosen);
    assert_eq!(client_negotiated, negotiated);

    let mut pair = Pair::from_connections(
        Connection::client_with_mask_source(client_negotiated, Config::default(), FixedMask(KEY)),
        Connection::server(negotiated, Config::default()),
    );
    pair.client.send_text("over h2").unwrap();
    pair.server.send_text("hi").unwrap();
    pair.drive();
    assert_eq!(pair.take_server_events(), [Event::Text("over h2".into())]);
    assert_eq!(pair.take_client_events(), [Event::Text("hi".into())]);
}

#[test]
fn handshake_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ServerHandshake>();
    assert_send_sync::<ClientHandshake>();
    assert_send_sync::<wsmachine::handshake::Request>();
    assert_send_sync::<Accepted>();
    assert_send_sync::<Established>();
    assert_send_sync::<wsmachine::handshake::ClientError>();
}
