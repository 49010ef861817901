//! Where masking keys (and handshake nonces) come from.
//!
//! RFC 6455 §5.3: a client's masking key "MUST be derived from a strong source of entropy",
//! unpredictable to the application that supplies the data. The default, [`OsRandom`], reads
//! the OS CSPRNG in batches so a small frame does not cost a system call. Tests use
//! [`FixedMask`] to get byte-exact frames. Servers never draw keys.

/// A source of random bytes for masking keys and `Sec-WebSocket-Key` nonces.
pub trait MaskSource {
    /// Fills `dest` with unpredictable bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]);

    /// The next 4-byte masking key.
    fn mask_key(&mut self) -> [u8; 4] {
        let mut key = [0; 4];
        self.fill_bytes(&mut key);
        key
    }
}

impl<M: MaskSource + ?Sized> MaskSource for alloc::boxed::Box<M> {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        (**self).fill_bytes(dest)
    }
    fn mask_key(&mut self) -> [u8; 4] {
        (**self).mask_key()
    }
}

/// A fixed key, repeated: **for tests only** — predictable keys break the security purpose of
/// masking. `fill_bytes` repeats the key bytes.
///
/// ```
/// use wsmachine::{FixedMask, MaskSource};
/// let mut m = FixedMask([0x37, 0xfa, 0x21, 0x3d]);
/// assert_eq!(m.mask_key(), [0x37, 0xfa, 0x21, 0x3d]);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FixedMask(pub [u8; 4]);

impl MaskSource for FixedMask {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for (i, b) in dest.iter_mut().enumerate() {
            *b = self.0[i & 3];
        }
    }
    fn mask_key(&mut self) -> [u8; 4] {
        self.0
    }
}

/// The OS CSPRNG (through `getrandom`), read in batches of 128 bytes (32 masking keys).
///
/// # Panics
/// If the operating system cannot provide random bytes. wsmachine refuses to fall back to
/// predictable keys; on the platforms `getrandom` supports this does not happen once the
/// system has booted.
#[cfg(feature = "getrandom")]
#[derive(Clone)]
pub struct OsRandom {
    batch: [u8; 128],
    used: usize,
}

#[cfg(feature = "getrandom")]
impl OsRandom {
    /// A source with an empty batch: nothing is read until the first key is needed.
    pub const fn new() -> Self {
        Self {
            batch: [0; 128],
            used: 128,
        }
    }
}

#[cfg(feature = "getrandom")]
impl Default for OsRandom {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "getrandom")]
impl core::fmt::Debug for OsRandom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("OsRandom")
    }
}

#[cfg(feature = "getrandom")]
impl MaskSource for OsRandom {
    fn fill_bytes(&mut self, mut dest: &mut [u8]) {
        while !dest.is_empty() {
            if self.used == self.batch.len() {
                getrandom::fill(&mut self.batch).expect("the OS random source failed");
                self.used = 0;
            }
            let n = dest.len().min(self.batch.len() - self.used);
            dest[..n].copy_from_slice(&self.batch[self.used..self.used + n]);
            // Never hand out the same bytes twice.
            self.batch[self.used..self.used + n].fill(0);
            self.used += n;
            dest = &mut dest[n..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_mask_repeats() {
        let mut m = FixedMask([1, 2, 3, 4]);
        let mut buf = [0; 6];
        m.fill_bytes(&mut buf);
        assert_eq!(buf, [1, 2, 3, 4, 1, 2]);
    }

    #[cfg(feature = "getrandom")]
    #[test]
    fn os_random_batches_and_differs() {
        let mut r = OsRandom::new();
        let keys: alloc::vec::Vec<[u8; 4]> = (0..100).map(|_| r.mask_key()).collect();
        let distinct: alloc::collections::BTreeSet<_> = keys.iter().collect();
        // 100 random 32-bit keys: a collision is astronomically unlikely.
        assert!(distinct.len() > 95);
        let mut big = [0u8; 300];
        r.fill_bytes(&mut big);
        assert!(big.iter().any(|&b| b != 0));
    }
}
