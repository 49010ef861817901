//! Masking (RFC 6455 §5.3): XOR with a 4-byte key, a vector block at a time, phase carried
//! across chunks; in place ([`apply_mask`]) or while copying into a buffer
//! ([`extend_masked`], [`mask_copy`]). Copies from 256 bytes run the same loops compiled for
//! AVX2 where the CPU has it (x86-64 with `std`, detected at run time, once).
//!
//! This is one of the modules allowed `unsafe`: `extend_masked` writes the masked bytes
//! straight into the buffer's spare capacity and then marks them initialized, one pass over
//! the payload where the safe alternative (copy, then mask in place) makes two and runs at
//! half the speed (`cargo bench --bench mask`, BENCHMARKS.md). Miri runs this module's tests
//! (`scripts/miri.sh`), and the `mask` fuzz target compares both paths with
//! [`apply_mask_reference`].
//!
//! The key phase is the offset into the key of the next byte, so a payload masked in any
//! number of pieces equals the payload masked whole, as long as each call gets the phase the
//! previous one returned.

#![allow(unsafe_code)]
use core::mem::MaybeUninit;

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
        let pattern = widen::<BLOCK>(key);
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

/// Appends `src` to `dst` masked (or unmasked: the operation is its own inverse) with `key`
/// from key offset `phase`, in one pass that reads `src` once and writes each byte of `dst`
/// once. Returns the phase for the next byte, as [`apply_mask`] does.
///
/// ```
/// use bytes::BytesMut;
/// use wsmachine::frame::extend_masked;
/// let mut dst = BytesMut::new();
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let phase = extend_masked(&mut dst, &[0x7f, 0x9f], key, 0);
/// extend_masked(&mut dst, &[0x4d, 0x51, 0x58], key, phase);
/// assert_eq!(&dst[..], b"Hello"); // RFC 6455 §5.7
/// ```
#[inline]
pub fn extend_masked(dst: &mut bytes::BytesMut, src: &[u8], key: [u8; 4], phase: usize) -> usize {
    dst.reserve(src.len());
    let filled = dst.len() + src.len();
    let next = mask_into(&mut dst.spare_capacity_mut()[..src.len()], src, key, phase);
    // SAFETY: `mask_into` initialized every byte of the slice it was given (it writes
    // `dst[i]` for each `i < src.len()`: whole blocks, then words, then single bytes), which
    // is the start of `dst`'s spare capacity; so its first `filled` bytes are initialized.
    unsafe { dst.set_len(filled) };
    next
}

/// Writes `src` masked (or unmasked) with `key` from key offset `phase` into `dst`, which must
/// be as long as `src`: [`extend_masked`] into a slice the caller owns, such as a socket
/// buffer. Returns the phase for the next byte.
///
/// ```
/// use wsmachine::frame::mask_copy;
/// let mut dst = [0u8; 5];
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let phase = mask_copy(&mut dst[..2], &[0x7f, 0x9f], key, 0);
/// mask_copy(&mut dst[2..], &[0x4d, 0x51, 0x58], key, phase);
/// assert_eq!(&dst, b"Hello"); // RFC 6455 §5.7
/// ```
///
/// # Panics
///
/// If `dst` and `src` differ in length.
#[inline(never)]
pub fn mask_copy(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) -> usize {
    assert_eq!(dst.len(), src.len(), "mask_copy: lengths differ");
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if src.len() >= wide::FROM && wide::avx2() {
        // SAFETY: the CPU has AVX2, checked at run time just above.
        return unsafe { wide::mask_copy_avx2(dst, src, key, phase) };
    }
    mask_copy_blocks::<BLOCK>(dst, src, key, phase)
}

/// [`mask_copy`]'s loops with `B`-byte blocks (a multiple of 8), over initialized bytes (no
/// `unsafe` needed).
#[inline(always)]
fn mask_copy_blocks<const B: usize>(
    dst: &mut [u8],
    src: &[u8],
    key: [u8; 4],
    phase: usize,
) -> usize {
    let phase = phase & 3;
    let key = rotate(key, phase);
    let next = (phase + src.len()) & 3;
    let pattern = widen::<B>(key);
    let mut dst_blocks = dst.chunks_exact_mut(B);
    let mut src_blocks = src.chunks_exact(B);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        let d: &mut [u8; B] = d.try_into().expect("B bytes");
        let s: &[u8; B] = s.try_into().expect("B bytes");
        for ((d, s), k) in d.iter_mut().zip(s).zip(&pattern) {
            *d = s ^ k;
        }
    }
    let dst_rest = dst_blocks.into_remainder();
    for (i, (d, s)) in dst_rest.iter_mut().zip(src_blocks.remainder()).enumerate() {
        *d = s ^ key[i & 3];
    }
    next
}

