//! RFC 6455 conformance of the same `WebSocket` over HTTP/2 streams (RFC 8441), byte by byte:
//! a plain `h2` peer writes hand-made frames (the testkit's builder) on a stream and checks
//! the frames that come back, parsed with the crate's strict decoder.
//!
//! - Our server (`accept_h2`, an echo application): a plain `h2` client opens one stream per
//!   case on one HTTP/2 connection.
//! - Our client (`connect_h2`, an echo application): a plain `h2` server answers one stream
//!   per case on one HTTP/2 connection.
//!
//! Cases: fragmentation (reassembled, byte by byte, a Ping between fragments), Ping/Pong,
//! close codes (1000 echoed; 1002 for protocol violations; 1007 for invalid UTF-8, as soon as
//! a fragment proves it; 1009 for limits judged on declared lengths), unsolicited Pongs.
//! Our client drops each WebSocket as soon as it ends, so its Close after a failure reaches
//! the peer only because a dropped `H2Stream` lingers until h2 has written it.

use std::net::SocketAddr;

use h2::RecvStream;
use h2_support::{extended_connect, h2_server};
use tokio::net::TcpStream;
use wsmachine_testkit::driver::{bounded, loopback, serve_loopback, serve_once};
use wsmachine_testkit::{Frame, FrameBuilder, KEY, Length, frame, frames};
use wsmachine_tokio::wsmachine::Bytes;
use wsmachine_tokio::wsmachine::frame::{OpCode, RSV1};
use wsmachine_tokio::{
    AcceptOptions, CloseCode, Config, ConnectOptions, Error, Message, accept_h2, connect_h2,
    h2_client,
};

/// The message and frame limit of both our ends in these tests.
const LIMIT: usize = 1024;

fn config() -> Config {
    let mut config = Config::default();
    config.max_message_size = LIMIT;
    config.max_frame_size = LIMIT;
    config
}

/// A frame that comes back: a data or control frame with its payload, or a Close with its
/// code (the reason text is the connection's own).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Out {
    Frame(OpCode, Vec<u8>),
    Close(u16),
}

fn text(payload: &str) -> Out {
    Out::Frame(OpCode::Text, payload.as_bytes().to_vec())
}

fn pong(payload: &[u8]) -> Out {
    Out::Frame(OpCode::Pong, payload.to_vec())
}

/// One case: what the peer writes, in chunks of `chunk` bytes, and what must come back.
struct Case {
    name: &'static str,
    input: Vec<Vec<u8>>,
    chunk: usize,
    expected: Vec<Out>,
}

fn case(name: &'static str, input: Vec<Vec<u8>>, expected: Vec<Out>) -> Case {
    Case {
        name,
        input,
        chunk: usize::MAX,
        expected,
    }
}

