//! The Autobahn|Testsuite testee in the server role on the tokio driver: an echo server with
//! 64 MiB limits (section 9 sends messages up to 16 MiB) that, with `--deflate` (build with
//! `--features deflate`), accepts permessage-deflate.
//!
//! ```sh
//! cargo run --release -p wsmachine-tokio --example tokio_autobahn_server -- [ADDR] [--deflate]
//! scripts/autobahn.sh --driver tokio     # builds and runs it (and tokio_autobahn_client)
//! ```

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use wsmachine_tokio::{AcceptOptions, Config, Error, Message, accept_with};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:9001".to_owned();
    let mut deflate = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--deflate" => deflate = true,
            _ if !arg.starts_with('-') => addr = arg,
            _ => {
                eprintln!("usage: tokio_autobahn_server [ADDR] [--deflate]");
                std::process::exit(2);
            }
        }
    }
    let options = Arc::new(options(deflate));
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let options = Arc::clone(&options);
        tokio::spawn(async move {
            if let Err(e) = echo(stream, &options).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// 64 MiB limits, and permessage-deflate when asked for.
fn options(deflate: bool) -> AcceptOptions {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    let options = AcceptOptions::new().config(config);
    if deflate {
        #[cfg(feature = "deflate")]
        return options.deflate(wsmachine_tokio::wsmachine::extensions::DeflateOptions::new());
        #[cfg(not(feature = "deflate"))]
        {
            eprintln!("tokio_autobahn_server: --deflate needs a build with `--features deflate`");
            std::process::exit(2);
        }
    }
    options
}

/// Echoes every message as the same type until the connection ends. A protocol error of
/// the peer's (what most cases test) ends it with `Error::Closed`, which is the expected end.
async fn echo(stream: TcpStream, options: &AcceptOptions) -> Result<(), Error> {
    let mut ws = accept_with(stream, options).await?;
    while let Some(message) = ws.recv().await {
        match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).await?,
            Ok(_) | Err(Error::Closed(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
