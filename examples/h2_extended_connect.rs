//! WebSockets over HTTP/2 (RFC 8441, extended CONNECT) with `wsmachine-tokio`'s `h2`
//! feature, both ends in one process: an echo server, and a client that opens three
//! WebSockets on one HTTP/2 connection and runs them at once, each sending a message and a
//! 1 MiB one (sixteen times HTTP/2's default window), printing the echoes and closing.
//!
//! ```sh
//! cargo run --example h2_extended_connect
//! ```
//!
//! The server enables the extended CONNECT protocol (`SETTINGS_ENABLE_CONNECT_PROTOCOL`) and
//! hands each request to `accept_h2`; the client waits for the server's SETTINGS
//! (`h2_client`) and opens each WebSocket with `connect_h2`, which fails with
//! `Error::ExtendedConnectDisabled` if the server did not enable it. Flow control is the
//! transport's business (`H2Stream`): capacity is released as bytes are read and waited for
//! before writing. The peer's END_STREAM is end of file; its RST_STREAM ends the WebSocket
//! with `Error::StreamReset`.

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
    let mut runs = Vec::new();
    for i in 0..3 {
        let url = format!("ws://{addr}/echo");
        let mut ws = connect_h2(send_request.clone(), &url, &ConnectOptions::new()).await?;
        runs.push(tokio::spawn(async move {
            ws.send(format!("hello over HTTP/2, WebSocket {i}")).await?;
            ws.send(vec![i as u8; 1 << 20]).await?;
            while let Some(message) = ws.recv().await.transpose()? {
                match message {
                    Message::Text(text) => println!("{i}: echo: {text}"),
                    Message::Binary(data) => {
                        println!("{i}: echo: {} bytes", data.len());
                        ws.close(CloseCode::NORMAL, "done").await?;
                    }
                    _ => {}
                }
            }
            if let Some(outcome) = ws.close_outcome() {
                println!("{i}: closed: {} (clean: {})", outcome.code, outcome.clean);
            }
            Ok::<_, Error>(())
        }));
    }
    for run in runs {
        run.await.map_err(std::io::Error::other)??;
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
