//! A client, written from scratch on the crate, kept small: sends lines, collects the
//! echoes, closes. `small_server.rs` runs it against its server.
#![allow(dead_code)]
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
