//! An echo server under tokio on `wsmachine-tokio`, one task per connection: each text or
//! binary message comes back as the same type.
//!
//! ```sh
//! cargo run --example tokio_echo_server -- [ADDR]        # default 127.0.0.1:9002
//! cargo run --example tokio_client -- ws://127.0.0.1:9002/
//! ```
//!
//! `send` returns once the echo is written, and the next message is read only then: while a
//! client does not read its echoes, this server stops reading that client, and TCP pushes
//! back on it (memory per connection stays about one message).

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use wsmachine_tokio::{AcceptOptions, Error, Message, accept_with};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    // The application's checks go here (`on_request`: path, cookies); the handshake is
    // bounded by a 10-second timeout by default.
    let options = Arc::new(AcceptOptions::new());
    loop {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let options = Arc::clone(&options);
        tokio::spawn(async move {
            if let Err(e) = serve(stream, &options).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Runs the handshake and echoes messages until the connection is over.
pub async fn serve<S>(stream: S, options: &AcceptOptions) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut ws = accept_with(stream, options).await?;
    while let Some(message) = ws.recv().await {
        if let m @ (Message::Text(_) | Message::Binary(_)) = message? {
            ws.send(m).await?;
        }
    }
    Ok(())
}
