//! The core's timers on tokio's paused clock, over in-memory duplex streams: keepalive, the
//! Pong deadline, the idle timeout, the close timeout both ways.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
use wsmachine_testkit::{frame, frames};
use wsmachine_tokio::wsmachine::frame::OpCode;
use wsmachine_tokio::wsmachine::{Connection, Negotiated, Timeout};
use wsmachine_tokio::{CloseCode, Config, Error, Message, WebSocket};

/// A server WebSocket with `config` over one end of a duplex stream; the other end is the
/// raw peer.
fn server(config: Config) -> (WebSocket<DuplexStream>, DuplexStream) {
    let (ours, peer) = duplex(64 * 1024);
    let conn = Connection::server(Negotiated::new(), config);
    (WebSocket::from_connection(ours, conn), peer)
}

/// A client WebSocket with `config`, as [`server`].
fn client(config: Config) -> (WebSocket<DuplexStream>, DuplexStream) {
    let (ours, peer) = duplex(64 * 1024);
    let conn = Connection::client(Negotiated::new(), config);
    (WebSocket::from_connection(ours, conn), peer)
}

/// Everything the peer end can read within `wait` of paused time.
async fn read_for(peer: &mut DuplexStream, wait: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0; 4096];
    let _ = tokio::time::timeout(wait, async {
        loop {
            let n = peer.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    out
}

fn keepalive(interval: u64, pong: u64) -> Config {
    let mut config = Config::default();
    config.keepalive_interval = Some(Duration::from_secs(interval));
    config.pong_timeout = Some(Duration::from_secs(pong));
    config
}

#[tokio::test(start_paused = true)]
async fn keepalive_pings_and_a_silent_peer_is_given_up() {
    let (mut ws, mut peer) = server(keepalive(20, 10));
    let started = tokio::time::Instant::now();
    let end = ws.recv().await;
    match end {
        Some(Err(Error::Closed(outcome))) => {
            assert_eq!(outcome.code, CloseCode::ABNORMAL);
            assert_eq!(outcome.timeout, Some(Timeout::Pong));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    assert!(ws.recv().await.is_none());
    // The Ping went out at 20 s, then the transport was shut down.
    let sent = read_for(&mut peer, Duration::from_secs(1)).await;
    let sent = frames(&sent);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].opcode, OpCode::Ping);
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_answers_keeps_the_connection() {
    let (mut ws, mut peer) = server(keepalive(20, 10));
    let answering = tokio::spawn(async move {
        let mut buf = [0; 256];
        for _ in 0..3 {
            let n = peer.read(&mut buf).await.unwrap();
            let ping = &frames(&buf[..n])[0];
            assert_eq!(ping.opcode, OpCode::Ping);
            peer.write_all(&frame(true, 0, 0xA, Some([1; 4]), &ping.payload))
                .await
                .unwrap();
        }
        peer.write_all(&frame(true, 0, 0x8, Some([1; 4]), &1000u16.to_be_bytes()))
            .await
            .unwrap();
        peer
    });
    let started = tokio::time::Instant::now();
    let mut pongs = 0;
    while let Some(message) = ws.recv().await {
        match message.unwrap() {
            Message::Pong(_) => pongs += 1,
            Message::Close(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pongs, 3);
    assert!(started.elapsed() >= Duration::from_secs(60));
    assert!(ws.close_outcome().unwrap().clean);
    answering.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_ends_a_quiet_connection() {
    let mut config = Config::default();
    config.idle_timeout = Some(Duration::from_secs(5));
    let (mut ws, _peer) = server(config);
    let started = tokio::time::Instant::now();
    match ws.recv().await {
        Some(Err(Error::Closed(outcome))) => assert_eq!(outcome.timeout, Some(Timeout::Idle)),
        other => panic!("{other:?}"),
    }
    assert_eq!(started.elapsed(), Duration::from_secs(5));
}

/// We close and the peer never answers: the close timeout (default 10 s) ends it, 1006.
#[tokio::test(start_paused = true)]
async fn a_peer_that_never_answers_our_close() {
    let (mut ws, mut peer) = server(Config::default());
    let started = tokio::time::Instant::now();
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    match ws.recv().await {
        Some(Err(Error::Closed(outcome))) => {
            assert_eq!(outcome.timeout, Some(Timeout::Close));
            assert!(!outcome.clean);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    let sent = read_for(&mut peer, Duration::from_secs(1)).await;
    assert_eq!(frames(&sent)[0].opcode, OpCode::Close);
}

/// A client closes cleanly and the server never closes the transport: after the close
/// timeout the client closes it itself (RFC 6455 §7.1.1), and the end is still clean.
#[tokio::test(start_paused = true)]
async fn a_server_that_never_closes_the_transport() {
    let (mut ws, mut peer) = client(Config::default());
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    // The server answers the Close but keeps the transport open.
    let mut buf = [0; 64];
    let n = peer.read(&mut buf).await.unwrap();
    assert_eq!(frames(&buf[..n])[0].opcode, OpCode::Close);
    peer.write_all(&frame(true, 0, 0x8, None, &1000u16.to_be_bytes()))
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    assert!(matches!(ws.recv().await, Some(Ok(Message::Close(_)))));
    assert!(ws.recv().await.is_none(), "a clean end");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(
        peer.read(&mut buf).await.unwrap(),
        0,
        "the client closed the transport"
    );
}
