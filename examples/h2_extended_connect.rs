//! WebSockets over HTTP/2 (RFC 8441, extended CONNECT) with `wsmachine-tokio`'s `h2`
//! feature, both ends in one process: an echo server and a client that opens two WebSockets
//! on one HTTP/2 connection, sends a message on each, prints the echoes and closes.
//!
//! ```sh
//! cargo run --example h2_extended_connect
//! ```
//!
//! The server enables the extended CONNECT protocol (`SETTINGS_ENABLE_CONNECT_PROTOCOL`) and
//! hands each request to `accept_h2`; the client waits for the server's SETTINGS
//! (`h2_client`) and opens each WebSocket with `connect_h2`. Flow control is the transport's
//! business (`H2Stream`): capacity is released as bytes are read and waited for before
//! writing.

use tokio::net::{TcpListener, TcpStream};
use wsmachine_tokio::{
    AcceptOptions, CloseCode, ConnectOptions, Error, Message, accept_h2, connect_h2, h2_client,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });

    let send_request = h2_client(TcpStream::connect(addr).await?).await?;
    for i in 0..2 {
        let url = format!("ws://{addr}/echo");
        let mut ws = connect_h2(send_request.clone(), &url, &ConnectOptions::new()).await?;
        ws.send(format!("hello over HTTP/2, stream {i}")).await?;
        if let Some(Ok(Message::Text(text))) = ws.recv().await {
            println!("echo: {text}");
        }
        ws.close(CloseCode::NORMAL, "done").await?;
        while ws.recv().await.transpose()?.is_some() {}
        if let Some(outcome) = ws.close_outcome() {
            println!("closed: {} (clean: {})", outcome.code, outcome.clean);
        }
    }
    Ok(())
}

/// Serves one HTTP/2 connection; each extended CONNECT is an echo WebSocket in its own task.
async fn serve(stream: TcpStream) -> Result<(), h2::Error> {
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake(stream)
        .await?;
    // Polling `accept` also drives the connection for every stream already accepted.
    while let Some(request) = connection.accept().await {
        let (request, respond) = request?;
        tokio::spawn(async move {
            let Ok(mut ws) = accept_h2(request, respond, &AcceptOptions::new()).await else {
                return;
            };
            while let Some(Ok(message)) = ws.recv().await {
                if let m @ (Message::Text(_) | Message::Binary(_)) = message {
                    if ws.send(m).await.is_err() {
                        break;
                    }
                }
            }
        });
    }
    Ok(())
}
