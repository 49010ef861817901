//! Idle memory per accepted connection, measured with a counting global allocator: 1,000
//! connections accepted over in-memory duplex streams, each in its own task waiting in
//! `recv`, as a server holds them. What is counted: the task, the `WebSocket` (connection
//! state, driver), anything allocated during the handshake and not freed, and the growth of
//! the duplex pipe by the 101 response.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsmachine_tokio::accept;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only the count is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

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
        let before = LIVE.load(Ordering::Relaxed);
        for server in servers.drain(..) {
            tasks.push(tokio::spawn(async move {
                let mut ws = accept(server).await.unwrap();
                ACCEPTED.fetch_add(1, Ordering::Relaxed);
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
        let after = LIVE.load(Ordering::Relaxed);
        let per_connection = (after - before) as usize / CONNECTIONS;
        println!("idle memory per accepted connection: {per_connection} bytes");
        assert!(
            per_connection <= BOUND,
            "{per_connection} bytes per idle connection"
        );
        // Every 101 went out; then the clients leave.
        let mut buf = [0; 256];
        for client in &mut clients {
            let n = client.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 101 "));
        }
        drop(clients);
        for task in tasks {
            task.await.unwrap();
        }
    });
}
