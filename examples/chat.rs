//! A chat room in the browser: `cargo run --example chat`, then open http://127.0.0.1:8080/ in
//! two tabs. One page of HTML and JavaScript (using the browser's WebSocket API) is served at
//! `/`, the WebSocket endpoint at `/ws?nick=NAME`. Messages are broadcast with the sender's
//! nickname; joins and leaves are announced.
//!
//! ```sh
//! cargo run --example chat              # http://127.0.0.1:8080/
//! cargo run --example chat -- 127.0.0.1:9000
//! ```
//!
//! Each client is one tokio task driving one [`Connection`] with a readiness loop: it reads
//! when the socket is readable, writes when it is writable and output is pending, takes
//! broadcast messages, and runs the connection's keepalive timer, all in one `select!`, so output and
//! input never wait for each other.
//!
//! **Slow clients cannot stall the others.** Broadcasting never waits for a client: messages go
//! into a bounded broadcast channel ([`ROOM_BACKLOG`] messages). A client that falls that far
//! behind, or whose unwritten output passes [`MAX_BUFFERED`] bytes, is disconnected with close
//! code 1013 (try again later) — the drop-the-client policy, rather than silently dropping
//! messages, so nobody sees a conversation with holes in it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::time::Instant;
use wsmachine::handshake::{Accept, ServerHandshake, Status};
use wsmachine::{CloseCode, Config, Connection, Event};

/// Messages a client may fall behind before it is disconnected.
const ROOM_BACKLOG: usize = 256;
/// Unwritten bytes a client may accumulate before it is disconnected.
const MAX_BUFFERED: usize = 1 << 20;
/// The largest chat message accepted from a browser.
const MAX_MESSAGE: usize = 16 * 1024;
/// Ping a quiet client after this long; give up this long after an unanswered ping.
const PING_INTERVAL: Duration = Duration::from_secs(20);
const PING_TIMEOUT: Duration = Duration::from_secs(10);

type Room = broadcast::Sender<Arc<str>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("chat listening on http://{local}/");
    let (room, _) = broadcast::channel::<Arc<str>>(ROOM_BACKLOG);
    loop {
        let (stream, peer) = listener.accept().await?;
        let room = room.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(stream, peer, room).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Reads the request head; serves the page, or upgrades `/ws` to a chat connection.
async fn serve(mut stream: TcpStream, peer: SocketAddr, room: Room) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "too large",
            )
            .await;
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
            let nick = nickname(request.query().unwrap_or(""), peer);
            let accepted = request
                .accept(&Accept::new())
                .map_err(std::io::Error::other)?;
            stream.write_all(&accepted.to_bytes()).await?;
            let mut config = Config::default();
            config.max_message_size = MAX_MESSAGE;
            config.max_frame_size = MAX_MESSAGE;
            config.keepalive_interval = Some(PING_INTERVAL);
            config.pong_timeout = Some(PING_TIMEOUT);
            let mut conn = Connection::server(accepted.negotiated, config);
            conn.receive(&accepted.leftover);
            chat(stream, conn, nick, room).await
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", "not found").await,
    }
}

/// One chat client until its connection ends.
async fn chat(
    stream: TcpStream,
    mut conn: Connection,
    nick: String,
    room: Room,
) -> std::io::Result<()> {
    let mut inbox = room.subscribe();
    let _ = room.send(format!("* {nick} joined").into());
    // The connection's timers run on this clock: durations since `start`.
    let start = Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // The driver contract: take every event, then write what is pending.
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Text(text) => {
                    let line = text.trim();
                    if !line.is_empty() {
                        let _ = room.send(format!("{nick}: {line}").into());
                    }
                }
                Event::Closed(outcome) => {
                    eprintln!("{nick} left: {} {}", outcome.code, outcome.reason)
                }
                _ => {}
            }
        }
        if conn.wants_transport_close() {
            break;
        }
        let interest = if conn.buffered_amount() > 0 {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let wake = conn.poll_timeout().map(|at| start + at);
        tokio::select! {
            ready = stream.ready(interest) => {
                let ready = ready?;
                if ready.is_writable() && conn.buffered_amount() > 0 {
                    match stream.try_write(conn.pending_output()) {
                        Ok(n) => conn.consume_output(n),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
                if ready.is_readable() {
                    match stream.try_read(&mut buf) {
                        Ok(0) => conn.receive_eof(),
                        Ok(n) => conn.receive(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => conn.receive_eof(),
                        Err(e) => return Err(e),
                    }
                }
            }
            message = inbox.recv(), if conn.state() == wsmachine::ReadyState::Open => match message {
                Ok(line) if conn.buffered_amount() <= MAX_BUFFERED => {
                    let _ = conn.send_text(&*line);
                }
                // Too slow: the policy is to disconnect rather than skip messages.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = conn.fail(CloseCode::TRY_AGAIN_LATER, "too slow");
                }
                Err(broadcast::error::RecvError::Closed) => {
                    let _ = conn.close(CloseCode::GOING_AWAY, "server shutting down");
                }
            },
            // Keepalive Pings, and giving up on a peer that stops answering.
            _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                conn.handle_timeout(start.elapsed());
            }
        }
    }
    let _ = room.send(format!("* {nick} left").into());
    Ok(())
}

