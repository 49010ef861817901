//! WebSockets over HTTP/3 (RFC 9220) on quiche over loopback UDP, both roles, with a
//! certificate from rcgen that the client verifies: several WebSockets on one QUIC
//! connection, messages past the stream windows (they get through only if read credit is
//! given back and send credit waited for), the stream's ends (FIN, reset), a refusal, and a
//! scripted conformance set where a raw client writes frames on an HTTP/3 stream and checks
//! the server's bytes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use wsmachine_testkit::driver::bounded;
use wsmachine_testkit::pattern;
use wsmachine_testkit::{Frame, FrameBuilder, Length, fragments, frame, frames};
use wsmachine_tokio::wsmachine::frame::OpCode;
use wsmachine_tokio::{
    AcceptOptions, CloseCode, Config, ConnectOptions, Error, H3Client, H3Error, H3Server, H3Stream,
    Message, WebSocket, accept_h3, connect_h3, h3_client, quic_config,
};

const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);
/// The conformance server's message limit.
const LIMIT: usize = 4096;

/// A self-signed certificate for `localhost` and its key, as PEM files (quiche loads files).
fn certificate() -> (PathBuf, PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "wsmachine-h3-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

/// An HTTP/3 server on a free loopback port with the certificate `cert` and its key.
async fn bind(cert: &Path, key: &Path) -> H3Server {
    let mut config = quic_config().unwrap();
    config
        .load_cert_chain_from_pem_file(cert.to_str().unwrap())
        .unwrap();
    config
        .load_priv_key_from_pem_file(key.to_str().unwrap())
        .unwrap();
    H3Server::bind("127.0.0.1:0", config).await.unwrap()
}

/// Starts an echo server; every WebSocket's end (the error `recv` gave, if any) is sent
/// on the channel.
async fn start_server(
    cert: &Path,
    key: &Path,
    options: AcceptOptions,
) -> (SocketAddr, mpsc::UnboundedReceiver<Option<Error>>) {
    let mut server = bind(cert, key).await;
    let addr = server.local_addr();
    let (ends, ended) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(request) = server.accept().await {
            let (options, ends) = (options.clone(), ends.clone());
            tokio::spawn(async move {
                let Ok(ws) = accept_h3(request, &options).await else {
                    return;
                };
                let _ = ends.send(echo(ws).await);
            });
        }
    });
    (addr, ended)
}

async fn echo(mut ws: WebSocket<H3Stream>) -> Option<Error> {
    while let Some(message) = ws.recv().await {
        match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                if let Err(e) = ws.send(m).await {
                    return Some(e);
                }
            }
            Ok(_) => {}
            Err(e) => return Some(e),
        }
    }
    None
}

