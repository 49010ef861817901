//! A command-line client under tokio on `wsmachine-tokio`: sends each line of standard input
//! as a text message and prints each text message that comes back. At the end of input it
//! closes with 1000 and prints what was still on its way, until the closing handshake is done.
//!
//! ```sh
//! cargo run --example tokio_echo_server &
//! cargo run --example tokio_client -- ws://127.0.0.1:9002/
//! ```
//!
//! The WebSocket is split: the reader half prints in this task (and answers Pings and the
//! peer's Close by itself), the writer half sends the lines from another task. Neither waits
//! for the other, so a server that stops reading while its answers cannot be written (as the
//! echo server does) can always get rid of them.

use std::io::{self, BufRead};

use tokio::sync::mpsc;
use wsmachine_tokio::{CloseCode, Message, connect};

#[tokio::main]
async fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: tokio_client ws://HOST[:PORT]/PATH");
        std::process::exit(2);
    };
    // Standard input is read on a plain thread; the bounded channel is the outgoing queue.
    let (lines, mut input) = mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.blocking_send(line).is_err() {
                return;
            }
        }
    });
    let ws = match connect(&url).await {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let (mut reader, mut writer) = ws.split();
    let sending = tokio::spawn(async move {
        while let Some(line) = input.recv().await {
            writer.send(line).await?;
        }
        writer.close(CloseCode::NORMAL, "").await
    });
    while let Some(message) = reader.recv().await {
        match message {
            Ok(Message::Text(text)) => println!("{text}"),
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
    if let Some(outcome) = reader.close_outcome() {
        eprintln!(
            "closed: {} {:?} (clean: {})",
            outcome.code,
            outcome.reason.as_str(),
            outcome.clean
        );
    }
    sending.abort();
}
