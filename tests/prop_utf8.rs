//! Property: the incremental UTF-8 validator agrees with `core::str::from_utf8` for any bytes
//! fed in any pieces, fails at the first byte that proves the text invalid, and holds back
//! exactly the bytes of an unfinished code point.

use proptest::prelude::*;
use wsmachine::utf8::Utf8Validator;

/// Mostly text, some of it damaged, some raw bytes.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<String>().prop_map(String::into_bytes),
        (any::<String>(), any::<usize>(), any::<u8>()).prop_map(|(s, at, b)| {
            let mut v = s.into_bytes();
            if !v.is_empty() {
                let at = at % v.len();
                v[at] = b;
            }
            v
        }),
        (any::<String>(), any::<usize>()).prop_map(|(s, n)| {
            let v = s.into_bytes();
            let keep = n % (v.len() + 1);
            v[..keep].to_vec()
        }),
        prop::collection::vec(any::<u8>(), 0..40),
        prop::collection::vec(prop_oneof![0x80u8..=0xBF, 0xC0u8..=0xFF, Just(b'a')], 0..12),
    ]
}

/// The index of the first byte at which `data` stops being a prefix of valid UTF-8.
fn first_bad_byte(data: &[u8]) -> Option<usize> {
    (0..data.len())
        .find(|&i| matches!(core::str::from_utf8(&data[..=i]), Err(e) if e.error_len().is_some()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn agrees_with_the_standard_library(
        data in bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        let bad = first_bad_byte(&data);

        let mut v = Utf8Validator::new();
        let mut start = 0;
        for cut in cuts {
            let result = v.feed(&data[start..cut]);
            match bad {
                Some(b) if b < cut => {
                    // The piece holding the first bad byte is the one that fails.
                    prop_assert!(result.is_err());
                    prop_assert!(b >= start);
                    return Ok(());
                }
                _ => {
                    prop_assert!(result.is_ok());
                    let pending = match core::str::from_utf8(&data[..cut]) {
                        Ok(_) => 0,
                        Err(e) => cut - e.valid_up_to(),
                    };
                    prop_assert_eq!(v.pending_len(), pending);
                }
            }
            start = cut;
        }
        prop_assert_eq!(v.finish().is_ok(), core::str::from_utf8(&data).is_ok());
    }
}