async fn client(addr: SocketAddr, cert: &Path) -> H3Client {
    let mut config = quic_config().unwrap();
    config
        .load_verify_locations_from_file(cert.to_str().unwrap())
        .unwrap();
    config.verify_peer(true);
    h3_client(addr, "localhost", config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_websockets_on_one_connection_both_ways_and_clean_closes() {
    bounded(async {
        let (cert, key) = certificate();
        let (addr, mut ended) =
            start_server(&cert, &key, AcceptOptions::new().protocols(["echo"])).await;
        let h3 = client(addr, &cert).await;
        assert!(h3.is_extended_connect_enabled());
        let options = ConnectOptions::new().protocol("chat").protocol("echo");
        let mut sockets = Vec::new();
        for i in 0..3 {
            let ws = connect_h3(&h3, &format!("wss://localhost/chat/{i}"), &options)
                .await
                .unwrap();
            assert_eq!(ws.protocol(), Some("echo"));
            sockets.push(ws);
        }
        // Three request streams of one connection.
        let ids: Vec<u64> = sockets.iter().map(|ws| ws.get_ref().stream_id()).collect();
        assert_eq!(ids, [0, 4, 8]);
        // Interleaved: a text on each, then a binary message of 3 MiB on each (three times
        // the 1 MiB stream window), then the texts' echoes.
        for (i, ws) in sockets.iter_mut().enumerate() {
            ws.send(format!("hello {i}")).await.unwrap();
        }
        let big: Vec<Vec<u8>> = (0..3).map(|i| pattern(i, 3 << 20)).collect();
        let mut tasks = Vec::new();
        for (i, mut ws) in sockets.into_iter().enumerate() {
            let big = big[i].clone();
            tasks.push(tokio::spawn(async move {
                let Some(Ok(Message::Text(text))) = ws.recv().await else {
                    panic!("no text echo")
                };
                assert_eq!(&*text, format!("hello {i}"));
                let (mut reader, mut writer) = ws.split();
                let send = tokio::spawn(async move {
                    writer.send(Message::Binary(big.into())).await.unwrap();
                    writer
                });
                let Some(Ok(Message::Binary(echoed))) = reader.recv().await else {
                    panic!("no binary echo")
                };
                let writer = send.await.unwrap();
                let mut ws = reader.reunite(writer).unwrap();
                ws.close(CloseCode::NORMAL, "bye").await.unwrap();
                // The server's Close, then `None`: a clean end.
                let reply = ws.recv().await;
                assert!(
                    matches!(&reply, Some(Ok(Message::Close(Some(f)))) if f.code() == CloseCode::NORMAL),
                    "{reply:?}"
                );
                assert!(ws.recv().await.is_none(), "a clean close ends with None");
                assert!(ws.close_outcome().unwrap().clean);
                echoed
            }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(&task.await.unwrap()[..], &big[i][..]);
        }
        for _ in 0..3 {
            assert!(
                ended.recv().await.unwrap().is_none(),
                "clean on the server too"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_stream_ends_the_websocket_with_1006() {
    bounded(async {
        let (cert, key) = certificate();
        let (addr, mut ended) = start_server(&cert, &key, AcceptOptions::new()).await;
        let h3 = client(addr, &cert).await;
        let stream = open_raw(&h3, "/reset").await;
        drop(stream);
        match ended.recv().await.unwrap() {
            Some(Error::Closed(outcome)) => {
                assert_eq!(outcome.code, CloseCode::ABNORMAL);
                assert!(!outcome.clean);
            }
            other => panic!("expected 1006, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_sees_a_server_reset_as_1006_and_a_refusal_as_its_status() {
    bounded(async {
        let (cert, key) = certificate();
        let mut server = bind(&cert, &key).await;
        let addr = server.local_addr();
        tokio::spawn(async move {
            while let Some(request) = server.accept().await {
                if request.request().uri().path() == "/refused" {
                    // The application's refusal: the client sees the status.
                    let options = AcceptOptions::new().on_request(|_, _| {
                        Err(wsmachine_tokio::wsmachine::handshake::Response::new(403).unwrap())
                    });
                    assert!(accept_h3(request, &options).await.is_err());
                    continue;
                }
                let mut ws = accept_h3(request, &AcceptOptions::new()).await.unwrap();
                // Takes one message, then drops the WebSocket: the stream is reset.
                let _ = ws.recv().await;
            }
        });
        let h3 = client(addr, &cert).await;
        match connect_h3(&h3, "wss://localhost/refused", &ConnectOptions::new()).await {
            Err(Error::Response(e)) => assert_eq!(e.status(), Some(403)),
            other => panic!("expected a 403 refusal, got {other:?}"),
        }
        let mut ws = connect_h3(&h3, "wss://localhost/reset", &ConnectOptions::new())
            .await
            .unwrap();
        ws.send("first").await.unwrap();
        match ws.recv().await {
            Some(Err(Error::Closed(outcome))) => assert_eq!(outcome.code, CloseCode::ABNORMAL),
            other => panic!("expected 1006, got {other:?}"),
        }
        assert!(ws.recv().await.is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_is_not_a_websocket_gets_400() {
    bounded(async {
        let (cert, key) = certificate();
        let (addr, _ended) = start_server(&cert, &key, AcceptOptions::new()).await;
        let h3 = client(addr, &cert).await;
        let request = http::Request::builder()
            .method("CONNECT")
            .uri("https://localhost/chat")
            .header("sec-websocket-version", "13")
            .body(())
            .unwrap();
        // An extended CONNECT for another protocol.
        let (response, mut stream) = h3.send_request(&request, Some("bytestream")).await.unwrap();
        assert_eq!(response.status(), 400);
        let mut body = Vec::new();
        stream.read_to_end(&mut body).await.unwrap();
        assert!(!body.is_empty(), "the refusal has a body saying why");
        // The connection serves WebSockets after it.
        let mut ws = connect_h3(&h3, "wss://localhost/ok", &ConnectOptions::new())
            .await
            .unwrap();
        ws.send("still here").await.unwrap();
        assert!(matches!(ws.recv().await, Some(Ok(Message::Text(t))) if &*t == "still here"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_refuses_a_server_without_our_certificate() {
    bounded(async {
        let (cert, key) = certificate();
        let (addr, _ended) = start_server(&cert, &key, AcceptOptions::new()).await;
        // Verifying against the system's roots (none of which signed the test certificate).
        let mut config = quic_config().unwrap();
        config.verify_peer(true);
        match h3_client(addr, "localhost", config).await {
            Err(Error::H3(H3Error::ConnectionClosed { .. })) => {}
            other => panic!("expected a failed handshake, got {other:?}"),
        }
    })
    .await;
}

// The conformance set: a raw client writes frames on an HTTP/3 stream, the echo server
// (message limit 4 KiB) answers, the raw client checks its bytes.

/// An extended CONNECT whose stream the test writes frames on itself.
async fn open_raw(h3: &H3Client, path: &str) -> H3Stream {
    let request = http::Request::builder()
        .method("CONNECT")
        .uri(format!("https://localhost{path}"))
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    let (response, stream) = h3.send_request(&request, Some("websocket")).await.unwrap();
    assert_eq!(response.status(), 200);
    stream
}

/// Writes `input`, then reads until the server ends the stream (its FIN), and parses the
/// frames.
async fn exchange(stream: &mut H3Stream, input: &[u8]) -> Vec<Frame> {
    stream.write_all(input).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("the server ends the stream")
        .unwrap();
    frames(&out)
}

fn close_code(frame: &Frame) -> u16 {
    assert_eq!(frame.opcode, OpCode::Close);
    u16::from_be_bytes([frame.payload[0], frame.payload[1]])
}

/// Runs each case on its own stream of one connection: input bytes, the frames expected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_over_an_h3_stream() {
    bounded(async {
        let (cert, key) = certificate();
        let mut config = Config::new();
        config.max_message_size = LIMIT;
        let (addr, _ended) = start_server(&cert, &key, AcceptOptions::new().config(config)).await;
        let h3 = client(addr, &cert).await;
        let close_normal = frame(true, 0, OpCode::Close, KEY, &1000u16.to_be_bytes());

        // Fragmentation, with a Ping between the fragments: the Pong first, then the
        // message whole; then our Close is answered with 1000 and the FIN.
        let mut stream = open_raw(&h3, "/fragments").await;
        let mut input = Vec::new();
        let parts = fragments(OpCode::Text, 0, KEY, "Hello, HTTP/3".as_bytes(), &[3, 7]);
        input.extend_from_slice(&parts[0]);
        input.extend(frame(true, 0, OpCode::Ping, KEY, b"p1"));
        input.extend_from_slice(&parts[1]);
        input.extend_from_slice(&parts[2]);
        input.extend(frame(true, 0, OpCode::Binary, KEY, &[0, 1, 2, 255]));
        input.extend_from_slice(&close_normal);
        let out = exchange(&mut stream, &input).await;
        let summary: Vec<(OpCode, bool, bool, Vec<u8>)> = out
            .iter()
            .map(|f| (f.opcode, f.fin, f.masked, f.payload.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                (OpCode::Pong, true, false, b"p1".to_vec()),
                (OpCode::Text, true, false, b"Hello, HTTP/3".to_vec()),
                (OpCode::Binary, true, false, vec![0, 1, 2, 255]),
                (OpCode::Close, true, false, 1000u16.to_be_bytes().to_vec()),
            ]
        );

        // Protocol errors: 1002. An unmasked client frame; a reserved opcode; RSV bits
        // without an extension; a fragmented Ping; a continuation with nothing to continue.
        let cases: [(&str, Vec<u8>); 5] = [
            ("unmasked", frame(true, 0, OpCode::Text, None, b"hi")),
            ("reserved opcode", frame(true, 0, 0x3, KEY, b"")),
            ("rsv1", frame(true, 0b100, OpCode::Text, KEY, b"hi")),
            ("fragmented ping", frame(false, 0, OpCode::Ping, KEY, b"")),
            (
                "lone continuation",
                frame(true, 0, OpCode::Continuation, KEY, b"x"),
            ),
        ];
        for (name, input) in cases {
            let mut stream = open_raw(&h3, "/protocol").await;
            let out = exchange(&mut stream, &input).await;
            assert_eq!(out.len(), 1, "{name}: {out:?}");
            assert_eq!(close_code(&out[0]), 1002, "{name}");
        }

        // Invalid UTF-8: 1007, and as early as the bytes prove it: the first fragment of a
        // text message that is never finished.
        let cases: [(&str, Vec<u8>); 3] = [
            ("whole", frame(true, 0, OpCode::Text, KEY, b"ok \xff")),
            (
                "first fragment",
                frame(false, 0, OpCode::Text, KEY, b"\xc0\x80"),
            ),
            (
                "close reason",
                frame(true, 0, OpCode::Close, KEY, b"\x03\xe8\xff"),
            ),
        ];
        for (name, input) in cases {
            let mut stream = open_raw(&h3, "/utf8").await;
            let out = exchange(&mut stream, &input).await;
            assert_eq!(out.len(), 1, "{name}: {out:?}");
            assert_eq!(close_code(&out[0]), 1007, "{name}");
        }

        // Limits: 1009 on the declared length, before the payload is sent; and on the total
        // of fragments.
        let mut stream = open_raw(&h3, "/limit").await;
        let header_only = FrameBuilder {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary.into(),
            masking_key: KEY,
            length: Length::Declared(LIMIT as u64 + 1),
            payload: b"",
        }
        .encode();
        let out = exchange(&mut stream, &header_only).await;
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(close_code(&out[0]), 1009);
        let mut stream = open_raw(&h3, "/limit").await;
        let payload = vec![b'a'; LIMIT + 1];
        let input: Vec<u8> = fragments(OpCode::Text, 0, KEY, &payload, &[LIMIT / 2]).concat();
        let out = exchange(&mut stream, &input).await;
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(close_code(&out[0]), 1009);
        // At the limit: echoed.
        let mut stream = open_raw(&h3, "/limit").await;
        let payload = vec![b'a'; LIMIT];
        let mut input = frame(true, 0, OpCode::Text, KEY, &payload);
        input.extend_from_slice(&close_normal);
        let out = exchange(&mut stream, &input).await;
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].payload, payload);
        assert_eq!(close_code(&out[1]), 1000);

        // Close codes the peer may not send: 1002 (1005 and 1006 are never on the wire).
        for code in [1005u16, 1006, 999, 5000] {
            let mut stream = open_raw(&h3, "/close").await;
            let input = frame(true, 0, OpCode::Close, KEY, &code.to_be_bytes());
            let out = exchange(&mut stream, &input).await;
            assert_eq!(out.len(), 1, "{code}: {out:?}");
            assert_eq!(close_code(&out[0]), 1002, "{code}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_stops_the_writer_at_the_stream_window() {
    bounded(async {
        let (cert, key) = certificate();
        let mut server = bind(&cert, &key).await;
        let addr = server.local_addr();
        let (streams, mut accepted) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(request) = server.accept().await {
                let stream = request.respond(http::Response::new(())).unwrap();
                streams.send(stream).unwrap();
            }
        });
        let h3 = client(addr, &cert).await;
        let mut stream = open_raw(&h3, "/slow").await;
        let mut server_side = accepted.recv().await.unwrap();
        const TOTAL: usize = 4 << 20;
        let data = pattern(7, TOTAL);
        let (progress, mut seen) = tokio::sync::watch::channel(0usize);
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            let mut written = 0;
            while written < TOTAL {
                let end = (written + (64 << 10)).min(TOTAL);
                written += stream.write(&sent[written..end]).await.unwrap();
                progress.send_replace(written);
            }
            stream.shutdown().await.unwrap();
            stream
        });
        // Nobody reads: the writer stalls once the 1 MiB stream window is spent. Wait until
        // it has not moved for 300 ms (a writer that is not held back finishes all 4 MiB).
        let mut stalled_at = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = *seen.borrow_and_update();
            if now == stalled_at {
                break;
            }
            stalled_at = now;
        }
        assert!(stalled_at >= 64 << 10, "some data went out: {stalled_at}");
        assert!(
            stalled_at <= 1 << 20,
            "no more than the window: {stalled_at}"
        );
        // Reading gives the credit back: everything arrives, in order, then the FIN.
        let mut received = Vec::new();
        server_side.read_to_end(&mut received).await.unwrap();
        assert!(
            received == data,
            "{} bytes, not the ones sent",
            received.len()
        );
        drop(writer.await.unwrap());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_quic_connection_ends_both_websockets_with_a_typed_error() {
    bounded(async {
        let (cert, key) = certificate();
        let (addr, mut ended) = start_server(&cert, &key, AcceptOptions::new()).await;
        let mut config = quic_config().unwrap();
        config
            .load_verify_locations_from_file(cert.to_str().unwrap())
            .unwrap();
        config.verify_peer(true);
        // The smaller of the two idle timeouts applies to both ends (RFC 9000 §10.1).
        config.set_max_idle_timeout(300);
        let h3 = h3_client(addr, "localhost", config).await.unwrap();
        let mut ws = connect_h3(&h3, "wss://localhost/idle", &ConnectOptions::new())
            .await
            .unwrap();
        let idle = |e: &Error| match e {
            Error::Io(e) => e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<H3Error>())
                .is_some_and(|e| *e == H3Error::IdleTimeout),
            _ => false,
        };
        match ws.recv().await {
            Some(Err(e)) if idle(&e) => {}
            other => panic!("expected the idle timeout, got {other:?}"),
        }
        assert!(ws.recv().await.is_none());
        assert_eq!(ws.close_outcome().unwrap().code, CloseCode::ABNORMAL);
        match ended.recv().await.unwrap() {
            Some(e) if idle(&e) => {}
            other => panic!("expected the idle timeout on the server, got {other:?}"),
        }
    })
    .await;
}
