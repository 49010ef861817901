//! The Autobahn|Testsuite fuzzingserver testee: asks for the case count, runs every case by
//! echoing each message, then asks the server to write its report.
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

mod common;

use common::{WsStream, testee_config};
use wsmachine::handshake::ClientOptions;
use wsmachine::{Config, Event};

fn main() -> std::io::Result<()> {
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
    let mut ws = WsStream::connect(
        &format!("{base}/updateReports?agent={agent}"),
        ClientOptions::new(),
        Config::default(),
    )?;
    while ws.next_event()?.is_some() {}
    println!("reports updated");
    Ok(())
}

fn case_count(base: &str) -> std::io::Result<u32> {
    let mut ws = WsStream::connect(
        &format!("{base}/getCaseCount"),
        ClientOptions::new(),
        Config::default(),
    )?;
    let mut count = None;
    while let Some(event) = ws.next_event()? {
        if let Event::Text(text) = event {
            count = text.trim().parse().ok();
        }
    }
    count.ok_or_else(|| std::io::Error::other("no case count"))
}

/// What each case connection offers.
fn options(deflate: bool) -> ClientOptions {
    let options = ClientOptions::new();
    #[cfg(feature = "deflate")]
    if deflate {
        return options.deflate(wsmachine::extensions::DeflateOptions::new());
    }
    let _ = deflate;
    options
}

fn echo(url: &str, deflate: bool) -> std::io::Result<()> {
    WsStream::connect(url, options(deflate), testee_config())?.echo_all()
}
