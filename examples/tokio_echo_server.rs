//! An echo server under tokio, one task per connection: each text or binary message comes
//! back as the same type. It shows the async driver in `common/tokio_driver.rs` (`AsyncWs`).
//!
//! ```sh
//! cargo run --example tokio_echo_server -- [ADDR]        # default 127.0.0.1:9002
//! cargo run --example tokio_client -- ws://127.0.0.1:9002/
//! ```
//!
//! What a driver must get right here:
//!
//! - **Backpressure.** `send_text` / `send_binary` return only once the connection's
//!   `buffered_amount()` is back under the bound, and they do not read meanwhile. So while a
//!   client does not read its echoes, this server stops reading that client's messages, TCP
//!   pushes back on the client, and the memory per connection stays bounded (about the bound
//!   plus one message).
//! - **Wake-ups.** One task owns each connection and its socket, and every wait is built
//!   from the state after the last change, so no wake-up can be lost (see the driver's docs).
//! - **Leftover bytes.** `AsyncWs::accept` feeds the connection what followed the request in
//!   the same read (a client may pipeline its first frames behind the handshake).
//! - **Closing.** After the closing handshake the server closes the TCP connection first;
//!   `next_event` does it and then returns `None`.

#[path = "common/tokio_driver.rs"]
pub mod tokio_driver;

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_driver::AsyncWs;
use wsmachine::Config;
use wsmachine::handshake::Accept;

#[tokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            if let Err(e) = serve(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Runs the handshake and echoes messages until the connection is over.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> io::Result<()> {
    let handshake = AsyncWs::accept(stream, Config::default(), |_request| {
        // The application's checks go here: path, `Origin`, cookies, subprotocol.
        Some(Accept::new())
    });
    // A client that never finishes its request must not hold the task forever.
    let ws = tokio::time::timeout(std::time::Duration::from_secs(10), handshake)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "handshake timed out"))??;
    echo(ws).await
}

/// Echoes every message; each send waits for room before the next event is read.
pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(ws: AsyncWs<S>) -> io::Result<()> {
    ws.echo_all().await
}
