//! WebSockets over HTTP/2 (RFC 8441) with the `h2` crate, in process over loopback: the
//! driver, server and client of `examples/h2_extended_connect.rs`. A 1 MiB message each way
//! is far past HTTP/2's default 64 KiB windows, so it gets through only if received capacity
//! is released and send capacity is waited for.
#![cfg(feature = "http")]

#[allow(dead_code)]
#[path = "../examples/h2_extended_connect.rs"]
mod h2_example;

use std::io;
use std::net::SocketAddr;

use h2::ext::Protocol;
use tokio::net::TcpStream;
use wsmachine::{Bytes, CloseCode, Event};
use wsmachine_testkit::driver::{bounded, loopback, serve_loopback, serve_once};
use wsmachine_testkit::pattern;

/// Starts the example's HTTP/2 server on loopback.
async fn start_server() -> SocketAddr {
    serve_loopback(h2_example::serve).await
}

/// A message each way (the echo), then a 1 MiB one each way through flow control, then a
/// clean close: END_STREAM both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_each_way_over_extended_connect() {
    bounded(async {
        let addr = start_server().await;
        let mut ws = h2_example::connect(addr, "/chat", &["chat", "echo"])
            .await
            .unwrap();
        assert_eq!(ws.conn().negotiated().protocol(), Some("echo"));

        ws.send_text("hello over HTTP/2").await.unwrap();
        assert_eq!(
            ws.next_event().await.unwrap(),
            Some(Event::Text("hello over HTTP/2".into()))
        );
        let big = pattern(2, 1 << 20);
        ws.send_binary(&big).await.unwrap();
        assert_eq!(
            ws.next_event().await.unwrap(),
            Some(Event::Binary(big.into()))
        );

        ws.close(CloseCode::NORMAL, "done").unwrap();
        let mut outcome = None;
        while let Some(event) = ws.next_event().await.unwrap() {
            match event {
                Event::Closed(end) => outcome = Some(end),
                Event::Close(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let outcome = outcome.expect("an outcome");
        assert!(
            outcome.clean && outcome.code == CloseCode::NORMAL,
            "{outcome:?}"
        );
    })
    .await;
}

/// A server that did not enable extended CONNECT: the client notices from the server's
/// SETTINGS and does not send `:protocol` (RFC 8441 §3).
#[tokio::test]
async fn client_requires_the_servers_connect_protocol_setting() {
    bounded(async {
        let (listener, addr) = loopback().await;
        serve_once(listener, |stream| async move {
            let mut connection = h2::server::handshake(stream).await.unwrap();
            while let Some(Ok(_)) = connection.accept().await {}
        });
        let error = match h2_example::connect(addr, "/", &[]).await {
            Ok(_) => panic!("connected without SETTINGS_ENABLE_CONNECT_PROTOCOL"),
            Err(error) => error,
        };
        assert_eq!(error.kind(), io::ErrorKind::Unsupported, "{error}");
    })
    .await;
}

/// An extended CONNECT without `sec-websocket-version` is refused with `426` and the version
/// the server speaks, as an HTTP/2 response.
#[tokio::test]
async fn connect_without_version_is_refused() {
    bounded(async {
        let addr = start_server().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (client, mut connection) = h2::client::handshake(stream).await.unwrap();
        let mut ping_pong = connection.ping_pong().unwrap();
        tokio::spawn(connection);
        // Wait for the server's SETTINGS (see the example's `connect`).
        ping_pong.ping(h2::Ping::opaque()).await.unwrap();
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
