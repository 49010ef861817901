//! WebSocket (RFC 6455) as a sans-IO state machine: bytes in, events and bytes out.
//!
//! wsmachine never owns a socket, a clock or a runtime. A driver — a blocking
//! [`TcpStream`](std::net::TcpStream), tokio, mio, io_uring, an HTTP/2 stream, a fuzzer —
//! moves bytes between the transport and a [`Connection`], which parses frames, enforces the
//! protocol, and tells the driver what to write.
//!
//! # The driver contract
//!
//! **After every call that feeds input or asks to send, drain [`Connection::poll_event`]
//! until `None` and write [`Connection::pending_output`] (then
//! [`consume_output`](Connection::consume_output)) before waiting for the transport again;
//! close the transport when [`wants_transport_close`](Connection::wants_transport_close)
//! says so.**
//!
//! Output is produced by input too (the automatic Pong, the Close reply, the Close sent on a
//! protocol error), so all of it goes through that one queue. The core never calls back into
//! the driver and never writes to the transport itself.
//!
//! # A complete server
//!
//! An echo server over a blocking [`TcpStream`](std::net::TcpStream): the opening handshake,
//! then the driver contract, with the connection's timers (a keepalive Ping after 30 s of
//! silence, and the close timeout) running on the read timeout.
//!
//! ```no_run
//! use std::io::{ErrorKind, Read, Write};
//! use std::net::{TcpListener, TcpStream};
//! use std::time::{Duration, Instant};
//! use wsmachine::{Accept, Config, Connection, Event, ServerHandshake, Status};
//!
//! fn serve(mut stream: TcpStream) -> std::io::Result<()> {
//!     let mut buf = vec![0; 64 * 1024];
//!     // 1. The opening handshake: feed bytes until the request is complete.
//!     let mut handshake = ServerHandshake::new();
//!     let request = loop {
//!         let n = stream.read(&mut buf)?;
//!         match handshake.receive(&buf[..n]) {
//!             Ok(Status::Complete(request)) => break request,
//!             Ok(Status::Partial) if n > 0 => continue,
//!             Ok(Status::Partial) => return Ok(()), // EOF mid-request
//!             Err(rejection) => return stream.write_all(&rejection.response().to_bytes()),
//!         }
//!     };
//!     let accepted = request.accept(&Accept::new()).expect("no subprotocol to check");
//!     stream.write_all(&accepted.to_bytes())?;
//!     let mut config = Config::default();
//!     config.keepalive_interval = Some(Duration::from_secs(30));
//!     let mut conn = Connection::server(accepted.negotiated, config);
//!     conn.receive(&accepted.leftover); // bytes that arrived right after the request
//!     run(stream, conn, |conn, event| match event {
//!         // Sending fails only once we are closing: nothing left to answer then.
//!         Event::Text(text) => conn.send_text(text).unwrap_or(()),
//!         Event::Binary(data) => conn.send_binary(data).unwrap_or(()),
//!         _ => {}
//!     })
//! }
//!
//! /// The driver contract: events, then output, then read (or the timer), until the end.
//! fn run(
//!     mut stream: TcpStream,
//!     mut conn: Connection,
//!     mut on_event: impl FnMut(&mut Connection, Event),
//! ) -> std::io::Result<()> {
//!     let start = Instant::now(); // the connection's timers count from here
//!     let mut buf = vec![0; 64 * 1024];
//!     loop {
//!         while let Some(event) = conn.poll_event() {
//!             on_event(&mut conn, event);
//!         }
//!         while !conn.pending_output().is_empty() {
//!             let n = stream.write(conn.pending_output())?;
//!             conn.consume_output(n);
//!         }
//!         if conn.wants_transport_close() {
//!             return Ok(()); // dropping the stream closes it
//!         }
//!         // Read until the connection's next timer, if it has one.
//!         let timer = conn.poll_timeout();
//!         let wait = timer.map(|at| at.saturating_sub(start.elapsed()));
//!         stream.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
//!         match stream.read(&mut buf) {
//!             Ok(0) => conn.receive_eof(),
//!             Ok(n) => conn.receive(&buf[..n]),
//!             Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
//!             Err(e) => return Err(e),
//!         }
//!         conn.handle_timeout(start.elapsed());
//!     }
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     for stream in TcpListener::bind("127.0.0.1:9001")?.incoming() {
//!         let stream = stream?;
//!         std::thread::spawn(move || serve(stream));
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # A complete client
//!
//! The same contract from the other end: the client's handshake (its nonce from the OS
//! CSPRNG), then a message, its echo, and the closing handshake. After it the client waits
//! for the server to close the transport, at most the close timeout (RFC 6455 §7.1.1).
//!
//! ```no_run
//! # use std::io::{ErrorKind, Read, Write};
//! # use std::net::TcpStream;
//! # use std::time::{Duration, Instant};
//! use wsmachine::{ClientHandshake, ClientOptions, CloseCode, Config, Connection, Event};
//! use wsmachine::{Status, Url};
//!
//! fn main() -> std::io::Result<()> {
//!     let url = Url::parse("ws://127.0.0.1:9001/").expect("a ws:// URL");
//!     let mut stream = TcpStream::connect((url.host(), url.port()))?;
//!     let mut handshake = ClientHandshake::new(&url, ClientOptions::new()).expect("valid");
//!     stream.write_all(handshake.request_bytes())?;
//!     let mut buf = vec![0; 64 * 1024];
//!     let established = loop {
//!         let n = stream.read(&mut buf)?;
//!         match handshake.receive(&buf[..n]) {
//!             Ok(Status::Complete(established)) => break established,
//!             Ok(Status::Partial) if n > 0 => continue,
//!             Ok(Status::Partial) => return Err(ErrorKind::UnexpectedEof.into()),
//!             Err(refused) => return Err(std::io::Error::other(refused)),
//!         }
//!     };
//!     let mut conn = Connection::client(established.negotiated, Config::default());
//!     conn.receive(&established.leftover);
//!     conn.send_text("Hello").unwrap();
//!     run(stream, conn, |conn, event| match event {
//!         Event::Text(text) => {
//!             println!("echo: {text}");
//!             conn.close(CloseCode::NORMAL, "done").unwrap();
//!         }
//!         Event::Closed(outcome) => println!("closed: {outcome:?}"),
//!         _ => {}
//!     })
//! }
//! # fn run(
//! #     mut stream: TcpStream,
//! #     mut conn: Connection,
//! #     mut on_event: impl FnMut(&mut Connection, Event),
//! # ) -> std::io::Result<()> {
//! #     let start = Instant::now();
//! #     let mut buf = vec![0; 64 * 1024];
//! #     loop {
//! #         while let Some(event) = conn.poll_event() {
//! #             on_event(&mut conn, event);
//! #         }
//! #         while !conn.pending_output().is_empty() {
//! #             let n = stream.write(conn.pending_output())?;
//! #             conn.consume_output(n);
//! #         }
//! #         if conn.wants_transport_close() {
//! #             return Ok(());
//! #         }
//! #         let timer = conn.poll_timeout();
//! #         let wait = timer.map(|at| at.saturating_sub(start.elapsed()));
//! #         stream.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
//! #         match stream.read(&mut buf) {
//! #             Ok(0) => conn.receive_eof(),
//! #             Ok(n) => conn.receive(&buf[..n]),
//! #             Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
//! #             Err(e) => return Err(e),
//! #         }
//! #         conn.handle_timeout(start.elapsed());
//! #     }
//! # }
//! ```
//!
//! (`run` is the server's loop above: the driver contract is the same in both roles.)
//!
//! # A blocking WebSocket
//!
//! The loops above, done once: [`blocking::WebSocket`] (feature `std`) runs the opening
//! handshake and the driver contract over any `Read + Write` stream, with the connection's
//! timers on the stream's read timeout. A server, one thread per connection, echoing:
//!
//! ```no_run
//! use std::net::TcpListener;
//! use std::time::Duration;
//! use wsmachine::blocking::{AcceptOptions, Error, WebSocket};
//! use wsmachine::{Config, Event};
//!
//! fn main() -> std::io::Result<()> {
//!     for stream in TcpListener::bind("127.0.0.1:9001")?.incoming() {
//!         let stream = stream?;
//!         std::thread::spawn(move || -> Result<(), Error> {
//!             let mut config = Config::default();
//!             config.keepalive_interval = Some(Duration::from_secs(30));
//!             let options = AcceptOptions::new().protocols(["chat"]).config(config);
//!             let mut ws = WebSocket::accept_with(stream, options)?; // a 10 s handshake at most
//!             loop {
//!                 match ws.read()? {
//!                     Event::Text(text) => ws.send(text)?,
//!                     Event::Binary(data) => ws.send(data)?,
//!                     Event::Closed(_) => return Ok(()),
//!                     _ => {} // Pings are answered already
//!                 }
//!             }
//!         });
//!     }
//!     Ok(())
//! }
//! ```
//!
//! A client: a message, its echo, and the closing handshake. The `read` that returns
//! [`Event::Closed`] has waited for the server to end the stream (at most the close timeout).
//!
//! ```no_run
//! use wsmachine::blocking::{ConnectOptions, WebSocket};
//! use wsmachine::{CloseCode, Event};
//!
//! fn main() -> Result<(), wsmachine::blocking::Error> {
//!     let options = ConnectOptions::new().protocol("chat");
//!     let mut ws = WebSocket::connect_with("ws://127.0.0.1:9001/", options)?;
//!     ws.send("Hello")?;
//!     loop {
//!         match ws.read()? {
//!             Event::Text(echo) => {
//!                 println!("echo: {echo}");
//!                 ws.close(CloseCode::NORMAL, "done")?;
//!             }
//!             Event::Closed(outcome) => {
//!                 println!("closed: {outcome:?}");
//!                 return Ok(());
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//! ```
//!
//! For `wss://`, open the TLS stream yourself and hand it to
//! [`WebSocket::client`](blocking::WebSocket::client), wrapped in
//! [`WithTimeout`](blocking::WithTimeout) so that the timers can bound its reads.
//!
//! # Under tokio
//!
//! Most programs want the `wsmachine-tokio` crate: `accept(stream)` / `connect(url)` and a
//! `WebSocket` with `recv`/`send`, `Stream`/`Sink` and `split`, on this core. A complete
//! echo server with keepalive, and a client:
//!
//! ```no_run
//! use std::time::Duration;
//! use tokio::net::TcpListener;
//! use wsmachine_tokio::{AcceptOptions, CloseCode, Config, Message, accept_with, connect};
//!
//! async fn server(listener: TcpListener) -> std::io::Result<()> {
//!     let mut config = Config::default();
//!     config.keepalive_interval = Some(Duration::from_secs(20));
//!     config.pong_timeout = Some(Duration::from_secs(10));
//!     let options = std::sync::Arc::new(AcceptOptions::new().config(config));
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         let options = options.clone();
//!         tokio::spawn(async move {
//!             let Ok(mut ws) = accept_with(stream, &options).await else { return };
//!             while let Some(Ok(message)) = ws.recv().await {
//!                 if let Message::Text(_) | Message::Binary(_) = message {
//!                     if ws.send(message).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             }
//!         });
//!     }
//! }
//!
//! async fn client(url: &str) -> Result<(), wsmachine_tokio::Error> {
//!     let mut ws = connect(url).await?;
//!     ws.send("Hello").await?;
//!     if let Some(Message::Text(echo)) = ws.recv().await.transpose()? {
//!         println!("echo: {echo}");
//!     }
//!     ws.close(CloseCode::NORMAL, "bye").await?;
//!     while ws.recv().await.transpose()?.is_some() {} // until the server closes
//!     Ok(())
//! }
//! ```
//!
//! To write a driver of your own, the loop is the same with `AsyncReadExt::read` and
//! `AsyncWriteExt::write`. What needs care:
//!
//! - **One owner, no lost wake-ups.** Let one task own the `Connection` and the transport and
//!   wait in one place that polls the write side while output is pending and the read side
//!   while you want input (`select!` or a `poll_fn`). Every change to the connection then
//!   happens between two waits, and each wait is built from the state after it, so no wake-up
//!   can be lost; other tasks hand messages over through a channel in the same `select!`. If
//!   you split reader and writer into two tasks, share the `Connection` behind one lock and have
//!   the reader wake the writer after *every* `receive` (input produces output: Pongs, the Close
//!   reply) with something that remembers a wake-up given before the writer waits, such as
//!   `tokio::sync::Notify::notify_one`.
//! - **Backpressure.** Take new input or new outgoing messages only while
//!   [`buffered_amount`](Connection::buffered_amount) is under a bound of your choosing; unread
//!   bytes push back on the peer through TCP. Never wait for writes without also reading, or
//!   two such peers with large output deadlock.
//! - **Cancel safety.** If the wait can be dropped (`select!`, `timeout`), hand a completed
//!   read to `receive` and a completed write to `consume_output` before the next `.await`.
//! - **Timers.** Let the same wait end at [`poll_timeout`](Connection::poll_timeout)
//!   (durations since the driver's start, so tokio's paused clock works in tests), then call
//!   [`handle_timeout`](Connection::handle_timeout) with the time: the connection sends its
//!   keepalive Pings, bounds the closing handshake, and gives up on a silent peer, as its
//!   [`Config`] says.
//!
//! # Over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220)
//!
//! A `Connection` knows nothing about HTTP, so a WebSocket on an HTTP/2 stream is the same
//! loop over another transport (`wsmachine-tokio` does it with the `h2` crate). The
//! server enables `SETTINGS_ENABLE_CONNECT_PROTOCOL`, validates the extended CONNECT request
//! with `handshake::Request::from_extended_connect` (feature `http`) and answers with the `200`
//! that `accept` gives (`Accepted::to_http`), leaving the stream open; the client builds its
//! request and checks the response with `handshake::ExtendedConnect`. HTTP/3 is the same
//! exchange on an HTTP/3 stream. Then on either side: the payloads of received
//! DATA frames go to [`receive`](Connection::receive) (they need not line up with WebSocket
//! frames), [`pending_output`](Connection::pending_output) goes out as DATA, the peer's
//! END_STREAM is [`receive_eof`](Connection::receive_eof), and a reset stream is an abnormal
//! end. There are no leftover bytes. Mind flow control: release receive capacity after each
//! `receive`, and send no more than the capacity h2 assigned.
//!
//! # Architecture
//!
//! A map for readers of the source. Modules are layered, and each imports only from the
//! layers below it:
//!
//! | layer | module | what it does | knows nothing of |
//! |---|---|---|---|
//! | blocking driver | [`blocking`] (feature `std`) | a [`Connection`] and its handshake over a `Read + Write` stream, its timers on the read timeout | protocol rules |
//! | opening handshake | [`handshake`] | the HTTP/1.1 upgrade and the extended CONNECT (RFC 8441, RFC 9220), both roles; produces [`Negotiated`] | frames |
//! | agreement | `negotiated` | the chosen subprotocol and extensions, as typed values | HTTP, frames |
//! | connection | `connection` | the public [`Connection`]: the lifecycle, the receive policy (the table below), the send checks, events | HTTP |
//! | extensions | [`extensions`] | the seam extensions plug into, and permessage-deflate behind it | sockets, HTTP, the connection |
//! | codec | [`frame`] | header codec, masking, the decoder (bytes to frames in reusable buffers) and the output queue (frames to bytes) | policy |
//! | leaves | [`close`], [`error`], [`utf8`], `text`, `config`, [`mask_source`] | values and checks | everything above |
//!
//! **Receiving**: [`Connection::receive`] hands bytes to the decoder, which splits them into
//! frame headers and unmasked payloads and knows no rules. The connection judges each header
//! against the policy table, checks payloads as they arrive (UTF-8, limits), routes a
//! compressed message through its extension, turns whole frames into [`Event`]s, and
//! reports a violation to the lifecycle from one place. **Sending**: the `send_*` methods
//! check the request against the lifecycle and RFC 6455, pass data through the extension, and
//! the output queue encodes and masks the frame.
//!
//! **The extension seam.** An agreed extension is one implementation of an internal
//! interface with hooks for: the RSV bits it claims, an inbound payload as it arrives (it
//! decodes it in bounded steps), the end of an inbound message, and an outbound message (it
//! encodes each frame's payload). permessage-deflate is that implementation today; the
//! connection knows no extension by name, and a second extension would be a new module
//! behind the same hooks, registered where the connection builds its extensions from
//! [`Negotiated`].
//!
//! ## The lifecycle
//!
//! The connection's state is one value, changed by one transition function and nothing
//! else. Its states:
//!
//! | state | meaning | input parsed | data may be sent |
//! |---|---|---|---|
//! | `Open` | messages flow both ways | yes | yes |
//! | `CloseSent` | our Close is queued; the peer's has not arrived | yes | no |
//! | `PeerClosed` | the peer's Close arrived; its event waits to be taken | no | until we close |
//! | `Failing` | the peer broke the protocol; the events before the violation wait to be taken | no | until we close |
//! | `Ending` | the transport ended; input received before it is still parsed | buffered only | until we close |
//! | `Closed` | the outcome was reported ([`Event::Closed`]) | no | no |
//!
//! Inputs: the application's [`close`](crate::Connection::close) and
//! [`fail`](crate::Connection::fail); the decoder's `PeerClose` (a valid Close frame) and
//! `Violation` (a protocol error); the transport's `Eof`, with `pending` when buffered input
//! or decoder work is left; `Drained` (after `Eof`, the last buffered input was parsed);
//! `CloseTaken` (the application took the peer's [`Event::Close`]);
//! `EventsTaken` (the application took every event before the violation); `TimedOut` (a
//! timer gave up on the peer, see [`Connection::handle_timeout`]). Outputs: "Close"
//! queues our Close frame, "report" queues `Event::Closed` with the outcome (and the
//! connection releases its receive buffers).
//!
//! | state | input | next state | output |
//! |---|---|---|---|
//! | `Open` | `close` | `CloseSent` | Close |
//! | `Open`, `CloseSent` | `PeerClose` | `PeerClosed { sent, eof: false }` | — |
//! | `Open`, `CloseSent` | `Violation` | `Failing { sent, eof: false }` | — |
//! | `Open`, `CloseSent` | `Eof` (nothing pending) | `Closed { clean: false, eof: true }` | report 1006 |
//! | `Open`, `CloseSent` | `Eof` (pending) | `Ending { sent }` | — |
//! | `PeerClosed`, `Failing`, `Ending` with `sent: false` | `close` | the same with `sent: true` | Close |
//! | `PeerClosed`, `Failing` | `Eof` | the same with `eof: true` | — |
//! | `PeerClosed` | `CloseTaken` | `Closed { clean: true, eof }` | Close (the echo) unless `sent`; report the peer's code, clean |
//! | `Failing` | `EventsTaken` | `Closed { clean: false, eof }` | Close with the error's code unless `sent`; report the error |
//! | `Ending` | `PeerClose` | `PeerClosed { sent, eof: true }` | — |
//! | `Ending` | `Violation` | `Failing { sent, eof: true }` | — |
//! | `Ending` | `Drained` | `Closed { clean: false, eof: true }` | report 1006 |
//! | any but `Closed` | `fail` | `Closed { clean: false, eof }` | Close unless sent; report the application's code |
//! | any but `Closed` | `TimedOut` | `Closed { clean: false, eof }` | report 1006 and the timeout; queued output is dropped |
//! | `Closed` | `Eof` | `Closed { clean, eof: true }` | — |
//! | `CloseSent` or `sent: true` | `close` | refused: [`SendError::CloseSent`] | — |
//! | `Closed` | `close`, `fail` | refused: [`SendError::Closed`] | — |
//!
//! Any other pair leaves the state as it is (an input that cannot happen there, such as a
//! second `Eof`). Who started the end follows from the state: we did if our Close went first
//! or we failed the connection, the peer did otherwise.
//!
//! `PeerClosed`, `Failing` and `Ending` remember whether our Close was sent (`sent`);
//! `PeerClosed`, `Failing` and `Closed` remember whether the transport ended (`eof`).
//!
//! # Events
//!
//! Events are owned and zero-copy: payloads are [`Bytes`] sharing the receive buffer, and
//! [`Text`] is UTF-8-checked `Bytes` that derefs to `str`. Whole messages arrive as
//! [`Event::Text`] / [`Event::Binary`]; with [`Config::streaming`] they arrive as
//! [`Event::TextChunk`] / [`Event::BinaryChunk`] pieces with a `fin` flag, as the bytes arrive.
//! [`Event::Closed`] is always the last event and carries the [`CloseOutcome`].
//!
//! # Policy
//!
//! What the connection does when the peer breaks a rule, and what it refuses from the caller:
//!
//! | situation | result |
//! |---|---|
//! | unmasked frame to a server / masked frame to a client | fail, 1002 |
//! | RSV bits without a negotiated extension; reserved opcodes | fail, 1002 |
//! | with permessage-deflate (feature `deflate`): RSV1 on a control frame or a continuation frame; RSV2 or RSV3 | fail, 1002 |
//! | compressed payload that is not valid DEFLATE | fail, 1007 |
//! | compressed message inflating past [`Config::max_message_size`] | fail, 1009, as soon as the inflated bytes pass it: never more memory than the limit |
//! | control frame over 125 bytes or with FIN clear | fail, 1002 |
//! | 64-bit length with the top bit set | fail, 1002 |
//! | non-minimal length encoding | fail, 1002 ([`Config::allow_non_minimal_length`] relaxes it) |
//! | continuation without a message / new data frame inside a message | fail, 1002 |
//! | invalid UTF-8 in text or a close reason | fail, 1007, as soon as the bytes prove it (inside a frame and across fragments) |
//! | data frame over [`Config::max_frame_size`] (16 MiB) or message over [`Config::max_message_size`] (64 MiB) | fail, 1009, judged on the declared length before the payload is buffered (a compressed message with room for DEFLATE's expansion: see [`Config`]) |
//! | Ping | Pong queued automatically ([`Config::auto_pong`]), one per Ping; once 16 automatic Pongs wait unwritten, the newest replaces the last one not started, so a Ping flood cannot grow the output |
//! | unsolicited Pong | delivered as [`Event::Pong`], otherwise ignored |
//! | Close received | later frames discarded; when the application takes [`Event::Close`], the reply is queued with the same code (an empty Close stays empty), after anything it sent in answer to earlier messages |
//! | Close inside a fragmented message | allowed; the partial message is dropped |
//! | Close payload of 1 byte; codes < 1000, 1004–1006, 1015, 1016–2999, ≥ 5000 | fail, 1002 |
//! | sending 1005 / 1006 / 1015 or another unsendable code; reason over 123 bytes | [`SendError`], nothing sent |
//! | sending data after our Close | [`SendError::CloseSent`]; Ping and Pong still allowed until the peer's Close arrives |
//! | end of stream before the closing handshake | [`Event::Closed`] with 1006, not clean; everything received before is delivered first |
//! | after the closing handshake | the server closes the transport first; the client waits for it |
//!
//! Failing the connection (RFC 6455 §7.1.7) stops reading at once; when the application has
//! taken the events that came before the violation (so it can still answer them), a Close
//! frame with the code is queued (unless one was sent) and [`Event::Closed`] reports the
//! [`ProtocolError`]. The peer's Close works the same way: it takes effect when taken.
//!
//! # Memory
//!
//! Nothing is allocated up front: an idle server connection holds no heap memory, a client
//! 136 bytes (its batch of OS random bytes). A frame's declared length (already checked
//! against the limits) is trusted for at most 1 MiB of buffer; past that, buffers grow with
//! what the peer actually sends. Messages are split off reusable receive buffers, so the
//! steady state allocates nothing per message. One `receive` queues at most a few dozen
//! events; input beyond that waits, copied, until the events are taken.
//!
//! With permessage-deflate the decompressor is created with the first compressed message
//! received (about 50 KiB), not when the extension is agreed; what we send is compressed one
//! message at a time by a compressor the connections of a thread share, so an active
//! compressed connection holds about 55 KiB in all (keeping the compressor's context
//! between messages, [`DeflateConfig::context_takeover`], costs a compressor per connection:
//! see the table in the `extensions::deflate` docs). A compressed message is inflated in
//! small steps as its payload arrives, so a message that inflates to gigabytes fails with 1009 after the
//! limit's worth of output, having used about the limit in memory.
//!
//! # Compression (feature `deflate`)
//!
//! permessage-deflate (RFC 7692) is negotiated in the handshake — `Request::select_deflate`
//! and `Accept::deflate` on a server, `ClientOptions::deflate` on a client — and the agreed
//! parameters travel in [`Negotiated`]; the `extensions::deflate` module describes them. The
//! connection then inflates every message with RSV1 set (in streaming mode too, chunk by
//! chunk as it arrives) and compresses what it sends: whole messages of at least
//! `Config::deflate.threshold` bytes (64), every fragmented message, never control frames.
//!
//! ```
//! # #[cfg(feature = "deflate")] {
//! use wsmachine::extensions::DeflateOptions;
//! use wsmachine::handshake::{Accept, ServerHandshake, Status};
//! use wsmachine::{Config, Connection, Role};
//!
//! # let bytes = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
//! #   Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//! #   Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
//! let Ok(Status::Complete(request)) = ServerHandshake::default().receive(bytes) else { return };
//! let deflate = request.select_deflate(&DeflateOptions::new()); // None if not offered
//! let accepted = request.accept(&Accept::new().deflate(deflate)).unwrap();
//! let mut conn = Connection::server(accepted.negotiated, Config::default());
//! conn.send_text("a long message ".repeat(10)).unwrap();
//! assert_eq!(conn.pending_output()[0], 0xc1); // FIN, RSV1, text
//! # }
//! ```
//!
//! Each message is compressed on its own unless [`DeflateConfig::context_takeover`] is set
//! and the peer did not ask for no context takeover; an agreed 8-bit window, which
//! zlib-class compressors cannot produce, is honoured by sending that direction uncompressed.
//!
//! # Sending one message to many connections
//!
//! [`PreparedMessage`] encodes a message once; [`Connection::send_prepared`] queues it on
//! each connection without encoding it again or copying its payload (a server queues the
//! shared frame by reference from 4 KiB), and with permessage-deflate the connections that
//! compress each message on their own share one compressed frame.
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | `std::error::Error` through `core::error::Error`, [`Connection::pending_output_vectored`], the blocking driver ([`blocking`]) |
//! | `getrandom` | yes | [`OsRandom`], the OS CSPRNG masking-key source that [`Connection::client`] gives clients and [`ClientHandshake::new`] draws its nonce from |
//! | `simdutf8` | yes | SIMD UTF-8 validation of text, with the same results as `core::str::from_utf8` |
//! | `http` | no | [`handshake`] interop with `http::Request`/`http::Response` (hyper, axum) and the extended CONNECT over HTTP/2 and HTTP/3 (RFC 8441, RFC 9220), both roles |
//! | `deflate` | no | permessage-deflate (RFC 7692): the `extensions::deflate` module, the handshake glue, compression in the connection; needs `std` (the pure-Rust zlib-rs) |
//! | `arbitrary` | no | `arbitrary::Arbitrary` for the public value types, to fuzz your own code with ours |
//!
//! Without default features the crate is `no_std` + `alloc` (it builds for
//! `thumbv7em-none-eabihf`); give clients a [`MaskSource`] with
//! [`Connection::client_with_mask_source`].
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]
// `unsafe` only where a benchmark showed it pays, each block with a `// SAFETY:` comment:
// `frame::mask`, `text` and `utf8::to_str` allow it, nothing else.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(unreachable_pub)]