/// A Close payload: the code and the reason.
fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// The cases for a receiver of frames masked with `key` (`Some` towards a server, `None`
/// towards a client); a wrongly masked frame uses the other form.
fn cases(key: Option<[u8; 4]>) -> Vec<Case> {
    let wrong_key = match key {
        Some(_) => None,
        None => Some(KEY),
    };
    let f = |fin, opcode: OpCode, payload: &[u8]| frame(fin, 0, opcode, key, payload);
    let over_limit = FrameBuilder {
        fin: true,
        rsv: 0,
        opcode: OpCode::Binary.into(),
        masking_key: key,
        length: Length::Declared(LIMIT as u64 + 1),
        payload: b"",
    }
    .encode();
    let long_ping = FrameBuilder {
        fin: true,
        rsv: 0,
        opcode: OpCode::Ping.into(),
        masking_key: key,
        length: Length::Declared(126),
        payload: b"",
    }
    .encode();
    let half = vec![b'a'; LIMIT / 2 + 1];
    let mut cases = vec![
        case(
            "a text message is echoed",
            vec![f(true, OpCode::Text, b"hello")],
            vec![text("hello")],
        ),
        case(
            "fragments are reassembled into one message",
            vec![
                f(false, OpCode::Text, b"Hel"),
                f(false, OpCode::Continuation, b""),
                f(true, OpCode::Continuation, b"lo"),
            ],
            vec![text("Hello")],
        ),
        case(
            "a Ping between fragments is answered first",
            vec![
                f(false, OpCode::Binary, b"\x01"),
                f(true, OpCode::Ping, b"between"),
                f(true, OpCode::Continuation, b"\x02"),
            ],
            vec![pong(b"between"), Out::Frame(OpCode::Binary, vec![1, 2])],
        ),
        case(
            "a Ping gets a Pong with its payload",
            vec![f(true, OpCode::Ping, b"\x00\xffping")],
            vec![pong(b"\x00\xffping")],
        ),
        case(
            "an empty Ping gets an empty Pong",
            vec![f(true, OpCode::Ping, b"")],
            vec![pong(b"")],
        ),
        case(
            "an unsolicited Pong is ignored",
            vec![
                f(true, OpCode::Pong, b"unasked"),
                f(true, OpCode::Text, b"after"),
            ],
            vec![text("after")],
        ),
        case(
            "a Close 1000 is answered with 1000",
            vec![
                f(true, OpCode::Text, b"last"),
                f(true, OpCode::Close, &close_payload(1000, b"bye")),
            ],
            vec![text("last"), Out::Close(1000)],
        ),
        case(
            "a frame masked the wrong way is a protocol error",
            vec![
                f(true, OpCode::Text, b"ok"),
                frame(true, 0, OpCode::Text, wrong_key, b"bad"),
            ],
            vec![text("ok"), Out::Close(1002)],
        ),
        case(
            "a reserved opcode is a protocol error",
            vec![frame(true, 0, 0x3, key, b"")],
            vec![Out::Close(1002)],
        ),
        case(
            "RSV1 without an extension is a protocol error",
            vec![frame(true, RSV1, OpCode::Text, key, b"x")],
            vec![Out::Close(1002)],
        ),
        case(
            "a fragmented Ping is a protocol error",
            vec![f(false, OpCode::Ping, b"")],
            vec![Out::Close(1002)],
        ),
        case(
            "a Ping over 125 bytes is a protocol error",
            vec![long_ping],
            vec![Out::Close(1002)],
        ),
        case(
            "a continuation without a start is a protocol error",
            vec![f(true, OpCode::Continuation, b"x")],
            vec![Out::Close(1002)],
        ),
        case(
            "a new message inside a fragmented one is a protocol error",
            vec![f(false, OpCode::Text, b"a"), f(true, OpCode::Text, b"b")],
            vec![Out::Close(1002)],
        ),
        case(
            "close code 1005 on the wire is a protocol error",
            vec![f(true, OpCode::Close, &close_payload(1005, b""))],
            vec![Out::Close(1002)],
        ),
        case(
            "a one-byte Close payload is a protocol error",
            vec![f(true, OpCode::Close, b"\x03")],
            vec![Out::Close(1002)],
        ),
        case(
            "invalid UTF-8 in a text message is 1007",
            vec![f(true, OpCode::Text, b"ok\xc3\x28")],
            vec![Out::Close(1007)],
        ),
        case(
            "invalid UTF-8 fails on the first fragment, before the message ends",
            vec![f(false, OpCode::Text, b"\xce\xba\xff")],
            vec![Out::Close(1007)],
        ),
        case(
            "invalid UTF-8 in a Close reason is 1007",
            vec![f(true, OpCode::Close, &close_payload(1000, b"\xff"))],
            vec![Out::Close(1007)],
        ),
        case(
            "a frame over the limit is 1009 on its declared length, before its payload",
            vec![over_limit],
            vec![Out::Close(1009)],
        ),
        case(
            "fragments over the message limit are 1009",
            vec![
                f(false, OpCode::Text, &half),
                f(true, OpCode::Continuation, &half),
            ],
            vec![Out::Close(1009)],
        ),
    ];
    // The same fragmented message again, one byte per DATA frame.
    cases.push(Case {
        name: "fragments written one byte per DATA frame",
        input: vec![
            f(false, OpCode::Text, "κό".as_bytes()),
            f(true, OpCode::Continuation, "σμε".as_bytes()),
        ],
        chunk: 1,
        expected: vec![text("κόσμε")],
    });
    // A case whose peer stays within the protocol ends with the peer's Close 1000, answered.
    for case in &mut cases {
        if !matches!(case.expected.last(), Some(Out::Close(_))) {
            case.input
                .push(f(true, OpCode::Close, &close_payload(1000, b"")));
            case.expected.push(Out::Close(1000));
        }
    }
    cases
}

/// Writes `case`'s input on `send`, `chunk` bytes per DATA frame, without ending the stream.
fn write_input(send: &mut h2::SendStream<Bytes>, case: &Case) {
    let bytes: Vec<u8> = case.input.concat();
    for piece in bytes.chunks(case.chunk.min(bytes.len().max(1))) {
        send.send_data(Bytes::copy_from_slice(piece), false)
            .unwrap();
    }
}

/// Reads until a whole Close frame has arrived or the stream ends, releasing capacity; the
/// bytes so far.
async fn read_through_close(body: &mut RecvStream, bytes: &mut Vec<u8>) {
    loop {
        let mut rest = &bytes[..];
        while let Ok(Some((frame, used))) = Frame::parse(rest) {
            if frame.opcode == OpCode::Close {
                return;
            }
            rest = &rest[used..];
        }
        match body.data().await {
            Some(chunk) => {
                let chunk = chunk.unwrap_or_else(|e| panic!("{e} after {bytes:x?}"));
                let _ = body.flow_control().release_capacity(chunk.len());
                bytes.extend_from_slice(&chunk);
            }
            None => return,
        }
    }
}

