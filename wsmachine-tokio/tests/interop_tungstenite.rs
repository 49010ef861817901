//! Interop with tokio-tungstenite over loopback, both directions.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as TMessage;
use wsmachine_testkit::driver::{bounded, loopback, serve_once};
use wsmachine_testkit::pattern;
use wsmachine_tokio::{CloseCode, Message, accept, connect};

/// Our client against tokio-tungstenite's echo server.
#[tokio::test]
async fn our_client_and_their_server() {
    bounded(async {
        let (listener, addr) = loopback().await;
        let server = serve_once(listener, |stream| async move {
            let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            while let Some(message) = ws.next().await {
                if let m @ (TMessage::Text(_) | TMessage::Binary(_)) = message.unwrap() {
                    ws.send(m).await.unwrap();
                }
            }
        });
        let mut ws = connect(&format!("ws://{addr}/")).await.unwrap();
        let big = pattern(3, 1 << 20);
        ws.send("κόσμε").await.unwrap();
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::text("κόσμε"));
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::binary(big));
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert!(matches!(ws.recv().await, Some(Ok(Message::Close(_)))));
        assert!(ws.recv().await.is_none());
        assert!(ws.close_outcome().unwrap().clean);
        server.await.unwrap();
    })
    .await;
}

/// tokio-tungstenite's client against our echo server.
#[tokio::test]
async fn their_client_and_our_server() {
    bounded(async {
        let (listener, addr) = loopback().await;
        let server = serve_once(listener, |stream| async move {
            let mut ws = accept(stream).await.unwrap();
            while let Some(message) = ws.recv().await {
                if let m @ (Message::Text(_) | Message::Binary(_)) = message.unwrap() {
                    ws.send(m).await.unwrap();
                }
            }
            ws.close_outcome().cloned()
        });
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
            .await
            .unwrap();
        let big = pattern(4, 1 << 20);
        ws.send(TMessage::Ping(vec![7u8].into())).await.unwrap();
        ws.send(TMessage::text("hello")).await.unwrap();
        ws.send(TMessage::binary(big.clone())).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            TMessage::Pong(vec![7u8].into())
        );
        assert_eq!(ws.next().await.unwrap().unwrap(), TMessage::text("hello"));
        assert!(ws.next().await.unwrap().unwrap() == TMessage::binary(big));
        ws.close(None).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
        let outcome = server.await.unwrap().unwrap();
        assert!(outcome.clean, "{outcome:?}");
    })
    .await;
}
