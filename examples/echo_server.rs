//! An echo server over blocking `std::net` on [`wsmachine::blocking::WebSocket`], one thread
//! per connection: each text or binary message comes back as the same type. It is the
//! Autobahn|Testsuite and interop testee.
//!
//! ```sh
//! cargo run --release --example echo_server -- [ADDR] [--deflate]   # default 127.0.0.1:9001
//! ```
//!
//! With `--deflate` (build with `--features deflate`) it accepts permessage-deflate (RFC 7692)
//! when the client offers it, and compresses its echoes.
//!
//! It serves at most [`MAX_CONNECTIONS`] connections at once: beyond that it stops accepting
//! until one ends (new clients wait in the listen backlog), so a flood of connections costs a
//! bounded number of threads. A client has [`HANDSHAKE_TIMEOUT`] to send its request.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use wsmachine::Config;
use wsmachine::Event;
use wsmachine::blocking::{AcceptOptions, Error, WebSocket};

/// The most connections served at once (one thread each).
const MAX_CONNECTIONS: usize = 256;

/// How long a client has to send its whole upgrade request.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

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
    let slots = Slots::new(MAX_CONNECTIONS);
    loop {
        // Wait for a free slot before taking the next connection from the backlog.
        let slot = slots.acquire();
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        thread::spawn(move || {
            let _slot = slot; // released when the connection ends
            if let Err(e) = serve(stream, deflate) {
                eprintln!("connection error: {e}");
            }
        });
    }
}

/// Limits for the conformance testee: Autobahn's section 9 sends messages of up to 16 MiB in
/// single frames.
fn testee_config() -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    config
}

fn serve(stream: TcpStream, deflate: bool) -> Result<(), Error> {
    // Frames are written whole; Nagle's algorithm would only delay the echoes.
    stream.set_nodelay(true)?;
    #[allow(unused_mut)]
    let mut options = AcceptOptions::new()
        .config(testee_config())
        .handshake_timeout(HANDSHAKE_TIMEOUT);
    #[cfg(feature = "deflate")]
    if deflate {
        options = options.deflate(wsmachine::extensions::DeflateOptions::new());
    }
    let _ = deflate;
    let mut ws = WebSocket::accept_with(stream, options)?;
    loop {
        // A send fails only once we are closing (nothing left to echo to) or once the
        // stream is gone, which the next read reports as the end.
        match ws.read()? {
            Event::Text(text) => ws.send(text).unwrap_or(()),
            Event::Binary(data) => ws.send(data).unwrap_or(()),
            Event::Closed(_) => return Ok(()),
            _ => {}
        }
    }
}

/// A counting semaphore for connection threads.
#[derive(Clone)]
struct Slots(Arc<(Mutex<usize>, Condvar)>);

/// One taken slot; dropping it gives it back.
struct Slot(Slots);

impl Slots {
    fn new(n: usize) -> Self {
        Self(Arc::new((Mutex::new(n), Condvar::new())))
    }

    /// Takes a slot, waiting while none is free.
    fn acquire(&self) -> Slot {
        let (free, freed) = &*self.0;
        let mut free = free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Slot(self.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (free, freed) = &*(self.0).0;
        *free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        freed.notify_one();
    }
}
