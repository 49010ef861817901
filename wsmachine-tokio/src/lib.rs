//! The tokio driver for [`wsmachine`], the sans-IO WebSocket protocol core (RFC 6455,
//! RFC 7692 permessage-deflate, RFC 8441 WebSockets over HTTP/2).
//!
//! Two calls start a connection — [`accept`] on a server, [`connect`] on a client — and a
//! [`WebSocket`] carries it: [`recv`](WebSocket::recv) and [`send`](WebSocket::send), or the
//! `futures` [`Stream`](futures_core::Stream) and [`Sink`](futures_sink::Sink) traits, and
//! [`split`](WebSocket::split) into halves for two tasks. The protocol (framing, masking, UTF-8,
//! Ping/Pong, the closing handshake, limits, keepalive and close timers) is the core's; this
//! crate moves bytes and time between it and tokio.
//!
//! # An echo server
//!
//! ```no_run
//! use tokio::net::TcpListener;
//! use wsmachine_tokio::{Message, accept};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = TcpListener::bind("127.0.0.1:9002").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         tokio::spawn(async move {
//!             // The handshake: an invalid request gets its error response (400, 426, ...).
//!             let Ok(mut ws) = accept(stream).await else { return };
//!             while let Some(Ok(message)) = ws.recv().await {
//!                 if let Message::Text(_) | Message::Binary(_) = message {
//!                     // Returns once written: the next message is read only then.
//!                     if ws.send(message).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             }
//!         });
//!     }
//! }
//! ```
//!
//! # A client
//!
//! ```no_run
//! use wsmachine_tokio::{CloseCode, Error, Message, connect};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let mut ws = connect("ws://127.0.0.1:9002/").await?;
//!     ws.send("hello").await?;
//!     if let Some(Message::Text(text)) = ws.recv().await.transpose()? {
//!         println!("echo: {text}");
//!     }
//!     ws.close(CloseCode::NORMAL, "done").await?;
//!     // Finish the closing handshake: `None` after a clean close.
//!     while let Some(message) = ws.recv().await {
//!         println!("before the close: {:?}", message?);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! [`accept_with`] and [`connect_with`] take [`AcceptOptions`] and [`ConnectOptions`]:
//! subprotocols (the server's preference list, or its own decision per request), permessage-
//! deflate (feature `deflate`), extra headers, the server's origin policy, the core's
//! [`Config`] (message limits, keepalive, Pong deadline, idle and close timeouts), the
//! handshake timeout (10 s by default) and the output bound.
//!
//! # How it runs
//!
//! No task runs in the background: a `WebSocket` makes progress while one of its methods is
//! awaited, and [`recv`](WebSocket::recv) does most of it — it writes what is queued
//! (automatic Pongs, the Close reply, unfinished sends), runs the timers on tokio's clock,
//! reads, and shuts the transport down when the connection ends. Keep a `recv` going for as
//! long as the connection lives. The [`WebSocket`] page says what each method waits for,
//! what happens when its future is dropped (every method is cancel-safe), how backpressure
//! works and how the end is reported:
//!
//! - after a clean closing handshake `recv` returns `None`;
//! - any other end (the peer's protocol error, a timer, a lost transport) returns one
//!   [`Error::Closed`] with the [`CloseOutcome`] (1006 and the [`Timeout`](wsmachine::Timeout)
//!   for a timer), then `None`;
//! - a transport error other than the peer going away returns it once (`Error::Io`; over
//!   HTTP/2 the peer's RST_STREAM is `Error::StreamReset` with its reason), then `None`;
//!   [`WebSocket::close_outcome`] says 1006.
//!
//! **Two tasks.** [`WebSocket::split`] gives a [`ReadHalf`] and a [`WriteHalf`]. The reader
//! writes the connection's own replies (Pongs, the Close reply) itself, so they go out while
//! the writer is idle; the halves share the connection behind a mutex held only inside a poll
//! and wake each other on every change, so no wake-up is lost.
//!
//! **Timers.** The core's timers (`Config::keepalive_interval`, `pong_timeout`,
//! `idle_timeout`, `close_timeout`) run on `tokio::time`, so they follow a paused test clock
//! (`#[tokio::test(start_paused = true)]`).
//!
//! **Backpressure.** Input is read only while `recv` is awaited and the messages already read
//! are taken; `send` returns once its message is written; the `Sink` waits while more than
//! [`DEFAULT_MAX_BUFFERED`] (128 KiB, configurable) is queued. A peer that stops reading
//! stalls the sender through TCP (or HTTP/2 flow control), never growing memory.
//!
//! **Memory.** An idle connection holds no read buffer (reads go through a buffer on the
//! stack of the poll) and no timer until one runs. Measured by `tests/idle_memory.rs`
//! (a counting allocator, 1,000 connections accepted over in-memory streams, each in its task
//! waiting in `recv`): about **2.7 KiB per idle server connection**, task included.
//!
//! # Transports
//!
//! A `WebSocket<S>` runs over any `S: AsyncRead + AsyncWrite + Unpin`; the same `WebSocket`
//! type, with the same methods and the same end reporting, serves every transport below.
//!
//! ## TCP
//!
//! [`accept`] on an accepted `TcpStream` (set `TCP_NODELAY`); [`connect`] dials `ws://` URLs
//! itself; [`client_on`] runs the client handshake on a stream you connected (a Unix socket,
//! a proxy tunnel):
//!
//! ```no_run
//! # async fn run() -> Result<(), wsmachine_tokio::Error> {
//! let stream = tokio::net::TcpStream::connect("127.0.0.1:9002").await?;
//! stream.set_nodelay(true)?;
//! let options = wsmachine_tokio::ConnectOptions::new().protocol("chat");
//! let mut ws = wsmachine_tokio::client_on(stream, "ws://127.0.0.1:9002/chat", &options).await?;
//! ws.send("hello").await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## TLS
//!
//! Clients: `wss://` URLs with feature `rustls-tls-webpki-roots` (Mozilla's roots),
//! `rustls-tls-native-roots` (the system's), or `rustls` with
//! `ConnectOptions::tls_config`; SNI and the certificate check use the URL's host.
//! Servers: accept TLS with `tokio-rustls` and give the TLS stream to [`accept`]:
//!
//! ```no_run
//! # #[cfg(feature = "rustls")]
//! # async fn serve(
//! #     server_config: std::sync::Arc<rustls::ServerConfig>,
//! #     tcp: tokio::net::TcpStream,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! let tls = tokio_rustls::TlsAcceptor::from(server_config).accept(tcp).await?;
//! let mut ws = wsmachine_tokio::accept(tls).await?;
//! # Ok(())
//! # }
//! ```
//!
//! A server that offers ALPN `h2` too gets HTTP/2 connections from browsers: serve those as
//! below (the chat example does both, `cargo run --example chat -- 127.0.0.1:8443 --tls`).
//!
//! ## hyper and axum
//!
//! Feature `hyper`. `upgrade` validates the request, gives the `101` (or, over HTTP/2, the
//! `200` of an extended CONNECT) to return, and a future that yields the `WebSocket` once hyper
//! hands the connection over:
//!
//! ```
//! # #[cfg(feature = "hyper")]
//! # mod example {
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use wsmachine_tokio::{AcceptOptions, Message, upgrade};
//!
//! async fn handle(
//!     mut request: hyper::Request<Incoming>,
//! ) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
//!     match upgrade(&mut request, &AcceptOptions::new()) {
//!         Ok((response, upgrading)) => {
//!             tokio::spawn(async move {
//!                 let Ok(mut ws) = upgrading.await else { return };
//!                 while let Some(Ok(message)) = ws.recv().await {
//!                     if let Message::Text(_) = message {
//!                         let _ = ws.send(message).await;
//!                     }
//!                 }
//!             });
//!             Ok(response.map(|()| Full::default()))
//!         }
//!         Err(refusal) => Ok(refusal.into_response().map(|body| Full::new(body.into()))),
//!     }
//! }
//! # }
//! ```
//!
//! Serve an HTTP/1.1 connection `.with_upgrades()`. Over HTTP/2 the same handler accepts the
//! extended CONNECT of RFC 8441 once the server enables it, which sends
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL`:
//! `hyper::server::conn::http2::Builder::new(executor).enable_connect_protocol()`; each
//! WebSocket is one stream, and hyper does the stream's flow control. In axum, take the
//! `Request` in the handler the same way.
//!
//! ## HTTP/2
//!
//! Feature `h2` (RFC 8441), both roles, over the `h2` crate. A server builds its connection
//! with `enable_connect_protocol` and hands each extended CONNECT to `accept_h2`; a client
//! gets a `SendRequest` from `h2_client` (over TCP with prior knowledge, or TLS with ALPN
//! `h2`) and opens any number of WebSockets on the one connection with `connect_h2`, which
//! fails with `Error::ExtendedConnectDisabled` unless the server's SETTINGS allowed it:
//!
//! ```no_run
//! # #[cfg(feature = "h2")]
//! # mod example {
//! use tokio::net::TcpStream;
//! use wsmachine_tokio::{AcceptOptions, ConnectOptions, Error, Message};
//! use wsmachine_tokio::{accept_h2, connect_h2, h2_client};
//!
//! /// Server: every extended CONNECT on the connection is an echo WebSocket.
//! async fn serve(tcp: TcpStream) -> Result<(), h2::Error> {
//!     let mut connection = h2::server::Builder::new()
//!         .enable_connect_protocol()
//!         .handshake(tcp)
//!         .await?;
//!     // Polling `accept` also drives the connection for the streams already accepted.
//!     while let Some(request) = connection.accept().await {
//!         let (request, respond) = request?;
//!         tokio::spawn(async move {
//!             let Ok(mut ws) = accept_h2(request, respond, &AcceptOptions::new()).await else {
//!                 return;
//!             };
//!             while let Some(Ok(message)) = ws.recv().await {
//!                 if let Message::Text(_) | Message::Binary(_) = message {
//!                     let _ = ws.send(message).await;
//!                 }
//!             }
//!         });
//!     }
//!     Ok(())
//! }
//!
//! /// Client: two WebSockets on one HTTP/2 connection.
//! async fn client() -> Result<(), Error> {
//!     let send_request = h2_client(TcpStream::connect("127.0.0.1:9003").await?).await?;
//!     let options = ConnectOptions::new();
//!     let mut first = connect_h2(send_request.clone(), "ws://127.0.0.1:9003/a", &options).await?;
//!     let mut second = connect_h2(send_request, "ws://127.0.0.1:9003/b", &options).await?;
//!     first.send("one").await?;
//!     second.send("two").await?;
//!     Ok(())
//! }
//! # }
//! ```
//!
//! `H2Stream` is the stream as a transport. Flow control both ways: received capacity is
//! released as the WebSocket reads the bytes (a reader that stops stops the peer after one
//! window), and a write waits for send capacity and hands h2 no more than it got (nothing
//! piles up inside h2). The ends: the peer's END_STREAM is end of file (`receive_eof`; 1006
//! unless the closing handshake was done); our shutdown sends END_STREAM; the peer's
//! RST_STREAM is an abrupt end, reported once by `recv` as `Error::StreamReset` with the
//! reason, outcome 1006. A dropped stream ends like a dropped TCP socket: END_STREAM behind
//! what was written, and it lingers for up to `H2Stream::LINGER` until the peer ends too, so
//! that h2 does not discard the last DATA (the Close frame) in a reset.
//!
//! # HTTP/3
//!
//! Feature `h3` (RFC 9220) runs the same [`WebSocket`] over one bidirectional stream of an
//! HTTP/3 connection (`H3Stream`, whose page says how QUIC flow control and the stream's ends
//! map to reads and writes).
//!
//! **Why quiche.** RFC 9220 needs an HTTP/3 stack that sends and accepts an extended CONNECT
//! with `:protocol: websocket` and announces `SETTINGS_ENABLE_CONNECT_PROTOCOL`. Checked in
//! the sources of the newest releases on crates.io: the `h3` crate (0.0.8, with `h3-quinn`
//! 0.0.10) parses `:protocol` into a closed type, `h3::ext::Protocol`, whose `FromStr` knows
//! only `webtransport` and `connect-udp`, so its server fails to parse a WebSocket request
//! and its client cannot build one. quiche (0.30) takes `:protocol` as an ordinary field and
//! has `h3::Config::enable_extended_connect`. quiche is sans-IO like this crate's core: a
//! client connection's task owns its UDP socket; a server's endpoint reads one socket and
//! routes datagrams to each connection's task. `tokio-quiche` (0.20) wraps the same library
//! with its own request model and a much larger dependency tree; it is not used. quiche
//! builds BoringSSL from source, so building this feature needs cmake and clang.
//!
//! `quic_config` gives a QUIC configuration to which you add the certificate (a server) or
//! the roots (a client). A server:
//!
//! ```no_run
//! # #[cfg(feature = "h3")]
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! use wsmachine_tokio::{AcceptOptions, H3Server, Message, accept_h3, quic_config};
//!
//! let mut config = quic_config()?;
//! config.load_cert_chain_from_pem_file("cert.pem")?;
//! config.load_priv_key_from_pem_file("key.pem")?;
//! let mut server = H3Server::bind("0.0.0.0:4433", config).await?;
//! // Every extended CONNECT of every QUIC connection.
//! while let Some(request) = server.accept().await {
//!     tokio::spawn(async move {
//!         let Ok(mut ws) = accept_h3(request, &AcceptOptions::new()).await else { return };
//!         while let Some(Ok(message)) = ws.recv().await {
//!             if let Message::Text(_) | Message::Binary(_) = message {
//!                 let _ = ws.send(message).await;
//!             }
//!         }
//!     });
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A client opens any number of WebSockets on one QUIC connection:
//!
//! ```no_run
//! # #[cfg(feature = "h3")]
//! # async fn client() -> Result<(), Box<dyn std::error::Error>> {
//! use wsmachine_tokio::{CloseCode, ConnectOptions, connect_h3, h3_client, quic_config};
//!
//! let mut config = quic_config()?;
//! config.load_verify_locations_from_file("ca.pem")?;
//! config.verify_peer(true);
//! let client = h3_client("192.0.2.1:4433".parse()?, "example.com", config).await?;
//! let mut chat = connect_h3(&client, "wss://example.com/chat", &ConnectOptions::new()).await?;
//! let mut feed = connect_h3(&client, "wss://example.com/feed", &ConnectOptions::new()).await?;
//! chat.send("hello").await?;
//! let _update = feed.recv().await;
//! chat.close(CloseCode::NORMAL, "bye").await?;
//! # Ok(())
//! # }
//! ```
//!
//! A stream reset by the peer ends the WebSocket with 1006 ([`Error::Closed`]); the QUIC
//! connection's end is an [`Error::Io`] carrying an `H3Error`.
//!
//! # Coming from tokio-tungstenite
//!
//! | tokio-tungstenite | wsmachine-tokio |
//! |---|---|
//! | `accept_async(stream)` | [`accept(stream)`](accept) |
//! | `accept_hdr_async(stream, callback)` | [`accept_with(stream, &AcceptOptions::new().on_request(..))`](accept_with) |
//! | `connect_async(url)` → `(ws, response)` | [`connect(url)`](connect) → `ws` |
//! | `client_async(request, stream)` | [`client_on(stream, url, &options)`](client_on) |
//! | `WebSocketStream<MaybeTlsStream<TcpStream>>` | [`WebSocket<MaybeTlsStream<TcpStream>>`](WebSocket) |
//! | `Message::Text(Utf8Bytes)`, `Message::Binary(Bytes)` | [`Message::Text(Text)`](Message), `Message::Binary(Bytes)` |
//! | `Message::Frame(_)` | none (streaming: `Config::streaming` delivers pieces as messages) |
//! | `StreamExt::next(&mut ws)` | [`ws.recv()`](WebSocket::recv), or `next()` (it is a `Stream`) |
//! | `SinkExt::send(&mut ws, msg)` | [`ws.send(msg)`](WebSocket::send), or `SinkExt::send` (it is a `Sink`) |
//! | `ws.close(None)` | [`ws.close(code, reason)`](WebSocket::close), then `recv` until `None` |
//! | `StreamExt::split(ws)` (`SplitSink`/`SplitStream`, one lock) | [`ws.split()`](WebSocket::split) → [`ReadHalf`], [`WriteHalf`]; [`reunite`](ReadHalf::reunite) |
//! | `tungstenite::Error` (`ConnectionClosed`, `Protocol(..)`, `Http(..)`) | [`Error`] (`Closed(CloseOutcome)`, `Request`, `Response`, `Io`, `Tls`, ...) |
//! | `WebSocketConfig { max_message_size, max_frame_size, .. }` | [`Config`] in [`AcceptOptions::config`] / [`ConnectOptions::config`] |
//! | `WebSocketConfig::write_buffer_size`, `max_write_buffer_size` | [`AcceptOptions::max_buffered`], [`WebSocket::set_max_buffered`] |
//! | keepalive: your own `interval` + `Message::Ping` | `Config::keepalive_interval`, `Config::pong_timeout` |
//! | features `rustls-tls-webpki-roots`, `rustls-tls-native-roots` | the same names |
//!
//! # Features
//!
//! | feature | what |
//! |---|---|
//! | `deflate` | permessage-deflate (RFC 7692): `AcceptOptions::deflate`, `ConnectOptions::deflate` |
//! | `rustls` | `wss://` with a `rustls::ClientConfig` you give; `MaybeTlsStream::Rustls` |
//! | `rustls-tls-webpki-roots` | `rustls`, trusting the Mozilla roots (webpki-roots) |
//! | `rustls-tls-native-roots` | `rustls`, trusting the operating system's roots |
//! | `hyper` | `upgrade`: hyper 1 / axum upgrades, HTTP/1.1 and HTTP/2 |
//! | `h2` | `H2Stream`, `accept_h2`, `connect_h2`, `h2_client` |
//! | `h3` | `H3Server`, `accept_h3`, `H3Client`, `h3_client`, `connect_h3`, `H3Stream` (quiche; needs cmake and clang) |
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod driver;
mod error;
#[cfg(feature = "h2")]
mod h2;
#[cfg(feature = "h3")]
mod h3;
mod handshake;
mod message;
mod options;
mod split;
mod stream;
#[cfg(feature = "rustls")]
mod tls;
#[cfg(feature = "hyper")]
mod upgrade;
mod websocket;

