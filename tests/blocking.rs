//! The blocking driver (`wsmachine::blocking`) over loopback TCP, both roles, one thread per
//! side: the echo round trip, refused and slow handshakes, the close, pong and keepalive
//! timers, and permessage-deflate.
//!
//! Every test is bounded in time: handshakes have deadlines, the connections an idle
//! timeout, and the raw peers a read timeout.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use wsmachine::blocking::{AcceptOptions, ConnectOptions, Error, WebSocket, WithTimeout};
use wsmachine::handshake::{ClientError, OriginPolicy, RequestError};
use wsmachine::{
    Bytes, ClientHandshake, ClientOptions, CloseCode, Config, Event, ServerHandshake, Status,
    Timeout, Url,
};
use wsmachine_testkit::pattern;

/// The bound on anything a test waits for.
const BACKSTOP: Duration = Duration::from_secs(10);

/// A configuration whose idle timeout ends any test that would otherwise wait forever.
fn config() -> Config {
    let mut config = Config::default();
    config.idle_timeout = Some(BACKSTOP);
    config
}

fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/chat", listener.local_addr().unwrap());
    (listener, url)
}

/// Accepts one connection and echoes it with `options` until it ends; returns every event.
fn echo_server(
    listener: TcpListener,
    options: AcceptOptions,
) -> thread::JoinHandle<Result<Vec<Event>, Error>> {
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = WebSocket::accept_with(stream, options)?;
        let mut seen = Vec::new();
        loop {
            let event = ws.read()?;
            match &event {
                Event::Text(text) => ws.send(text.clone())?,
                Event::Binary(data) => ws.send(data.clone())?,
                Event::Closed(_) => {
                    seen.push(event);
                    assert!(matches!(ws.read(), Err(Error::Closed)));
                    return Ok(seen);
                }
                _ => {}
            }
            seen.push(event);
        }
    })
}

/// A raw client: the opening handshake by hand, then the bare socket.
fn raw_client(url: &str) -> TcpStream {
    let url = Url::parse(url).unwrap();
    let mut stream = TcpStream::connect((url.host(), url.port())).unwrap();
    stream.set_read_timeout(Some(BACKSTOP)).unwrap();
    let mut handshake = ClientHandshake::new(&url, ClientOptions::new()).unwrap();
    stream.write_all(handshake.request_bytes()).unwrap();
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert_ne!(n, 0, "the server ended the handshake");
        if let Status::Complete(established) = handshake.receive(&buf[..n]).unwrap() {
            assert!(established.leftover.is_empty());
            return stream;
        }
    }
}

/// A raw server: accepts one connection and completes the opening handshake by hand.
fn raw_server(listener: &TcpListener) -> TcpStream {
    let (mut stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(BACKSTOP)).unwrap();
    let mut handshake = ServerHandshake::new();
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        if let Status::Complete(request) = handshake.receive(&buf[..n]).unwrap() {
            let accepted = request.accept(&wsmachine::Accept::new()).unwrap();
            stream.write_all(&accepted.to_bytes()).unwrap();
            return stream;
        }
    }
}

/// Reads until the stream ends or fails; returns everything read.
fn drain(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    all
}

