//! A chat room in the browser: `cargo run --example chat`, then open http://127.0.0.1:8080/ in
//! two tabs (or two browsers).
//!
//! ```sh
//! cargo run --example chat              # http://127.0.0.1:8080/
//! cargo run --example chat -- 127.0.0.1:9000
//! cargo run --example chat -- 127.0.0.1:8443 --tls   # https://127.0.0.1:8443/, HTTP/2
//! ```
//!
//! The page (`examples/chat/index.html`, served at `/`) connects as soon as it opens, to the
//! WebSocket endpoint `/ws?nick=NAME`, with a nickname it made up and keeps in
//! `localStorage` (`/?nick=NAME` picks one for that tab). It shows the last
//! [`HISTORY_LEN`](room::HISTORY_LEN) messages, who is online, and joins and leaves with
//! timestamps; it reconnects by itself after a drop, with exponential backoff and jitter
//! (0.5 s doubling to 10 s), and says which state it is in: connecting, online, reconnecting in
//! N s, offline. Page and server speak a small JSON protocol, one object per text message,
//! described in `examples/chat/room.rs` with the close codes for what the server refuses.
//!
//! **HTTPS and HTTP/2 (`--tls`).** The server makes itself a certificate at start-up (rcgen,
//! self-signed, for `localhost` and the address it listens on) and prints it, PEM and SHA-256
//! fingerprint, on standard error, so you can trust it or check what the browser shows. TLS
//! offers ALPN `h2` and `http/1.1`. On an HTTP/2 connection the server sends
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL`, so the page's WebSocket is an extended CONNECT on a
//! stream of the connection that brought the page (RFC 8441), accepted by `accept_h2`; on
//! HTTP/1.1 it is the usual `Upgrade`. Each accepted WebSocket is logged on standard error
//! with its transport (`http/1.1` or `h2`). Chromium needs no flag for this (it uses RFC 8441
//! when the page's connection is HTTP/2 and its SETTINGS allow it; without that setting it
//! opens a separate HTTP/1.1 connection); `scripts/browser-test.sh --tls` checks it.
//!
//! Two parts:
//! - `room.rs`: the [`Room`] (presence, bounded history, the protocol's frames), no I/O, tested
//!   by `tests/chat_room.rs`;
//! - here: HTTP, the handshake, and [`session`], one tokio task per client with a
//!   `wsmachine-tokio` [`WebSocket`]: one `select!` waits for the client's next message and
//!   the room's next broadcast; the driver answers Pings, runs the keepalive timer and bounds
//!   the closing handshake while it waits.
//!
//! **Slow clients cannot stall the others.** Broadcasting never waits for a client: frames go
//! into a bounded broadcast channel ([`ROOM_BACKLOG`] frames). A client that falls that far
//! behind, or whose unwritten output passes [`MAX_BUFFERED`] bytes, is disconnected with close
//! code 1013 (try again later) — the drop-the-client policy, rather than silently dropping
//! messages, so nobody sees a conversation with holes in it. The page reconnects and catches
//! up from the history.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use h2::server::SendResponse;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::error::RecvError;
use tokio_rustls::TlsAcceptor;
use wsmachine::handshake::{Accept, ServerHandshake, Status};
use wsmachine::{Bytes, CloseCode, Config, Connection, ReadyState};
use wsmachine_tokio::{AcceptOptions, Error, Message, WebSocket, accept_h2};

#[path = "chat/room.rs"]
mod room;

use room::{Member, Reject, Room};

/// The page, one self-contained file.
const PAGE: &str = include_str!("chat/index.html");

/// Frames a client may fall behind before it is disconnected.
const ROOM_BACKLOG: usize = 256;
/// Unwritten bytes a client may accumulate before it is disconnected.
const MAX_BUFFERED: usize = 1 << 20;
/// The largest WebSocket message accepted from a browser (a chat message of
/// [`MAX_TEXT_CHARS`](room::MAX_TEXT_CHARS) characters fits even if every one is escaped).
const MAX_MESSAGE: usize = 16 * 1024;
/// Streams one HTTP/2 connection may have open at once (each WebSocket is one).
const MAX_STREAMS: u32 = 32;
/// Ping a quiet client after this long; give up this long after an unanswered ping.
const PING_INTERVAL: Duration = Duration::from_secs(20);
const PING_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> io::Result<()> {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut tls = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--tls" => tls = true,
            flag if flag.starts_with('-') => {
                eprintln!("usage: chat [ADDR] [--tls]");
                std::process::exit(2);
            }
            _ => addr = arg,
        }
    }
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let acceptor = if tls {
        Some(tls_acceptor(local)?)
    } else {
        None
    };
    let scheme = if tls { "https" } else { "http" };
    println!("chat listening on {scheme}://{local}/");
    let room = Room::new(ROOM_BACKLOG, unix_millis);
    loop {
        let (stream, peer) = listener.accept().await?;
        let room = room.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let served = match acceptor {
                Some(acceptor) => serve_tls(&acceptor, stream, peer, &room).await,
                None => match stream.set_nodelay(true) {
                    Ok(()) => serve_http1(stream, peer, &room).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = served {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// A self-signed certificate for `localhost` and `local`'s address, printed (PEM and SHA-256
/// fingerprint) on standard error, in a TLS acceptor that offers ALPN `h2` and `http/1.1`.
fn tls_acceptor(local: SocketAddr) -> io::Result<TlsAcceptor> {
    let mut names = vec!["localhost".to_owned(), local.ip().to_string()];
    if !local.ip().is_loopback() {
        names.push("127.0.0.1".to_owned());
    }
    let certified = rcgen::generate_simple_self_signed(names.clone()).map_err(io::Error::other)?;
    let der: CertificateDer<'static> = certified.cert.der().clone();
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der);
    let fingerprint: Vec<String> = fingerprint
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    eprintln!(
        "TLS: a self-signed certificate made at start-up for {}\n{}SHA-256 fingerprint: {}",
        names.join(", "),
        certified.cert.pem(),
        fingerprint.join(":")
    );
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .map_err(io::Error::other)?;
    // The browser picks: HTTP/2 if it can (then WebSockets ride on it, RFC 8441), else 1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The TLS handshake, then HTTP/2 or HTTP/1.1, whichever ALPN chose.
async fn serve_tls(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    room: &Arc<Room>,
) -> io::Result<()> {
    tcp.set_nodelay(true)?;
    let tls = acceptor.accept(tcp).await?;
    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
        serve_h2(tls, peer, room).await
    } else {
        serve_http1(tls, peer, room).await
    }
}

/// The WebSocket configuration of every client: small messages, keepalive pings.
fn ws_config() -> Config {
    let mut config = Config::default();
    config.max_message_size = MAX_MESSAGE;
    config.max_frame_size = MAX_MESSAGE;
    config.keepalive_interval = Some(PING_INTERVAL);
    config.pong_timeout = Some(PING_TIMEOUT);
    config
}

/// Reads the request head; serves the page, or upgrades `/ws` and joins the room.
async fn serve_http1<S>(mut stream: S, peer: SocketAddr, room: &Arc<Room>) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            let status = "431 Request Header Fields Too Large";
            return respond(&mut stream, status, "text/plain", "too large").await;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let target = head.split(|&b| b == b' ').nth(1).unwrap_or_default();
    let target = String::from_utf8_lossy(target).into_owned();
    match target.split('?').next() {
        Some("/") => respond(&mut stream, "200 OK", "text/html; charset=utf-8", PAGE).await,
        Some("/ws") => {
            let mut handshake = ServerHandshake::default();
            let request = match handshake.receive(&head) {
                Ok(Status::Complete(request)) => request,
                Ok(Status::Partial) => unreachable!("the whole head was read"),
                Err(rejection) => {
                    stream.write_all(&rejection.response().to_bytes()).await?;
                    return Ok(());
                }
            };
            let nick = query_param(request.query().unwrap_or(""), "nick");
            let accepted = request.accept(&Accept::new()).map_err(io::Error::other)?;
            stream.write_all(&accepted.to_bytes()).await?;
            // TLS holds the 101 until flushed.
            stream.flush().await?;
            let mut conn = Connection::server(accepted.negotiated, ws_config());
            conn.receive(&accepted.leftover);
            eprintln!("{peer}: WebSocket accepted over http/1.1 for {nick:?}");
            let ws = WebSocket::from_connection(stream, conn);
            session(ws, peer, room.join(&nick)).await
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", "not found").await,
    }
}

/// Serves one HTTP/2 connection: the page, and WebSockets as extended CONNECTs (RFC 8441),
/// each stream in its own task.
async fn serve_h2<S>(io: S, peer: SocketAddr, room: &Arc<Room>) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut connection = h2::server::Builder::new()
        // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: browsers open WebSockets on this connection.
        .enable_connect_protocol()
        // A page and its WebSocket need a few streams; a bound keeps one client's tasks few.
        .max_concurrent_streams(MAX_STREAMS)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(io::Error::other)?;
    // Polling `accept` also drives the connection for every stream already accepted.
    while let Some(request) = connection.accept().await {
        let (request, respond) = request.map_err(io::Error::other)?;
        let room = room.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_h2_stream(request, respond, peer, &room).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
    Ok(())
}

/// One HTTP/2 request: the page, or a WebSocket at `/ws`.
async fn serve_h2_stream(
    request: http::Request<h2::RecvStream>,
    mut respond: SendResponse<Bytes>,
    peer: SocketAddr,
    room: &Arc<Room>,
) -> io::Result<()> {
    let nick = query_param(request.uri().query().unwrap_or(""), "nick");
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&http::Method::CONNECT, "/ws") => {
            let options = AcceptOptions::new().config(ws_config());
            // Answers 200, or the error response for a request that is not a WebSocket's.
            let ws = accept_h2(request, respond, &options)
                .await
                .map_err(io::Error::other)?;
            eprintln!("{peer}: WebSocket accepted over h2 for {nick:?}");
            return session(ws, peer, room.join(&nick)).await;
        }
        (&http::Method::GET, "/") => (200, "text/html; charset=utf-8", PAGE),
        _ => (404, "text/plain", "not found"),
    };
    let response = http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(())
        .map_err(io::Error::other)?;
    let mut send = respond
        .send_response(response, false)
        .map_err(io::Error::other)?;
    // The page is smaller than HTTP/2's initial window: h2 sends it without waiting.
    send.send_data(Bytes::from_static(body.as_bytes()), true)
        .map_err(io::Error::other)
}

/// One client in the room until its connection ends: the WebSocket loop, on the
/// `wsmachine-tokio` driver, which hands text to [`Member::receive`] and sends what the room
/// broadcasts. Dropping `member` leaves the room.
///
/// The driver runs the connection's keepalive timers while `recv` waits, writes the automatic
/// Pongs, and bounds the closing handshake; `recv` is cancel-safe, so it can sit in the
/// `select!` beside the room's broadcasts.
async fn session<S>(mut ws: WebSocket<S>, peer: SocketAddr, mut member: Member) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    for frame in member.greeting.drain(..) {
        ws.send(Message::text(frame))
            .await
            .map_err(io::Error::other)?;
    }
    loop {
        tokio::select! {
            message = ws.recv() => {
                let handled = match message {
                    Some(Ok(Message::Text(text))) => member.receive(&text),
                    Some(Ok(Message::Binary(_))) => Err(Reject::Binary),
                    Some(Ok(_)) => Ok(None), // Ping, Pong, the peer's Close: the driver answers
                    None => {
                        eprintln!("{peer}: closed");
                        return Ok(());
                    }
                    Some(Err(Error::Closed(outcome))) => {
                        eprintln!("{peer}: closed {} {}", outcome.code, outcome.reason);
                        return Ok(());
                    }
                    // HTTP/2: the browser reset the stream (it closed the page, say).
                    Some(Err(Error::StreamReset(reason))) => {
                        eprintln!("{peer}: stream reset ({reason})");
                        return Ok(());
                    }
                    Some(Err(e)) => return Err(io::Error::other(e)),
                };
                match handled {
                    Ok(Some(reply)) => send_or_close(&mut ws, reply.as_str()).await,
                    Ok(None) => {}
                    Err(reject) => {
                        let _ = ws.close(reject.close_code(), reject.reason()).await;
                    }
                }
            }
            frame = member.inbox.recv(), if ws.state() == ReadyState::Open => match frame {
                Ok(frame) if ws.buffered_amount() <= MAX_BUFFERED => {
                    // Encoded once for the whole room: no per-client encoding or copy.
                    let _ = ws.send_prepared(&frame).await;
                }
                // Too slow: the policy is to disconnect rather than skip messages.
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    let _ = ws.close(CloseCode::TRY_AGAIN_LATER, "too slow").await;
                }
                Err(RecvError::Closed) => {
                    let _ = ws.close(CloseCode::GOING_AWAY, "server shutting down").await;
                }
            },
        }
    }
}

/// Sends a text frame; once the connection is closing there is nothing left to say, and a
/// failed write ends the connection through the next `recv`.
async fn send_or_close<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocket<S>, text: &str) {
    if ws.state() == ReadyState::Open {
        let _ = ws.send(Message::text(text)).await;
    }
}

/// The value of `name` in a query string, percent-decoded (`+` is a space); empty if absent.
fn query_param(query: &str, name: &str) -> String {
    let raw = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("");
    let mut bytes = Vec::new();
    let mut it = raw.bytes();
    while let Some(b) = it.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex: String = it.by_ref().take(2).map(char::from).collect();
                bytes.extend(u8::from_str_radix(&hex, 16).ok());
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The room's clock: wall-clock milliseconds, which the page shows as local time.
fn unix_millis() -> room::Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn respond<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
    content_type: &str,
    body: &str,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
