//! WebSockets over HTTP/2 (RFC 8441) with the `h2` crate over loopback, both roles: messages
//! far past HTTP/2's 64 KiB default windows (they get through only if received capacity is
//! released and send capacity waited for), several WebSockets on one connection, a server
//! without the extended CONNECT setting, and a refusal.

use std::net::SocketAddr;

use h2::ext::Protocol;
use tokio::net::TcpStream;
use wsmachine_testkit::driver::{bounded, loopback, serve_loopback, serve_once};
use wsmachine_testkit::pattern;
use wsmachine_tokio::wsmachine::Bytes;
use wsmachine_tokio::{
    AcceptOptions, CloseCode, ConnectOptions, Error, Message, accept_h2, connect_h2, h2_client,
};

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
