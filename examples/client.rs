//! A command-line client on [`wsmachine::blocking::WebSocket`]: sends each line of standard
//! input as a text message and prints each text message that comes back on its own line. At
//! the end of input it waits until no message has arrived for half a second (so replies in
//! flight are not cut off: some servers stop answering once they have seen our Close), then
//! closes with 1000 and waits for the closing handshake.
//!
//! ```sh
//! cargo run --example echo_server &
//! cargo run --example client -- ws://127.0.0.1:9001/ [--deflate]
//! ```
//!
//! `--deflate` (build with `--features deflate`) offers permessage-deflate (RFC 7692).

use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use wsmachine::blocking::{ConnectOptions, Error, WebSocket};
use wsmachine::{CloseCode, Event};

/// How long to wait for replies after the end of input before closing.
const QUIET: Duration = Duration::from_millis(500);

/// How long one read waits before the loop looks for new input lines.
const POLL: Duration = Duration::from_millis(10);

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

fn run(url: &str, deflate: bool) -> Result<(), Error> {
    #[allow(unused_mut)]
    let mut options = ConnectOptions::new();
    #[cfg(feature = "deflate")]
    if deflate {
        options = options.deflate(wsmachine::extensions::DeflateOptions::new());
    }
    let _ = deflate;
    let mut ws = WebSocket::connect_with(url, options)?;
    eprintln!(
        "connected (extensions: {})",
        ws.connection()
            .negotiated()
            .extensions()
            .as_deref()
            .unwrap_or("none")
    );
    // Standard input is read on its own thread; this thread owns the WebSocket and looks for
    // new lines between short reads.
    let (lines, input) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let mut stdout = std::io::stdout().lock();
    let mut input_open = true;
    let mut closing = false;
    let mut last_activity = Instant::now();
    loop {
        while input_open {
            match input.try_recv() {
                Ok(line) => ws.send_text(line)?,
                Err(mpsc::TryRecvError::Disconnected) => {
                    input_open = false;
                    last_activity = Instant::now();
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        if !input_open && !closing && last_activity.elapsed() >= QUIET {
            closing = true;
            ws.close(CloseCode::NORMAL, "")?;
        }
        // Short reads until we close, so new lines go out promptly and the quiet period is
        // seen; then wait for the closing handshake.
        let event = if closing {
            Some(ws.read()?)
        } else {
            ws.read_timeout(POLL)?
        };
        if event.is_some() {
            last_activity = Instant::now();
        }
        match event {
            Some(Event::Text(text)) => {
                writeln!(stdout, "{text}")?;
                stdout.flush()?;
            }
            Some(Event::Binary(data)) => eprintln!("(binary message, {} bytes)", data.len()),
            Some(Event::Closed(outcome)) => {
                eprintln!(
                    "closed: {} {:?} (clean: {})",
                    outcome.code,
                    outcome.reason.as_str(),
                    outcome.clean
                );
                return Ok(());
            }
            _ => {}
        }
    }
}
