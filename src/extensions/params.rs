//! Extension parameters: the `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1) and the
//! tokens it is made of (RFC 7230 §3.2.6).
//!
//! Extensions read their parameters with it, and the handshake reads and writes the header
//! with it, so it lives here, below the handshake.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

/// `tchar` (RFC 7230 §3.2.6): the characters of a token.
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `s` is a non-empty token.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Optional whitespace (RFC 7230 §3.2.3).
pub(crate) const fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A token as a `String` (tokens are ASCII).
pub(crate) fn ascii_string(token: &[u8]) -> String {
    token.iter().map(|&b| char::from(b)).collect()
}

/// The name of permessage-deflate (RFC 7692 §7). The handshake keeps it apart from other
/// extensions with or without feature `deflate`: only the connection can run it.
pub(crate) const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// One element of a `Sec-WebSocket-Extensions` header: an extension name and its parameters
/// (RFC 6455 §9.1).
///
/// The same type describes a client's offer and a server's response. Names and parameter
/// values are tokens; a value sent as a quoted-string is unquoted when parsed (§9.1 requires
/// the unquoted value to be a token too), so it is always written back as a plain token.
///
/// ```
/// use wsmachine::handshake::Extension;
/// let offers = Extension::parse_list("permessage-deflate; client_max_window_bits, foo; x=\"1\"")
///     .unwrap();
/// assert_eq!(offers[0].name(), "permessage-deflate");
/// assert_eq!(offers[0].param("client_max_window_bits"), Some(None));
/// assert_eq!(offers[1].param("x"), Some(Some("1")));
/// assert_eq!(offers[1].to_string(), "foo; x=1");
///
/// let built = Extension::new("permessage-deflate").with_param("server_no_context_takeover", None);
/// assert_eq!(built.to_string(), "permessage-deflate; server_no_context_takeover");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Extension {
    name: String,
    params: Vec<(String, Option<String>)>,
}

impl Extension {
    /// An extension with no parameters. The name is checked when the extension is sent.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter, with a value or without one.
    pub fn with_param(mut self, name: impl Into<String>, value: Option<&str>) -> Self {
        self.params.push((name.into(), value.map(String::from)));
        self
    }

    /// The extension name (an extension token).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameters in order: name, and the value if one was given.
    pub fn params(&self) -> &[(String, Option<String>)] {
        &self.params
    }

    /// The first parameter called `name` (ASCII case-insensitive): `None` if absent,
    /// `Some(None)` if present without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// Parses a `Sec-WebSocket-Extensions` value (an `extension-list`). Empty list elements are
    /// skipped, so an empty value is an empty list.
    pub fn parse_list(value: &str) -> Result<Vec<Extension>, ExtensionSyntaxError> {
        let mut out = Vec::new();
        parse_extensions(value.as_bytes(), &mut out)?;
        Ok(out)
    }

    /// Whether the name, the parameter names and the values are all tokens, as §9.1 requires.
    pub(crate) fn is_valid(&self) -> bool {
        is_token(self.name.as_bytes())
            && self.params.iter().all(|(n, v)| {
                is_token(n.as_bytes()) && v.as_ref().is_none_or(|v| is_token(v.as_bytes()))
            })
    }
}

impl fmt::Display for Extension {
    /// The §9.1 form: `name; param; param=value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            match value {
                Some(value) => write!(f, "; {name}={value}")?,
                None => write!(f, "; {name}")?,
            }
        }
        Ok(())
    }
}

/// A `Sec-WebSocket-Extensions` value that does not follow RFC 6455 §9.1.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ExtensionSyntaxError;

impl fmt::Display for ExtensionSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed Sec-WebSocket-Extensions value")
    }
}

impl core::error::Error for ExtensionSyntaxError {}

/// Parses the extensions of every value in turn, merged as if comma-joined.
pub(crate) fn parse_extension_values<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<Extension>, ExtensionSyntaxError> {
    let mut out = Vec::new();
    for value in values {
        parse_extensions(value, &mut out)?;
    }
    Ok(out)
}

/// Joins extensions into one header value.
pub(crate) fn join_extensions(extensions: &[Extension]) -> String {
    let mut out = String::new();
    for extension in extensions {
        push_element(&mut out, extension);
    }
    out
}

/// Appends one element to a header value, after a `", "` if it is not the first.
pub(crate) fn push_element(value: &mut String, extension: &Extension) {
    if !value.is_empty() {
        value.push_str(", ");
    }
    // Writing to a `String` cannot fail.
    let _ = write!(value, "{extension}");
}

/// A parameter list broken in a way that makes any extension decline it.
#[allow(
    dead_code,
    reason = "only permessage-deflate (feature `deflate`) reads parameters"
)]
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
#[allow(
    dead_code,
    reason = "only permessage-deflate (feature `deflate`) reads parameters"
)]
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

