//! The hyper 1 upgrade example (`examples/hyper_upgrade.rs`) in process over loopback: the
//! tokio client loop against hyper's upgraded connection, a frame pipelined behind the
//! request (hyper keeps the bytes it read ahead inside the upgraded IO), and the error
//! responses for requests that are not valid upgrades.
#![cfg(feature = "http")]
// Each example includes its own copy of `examples/common/tokio_driver.rs`; this test runs two
// examples, so the driver is compiled twice, as two separate modules, exactly as they use it.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../examples/tokio_client.rs"]
mod client;
#[allow(dead_code)]
#[path = "../examples/hyper_upgrade.rs"]
mod hyper_upgrade;

use std::net::SocketAddr;

use client::tokio_driver::AsyncWs;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use wsmachine::handshake::ClientOptions;
use wsmachine::{CloseCode, Config, Event};
use wsmachine_testkit::driver::{bounded, connect_pipelined, serve_loopback};

/// Starts the example's hyper server on loopback.
async fn start_server() -> SocketAddr {
    serve_loopback(hyper_upgrade::serve_http).await
}

/// Text and a 2 MiB message, through hyper's upgraded IO and back; the subprotocol is
/// negotiated; the close is clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_echo_through_the_upgraded_connection() {
    bounded(async {
        let addr = start_server().await;
        let ws = AsyncWs::connect(
            &format!("ws://{addr}/echo"),
            ClientOptions::new().protocol("chat").protocol("echo"),
            Config::default(),
        )
        .await
        .unwrap();
        assert_eq!(ws.conn().negotiated().protocol(), Some("echo"));
        let big: String = "κόσμε 𝄞 hyper ".repeat(100_000);
        let messages = vec!["hello".to_owned(), String::new(), big, "bye".to_owned()];
        let (input_tx, input) = mpsc::channel(messages.len());
        for m in &messages {
            input_tx.send(m.clone()).await.unwrap();
        }
        drop(input_tx);
        let (output, mut received) = mpsc::channel(4);
        let run = tokio::spawn(client::run(ws, input, output));
        let mut echoes = Vec::new();
        while let Some(echo) = received.recv().await {
            echoes.push(echo);
        }
        let outcome = run.await.unwrap().unwrap().expect("an outcome");
        assert!(echoes == messages, "echoes differ");
        assert!(
            outcome.clean && outcome.code == CloseCode::NORMAL,
            "{outcome:?}"
        );
    })
    .await;
}

/// The request and the first frame in one write: hyper reads both, and the frame reaches the
/// connection through the upgraded IO.
#[tokio::test]
async fn frame_pipelined_behind_the_request_is_not_lost() {
    bounded(async {
        let addr = start_server().await;
        let (stream, conn) = connect_pipelined(addr, "/echo", |first| {
            first.send_text("pipelined").unwrap();
            first.send_binary(&[1u8, 2, 3][..]).unwrap();
        })
        .await;
        let mut ws = AsyncWs::new(stream, conn);
        assert_eq!(
            ws.next_event().await.unwrap(),
            Some(Event::Text("pipelined".into()))
        );
        assert_eq!(
            ws.next_event().await.unwrap(),
            Some(Event::Binary(vec![1u8, 2, 3].into()))
        );
        ws.close(CloseCode::NORMAL, "").unwrap();
        let mut outcome = None;
        while let Some(event) = ws.next_event().await.unwrap() {
            if let Event::Closed(end) = event {
                outcome = Some(end);
            }
        }
        assert!(outcome.expect("an outcome").clean);
    })
    .await;
}

/// Requests that are not valid upgrades get wsmachine's error response through hyper.
#[tokio::test]
async fn invalid_upgrades_get_error_responses() {
    bounded(async {
        let addr = start_server().await;
        let upgrade = |method: &str, version: &str| {
            hyper::Request::builder()
                .method(method)
                .uri("/echo")
                .header("host", addr.to_string())
                .header("upgrade", "websocket")
                .header("connection", "Upgrade")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
                .header("sec-websocket-version", version)
                .body(Empty::<Bytes>::new())
                .unwrap()
        };
        let plain = hyper::Request::get("/")
            .header("host", addr.to_string())
            .body(Empty::<Bytes>::new())
            .unwrap();
        for (request, status, header) in [
            (plain, 400, None),
            (upgrade("POST", "13"), 405, Some(("allow", "GET"))),
            (
                upgrade("GET", "12"),
                426,
                Some(("sec-websocket-version", "13")),
            ),
        ] {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), status);
            if let Some((name, value)) = header {
                assert_eq!(response.headers()[name], value);
            }
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert!(!body.is_empty(), "the refusal explains itself");
        }
    })
    .await;
}
