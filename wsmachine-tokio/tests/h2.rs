//! WebSockets over HTTP/2 (RFC 8441) with the `h2` crate over loopback, both roles: messages
//! far past HTTP/2's 64 KiB default windows (they get through only if received capacity is
//! released and send capacity waited for), several WebSockets on one connection, a server
//! without the extended CONNECT setting, and a refusal; against plain `h2` peers, the ends
//! of a stream (END_STREAM is end of file, RST_STREAM a typed abrupt end, 1006) and flow
//! control both ways (a peer that does not read gets one window, no more), a dropped
//! WebSocket delivering what it wrote, a refused extended CONNECT; permessage-deflate over h2
//! (feature `deflate`).

use std::future::Future;
use std::net::SocketAddr;

use h2::ext::Protocol;
use h2_support::{extended_connect, h2_server};
use tokio::net::TcpStream;
use wsmachine_testkit::driver::{bounded, loopback, serve_loopback, serve_once};
use wsmachine_testkit::{KEY, frame, pattern};
use wsmachine_tokio::wsmachine::Bytes;
use wsmachine_tokio::wsmachine::frame::OpCode;
use wsmachine_tokio::{
    AcceptOptions, CloseCode, ConnectOptions, Error, Message, accept_h2, connect_h2, h2_client,
};

mod h2_support;

/// Serves one HTTP/2 connection; each extended CONNECT is an echo WebSocket in its own task.
async fn serve(stream: TcpStream) -> Result<(), h2::Error> {
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake(stream)
        .await?;
    while let Some(request) = connection.accept().await {
        let (request, respond) = request?;
        tokio::spawn(async move {
            let options = AcceptOptions::new().protocols(["echo"]);
            let Ok(mut ws) = accept_h2(request, respond, &options).await else {
                return;
            };
            while let Some(Ok(message)) = ws.recv().await {
                if let m @ (Message::Text(_) | Message::Binary(_)) = message {
                    ws.send(m).await.unwrap();
                }
            }
        });
    }
    Ok(())
}

