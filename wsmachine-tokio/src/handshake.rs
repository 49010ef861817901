//! The opening handshake over a stream: [`accept`], [`connect`] and their variants.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wsmachine::handshake::{ClientHandshake, ServerHandshake, Url};
use wsmachine::{Connection, Status};

use crate::{AcceptOptions, ConnectOptions, Error, MaybeTlsStream, WebSocket};

/// The read size during the handshake (the buffer lives only as long as the handshake).
const HANDSHAKE_READ: usize = 4096;

/// Accepts a WebSocket on `stream` (a `TcpStream`, a TLS stream, anything `AsyncRead +
/// AsyncWrite`) with the default [`AcceptOptions`]: any origin, no subprotocol, a 10-second
/// handshake timeout.
///
/// An invalid request gets its error response (`400`, `426` with the supported version, ...)
/// and the call fails with [`Error::Request`]. Frames the client sent right behind its
/// request are kept.
pub async fn accept<S>(stream: S) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, &AcceptOptions::new()).await
}

/// Accepts a WebSocket on `stream` with `options` (subprotocols, deflate, origin policy,
/// the application's decision, [`Config`](wsmachine::Config), timeout).
pub async fn accept_with<S>(stream: S, options: &AcceptOptions) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    bounded(options.handshake_timeout, server_handshake(stream, options)).await
}

async fn server_handshake<S>(mut stream: S, options: &AcceptOptions) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut handshake = ServerHandshake::new().limits(options.limits.clone());
    let mut buf = vec![0; HANDSHAKE_READ];
    let request = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        match handshake.receive(&buf[..n]) {
            Ok(Status::Complete(request)) => break request,
            Ok(Status::Partial) => {}
            Err(rejection) => {
                refuse(&mut stream, &rejection.response().to_bytes()).await;
                return Err(Error::Request(rejection));
            }
        }
    };
    drop(buf);
    match options.decide(&request) {
        Ok(accepted) => {
            stream.write_all(&accepted.to_bytes()).await?;
            // A buffering transport (TLS) would otherwise hold the 101.
            stream.flush().await?;
            let mut conn = Connection::server(accepted.negotiated, options.config.clone());
            // Frames the client sent right behind its request: they come first.
            conn.receive(&accepted.leftover);
            let mut ws = WebSocket::from_connection(stream, conn);
            ws.set_max_buffered(options.max_buffered);
            Ok(ws)
        }
        Err(decline) => {
            refuse(&mut stream, &decline.response().to_bytes()).await;
            Err(decline.into_error())
        }
    }
}

/// Writes a refusal and closes; the refusal is what matters, so errors are ignored.
async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, response: &[u8]) {
    let _ = stream.write_all(response).await;
    let _ = stream.shutdown().await;
}

/// Connects to a `ws://` or `wss://` URL with the default [`ConnectOptions`]: resolves the
/// host, dials TCP (with `TCP_NODELAY`), runs TLS for `wss://` (feature `rustls-tls-*`,
/// with SNI from the URL's host), then the opening handshake, all within 10 seconds.
pub async fn connect(url: &str) -> Result<WebSocket<MaybeTlsStream<TcpStream>>, Error> {
    connect_with(url, &ConnectOptions::new()).await
}

/// Connects to a `ws://` or `wss://` URL with `options`.
pub async fn connect_with(
    url: &str,
    options: &ConnectOptions,
) -> Result<WebSocket<MaybeTlsStream<TcpStream>>, Error> {
    let url = Url::parse(url)?;
    bounded(options.handshake_timeout, async {
        let tcp = TcpStream::connect((url.host(), url.port())).await?;
        tcp.set_nodelay(true)?;
        let stream = if url.is_tls() {
            tls(tcp, &url, options).await?
        } else {
            MaybeTlsStream::Plain(tcp)
        };
        client_handshake(stream, &url, options).await
    })
    .await
}

#[cfg(feature = "rustls")]
async fn tls(
    tcp: TcpStream,
    url: &Url,
    options: &ConnectOptions,
) -> Result<MaybeTlsStream<TcpStream>, Error> {
    crate::tls::connect(tcp, url, options).await
}

#[cfg(not(feature = "rustls"))]
async fn tls(
    _: TcpStream,
    _: &Url,
    _: &ConnectOptions,
) -> Result<MaybeTlsStream<TcpStream>, Error> {
    Err(Error::TlsUnavailable)
}

/// Runs the client's opening handshake for `url` on a transport you connected yourself (a
/// Unix socket, a proxy tunnel, a TLS stream of your own), with `options`; no TLS is added.
pub async fn client_on<S>(
    stream: S,
    url: &str,
    options: &ConnectOptions,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let url = Url::parse(url)?;
    bounded(
        options.handshake_timeout,
        client_handshake(stream, &url, options),
    )
    .await
}

async fn client_handshake<S>(
    mut stream: S,
    url: &Url,
    options: &ConnectOptions,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut handshake = ClientHandshake::new(url, options.client.clone())?;
    stream.write_all(handshake.request_bytes()).await?;
    stream.flush().await?;
    let mut buf = vec![0; HANDSHAKE_READ];
    let established = loop {
        let n = stream.read(&mut buf).await?;
        let status = if n == 0 {
            handshake.receive_eof().map(|()| Status::Partial)
        } else {
            handshake.receive(&buf[..n])
        };
        match status.map_err(Error::Response)? {
            Status::Complete(established) => break established,
            Status::Partial if n > 0 => {}
            Status::Partial => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
        }
    };
    let mut conn = Connection::client(established.negotiated, options.config.clone());
    // The server's first frames may have come with its response.
    conn.receive(&established.leftover);
    let mut ws = WebSocket::from_connection(stream, conn);
    ws.set_max_buffered(options.max_buffered);
    Ok(ws)
}

/// Runs `handshake` within `timeout`.
pub(crate) async fn bounded<T>(
    timeout: Option<Duration>,
    handshake: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match timeout {
        Some(timeout) => tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| Error::HandshakeTimeout)?,
        None => handshake.await,
    }
}
