//! A chat room in the browser: `cargo run --example chat`, then open http://127.0.0.1:8080/ in
//! two tabs (or two browsers).
//!
//! ```sh
//! cargo run --example chat              # http://127.0.0.1:8080/
//! cargo run --example chat -- 127.0.0.1:9000
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
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::error::RecvError;
use wsmachine::handshake::{Accept, ServerHandshake, Status};
use wsmachine::{CloseCode, Config, Connection, ReadyState};
use wsmachine_tokio::{Error, Message, WebSocket};

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
/// Ping a quiet client after this long; give up this long after an unanswered ping.
const PING_INTERVAL: Duration = Duration::from_secs(20);
const PING_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat listening on http://{}/", listener.local_addr()?);
    let room = Room::new(ROOM_BACKLOG, unix_millis);
    loop {
        let (stream, peer) = listener.accept().await?;
        let room = room.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(stream, &room).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Reads the request head; serves the page, or upgrades `/ws` and joins the room.
async fn serve(mut stream: TcpStream, room: &Arc<Room>) -> io::Result<()> {
    stream.set_nodelay(true)?;
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
            let mut config = Config::default();
            config.max_message_size = MAX_MESSAGE;
            config.max_frame_size = MAX_MESSAGE;
            config.keepalive_interval = Some(PING_INTERVAL);
            config.pong_timeout = Some(PING_TIMEOUT);
            let mut conn = Connection::server(accepted.negotiated, config);
            conn.receive(&accepted.leftover);
            session(stream, conn, room.join(&nick)).await
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", "not found").await,
    }
}

/// One client in the room until its connection ends: the WebSocket loop, on the
/// `wsmachine-tokio` driver, which hands text to [`Member::receive`] and sends what the room
/// broadcasts. Dropping `member` leaves the room.
///
/// The driver runs the connection's keepalive timers while `recv` waits, writes the automatic
/// Pongs, and bounds the closing handshake; `recv` is cancel-safe, so it can sit in the
/// `select!` beside the room's broadcasts.
async fn session(stream: TcpStream, conn: Connection, mut member: Member) -> io::Result<()> {
    let peer = stream.peer_addr()?;
    let mut ws = WebSocket::from_connection(stream, conn);
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
async fn send_or_close(ws: &mut WebSocket<TcpStream>, text: &str) {
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

async fn respond(
    stream: &mut TcpStream,
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
