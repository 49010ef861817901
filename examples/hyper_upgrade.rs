//! A WebSocket echo endpoint inside a hyper 1 HTTP server, with `wsmachine_tokio::upgrade`:
//! it validates the upgrade request, gives the `101` response to return, and a future that
//! yields the `WebSocket` once hyper hands the connection over. Other requests get the error
//! response (`400`, `426`, ...) as an ordinary HTTP response. The same works in axum.
//!
//! ```sh
//! cargo run --example hyper_upgrade -- [ADDR]   # default 127.0.0.1:9003
//! cargo run --example tokio_client -- ws://127.0.0.1:9003/echo
//! ```
//!
//! The connection must be served `.with_upgrades()`; the WebSocket runs in a task spawned
//! before the response is returned, since the upgrade completes only after hyper wrote it.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wsmachine_tokio::{AcceptOptions, Message, upgrade};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                // Without this, hyper would never hand the connection to the upgrade.
                .with_upgrades()
                .await;
            if let Err(e) = served {
                eprintln!("http: {e}");
            }
        });
    }
}

/// Answers an upgrade with `101` and echoes on the WebSocket; anything else with the error
/// response.
async fn handle(
    mut request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let options = AcceptOptions::new().protocols(["echo"]);
    match upgrade(&mut request, &options) {
        Ok((response, upgrading)) => {
            tokio::spawn(async move {
                let Ok(mut ws) = upgrading.await else { return };
                while let Some(Ok(message)) = ws.recv().await {
                    if let m @ (Message::Text(_) | Message::Binary(_)) = message {
                        if ws.send(m).await.is_err() {
                            break;
                        }
                    }
                }
            });
            Ok(response.map(|()| Full::new(Bytes::new())))
        }
        Err(refusal) => Ok(refusal.into_response().map(|body| Full::new(body.into()))),
    }
}
