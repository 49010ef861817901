//! The hyper 1 upgrade helper over loopback: messages both ways through hyper's upgraded
//! connection with the subprotocol chosen, a frame pipelined behind the request (hyper keeps
//! the bytes it read ahead inside the upgraded IO), the error responses for requests that
//! are not valid upgrades, and WebSockets over hyper's HTTP/2 server (extended CONNECT,
//! RFC 8441), several on one connection, opened by our HTTP/2 client.

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
#[cfg(feature = "h2")]
use hyper::server::conn::http2;
use hyper::service::service_fn;
#[cfg(feature = "h2")]
use hyper_util::rt::TokioExecutor;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use wsmachine_testkit::driver::{bounded, connect_pipelined, serve_loopback};
use wsmachine_testkit::pattern;
use wsmachine_tokio::{
    AcceptOptions, CloseCode, ConnectOptions, Message, WebSocket, connect_with, upgrade,
};
#[cfg(feature = "h2")]
use wsmachine_tokio::{connect_h2, h2_client};

/// Echoes messages on an upgraded connection.
async fn handle(
    mut request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let options = AcceptOptions::new().protocols(["echo"]);
    match upgrade(&mut request, &options) {
        Ok((response, upgrading)) => {
            tokio::spawn(async move {
                let mut ws = upgrading.await.unwrap();
                while let Some(message) = ws.recv().await {
                    if let m @ (Message::Text(_) | Message::Binary(_)) = message.unwrap() {
                        ws.send(m).await.unwrap();
                    }
                }
            });
            Ok(response.map(|()| Full::new(Bytes::new())))
        }
        Err(refusal) => Ok(refusal
            .into_response()
            .map(|body| Full::new(Bytes::from(body)))),
    }
}

async fn start_server() -> SocketAddr {
    serve_loopback(|stream: TcpStream| async move {
        http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service_fn(handle))
            .with_upgrades()
            .await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_echo_through_the_upgraded_connection() {
    bounded(async {
        let addr = start_server().await;
        let options = ConnectOptions::new().protocol("chat").protocol("echo");
        let mut ws = connect_with(&format!("ws://{addr}/echo"), &options)
            .await
            .unwrap();
        assert_eq!(ws.protocol(), Some("echo"));
        let big = pattern(6, 2 << 20);
        ws.send("hello").await.unwrap();
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("hello"));
        assert!(ws.recv().await.unwrap().unwrap() == Message::binary(big));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(matches!(ws.recv().await, Some(Ok(Message::Close(_)))));
        assert!(ws.recv().await.is_none());
        assert!(ws.close_outcome().unwrap().clean);
    })
    .await;
}

#[tokio::test]
async fn frame_pipelined_behind_the_request_is_not_lost() {
    bounded(async {
        let addr = start_server().await;
        let (stream, conn) = connect_pipelined(addr, "/echo", |first| {
            first.send_text("pipelined").unwrap();
            first.send_binary(&[1u8, 2, 3][..]).unwrap();
        })
        .await;
        let mut ws = WebSocket::from_connection(stream, conn);
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::text("pipelined")
        );
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::binary(vec![1u8, 2, 3])
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while let Some(m) = ws.recv().await {
            m.unwrap();
        }
        assert!(ws.close_outcome().unwrap().clean);
    })
    .await;
}

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

/// hyper's HTTP/2 server with the extended CONNECT protocol enabled, the same handler.
#[cfg(feature = "h2")]
async fn start_http2_server() -> SocketAddr {
    serve_loopback(|stream: TcpStream| async move {
        http2::Builder::new(TokioExecutor::new())
            .enable_connect_protocol()
            .serve_connection(TokioIo::new(stream), service_fn(handle))
            .await
    })
    .await
}

#[cfg(feature = "h2")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_over_hyper_http2_several_on_one_connection() {
    bounded(async {
        let addr = start_http2_server().await;
        let send_request = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap();
        let options = ConnectOptions::new().protocol("echo");
        let mut runs = Vec::new();
        for i in 0..4u64 {
            let mut ws = connect_h2(send_request.clone(), &format!("ws://{addr}/echo"), &options)
                .await
                .unwrap();
            assert_eq!(ws.protocol(), Some("echo"));
            runs.push(tokio::spawn(async move {
                // Past HTTP/2's 64 KiB windows both ways.
                let big = pattern(10 + i, 300_000);
                ws.send(format!("hello {i}")).await.unwrap();
                ws.send(big.clone()).await.unwrap();
                assert_eq!(
                    ws.recv().await.unwrap().unwrap(),
                    Message::text(format!("hello {i}"))
                );
                assert!(ws.recv().await.unwrap().unwrap() == Message::binary(big));
                ws.close(CloseCode::NORMAL, "").await.unwrap();
                assert!(matches!(ws.recv().await, Some(Ok(Message::Close(_)))));
                assert!(ws.recv().await.is_none());
                ws.close_outcome().unwrap().clone()
            }));
        }
        for run in runs {
            let outcome = run.await.unwrap();
            assert!(
                outcome.clean && outcome.code == CloseCode::NORMAL,
                "{outcome:?}"
            );
        }
    })
    .await;
}

/// Over HTTP/2, hyper's server refuses an extended CONNECT that is not a WebSocket's with the
/// helper's error response.
#[cfg(feature = "h2")]
#[tokio::test]
async fn invalid_extended_connect_over_hyper_http2_is_refused() {
    bounded(async {
        let addr = start_http2_server().await;
        let mut client = h2_client(TcpStream::connect(addr).await.unwrap())
            .await
            .unwrap()
            .ready()
            .await
            .unwrap();
        let mut request = http::Request::builder()
            .method(http::Method::CONNECT)
            .uri(format!("http://{addr}/echo"))
            .header("sec-websocket-version", "12")
            .body(())
            .unwrap();
        request
            .extensions_mut()
            .insert(h2::ext::Protocol::from_static("websocket"));
        let (response, _send) = client.send_request(request, true).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 426);
        assert_eq!(response.headers()["sec-websocket-version"], "13");
    })
    .await;
}
