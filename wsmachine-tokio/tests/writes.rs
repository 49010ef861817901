//! How the driver hands queued output to the transport: a frame's header and its payload (a
//! server queues a large payload by reference, as its own piece) go out in one write, both
//! on a transport with vectored writes and on one without.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, DuplexStream, ReadBuf};
use wsmachine_tokio::wsmachine::{Connection, Negotiated};
use wsmachine_tokio::{Bytes, Config, Message, WebSocket};

/// A transport that records the bytes each write call hands over.
struct Recording {
    inner: DuplexStream,
    vectored: bool,
    writes: Arc<Mutex<Vec<usize>>>,
}

impl AsyncRead for Recording {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            this.writes.lock().unwrap().push(n);
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.vectored {
            // What tokio's default does: the first non-empty slice alone.
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        // Gathers the slices as a socket's `writev` would, and records one write.
        let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        self.poll_write(cx, &all)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Sends a 16 KiB binary message from a server and returns the write calls and the bytes
/// that reached the peer.
async fn send_16k(vectored: bool) -> (Vec<usize>, Vec<u8>) {
    let (inner, mut peer) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(Mutex::new(Vec::new()));
    let transport = Recording {
        inner,
        vectored,
        writes: writes.clone(),
    };
    let conn = Connection::server(Negotiated::default(), Config::default());
    let mut ws = WebSocket::from_connection(transport, conn);
    let payload = Bytes::from(vec![7u8; 16 * 1024]);
    ws.send(Message::Binary(payload)).await.unwrap();
    let mut wire = vec![0u8; 4 + 16 * 1024];
    peer.read_exact(&mut wire).await.unwrap();
    let writes = writes.lock().unwrap().clone();
    (writes, wire)
}

fn check_wire(wire: &[u8]) {
    // FIN + binary, a 16-bit extended length of 16384, then the payload (RFC 6455 §5.2).
    assert_eq!(wire[..4], [0x82, 126, 0x40, 0x00]);
    assert!(wire[4..].iter().all(|&b| b == 7));
}

#[tokio::test]
async fn header_and_payload_go_in_one_vectored_write() {
    let (writes, wire) = send_16k(true).await;
    assert_eq!(writes, [4 + 16 * 1024]);
    check_wire(&wire);
}

#[tokio::test]
async fn without_vectored_writes_the_pieces_are_gathered_into_one_write() {
    let (writes, wire) = send_16k(false).await;
    assert_eq!(writes, [4 + 16 * 1024]);
    check_wire(&wire);
}