/// Reads to the stream's end, releasing capacity.
async fn read_to_end(body: &mut RecvStream, bytes: &mut Vec<u8>) {
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
}

/// What came back, with the masking each role must use checked.
fn outputs(name: &str, bytes: &[u8], masked: bool) -> Vec<Out> {
    frames(bytes)
        .into_iter()
        .map(|frame| {
            assert!(frame.fin && frame.rsv == 0, "{name}: {frame:?}");
            assert_eq!(frame.masked, masked, "{name}: masking of {frame:?}");
            match frame.opcode {
                OpCode::Close => {
                    assert!(frame.payload.len() >= 2, "{name}: a Close without a code");
                    Out::Close(u16::from_be_bytes([frame.payload[0], frame.payload[1]]))
                }
                opcode => Out::Frame(opcode, frame.payload),
            }
        })
        .collect()
}

mod h2_support;

/// Our server, an echo application, on every extended CONNECT of a connection.
async fn serve(stream: TcpStream) -> Result<(), h2::Error> {
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake(stream)
        .await?;
    while let Some(request) = connection.accept().await {
        let (request, respond) = request?;
        tokio::spawn(async move {
            let options = AcceptOptions::new().config(config());
            let mut ws = accept_h2(request, respond, &options).await.unwrap();
            while let Some(Ok(message)) = ws.recv().await {
                if let m @ (Message::Text(_) | Message::Binary(_)) = message {
                    let _ = ws.send(m).await;
                }
            }
        });
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_over_h2() {
    bounded(async {
        let addr: SocketAddr = serve_loopback(serve).await;
        let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        let mut failures = Vec::new();
        for case in cases(Some(KEY)) {
            let mut client = send_request.clone().ready().await.unwrap();
            let (response, mut send) = client.send_request(extended_connect(addr), false).unwrap();
            let response = response.await.unwrap();
            assert_eq!(response.status(), 200, "{}", case.name);
            let mut body = response.into_body();
            write_input(&mut send, &case);
            // The server ends the stream after its Close (at once after a failure; after
            // its reply to ours), without waiting for anything more from us.
            let mut bytes = Vec::new();
            read_to_end(&mut body, &mut bytes).await;
            let got = outputs(case.name, &bytes, false);
            if got != case.expected {
                failures.push(format!(
                    "{}: got {got:?}, expected {:?}",
                    case.name, case.expected
                ));
            }
            let _ = send.send_data(Bytes::new(), true);
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_over_h2() {
    bounded(async {
        let cases = cases(None);
        let count = cases.len();
        let (listener, addr) = loopback().await;
        // The plain server: one stream per case, in order; it writes the case, reads our
        // client's frames through its Close, ends the stream and reads to the end.
        let server = serve_once(listener, move |stream| async move {
            let mut connection = h2_server(stream).await;
            let mut cases = cases.into_iter();
            let mut runs = Vec::new();
            // Our client opens the streams one after the other: they arrive in case order.
            while let Some(Ok((request, mut respond))) = connection.accept().await {
                let case = cases.next().expect("one stream per case");
                let mut send = respond
                    .send_response(http::Response::new(()), false)
                    .unwrap();
                let mut body = request.into_body();
                runs.push(tokio::spawn(async move {
                    write_input(&mut send, &case);
                    let mut bytes = Vec::new();
                    read_through_close(&mut body, &mut bytes).await;
                    let _ = send.send_data(Bytes::new(), true);
                    read_to_end(&mut body, &mut bytes).await;
                    (case.name, outputs(case.name, &bytes, true), case.expected)
                }));
            }
            runs
        });
        let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        let options = ConnectOptions::new().config(config());
        for _ in 0..count {
            let mut ws = connect_h2(send_request.clone(), &format!("ws://{addr}/"), &options)
                .await
                .unwrap();
            // The echo application, until the connection is over.
            loop {
                match ws.recv().await {
                    Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                        let _ = ws.send(m).await;
                    }
                    Some(Ok(_)) | Some(Err(Error::Closed(_))) => {}
                    Some(Err(e)) => panic!("{e}"),
                    None => break,
                }
            }
            let outcome = ws.close_outcome().unwrap();
            assert!(outcome.code != CloseCode::ABNORMAL, "{outcome:?}");
        }
        drop(send_request);
        let mut failures = Vec::new();
        for result in server.await.unwrap() {
            let (name, got, expected) = result.await.unwrap();
            if got != expected {
                failures.push(format!("{name}: got {got:?}, expected {expected:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    })
    .await;
}
