//! The incremental, bounded reader of an HTTP/1.1 header block (RFC 7230 §3).
//!
//! It buffers bytes until the empty line that ends the block and scans only the bytes of each
//! call (plus two bytes of overlap) for that line, so the work is linear in the bytes fed
//! however they are split. It never runs the HTTP parser: the caller does, once, when the
//! block is complete. This is the defence against CVE-2023-43669-style quadratic re-parsing.

use alloc::vec::Vec;

/// What the reader knows after a call to [`HeadReader::push`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Push {
    /// The end of the block has not been seen yet.
    Partial,
    /// The block is complete: [`HeadReader::head`] and [`HeadReader::take_leftover`].
    Complete,
    /// The limit was passed without the end of the block.
    TooLarge,
    /// The first bytes cannot start the expected message (not HTTP).
    Garbage,
}

/// How many leading bytes the early check looks at.
const PREFIX_LEN: usize = 16;

/// A header block being received.
#[derive(Debug)]
pub(crate) struct HeadReader {
    /// The block so far (without leading empty lines); once complete, exactly the block.
    buf: Vec<u8>,
    /// Bytes after the block, once complete.
    leftover: Vec<u8>,
    /// The most bytes the block may have, leading empty lines included.
    limit: usize,
    /// Leading CR and LF bytes dropped (RFC 7230 §3.5: a recipient SHOULD ignore empty lines
    /// before the start line; `httparse` would skip them too, but they would look like the end
    /// of the block to the scan).
    skipped: usize,
    /// Rejects garbage early: called on the first [`PREFIX_LEN`] bytes as they arrive.
    prefix_ok: fn(&[u8]) -> bool,
    /// Bytes examined by the end-of-block scan, for asserting linearity.
    scanned: usize,
    complete: bool,
}

impl HeadReader {
    pub(crate) fn new(limit: usize, prefix_ok: fn(&[u8]) -> bool) -> Self {
        Self {
            buf: Vec::new(),
            leftover: Vec::new(),
            limit,
            skipped: 0,
            prefix_ok,
            scanned: 0,
            complete: false,
        }
    }

    /// Changes the limit (a builder sets it before the first push).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Adds bytes. After `Complete`, the block and the leftover are ready and no more bytes
    /// may be pushed.
    pub(crate) fn push(&mut self, mut data: &[u8]) -> Push {
        debug_assert!(!self.complete);
        if self.buf.is_empty() {
            let empty_lines = data
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            self.skipped += empty_lines;
            data = &data[empty_lines..];
            if self.skipped > self.limit {
                return Push::TooLarge;
            }
            if data.is_empty() {
                return Push::Partial;
            }
        }
        let old = self.buf.len();
        // Never buffer more than the limit: the block must end within it.
        let room = self.limit.saturating_sub(self.skipped + old);
        let take = data.len().min(room);
        self.buf.extend_from_slice(&data[..take]);
        if old < PREFIX_LEN && !(self.prefix_ok)(&self.buf[..self.buf.len().min(PREFIX_LEN)]) {
            return Push::Garbage;
        }
        // The terminator is at most 3 bytes long: a match that straddles the previous call
        // starts at most 2 bytes before the new ones.
        let start = old.saturating_sub(2);
        let found = find_end(&self.buf[start..]);
        self.scanned += found.unwrap_or(self.buf.len() - start);
        match found {
            Some(end) => {
                self.leftover = self.buf.split_off(start + end);
                self.leftover.extend_from_slice(&data[take..]);
                self.complete = true;
                Push::Complete
            }
            None if self.skipped + self.buf.len() >= self.limit => Push::TooLarge,
            None => Push::Partial,
        }
    }

    /// The complete header block (valid after `Complete`).
    pub(crate) fn head(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes after the header block (valid after `Complete`).
    pub(crate) fn take_leftover(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.leftover)
    }

    /// How many bytes the end-of-block scan has examined in all.
    pub(crate) fn scanned(&self) -> usize {
        self.scanned
    }
}

/// The length of the header block in `hay`: the end of the first empty line, which is a LF
/// followed by LF or CR LF (RFC 7230 §3.5 lets a recipient accept a bare LF as a line end,
/// and `httparse` does, so the scan must agree with it).
fn find_end(hay: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = hay[from..].iter().position(|&b| b == b'\n') {
        let lf = from + i;
        match hay.get(lf + 1..) {
            Some([b'\n', ..]) => return Some(lf + 2),
            Some([b'\r', b'\n', ..]) => return Some(lf + 3),
            _ => from = lf + 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: &[u8]) -> bool {
        true
    }

    #[test]
    fn ends() {
        for (hay, end) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], Some(18)),
            (b"GET / HTTP/1.1\n\n", Some(16)),
            (b"GET / HTTP/1.1\n\r\nxx", Some(17)),
            (b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest", Some(24)),
            (b"GET / HTTP/1.1\r\n\r", None),
            (b"GET / HTTP/1.1\r\n", None),
            (b"\r\r\n", None),
            (b"", None),
        ] {
            assert_eq!(find_end(hay), end, "{:?}", core::str::from_utf8(hay));
        }
    }

    #[test]
    fn every_split_finds_the_same_block() {
        let msg = b"\r\nGET / HTTP/1.1\r\nA: b\r\n\r\nleft\r\n\r\nover";
        for size in 1..msg.len() {
            let mut r = HeadReader::new(1024, any);
            let mut status = Push::Partial;
            let mut chunks = msg.chunks(size);
            for chunk in chunks.by_ref() {
                status = r.push(chunk);
                if status == Push::Complete {
                    break;
                }
            }
            assert_eq!(status, Push::Complete, "split {size}");
            assert_eq!(r.head(), b"GET / HTTP/1.1\r\nA: b\r\n\r\n");
            let mut rest = r.take_leftover();
            rest.extend(chunks.flatten());
            assert_eq!(rest, b"left\r\n\r\nover", "split {size}");
            // Each byte is scanned once, plus two bytes of overlap per call.
            let calls = 26usize.div_ceil(size);
            assert!(
                r.scanned() <= 24 + 2 * calls,
                "split {size}: scanned {}",
                r.scanned()
            );
        }
    }

    #[test]
    fn limit_is_exact() {
        let msg = b"GET / HTTP/1.1\r\n\r\n"; // 18 bytes
        let mut r = HeadReader::new(18, any);
        assert_eq!(r.push(msg), Push::Complete);
        let mut r = HeadReader::new(17, any);
        assert_eq!(r.push(msg), Push::TooLarge);
        // Leading empty lines count towards the limit.
        let mut r = HeadReader::new(18, any);
        assert_eq!(r.push(b"\r\n"), Push::Partial);
        assert_eq!(r.push(msg), Push::TooLarge);
        let mut r = HeadReader::new(4, any);
        assert_eq!(r.push(b"\r\n\r\n\r\n"), Push::TooLarge);
    }

    #[test]
    fn garbage_is_caught_in_the_prefix() {
        fn http(p: &[u8]) -> bool {
            b"HTTP/".starts_with(&p[..p.len().min(5)])
        }
        let mut r = HeadReader::new(1024, http);
        assert_eq!(r.push(b"HT"), Push::Partial);
        assert_eq!(r.push(b"TX"), Push::Garbage);
        let mut r = HeadReader::new(1024, http);
        assert_eq!(r.push(b"HTTP/1.1 101 OK\r\n"), Push::Partial);
        assert_eq!(r.push(b"X: garbage is fine here\r\n"), Push::Partial);
    }
}
