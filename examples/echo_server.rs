//! An echo server over blocking `std::net`, one thread per connection: each text or binary
//! message comes back as the same type. It is the Autobahn|Testsuite and interop testee.
//!
//! ```sh
//! cargo run --release --example echo_server -- [ADDR] [--deflate]   # default 127.0.0.1:9001
//! ```
//!
//! With `--deflate` (build with `--features deflate`) it accepts permessage-deflate (RFC 7692)
//! when the client offers it, and compresses its echoes.

mod common;

use std::net::TcpListener;
use std::thread;

use common::{WsStream, testee_config};
use wsmachine::handshake::{Accept, Request};

fn main() -> std::io::Result<()> {
    let mut addr = None;
    let mut deflate = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--deflate" => deflate = true,
            _ if addr.is_none() && !arg.starts_with('-') => addr = Some(arg),
            _ => {
                eprintln!("usage: echo_server [ADDR] [--deflate]");
                std::process::exit(2);
            }
        }
    }
    if deflate && !cfg!(feature = "deflate") {
        eprintln!("echo_server: --deflate needs a build with `--features deflate`");
        std::process::exit(2);
    }
    let addr = addr.unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    println!("listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            if let Err(e) = serve(stream, deflate) {
                eprintln!("connection error: {e}");
            }
        });
    }
    Ok(())
}

/// How to answer the upgrade: permessage-deflate if asked for and the client offered it.
fn accept(request: &Request, deflate: bool) -> Accept {
    let accept = Accept::new();
    #[cfg(feature = "deflate")]
    if deflate {
        let options = wsmachine::extensions::DeflateOptions::new();
        return accept.deflate(request.select_deflate(&options));
    }
    let _ = (request, deflate);
    accept
}

fn serve(stream: std::net::TcpStream, deflate: bool) -> std::io::Result<()> {
    let mut ws = WsStream::accept(stream, testee_config(), |request| {
        Some(accept(request, deflate))
    })?;
    ws.echo_all()
}
