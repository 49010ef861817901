//! The driver over loopback TCP: echo, Stream and Sink, a frame pipelined behind the request,
//! refusals, split halves under a Ping flood, cancel safety, backpressure.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use wsmachine_testkit::driver::{
    bounded, connect_pipelined, loopback, serve_once, small_connect, small_listener,
};
use wsmachine_testkit::{frame, frames, pattern};
use wsmachine_tokio::wsmachine::handshake::Response;
use wsmachine_tokio::{
    AcceptOptions, CloseCode, ConnectOptions, Error, Message, WebSocket, accept, accept_with,
    client_on, connect, connect_with,
};

/// Echoes every text and binary message until the connection ends.
async fn echo<S>(mut ws: WebSocket<S>) -> Result<(), Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(message) = ws.recv().await {
        if let m @ (Message::Text(_) | Message::Binary(_)) = message? {
            ws.send(m).await?;
        }
    }
    Ok(())
}

/// An echo server for one connection; the handle gives its result.
async fn echo_once() -> (SocketAddr, tokio::task::JoinHandle<Result<(), Error>>) {
    let (listener, addr) = loopback().await;
    let server = serve_once(listener, |stream| async move {
        echo(accept(stream).await?).await
    });
    (addr, server)
}

#[tokio::test]
async fn messages_echo_and_the_close_is_clean() {
    bounded(async {
        let (addr, server) = echo_once().await;
        let mut ws = connect(&format!("ws://{addr}/")).await.unwrap();
        ws.send("hello").await.unwrap();
        ws.send(vec![1u8, 2, 3]).await.unwrap();
        let big = pattern(1, 3 << 20);
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("hello"));
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::binary(vec![1u8, 2, 3])
        );
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::binary(big));
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        match ws.recv().await {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code(), CloseCode::NORMAL),
            other => panic!("{other:?}"),
        }
        assert!(ws.recv().await.is_none(), "a clean end is None");
        assert!(ws.recv().await.is_none(), "and stays None");
        let outcome = ws.close_outcome().unwrap();
        assert!(outcome.clean && outcome.code == CloseCode::NORMAL);
        server.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test]
async fn stream_and_sink_work_with_futures_util() {
    bounded(async {
        let (addr, server) = echo_once().await;
        let mut ws = connect(&format!("ws://{addr}/")).await.unwrap();
        for i in 0..10 {
            ws.feed(Message::text(format!("m{i}"))).await.unwrap();
        }
        ws.flush().await.unwrap();
        let echoes: Vec<Message> = (&mut ws).take(10).map(Result::unwrap).collect().await;
        let expected: Vec<Message> = (0..10).map(|i| Message::text(format!("m{i}"))).collect();
        assert_eq!(echoes, expected);
        SinkExt::close(&mut ws).await.unwrap();
        assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))));
        assert!(ws.next().await.is_none());
        server.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test]
