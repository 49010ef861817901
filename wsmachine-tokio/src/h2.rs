//! WebSockets over HTTP/2 streams of the `h2` crate (feature `h2`; RFC 8441), both roles.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use h2::client::SendRequest;
use h2::ext::Protocol;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wsmachine::handshake::{ExtendedConnect, Request, Url};
use wsmachine::{Bytes, Connection};

use crate::handshake::bounded;
use crate::options::Decline;
use crate::{AcceptOptions, ConnectOptions, Error, WebSocket};

/// The most send capacity asked for at once (h2 counts windows in `u32`).
const MAX_RESERVE: usize = 1 << 20;

/// One HTTP/2 stream as a byte transport: DATA frames both ways.
///
/// - **Flow control, receiving.** Capacity is released as the bytes are read out, so a
///   reader that stops reading stops the peer's window from reopening (backpressure).
/// - **Flow control, sending.** A write reserves capacity, waits for it, and sends no more
///   than was assigned, so nothing piles up inside h2.
/// - **Memory.** Per stream, what the peer sent and the WebSocket has not read is bounded by
///   the stream's receive window (the `h2` builder's `initial_window_size`, 65,535 bytes
///   by default) and what we queued in h2 by the send capacity the peer granted; the stream
///   itself holds at most one received DATA frame.
/// - **The ends.** The peer's END_STREAM is end of file; `poll_shutdown` sends ours. A
///   RST_STREAM from the peer reads as `ConnectionReset` carrying the `h2::Error` (the
///   WebSocket reports [`Error::StreamReset`] with the reason, and ends with 1006).
/// - **Dropped.** As a TCP socket closed with data in flight still delivers it, a dropped
///   stream sends END_STREAM behind what was written (if it has not yet), so the peer gets
///   every byte and then end of file. Left at that, `h2` would reset a stream whose peer has
///   not ended it too, at once, and discard the DATA it has not written yet (our Close frame
///   among them). So such a stream lingers: a task on the current runtime keeps it open,
///   discarding (and releasing the capacity of) what the peer still sends, until the peer
///   ends or resets it, or for at most [`H2Stream::LINGER`]; then `h2` resets it.
pub struct H2Stream {
    send: SendStream<Bytes>,
    /// `None` only once dropped.
    recv: Option<RecvStream>,
    /// Received bytes not yet read out.
    chunk: Bytes,
    /// The peer's END_STREAM was read.
    eof: bool,
    /// Our END_STREAM (or a reset) was sent.
    ended: bool,
}

impl H2Stream {
    /// How long a dropped stream waits for the peer's END_STREAM before h2 resets it:
    /// 5 seconds.
    pub const LINGER: Duration = Duration::from_secs(5);

    /// A transport over the two halves of a stream whose extended CONNECT was accepted.
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self {
            send,
            recv: Some(recv),
            chunk: Bytes::new(),
            eof: false,
            ended: false,
        }
    }
}

impl H2Stream {
    /// Sends our END_STREAM, once.
    fn end_stream(&mut self) {
        if !self.ended {
            self.ended = true;
            // Fails only if the stream was reset meanwhile: it is over either way.
            let _ = self.send.send_data(Bytes::new(), true);
        }
    }
}

