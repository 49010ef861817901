//! [`Text`]: UTF-8-checked bytes that deref to `str`, without copying.
//!
//! This is one of the two modules allowed `unsafe`: `Deref<Target = str>`
//! uses `from_utf8_unchecked`, which is sound because every constructor proves the bytes are
//! UTF-8 first. Re-validating on every deref would cost a pass over the payload each time the
//! application looks at a message.

#![allow(unsafe_code)]
use core::fmt;
use core::ops::Deref;

use bytes::Bytes;

/// A text payload: [`Bytes`] that are guaranteed to be valid UTF-8.
///
/// Cloning is cheap (a reference count), and `Text` derefs to `str`:
///
/// ```
/// use wsmachine::Text;
/// let t = Text::from("héllo");
/// assert_eq!(t.len(), 6);
/// assert!(t.starts_with("hé"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Bytes);

impl Text {
    /// An empty text.
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// Text from a static string, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }

    /// Checks that `bytes` are UTF-8 and wraps them, or gives them back.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        if core::str::from_utf8(&bytes).is_ok() {
            Ok(Self(bytes))
        } else {
            Err(bytes)
        }
    }

    /// Wraps bytes that the caller has already proven to be UTF-8 (with the incremental
    /// validator). Debug builds check it again.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(
            core::str::from_utf8(&bytes).is_ok(),
            "Text from invalid UTF-8"
        );
        Self(bytes)
    }

    /// The text as `str`.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor (`from_static`, `try_from_bytes`, the `From` impls for
        // `&str`/`String`, and `from_validated`, whose callers ran the UTF-8 validator over
        // exactly these bytes) guarantees that `self.0` is valid UTF-8, and `Bytes` is
        // immutable, so it stays valid.
        unsafe { core::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes (cheap clone).
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<alloc::string::String> for Text {
    fn from(s: alloc::string::String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<Text> for alloc::string::String {
    /// Copies the text into a `String` (a `Text` shares the connection's buffer).
    fn from(text: Text) -> Self {
        alloc::string::String::from(&*text)
    }
}

impl From<Text> for Bytes {
    fn from(t: Text) -> Bytes {
        t.0
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_keep_the_utf8_invariant() {
        assert_eq!(Text::from("añb").as_str(), "añb");
        assert_eq!(Text::from_static("x").len(), 1);
        assert_eq!(
            Text::from(alloc::string::String::from("€"))
                .as_bytes()
                .len(),
            3
        );
        assert!(Text::try_from_bytes(Bytes::from_static(b"\xff")).is_err());
        let t = Text::try_from_bytes(Bytes::from_static("ok ✓".as_bytes())).unwrap();
        assert_eq!(&*t, "ok ✓");
        assert_eq!(Text::new(), "");
    }
}
