//! Plain `h2` peers' pieces shared by the HTTP/2 test files.

use std::net::SocketAddr;

use h2::ext::Protocol;
use tokio::net::TcpStream;
use wsmachine_tokio::wsmachine::Bytes;

/// The server side of an HTTP/2 connection with extended CONNECT enabled.
pub async fn h2_server(stream: TcpStream) -> h2::server::Connection<TcpStream, Bytes> {
    h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake(stream)
        .await
        .unwrap()
}

/// An extended CONNECT for a WebSocket at `/` as a plain `h2` client writes it.
pub fn extended_connect(addr: SocketAddr) -> http::Request<()> {
    let mut request = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("http://{addr}/"))
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    request
        .extensions_mut()
        .insert(Protocol::from_static("websocket"));
    request
}
