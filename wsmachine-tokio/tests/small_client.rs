//! A client, written from scratch on the crate, kept small: sends lines, collects the
//! echoes, closes. `small_server.rs` runs it against its server.
use wsmachine_tokio::{CloseCode, Error, Message, connect};

/// Sends each line and returns the text echoed for each, after a clean close.
pub async fn run(url: &str, lines: &[String]) -> Result<Vec<String>, Error> {
    let mut ws = connect(url).await?;
    let mut echoes = Vec::new();
    for line in lines {
        ws.send(line.as_str()).await?;
        while let Some(message) = ws.recv().await {
            if let Message::Text(text) = message? {
                echoes.push(text.to_string());
                break;
            }
        }
    }
    ws.close(CloseCode::NORMAL, "bye").await?;
    while ws.recv().await.transpose()?.is_some() {}
    Ok(echoes)
}

/// Against tokio-tungstenite's echo server (the lines above are the client, 22 of them).
#[tokio::test]
async fn small_client_against_tungstenite() {
    use futures_util::{SinkExt, StreamExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        while let Some(Ok(message)) = ws.next().await {
            if message.is_text() && ws.send(message).await.is_err() {
                break;
            }
        }
    });
    let lines = vec!["a".to_owned(), "κόσμε".to_owned()];
    let echoes = tokio::time::timeout(std::time::Duration::from_secs(30), run(&url, &lines));
    assert_eq!(echoes.await.unwrap().unwrap(), lines);
}