#[test]
fn echo_round_trip_and_clean_close() {
    let (listener, url) = listener();
    let server = echo_server(
        listener,
        AcceptOptions::new()
            .protocols(["chat.v2", "chat.v1"])
            .config(config()),
    );
    let options = ConnectOptions::new()
        .protocol("chat.v1")
        .protocol("chat.v2")
        .config(config());
    let mut ws = WebSocket::connect_with(&url, options).unwrap();
    // The server's preference wins among the client's offers (RFC 6455 §4.2.2).
    assert_eq!(ws.connection().negotiated().protocol(), Some("chat.v2"));
    let big = pattern(7, 3 << 20);
    ws.send("hello").unwrap();
    ws.send_binary(&big).unwrap();
    ws.send_text("κόσμε").unwrap();
    let prepared = wsmachine::PreparedMessage::binary(pattern(3, 10_000));
    ws.send_prepared(&prepared).unwrap();
    assert_eq!(ws.read().unwrap(), Event::Text("hello".into()));
    assert_eq!(ws.read().unwrap(), Event::Binary(Bytes::from(big.clone())));
    assert_eq!(ws.read().unwrap(), Event::Text("κόσμε".into()));
    assert_eq!(ws.read().unwrap(), Event::Binary(prepared.payload()));
    ws.send_ping(b"still there?").unwrap();
    assert_eq!(
        ws.read().unwrap(),
        Event::Pong(Bytes::from_static(b"still there?"))
    );

    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(matches!(ws.send("late"), Err(Error::Send(_))));
    let Event::Close(frame) = ws.read().unwrap() else {
        panic!()
    };
    // The server echoes the code (RFC 6455 §5.5.1).
    assert_eq!(frame.code(), CloseCode::NORMAL);
    let Event::Closed(outcome) = ws.read().unwrap() else {
        panic!()
    };
    assert!(outcome.clean, "{outcome:?}");
    assert_eq!(outcome.timeout, None);
    assert!(matches!(ws.read(), Err(Error::Closed)));

    let seen = server.join().unwrap().unwrap();
    assert_eq!(seen[0], Event::Text("hello".into()));
    assert_eq!(seen[1], Event::Binary(Bytes::from(big)));
    assert_eq!(seen[3], Event::Binary(prepared.payload()));
    assert_eq!(seen[4], Event::Ping(Bytes::from_static(b"still there?")));
    let Some(Event::Closed(outcome)) = seen.last() else {
        panic!()
    };
    assert!(outcome.clean);
}

#[test]
fn client_over_a_generic_stream() {
    let (listener, url) = listener();
    let server = echo_server(listener, AcceptOptions::new().config(config()));
    let address = url.trim_start_matches("ws://").trim_end_matches("/chat");
    // Any Read + Write stream, with a function that bounds its reads (a TLS stream would
    // forward to its socket the same way).
    let stream = WithTimeout::new(TcpStream::connect(address).unwrap(), |s, t| {
        s.set_read_timeout(t)
    });
    let mut ws = WebSocket::client(stream, &url, ConnectOptions::new().config(config())).unwrap();
    ws.send("over a wrapper").unwrap();
    assert_eq!(ws.read().unwrap(), Event::Text("over a wrapper".into()));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while !matches!(ws.read().unwrap(), Event::Closed(_)) {}
    server.join().unwrap().unwrap();
}

#[test]
fn the_server_closes_first() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = WebSocket::accept(stream).unwrap();
        ws.close(CloseCode::GOING_AWAY, "restart").unwrap();
        loop {
            if let Event::Closed(outcome) = ws.read().unwrap() {
                return outcome;
            }
        }
    });
    let mut ws = WebSocket::connect(&url).unwrap();
    let Event::Close(frame) = ws.read().unwrap() else {
        panic!()
    };
    assert_eq!(frame.code(), CloseCode::GOING_AWAY);
    let started = Instant::now();
    let Event::Closed(outcome) = ws.read().unwrap() else {
        panic!()
    };
    assert!(outcome.clean);
    // The server ended the stream at once, so the client did not wait its close timeout.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(server.join().unwrap().clean);
}

#[test]
fn a_refused_origin_gets_403_on_both_sides() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let options =
            AcceptOptions::new().origin_policy(OriginPolicy::allow_list(["https://ok.example"]));
        WebSocket::accept_with(stream, options).map(drop)
    });
    let offer = ClientOptions::new().origin("https://evil.example");
    let err = WebSocket::connect_with(&url, ConnectOptions::new().handshake(offer)).unwrap_err();
    let Error::Response(ClientError::Rejected(response)) = err else {
        panic!("{err:?}")
    };
    assert_eq!(response.status(), 403);
    assert!(matches!(
        server.join().unwrap(),
        Err(Error::Request(RequestError::ForbiddenOrigin))
    ));
}

