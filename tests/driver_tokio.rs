//! The tokio driver examples over loopback TCP, in process: the echo server of
//! `examples/tokio_echo_server.rs` against the client loop of `examples/tokio_client.rs` and
//! against `AsyncWs` directly. Small socket buffers make TCP push back early, so large
//! messages exercise backpressure and would expose a deadlock or a lost wake-up (every test
//! is bounded by a timeout).

// Each example includes its own copy of `examples/common/tokio_driver.rs`; this test runs two
// examples, so the driver is compiled twice, as two separate modules, exactly as they use it.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../examples/tokio_client.rs"]
mod client;
#[allow(dead_code)]
#[path = "../examples/tokio_echo_server.rs"]
mod echo_server;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use client::tokio_driver::AsyncWs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use wsmachine::handshake::{Accept, ClientOptions, Url};
use wsmachine::{CloseCode, Config, Event};
use wsmachine_testkit::driver::{
    bounded, connect_pipelined, loopback, serve_once, small_connect, small_listener,
};
use wsmachine_testkit::pattern;

/// Socket buffer size asked for on both ends (the kernel doubles it): small, so that TCP
/// pushes back after a few hundred KiB instead of tens of MiB.
const SOCKET_BUF: u32 = 64 * 1024;

/// Starts the example's echo server for one connection; the handle gives its result.
fn echo_server_once() -> (SocketAddr, JoinHandle<io::Result<()>>) {
    let listener = small_listener(SOCKET_BUF).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = serve_once(listener, |stream| async move {
        stream.set_nodelay(true)?;
        echo_server::serve(stream).await
    });
    (addr, server)
}

/// A client `AsyncWs` over a small-buffered connection to `addr`.
async fn small_client(addr: SocketAddr) -> AsyncWs<TcpStream> {
    let stream = small_connect(addr, SOCKET_BUF).await.unwrap();
    let url = Url::parse(&format!("ws://{addr}/")).unwrap();
    AsyncWs::client(stream, &url, ClientOptions::new(), Config::default())
        .await
        .unwrap()
}

/// A text message of about `len` bytes, different for each `i`, with multi-byte characters.
fn text(i: usize, len: usize) -> String {
    let mut s = format!("{i}:");
    while s.len() < len {
        s.push_str("κόσμε 𝄞 wsmachine ");
    }
    s
}

/// The example client loop against the example echo server: small and large messages,
/// pipelined without waiting for their echoes, all come back in order, and the close is clean.
/// Both peers' sockets are small, so this deadlocks if sending ever waits without reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_loop_echoes_large_pipelined_messages() {
    bounded(async {
        let (addr, server) = echo_server_once();
        let ws = small_client(addr).await;
        let mut messages = vec!["hello".to_owned(), String::new(), text(0, 8 << 20)];
        messages.extend((1..=16).map(|i| text(i, 512 * 1024)));
        messages.push("bye 👋".to_owned());

        let (input_tx, input) = mpsc::channel(4);
        let (output, mut received) = mpsc::channel(4);
        let feeder = {
            let messages = messages.clone();
            tokio::spawn(async move {
                for m in messages {
                    input_tx.send(m).await.unwrap();
                }
            })
        };
        let run = tokio::spawn(client::run(ws, input, output));
        let mut echoes = Vec::new();
        while let Some(echo) = received.recv().await {
            echoes.push(echo);
        }
        feeder.await.unwrap();
        let outcome = run.await.unwrap().unwrap().expect("an outcome");
        assert_eq!(echoes.len(), messages.len());
        for (i, (echo, sent)) in echoes.iter().zip(&messages).enumerate() {
            assert!(echo == sent, "message {i} differs ({} bytes)", sent.len());
        }
        assert!(outcome.clean, "{outcome:?}");
        assert_eq!(outcome.code, CloseCode::NORMAL);
        server.await.unwrap().unwrap();
    })
    .await;
}

