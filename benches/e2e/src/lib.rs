//! Shared pieces of the end-to-end echo benchmark: the implementations it knows, and the
//! small HTTP/1.1 handshake it answers itself for the peer whose own upgrade needs hyper.
//!
//! Two programs use it: `e2e-server IMPL` (an echo server on a tokio current-thread runtime)
//! and `e2e-load` (the load generator). `scripts/bench-e2e.sh` runs them pinned to different
//! cores; see BENCHMARKS.md.
#![deny(missing_docs)]

use std::io;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The echo servers `e2e-server` can run: the WebSocket implementations, then `raw`, a plain
/// TCP echo that is the ceiling (it does no WebSocket work at all).
pub const IMPLEMENTATIONS: [&str; 5] = [
    "wsmachine-tokio",
    "tokio-tungstenite",
    "fastwebsockets",
    "tokio-websockets",
    "raw",
];

/// The largest opening request or response either side accepts.
pub const MAX_HEAD: usize = 8 * 1024;

/// Reads an HTTP/1.1 head (through the blank line). The peer sends nothing behind it before
/// the answer, so reading in pieces never takes bytes of the next message.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
        if head.ends_with(b"\r\n\r\n") {
            return Ok(head);
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "bytes behind the opening head, or a head too large",
            ));
        }
    }
}

/// `Sec-WebSocket-Accept` for `key` (RFC 6455 §4.2.2).
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

/// Answers a client's opening request with `101 Switching Protocols`: only what the load
/// generator sends is understood (a `Sec-WebSocket-Key` header), for the peer that has no
/// upgrade of its own without hyper. The handshake is not what this benchmark measures.
pub async fn answer_upgrade<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> io::Result<()> {
    let head = read_head(stream).await?;
    let text = std::str::from_utf8(&head).map_err(|_| io::ErrorKind::InvalidData)?;
    let key = text
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim())
        })
        .ok_or(io::ErrorKind::InvalidData)?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_key_matches_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