extern crate alloc;

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod blocking;
pub mod close;
mod config;
mod connection;
pub mod error;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod mask_source;
mod negotiated;
mod text;
pub mod utf8;

pub use bytes::Bytes;
pub use close::{CloseCode, CloseFrame};
pub use config::{Config, DeflateConfig};
#[doc(hidden)]
pub use connection::LifecycleState;
pub use connection::{
    CloseOutcome, Connection, Event, EventRef, Initiator, MessageKind, Payload, PreparedMessage,
    ReadyState, TextPayload, Timeout,
};
pub use error::{ProtocolError, SendError};
pub use handshake::{
    Accept, Accepted, Bootstrap, ClientHandshake, ClientOptions, Established, Request,
    ServerHandshake, Url,
};
#[cfg(feature = "getrandom")]
pub use mask_source::OsRandom;
pub use mask_source::{FixedMask, MaskSource};
pub use negotiated::{Negotiated, NegotiatedError, Role};
pub use text::Text;

/// The result of parsing a possibly incomplete buffer (a frame header, a handshake message):
/// running out of bytes is never an error.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// Parsed; the value.
    Complete(T),
    /// More bytes are needed.
    Partial,
}

// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// A connection can move between threads (a driver may hand it to a worker).
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Connection>();
    assert_send::<Event>();
};
