//! The loopback scaffolding of the driver tests (feature `tokio`): a time bound, listeners
//! with small socket buffers, servers in their own tasks, and a client that pipelines frames
//! behind its upgrade request.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use wsmachine::handshake::{ClientHandshake, ClientOptions, Status, Url};
use wsmachine::{Config, Connection, FixedMask, Negotiated};

use crate::{KEY, output};

/// The bound on every driver test.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `test` within [`TEST_TIMEOUT`]; panics with "timed out" past it, so a deadlock or a
/// lost wake-up fails the test instead of hanging it.
pub async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("timed out")
}

/// A listener on an ephemeral loopback port, and its address.
pub async fn loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// A loopback listener whose accepted sockets have `buffer`-byte socket buffers (the kernel
/// doubles it), so that TCP pushes back early.
pub fn small_listener(buffer: u32) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(buffer)?;
    socket.set_send_buffer_size(buffer)?;
    socket.bind("127.0.0.1:0".parse().expect("an address"))?;
    socket.listen(16)
}

/// A connection to `addr` with `buffer`-byte socket buffers and `TCP_NODELAY`.
pub async fn small_connect(addr: SocketAddr, buffer: u32) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(buffer)?;
    socket.set_send_buffer_size(buffer)?;
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Accepts one connection on `listener` and runs `serve` on it in a task; the handle gives
/// what `serve` returns.
pub fn serve_once<F, Fut>(listener: TcpListener, serve: F) -> JoinHandle<Fut::Output>
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        serve(stream).await
    })
}

/// Starts a server on loopback that runs `serve` on every connection, each in its own task;
/// returns its address.
pub async fn serve_loopback<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let (listener, addr) = loopback().await;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

/// A client that sends frames in the same write as its upgrade request (to `path` on
/// `addr`): `first` queues them on a connection masking with [`KEY`]. Reads the response and
/// returns the stream and the client's connection (with [`Connection::client`]) after the
/// handshake, with any bytes that came behind the response already fed.
pub async fn connect_pipelined(
    addr: SocketAddr,
    path: &str,
    first: impl FnOnce(&mut Connection),
) -> (TcpStream, Connection) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let url = Url::parse(&format!("ws://{addr}{path}")).expect("a URL");
    let mut handshake =
        ClientHandshake::with_nonce(&url, ClientOptions::new(), *b"0123456789abcdef")
            .expect("a request");
    let mut early = Connection::client_with_mask_source(
        Negotiated::default(),
        Config::default(),
        FixedMask(KEY),
    );
    first(&mut early);
    let mut bytes = handshake.request_bytes().to_vec();
    bytes.extend(output(&mut early));
    stream.write_all(&bytes).await.expect("write");

    let mut buf = vec![0; 4096];
    let established = loop {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "EOF during the handshake");
        if let Status::Complete(established) = handshake.receive(&buf[..n]).expect("a 101") {
            break established;
        }
    };
    let mut conn = Connection::client(established.negotiated, Config::default());
    conn.receive(&established.leftover);
    (stream, conn)
}
