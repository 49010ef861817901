//! Masking (RFC 6455 §5.3): XOR with a 4-byte key, a word at a time, phase carried across
//! chunks.
//!
//! The key phase is the offset into the key of the next byte, so a payload masked in any
//! number of pieces equals the payload masked whole, as long as each call gets the phase the
//! previous one returned.

/// How many bytes the wide loop handles per step (the compiler vectorizes it).
const BLOCK: usize = 32;

/// XORs `data` with `key`, starting at key offset `phase` (0–3). Returns the phase for the next
/// byte. Applying it twice with the same key and phase restores the data.
///
/// ```
/// use wsmachine::frame::apply_mask;
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut data = *b"Hello";
/// let phase = apply_mask(&mut data[..2], key, 0);
/// apply_mask(&mut data[2..], key, phase);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
/// ```
#[inline]
pub fn apply_mask(data: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let phase = phase & 3;
    let key = rotate(key, phase);
    let next = (phase + data.len()) & 3;
    let mut blocks = data.chunks_exact_mut(BLOCK);
    if blocks.len() > 0 {
        let pattern = widen(key);
        for block in &mut blocks {
            // Fixed-size array ops: no bounds checks, vectorized.
            let block: &mut [u8; BLOCK] = block.try_into().expect("chunks_exact gives BLOCK bytes");
            for (b, k) in block.iter_mut().zip(pattern.iter()) {
                *b ^= k;
            }
        }
    }
    // Block boundaries are multiples of 4, so the rest starts at key offset 0 again.
    let key8 = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for w in &mut words {
        let w: &mut [u8; 8] = w.try_into().expect("chunks_exact gives 8 bytes");
        *w = (u64::from_ne_bytes(*w) ^ key8).to_ne_bytes();
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
    next
}

/// Copies `src` to the end of `dst` unmasked (XOR with `key` from `phase`), in cache-sized
/// steps so the bytes are still in L1 when they are XORed. Returns the next phase.
#[inline]
pub(crate) fn extend_masked(
    dst: &mut bytes::BytesMut,
    src: &[u8],
    key: [u8; 4],
    mut phase: usize,
) -> usize {
    const STEP: usize = 8 * 1024;
    if src.len() <= STEP {
        let start = dst.len();
        dst.extend_from_slice(src);
        return apply_mask(&mut dst[start..], key, phase);
    }
    dst.reserve(src.len());
    for piece in src.chunks(STEP) {
        let start = dst.len();
        dst.extend_from_slice(piece);
        phase = apply_mask(&mut dst[start..], key, phase);
    }
    phase
}

/// The key as it looks from key offset `phase`.
#[inline]
fn rotate(key: [u8; 4], phase: usize) -> [u8; 4] {
    [
        key[phase & 3],
        key[(phase + 1) & 3],
        key[(phase + 2) & 3],
        key[(phase + 3) & 3],
    ]
}

#[inline]
fn widen(key: [u8; 4]) -> [u8; BLOCK] {
    let mut out = [0; BLOCK];
    for (i, b) in out.iter_mut().enumerate() {
        *b = key[i & 3];
    }
    out
}

/// The byte-at-a-time definition from RFC 6455 §5.3, kept as the reference for tests.
pub fn apply_mask_reference(data: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(phase + i) & 3];
    }
    (phase + data.len()) & 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn fast_path_matches_reference_for_all_lengths_phases_and_splits() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            for phase in 0..4 {
                let mut fast = data[..len].to_vec();
                let mut slow = fast.clone();
                assert_eq!(
                    apply_mask(&mut fast, key, phase),
                    apply_mask_reference(&mut slow, key, phase)
                );
                assert_eq!(fast, slow, "len {len} phase {phase}");
                // Split at every point: same result as whole.
                for split in [0, 1, len / 3, len / 2, len.saturating_sub(1)] {
                    let split = split.min(len);
                    let mut pieces = data[..len].to_vec();
                    let p = apply_mask(&mut pieces[..split], key, phase);
                    apply_mask(&mut pieces[split..], key, p);
                    assert_eq!(pieces, slow);
                }
            }
        }
    }

    #[test]
    fn extend_masked_matches_reference() {
        let key = [1, 2, 3, 4];
        let src: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        let mut dst = bytes::BytesMut::new();
        let phase = extend_masked(&mut dst, &src[..9999], key, 0);
        extend_masked(&mut dst, &src[9999..], key, phase);
        let mut expected = src.clone();
        apply_mask_reference(&mut expected, key, 0);
        assert_eq!(&dst[..], &expected[..]);
    }
}