#[test]
fn a_request_that_is_not_an_upgrade_gets_400() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        WebSocket::accept(stream).map(drop)
    });
    let address = url.trim_start_matches("ws://").trim_end_matches("/chat");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(BACKSTOP)).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let response = drain(&mut stream);
    assert!(
        response.starts_with(b"HTTP/1.1 400 "),
        "{:?}",
        String::from_utf8_lossy(&response)
    );
    assert!(matches!(
        server.join().unwrap(),
        Err(Error::Request(RequestError::MissingUpgrade))
    ));
}

#[test]
fn a_silent_client_runs_into_the_handshake_deadline() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let started = Instant::now();
        let options = AcceptOptions::new().handshake_timeout(Duration::from_millis(200));
        let result = WebSocket::accept_with(stream, options).map(drop);
        (result, started.elapsed())
    });
    let address = url.trim_start_matches("ws://").trim_end_matches("/chat");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(BACKSTOP)).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\n").unwrap(); // and nothing more
    // The server gives up without an answer and ends the stream.
    assert_eq!(drain(&mut stream), b"");
    let (result, elapsed) = server.join().unwrap();
    assert!(matches!(result, Err(Error::HandshakeTimeout)), "{result:?}");
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < BACKSTOP,
        "{elapsed:?}"
    );
}

#[test]
fn a_silent_server_runs_into_the_client_handshake_deadline() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(BACKSTOP)).unwrap();
        drain(&mut stream) // reads the request, never answers
    });
    let options = ConnectOptions::new().handshake_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let err = WebSocket::connect_with(&url, options).unwrap_err();
    assert!(matches!(err, Error::HandshakeTimeout), "{err:?}");
    assert!(started.elapsed() < BACKSTOP);
    assert!(
        server
            .join()
            .unwrap()
            .starts_with(b"GET /chat HTTP/1.1\r\n")
    );
}

#[test]
fn wss_needs_a_tls_stream() {
    let err = WebSocket::connect("wss://127.0.0.1:1/").unwrap_err();
    assert!(matches!(err, Error::TlsRequired), "{err:?}");
    let err = WebSocket::connect("http://127.0.0.1:1/").unwrap_err();
    assert!(matches!(err, Error::Url(_)), "{err:?}");
}

#[test]
fn close_timeout_when_the_server_never_answers_the_close() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let mut stream = raw_server(&listener);
        drain(&mut stream) // reads everything, answers nothing, ends only when the client does
    });
    let mut config = config();
    config.close_timeout = Some(Duration::from_millis(300));
    let mut ws = WebSocket::connect_with(&url, ConnectOptions::new().config(config)).unwrap();
    let started = Instant::now();
    ws.close(CloseCode::NORMAL, "").unwrap();
    let Event::Closed(outcome) = ws.read().unwrap() else {
        panic!()
    };
    assert_eq!(
        (outcome.code, outcome.clean, outcome.timeout),
        (CloseCode::ABNORMAL, false, Some(Timeout::Close))
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < BACKSTOP,
        "{elapsed:?}"
    );
    // The client ended the stream: the server's read saw it.
    let received = server.join().unwrap();
    assert_eq!(received[0], 0x88, "a masked Close went out");
}

#[test]
fn a_client_waits_at_most_the_close_timeout_for_the_server_to_end_the_stream() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let mut stream = raw_server(&listener);
        let mut buf = [0; 64];
        let n = stream.read(&mut buf).unwrap();
        assert_eq!(buf[0], 0x88, "the client's Close");
        assert!(n >= 6);
        // Answer the Close, then keep the TCP connection open until the client ends it.
        stream.write_all(b"\x88\x02\x03\xe8").unwrap();
        drain(&mut stream)
    });
    let mut config = config();
    config.close_timeout = Some(Duration::from_millis(300));
    let mut ws = WebSocket::connect_with(&url, ConnectOptions::new().config(config)).unwrap();
    ws.close(CloseCode::NORMAL, "").unwrap();
    let Event::Close(_) = ws.read().unwrap() else {
        panic!()
    };
    let started = Instant::now();
    let Event::Closed(outcome) = ws.read().unwrap() else {
        panic!()
    };
    // The closing handshake completed: clean, although the server never ended the stream.
    assert!(outcome.clean, "{outcome:?}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < BACKSTOP,
        "{elapsed:?}"
    );
    assert_eq!(server.join().unwrap(), b"");
}

