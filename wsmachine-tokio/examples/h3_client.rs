//! A WebSocket client over HTTP/3 (RFC 9220): opens three WebSockets on one QUIC connection
//! to an echo server, sends a text, a Ping and a 2 MiB binary message on each, checks the
//! echoes and the Pong, and closes each with 1000; exits non-zero on any difference. It is
//! the peer of the aioquic server in `scripts/h3-interop.sh`.
//!
//! ```sh
//! cargo run -p wsmachine-tokio --features h3 --example h3_client -- [ADDR] [CERT]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:4433`; the server's certificate is verified against `CERT`
//! (default `target/h3-cert.pem`) for the name `localhost`.

use std::net::SocketAddr;

use wsmachine_tokio::{
    Bytes, CloseCode, ConnectOptions, Message, connect_h3, h3_client, quic_config,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr: SocketAddr = args
        .first()
        .map_or("127.0.0.1:4433", String::as_str)
        .parse()?;
    let cert = args.get(1).map_or("target/h3-cert.pem", String::as_str);
    let mut config = quic_config()?;
    config.load_verify_locations_from_file(cert)?;
    config.verify_peer(true);
    let client = h3_client(addr, "localhost", config).await?;
    let options = ConnectOptions::new().protocol("echo");
    let mut tasks = Vec::new();
    for n in 0..3u8 {
        let client = client.clone();
        let options = options.clone();
        tasks.push(tokio::spawn(async move {
            let url = format!("wss://localhost/interop/{n}");
            let mut ws = connect_h3(&client, &url, &options).await?;
            if ws.protocol() != Some("echo") {
                return Err(format!("{url}: subprotocol {:?}", ws.protocol()).into());
            }
            let text = format!("héllo over HTTP/3 #{n}");
            ws.send(text.as_str()).await?;
            ws.send(Message::Ping(Bytes::from(vec![n; 4]))).await?;
            // A different byte pattern per stream, so a mix-up shows.
            let big: Vec<u8> = (0..2u32 << 20).map(|i| (i % 251) as u8 ^ n).collect();
            ws.send(Message::Binary(big.clone().into())).await?;
            let mut got = Vec::new();
            while got.len() < 3 {
                match ws.recv().await.transpose()? {
                    Some(message) => got.push(message),
                    None => return Err(format!("{url}: ended early").into()),
                }
            }
            let expected = [
                Message::Text(text.as_str().into()),
                Message::Pong(Bytes::from(vec![n; 4])),
                Message::Binary(big.into()),
            ];
            if got != expected {
                return Err(format!("{url}: echoes differ").into());
            }
            ws.close(CloseCode::NORMAL, "bye").await?;
            while let Some(message) = ws.recv().await {
                message?;
            }
            match ws.close_outcome() {
                Some(outcome) if outcome.clean && outcome.code == CloseCode::NORMAL => {}
                other => return Err(format!("{url}: close {other:?}").into()),
            }
            println!("stream {}: ok", ws.get_ref().stream_id());
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    for task in tasks {
        task.await?.map_err(|e| e.to_string())?;
    }
    println!("our client: 3 WebSockets on one connection passed");
    Ok(())
}
