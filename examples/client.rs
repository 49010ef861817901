//! A command-line client: sends each line of standard input as a text message and prints each
//! text message that comes back on its own line. At the end of input it waits until no message
//! has arrived for half a second (so replies in flight are not cut off: some servers stop
//! answering once they have seen our Close), then closes with 1000 and waits for the closing
//! handshake.
//!
//! ```sh
//! cargo run --example echo_server &
//! cargo run --example client -- ws://127.0.0.1:9001/ [--deflate]
//! ```
//!
//! `--deflate` (build with `--features deflate`) offers permessage-deflate (RFC 7692).

mod common;

use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long to wait for replies after the end of input before closing.
const QUIET: Duration = Duration::from_millis(500);

use common::{Step, WsStream};
use wsmachine::handshake::ClientOptions;
use wsmachine::{CloseCode, Config, Event};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let urls: Vec<&String> = args.iter().filter(|a| *a != "--deflate").collect();
    let [url] = urls[..] else {
        eprintln!("usage: client ws://HOST[:PORT]/PATH [--deflate]");
        std::process::exit(2);
    };
    if deflate && !cfg!(feature = "deflate") {
        eprintln!("client: --deflate needs a build with `--features deflate`");
        std::process::exit(2);
    }
    if let Err(e) = run(url, deflate) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(url: &str, deflate: bool) -> std::io::Result<()> {
    #[allow(unused_mut)]
    let mut options = ClientOptions::new();
    #[cfg(feature = "deflate")]
    if deflate {
        options = options.deflate(wsmachine::extensions::DeflateOptions::new());
    }
    let _ = deflate;
    let mut ws = WsStream::connect(url, options, Config::default())?;
    eprintln!(
        "connected (extensions: {})",
        ws.conn
            .negotiated()
            .extensions()
            .as_deref()
            .unwrap_or("none")
    );
    // Standard input is read on its own thread; the socket thread polls for lines between
    // short reads, so one thread owns the connection.
    let (lines, input) = mpsc::channel::<Option<String>>();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(line) => {
                    if lines.send(Some(line)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = lines.send(None);
    });
    let mut stdout = std::io::stdout().lock();
    let mut input_open = true;
    let mut closing = false;
    let mut last_activity = Instant::now();
    loop {
        while input_open {
            match input.try_recv() {
                Ok(Some(line)) => ws.conn.send_text(line).map_err(std::io::Error::other)?,
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    input_open = false;
                    last_activity = Instant::now();
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        if !input_open
            && !closing
            && last_activity.elapsed() >= QUIET
            && ws.conn.buffered_amount() == 0
        {
            closing = true;
            ws.conn
                .close(CloseCode::NORMAL, "")
                .map_err(std::io::Error::other)?;
        }
        // Short reads until we close, so new lines go out promptly and the quiet period is seen.
        let wait = (!closing).then_some(Duration::from_millis(10));
        let step = ws.step(wait)?;
        if matches!(step, Step::Event(_)) {
            last_activity = Instant::now();
        }
        match step {
            Step::Event(Event::Text(text)) => {
                writeln!(stdout, "{text}")?;
                stdout.flush()?;
            }
            Step::Event(Event::Binary(data)) => eprintln!("(binary message, {} bytes)", data.len()),
            Step::Event(Event::Closed(outcome)) => {
                eprintln!(
                    "closed: {} {:?} (clean: {})",
                    outcome.code,
                    outcome.reason.as_str(),
                    outcome.clean
                );
            }
            Step::Event(_) | Step::Idle => {}
            Step::Done => return Ok(()),
        }
    }
}
