//! WebSocket extensions (RFC 6455 §9): negotiating their parameters, and running them.
//!
//! The handshake carries extensions as [`Extension`] values (a name and parameters, in the
//! RFC 6455 §9.1 grammar). This module reads and writes those parameters for the extensions
//! wsmachine implements, and holds the extension's own processing; it never sees a socket or
//! an HTTP message. Today that is one extension, [`deflate`]: permessage-deflate (RFC 7692),
//! behind the feature `deflate`.
//!
//! The glue for the handshake is in the handshake types:
//! [`Request::select_deflate`](crate::handshake::Request::select_deflate) and
//! [`Accept::deflate`](crate::handshake::Accept::deflate) on a server,
//! [`ClientOptions::deflate`](crate::handshake::ClientOptions::deflate) on a client. Either way
//! the agreed [`DeflateParams`] end up in the [`Negotiated`](crate::Negotiated) value that
//! [`Connection::new`](crate::Connection::new) starts from.

#[cfg(feature = "deflate")]
pub mod deflate;
pub(crate) mod seam;

#[cfg(feature = "deflate")]
pub use deflate::{DeflateConfig, DeflateError, DeflateOptions, DeflateParams};

use crate::handshake::Extension;

/// A parameter list broken in a way that makes any extension decline it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ParamError {
    /// A parameter the extension does not define.
    Unknown,
    /// A parameter given twice.
    Duplicate,
}

/// The parameters of `extension` sorted by `known` names (ASCII case-insensitive): for each,
/// `None` if absent, `Some(None)` if present without a value, `Some(Some(v))` with one. Fails
/// on a name not in `known` and on a name given twice.
pub(crate) fn sort_params<'a, const N: usize>(
    extension: &'a Extension,
    known: [&str; N],
) -> Result<[Option<Option<&'a str>>; N], ParamError> {
    let mut out = [None; N];
    for (name, value) in extension.params() {
        let slot = known
            .iter()
            .position(|k| k.eq_ignore_ascii_case(name))
            .ok_or(ParamError::Unknown)?;
        if out[slot].is_some() {
            return Err(ParamError::Duplicate);
        }
        out[slot] = Some(value.as_deref());
    }
    Ok(out)
}

/// The extensions in `list` called `name` (ASCII case-insensitive), in order.
pub(crate) fn named<'a>(
    list: &'a [Extension],
    name: &'a str,
) -> impl Iterator<Item = &'a Extension> + 'a {
    list.iter()
        .filter(move |e| e.name().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_sorted_by_name() {
        let e = |s: &str| Extension::parse_list(s).unwrap().remove(0);
        let known = ["a", "b", "c"];
        for (value, expected) in [
            ("x", Ok([None, None, None])),
            ("x; b", Ok([None, Some(None), None])),
            ("x; C=1; a", Ok([Some(None), None, Some(Some("1"))])),
            ("x; a; A", Err(ParamError::Duplicate)),
            ("x; a=1; a=2", Err(ParamError::Duplicate)),
            ("x; d", Err(ParamError::Unknown)),
        ] {
            assert_eq!(sort_params(&e(value), known), expected, "{value}");
        }
        let list = Extension::parse_list("a, B, c, b; x").unwrap();
        assert_eq!(named(&list, "b").count(), 2);
    }
}