/// Writes `src` XOR the key into `dst` (same length), every byte of it. Returns the next
/// phase. Not inlined: compiled on its own, with `dst` and `src` known not to overlap, the
/// loops are vectorized (inlined into the receive loop they were not). Long payloads take the
/// AVX2 build of the same loops where the CPU has it.
#[inline(never)]
fn mask_into(dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4], phase: usize) -> usize {
    assert_eq!(dst.len(), src.len());
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if src.len() >= wide::FROM && wide::avx2() {
        // SAFETY: the CPU has AVX2, checked at run time just above.
        return unsafe { wide::mask_into_avx2(dst, src, key, phase) };
    }
    mask_into_blocks::<BLOCK>(dst, src, key, phase)
}

/// [`mask_into`]'s loops with `B`-byte blocks (a multiple of 8): writes every byte of `dst`,
/// which is as long as `src`.
#[inline(always)]
fn mask_into_blocks<const B: usize>(
    dst: &mut [MaybeUninit<u8>],
    src: &[u8],
    key: [u8; 4],
    phase: usize,
) -> usize {
    let phase = phase & 3;
    let key = rotate(key, phase);
    let next = (phase + src.len()) & 3;
    let pattern = widen::<B>(key);
    let mut dst_blocks = dst.chunks_exact_mut(B);
    let mut src_blocks = src.chunks_exact(B);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        let d: &mut [MaybeUninit<u8>; B] = d.try_into().expect("B bytes");
        let s: &[u8; B] = s.try_into().expect("B bytes");
        for ((d, s), k) in d.iter_mut().zip(s).zip(&pattern) {
            *d = MaybeUninit::new(s ^ k);
        }
    }
    // Blocks are multiples of 4 long, so the rest starts at key offset 0 again.
    let key8: &[u8; 8] = pattern[..8].try_into().expect("8 bytes");
    let mut dst_words = dst_blocks.into_remainder().chunks_exact_mut(8);
    let mut src_words = src_blocks.remainder().chunks_exact(8);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        for ((d, s), k) in d.iter_mut().zip(s).zip(key8) {
            *d = MaybeUninit::new(s ^ k);
        }
    }
    let dst_rest = dst_words.into_remainder();
    for (i, (d, s)) in dst_rest.iter_mut().zip(src_words.remainder()).enumerate() {
        *d = MaybeUninit::new(s ^ key[i & 3]);
    }
    next
}