/// The `nick` query parameter (percent-decoded, trimmed, at most 32 characters), or a name
/// made from the peer's port.
fn nickname(query: &str, peer: SocketAddr) -> String {
    let raw = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("nick="))
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
    let nick: String = String::from_utf8_lossy(&bytes)
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(32)
        .collect();
    if nick.is_empty() {
        format!("guest-{}", peer.port())
    } else {
        nick
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsmachine chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #log { list-style: none; padding: .5rem; height: 20rem; overflow-y: auto; border: 1px solid #ccc; border-radius: 6px; }
  #log li.notice { color: #777; font-style: italic; }
  form { display: flex; gap: .5rem; }
  #message { flex: 1; }
  #status { color: #555; font-size: .9rem; }
</style>
</head>
<body>
<h1>wsmachine chat</h1>
<p id="status">not connected</p>
<ul id="log"></ul>
<form id="form">
  <input id="nick" placeholder="nickname" size="10">
  <input id="message" placeholder="say something" autocomplete="off">
  <button id="send" type="submit">Send</button>
</form>
<script>
const log = document.getElementById("log");
const nick = document.getElementById("nick");
const message = document.getElementById("message");
const status = document.getElementById("status");
const states = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"];
nick.value = "guest" + Math.floor(Math.random() * 1000);
let ws = null, joinedAs = null, queue = [];

function line(text, notice) {
  const li = document.createElement("li");
  li.textContent = text;
  if (notice) li.className = "notice";
  log.appendChild(li);
  log.scrollTop = log.scrollHeight;
}
function showStatus() {
  status.textContent = ws
    ? `${states[ws.readyState]} as ${joinedAs} (readyState ${ws.readyState}, bufferedAmount ${ws.bufferedAmount})`
    : "not connected";
}
function connect() {
  joinedAs = nick.value.trim() || "guest";
  const url = new URL("/ws?nick=" + encodeURIComponent(joinedAs), location.href);
  url.protocol = url.protocol.replace("http", "ws");
  const socket = new WebSocket(url);
  ws = socket;
  socket.addEventListener("open", () => { showStatus(); queue.forEach(m => socket.send(m)); queue = []; });
  socket.addEventListener("message", e => { line(e.data, e.data.startsWith("* ")); showStatus(); });
  socket.addEventListener("error", () => line("connection error", true));
  socket.addEventListener("close", e => {
    line(`disconnected (code ${e.code}${e.reason ? ", " + e.reason : ""}, clean: ${e.wasClean})`, true);
    if (ws === socket) ws = null;
    showStatus();
  });
  showStatus();
}
document.getElementById("form").addEventListener("submit", e => {
  e.preventDefault();
  const text = message.value;
  if (!text.trim()) return;
  if (ws && joinedAs !== (nick.value.trim() || "guest")) { ws.close(1000, "changing nickname"); ws = null; }
  if (!ws) { queue.push(text); connect(); }
  else if (ws.readyState === WebSocket.CONNECTING) queue.push(text);
  else ws.send(text);
  message.value = "";
  showStatus();
});
setInterval(showStatus, 1000);
</script>
</body>
</html>
"#;