/// A client that stops reading: the echo server stops reading too once its echoes cannot be
/// written, so the client's writes stall after a few MiB instead of the server buffering all
/// 32 MiB; when the client reads again, everything arrives, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_server_stops_reading_while_the_client_does_not_read() {
    bounded(async {
        let (addr, server) = echo_server_once();
        let mut ws = small_client(addr).await;
        const COUNT: usize = 32;
        const LEN: usize = 1 << 20;
        // Sends without ever reading, until a send stays stuck for half a second.
        let mut queued = 0;
        let mut stalled = false;
        while queued < COUNT {
            let message = pattern(queued as u64, LEN);
            queued += 1;
            let send = ws.send_binary(message);
            if timeout(Duration::from_millis(500), send).await.is_err() {
                stalled = true;
                break;
            }
        }
        // Each frame has a 14-byte header: 2, then a 64-bit length, then the masking key.
        let written = queued * (LEN + 14) - ws.conn().buffered_amount();
        assert!(
            stalled,
            "wrote all {queued} MiB while not reading: no backpressure"
        );
        assert!(
            written < 4 << 20,
            "the server took {written} bytes while its echoes could not be written"
        );

        // Now read: the queued messages go out and every echo comes back.
        for i in 0..queued {
            match ws.next_event().await.unwrap() {
                Some(Event::Binary(data)) => {
                    assert!(data == pattern(i as u64, LEN), "echo {i} differs")
                }
                other => panic!("echo {i}: {other:?}"),
            }
        }
        ws.close(CloseCode::NORMAL, "done").unwrap();
        let mut outcome = None;
        while let Some(event) = ws.next_event().await.unwrap() {
            if let Event::Closed(end) = event {
                outcome = Some(end);
            }
        }
        let outcome = outcome.expect("an outcome");
        assert!(
            outcome.clean && outcome.code == CloseCode::NORMAL,
            "{outcome:?}"
        );
        server.await.unwrap().unwrap();
    })
    .await;
}

/// A slow consumer behind the example client loop: the loop waits for it, so it stops reading,
/// and the server stalls; nothing is lost and the order holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_reader_behind_the_client_loop_loses_nothing() {
    bounded(async {
        let (addr, server) = echo_server_once();
        let ws = small_client(addr).await;
        let messages: Vec<String> = (0..24).map(|i| text(i, 256 * 1024)).collect();
        let (input_tx, input) = mpsc::channel(messages.len());
        for m in &messages {
            input_tx.send(m.clone()).await.unwrap();
        }
        drop(input_tx);
        let (output, mut received) = mpsc::channel(1);
        let run = tokio::spawn(client::run(ws, input, output));
        let mut echoes = Vec::new();
        while let Some(echo) = received.recv().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
            echoes.push(echo);
        }
        let outcome = run.await.unwrap().unwrap().expect("an outcome");
        assert!(echoes == messages, "echoes differ");
        assert!(outcome.clean, "{outcome:?}");
        server.await.unwrap().unwrap();
    })
    .await;
}

/// `next_event` under a very short timeout, dropped again and again while a 4 MiB message is
/// on its way in both directions: no byte is lost (the driver's cancel safety, which `select!`
/// relies on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_event_is_cancel_safe() {
    bounded(async {
        let (addr, server) = echo_server_once();
        let mut ws = small_client(addr).await;
        let message = pattern(7, 4 << 20);
        ws.conn_mut().send_binary(&message).unwrap();
        ws.conn_mut().send_text("after").unwrap();
        let mut events = Vec::new();
        let mut cancelled = 0u32;
        while events.len() < 2 {
            match timeout(Duration::from_micros(50), ws.next_event()).await {
                Ok(event) => events.push(event.unwrap().expect("an event")),
                Err(_) => cancelled += 1,
            }
        }
        assert!(cancelled > 0, "never cancelled: the test proved nothing");
        assert_eq!(events[0], Event::Binary(message.into()));
        assert_eq!(events[1], Event::Text("after".into()));
        ws.close(CloseCode::NORMAL, "").unwrap();
        while ws.next_event().await.unwrap().is_some() {}
        server.await.unwrap().unwrap();
    })
    .await;
}

/// A client that sends its first frame in the same write as its request: the server's
/// `AsyncWs::accept` hands those leftover bytes to the connection, and the echo comes back.
#[tokio::test]
async fn frame_pipelined_behind_the_request_is_echoed() {
    bounded(async {
        let (addr, server) = echo_server_once();
        let (stream, conn) =
            connect_pipelined(addr, "/", |first| first.send_text("pipelined").unwrap()).await;
        let mut ws = AsyncWs::new(stream, conn);
        assert_eq!(
            ws.next_event().await.unwrap(),
            Some(Event::Text("pipelined".into()))
        );
        ws.close(CloseCode::NORMAL, "").unwrap();
        while ws.next_event().await.unwrap().is_some() {}
        server.await.unwrap().unwrap();
    })
    .await;
}

