//! A command-line client under tokio: sends each line of standard input as a text message and
//! prints each text message that comes back. At the end of input it closes with 1000 and
//! prints the messages that were still on their way, until the closing handshake is done.
//!
//! ```sh
//! cargo run --example tokio_echo_server &
//! cargo run --example tokio_client -- ws://127.0.0.1:9002/
//! ```
//!
//! It is the full-duplex pattern: one task, one `select!` over the next event (which writes
//! pending output while it reads) and the channel of outgoing messages. What a driver must get
//! right here:
//!
//! - **Backpressure outward.** A new outgoing message is taken from the channel only while
//!   `has_room()` (the output is under the bound), so a peer that reads slowly slows the
//!   sender down, through the bounded channel, instead of filling our memory.
//! - **No deadlock.** Sending never waits without reading: messages are queued with
//!   `conn_mut().send_text(..)` and written by `next_event`, which keeps reading meanwhile. A
//!   server that stops reading while its answers cannot be written (as the echo server does)
//!   can therefore always get rid of them, and then read ours.
//! - **Backpressure inward.** Received messages go to a bounded channel; while it is full this
//!   task waits, so it stops reading the socket and the server's writes stall in TCP.
//! - **Wake-ups.** Every event source is a future in the same `select!`, rebuilt from the
//!   current state on each turn: the connection is changed only by this task, between waits,
//!   and a message sent to the channel before this task waits is kept by the channel. No
//!   wake-up can be lost (see `common/tokio_driver.rs`).

#[path = "common/tokio_driver.rs"]
pub mod tokio_driver;

use std::io::{self, BufRead};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_driver::AsyncWs;
use wsmachine::handshake::ClientOptions;
use wsmachine::{CloseCode, CloseOutcome, Config, Event, ReadyState};

#[tokio::main]
async fn main() {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: tokio_client ws://HOST[:PORT]/PATH");
        std::process::exit(2);
    };
    // Standard input is read on a plain thread; the channel is the outgoing queue.
    let (lines, input) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.blocking_send(line).is_err() {
                return;
            }
        }
        // Dropping the sender ends the input.
    });
    let (output, mut received) = mpsc::channel::<String>(16);
    let printer = tokio::spawn(async move {
        while let Some(text) = received.recv().await {
            println!("{text}");
        }
    });
    let result = async {
        let ws = AsyncWs::connect(&url, ClientOptions::new(), Config::default()).await?;
        run(ws, input, output).await
    }
    .await;
    let _ = printer.await;
    match result {
        Ok(Some(outcome)) => eprintln!(
            "closed: {} {:?} (clean: {})",
            outcome.code,
            outcome.reason.as_str(),
            outcome.clean
        ),
        Ok(None) => eprintln!("closed"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// Sends what comes from `input` as text messages and passes the text messages received to
/// `output`; closes with 1000 when `input` ends. Returns how the connection ended.
pub async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: AsyncWs<S>,
    mut input: mpsc::Receiver<String>,
    output: mpsc::Sender<String>,
) -> io::Result<Option<CloseOutcome>> {
    let mut input_open = true;
    let mut outcome = None;
    loop {
        let open = ws.conn().state() == ReadyState::Open;
        tokio::select! {
            event = ws.next_event() => match event? {
                Some(Event::Text(text)) => {
                    // Waiting here stops the reading: a slow consumer pushes back on the peer.
                    let _ = output.send(text.as_str().to_owned()).await;
                }
                Some(Event::Closed(end)) => outcome = Some(end),
                Some(_) => {}
                None => return Ok(outcome),
            },
            line = input.recv(), if input_open && open && ws.has_room() => match line {
                // Queued, not written: the next `next_event` writes it while it reads.
                Some(line) => ws.conn_mut().send_text(line).map_err(io::Error::other)?,
                None => {
                    input_open = false;
                    ws.close(CloseCode::NORMAL, "")?;
                }
            },
        }
    }
}