#[test]
fn keepalive_pings_are_answered() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut config = config();
        config.keepalive_interval = Some(Duration::from_millis(50));
        config.pong_timeout = Some(Duration::from_secs(5));
        let mut ws = WebSocket::accept_with(stream, AcceptOptions::new().config(config)).unwrap();
        let mut pongs = 0;
        loop {
            match ws.read().unwrap() {
                Event::Pong(_) => {
                    pongs += 1;
                    if pongs == 3 {
                        ws.close(CloseCode::NORMAL, "three pongs").unwrap();
                    }
                }
                Event::Closed(outcome) => return (pongs, outcome),
                _ => {}
            }
        }
    });
    // The client only reads: its connection answers the Pings by itself.
    let mut ws = WebSocket::connect_with(&url, ConnectOptions::new().config(config())).unwrap();
    let mut pings = 0;
    loop {
        match ws.read().unwrap() {
            Event::Ping(_) => pings += 1,
            Event::Closed(outcome) => {
                assert!(outcome.clean);
                break;
            }
            _ => {}
        }
    }
    let (pongs, outcome) = server.join().unwrap();
    assert!(outcome.clean, "{outcome:?}");
    assert_eq!(pongs, 3);
    assert!(pings >= 3);
}

#[test]
fn a_peer_that_never_answers_a_ping_runs_into_the_pong_timeout() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut config = config();
        config.keepalive_interval = Some(Duration::from_millis(50));
        config.pong_timeout = Some(Duration::from_millis(200));
        let mut ws = WebSocket::accept_with(stream, AcceptOptions::new().config(config)).unwrap();
        loop {
            if let Event::Closed(outcome) = ws.read().unwrap() {
                return outcome;
            }
        }
    });
    // A raw client that reads but never answers.
    let mut stream = raw_client(&url);
    let received = drain(&mut stream);
    let outcome = server.join().unwrap();
    assert_eq!(
        (outcome.code, outcome.clean, outcome.timeout),
        (CloseCode::ABNORMAL, false, Some(Timeout::Pong))
    );
    // Keepalive Pings (no Close: a timeout drops the output), then the end of the stream.
    assert!(!received.is_empty());
    assert!(
        received.chunks(2).all(|ping| ping == b"\x89\x00"),
        "{received:?}"
    );
}

#[cfg(feature = "deflate")]
#[test]
fn permessage_deflate_round_trip() {
    use wsmachine::extensions::DeflateOptions;
    let (listener, url) = listener();
    let server = echo_server(
        listener,
        AcceptOptions::new()
            .deflate(DeflateOptions::new())
            .config(config()),
    );
    let options = ConnectOptions::new()
        .deflate(DeflateOptions::new())
        .config(config());
    let mut ws = WebSocket::connect_with(&url, options).unwrap();
    assert!(ws.connection().negotiated().deflate().is_some());
    let text = "a compressible message ".repeat(2_000);
    let data = pattern(3, 64 << 10);
    for _ in 0..3 {
        ws.send(text.as_str()).unwrap();
        ws.send(data.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), Event::Text(text.as_str().into()));
        assert_eq!(ws.read().unwrap(), Event::Binary(Bytes::from(data.clone())));
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    while !matches!(ws.read().unwrap(), Event::Closed(_)) {}
    let seen = server.join().unwrap().unwrap();
    assert_eq!(seen[0], Event::Text(text.as_str().into()));
}
