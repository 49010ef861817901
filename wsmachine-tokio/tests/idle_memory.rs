//! Idle memory per accepted connection, measured with a counting global allocator: 1,000
//! connections accepted over in-memory duplex streams, each in its own task waiting in
//! `recv`, as a server holds them. What is counted: the task, the `WebSocket` (connection
//! state, driver), anything allocated during the handshake and not freed, and the growth of
//! the duplex pipe by the 101 response. Then once more after each connection has echoed one
//! 20-byte message and waits again: what a used connection keeps while idle.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsmachine::frame::OpCode;
use wsmachine_testkit::alloc::Counting;
use wsmachine_testkit::frame;
use wsmachine_tokio::accept;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONNECTIONS: usize = 1000;

/// The bound this driver keeps to per idle server connection.
const BOUND: usize = 8 * 1024;

#[test]
fn idle_server_connections_stay_small() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        static ACCEPTED: AtomicUsize = AtomicUsize::new(0);
        static ECHOED: AtomicUsize = AtomicUsize::new(0);
        let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
            Sec-WebSocket-Version: 13\r\n\r\n";
        let mut clients = Vec::with_capacity(CONNECTIONS);
        let mut servers = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let (mut client, server) = tokio::io::duplex(4096);
            client.write_all(request).await.unwrap();
            clients.push(client);
            servers.push(server);
        }
        let mut tasks = Vec::with_capacity(CONNECTIONS);
        let before = Counting::live();
        for server in servers.drain(..) {
            tasks.push(tokio::spawn(async move {
                let mut ws = accept(server).await.unwrap();
                ACCEPTED.fetch_add(1, Ordering::Relaxed);
                // Echo one message, then wait for the next one (or the end).
                if let Some(Ok(message)) = ws.recv().await {
                    ws.send(message).await.unwrap();
                    ECHOED.fetch_add(1, Ordering::Relaxed);
                }
                ws.recv().await.map(|m| m.is_ok())
            }));
        }
        while ACCEPTED.load(Ordering::Relaxed) < CONNECTIONS {
            tokio::task::yield_now().await;
        }
        // Let every task reach its `recv` and wait there.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        let per_connection = (Counting::live() - before) as usize / CONNECTIONS;
        println!("idle memory per accepted connection, never used: {per_connection} bytes");
        assert!(
            per_connection <= BOUND,
            "{per_connection} bytes per idle connection, never used"
        );
        // Every 101 went out. Each client sends one masked 20-byte text message and reads
        // the echo back.
        let mut buf = [0; 256];
        for client in &mut clients {
            let n = client.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 101 "));
        }
        let message = frame(
            true,
            0,
            OpCode::Text,
            Some([1, 2, 3, 4]),
            b"twenty bytes of text",
        );
        for client in &mut clients {
            client.write_all(&message).await.unwrap();
        }
        while ECHOED.load(Ordering::Relaxed) < CONNECTIONS {
            tokio::task::yield_now().await;
        }
        let echo = frame(true, 0, OpCode::Text, None, b"twenty bytes of text");
        for client in &mut clients {
            let mut got = vec![0; echo.len()];
            client.read_exact(&mut got).await.unwrap();
            assert_eq!(got, echo);
        }
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        let per_connection = (Counting::live() - before) as usize / CONNECTIONS;
        println!("idle memory per accepted connection, used once: {per_connection} bytes");
        assert!(
            per_connection <= BOUND,
            "{per_connection} bytes per idle connection, used once"
        );
        // The clients leave.
        drop(clients);
        for task in tasks {
            task.await.unwrap();
        }
    });
}
