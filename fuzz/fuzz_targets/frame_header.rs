//! Frame header decoding on any bytes: an accepted header re-encodes to the same bytes, every
//! shorter prefix is `Partial` or the same error, and an arbitrary header survives
//! encode-then-decode.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsmachine::frame::{FrameHeader, MAX_HEADER_LEN, Status};

fuzz_target!(|data: &[u8]| {
    for relaxed in [false, true] {
        let result = FrameHeader::decode_with(data, relaxed);
        check_prefixes(data, relaxed, &result);
        match result {
            Ok(Status::Complete((header, used))) => {
                assert!((2..=MAX_HEADER_LEN).contains(&used));
                assert!(header.rsv <= 0b111);
                assert_eq!(header.payload_len >> 63, 0);
                let mut buf = [0; MAX_HEADER_LEN];
                let n = header.encode(&mut buf);
                assert_eq!(n, header.encoded_len());
                if relaxed {
                    // A non-minimal length re-encodes shorter; the header is the same.
                    assert!(n <= used);
                    assert_eq!(
                        FrameHeader::decode(&buf[..n]),
                        Ok(Status::Complete((header, n)))
                    );
                } else {
                    assert_eq!(&buf[..n], &data[..used], "{header:?}");
                }
            }
            Ok(Status::Partial) => assert!(data.len() < MAX_HEADER_LEN),
            Err(e) => assert_eq!(e.close_code().0, 1002),
        }
    }
    // Strict acceptance implies relaxed acceptance of the same header; a relaxed error is also
    // a strict error.
    let strict = FrameHeader::decode_with(data, false);
    let relaxed = FrameHeader::decode_with(data, true);
    if let Ok(Status::Complete(_)) = strict {
        assert_eq!(strict, relaxed);
    }
    if let Err(e) = relaxed {
        assert_eq!(strict, Err(e));
    }

    // The crate's own `Arbitrary` headers round-trip through the strict decoder.
    if let Ok(header) = FrameHeader::arbitrary(&mut Unstructured::new(data)) {
        let mut buf = [0; MAX_HEADER_LEN];
        let n = header.encode(&mut buf);
        assert_eq!(
            FrameHeader::decode(&buf[..n]),
            Ok(Status::Complete((header, n)))
        );
    }
});

/// Decoding a prefix gives `Partial` until the result of the whole input is decided; from then
/// on the result does not change (an error is reported as soon as the bytes prove it, and
/// bytes after a complete header do not matter).
fn check_prefixes(
    data: &[u8],
    relaxed: bool,
    whole: &Result<Status<(FrameHeader, usize)>, wsmachine::ProtocolError>,
) {
    let mut decided = false;
    for cut in 0..=data.len().min(MAX_HEADER_LEN) {
        let r = FrameHeader::decode_with(&data[..cut], relaxed);
        if decided {
            assert_eq!(&r, whole, "prefix {cut} of {data:x?}");
        } else if r != Ok(Status::Partial) {
            assert_eq!(&r, whole, "prefix {cut} of {data:x?}");
            decided = true;
        }
    }
}
