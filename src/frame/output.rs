//! The output queue: every frame the connection sends, encoded, in order.
//!
//! Small frames are appended to one contiguous buffer (`tail`); a large shared payload on an
//! unmasked (server) connection is queued as its own `Bytes`, without copying, after the
//! buffer is frozen in front of it. The driver peeks the front with `pending` (or all of it,
//! vectored) and consumes what it wrote.
//!
//! Once the driver has written with `write_into` (it hands the queue its own buffer), a large
//! shared payload on a masked (client) connection is queued by reference too, with its
//! masking key, and masked as it leaves: by `write_into`, straight into the driver's buffer
//! (one pass over the payload); for `pending`, a piece at a time into a buffer of the queue,
//! whenever such a payload comes to the front (so `pending` always shows the next bytes). Both
//! give the same bytes. Until then, masked payloads are masked into the queue as they are
//! queued, so that `pending_vectored` shows all of the output.

use alloc::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use super::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, extend_masked, mask_copy};

/// Payloads at least this long are queued by reference (server role) instead of copied.
pub(crate) const ZERO_COPY_MIN: usize = 4096;

/// Automatic Pongs answered one for one while the queue has not been written out; past this,
/// the newest replaces the last unsent one, so a Ping flood cannot grow the output.
pub(crate) const MAX_UNSENT_PONGS: u8 = 16;

/// The largest the growing end of the queue gets: past this it is frozen into the queue and a
/// new buffer started, so queuing a large payload never reallocates and copies what is already
/// queued, and the buffers (freed as they are written) stay small enough for the allocator to
/// recycle without page faults.
const CHUNK: usize = 64 * 1024;

/// How much of a masked payload queued by reference is masked into a buffer when it comes to
/// the front by a send or a `write_into` (a consume masks up to `CHUNK`): little, so that a
/// driver that writes with `write_into` masks almost all of it straight into its buffer, and
/// enough for one write of a driver that peeks with `pending`.
const FRONT_PIECE: usize = 1024;

/// A buffer this large is released when the queue empties, so a connection that once sent a
/// big message does not keep the memory while idle.
const SHRINK_ABOVE: usize = CHUNK;

/// A payload to encode: borrowed (copied into the queue) or shared (a server queues a large
/// one by reference).
#[derive(Clone, Debug)]
pub(crate) enum Body<'a> {
    Borrowed(&'a [u8]),
    Shared(Bytes),
}

impl Body<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Body::Borrowed(b) => b,
            Body::Shared(b) => b,
        }
    }
}

/// A piece of the queue before `tail`.
enum Chunk {
    /// Encoded bytes.
    Ready(Bytes),
    /// A payload still to be masked with `key` from key offset `phase` (RFC 6455 §5.3).
    Masked {
        data: Bytes,
        key: [u8; 4],
        phase: usize,
    },
}

impl Chunk {
    fn len(&self) -> usize {
        match self {
            Chunk::Ready(b) | Chunk::Masked { data: b, .. } => b.len(),
        }
    }

    /// Drops the first `n` bytes (at most its length).
    fn advance(&mut self, n: usize) {
        match self {
            Chunk::Ready(b) => b.advance(n),
            Chunk::Masked { data, phase, .. } => {
                data.advance(n);
                *phase = (*phase + n) & 3;
            }
        }
    }
}

#[derive(Default)]
pub(crate) struct Output {
    /// Frozen pieces, written before `tail`. The front one is never `Masked` (see
    /// `ready_front`), so `pending` can show it.
    chunks: VecDeque<Chunk>,
    /// The growing end of the queue.
    tail: BytesMut,
    /// The stream offset of `tail[0]` (bytes queued before it, written or not).
    tail_start: u64,
    /// Bytes queued and not yet consumed.
    len: usize,
    /// The stream offset and length of the last automatic Pong not yet started, which a later
    /// Ping may replace (RFC 6455 §5.5.3).
    unsent_pong: Option<(u64, usize)>,
    /// Automatic Pongs queued since the queue was last empty.
    pongs_queued: u8,
    /// The driver writes with `write_into`: large shared payloads to mask are queued by
    /// reference.
    direct: bool,
}

impl Output {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The stream offset where the next queued byte goes.
    fn end(&self) -> u64 {
        self.tail_start + self.tail.len() as u64
    }

