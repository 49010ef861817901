//! WebSockets over HTTP/3 streams (feature `h3`; RFC 9220), both roles, on quiche.
//!
//! The crate's front page (section "HTTP/3") says why quiche and how to use it; [`H3Stream`]
//! says how flow control and the stream's ends map to reads and writes.

mod client;
mod conn;
mod server;

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use quiche::h3::NameValue;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use client::{H3Client, connect_h3, h3_client};
use conn::{H3_REQUEST_CANCELLED, Shared, WRITE_LOW_WATER};
pub use server::{H3Request, H3Server, accept_h3};

/// Why an HTTP/3 stream or connection failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum H3Error {
    /// The peer reset the stream (RESET_STREAM) with this HTTP/3 error code.
    StreamReset(u64),
    /// The peer asked us to stop sending (STOP_SENDING) with this HTTP/3 error code.
    StreamStopped(u64),
    /// The QUIC connection was closed with a CONNECTION_CLOSE frame.
    ConnectionClosed {
        /// The peer closed it (else we did, on an error or on dropping the client).
        by_peer: bool,
        /// An application (HTTP/3) error code rather than a QUIC transport one.
        application: bool,
        /// The error code.
        code: u64,
        /// The reason phrase.
        reason: String,
    },
    /// The QUIC connection was idle for longer than its idle timeout.
    IdleTimeout,
    /// The QUIC handshake and the server's SETTINGS did not arrive in time.
    HandshakeTimeout,
    /// The server did not enable the extended CONNECT protocol (RFC 9220 §3).
    ExtendedConnectDisabled,
    /// The server's response head is not a valid response (no or a bad `:status`).
    MalformedResponse,
    /// quiche refused an operation (QUIC).
    Quic(quiche::Error),
    /// quiche refused an operation (HTTP/3).
    Http3(quiche::h3::Error),
}

impl fmt::Display for H3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StreamReset(code) => write!(f, "the peer reset the stream ({code:#x})"),
            Self::StreamStopped(code) => write!(f, "the peer stopped the stream ({code:#x})"),
            Self::ConnectionClosed {
                by_peer,
                application,
                code,
                reason,
            } => write!(
                f,
                "the QUIC connection was closed by {} ({} error {code:#x} {reason:?})",
                if *by_peer { "the peer" } else { "us" },
                if *application {
                    "application"
                } else {
                    "transport"
                },
            ),
            Self::IdleTimeout => f.write_str("the QUIC connection timed out"),
            Self::HandshakeTimeout => f.write_str("the QUIC handshake timed out"),
            Self::ExtendedConnectDisabled => {
                f.write_str("the HTTP/3 server does not support WebSockets (RFC 9220)")
            }
            Self::MalformedResponse => f.write_str("malformed HTTP/3 response"),
            Self::Quic(e) => write!(f, "QUIC error: {e}"),
            Self::Http3(e) => write!(f, "HTTP/3 error: {e}"),
        }
    }
}

impl std::error::Error for H3Error {}

impl From<H3Error> for crate::Error {
    fn from(e: H3Error) -> Self {
        crate::Error::H3(e)
    }
}

