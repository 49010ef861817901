//! An echo server with keepalive, written from scratch on the crate, kept small; run against
//! the small client of `small_client.rs` (compiled in here as a module).
#[path = "small_client.rs"]
mod small_client;
use std::time::Duration;
use tokio::net::TcpListener;
use wsmachine_tokio::{AcceptOptions, Config, Message, accept_with};

/// Serves every connection on `listener`: echoes text and binary, pings every 20 s.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    let mut config = Config::default();
    config.keepalive_interval = Some(Duration::from_secs(20));
    config.pong_timeout = Some(Duration::from_secs(10));
    let options = std::sync::Arc::new(AcceptOptions::new().config(config));
    loop {
        let (stream, _) = listener.accept().await?;
        let options = options.clone();
        tokio::spawn(async move {
            let Ok(mut ws) = accept_with(stream, &options).await else {
                return;
            };
            while let Some(Ok(message)) = ws.recv().await {
                if let Message::Text(_) | Message::Binary(_) = message {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            }
        });
    }
}

#[tokio::test]
async fn small_server_echoes_for_the_small_client() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(serve(listener));
    let lines = vec!["one".to_owned(), "κόσμε".to_owned(), "three".to_owned()];
    let echoes = tokio::time::timeout(Duration::from_secs(30), small_client::run(&url, &lines));
    assert_eq!(echoes.await.unwrap().unwrap(), lines);
}
