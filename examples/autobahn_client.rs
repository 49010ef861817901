//! The Autobahn|Testsuite fuzzingserver testee on [`wsmachine::blocking::WebSocket`]: asks
//! for the case count, runs every case by echoing each message, then asks the server to write
//! its report.
//!
//! ```sh
//! cargo run --release --example autobahn_client -- [BASE_URL] [AGENT] [--deflate]
//! # defaults: ws://127.0.0.1:9001 wsmachine
//! ```
//!
//! With `--deflate` (build with `--features deflate`) every case connection offers
//! permessage-deflate (RFC 7692), as a browser does: `permessage-deflate;
//! client_max_window_bits`, which lets the server choose any of the parameters (Autobahn's
//! sections 12 and 13).

use wsmachine::blocking::{ConnectOptions, Error, WebSocket};
use wsmachine::{Config, Event};

fn main() -> Result<(), Error> {
    let mut positional = Vec::new();
    let mut deflate = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--deflate" => deflate = true,
            _ if !arg.starts_with('-') && positional.len() < 2 => positional.push(arg),
            _ => {
                eprintln!("usage: autobahn_client [BASE_URL] [AGENT] [--deflate]");
                std::process::exit(2);
            }
        }
    }
    if deflate && !cfg!(feature = "deflate") {
        eprintln!("autobahn_client: --deflate needs a build with `--features deflate`");
        std::process::exit(2);
    }
    let mut positional = positional.into_iter();
    let base = positional
        .next()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = positional.next().unwrap_or_else(|| "wsmachine".into());
    let base = base.trim_end_matches('/');

    let count = case_count(base)?;
    println!("{count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(e) = echo(&url, deflate) {
            eprintln!("case {case}: {e}");
        }
    }
    let mut ws = WebSocket::connect(&format!("{base}/updateReports?agent={agent}"))?;
    while !matches!(ws.read()?, Event::Closed(_)) {}
    println!("reports updated");
    Ok(())
}

fn case_count(base: &str) -> Result<u32, Error> {
    let mut ws = WebSocket::connect(&format!("{base}/getCaseCount"))?;
    let mut count = None;
    loop {
        match ws.read()? {
            Event::Text(text) => count = text.trim().parse().ok(),
            Event::Closed(_) => break,
            _ => {}
        }
    }
    count.ok_or_else(|| Error::Io(std::io::Error::other("no case count")))
}

/// What each case connection offers, and its limits: Autobahn's section 9 sends messages of
/// up to 16 MiB in single frames.
fn options(deflate: bool) -> ConnectOptions {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    let options = ConnectOptions::new().config(config);
    #[cfg(feature = "deflate")]
    if deflate {
        return options.deflate(wsmachine::extensions::DeflateOptions::new());
    }
    let _ = deflate;
    options
}

/// Echoes every text and binary message as the same type until the connection ends.
fn echo(url: &str, deflate: bool) -> Result<(), Error> {
    let mut ws = WebSocket::connect_with(url, options(deflate))?;
    loop {
        // A send fails only once we are closing or the stream is gone; the next read
        // reports the end.
        match ws.read()? {
            Event::Text(text) => ws.send(text).unwrap_or(()),
            Event::Binary(data) => ws.send(data).unwrap_or(()),
            Event::Closed(_) => return Ok(()),
            _ => {}
        }
    }
}