impl H3Error {
    /// As an I/O error: a reset or a stop as the peer going away (the WebSocket ends with
    /// 1006), anything else as itself.
    fn into_io(self) -> io::Error {
        let kind = match self {
            Self::StreamReset(_) => io::ErrorKind::ConnectionReset,
            Self::StreamStopped(_) => io::ErrorKind::BrokenPipe,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }

    fn of_h3(e: quiche::h3::Error) -> Self {
        match e {
            quiche::h3::Error::TransportError(quiche::Error::StreamReset(code)) => {
                Self::StreamReset(code)
            }
            quiche::h3::Error::TransportError(quiche::Error::StreamStopped(code)) => {
                Self::StreamStopped(code)
            }
            e => Self::Http3(e),
        }
    }
}

/// A QUIC configuration with this crate's defaults, to which you add the TLS part
/// (`load_cert_chain_from_pem_file` and `load_priv_key_from_pem_file` on a server;
/// `load_verify_locations_from_file`, or `verify_peer(false)` for a test, on a client).
///
/// The ALPN is `h3`. The windows bound what a peer can make us buffer: 1 MiB per stream,
/// 16 MiB per connection, 128 concurrent WebSocket streams, 30 s of idleness.
pub fn quic_config() -> Result<quiche::Config, H3Error> {
    let mut config = quiche::Config::new(quiche::PROTOCOL_VERSION).map_err(H3Error::Quic)?;
    config
        .set_application_protos(quiche::h3::APPLICATION_PROTOCOL)
        .map_err(H3Error::Quic)?;
    config.set_max_idle_timeout(Duration::from_secs(30).as_millis() as u64);
    config.set_max_recv_udp_payload_size(1350);
    config.set_max_send_udp_payload_size(1350);
    config.set_initial_max_data(16 << 20);
    config.set_initial_max_stream_data_bidi_local(1 << 20);
    config.set_initial_max_stream_data_bidi_remote(1 << 20);
    // HTTP/3's control stream and QPACK's two, with room for the peer's extensions.
    config.set_initial_max_stream_data_uni(64 << 10);
    config.set_initial_max_streams_bidi(128);
    config.set_initial_max_streams_uni(8);
    config.set_disable_active_migration(true);
    Ok(config)
}

/// Keeps a connection's state; a client's closes the connection when the last one goes.
struct Handle {
    shared: Arc<Shared>,
    close_on_drop: bool,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.close_on_drop {
            let _ = self.shared.lock().quic.close(true, conn::H3_NO_ERROR, b"");
            self.shared.wake_task.notify_one();
        }
    }
}

/// One request stream of a connection, before it becomes an [`H3Stream`].
struct StreamHandle {
    handle: Arc<Handle>,
    id: u64,
}

/// One HTTP/3 request stream as a byte transport: the DATA frames both ways.
///
/// - **Flow control.** Reading takes bytes out of quiche's stream buffer, which is what gives
///   the peer credit again: a reader that stops stops the peer (what it can make us buffer is
///   bounded by the stream window, 1 MiB with [`quic_config`]). A write sends no more than
///   the stream's credit and waits for more.
/// - **The ends.** The peer's FIN is end of file (the WebSocket then ends as the core decides:
///   clean after a complete closing handshake, else 1006); `poll_shutdown` sends our FIN. The
///   peer's RESET_STREAM (or STOP_SENDING, on writing) reads as `ConnectionReset` /
///   `BrokenPipe` carrying an [`H3Error`], so the WebSocket ends with
///   [`Error::Closed`](crate::Error::Closed) 1006; the end of the QUIC connection reads as an
///   error carrying [`H3Error::ConnectionClosed`] or [`H3Error::IdleTimeout`] (reported as
///   [`Error::Io`](crate::Error::Io); the outcome is 1006). A stream dropped before its FIN is
///   reset with `H3_REQUEST_CANCELLED`, and one dropped before its peer's FIN is stopped
///   (STOP_SENDING) with the same code.
/// - **Many per connection.** Every request stream is one WebSocket; the connection's task
///   serves them all.
pub struct H3Stream {
    stream: StreamHandle,
    /// End of file was read.
    eof: bool,
    /// Our FIN (or a reset) was sent.
    ended: bool,
}

impl H3Stream {
    fn new(stream: StreamHandle) -> Self {
        Self {
            stream,
            eof: false,
            ended: false,
        }
    }

    /// The QUIC stream ID.
    pub fn stream_id(&self) -> u64 {
        self.stream.id
    }
}

impl AsyncRead for H3Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.eof || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let shared = &this.stream.handle.shared;
        let id = this.stream.id;
        let mut state = shared.lock();
        let state = &mut *state;
        state.check_stream(id)?;
        let Some(h3) = state.h3.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        match h3.recv_body(&mut state.quic, id, buf.initialize_unfilled()) {
            Ok(n) => {
                buf.advance(n);
                // The bytes are out of quiche's buffer: the task sends the new credit.
                shared.wake_task.notify_one();
                Poll::Ready(Ok(()))
            }
            Err(quiche::h3::Error::Done) => {
                let slot = state.streams.entry(id).or_default();
                if slot.finished || state.quic.stream_finished(id) {
                    this.eof = true;
                    return Poll::Ready(Ok(()));
                }
                slot.read = Some(cx.waker().clone());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(H3Error::of_h3(e).into_io())),
        }
    }
}