/// A cursor over one header value.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while self.peek().is_some_and(is_ows) {
            self.pos += 1;
        }
    }

    /// Consumes `b` (after optional whitespace) if it is next.
    fn eat(&mut self, b: u8) -> bool {
        self.skip_ows();
        let found = self.peek() == Some(b);
        if found {
            self.pos += 1;
        }
        found
    }

    fn token(&mut self) -> Result<String, ExtensionSyntaxError> {
        self.skip_ows();
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        match &self.s[start..self.pos] {
            [] => Err(ExtensionSyntaxError),
            token => Ok(ascii_string(token)),
        }
    }

    /// A quoted-string (RFC 7230 §3.2.6), the opening quote already consumed; returns it
    /// unescaped, which §9.1 requires to be a token.
    fn quoted_token(&mut self) -> Result<String, ExtensionSyntaxError> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(ExtensionSyntaxError),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.pos += 1;
                    out.push(self.peek().ok_or(ExtensionSyntaxError)?);
                }
                Some(b) => out.push(b),
            }
            self.pos += 1;
        }
        self.pos += 1;
        if is_token(&out) {
            Ok(ascii_string(&out))
        } else {
            Err(ExtensionSyntaxError)
        }
    }
}

/// `extension-list = 1#extension`, `extension = extension-token *( ";" extension-param )`,
/// `extension-param = token [ "=" (token | quoted-string) ]` (RFC 6455 §9.1), with optional
/// whitespace between items and empty list elements skipped.
fn parse_extensions(value: &[u8], out: &mut Vec<Extension>) -> Result<(), ExtensionSyntaxError> {
    let mut c = Cursor { s: value, pos: 0 };
    loop {
        c.skip_ows();
        match c.peek() {
            None => return Ok(()),
            Some(b',') => {
                c.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let mut extension = Extension::new(c.token()?);
        while c.eat(b';') {
            let name = c.token()?;
            let value = if c.eat(b'=') {
                c.skip_ows();
                if c.peek() == Some(b'"') {
                    c.pos += 1;
                    Some(c.quoted_token()?)
                } else {
                    Some(c.token()?)
                }
            } else {
                None
            };
            extension.params.push((name, value));
        }
        out.push(extension);
        c.skip_ows();
        match c.peek() {
            None => return Ok(()),
            Some(b',') => c.pos += 1,
            Some(_) => return Err(ExtensionSyntaxError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn ext(name: &str, params: &[(&str, Option<&str>)]) -> Extension {
        params
            .iter()
            .fold(Extension::new(name), |e, (n, v)| e.with_param(*n, *v))
    }

    #[test]
    fn extension_grammar() {
        let ok: &[(&str, Vec<Extension>)] = &[
            ("", vec![]),
            (" , ,", vec![]),
            ("foo", vec![ext("foo", &[])]),
            (
                "foo, bar; baz=2",
                vec![ext("foo", &[]), ext("bar", &[("baz", Some("2"))])],
            ),
            ("foo;bar", vec![ext("foo", &[("bar", None)])]),
            (
                "foo ; bar = 1 ; baz",
                vec![ext("foo", &[("bar", Some("1")), ("baz", None)])],
            ),
            ("foo; bar=\"1\"", vec![ext("foo", &[("bar", Some("1"))])]),
            (
                "foo; bar=\"a\\bc\"",
                vec![ext("foo", &[("bar", Some("abc"))])],
            ),
            (
                "permessage-deflate; client_max_window_bits, permessage-deflate",
                vec![
                    ext("permessage-deflate", &[("client_max_window_bits", None)]),
                    ext("permessage-deflate", &[]),
                ],
            ),
            (",foo,,bar,", vec![ext("foo", &[]), ext("bar", &[])]),
        ];
        for (value, expected) in ok {
            assert_eq!(
                Extension::parse_list(value).as_ref(),
                Ok(expected),
                "{value:?}"
            );
        }
        for value in [
            "foo bar",          // two tokens without a separator
            "foo;",             // parameter name missing
            "foo; =1",          // parameter name missing
            "foo; bar=",        // value missing
            "foo; bar=\"1",     // unterminated quoted-string
            "foo; bar=\"a b\"", // quoted value is not a token
            "foo; bar=\"\"",    // empty quoted value
            "foo; bar=a b",     // junk after the value
            ";foo",             // name missing
            "fo\"o",            // not a token
            "foo; bar=\"a\\",   // escape at the end
        ] {
            assert_eq!(
                Extension::parse_list(value),
                Err(ExtensionSyntaxError),
                "{value:?}"
            );
        }
    }

    #[test]
    fn merged_lines_equal_comma_joined() {
        let lines = parse_extension_values([&b"foo"[..], b"bar; baz=2"].into_iter()).unwrap();
        assert_eq!(lines, Extension::parse_list("foo, bar; baz=2").unwrap());
    }

    #[test]
    fn validity_and_display() {
        assert!(ext("foo", &[("a", Some("1")), ("b", None)]).is_valid());
        assert!(!ext("", &[]).is_valid());
        assert!(!ext("foo", &[("a b", None)]).is_valid());
        assert!(!ext("foo", &[("a", Some("x\r\ny"))]).is_valid());
        assert_eq!(
            ext("foo", &[("a", Some("1")), ("b", None)]).to_string(),
            "foo; a=1; b"
        );
        assert_eq!(ext("x", &[]).param("y"), None);
    }

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
