//! Zero heap allocations per message in the steady state, for single-frame messages up to
//! 64 KiB, counted with a counting allocator (not by timing).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use wsmachine::{Config, Connection, Event, Negotiated, Role};
use wsmachine_testkit::{frame, peer_key};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Receives `input` in 64 KiB reads, dropping each event, and answers any pings.
fn run(conn: &mut Connection, input: &[u8]) -> usize {
    let mut messages = 0;
    for chunk in input.chunks(64 * 1024) {
        conn.receive(chunk);
        while let Some(event) = conn.poll_event() {
            if matches!(event, Event::Text(_) | Event::Binary(_)) {
                messages += 1;
            }
        }
        let n = conn.buffered_amount();
        conn.consume_output(n);
    }
    messages
}

/// Allocations per message over `rounds` rounds after two warm-up rounds.
fn steady_state_allocations(role: Role, size: usize, count: usize, with_ping: bool) -> usize {
    let key = peer_key(role);
    let text: String = "wsmachine é ✓ "
        .chars()
        .cycle()
        .take(size)
        .collect::<String>();
    let payload = &text.as_bytes()[..size.min(text.len())];
    let payload = if std::str::from_utf8(payload).is_ok() {
        payload.to_vec()
    } else {
        vec![b'a'; size]
    };
    let mut input = Vec::new();
    for i in 0..count {
        let opcode = if i % 2 == 0 { 0x1 } else { 0x2 };
        input.extend(frame(true, 0, opcode, key, &payload));
        if with_ping {
            input.extend(frame(true, 0, 0x9, key, b"ping"));
        }
    }
    let mut conn = match role {
        Role::Server => Connection::server(Negotiated::default(), Config::default()),
        Role::Client => Connection::client(Negotiated::default(), Config::default()),
    };
    for _ in 0..2 {
        assert_eq!(run(&mut conn, &input), count);
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(run(&mut conn, &input), count);
    }
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

// One test function: the allocator counter is global to this test binary.
#[test]
fn no_allocations_per_message_in_the_steady_state() {
    for role in [Role::Server, Role::Client] {
        for (size, count) in [
            (16, 5000),
            (125, 2000),
            (1024, 500),
            (4096, 200),
            (16 * 1024, 50),
            (64 * 1024, 20),
        ] {
            for with_ping in [false, true] {
                let n = steady_state_allocations(role, size, count, with_ping);
                assert_eq!(
                    n, 0,
                    "{role:?}: {n} allocations for {count} x {size} B messages (ping: {with_ping})"
                );
            }
        }
    }
    // Sending: small frames through the output queue, written and consumed as they go.
    let mut conn = Connection::server(Negotiated::default(), Config::default());
    let send_round = |conn: &mut Connection| {
        for i in 0..1000 {
            conn.send_text("a small message").unwrap();
            conn.send_binary(&[i as u8; 100][..]).unwrap();
            let n = conn.buffered_amount();
            conn.consume_output(n);
        }
    };
    send_round(&mut conn);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    send_round(&mut conn);
    assert_eq!(
        ALLOCATIONS.load(Ordering::SeqCst) - before,
        0,
        "sending allocated"
    );
}
