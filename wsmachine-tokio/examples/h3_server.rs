//! A WebSocket echo server over HTTP/3 (RFC 9220): every extended CONNECT on every QUIC
//! connection is a WebSocket that echoes text and binary messages. It is the peer of the
//! aioquic client in `scripts/h3-interop.sh`.
//!
//! ```sh
//! cargo run -p wsmachine-tokio --features h3 --example h3_server -- [ADDR] [CERT KEY]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:4433`; `CERT` and `KEY` (PEM files) to `target/h3-cert.pem`
//! and `target/h3-key.pem`. Missing files are written first with a self-signed certificate
//! for `localhost` (rcgen).

use std::path::Path;

use wsmachine_tokio::{AcceptOptions, Config, H3Server, Message, accept_h3, quic_config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.first().map_or("127.0.0.1:4433", String::as_str);
    let cert = args.get(1).map_or("target/h3-cert.pem", String::as_str);
    let key = args.get(2).map_or("target/h3-key.pem", String::as_str);
    if !Path::new(cert).exists() || !Path::new(key).exists() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
        std::fs::write(cert, certified.cert.pem())?;
        std::fs::write(key, certified.signing_key.serialize_pem())?;
    }
    let mut quic = quic_config()?;
    quic.load_cert_chain_from_pem_file(cert)?;
    quic.load_priv_key_from_pem_file(key)?;
    let mut server = H3Server::bind(addr, quic).await?;
    println!("listening on {} (HTTP/3)", server.local_addr());
    // 16 MiB messages: the interop client sends a few MiB.
    let mut config = Config::new();
    config.max_message_size = 16 << 20;
    let options = AcceptOptions::new().protocols(["echo"]).config(config);
    while let Some(request) = server.accept().await {
        let options = options.clone();
        tokio::spawn(async move {
            let path = request.request().uri().path().to_owned();
            let mut ws = match accept_h3(request, &options).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("{path}: refused: {e}"),
            };
            let stream = ws.get_ref().stream_id();
            while let Some(message) = ws.recv().await {
                match message {
                    Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                        if ws.send(m).await.is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return eprintln!("stream {stream} {path}: {e}"),
                }
            }
            let outcome = ws.close_outcome().map(|o| (o.code, o.clean));
            println!("stream {stream} {path}: closed {outcome:?}");
        });
    }
    Ok(())
}
