//! Taking a connection's output the way a driver does.

use std::io::IoSlice;

use wsmachine::Connection;

/// Copies the first `n` queued bytes (clamped to what is queued) out of `conn` through the
/// vectored view, checks that view against `pending_output` and `buffered_amount`, then
/// consumes `n` in one call, which may span several pieces.
pub fn take_output(conn: &mut Connection, n: usize) -> Vec<u8> {
    let total = conn.buffered_amount();
    let mut slots = vec![IoSlice::new(&[]); 8];
    let mut taken = Vec::new();
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
        let pieces = &slots[..used];
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
        let want = n.min(total);
        for p in pieces {
            let k = (want - taken.len()).min(p.len());
            taken.extend_from_slice(&p[..k]);
            if taken.len() == want {
                break;
            }
        }
        break;
    }
    conn.consume_output(n);
    assert_eq!(conn.buffered_amount(), total - taken.len());
    taken
}
