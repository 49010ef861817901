//! An echo server over blocking `std::net`, one thread per connection: each text or binary
//! message comes back as the same type. It is the Autobahn|Testsuite and interop testee.
//!
//! ```sh
//! cargo run --release --example echo_server -- [ADDR]   # default 127.0.0.1:9001
//! ```

mod common;

use std::net::TcpListener;
use std::thread;

use common::WsStream;
use wsmachine::handshake::Accept;
use wsmachine::{Config, Event};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    println!("listening on {}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        thread::spawn(move || {
            if let Err(e) = serve(stream) {
                eprintln!("connection error: {e}");
            }
        });
    }
    Ok(())
}

fn serve(stream: std::net::TcpStream) -> std::io::Result<()> {
    let mut config = Config::default();
    // Autobahn's section 9 sends messages of up to 16 MiB in single frames.
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    let mut ws = WsStream::accept(stream, config, |_request| Some(Accept::new()))?;
    while let Some(event) = ws.next_event()? {
        // Sending fails only after a Close, when there is nothing left to echo to.
        match event {
            Event::Text(text) => ws.conn.send_text(text).unwrap_or(()),
            Event::Binary(data) => ws.conn.send_binary(data).unwrap_or(()),
            _ => {}
        }
    }
    Ok(())
}
