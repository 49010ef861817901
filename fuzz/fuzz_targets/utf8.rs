//! The incremental UTF-8 validator against `core::str::from_utf8`, fed in random pieces: same
//! verdict, failure at the first byte that proves the text invalid, and the right number of
//! bytes held for an unfinished code point; and `to_str`, the whole-text check, against it too.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsmachine::utf8::{Utf8Validator, to_str};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    cuts: Vec<u16>,
    data: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let data = input.data;
    // The whole-text check that lends short text as `&str`.
    assert_eq!(to_str(data).ok(), core::str::from_utf8(data).ok(), "{data:x?}");
    let mut cuts: Vec<usize> = input
        .cuts
        .iter()
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    cuts.push(data.len());
    cuts.sort_unstable();

    // The first byte at which the input stops being a prefix of valid UTF-8, if any.
    let proof = match core::str::from_utf8(data) {
        Ok(_) => None,
        Err(e) => match e.error_len() {
            None => None, // valid but unfinished: only `finish` fails
            Some(len) => {
                let end = e.valid_up_to() + len;
                // The invalid sequence is either proven by its last byte or by the byte after
                // it (a lead byte followed by a bad continuation).
                let at_last = core::str::from_utf8(&data[..end])
                    .err()
                    .is_some_and(|e| e.error_len().is_some());
                Some(if at_last { end - 1 } else { end })
            }
        },
    };

    let mut v = Utf8Validator::new();
    let mut start = 0;
    let mut failed = false;
    for &cut in &cuts {
        let piece = &data[start..cut];
        let result = v.feed(piece);
        match proof {
            Some(p) if p < cut => {
                assert!(
                    result.is_err(),
                    "no failure in {start}..{cut}, proof at {p}: {data:x?}"
                );
                assert!(
                    p >= start,
                    "failure proven earlier than reported: {data:x?}"
                );
                failed = true;
                break;
            }
            _ => {
                assert!(
                    result.is_ok(),
                    "failure in {start}..{cut} before the proof: {data:x?}"
                );
                let pending = match core::str::from_utf8(&data[..cut]) {
                    Ok(_) => 0,
                    Err(e) => cut - e.valid_up_to(),
                };
                assert_eq!(v.pending_len(), pending, "{data:x?} cut at {cut}");
            }
        }
        start = cut;
    }
    if !failed {
        assert_eq!(
            v.finish().is_ok(),
            core::str::from_utf8(data).is_ok(),
            "{data:x?}"
        );
        // `finish` resets: the validator starts a new text.
        assert_eq!(v.pending_len(), 0);
        v.feed(b"ok").expect("a fresh text");
        v.finish().expect("a fresh text");
    }
});
