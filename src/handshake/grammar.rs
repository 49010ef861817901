//! Header list grammar: comma-separated lists (RFC 7230 §7) and subprotocol lists.
//!
//! Tokens and the `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1) are in
//! [`extensions`](crate::extensions), where extensions read their parameters with them.

use alloc::string::String;
use alloc::vec::Vec;

use crate::extensions::params::{ascii_string, is_ows, is_token};

/// `s` without leading and trailing optional whitespace.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ows(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_ows(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// The elements of a `#rule` list value: split on commas, trimmed, empty elements skipped
/// (RFC 7230 §7: a recipient MUST accept and ignore empty list elements).
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Whether any of the list values contains `token`, ASCII case-insensitively.
pub(crate) fn contains_token<'a>(values: impl Iterator<Item = &'a [u8]>, token: &str) -> bool {
    values
        .flat_map(list_elements)
        .any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// The subprotocols of `Sec-WebSocket-Protocol` values, merged in order as if comma-joined.
/// `None` if an element is not a token (RFC 6455 §4.1: subprotocols are tokens).
pub(crate) fn parse_protocols<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for element in values.flat_map(list_elements) {
        if !is_token(element) {
            return None;
        }
        out.push(ascii_string(element));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn token_lists() {
        for (value, token, found) in [
            ("Upgrade", "upgrade", true),
            ("keep-alive, Upgrade", "upgrade", true),
            (",,\t,  , ,Upgrade  ,,", "upgrade", true),
            ("UPGRADE", "upgrade", true),
            ("keep-alive", "upgrade", false),
            ("Upgraded", "upgrade", false),
            ("Up grade", "upgrade", false),
            ("", "upgrade", false),
            ("WebSocket", "websocket", true),
            ("h2c, websocket", "websocket", true),
        ] {
            assert_eq!(
                contains_token([value.as_bytes()].into_iter(), token),
                found,
                "{value:?}"
            );
        }
    }

    #[test]
    fn protocols() {
        let p = |values: &[&str]| parse_protocols(values.iter().map(|v| v.as_bytes()));
        assert_eq!(
            p(&["chat, superchat"]),
            Some(vec!["chat".into(), "superchat".into()])
        );
        assert_eq!(
            p(&["a", "b, c"]),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(p(&[" , "]), Some(vec![]));
        assert_eq!(p(&["a b"]), None);
        assert_eq!(p(&["a/b"]), None);
    }

    #[test]
    fn trims() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
    }
}
