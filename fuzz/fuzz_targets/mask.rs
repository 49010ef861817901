//! The fast masking paths (in place, copy-and-mask into a buffer, and into a slice) against
//! the byte-by-byte reference (RFC 6455 §5.3), for random lengths, buffer offsets
//! (alignment), key phases and splits.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsmachine::frame::{apply_mask, apply_mask_reference, extend_masked, mask_copy};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    key: [u8; 4],
    phase: u8,
    offset: u8,
    cuts: Vec<u16>,
    data: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let data = input.data;
    let phase = usize::from(input.phase);
    // Place the payload at an arbitrary offset so every alignment is tried.
    let offset = usize::from(input.offset % 64);
    let mut buf = vec![0xA5u8; offset + data.len() + 8];
    buf[offset..offset + data.len()].copy_from_slice(data);

    let mut cuts: Vec<usize> = input
        .cuts
        .iter()
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    cuts.push(data.len());
    cuts.sort_unstable();

    let mut p = phase;
    let mut start = 0;
    for &cut in &cuts {
        p = apply_mask(&mut buf[offset + start..offset + cut], input.key, p);
        assert!(p < 4);
        start = cut;
    }
    let mut expected = data.to_vec();
    let expected_phase = apply_mask_reference(&mut expected, input.key, phase);
    assert_eq!(p, expected_phase);
    assert_eq!(expected_phase, (phase + data.len()) & 3);
    assert_eq!(&buf[offset..offset + data.len()], &expected[..]);
    // Nothing outside the slice was touched.
    assert!(buf[..offset].iter().all(|&b| b == 0xA5));
    assert!(buf[offset + data.len()..].iter().all(|&b| b == 0xA5));
    // Copy-and-mask, in the same pieces, after `offset` bytes already in the buffer.
    let mut copied = bytes::BytesMut::from(&buf[..offset]);
    let mut p = phase;
    let mut start = 0;
    for &cut in &cuts {
        p = extend_masked(&mut copied, &data[start..cut], input.key, p);
        start = cut;
    }
    assert_eq!(p, expected_phase);
    assert_eq!(&copied[offset..], &expected[..]);
    assert!(copied[..offset].iter().all(|&b| b == 0xA5));
    // Copy-and-mask into a slice the caller owns, in the same pieces.
    let mut slice = vec![0x5Au8; data.len()];
    let mut p = phase;
    let mut start = 0;
    for &cut in &cuts {
        p = mask_copy(&mut slice[start..cut], &data[start..cut], input.key, p);
        start = cut;
    }
    assert_eq!(p, expected_phase);
    assert_eq!(slice, expected);
    // Masking again with the same key and phase restores the data.
    apply_mask(&mut buf[offset..offset + data.len()], input.key, phase);
    assert_eq!(&buf[offset..offset + data.len()], data);
});
