//! An incremental UTF-8 validator that fails as early as the bytes allow.
//!
//! RFC 6455 §8.1 lets an endpoint fail a connection as soon as text stops being valid UTF-8;
//! Autobahn's 6.4.x cases check that we do, inside one frame and across fragments. The
//! validator is fed any split of the text and keeps at most 3 bytes of an unfinished code
//! point between calls.

use core::fmt;

/// The bytes fed so far cannot be the start of valid UTF-8.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl core::error::Error for Utf8Error {}

/// Validates UTF-8 fed in pieces.
///
/// [`feed`](Self::feed) fails as soon as the bytes seen so far cannot be the start of valid
/// UTF-8 — an overlong form, a surrogate or a value over U+10FFFF is rejected at the first byte
/// that proves it, not at the end of the message. [`finish`](Self::finish) fails if the text ends
/// inside a code point.
///
/// ```
/// use wsmachine::utf8::Utf8Validator;
/// let mut v = Utf8Validator::new();
/// let euro = "€".as_bytes(); // e2 82 ac
/// v.feed(&euro[..1]).unwrap();
/// v.feed(&euro[1..]).unwrap();
/// v.finish().unwrap();
///
/// // 0xED 0xA0 starts a UTF-16 surrogate: rejected two bytes in.
/// let mut v = Utf8Validator::new();
/// v.feed(b"\xed").unwrap();
/// assert!(v.feed(b"\xa0").is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    /// The bytes of an unfinished code point at the end of the input so far.
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub const fn new() -> Self {
        Self {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Feeds the next bytes of the text.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len == 0 && bytes.is_ascii() {
            // The common case for protocols built on JSON: a word-at-a-time check.
            return Ok(());
        }
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let need = sequence_len(self.partial[0]) - have;
            let take = need.min(bytes.len());
            self.partial[have..have + take].copy_from_slice(&bytes[..take]);
            let filled = have + take;
            match from_utf8(&self.partial[..filled]) {
                Ok(()) => self.partial_len = 0,
                Err(None) => {
                    // Still a valid prefix; `take < need`, so `bytes` is used up.
                    self.partial_len = filled as u8;
                    return Ok(());
                }
                Err(Some(())) => return Err(Utf8Error),
            }
            bytes = &bytes[take..];
        }
        match validate_prefix(bytes) {
            Ok(valid_up_to) => {
                let tail = &bytes[valid_up_to..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Ends the text: fails if it stopped inside a code point. Resets the validator.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = self.partial_len == 0;
        self.reset();
        if complete { Ok(()) } else { Err(Utf8Error) }
    }

    /// How many bytes at the end of the input so far belong to an unfinished code point (0–3).
    pub fn pending_len(&self) -> usize {
        usize::from(self.partial_len)
    }

    /// Forgets all input: ready for a new text.
    pub fn reset(&mut self) {
        self.partial_len = 0;
    }
}

/// Validates `bytes`, allowing an unfinished (but so far valid) code point at the end.
/// Returns how many bytes form complete code points.
///
/// The bytes before an unfinished code point at the very end are checked whole (with feature
/// `simdutf8`, by its fastest validator, which only says yes or no: the connection fails on
/// any invalid byte, so where does not matter); the at most 3 bytes of the unfinished code
/// point are checked as a prefix, so an impossible one fails now, not at the next chunk.
fn validate_prefix(bytes: &[u8]) -> Result<usize, Utf8Error> {
    let complete = bytes.len() - unfinished_tail_len(bytes);
    let (head, tail) = bytes.split_at(complete);
    if !is_valid(head) {
        return Err(Utf8Error);
    }
    match from_utf8(tail) {
        Ok(()) => Ok(bytes.len()),
        Err(None) => Ok(complete),
        Err(Some(())) => Err(Utf8Error),
    }
}

/// Whether `bytes` is valid UTF-8 as a whole.
#[inline]
pub(crate) fn is_valid(bytes: &[u8]) -> bool {
    #[cfg(feature = "simdutf8")]
    return simdutf8::basic::from_utf8(bytes).is_ok();
    #[cfg(not(feature = "simdutf8"))]
    core::str::from_utf8(bytes).is_ok()
}

/// `bytes` as a `&str` if it is valid UTF-8: [`core::str::from_utf8`] with a word-at-a-time
/// check for ASCII first and the SIMD validator (feature `simdutf8`) after, which for short
/// text costs a fraction of the standard library's byte loop (borrowed 16-byte messages:
/// about 116 instructions each in `core::str::from_utf8`, about 7 in the ASCII check;
/// callgrind, `scripts/callgrind.sh small`). Its one `unsafe` block is checked by Miri
/// (`scripts/miri.sh`) and compared with the standard library by the `utf8` fuzz target.
///
/// ```
/// use wsmachine::utf8::to_str;
/// assert_eq!(to_str(b"h\xc3\xa9"), Ok("hé"));
/// assert!(to_str(b"\xc3").is_err());
/// ```
#[inline]
#[allow(unsafe_code)]
pub fn to_str(bytes: &[u8]) -> Result<&str, Utf8Error> {
    if bytes.is_ascii() || is_valid(bytes) {
        // SAFETY: `bytes` was checked just above to be UTF-8: all ASCII (a subset of UTF-8),
        // or accepted by `is_valid` (`simdutf8` or `core::str::from_utf8` itself, both exact
        // validators).
        Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        Err(Utf8Error)
    }
}

/// How many bytes at the end of `bytes` start a code point that needs more bytes than follow
/// it (0–3). Only looks at lead bytes: whether the bytes are valid is the validators' job.
fn unfinished_tail_len(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back for its lead
        }
        return if sequence_len(b) > back { back } else { 0 };
    }
    0
}