/// An invalid upgrade request gets the error response (`426` with the supported version),
/// and the server's task ends with an error.
#[tokio::test]
async fn bad_request_gets_an_error_response() {
    bounded(async {
        let (addr, server) = echo_server_once();
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
        assert!(
            response
                .to_ascii_lowercase()
                .contains("sec-websocket-version: 13\r\n"),
            "{response}"
        );
        assert!(server.await.unwrap().is_err());
    })
    .await;
}

/// A server with a keepalive timer, and a client that answers its Pings (by reading): the
/// connection stays open across several intervals, then closes cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_pings_an_answering_peer() {
    bounded(async {
        let (listener, addr) = loopback().await;
        let server = serve_once(listener, |stream| async move {
            let mut config = Config::default();
            config.keepalive_interval = Some(Duration::from_millis(50));
            config.pong_timeout = Some(Duration::from_millis(300));
            let mut ws = AsyncWs::accept(stream, config, |_| Some(Accept::new()))
                .await
                .unwrap();
            let mut events = Vec::new();
            while let Some(event) = ws.next_event().await.unwrap() {
                events.push(event);
            }
            events
        });
        let mut ws = AsyncWs::connect(
            &format!("ws://{addr}/"),
            ClientOptions::new(),
            Config::default(),
        )
        .await
        .unwrap();
        let mut pings = 0;
        let quiet = tokio::time::sleep(Duration::from_millis(600));
        tokio::pin!(quiet);
        loop {
            tokio::select! {
                event = ws.next_event() => match event.unwrap() {
                    Some(Event::Ping(_)) => pings += 1,
                    other => panic!("unexpected {other:?}"),
                },
                _ = &mut quiet => break,
            }
        }
        assert!(pings >= 3, "{pings} pings in 600 ms at a 50 ms interval");
        ws.close(CloseCode::NORMAL, "").unwrap();
        while ws.next_event().await.unwrap().is_some() {}
        let events = server.await.unwrap();
        match events.last() {
            Some(Event::Closed(outcome)) => {
                assert!(
                    outcome.clean && outcome.code == CloseCode::NORMAL,
                    "{outcome:?}"
                )
            }
            other => panic!("the server ended with {other:?}"),
        }
    })
    .await;
}

/// A server with a keepalive timer and a client that never reads: its Ping goes unanswered,
/// and the server gives the peer up (1006, not clean) instead of waiting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_gives_up_on_a_silent_peer() {
    bounded(async {
        let (listener, addr) = loopback().await;
        let server = serve_once(listener, |stream| async move {
            let mut config = Config::default();
            config.keepalive_interval = Some(Duration::from_millis(100));
            config.pong_timeout = Some(Duration::from_millis(100));
            let mut ws = AsyncWs::accept(stream, config, |_| Some(Accept::new()))
                .await
                .unwrap();
            let mut events = Vec::new();
            while let Some(event) = ws.next_event().await.unwrap() {
                events.push(event);
            }
            events
        });
        // Connected, then silent: nobody calls `next_event`, so no Pong goes back.
        let mut ws = AsyncWs::connect(
            &format!("ws://{addr}/"),
            ClientOptions::new(),
            Config::default(),
        )
        .await
        .unwrap();
        let events = server.await.unwrap();
        match events.as_slice() {
            [Event::Closed(outcome)] => {
                assert!(
                    !outcome.clean && outcome.code == CloseCode::ABNORMAL,
                    "{outcome:?}"
                );
                assert_eq!(outcome.timeout, Some(wsmachine::Timeout::Pong));
            }
            other => panic!("the server saw {other:?}"),
        }
        // The Ping did go out, and then the server closed the transport.
        assert!(matches!(
            ws.next_event().await.unwrap(),
            Some(Event::Ping(_))
        ));
        assert!(matches!(
            ws.next_event().await.unwrap(),
            Some(Event::Closed(outcome)) if outcome.code == CloseCode::ABNORMAL
        ));
    })
    .await;
}