async fn frame_pipelined_behind_the_request_is_echoed() {
    bounded(async {
        let (addr, server) = echo_once().await;
        let (stream, conn) =
            connect_pipelined(addr, "/", |first| first.send_text("pipelined").unwrap()).await;
        let mut ws = WebSocket::from_connection(stream, conn);
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::text("pipelined")
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while ws.recv().await.is_some() {}
        server.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test]
async fn invalid_request_gets_an_error_response() {
    bounded(async {
        let (listener, addr) = loopback().await;
        let server = serve_once(listener, |stream| async move { accept(stream).await.err() });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n",
            )
            .await
            .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let response = String::from_utf8(response).unwrap();
        assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
        assert!(matches!(server.await.unwrap(), Some(Error::Request(e)) if e.status() == 426));
    })
    .await;
}

#[tokio::test]
async fn options_choose_the_protocol_and_refusals_reach_the_client() {
    bounded(async {
        let (listener, addr) = loopback().await;
        let options = AcceptOptions::new()
            .protocols(["v2", "v1"])
            .header("X-Server", "wsmachine")
            .on_request(|request, accept| {
                if request.path() == "/ok" {
                    Ok(accept)
                } else {
                    Err(Response::new(404).unwrap().with_body("nothing here"))
                }
            });
        let server = tokio::spawn(async move {
            let mut results = Vec::new();
            for _ in 0..2 {
                let (stream, _) = listener.accept().await.unwrap();
                results.push(match accept_with(stream, &options).await {
                    Ok(ws) => Ok(ws.protocol().map(str::to_owned)),
                    Err(e) => Err(e.to_string()),
                });
            }
            results
        });
        let options = ConnectOptions::new().protocol("v1").protocol("v2");
        let ws = connect_with(&format!("ws://{addr}/ok"), &options)
            .await
            .unwrap();
        assert_eq!(ws.protocol(), Some("v2"));
        match connect_with(&format!("ws://{addr}/nope"), &options).await {
            Err(Error::Response(e)) => assert_eq!(e.status(), Some(404)),
            other => panic!("{other:?}"),
        }
        let results = server.await.unwrap();
        assert_eq!(results[0], Ok(Some("v2".to_owned())));
        assert!(results[1].as_ref().unwrap_err().contains("404"));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_hits_the_handshake_timeout() {
    let (listener, addr) = loopback().await;
    let server = serve_once(listener, |stream| async move { accept(stream).await.err() });
    let _silent = TcpStream::connect(addr).await.unwrap();
    assert!(matches!(
        server.await.unwrap(),
        Some(Error::HandshakeTimeout)
    ));
}

#[tokio::test]
async fn a_bad_url_and_wss_without_tls_are_errors() {
    assert!(matches!(
        connect("http://x/").await,
        Err(Error::InvalidUrl(_))
    ));
    #[cfg(not(feature = "rustls"))]
    {
        let (_listener, addr) = loopback().await;
        assert!(matches!(
            connect(&format!("wss://{addr}/")).await,
            Err(Error::TlsUnavailable)
        ));
    }
}

/// Only the reader half is polled while the peer floods Pings: the Pings are answered, up to
/// the last one (the reader writes the Pongs itself), and the writer half, idle all along, still works after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_half_answers_a_ping_flood_while_the_writer_is_idle() {
    bounded(async {
        const PINGS: usize = 2000;
        let (listener, addr) = loopback().await;
        let server = serve_once(listener, |stream| async move {
            let ws = accept(stream).await.unwrap();
            let (mut reader, writer) = ws.split();
            let mut pings = 0;
            let mut texts = Vec::new();
            while let Some(message) = reader.recv().await {
                match message.unwrap() {
                    Message::Ping(_) => pings += 1,
                    Message::Text(text) => texts.push(text),
                    _ => {}
                }
            }
            (pings, texts, writer)
        });
        // The client: raw frames, so it can count the Pongs exactly.
        let (mut stream, _conn) = connect_pipelined(addr, "/", |_| {}).await;
        let mut flood = Vec::new();
        for i in 0..PINGS {
            flood.extend(frame(
                true,
                0,
                0x9,
                Some([1, 2, 3, 4]),
                &(i as u32).to_be_bytes(),
            ));
        }
        let (mut rd, mut wr) = stream.split();
        let write = async {
            wr.write_all(&flood).await.unwrap();
            wr.write_all(&frame(true, 0, 0x1, Some([9, 9, 9, 9]), b"done"))
                .await
                .unwrap();
        };
        let mut received = Vec::new();
        let last = (PINGS as u32 - 1).to_be_bytes();
        let read = async {
            let mut buf = vec![0; 64 * 1024];
            loop {
                let n = rd.read(&mut buf).await.unwrap();
                assert!(n > 0, "the server ended the connection");
                received.extend_from_slice(&buf[..n]);
                if frames(&received)
                    .last()
                    .is_some_and(|pong| pong.payload == last)
                {
                    break;
                }
            }
        };
        tokio::join!(write, read);
        // RFC 6455 §5.5.3: a Pong may answer only the latest of several Pings, and the core
        // keeps at most 16 waiting; so the Pongs come in order and the last Ping is answered.
        let pongs = frames(&received);
        let mut previous = None;
        for pong in &pongs {
            assert_eq!(pong.opcode, wsmachine_tokio::wsmachine::frame::OpCode::Pong);
            let n = u32::from_be_bytes(pong.payload[..].try_into().unwrap());
            assert!(previous < Some(n), "Pongs in order");
            previous = Some(n);
        }
        // Close from the client; the server's reader ends cleanly.
        stream
            .write_all(&frame(true, 0, 0x8, Some([0; 4]), &1000u16.to_be_bytes()))
            .await
            .unwrap();
        let (pings, texts, _writer) = server.await.unwrap();
        assert_eq!(pings, PINGS);
        assert_eq!(texts, ["done"]);
    })
    .await;
}

/// Two tasks: the writer sends while the reader receives; the echoes all come back, and the
/// halves reunite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_in_two_tasks_and_reunite() {
    bounded(async {
        let (addr, server) = echo_once().await;
        let stream = small_connect(addr, 64 * 1024).await.unwrap();
        let ws = client_on(stream, &format!("ws://{addr}/"), &ConnectOptions::new())
            .await
            .unwrap();
        let (mut reader, mut writer) = ws.split();
        const COUNT: usize = 200;
        let sender = tokio::spawn(async move {
            for i in 0..COUNT {
                writer.send(pattern(i as u64, 32 * 1024)).await.unwrap();
            }
            writer
        });
        for i in 0..COUNT {
            let message = reader.recv().await.unwrap().unwrap();
            assert!(
                message == Message::binary(pattern(i as u64, 32 * 1024)),
                "echo {i}"
            );
        }
        let writer = sender.await.unwrap();
        let mut ws = reader.reunite(writer).unwrap();
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while let Some(m) = ws.recv().await {
            m.unwrap();
        }
        server.await.unwrap().unwrap();
    })
    .await;
}

/// `recv` and `send` under very short timeouts, dropped again and again while 4 MiB messages
/// go both ways: nothing is lost or repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_and_send_are_cancel_safe() {
    bounded(async {
        let listener = small_listener(64 * 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve_once(listener, |stream| async move {
            echo(accept(stream).await?).await
        });
        let stream = small_connect(addr, 64 * 1024).await.unwrap();
        let mut ws = client_on(stream, &format!("ws://{addr}/"), &ConnectOptions::new())
            .await
            .unwrap();
        let messages: Vec<Vec<u8>> = (0..4).map(|i| pattern(i, 4 << 20)).collect();
        let mut cancelled = 0u32;
        let mut received = Vec::new();
        let mut next = 0;
        while received.len() < messages.len() {
            // One send at a time, retried by flushing until done; receive in between.
            if next < messages.len() {
                let send = ws.send(messages[next].clone());
                match timeout(Duration::from_micros(100), send).await {
                    Ok(result) => {
                        result.unwrap();
                        next += 1;
                    }
                    Err(_) => {
                        // Queued at the first poll: never send it again.
                        cancelled += 1;
                        next += 1;
                    }
                }
            }
            match timeout(Duration::from_micros(100), ws.recv()).await {
                Ok(message) => received.push(message.unwrap().unwrap()),
                Err(_) => cancelled += 1,
            }
        }
        assert!(cancelled > 0, "never cancelled: the test proved nothing");
        for (i, (got, sent)) in received.iter().zip(&messages).enumerate() {
            assert!(got.as_bytes() == &sent[..], "message {i} differs");
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while ws.recv().await.is_some() {}
        server.await.unwrap().unwrap();
    })
    .await;
}

/// A peer that never reads: `send` stalls after a few MiB instead of queueing all 32 MiB, and
/// the memory held stays near the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_pushes_back() {
    bounded(async {
        let listener = small_listener(64 * 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let (hold, held) = tokio::sync::oneshot::channel::<()>();
        let server = serve_once(listener, |stream| async move {
            let ws = accept(stream).await.unwrap();
            // Never reads; keeps the connection until told.
            let _ = held.await;
            drop(ws);
        });
        let stream = small_connect(addr, 64 * 1024).await.unwrap();
        let mut ws = client_on(stream, &format!("ws://{addr}/"), &ConnectOptions::new())
            .await
            .unwrap();
        let mut sent = 0;
        let stalled = loop {
            if sent == 32 {
                break false;
            }
            let send = ws.send(pattern(sent as u64, 1 << 20));
            if timeout(Duration::from_millis(300), send).await.is_err() {
                break true;
            }
            sent += 1;
        };
        assert!(stalled, "sent all 32 MiB to a peer that never reads");
        assert!(sent < 8, "{sent} MiB went into socket buffers");
        assert!(
            ws.buffered_amount() <= (1 << 20) + 64,
            "{}",
            ws.buffered_amount()
        );
        let _ = hold.send(());
        server.await.unwrap();
    })
    .await;
}

/// A client that stops reading: the echo server stops reading too once its echoes cannot be
/// written, so the client's sends stall after a few MiB instead of the server buffering all
/// 32 MiB; when the client reads again, every echo arrives, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_server_stops_reading_while_the_client_does_not_read() {
    bounded(async {
        let listener = small_listener(64 * 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve_once(listener, |stream| async move {
            echo(accept(stream).await?).await
        });
        let stream = small_connect(addr, 64 * 1024).await.unwrap();
        let mut ws = client_on(stream, &format!("ws://{addr}/"), &ConnectOptions::new())
            .await
            .unwrap();
        const COUNT: usize = 32;
        const LEN: usize = 1 << 20;
        let mut queued = 0;
        let mut stalled = false;
        while queued < COUNT {
            let send = ws.send(pattern(queued as u64, LEN));
            queued += 1; // queued at the first poll, even if it stalls
            if timeout(Duration::from_millis(500), send).await.is_err() {
                stalled = true;
                break;
            }
        }
        // Each frame has a 14-byte header: 2, then a 64-bit length, then the masking key.
        let written = queued * (LEN + 14) - ws.buffered_amount();
        assert!(
            stalled,
            "wrote all {queued} MiB while not reading: no backpressure"
        );
        assert!(
            written < 6 << 20,
            "the server took {written} bytes it could not echo"
        );
        for i in 0..queued {
            let echo = ws.recv().await.unwrap().unwrap();
            assert!(
                echo == Message::binary(pattern(i as u64, LEN)),
                "echo {i} differs"
            );
        }
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        while ws.recv().await.transpose().unwrap().is_some() {}
        assert!(ws.close_outcome().unwrap().clean);
        server.await.unwrap().unwrap();
    })
    .await;
}

/// Large messages pipelined through the writer half while the reader half collects the
/// echoes slowly, over small socket buffers: all come back in order, and the close is clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_pipelined_messages_through_split_halves_with_a_slow_reader() {
    bounded(async {
        let listener = small_listener(64 * 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve_once(listener, |stream| async move {
            echo(accept(stream).await?).await
        });
        let stream = small_connect(addr, 64 * 1024).await.unwrap();
        let ws = client_on(stream, &format!("ws://{addr}/"), &ConnectOptions::new())
            .await
            .unwrap();
        let text = |i: usize, len: usize| {
            let mut s = format!("{i}:");
            while s.len() < len {
                s.push_str("κόσμε 𝄞 wsmachine ");
            }
            s
        };
        let mut messages = vec!["hello".to_owned(), String::new(), text(0, 8 << 20)];
        messages.extend((1..=16).map(|i| text(i, 512 * 1024)));
        messages.push("bye 👋".to_owned());
        let (mut reader, mut writer) = ws.split();
        let sending = {
            let messages = messages.clone();
            tokio::spawn(async move {
                for m in messages {
                    writer.send(m).await.unwrap();
                }
                writer
            })
        };
        for (i, sent) in messages.iter().enumerate() {
            if i % 4 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let echo = reader.recv().await.unwrap().unwrap();
            assert!(echo.as_text() == Some(sent.as_str()), "message {i} differs");
        }
        let mut writer = sending.await.unwrap();
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        while reader.recv().await.transpose().unwrap().is_some() {}
        assert!(reader.close_outcome().unwrap().clean);
        server.await.unwrap().unwrap();
    })
    .await;
}
