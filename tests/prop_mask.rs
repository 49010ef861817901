//! Properties of masking (RFC 6455 §5.3): the fast path equals the byte-by-byte definition,
//! masking twice is the identity, and masking in chunks (phase carried) equals masking whole.

use proptest::prelude::*;
use wsmachine::frame::{apply_mask, apply_mask_reference};

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..600)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fast_path_equals_reference(data in data(), key in any::<[u8; 4]>(), phase in 0usize..8) {
        let mut fast = data.clone();
        let mut slow = data;
        let p = apply_mask(&mut fast, key, phase);
        prop_assert_eq!(p, apply_mask_reference(&mut slow, key, phase));
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn masking_twice_is_the_identity(
        data in data(),
        key in any::<[u8; 4]>(),
        phase in 0usize..4,
        offset in 0usize..16,
    ) {
        // At an offset into a larger buffer, so every alignment is tried.
        let mut buf = vec![0u8; offset];
        buf.extend_from_slice(&data);
        apply_mask(&mut buf[offset..], key, phase);
        apply_mask(&mut buf[offset..], key, phase);
        prop_assert_eq!(&buf[offset..], &data[..]);
    }

    #[test]
    fn masking_in_chunks_equals_masking_whole(
        data in data(),
        key in any::<[u8; 4]>(),
        phase in 0usize..4,
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let mut whole = data.clone();
        let end_phase = apply_mask(&mut whole, key, phase);
        prop_assert_eq!(end_phase, (phase + data.len()) % 4);

        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        let mut pieces = data;
        let (mut p, mut start) = (phase, 0);
        for cut in cuts {
            p = apply_mask(&mut pieces[start..cut], key, p);
            start = cut;
        }
        prop_assert_eq!(p, end_phase);
        prop_assert_eq!(pieces, whole);
    }
}
