//! Heap held by idle connections, measured with a counting allocator (not by timing).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use wsmachine::{Config, Connection, Negotiated, Role};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap bytes per connection for 10,000 idle connections of `role` (boxed, as a server that
/// keeps them in a map would), not counting the box itself.
fn heap_per_idle_connection(role: Role) -> isize {
    const N: usize = 10_000;
    let mut conns = Vec::with_capacity(N);
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..N {
        conns.push(Box::new(Connection::new(
            role,
            Negotiated::default(),
            Config::default(),
        )));
    }
    let after = LIVE.load(Ordering::SeqCst);
    let boxes = (N * std::mem::size_of::<Connection>()) as isize;
    drop(conns);
    (after - before - boxes) / N as isize
}

// One test function: the allocator counter is global to this test binary.
#[test]
fn idle_connections_hold_at_most_a_few_hundred_bytes_of_heap() {
    let server = heap_per_idle_connection(Role::Server);
    let client = heap_per_idle_connection(Role::Client);
    let inline = std::mem::size_of::<Connection>();
    println!(
        "idle heap per connection: server {server} B, client {client} B; inline size {inline} B"
    );
    assert!(server <= 256, "server: {server} bytes");
    // A client also holds its batched OS mask source.
    assert!(client <= 256, "client: {client} bytes");
    // Even counting the connection itself, boxed, under 1 KiB.
    assert!(inline + server as usize <= 1024);
    assert!(inline + client as usize <= 1024);
}