async fn start_server() -> SocketAddr {
    serve_loopback(serve).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_each_way_and_several_websockets_on_one_connection() {
    bounded(async {
        let addr = start_server().await;
        let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        let options = ConnectOptions::new().protocol("chat").protocol("echo");
        let mut sockets = Vec::new();
        for _ in 0..3 {
            let url = format!("ws://{addr}/chat");
            let ws = connect_h2(send_request.clone(), &url, &options)
                .await
                .unwrap();
            assert_eq!(ws.protocol(), Some("echo"));
            sockets.push(ws);
        }
        // All three at once, each with a 1 MiB message (16 windows' worth).
        let runs = sockets.into_iter().enumerate().map(|(i, mut ws)| {
            tokio::spawn(async move {
                let big = pattern(i as u64, 1 << 20);
                ws.send(format!("hello {i}")).await.unwrap();
                ws.send(big.clone()).await.unwrap();
                assert_eq!(
                    ws.recv().await.unwrap().unwrap(),
                    Message::text(format!("hello {i}"))
                );
                assert!(ws.recv().await.unwrap().unwrap() == Message::binary(big));
                ws.close(CloseCode::NORMAL, "done").await.unwrap();
                assert!(matches!(ws.recv().await, Some(Ok(Message::Close(_)))));
                assert!(ws.recv().await.is_none());
                ws.close_outcome().unwrap().clone()
            })
        });
        for run in runs.collect::<Vec<_>>() {
            let outcome = run.await.unwrap();
            assert!(
                outcome.clean && outcome.code == CloseCode::NORMAL,
                "{outcome:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn client_requires_the_servers_connect_protocol_setting() {
    bounded(async {
        let (listener, addr) = loopback().await;
        serve_once(listener, |stream| async move {
            let mut connection = h2::server::handshake(stream).await.unwrap();
            while let Some(Ok(_)) = connection.accept().await {}
        });
        let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        match connect_h2(
            send_request,
            &format!("ws://{addr}/"),
            &ConnectOptions::new(),
        )
        .await
        {
            Err(Error::ExtendedConnectDisabled) => {}
            other => panic!("{other:?}"),
        }
    })
    .await;
}

/// An extended CONNECT without `sec-websocket-version` is refused with `426` and the version
/// the server speaks, with a body.
#[tokio::test]
async fn connect_without_version_is_refused() {
    bounded(async {
        let addr = start_server().await;
        let client = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        let mut client = client.ready().await.unwrap();
        let mut request = http::Request::builder()
            .method(http::Method::CONNECT)
            .uri(format!("http://{addr}/chat"))
            .body(())
            .unwrap();
        request
            .extensions_mut()
            .insert(Protocol::from_static("websocket"));
        let (response, _send) = client.send_request(request, true).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 426);
        assert_eq!(response.headers()["sec-websocket-version"], "13");
        let mut body = response.into_body();
        let mut text = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk: Bytes = chunk.unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            text.extend_from_slice(&chunk);
        }
        assert!(!text.is_empty(), "the refusal explains itself");
    })
    .await;
}

// ---- plain `h2` peers: the ends of a stream, and flow control both ways ----

/// A plain `h2` client's WebSocket stream at our server, which runs `server` on the accepted
/// WebSocket: the client's send half and receive half.
async fn plain_client_at<F, Fut>(server: F) -> (h2::SendStream<Bytes>, h2::RecvStream)
where
    F: FnOnce(wsmachine_tokio::WebSocket<wsmachine_tokio::H2Stream>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (listener, addr) = loopback().await;
    serve_once(listener, |stream| async move {
        let mut connection = h2_server(stream).await;
        let (request, respond) = connection.accept().await.unwrap().unwrap();
        let ws = accept_h2(request, respond, &AcceptOptions::new())
            .await
            .unwrap();
        // The connection task keeps the stream's I/O going while `server` runs.
        let run = tokio::spawn(server(ws));
        while let Some(Ok(_)) = connection.accept().await {}
        run.await.unwrap();
    });
    let mut send_request = h2_client(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap()
        .ready()
        .await
        .unwrap();
    let (response, send) = send_request
        .send_request(extended_connect(addr), false)
        .unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    (send, response.into_body())
}

/// A plain `h2` server (extended CONNECT enabled) that answers one WebSocket's CONNECT with
/// `200` and runs `server` on the stream's halves; our client's WebSocket on it.
async fn our_client_at<F, Fut>(server: F) -> wsmachine_tokio::WebSocket<wsmachine_tokio::H2Stream>
where
    F: FnOnce(h2::SendStream<Bytes>, h2::RecvStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (listener, addr) = loopback().await;
    serve_once(listener, |stream| async move {
        let mut connection = h2_server(stream).await;
        let (request, mut respond) = connection.accept().await.unwrap().unwrap();
        assert_eq!(request.method(), http::Method::CONNECT);
        let send = respond
            .send_response(http::Response::new(()), false)
            .unwrap();
        let run = tokio::spawn(server(send, request.into_body()));
        while let Some(Ok(_)) = connection.accept().await {}
        run.await.unwrap();
    });
    let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
        .await
        .unwrap();
    connect_h2(
        send_request,
        &format!("ws://{addr}/"),
        &ConnectOptions::new(),
    )
    .await
    .unwrap()
}

/// Reads a stream to its END_STREAM, releasing capacity; the bytes, or the error that ended it.
async fn read_to_end(body: &mut h2::RecvStream) -> Result<Vec<u8>, h2::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The peer's END_STREAM without a Close is the transport's end: the connection ends with
/// 1006 (abnormal), after the messages before it.
#[tokio::test]
async fn end_stream_from_a_client_is_end_of_file_for_our_server() {
    bounded(async {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let (mut send, mut body) = plain_client_at(|mut ws| async move {
            let first = ws.recv().await.unwrap().unwrap();
            let end = ws.recv().await;
            let after = ws.recv().await;
            let _ = done_tx.send((first, end, after, ws.close_outcome().cloned()));
        })
        .await;
        let hi = frame(true, 0, OpCode::Text, Some(KEY), b"hi");
        send.send_data(Bytes::from(hi), true).unwrap();
        let (first, end, after, outcome) = done_rx.await.unwrap();
        assert_eq!(first, Message::text("hi"));
        match end {
            Some(Err(Error::Closed(outcome))) => assert_eq!(outcome.code, CloseCode::ABNORMAL),
            other => panic!("{other:?}"),
        }
        assert!(after.is_none());
        assert!(!outcome.unwrap().clean);
        // Our server ended its side too, with nothing sent.
        assert_eq!(read_to_end(&mut body).await.unwrap(), b"");
    })
    .await;
}

#[tokio::test]
async fn end_stream_from_a_server_is_end_of_file_for_our_client() {
    bounded(async {
        let (got_tx, got_rx) = tokio::sync::oneshot::channel();
        let mut ws = our_client_at(|mut send, mut body| async move {
            send.send_data(
                Bytes::from(frame(true, 0, OpCode::Binary, None, b"\x01\x02")),
                true,
            )
            .unwrap();
            let _ = got_tx.send(read_to_end(&mut body).await.unwrap());
        })
        .await;
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::binary(vec![1u8, 2])
        );
        match ws.recv().await {
            Some(Err(Error::Closed(outcome))) => assert_eq!(outcome.code, CloseCode::ABNORMAL),
            other => panic!("{other:?}"),
        }
        assert!(ws.recv().await.is_none());
        // The client saw the end and ended its side, with nothing sent.
        assert_eq!(got_rx.await.unwrap(), b"");
    })
    .await;
}

/// RST_STREAM from the peer is an abrupt end: `Error::StreamReset` with the reason, then
/// `None`; the outcome is 1006.
#[tokio::test]
async fn reset_from_a_client_is_a_typed_abrupt_end_for_our_server() {
    bounded(async {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let (mut send, _body) = plain_client_at(|mut ws| async move {
            let first = ws.recv().await.unwrap().unwrap();
            let end = ws.recv().await;
            let after = ws.recv().await;
            let _ = done_tx.send((first, end, after, ws.close_outcome().cloned()));
        })
        .await;
        send.send_data(
            Bytes::from(frame(true, 0, OpCode::Text, Some(KEY), b"x")),
            false,
        )
        .unwrap();
        // Let the frame arrive first: a reset discards what was not yet read.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        send.send_reset(h2::Reason::CANCEL);
        let (first, end, after, outcome) = done_rx.await.unwrap();
        assert_eq!(first, Message::text("x"));
        match end {
            Some(Err(Error::StreamReset(reason))) => assert_eq!(reason, h2::Reason::CANCEL),
            other => panic!("{other:?}"),
        }
        assert!(after.is_none());
        let outcome = outcome.unwrap();
        assert!(
            !outcome.clean && outcome.code == CloseCode::ABNORMAL,
            "{outcome:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn reset_from_a_server_is_a_typed_abrupt_end_for_our_client() {
    bounded(async {
        let mut ws = our_client_at(|mut send, _body| async move {
            send.send_reset(h2::Reason::INTERNAL_ERROR);
        })
        .await;
        match ws.recv().await {
            Some(Err(Error::StreamReset(reason))) => {
                assert_eq!(reason, h2::Reason::INTERNAL_ERROR);
            }
            other => panic!("{other:?}"),
        }
        assert!(ws.recv().await.is_none());
        assert_eq!(ws.close_outcome().unwrap().code, CloseCode::ABNORMAL);
        // Sending after the end is refused, not queued.
        assert!(matches!(ws.send("late").await, Err(Error::AlreadyClosed)));
    })
    .await;
}

/// HTTP/2's initial window (RFC 9113 §6.9.2), which the plain peers keep.
const INITIAL_WINDOW: usize = 65_535;

/// Sending waits for the peer's window: a server that does not read gets one window's worth
/// and no more, and `send` stays pending (nothing piles up without bound); once the server
/// reads and releases capacity, the message gets through whole.
#[tokio::test]
async fn our_client_waits_for_send_capacity() {
    bounded(async {
        let (read_tx, read_rx) = tokio::sync::oneshot::channel::<()>();
        let (got_tx, mut got_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut ws = our_client_at(|_send, mut body| async move {
            // Take what arrives without releasing capacity, until told to read.
            let mut held = 0;
            let mut read = std::pin::pin!(read_rx);
            loop {
                tokio::select! {
                    chunk = body.data() => {
                        let chunk = chunk.unwrap().unwrap();
                        held += chunk.len();
                        got_tx.send(held).unwrap();
                    }
                    _ = &mut read => break,
                }
            }
            let _ = body.flow_control().release_capacity(held);
            let mut bytes = held;
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                let _ = body.flow_control().release_capacity(chunk.len());
                bytes += chunk.len();
                got_tx.send(bytes).unwrap();
            }
        })
        .await;
        let big = pattern(1, 1 << 20);
        {
            let send = ws.send(big.clone());
            tokio::pin!(send);
            // The server's window fills, with the send still going...
            loop {
                tokio::select! {
                    _ = &mut send => panic!("send finished past the peer's window"),
                    held = got_rx.recv() => {
                        let held = held.unwrap();
                        assert!(held <= INITIAL_WINDOW, "{held} bytes past a {INITIAL_WINDOW}-byte window");
                        if held == INITIAL_WINDOW {
                            break;
                        }
                    }
                }
            }
            // ...and then nothing more goes out: the send waits.
            let stalled =
                tokio::time::timeout(std::time::Duration::from_millis(300), &mut send).await;
            assert!(stalled.is_err(), "send finished past the peer's window");
            assert!(got_rx.try_recv().is_err(), "bytes past the peer's window");
        }
        read_tx.send(()).unwrap();
        // The dropped `send` left its message queued: flushing finishes it.
        ws.flush().await.unwrap();
        let header = 10; // 127 and a 64-bit length, 4 bytes of masking key
        let total = big.len() + header + 4;
        loop {
            let n = got_rx.recv().await.unwrap();
            assert!(n <= total);
            if n == total {
                break;
            }
        }
    })
    .await;
}

/// Receiving releases capacity only as the application reads: a server WebSocket whose
/// application does not call `recv` lets a plain client send one window's worth, no more;
/// once it reads, the rest flows.
#[tokio::test]
async fn our_server_releases_capacity_as_it_reads() {
    bounded(async {
        let (start_tx, start_rx) = tokio::sync::oneshot::channel::<()>();
        let (len_tx, len_rx) = tokio::sync::oneshot::channel();
        let (mut send, _body) = plain_client_at(|mut ws| async move {
            start_rx.await.unwrap();
            if let Some(Ok(Message::Binary(data))) = ws.recv().await {
                let _ = len_tx.send(data.len());
            }
        })
        .await;
        let big = pattern(2, 1 << 20);
        let wire = Bytes::from(frame(true, 0, OpCode::Binary, Some(KEY), &big));
        let mut sent = 0;
        send.reserve_capacity(wire.len());
        // The server's window: all of it is granted...
        while sent < INITIAL_WINDOW {
            let granted = capacity(&mut send).await.unwrap().unwrap();
            let n = granted.min(wire.len() - sent);
            send.send_data(wire.slice(sent..sent + n), false).unwrap();
            sent += n;
        }
        assert_eq!(sent, INITIAL_WINDOW);
        // ...and no more while the application does not read.
        let more =
            tokio::time::timeout(std::time::Duration::from_millis(300), capacity(&mut send)).await;
        assert!(
            matches!(more, Err(_) | Ok(Some(Ok(0)))),
            "capacity past the window of a reader that does not read: {more:?}"
        );
        start_tx.send(()).unwrap();
        while sent < wire.len() {
            let granted = capacity(&mut send).await.unwrap().unwrap();
            let n = granted.min(wire.len() - sent);
            send.send_data(wire.slice(sent..sent + n), false).unwrap();
            sent += n;
        }
        assert_eq!(len_rx.await.unwrap(), big.len());
    })
    .await;
}

/// A WebSocket dropped right after its last send ends like a TCP socket: the peer reads every
/// frame, then END_STREAM; no reset discards them.
#[tokio::test]
async fn a_dropped_client_delivers_what_it_wrote_then_ends_the_stream() {
    bounded(async {
        let (got_tx, got_rx) = tokio::sync::oneshot::channel();
        let mut ws = our_client_at(|_send, mut body| async move {
            let _ = got_tx.send(read_to_end(&mut body).await);
        })
        .await;
        ws.send("last words").await.unwrap();
        ws.close(CloseCode::GOING_AWAY, "bye").await.unwrap();
        drop(ws);
        let bytes = got_rx.await.unwrap().expect("the stream ends, not reset");
        let frames = wsmachine_testkit::frames(&bytes);
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!(
            (frames[0].opcode, &frames[0].payload[..]),
            (OpCode::Text, &b"last words"[..])
        );
        assert_eq!(
            (frames[1].opcode, &frames[1].payload[..]),
            (OpCode::Close, &b"\x03\xe9bye"[..])
        );
    })
    .await;
}

#[tokio::test]
async fn a_dropped_server_delivers_what_it_wrote_then_ends_the_stream() {
    bounded(async {
        let (mut _send, mut body) = plain_client_at(|mut ws| async move {
            ws.send(vec![7u8; 100_000]).await.unwrap();
            ws.close(CloseCode::GOING_AWAY, "").await.unwrap();
        })
        .await;
        let bytes = read_to_end(&mut body)
            .await
            .expect("the stream ends, not reset");
        let frames = wsmachine_testkit::frames(&bytes);
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert!(frames[0].opcode == OpCode::Binary && frames[0].payload == vec![7u8; 100_000]);
        assert_eq!(
            (frames[1].opcode, &frames[1].payload[..]),
            (OpCode::Close, &b"\x03\xe9"[..])
        );
    })
    .await;
}

/// Waits for more send capacity on `send`.
async fn capacity(send: &mut h2::SendStream<Bytes>) -> Option<Result<usize, h2::Error>> {
    std::future::poll_fn(|cx| send.poll_capacity(cx)).await
}

/// A server that answers the extended CONNECT with anything but a 2xx refuses the WebSocket:
/// `connect_h2` fails with `Error::Response` and the status.
#[tokio::test]
async fn a_refused_extended_connect_fails_with_its_status() {
    bounded(async {
        let (listener, addr) = loopback().await;
        serve_once(listener, |stream| async move {
            let mut connection = h2_server(stream).await;
            while let Some(Ok((_, mut respond))) = connection.accept().await {
                let mut response = http::Response::new(());
                *response.status_mut() = http::StatusCode::FORBIDDEN;
                respond.send_response(response, true).unwrap();
            }
        });
        let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        match connect_h2(
            send_request,
            &format!("ws://{addr}/"),
            &ConnectOptions::new(),
        )
        .await
        {
            Err(Error::Response(e)) => assert_eq!(e.status(), Some(403)),
            other => panic!("{other:?}"),
        }
    })
    .await;
}

/// permessage-deflate (RFC 7692) over HTTP/2, our client and our server: offered in the
/// extended CONNECT, agreed in the `200`, a compressible message both ways.
#[cfg(feature = "deflate")]
#[tokio::test]
async fn permessage_deflate_over_h2() {
    use wsmachine_tokio::wsmachine::extensions::DeflateOptions;
    bounded(async {
        let (listener, addr) = loopback().await;
        let (wire_tx, wire_rx) = tokio::sync::oneshot::channel();
        serve_once(listener, |stream| async move {
            let mut connection = h2_server(stream).await;
            let (request, respond) = connection.accept().await.unwrap().unwrap();
            let options = AcceptOptions::new().deflate(DeflateOptions::new());
            let mut ws = accept_h2(request, respond, &options).await.unwrap();
            tokio::spawn(async move {
                assert!(ws.negotiated().deflate().is_some());
                let message = ws.recv().await.unwrap().unwrap();
                ws.send(message).await.unwrap();
                while ws.recv().await.is_some() {}
                let _ = wire_tx.send(());
            });
            while let Some(Ok(_)) = connection.accept().await {}
        });
        let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        let options = ConnectOptions::new().deflate(DeflateOptions::new());
        let mut ws = connect_h2(send_request, &format!("ws://{addr}/"), &options)
            .await
            .unwrap();
        assert!(ws.negotiated().deflate().is_some());
        let text = "over HTTP/2, compressed. ".repeat(4000);
        ws.send(text.as_str()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text(text));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while ws.recv().await.transpose().unwrap().is_some() {}
        assert!(ws.close_outcome().unwrap().clean);
        wire_rx.await.unwrap();
    })
    .await;
}

/// On the wire: a plain client offers permessage-deflate, our server agrees in the `200` and
/// echoes a text message compressed (RSV1, a payload smaller than the text).
#[cfg(feature = "deflate")]
#[tokio::test]
async fn our_server_compresses_over_h2() {
    use wsmachine_tokio::wsmachine::extensions::DeflateOptions;
    use wsmachine_tokio::wsmachine::frame::RSV1;
    bounded(async {
        let (listener, addr) = loopback().await;
        serve_once(listener, |stream| async move {
            let mut connection = h2_server(stream).await;
            let (request, respond) = connection.accept().await.unwrap().unwrap();
            let options = AcceptOptions::new().deflate(DeflateOptions::new());
            let mut ws = accept_h2(request, respond, &options).await.unwrap();
            tokio::spawn(async move {
                while let Some(Ok(message)) = ws.recv().await {
                    if let Message::Text(_) = message {
                        let _ = ws.send(message).await;
                    }
                }
            });
            while let Some(Ok(_)) = connection.accept().await {}
        });
        let mut client = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap()
            .ready()
            .await
            .unwrap();
        let mut request = extended_connect(addr);
        request.headers_mut().insert(
            "sec-websocket-extensions",
            http::HeaderValue::from_static("permessage-deflate"),
        );
        let (response, mut send) = client.send_request(request, false).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let agreed = response.headers()["sec-websocket-extensions"]
            .to_str()
            .unwrap();
        assert!(agreed.starts_with("permessage-deflate"), "{agreed}");
        let mut body = response.into_body();
        let text = "compress me over HTTP/2 ".repeat(500);
        // Uncompressed (no RSV1) is allowed with deflate agreed.
        let wire = frame(true, 0, OpCode::Text, Some(KEY), text.as_bytes());
        send.send_data(Bytes::from(wire), false).unwrap();
        let mut bytes = Vec::new();
        let echoed = loop {
            if let Ok(Some((frame, _))) = wsmachine_testkit::Frame::parse(&bytes) {
                break frame;
            }
            let chunk = body.data().await.unwrap().unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
        };
        assert_eq!(echoed.opcode, OpCode::Text);
        assert_eq!(echoed.rsv, RSV1, "compressed");
        assert!(
            echoed.payload.len() < text.len() / 10,
            "{} bytes for {} of text",
            echoed.payload.len(),
            text.len()
        );
    })
    .await;
}
