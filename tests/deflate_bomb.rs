//! An inflate bomb — a compressed message of about 1 MiB that inflates to 1 GiB — fails with
//! 1009 after a few KiB of its input, and the heap never grows past the message limit plus a
//! fixed overhead. Measured with a counting allocator that tracks the peak of live bytes.
//!
//! (DEFLATE cannot expand more than about 1032:1, so 1 GiB needs about 1 MiB of input: the
//! bomb is the RFC 1951 limit, built from one compressed MiB of zeros repeated.)
#![cfg(feature = "deflate")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use wsmachine::extensions::DeflateParams;
use wsmachine::frame::{OpCode, RSV1};
use wsmachine::{Config, Connection, Event, MessageKind, Negotiated, ProtocolError};
use wsmachine_testkit::{KEY, frame, frames, output};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(by: isize) {
    let live = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: usize = 1 << 20;

/// The payload of one compressed message that inflates to `mib` MiB of zeros: the first MiB
/// compressed, then the second MiB's compressed form (which only refers back into zeros)
/// repeated.
fn bomb(mib: usize) -> Vec<u8> {
    let mut config = Config::default();
    config.deflate.level = 9;
    let mut sender =
        Connection::server(Negotiated::new().with_deflate(DeflateParams::new()), config);
    let zeros = vec![0u8; MIB];
    sender
        .send_fragment(MessageKind::Binary, &zeros, false)
        .unwrap();
    sender
        .send_fragment(MessageKind::Binary, &zeros, false)
        .unwrap();
    let sent = frames(&output(&mut sender));
    let (first, rest) = (&sent[0].payload, &sent[1].payload);
    let mut payload = first.clone();
    for _ in 1..mib {
        payload.extend_from_slice(rest);
    }
    // The end of a message: the sync-flush tail is not sent (RFC 7692 §7.2.1).
    payload.truncate(payload.len() - 4);
    payload
}

fn server(limit: usize) -> Connection {
    let mut config = Config::default();
    config.max_message_size = limit;
    Connection::server(Negotiated::new().with_deflate(DeflateParams::new()), config)
}

/// Feeds `input` in 1 KiB reads until the connection closes. Returns the bytes fed, the
/// protocol error, and the peak heap growth during the feeding.
fn feed(conn: &mut Connection, input: &[u8]) -> (usize, Option<ProtocolError>, isize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let mut fed = 0;
    for piece in input.chunks(1024) {
        conn.receive(piece);
        fed += piece.len();
        while let Some(event) = conn.poll_event() {
            if let Event::Closed(outcome) = event {
                return (fed, outcome.error, PEAK.load(Ordering::SeqCst) - base);
            }
        }
    }
    (fed, None, PEAK.load(Ordering::SeqCst) - base)
}

// One test function: the allocator counters are global to this test binary.
#[test]
fn an_inflate_bomb_fails_fast_within_the_message_limit() {
    let payload = bomb(1024);
    println!("bomb: {} bytes inflating to 1 GiB", payload.len());
    assert!(payload.len() < 2 * MIB, "{}", payload.len());
    let input = frame(true, RSV1, OpCode::Binary, Some(KEY), &payload);

    for limit in [MIB, 16 * MIB] {
        let mut conn = server(limit);
        let started = std::time::Instant::now();
        let (fed, error, peak) = feed(&mut conn, &input);
        println!(
            "limit {} MiB: failed after {fed} bytes of input in {:?}, peak heap growth {peak} bytes",
            limit / MIB,
            started.elapsed()
        );
        assert_eq!(error, Some(ProtocolError::MessageTooLarge));
        // About limit / 1032 bytes of input make `limit` bytes of output.
        assert!(fed <= limit / 512 + 4096, "{fed} bytes fed");
        // The inflated message up to the limit, plus the decompressor and small buffers.
        assert!(peak as usize <= limit + 256 * 1024, "peak {peak}");
        // The Close frame says why.
        let close = frames(&output(&mut conn)).pop().unwrap();
        assert_eq!(
            (close.opcode, &close.payload[..2]),
            (OpCode::Close, &[0x03, 0xf1][..])
        );
    }

    // Streaming mode: chunks are taken as they come, so memory stays small whatever the limit:
    // one read queues at most 64 events of at most 16 KiB. The limit still ends the message.
    let mut config = Config::default();
    config.max_message_size = 64 * MIB;
    config.streaming = true;
    let mut conn = Connection::server(Negotiated::new().with_deflate(DeflateParams::new()), config);
    let (fed, error, peak) = feed(&mut conn, &input);
    println!("streaming, limit 64 MiB: failed after {fed} bytes, peak heap growth {peak} bytes");
    assert_eq!(error, Some(ProtocolError::MessageTooLarge));
    assert!(peak as usize <= 64 * 16 * 1024 + 256 * 1024, "peak {peak}");

    // The same bytes uncompressed and under the limit are fine: the limit is what failed.
    let small = bomb(4);
    let mut conn = server(4 * MIB);
    let (_, error, _) = feed(
        &mut conn,
        &frame(true, RSV1, OpCode::Binary, Some(KEY), &small),
    );
    assert_eq!(error, None);
    assert!(conn.poll_event().is_none());

    // Agreeing to permessage-deflate allocates nothing: the codec comes with the first
    // compressed message.
    let before = LIVE.load(Ordering::SeqCst);
    let conns: Vec<Connection> = (0..100).map(|_| server(MIB)).collect();
    let params = Negotiated::new().with_deflate(DeflateParams::new());
    let clients: Vec<Connection> = (0..100)
        .map(|_| {
            Connection::client_with_mask_source(
                params.clone(),
                Config::default(),
                wsmachine::FixedMask(KEY),
            )
        })
        .collect();
    let vecs = (conns.capacity() + clients.capacity()) * std::mem::size_of::<Connection>();
    // A client boxes its mask source; nothing else.
    let masks = clients.len() * std::mem::size_of::<wsmachine::FixedMask>();
    assert_eq!(
        LIVE.load(Ordering::SeqCst) - before,
        (vecs + masks) as isize
    );
    drop((conns, clients));

    // What a connection holds once it has compressed and inflated a message (15-bit windows,
    // its own compressor, keeping the context): bounded, and released when the connection
    // ends.
    let before = LIVE.load(Ordering::SeqCst);
    let mut config = Config::default();
    config.deflate.context_takeover = true;
    let mut conn = Connection::server(Negotiated::new().with_deflate(DeflateParams::new()), config);
    conn.send_text("compress me ".repeat(100)).unwrap();
    let _ = output(&mut conn);
    let deflating = LIVE.load(Ordering::SeqCst) - before;
    conn.receive(&frame(
        true,
        RSV1,
        OpCode::Binary,
        Some(KEY),
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
    ));
    assert!(matches!(conn.poll_event(), Some(Event::Binary(_))));
    let both = LIVE.load(Ordering::SeqCst) - before;
    println!(
        "codec memory: compressor {deflating} bytes, decompressor {} bytes",
        both - deflating
    );
    assert!(deflating <= 448 * 1024, "{deflating}");
    assert!(both - deflating <= 96 * 1024, "{}", both - deflating);
    conn.fail(wsmachine::CloseCode::GOING_AWAY, "").unwrap();
    while conn.poll_event().is_some() {}
    let _ = output(&mut conn);
    assert!(
        LIVE.load(Ordering::SeqCst) - before <= 4096,
        "released at the end"
    );
}
