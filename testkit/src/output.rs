//! Taking a connection's events and output the way a driver does.

use std::io::IoSlice;

use wsmachine::{Connection, Event};

/// Drains all events.
pub fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Takes all pending output (checked as [`take_output`] checks it).
pub fn output(conn: &mut Connection) -> Vec<u8> {
    take_output(conn, usize::MAX)
}

/// All pending output, left queued ([`pending_output`](Connection::pending_output) shows only
/// the first piece of it).
pub fn peek_output(conn: &Connection) -> Vec<u8> {
    let mut all = Vec::with_capacity(conn.buffered_amount());
    with_pieces(conn, |pieces| {
        for piece in pieces {
            all.extend_from_slice(piece);
        }
    });
    all
}

/// Copies the first `n` queued bytes (clamped to what is queued) out of `conn` through the
/// vectored view, checks that view against `pending_output` and `buffered_amount`, then
/// consumes `n` in one call, which may span several pieces.
pub fn take_output(conn: &mut Connection, n: usize) -> Vec<u8> {
    let total = conn.buffered_amount();
    let want = n.min(total);
    let mut taken = Vec::with_capacity(want);
    with_pieces(conn, |pieces| {
        assert!(
            pieces.iter().all(|p| !p.is_empty()),
            "an empty vectored piece"
        );
        let sum: usize = pieces.iter().map(|s| s.len()).sum();
        assert_eq!(
            sum, total,
            "the vectored view does not add up to buffered_amount"
        );
        let front = conn.pending_output();
        match pieces.first() {
            Some(first) => assert_eq!(&first[..], front, "pending_output is not the front piece"),
            None => assert!(front.is_empty()),
        }
        for p in pieces {
            let k = (want - taken.len()).min(p.len());
            taken.extend_from_slice(&p[..k]);
            if taken.len() == want {
                break;
            }
        }
    });
    conn.consume_output(n);
    assert_eq!(conn.buffered_amount(), total - taken.len());
    taken
}

/// Calls `f` with the vectored view of all queued output, with as many slots as it takes.
fn with_pieces<R>(conn: &Connection, f: impl FnOnce(&[IoSlice<'_>]) -> R) -> R {
    let total = conn.buffered_amount();
    let mut slots = vec![IoSlice::new(&[]); 8];
    loop {
        let used = conn.pending_output_vectored(&mut slots);
        if used == slots.len() {
            // Maybe more pieces than slots: try again with more.
            let sum: usize = slots.iter().map(|s| s.len()).sum();
            if sum < total {
                slots = vec![IoSlice::new(&[]); slots.len() * 2];
                continue;
            }
        }
        return f(&slots[..used]);
    }
}