    /// Encodes one frame into the queue: its header, then its payload, masked with
    /// `masking_key` when given (RFC 6455 §5.3).
    #[inline(always)]
    pub(crate) fn push_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv: u8,
        masking_key: Option<[u8; 4]>,
        payload: Body<'_>,
    ) {
        let len = payload.as_slice().len();
        if masking_key.is_none() && len <= MAX_CONTROL_PAYLOAD {
            // The commonest frame a server sends: a 2-byte header and a short payload, on the
            // caller's fast path (inlined: a call would cost as much as the frame).
            let b0 = (u8::from(fin) << 7) | ((rsv & 0b111) << 4) | opcode.as_u8();
            self.push_short_frame([b0, len as u8], payload.as_slice());
            return;
        }
        self.push_long_frame(opcode, fin, rsv, masking_key, payload);
    }

    /// [`push_frame`](Self::push_frame) for every other frame: an extended length or a mask.
    #[inline(never)]
    fn push_long_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv: u8,
        masking_key: Option<[u8; 4]>,
        payload: Body<'_>,
    ) {
        let len = payload.as_slice().len();
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            masking_key,
            payload_len: len as u64,
        };
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut buf);
        self.push_slice(&buf[..n]);
        match (masking_key, payload) {
            (Some(key), Body::Shared(bytes)) if self.direct && bytes.len() >= ZERO_COPY_MIN => {
                self.push_masked_shared(bytes, key);
            }
            (Some(key), body) => self.push_masked(body.as_slice(), key),
            (None, Body::Shared(bytes)) => self.push_shared(bytes),
            (None, Body::Borrowed(bytes)) => self.push_slice(bytes),
        }
    }

    /// Queues a copy of `data`.
    #[inline]
    fn push_slice(&mut self, data: &[u8]) {
        if self.tail.capacity() - self.tail.len() >= data.len() {
            self.tail.extend_from_slice(data);
            self.len += data.len();
        } else {
            self.push_pieces(data, None);
        }
    }

    /// Queues a frame with a 2-byte header and at most 125 bytes of payload, unmasked.
    #[inline(always)]
    fn push_short_frame(&mut self, header: [u8; 2], payload: &[u8]) {
        let n = header.len() + payload.len();
        if self.tail.capacity() - self.tail.len() < n {
            self.push_slice(&header);
            self.push_slice(payload);
            return;
        }
        self.tail.extend_from_slice(&header);
        // In pieces of fixed sizes, which compile to plain moves: a call to `memcpy` would
        // cost as much as the rest of the frame.
        let mut pieces = payload.chunks_exact(16);
        for piece in &mut pieces {
            self.tail
                .extend_from_slice(<&[u8; 16]>::try_from(piece).expect("16 bytes"));
        }
        // Under 16 bytes left: at most one word, then single bytes.
        let mut rest = pieces.remainder();
        if let Some((word, more)) = rest.split_first_chunk::<8>() {
            self.tail.extend_from_slice(word);
            rest = more;
        }
        for &byte in rest {
            self.tail.extend_from_slice(&[byte]);
        }
        self.len += n;
    }

    /// Queues `data` masked with `key` (RFC 6455 §5.3), copying and masking in one pass.
    fn push_masked(&mut self, data: &[u8], key: [u8; 4]) {
        self.push_pieces(data, Some(key));
    }

    /// Queues `data` (masked if `key` is given) in the pieces that fit the buffers.
    fn push_pieces(&mut self, mut data: &[u8], key: Option<[u8; 4]>) {
        let mut phase = 0;
        self.len += data.len();
        while !data.is_empty() {
            let (now, rest) = data.split_at(self.room(data.len()));
            match key {
                Some(key) => phase = extend_masked(&mut self.tail, now, key, phase),
                None => self.tail.extend_from_slice(now),
            }
            data = rest;
        }
    }

    /// Makes room at the end of `tail` for up to `want` more bytes and returns how many fit
    /// (at least one): grows a tail smaller than `CHUNK`, fills the rest of a larger one, and
    /// once it is full freezes it into the queue and starts a new one.
    fn room(&mut self, want: usize) -> usize {
        let free = self.tail.capacity() - self.tail.len();
        if free >= want {
            return want;
        }
        if self.tail.len() + want <= CHUNK {
            self.tail.reserve(want);
            return want;
        }
        if free > 0 {
            return free;
        }
        self.freeze_tail();
        self.tail.reserve(want.min(CHUNK));
        want.min(self.tail.capacity())
    }

    /// Moves what `tail` holds into the queue of frozen pieces.
    fn freeze_tail(&mut self) {
        if !self.tail.is_empty() {
            let frozen = self.tail.split().freeze();
            self.tail_start += frozen.len() as u64;
            self.chunks.push_back(Chunk::Ready(frozen));
        }
    }

    /// Queues a frame encoded beforehand (a server's, unmasked), as it is: by reference if it
    /// is at least [`ZERO_COPY_MIN`] bytes long, else as a copy of its bytes.
    pub(crate) fn push_encoded(&mut self, frame: Bytes) {
        self.push_shared(frame);
    }

    /// Queues `data` by reference if it is large, else copies it.
    fn push_shared(&mut self, data: Bytes) {
        if data.len() < ZERO_COPY_MIN {
            return self.push_slice(&data);
        }
        self.freeze_tail();
        self.tail_start += data.len() as u64;
        self.len += data.len();
        self.chunks.push_back(Chunk::Ready(data));
    }

    /// Queues `data` by reference, to be masked with `key` as it leaves.
    fn push_masked_shared(&mut self, data: Bytes, key: [u8; 4]) {
        self.freeze_tail();
        self.tail_start += data.len() as u64;
        self.len += data.len();
        self.chunks.push_back(Chunk::Masked {
            data,
            key,
            phase: 0,
        });
        self.ready_front(FRONT_PIECE);
    }

    /// Keeps the front of the queue showable: if it is a payload still to be masked, masks
    /// up to `piece` bytes of it into a buffer in front of it.
    fn ready_front(&mut self, piece: usize) {
        let Some(Chunk::Masked { data, key, phase }) = self.chunks.front_mut() else {
            return;
        };
        let n = piece.min(data.len());
        let mut buf = BytesMut::with_capacity(n);
        let next = extend_masked(&mut buf, &data[..n], *key, *phase);
        data.advance(n);
        *phase = next;
        if data.is_empty() {
            self.chunks.pop_front();
        }
        self.chunks.push_front(Chunk::Ready(buf.freeze()));
    }

    /// Queues an automatic Pong (RFC 6455 §5.5.3). Once `MAX_UNSENT_PONGS` wait unwritten,
    /// it replaces the last one, if none of that one was written yet: a Ping flood cannot
    /// grow the queue.
    pub(crate) fn push_auto_pong(&mut self, masking_key: Option<[u8; 4]>, payload: &[u8]) {
        if self.pongs_queued >= MAX_UNSENT_PONGS {
            self.drop_unsent_pong();
        }
        let at = self.end();
        self.push_frame(OpCode::Pong, true, 0, masking_key, Body::Borrowed(payload));
        self.unsent_pong = Some((at, (self.end() - at) as usize));
        self.pongs_queued = self.pongs_queued.saturating_add(1);
    }

    /// Takes the last automatic Pong out of the queue, if none of it was written yet.
    fn drop_unsent_pong(&mut self) {
        if let Some((at, n)) = self.unsent_pong.take() {
            if at >= self.tail_start {
                let start = (at - self.tail_start) as usize;
                let end = start + n;
                let tail_len = self.tail.len();
                self.tail.copy_within(end..tail_len, start);
                self.tail.truncate(tail_len - n);
                self.len -= n;
            }
        }
    }

    /// The next contiguous bytes to write.
    pub(crate) fn pending(&self) -> &[u8] {
        match self.chunks.front() {
            Some(Chunk::Ready(chunk)) => chunk,
            // Never at the front (`ready_front`).
            Some(Chunk::Masked { .. }) => &[],
            None => &self.tail,
        }
    }

    /// Writes as much of the queue as fits into `dst` and drops it from the queue; returns
    /// how many bytes were written. Payloads queued by reference to be masked are masked
    /// straight into `dst`.
    pub(crate) fn write_into(&mut self, dst: &mut [u8]) -> usize {
        self.direct = true;
        let mut n = 0;
        while n < dst.len() && self.len > 0 {
            let room = &mut dst[n..];
            let k = match self.chunks.front_mut() {
                Some(chunk) => {
                    let k = room.len().min(chunk.len());
                    match chunk {
                        Chunk::Ready(bytes) => room[..k].copy_from_slice(&bytes[..k]),
                        Chunk::Masked { data, key, phase } => {
                            mask_copy(&mut room[..k], &data[..k], *key, *phase);
                        }
                    }
                    chunk.advance(k);
                    if chunk.len() == 0 {
                        self.chunks.pop_front();
                    }
                    k
                }
                None => {
                    let k = room.len().min(self.tail.len());
                    room[..k].copy_from_slice(&self.tail[..k]);
                    self.tail.advance(k);
                    self.tail_start += k as u64;
                    k
                }
            };
            n += k;
            self.len -= k;
        }
        self.after_consume(FRONT_PIECE);
        n
    }

    #[cfg(feature = "std")]
    pub(crate) fn pending_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        // Up to the first payload still to be masked.
        let masked = self
            .chunks
            .iter()
            .position(|c| matches!(c, Chunk::Masked { .. }));
        let tail = masked.is_none().then_some(&self.tail[..]);
        let pieces = self
            .chunks
            .iter()
            .map_while(|c| match c {
                Chunk::Ready(b) => Some(&b[..]),
                Chunk::Masked { .. } => None,
            })
            .chain(tail);
        let mut n = 0;
        for (slot, piece) in dst.iter_mut().zip(pieces.filter(|p| !p.is_empty())) {
            *slot = std::io::IoSlice::new(piece);
            n += 1;
        }
        n
    }

    /// Drops the first `n` bytes (clamped to what is queued).
    pub(crate) fn consume(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            if let Some(front) = self.chunks.front_mut() {
                let k = n.min(front.len());
                front.advance(k);
                n -= k;
                if front.len() == 0 {
                    self.chunks.pop_front();
                }
            } else {
                self.tail.advance(n);
                self.tail_start += n as u64;
                n = 0;
            }
        }
        self.after_consume(CHUNK);
    }

    /// After bytes left the queue: resets what counts the unwritten output once it is
    /// empty, and otherwise keeps the front showable (`ready_front`).
    fn after_consume(&mut self, piece: usize) {
        if self.len == 0 {
            self.pongs_queued = 0;
            self.unsent_pong = None;
            if self.tail.capacity() > SHRINK_ABOVE {
                self.tail = BytesMut::new();
            }
        } else {
            self.ready_front(piece);
        }
    }
}