pub use driver::DEFAULT_MAX_BUFFERED;
pub use error::Error;
#[cfg(feature = "h2")]
#[cfg_attr(docsrs, doc(cfg(feature = "h2")))]
pub use h2::{H2Stream, accept_h2, connect_h2, h2_client};
#[cfg(feature = "h3")]
#[cfg_attr(docsrs, doc(cfg(feature = "h3")))]
pub use h3::{
    H3Client, H3Error, H3Request, H3Server, H3Stream, accept_h3, connect_h3, h3_client, quic_config,
};
pub use handshake::{accept, accept_with, client_on, connect, connect_with};
pub use message::Message;
pub use options::{AcceptOptions, ConnectOptions, DEFAULT_HANDSHAKE_TIMEOUT};
/// quiche, the QUIC and HTTP/3 library under feature `h3`, for its `Config`.
#[cfg(feature = "h3")]
#[cfg_attr(docsrs, doc(cfg(feature = "h3")))]
pub use quiche;
pub use split::{ReadHalf, ReuniteError, WriteHalf};
pub use stream::MaybeTlsStream;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub use upgrade::{Refusal, UpgradedIo, Upgrading, upgrade};
pub use websocket::WebSocket;
/// The protocol core, for its types (`Config`, `CloseCode`, `CloseFrame`, `Text`, ...).
pub use wsmachine;
pub use wsmachine::{Bytes, CloseCode, CloseFrame, CloseOutcome, Config, PreparedMessage, Text};
