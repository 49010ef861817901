//! A WebSocket echo endpoint inside a hyper 1 HTTP server: hyper parses the upgrade request,
//! wsmachine validates it (`Request::from_http`, feature `http`) and writes the `101` answer
//! (`accept`, then `Accepted::to_http`), then a `Connection` runs over `hyper::upgrade::on(req)`'s upgraded IO,
//! driven by `AsyncWs` from `common/tokio_driver.rs`. Other requests get wsmachine's error
//! response (`400`, `426`, ...) as an ordinary HTTP response.
//!
//! ```sh
//! cargo run --features http --example hyper_upgrade -- [ADDR]   # default 127.0.0.1:9003
//! cargo run --example tokio_client -- ws://127.0.0.1:9003/echo
//! ```
//!
//! What a driver must get right here:
//!
//! - **Leftover bytes.** hyper may read past the request (a client can pipeline its first
//!   frames behind it). hyper keeps those bytes and the upgraded IO returns them first, so the
//!   connection starts with nothing of its own to feed; `Request::from_http` has no leftover.
//! - **Order.** The `101` must go out before the WebSocket bytes: the handler returns it, and
//!   the upgrade future resolves only after hyper has written it, so the connection runs in
//!   a task spawned before returning and awaiting the upgrade.
//! - **`with_upgrades()`.** Without it on the HTTP/1 connection, hyper never hands the
//!   connection over.
//! - **Backpressure and wake-ups**, as in `tokio_echo_server`: `send_*` wait for room before
//!   the next event is read, and one task owns the connection and the upgraded IO.

#[path = "common/tokio_driver.rs"]
pub mod tokio_driver;

use std::convert::Infallible;
use std::io;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_driver::AsyncWs;
use wsmachine::handshake::{Accept, Request};
use wsmachine::{Config, Connection};

/// The subprotocols this server speaks, in its order of preference.
const PROTOCOLS: [&str; 1] = ["echo"];

#[tokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = serve_http(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Serves one HTTP/1.1 connection; a WebSocket upgrade takes it over.
pub async fn serve_http(stream: TcpStream) -> Result<(), hyper::Error> {
    let _ = stream.set_nodelay(true);
    http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service_fn(handle))
        // Without this, hyper would never hand the connection to the upgrade.
        .with_upgrades()
        .await
}

/// Answers an upgrade request with `101` and starts the WebSocket; anything else with the
/// error response wsmachine chose.
pub async fn handle(
    mut req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let request = match Request::from_http(&req) {
        Ok(request) => request,
        Err(rejection) => return Ok(error_response(rejection.response())),
    };
    // The application's checks go here: path, `Origin`, cookies.
    let accept = Accept::new().protocol(request.select_protocol(&PROTOCOLS));
    let accepted = request.accept(&accept);
    let (response, negotiated) = match accepted.and_then(|a| Ok((a.to_http()?, a.negotiated))) {
        Ok(accepted) => accepted,
        Err(e) => {
            eprintln!("cannot accept: {e}");
            return Ok(plain_response(hyper::StatusCode::INTERNAL_SERVER_ERROR));
        }
    };
    // Resolves once hyper has written the 101 and given up the connection.
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                // Bytes hyper read past the request are inside `upgraded`: nothing to feed.
                let conn = Connection::server(negotiated, Config::default());
                if let Err(e) = echo(AsyncWs::new(TokioIo::new(upgraded), conn)).await {
                    eprintln!("websocket error: {e}");
                }
            }
            Err(e) => eprintln!("upgrade failed: {e}"),
        }
    });
    Ok(response.map(|()| Full::new(Bytes::new())))
}

/// Echoes every message; each send waits for room before the next event is read.
pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(ws: AsyncWs<S>) -> io::Result<()> {
    ws.echo_all().await
}

/// wsmachine's refusal as a hyper response.
fn error_response(response: wsmachine::handshake::Response) -> hyper::Response<Full<Bytes>> {
    match response.to_http() {
        Ok(response) => response.map(|body| Full::new(Bytes::from(body))),
        Err(_) => plain_response(hyper::StatusCode::BAD_REQUEST),
    }
}

fn plain_response(status: hyper::StatusCode) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