impl AsyncRead for H2Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(recv) = this.recv.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        loop {
            if !this.chunk.is_empty() {
                let n = this.chunk.len().min(buf.remaining());
                buf.put_slice(&this.chunk.split_to(n));
                // The bytes are ours now: let the peer send that much more.
                let _ = recv.flow_control().release_capacity(n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            match ready!(recv.poll_data(cx)) {
                Some(Ok(data)) => this.chunk = data,
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                None => this.eof = true,
            }
        }
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A total, not an increment; it shrinks as data is sent.
        this.send.reserve_capacity(buf.len().min(MAX_RESERVE));
        loop {
            let capacity = this.send.capacity();
            if capacity > 0 {
                let n = capacity.min(buf.len());
                this.send
                    .send_data(Bytes::copy_from_slice(&buf[..n]), false)
                    .map_err(io_error)?;
                return Poll::Ready(Ok(n));
            }
            match ready!(this.send.poll_capacity(cx)) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // h2's connection task writes what `send_data` queued.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().end_stream();
        Poll::Ready(Ok(()))
    }
}

impl Drop for H2Stream {
    fn drop(&mut self) {
        // Behind what was written: the peer reads it all, then end of file (a WebSocket
        // without its closing handshake ends with 1006 there).
        self.end_stream();
        let Some(mut recv) = self.recv.take() else {
            return;
        };
        if self.eof || recv.is_end_stream() {
            // Both ends are done: the stream is closed, nothing can be lost.
            return;
        }
        // Without a runtime there is nothing to linger on: h2 resets the stream.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Holding the receive half keeps the stream open while h2 writes our last DATA.
        runtime.spawn(async move {
            let drain = async {
                while let Some(Ok(data)) = recv.data().await {
                    let _ = recv.flow_control().release_capacity(data.len());
                }
            };
            let _ = tokio::time::timeout(Self::LINGER, drain).await;
        });
    }
}

impl std::fmt::Debug for H2Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Stream")
            .field("eof", &self.eof)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// The reason of an HTTP/2 stream reset that `e` (an error of [`H2Stream`]) reports.
pub(crate) fn reset_reason(e: &io::Error) -> Option<h2::Reason> {
    let h2 = e.get_ref()?.downcast_ref::<h2::Error>()?;
    if h2.is_reset() { h2.reason() } else { None }
}

/// An `h2` error as an I/O error that keeps it inside (a reset reads as `ConnectionReset`).
fn io_error(e: h2::Error) -> io::Error {
    if e.is_reset() {
        return io::Error::new(io::ErrorKind::ConnectionReset, e);
    }
    if e.is_io() {
        e.into_io()
            .unwrap_or_else(|| io::Error::other("h2 I/O error"))
    } else {
        io::Error::other(e)
    }
}

/// Server: accepts an extended CONNECT (`:protocol: websocket`) that an `h2` server received
/// (build the server with `h2::server::Builder::enable_connect_protocol`). Answers `200` and
/// returns the WebSocket on the stream; a request that is not valid or that the options
/// refuse gets its error response (with a body) and the call fails.
pub async fn accept_h2(
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    options: &AcceptOptions,
) -> Result<WebSocket<H2Stream>, Error> {
    let protocol = request.extensions().get::<Protocol>().map(Protocol::as_str);
    let decided = Request::from_extended_connect(&request, protocol)
        .map_err(Decline::Invalid)
        .and_then(|parsed| options.decide(&parsed));
    match decided {
        Ok(accepted) => {
            let response = accepted.to_http()?;
            let send = respond.send_response(response, false).map_err(Error::H2)?;
            let conn = Connection::server(accepted.negotiated, options.config.clone());
            let mut ws = WebSocket::from_connection(H2Stream::new(send, request.into_body()), conn);
            ws.set_max_buffered(options.max_buffered);
            Ok(ws)
        }
        Err(decline) => {
            let (parts, body) = decline.response().to_http()?.into_parts();
            let head = http::Response::from_parts(parts, ());
            if let Ok(mut send) = respond.send_response(head, body.is_empty()) {
                if !body.is_empty() {
                    let _ = send.send_data(Bytes::from(body), true);
                }
            }
            Err(decline.into_error())
        }
    }
}

/// Client: opens a WebSocket at `url` on an HTTP/2 connection with an extended CONNECT
/// (RFC 8441 §4), checks the answer, and returns the WebSocket on the stream. Several
/// WebSockets can share one connection. The server's SETTINGS must have arrived, with
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441 §3), else [`Error::ExtendedConnectDisabled`]:
/// [`h2_client`] returns a `SendRequest` for which that is so.
pub async fn connect_h2(
    send_request: SendRequest<Bytes>,
    url: &str,
    options: &ConnectOptions,
) -> Result<WebSocket<H2Stream>, Error> {
    let url = Url::parse(url)?;
    if !send_request.is_extended_connect_protocol_enabled() {
        return Err(Error::ExtendedConnectDisabled);
    }
    bounded(options.handshake_timeout, async {
        let connect = ExtendedConnect::http2(&url, options.client.clone())?;
        let mut request = connect.request();
        request
            .extensions_mut()
            .insert(Protocol::from_static(ExtendedConnect::PROTOCOL));
        let mut send_request = send_request.ready().await.map_err(Error::H2)?;
        let (response, send) = send_request
            .send_request(request, false)
            .map_err(Error::H2)?;
        let response = response.await.map_err(Error::H2)?;
        // RFC 8441 §5, RFC 6455 §4.1: a 2xx whose subprotocol and extensions we offered.
        let negotiated = connect.validate(&response).map_err(Error::Response)?;
        let conn = Connection::client(negotiated, options.config.clone());
        let mut ws = WebSocket::from_connection(H2Stream::new(send, response.into_body()), conn);
        ws.set_max_buffered(options.max_buffered);
        Ok(ws)
    })
    .await
}

/// Client: runs the HTTP/2 handshake on `io` (cleartext prior knowledge, or TLS with ALPN
/// `h2`), spawns the connection's task, and waits for the server's SETTINGS (one PING round
/// trip: SETTINGS is the first frame a server sends), so the returned `SendRequest` knows
/// whether [`connect_h2`] may be used.
pub async fn h2_client<T>(io: T) -> Result<SendRequest<Bytes>, Error>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (send_request, mut connection) = h2::client::handshake(io).await.map_err(Error::H2)?;
    let mut ping_pong = connection.ping_pong().ok_or(Error::AlreadyClosed)?;
    // The connection does the I/O of every stream: it runs in its own task.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    ping_pong
        .ping(h2::Ping::opaque())
        .await
        .map_err(Error::H2)?;
    Ok(send_request)
}