/// The same loops compiled for AVX2, chosen at run time (x86-64 with `std`, which detects the
/// CPU's features once and caches them).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod wide {
    use core::mem::MaybeUninit;

    /// Payloads from this long take the AVX2 loops; shorter ones spend too little time in the
    /// loop for the wider vectors to pay for the check.
    pub(super) const FROM: usize = 256;

    /// Bytes per block: two AVX2 registers.
    const WIDE_BLOCK: usize = 64;

    #[inline]
    pub(super) fn avx2() -> bool {
        std::is_x86_feature_detected!("avx2")
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn mask_into_avx2(
        dst: &mut [MaybeUninit<u8>],
        src: &[u8],
        key: [u8; 4],
        phase: usize,
    ) -> usize {
        super::mask_into_blocks::<WIDE_BLOCK>(dst, src, key, phase)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn mask_copy_avx2(dst: &mut [u8], src: &[u8], key: [u8; 4], phase: usize) -> usize {
        super::mask_copy_blocks::<WIDE_BLOCK>(dst, src, key, phase)
    }
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

#[inline(always)]
fn widen<const B: usize>(key: [u8; 4]) -> [u8; B] {
    // `B` is a multiple of 4; the key repeated (a broadcast, once compiled).
    let mut out = [0; B];
    for chunk in out.chunks_exact_mut(4) {
        chunk.copy_from_slice(&key);
    }
    out
}

/// The byte-at-a-time definition from RFC 6455 §5.3, kept as the reference for tests and the
/// fuzz target. Not part of the stable API.
#[doc(hidden)]
pub fn apply_mask_reference(data: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(phase + i) & 3];
    }
    (phase + data.len()) & 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
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
    fn extend_masked_writes_every_byte_for_all_short_lengths_phases_and_offsets() {
        // Small enough for Miri (scripts/miri.sh), which checks that every byte `set_len`
        // exposes was written: lengths cover the block, word and byte loops.
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let src: Vec<u8> = (0..80u32).map(|i| (i * 13 + 5) as u8).collect();
        for len in [0, 1, 3, 4, 7, 8, 9, 15, 31, 32, 33, 40, 63, 64, 71, 80] {
            for phase in 0..4 {
                for offset in [0, 1, 5] {
                    let mut dst = bytes::BytesMut::from(&[0xA5u8; 5][..offset]);
                    let next = extend_masked(&mut dst, &src[..len], key, phase);
                    let mut expected = src[..len].to_vec();
                    assert_eq!(next, apply_mask_reference(&mut expected, key, phase));
                    assert_eq!(&dst[..offset], &[0xA5; 5][..offset]);
                    assert_eq!(&dst[offset..], &expected[..], "len {len} phase {phase}");
                }
            }
        }
    }

    #[test]
    fn mask_copy_matches_reference_for_all_lengths_and_phases() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        // Lengths cover the block, word and byte loops; small enough for Miri.
        let src: Vec<u8> = (0..80u32).map(|i| (i * 11 + 1) as u8).collect();
        for len in 0..src.len() {
            for phase in 0..4 {
                let mut dst = vec![0u8; len];
                let next = mask_copy(&mut dst, &src[..len], key, phase);
                let mut expected = src[..len].to_vec();
                assert_eq!(next, apply_mask_reference(&mut expected, key, phase));
                assert_eq!(dst, expected, "len {len} phase {phase}");
            }
        }
    }

    #[test]
    fn wide_blocks_match_reference_for_lengths_around_the_blocks_and_phases() {
        // The loops the AVX2 build runs, with its block size, on whatever CPU (and under
        // Miri): every byte written, the phase carried.
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let src: Vec<u8> = (0..300u32).map(|i| (i * 17 + 9) as u8).collect();
        for len in [0, 7, 8, 63, 64, 65, 71, 127, 128, 136, 255, 256, 257, 300] {
            for phase in 0..4 {
                let mut expected = src[..len].to_vec();
                let next = apply_mask_reference(&mut expected, key, phase);
                let mut copied = vec![0u8; len];
                assert_eq!(
                    mask_copy_blocks::<64>(&mut copied, &src[..len], key, phase),
                    next
                );
                assert_eq!(copied, expected, "copy, len {len} phase {phase}");
                let mut spare = vec![MaybeUninit::<u8>::uninit(); len];
                assert_eq!(
                    mask_into_blocks::<64>(&mut spare, &src[..len], key, phase),
                    next
                );
                // SAFETY: `mask_into_blocks` wrote every byte of `spare`.
                let written: Vec<u8> = spare.iter().map(|b| unsafe { b.assume_init() }).collect();
                assert_eq!(written, expected, "into, len {len} phase {phase}");
            }
        }
    }

    #[test]
    fn long_payloads_through_the_run_time_choice_match_reference() {
        // From `wide::FROM` bytes the AVX2 loops run where the CPU has them.
        let key = [0xde, 0xad, 0xbe, 0xef];
        let src: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
        for (len, phase) in [
            (255, 1),
            (256, 0),
            (257, 3),
            (1000, 2),
            (4999, 1),
            (5000, 0),
        ] {
            let mut expected = src[..len].to_vec();
            let next = apply_mask_reference(&mut expected, key, phase);
            let mut copied = vec![0u8; len];
            assert_eq!(mask_copy(&mut copied, &src[..len], key, phase), next);
            assert_eq!(copied, expected, "mask_copy, len {len}");
            let mut dst = bytes::BytesMut::from(&b"ab"[..]);
            assert_eq!(extend_masked(&mut dst, &src[..len], key, phase), next);
            assert_eq!(&dst[2..], &expected[..], "extend_masked, len {len}");
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