/// `Err(None)`: a valid but unfinished prefix; `Err(Some(()))`: invalid.
fn from_utf8(bytes: &[u8]) -> Result<(), Option<()>> {
    match core::str::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.error_len().map(|_| ())),
    }
}

/// The length of the sequence a lead byte starts: 1 for ASCII, and for a byte that is never a
/// lead (a continuation byte, or one no valid UTF-8 contains), which the validators reject.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_str_agrees_with_the_standard_library() {
        let cases: &[&[u8]] = &[
            b"",
            b"ascii only, longer than a word or two",
            "h\u{e9} \u{20ac} \u{1f30d}".as_bytes(),
            b"\xc3",
            b"ok\xff",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xe2\x82",
        ];
        for bytes in cases {
            assert_eq!(
                to_str(bytes).ok(),
                core::str::from_utf8(bytes).ok(),
                "{bytes:x?}"
            );
        }
    }

    fn feed_all(chunks: &[&[u8]]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        for c in chunks {
            v.feed(c)?;
        }
        v.finish()
    }

    #[test]
    fn table() {
        // (input, valid as a whole?, index of the first byte at which it fails fast)
        let cases: &[(&[u8], bool, Option<usize>)] = &[
            (b"", true, None),
            (b"hello", true, None),
            ("κόσμε".as_bytes(), true, None),
            ("𝄞€ñ".as_bytes(), true, None),
            (b"\xf4\x8f\xbf\xbf", true, None), // U+10FFFF
            (b"\xf4\x90", false, Some(1)),     // over U+10FFFF
            (b"\xed\xa0\x80", false, Some(1)), // surrogate
            (b"\xe0\x80\xaf", false, Some(1)), // overlong
            (b"\xc0\xaf", false, Some(0)),     // overlong lead
            (b"\xff", false, Some(0)),
            (b"abc\x80", false, Some(3)),       // lone continuation
            (b"\xce\xba\xe1\xbd", false, None), // truncated at the end: fails at finish
            (b"\xf0\x9f\x98", false, None),
        ];
        for &(input, valid, fail_at) in cases {
            assert_eq!(feed_all(&[input]).is_ok(), valid, "{input:x?}");
            assert_eq!(core::str::from_utf8(input).is_ok(), valid, "{input:x?}");
            // Byte at a time: the first failing `feed` is at the expected index.
            let mut v = Utf8Validator::new();
            let first_err = input.iter().position(|b| v.feed(&[*b]).is_err());
            assert_eq!(first_err, fail_at, "{input:x?}");
        }
    }

    #[test]
    fn every_split_of_valid_text_is_accepted() {
        let s = "a€𝄞ñ\u{10FFFF}z".as_bytes();
        for i in 0..=s.len() {
            for j in i..=s.len() {
                feed_all(&[&s[..i], &s[i..j], &s[j..]]).unwrap();
            }
        }
    }

    #[test]
    fn pending_len_counts_the_unfinished_code_point() {
        let mut v = Utf8Validator::new();
        v.feed(b"ab\xf0\x9f").unwrap();
        assert_eq!(v.pending_len(), 2);
        v.feed(b"\x98").unwrap();
        assert_eq!(v.pending_len(), 3);
        v.feed(b"\x80").unwrap();
        assert_eq!(v.pending_len(), 0);
        v.finish().unwrap();
    }
}
