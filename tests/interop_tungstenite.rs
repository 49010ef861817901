//! Interop with tungstenite over real loopback TCP, in both directions: text, binary, empty,
//! a fragmented message, a 16 MiB message, ping and pong, close from either side; every
//! payload checked byte for byte.

use std::net::{TcpListener, TcpStream};
use std::thread;

use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::coding::{CloseCode as TCloseCode, Data, OpCode as TOpCode};
use tungstenite::protocol::frame::{CloseFrame as TCloseFrame, Frame};
use wsmachine::blocking::{AcceptOptions, ConnectOptions, Error, WebSocket};
use wsmachine::{Bytes, CloseCode, Config, Event, MessageKind};
use wsmachine_testkit::pattern;

fn big_config() -> Config {
    let mut c = Config::default();
    c.max_message_size = 64 << 20;
    c.max_frame_size = 64 << 20;
    c
}

fn tungstenite_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

/// 16 MiB of a fixed pseudo-random pattern.
fn big_payload() -> Vec<u8> {
    pattern(1, 16 << 20)
}

/// The messages each peer sends, and expects back from an echo, in order.
fn messages() -> Vec<Message> {
    vec![
        Message::text("hello"),
        Message::text("κόσμε 𝄞"),
        Message::text(""),
        Message::binary(vec![0u8, 1, 2, 255]),
        Message::binary(Vec::new()),
        Message::binary(big_payload()),
    ]
}

fn to_event(m: &Message) -> Event {
    match m {
        Message::Text(t) => Event::Text(t.as_str().into()),
        Message::Binary(b) => Event::Binary(b.clone()),
        other => panic!("not a data message: {other:?}"),
    }
}

fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", l.local_addr().unwrap());
    (l, url)
}

#[test]
fn tungstenite_client_against_our_server() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let options = AcceptOptions::new().config(big_config());
        let mut ws = WebSocket::accept_with(stream, options).unwrap();
        let mut seen = Vec::new();
        loop {
            let event = ws.read().unwrap();
            match &event {
                Event::Text(t) => ws.send_text(t).unwrap(),
                Event::Binary(b) => ws.send_binary(b).unwrap(),
                Event::Closed(_) => {
                    seen.push(event);
                    return seen;
                }
                _ => {}
            }
            seen.push(event);
        }
    });

    let stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/')).unwrap();
    let (mut ws, _) =
        tungstenite::client::client_with_config(url.as_str(), stream, Some(tungstenite_config()))
            .unwrap();
    for m in messages() {
        ws.send(m.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), m, "echo");
    }
    // A fragmented text message, sent frame by frame.
    ws.send(Message::Frame(Frame::message(
        Bytes::from_static(b"frag"),
        TOpCode::Data(Data::Text),
        false,
    )))
    .unwrap();
    ws.send(Message::Frame(Frame::message(
        Bytes::from_static(b"mented"),
        TOpCode::Data(Data::Continue),
        true,
    )))
    .unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("fragmented"));
    // Ping: our server answers with the same payload.
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .unwrap();
    assert_eq!(
        ws.read().unwrap(),
        Message::Pong(Bytes::from_static(b"are you there"))
    );
    // Close from the client side: the server echoes the code.
    ws.close(Some(TCloseFrame {
        code: TCloseCode::Library(4001),
        reason: "done".into(),
    }))
    .unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 4001),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("{e}"),
        }
    }

    let seen = server.join().unwrap();
    let mut expected: Vec<Event> = messages().iter().map(to_event).collect();
    expected.push(Event::Text("fragmented".into()));
    expected.push(Event::Ping(Bytes::from_static(b"are you there")));
    assert_eq!(&seen[..expected.len()], &expected[..]);
    let Event::Close(frame) = &seen[expected.len()] else {
        panic!("{:?}", &seen[expected.len()..])
    };
    assert_eq!((frame.code(), frame.reason()), (CloseCode(4001), "done"));
    let Event::Closed(outcome) = &seen[expected.len() + 1] else {
        panic!()
    };
    assert!(outcome.clean);
}

/// A tungstenite echo server that closes with 4002 when told to.
fn tungstenite_echo_server(listener: TcpListener) -> thread::JoinHandle<Vec<Message>> {
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept_with_config(stream, Some(tungstenite_config())).unwrap();
        let mut seen = Vec::new();
        loop {
            match ws.read() {
                Ok(Message::Text(t)) if t.as_str() == "close, please" => {
                    ws.close(Some(TCloseFrame {
                        code: TCloseCode::Library(4002),
                        reason: "as asked".into(),
                    }))
                    .unwrap();
                }
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    seen.push(m.clone());
                    ws.send(m).unwrap();
                }
                Ok(m) => seen.push(m),
                Err(tungstenite::Error::ConnectionClosed) => return seen,
                Err(e) => panic!("{e}"),
            }
        }
    })
}

#[test]
fn our_client_against_tungstenite_server() {
    let (listener, url) = listener();
    let server = tungstenite_echo_server(listener);
    let mut ws = WebSocket::connect_with(&url, ConnectOptions::new().config(big_config())).unwrap();
    for m in messages() {
        match &m {
            Message::Text(t) => ws.send_text(t.as_str()).unwrap(),
            Message::Binary(b) => ws.send_binary(b).unwrap(),
            _ => unreachable!(),
        }
        assert_eq!(ws.read().unwrap(), to_event(&m));
    }
    ws.send_fragment(MessageKind::Binary, &b"frag"[..], false)
        .unwrap();
    ws.send_fragment(MessageKind::Binary, &b"mented"[..], true)
        .unwrap();
    assert_eq!(
        ws.read().unwrap(),
        Event::Binary(Bytes::from_static(b"fragmented"))
    );
    ws.send_ping(b"ping?").unwrap();
    assert_eq!(
        ws.read().unwrap(),
        Event::Pong(Bytes::from_static(b"ping?"))
    );
    // Close from the server side.
    ws.send_text("close, please").unwrap();
    let Event::Close(frame) = ws.read().unwrap() else {
        panic!()
    };
    assert_eq!(
        (frame.code(), frame.reason()),
        (CloseCode(4002), "as asked")
    );
    let Event::Closed(outcome) = ws.read().unwrap() else {
        panic!()
    };
    assert!(outcome.clean);
    assert!(matches!(ws.read(), Err(Error::Closed)));

    let seen = server.join().unwrap();
    let mut expected = messages();
    expected.push(Message::binary(&b"fragmented"[..]));
    assert_eq!(&seen[..expected.len()], &expected[..]);
    assert_eq!(
        seen[expected.len()],
        Message::Ping(Bytes::from_static(b"ping?"))
    );
}

#[test]
fn our_client_closes_a_tungstenite_server() {
    let (listener, url) = listener();
    let server = tungstenite_echo_server(listener);
    let mut ws = WebSocket::connect(&url).unwrap();
    ws.send_text("last").unwrap();
    assert_eq!(ws.read().unwrap(), Event::Text("last".into()));
    ws.close(CloseCode::GOING_AWAY, "bye").unwrap();
    let Event::Close(frame) = ws.read().unwrap() else {
        panic!()
    };
    assert_eq!(frame.code(), CloseCode::GOING_AWAY);
    let Event::Closed(outcome) = ws.read().unwrap() else {
        panic!()
    };
    assert!(outcome.clean);
    assert!(matches!(ws.read(), Err(Error::Closed)));
    let seen = server.join().unwrap();
    let Message::Close(Some(frame)) = &seen[1] else {
        panic!("{seen:?}")
    };
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1001, "bye")
    );
}