impl AsyncWrite for H3Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        this.send(cx, buf, false)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection's task sends what the writes queued in quiche.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(Ok(()));
        }
        match this.send(cx, &[], true) {
            Poll::Pending => Poll::Pending,
            // Sent, or the stream is over anyway (reset, stopped, connection gone).
            Poll::Ready(_) => {
                this.ended = true;
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl H3Stream {
    /// Sends as much of `buf` as the stream's credit allows (with `fin`, all of it and the
    /// FIN, or nothing); `Pending` until there is credit.
    fn send(&mut self, cx: &mut Context<'_>, buf: &[u8], fin: bool) -> Poll<io::Result<usize>> {
        let shared = &self.stream.handle.shared;
        let id = self.stream.id;
        let mut state = shared.lock();
        let state = &mut *state;
        state.check_stream(id)?;
        let Some(h3) = state.h3.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        let result = h3.send_body(&mut state.quic, id, buf, fin);
        match result {
            Ok(n) if n > 0 || (fin && buf.is_empty()) => {
                shared.wake_task.notify_one();
                Poll::Ready(Ok(n))
            }
            Ok(_) | Err(quiche::h3::Error::Done) => {
                // Ask quiche to report the stream once a frame header and some payload fit;
                // the task wakes us then.
                let _ = state.quic.stream_writable(id, WRITE_LOW_WATER);
                state.streams.entry(id).or_default().write = Some(cx.waker().clone());
                // Whatever was queued before (our credit may be waiting for an ACK) goes out.
                shared.wake_task.notify_one();
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(H3Error::of_h3(e).into_io())),
        }
    }
}

impl Drop for H3Stream {
    fn drop(&mut self) {
        let shared = &self.stream.handle.shared;
        let id = self.stream.id;
        {
            let mut state = shared.lock();
            if !self.ended {
                // Abandoned without a FIN: the peer sees an abnormal end.
                let _ =
                    state
                        .quic
                        .stream_shutdown(id, quiche::Shutdown::Write, H3_REQUEST_CANCELLED);
            }
            if !self.eof {
                // Nobody reads what the peer still sends: STOP_SENDING.
                let _ =
                    state
                        .quic
                        .stream_shutdown(id, quiche::Shutdown::Read, H3_REQUEST_CANCELLED);
            }
            state.streams.remove(&id);
        }
        shared.wake_task.notify_one();
    }
}

impl fmt::Debug for H3Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H3Stream")
            .field("stream_id", &self.stream.id)
            .field("eof", &self.eof)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// quiche's header fields of an `http` head: the pseudo-headers first (RFC 9114 §4.3).
fn fields_of(pseudo: &[(&[u8], &[u8])], headers: &http::HeaderMap) -> Vec<quiche::h3::Header> {
    let mut fields = Vec::with_capacity(pseudo.len() + headers.len());
    for (name, value) in pseudo {
        fields.push(quiche::h3::Header::new(name, value));
    }
    for (name, value) in headers {
        fields.push(quiche::h3::Header::new(
            name.as_str().as_bytes(),
            value.as_bytes(),
        ));
    }
    fields
}

/// An `http` response head from quiche's fields.
fn response_of(list: &[quiche::h3::Header]) -> Result<http::Response<()>, H3Error> {
    let mut response = http::Response::new(());
    *response.version_mut() = http::Version::HTTP_3;
    let mut status = None;
    for field in list {
        match field.name() {
            b":status" => {
                status = Some(
                    http::StatusCode::from_bytes(field.value())
                        .map_err(|_| H3Error::MalformedResponse)?,
                );
            }
            name if name.first() == Some(&b':') => return Err(H3Error::MalformedResponse),
            name => {
                let name =
                    http::HeaderName::from_bytes(name).map_err(|_| H3Error::MalformedResponse)?;
                let value = http::HeaderValue::from_bytes(field.value())
                    .map_err(|_| H3Error::MalformedResponse)?;
                response.headers_mut().append(name, value);
            }
        }
    }
    *response.status_mut() = status.ok_or(H3Error::MalformedResponse)?;
    Ok(response)
}
