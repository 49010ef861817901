//! One prepared message sent to many sockets, whole and split, with and without
//! permessage-deflate.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wsmachine_tokio::{AcceptOptions, ConnectOptions, Message, PreparedMessage, WebSocket};

const CLIENTS: usize = 5;

/// Accepts `CLIENTS` connections, then sends each prepared message to all of them (half of
/// them through split write halves) and closes.
async fn broadcast(listener: TcpListener, options: AcceptOptions, messages: Vec<PreparedMessage>) {
    let mut whole = Vec::new();
    let mut halves = Vec::new();
    for i in 0..CLIENTS {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = wsmachine_tokio::accept_with(stream, &options)
            .await
            .unwrap();
        if i % 2 == 0 {
            whole.push(ws);
        } else {
            halves.push(ws.split());
        }
    }
    for message in &messages {
        for ws in &mut whole {
            ws.send_prepared(message).await.unwrap();
        }
        for (_, writer) in &mut halves {
            writer.send_prepared(message).await.unwrap();
        }
    }
    for ws in &mut whole {
        ws.close(wsmachine_tokio::CloseCode::NORMAL, "")
            .await
            .unwrap();
        while ws.recv().await.is_some() {}
    }
    for (mut reader, mut writer) in halves {
        writer
            .close(wsmachine_tokio::CloseCode::NORMAL, "")
            .await
            .unwrap();
        while reader.recv().await.is_some() {}
    }
}

async fn run(accept: AcceptOptions, connect: ConnectOptions) {
    let messages = vec![
        Message::text("short"),
        Message::text("{\"price\":101.5,\"padding\":\"".to_owned() + &"x".repeat(200) + "\"}"),
        Message::binary(vec![9u8; 100_000]),
    ];
    let prepared: Vec<PreparedMessage> = messages
        .iter()
        .map(|m| match m {
            Message::Text(t) => PreparedMessage::text(t.clone()),
            Message::Binary(b) => PreparedMessage::binary(b.clone()),
            _ => unreachable!(),
        })
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(broadcast(listener, accept, prepared));
    let (tx, mut rx) = mpsc::channel(CLIENTS);
    for _ in 0..CLIENTS {
        let mut ws: WebSocket<_> = wsmachine_tokio::connect_with(&url, &connect).await.unwrap();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(Ok(message)) = ws.recv().await {
                if !matches!(message, Message::Close(_)) {
                    got.push(message);
                }
            }
            tx.send(got).await.unwrap();
        });
    }
    for _ in 0..CLIENTS {
        assert_eq!(rx.recv().await.unwrap(), messages);
    }
    server.await.unwrap();
}

#[tokio::test]
async fn a_prepared_message_reaches_every_socket() {
    tokio::time::timeout(
        Duration::from_secs(30),
        run(AcceptOptions::new(), ConnectOptions::new()),
    )
    .await
    .unwrap();
}

#[cfg(feature = "deflate")]
#[tokio::test]
async fn a_prepared_message_reaches_every_socket_compressed() {
    use wsmachine_tokio::wsmachine::extensions::DeflateOptions;
    let mut takeover = wsmachine_tokio::Config::default();
    takeover.deflate.context_takeover = true;
    // Sockets that compress each message on their own (shared form), and sockets that keep
    // their context (each compresses its own).
    for config in [wsmachine_tokio::Config::default(), takeover] {
        tokio::time::timeout(
            Duration::from_secs(30),
            run(
                AcceptOptions::new()
                    .deflate(DeflateOptions::new())
                    .config(config),
                ConnectOptions::new().deflate(DeflateOptions::new()),
            ),
        )
        .await
        .unwrap();
    }
}
