//! Which `Origin`s a server accepts (RFC 6455 §4.2.2 item 4, §10.2; RFC 6454).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::error::RequestError;

/// Which `Origin`s a server accepts; a refused origin is rejected with `403`
/// ([`RequestError::ForbiddenOrigin`]).
///
/// Browsers send the `Origin` of the page that opens a WebSocket and cannot be made to lie
/// about it, so checking it stops other sites from using a visitor's cookies against the
/// server (cross-site WebSocket hijacking). Clients that are not browsers usually send no
/// `Origin` and can send any value, so the origin says nothing about them: an allow-list
/// therefore lets requests *without* an `Origin` through, and a
/// [`predicate`](Self::predicate) decides for itself (it is given `None`).
///
/// ```
/// use wsmachine::handshake::OriginPolicy;
/// let policy = OriginPolicy::allow_list(["https://example.com"]);
/// assert!(policy.allows(Some("https://example.com")));
/// assert!(policy.allows(Some("HTTPS://EXAMPLE.COM"))); // origins are ASCII case-insensitive
/// assert!(!policy.allows(Some("https://evil.example")));
/// assert!(policy.allows(None));
///
/// let strict = OriginPolicy::predicate(|origin| origin.is_some_and(|o| o.ends_with(".example.com")));
/// assert!(!strict.allows(None));
/// ```
pub struct OriginPolicy(Policy);

/// A caller's decision on an `Origin` (or its absence).
type Predicate = dyn Fn(Option<&str>) -> bool + Send + Sync;

enum Policy {
    Any,
    AllowList(Vec<String>),
    Predicate(Box<Predicate>),
}

impl OriginPolicy {
    /// Accepts every origin (the default).
    pub const fn any() -> Self {
        Self(Policy::Any)
    }

    /// Accepts the listed origins (serialized as `scheme://host[:port]`, compared ASCII
    /// case-insensitively) and requests without an `Origin`.
    pub fn allow_list<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(Policy::AllowList(
            origins.into_iter().map(Into::into).collect(),
        ))
    }

    /// Accepts the origins for which `allow` returns `true`; it gets `None` when the request
    /// has no `Origin`.
    pub fn predicate(allow: impl Fn(Option<&str>) -> bool + Send + Sync + 'static) -> Self {
        Self(Policy::Predicate(Box::new(allow)))
    }

    /// Whether a request with this `Origin` (or none) is accepted.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match (&self.0, origin) {
            (Policy::Any, _) | (Policy::AllowList(_), None) => true,
            (Policy::AllowList(list), Some(origin)) => list
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin)),
            (Policy::Predicate(allow), origin) => allow(origin),
        }
    }

    /// [`allows`](Self::allows) as a result: `Err(ForbiddenOrigin)` when refused.
    pub fn check(&self, origin: Option<&str>) -> Result<(), RequestError> {
        if self.allows(origin) {
            Ok(())
        } else {
            Err(RequestError::ForbiddenOrigin)
        }
    }
}

impl Default for OriginPolicy {
    fn default() -> Self {
        Self::any()
    }
}

impl fmt::Debug for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Policy::Any => f.write_str("OriginPolicy::Any"),
            Policy::AllowList(list) => f
                .debug_tuple("OriginPolicy::AllowList")
                .field(list)
                .finish(),
            Policy::Predicate(_) => f.write_str("OriginPolicy::Predicate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        let list = OriginPolicy::allow_list(["https://a.example", "http://localhost:8080"]);
        let pred = OriginPolicy::predicate(|o| o == Some("null"));
        for (policy, origin, allowed) in [
            (&OriginPolicy::any(), Some("https://evil.example"), true),
            (&OriginPolicy::any(), None, true),
            (&list, Some("https://a.example"), true),
            (&list, Some("http://localhost:8080"), true),
            (&list, Some("http://localhost:8081"), false),
            (&list, Some("https://a.example/"), false),
            (&list, Some("https://a.example.evil"), false),
            (&list, Some("null"), false),
            (&list, None, true),
            (&pred, Some("null"), true),
            (&pred, None, false),
        ] {
            assert_eq!(policy.allows(origin), allowed, "{policy:?} {origin:?}");
            let expected = if allowed {
                Ok(())
            } else {
                Err(RequestError::ForbiddenOrigin)
            };
            assert_eq!(policy.check(origin), expected);
        }
    }
}
