//! The opening handshake on any bytes in any split (the `handshake_server`,
//! `handshake_client` and `extension_params` targets).
//!
//! Input layout for both sides: a flags byte, a count of cut points (mod 17), that many
//! little-endian `u16` cut points, then the HTTP bytes. A seed of `00 00` followed by a
//! request or response is therefore just that message, whole, with default settings.

use arbitrary::Unstructured;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use wsmachine::extensions::deflate::EXTENSION_NAME;
use wsmachine::extensions::{DeflateOptions, DeflateParams};
use wsmachine::handshake::{
    Accept, ClientError, ClientHandshake, ClientOptions, Extension, HandshakeLimits, Request,
    RequestError, ServerHandshake, Status, Url, accept_key,
};

/// The nonce of every client here; its key is the RFC 6455 §1.3 example.
pub const NONCE: [u8; 16] = *b"the sample nonce";

/// Flags, cut points and the message bytes.
struct Input<'a> {
    flags: u8,
    cuts: Vec<usize>,
    bytes: &'a [u8],
}

fn input(data: &[u8]) -> Option<Input<'_>> {
    let mut u = Unstructured::new(data);
    let flags: u8 = u.arbitrary().ok()?;
    let count = u.arbitrary::<u8>().ok()? % 17;
    let mut cuts = Vec::new();
    for _ in 0..count {
        cuts.push(usize::from(u.arbitrary::<u16>().ok()?));
    }
    let bytes = u.take_rest();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    Some(Input { flags, cuts, bytes })
}

/// Limits picked by the flags: the defaults, or tight ones so the limits get hit.
fn limits(flags: u8) -> HandshakeLimits {
    let mut limits = HandshakeLimits::default();
    if flags & 0x80 != 0 {
        limits.max_header_bytes = 32 + usize::from(flags & 0x0F) * 24;
        limits.max_headers = 1 + usize::from((flags >> 4) & 0x07);
        limits.max_body_bytes = usize::from(flags & 0x0F);
    }
    limits
}

/// What a handshake made of the input: its result (once finished) and how many bytes it had
/// been fed when it finished.
struct Run<T, E> {
    result: Option<Result<T, E>>,
    fed: usize,
}

/// Feeds `bytes` cut at `cuts` to `receive`, checking after every call that the work is linear:
/// the parser runs at most once, and the scan for the end of the header block looks at no more
/// than the bytes fed plus two per call.
fn feed<T, E>(
    bytes: &[u8],
    cuts: &[usize],
    mut receive: impl FnMut(&[u8]) -> Result<Status<T>, E>,
    work: impl Fn() -> (u32, usize),
) -> Run<T, E> {
    let mut start = 0;
    let mut calls = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        calls += 1;
        let result = receive(&bytes[start..cut]);
        let (attempts, scanned) = work();
        assert!(attempts <= 1, "the HTTP parser ran {attempts} times");
        assert!(
            scanned <= cut + 2 * calls,
            "scanned {scanned} bytes for {cut} bytes fed in {calls} calls"
        );
        match result {
            Ok(Status::Partial) => start = cut,
            Ok(Status::Complete(value)) => {
                return Run {
                    result: Some(Ok(value)),
                    fed: cut,
                };
            }
            Err(e) => {
                return Run {
                    result: Some(Err(e)),
                    fed: cut,
                };
            }
        }
    }
    Run {
        result: None,
        fed: bytes.len(),
    }
}

// ---- server ----

/// Runs one fuzz input through a [`ServerHandshake`].
pub fn run_server(data: &[u8]) {
    let Some(input) = input(data) else { return };
    let limits = limits(input.flags);
    let whole = server_run(&limits, input.bytes, &[]);
    let split = server_run(&limits, input.bytes, &input.cuts);
    // The split never changes the verdict; it only changes how much of the input had been fed
    // when the request was complete (the rest would have been leftover).
    match (&whole.result, &split.result) {
        (None, None) => {}
        (Some(Err(a)), Some(Err(b))) => assert_eq!(a, b),
        (Some(Ok(a)), Some(Ok(b))) => {
            assert_same_request(a, b);
            let mut leftover = b.leftover().to_vec();
            leftover.extend_from_slice(&input.bytes[split.fed..]);
            assert_eq!(a.leftover(), &leftover[..]);
        }
        (a, b) => panic!(
            "whole and split disagree: {:?} vs {:?}",
            a.as_ref().map(|r| r.as_ref().map(|_| ())),
            b.as_ref().map(|r| r.as_ref().map(|_| ()))
        ),
    }
    match whole.result {
        Some(Ok(request)) => {
            check_request_rules(&request, input.bytes);
            check_accepted(&request, &limits);
        }
        Some(Err(error)) => check_rejection(error),
        None => {}
    }
}

fn server_run(
    limits: &HandshakeLimits,
    bytes: &[u8],
    cuts: &[usize],
) -> Run<Request, RequestError> {
    let hs = std::cell::RefCell::new(ServerHandshake::new().limits(limits.clone()));
    let run = feed(
        bytes,
        cuts,
        |piece| hs.borrow_mut().receive(piece),
        || {
            let hs = hs.borrow();
            (hs.parse_attempts(), hs.bytes_scanned())
        },
    );
    if run.result.is_some() {
        // Finished: any later call is the caller's mistake, not the peer's.
        assert_eq!(hs.borrow_mut().receive(b"x"), Err(RequestError::Finished));
    }
    run
}

/// Everything but the leftover is equal.
fn assert_same_request(a: &Request, b: &Request) {
    assert_eq!(a.resource(), b.resource());
    assert_eq!(a.host(), b.host());
    assert_eq!(a.origin(), b.origin());
    assert_eq!(a.protocols(), b.protocols());
    assert_eq!(a.extensions(), b.extensions());
    assert_eq!(a.headers(), b.headers());
    assert_eq!(a.key(), b.key());
}

/// The values of the fields called `name`, trimmed.
fn field_values<'a>(
    headers: &'a [wsmachine::handshake::Header],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name().eq_ignore_ascii_case(name))
        .map(|h| h.value().trim_ascii())
}

/// Whether a comma-separated field value lists `token` (case aside).
fn lists(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|e| e.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// RFC 6455 §4.2.1, checked again here without the crate's grammar code: an accepted request
/// is `GET ... HTTP/1.1` with one non-empty `Host`, `Upgrade: websocket`,
/// `Connection: upgrade`, one `Sec-WebSocket-Version: 13`, one valid key, no body.
fn check_request_rules(request: &Request, input: &[u8]) {
    let start = input
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(input.len());
    let line_end = input[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(input.len(), |i| start + i);
    let line = input[start..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&input[start..line_end]);
    assert!(line.starts_with(b"GET "), "accepted {line:?}");
    assert!(line.ends_with(b" HTTP/1.1"), "accepted {line:?}");

    let headers = request.headers();
    let hosts: Vec<&[u8]> = field_values(headers, "host").collect();
    assert_eq!(hosts.len(), 1, "accepted with {} Host fields", hosts.len());
    assert_eq!(hosts[0], request.host().as_bytes());
    assert!(field_values(headers, "upgrade").any(|v| lists(v, "websocket")));
    assert!(field_values(headers, "connection").any(|v| lists(v, "upgrade")));
    let versions: Vec<&[u8]> = field_values(headers, "sec-websocket-version").collect();
    assert_eq!(versions, [b"13"], "accepted versions");
    let keys: Vec<&[u8]> = field_values(headers, "sec-websocket-key").collect();
    assert_eq!(keys.len(), 1, "accepted with {} keys", keys.len());
    assert_eq!(Some(keys[0]), request.key().map(str::as_bytes));
    assert_eq!(field_values(headers, "transfer-encoding").count(), 0);
    assert!(
        field_values(headers, "content-length")
            .all(|v| !v.is_empty() && v.iter().all(|&b| b == b'0'))
    );
    assert!(field_values(headers, "origin").count() <= 1);
}

/// An accepted request re-validates: written back out canonically it parses to the same
/// request, and accepting it gives a response that a client with the same key and offers
/// accepts, with the same negotiated values and leftover.
fn check_accepted(request: &Request, limits: &HandshakeLimits) {
    assert!(request.resource().starts_with('/'));
    assert!(!request.host().is_empty());

    // Canonical form: origin-form target, `name: value` lines.
    let mut canonical = format!("GET {} HTTP/1.1\r\n", request.resource()).into_bytes();
    for h in request.headers() {
        canonical.extend_from_slice(h.name().as_bytes());
        canonical.extend_from_slice(b": ");
        canonical.extend_from_slice(h.value());
        canonical.extend_from_slice(b"\r\n");
    }
    canonical.extend_from_slice(b"\r\n");
    let mut roomy = HandshakeLimits::default();
    roomy.max_headers = limits.max_headers;
    roomy.max_header_bytes = canonical.len() + 64;
    match ServerHandshake::new().limits(roomy).receive(&canonical) {
        Ok(Status::Complete(again)) => {
            assert_same_request(request, &again);
            assert!(again.leftover().is_empty());
        }
        other => panic!(
            "the canonical form of an accepted request was not accepted: {other:?}\n{}",
            String::from_utf8_lossy(&canonical)
        ),
    }

    let key = request.key().expect("an HTTP/1.1 request has a key");
    let mut nonce = [0u8; 16];
    let n = BASE64
        .decode_slice(key, &mut nonce)
        .expect("an accepted key is base64");
    assert_eq!(n, 16, "an accepted key is 16 bytes");
    assert_eq!(
        BASE64.encode(nonce),
        key,
        "an accepted key is canonical base64"
    );

    // Accept with the first offered subprotocol and extension, then with nothing.
    let mut options = ClientOptions::new();
    let mut offered: Vec<&str> = Vec::new();
    for p in request.protocols() {
        if !offered.contains(&p.as_str()) {
            offered.push(p);
            options = options.protocol(p.as_str());
        }
    }
    for e in request.extensions() {
        options = options.extension(e.clone());
    }
    // Accept the first subprotocol and the first extension other than permessage-deflate as
    // offered, and permessage-deflate through its own negotiation (an offer is not a valid
    // response: RFC 7692 §7.1 gives responses their own rules).
    let mut full = Accept::new().protocol(request.select_protocol(request.protocols()));
    let generic = request
        .extensions()
        .iter()
        .find(|e| !e.name().eq_ignore_ascii_case(EXTENSION_NAME));
    if let Some(e) = generic {
        full = full.extension(e.clone());
    }
    let mut small = DeflateOptions::new();
    small.server_no_context_takeover = true;
    small.client_no_context_takeover = true;
    small.server_max_window_bits = Some(9);
    small.client_max_window_bits = Some(10);
    let url = Url::parse("ws://example.com/").expect("a valid URL");
    for accept in [
        full.clone()
            .deflate(request.select_deflate(&DeflateOptions::new())),
        full.deflate(request.select_deflate(&small)),
        Accept::new(),
    ] {
        let accepted = request
            .accept(&accept)
            .unwrap_or_else(|e| panic!("accepting what was offered failed: {e:?}"));
        assert_eq!(accepted.leftover, request.leftover());
        let mut client = ClientHandshake::with_nonce(&url, options.clone(), nonce)
            .unwrap_or_else(|e| panic!("the offers of an accepted request are invalid: {e:?}"));
        let mut bytes = accepted.to_bytes();
        bytes.extend_from_slice(b"\x81\x02hi");
        match client.receive(&bytes) {
            Ok(Status::Complete(established)) => {
                let (ours, theirs) = (&accepted.negotiated, &established.negotiated);
                assert_eq!(ours.protocol(), theirs.protocol());
                assert_eq!(ours.extensions(), theirs.extensions());
                match (ours.deflate(), theirs.deflate()) {
                    (None, None) => {}
                    (Some(server), Some(client)) => assert_deflate_compatible(server, client),
                    (a, b) => {
                        panic!("server and client disagree on permessage-deflate: {a:?} {b:?}")
                    }
                }
                assert_eq!(established.leftover, b"\x81\x02hi");
            }
            other => panic!(
                "the client refused our own 101: {other:?}\n{}",
                String::from_utf8_lossy(&accepted.to_bytes())
            ),
        }
    }
}

/// The window in bits that a `*_max_window_bits` value allows (none: 15).
fn bits(value: Option<u8>) -> u8 {
    value.map_or(15, |b| b.clamp(8, 15))
}

/// What the server and the client each took from one permessage-deflate agreement lets them
/// talk: each side's decompressor is at least as large as the other's compressor window, and a
/// side resets its decompressor only if the other resets its compressor.
pub fn assert_deflate_compatible(server: &DeflateParams, client: &DeflateParams) {
    assert!(
        bits(client.server_max_window_bits) >= bits(server.server_max_window_bits),
        "the client's decompressor is smaller than the server's window: {server:?} {client:?}"
    );
    assert!(
        bits(client.client_max_window_bits) <= bits(server.client_max_window_bits),
        "the client compresses with a larger window than the server reads: {server:?} {client:?}"
    );
    assert!(
        !client.server_no_context_takeover || server.server_no_context_takeover,
        "the client expects resets the server does not do: {server:?} {client:?}"
    );
    assert!(
        !server.client_no_context_takeover || client.client_no_context_takeover,
        "the server expects resets the client does not do: {server:?} {client:?}"
    );
}

/// A rejection has one of the policy's statuses and a well-formed response that a client
/// reads back as that refusal.
fn check_rejection(error: RequestError) {
    let status = error.status();
    assert!(
        [400, 403, 405, 426, 431, 505].contains(&status),
        "{error:?} has status {status}"
    );
    let bytes = error.response().to_bytes();
    assert!(bytes.starts_with(format!("HTTP/1.1 {status} ").as_bytes()));
    let url = Url::parse("ws://example.com/").expect("a valid URL");
    let mut client =
        ClientHandshake::with_nonce(&url, ClientOptions::new(), NONCE).expect("valid options");
    let response = match client.receive(&bytes) {
        Err(ClientError::Rejected(response)) => response,
        other => panic!(
            "a rejection is not read back as one: {other:?}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    assert_eq!(response.status(), status);
    assert_eq!(response.body(), error.description().as_bytes());
    match status {
        405 => assert_eq!(response.header("Allow"), Some("GET")),
        426 => assert_eq!(response.header("Sec-WebSocket-Version"), Some("13")),
        _ => {}
    }
    let connection = response.header("Connection").unwrap_or_default();
    assert!(
        connection
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("close")),
        "a rejection does not close: {connection:?}"
    );
}

// ---- client ----

/// The client's offers, picked by the flags.
fn client_options(flags: u8) -> ClientOptions {
    let mut options = ClientOptions::new().limits(limits(flags));
    if flags & 0x01 != 0 {
        options = options.protocol("chat");
    }
    if flags & 0x02 != 0 {
        options = options.protocol("superchat");
    }
    if flags & 0x04 != 0 {
        options = options.extension(
            Extension::new("permessage-deflate").with_param("client_max_window_bits", None),
        );
    }
    if flags & 0x08 != 0 {
        options = options.extension(Extension::new("x-foo").with_param("a", Some("1")));
    }
    options
}

/// Runs one fuzz input through a [`ClientHandshake`]: flags bit 0x10 ends the input with
/// `receive_eof`.
pub fn run_client(data: &[u8]) {
    let Some(input) = input(data) else { return };
    let eof = input.flags & 0x10 != 0;
    let whole = client_run(input.flags, input.bytes, &[], eof);
    let split = client_run(input.flags, input.bytes, &input.cuts, eof);
    match (&whole.result, &split.result) {
        (None, None) => {}
        (Some(Err(a)), Some(Err(b))) => assert_eq!(a, b),
        (Some(Ok(a)), Some(Ok(b))) => {
            assert_eq!(a.negotiated, b.negotiated);
            assert_eq!(a.response, b.response);
            let mut leftover = b.leftover.clone();
            leftover.extend_from_slice(&input.bytes[split.fed..]);
            assert_eq!(a.leftover, leftover);
        }
        (a, b) => panic!(
            "whole and split disagree: {:?} vs {:?}",
            a.as_ref().map(|r| r.as_ref().err()),
            b.as_ref().map(|r| r.as_ref().err())
        ),
    }
    match whole.result {
        Some(Ok(established)) => {
            let response = &established.response;
            assert_eq!(response.status(), 101);
            // RFC 6455 §4.1, checked again without the crate's grammar code.
            let headers = response.headers();
            let start = input.bytes.iter().position(|&b| b != b'\r' && b != b'\n');
            assert!(input.bytes[start.unwrap_or(0)..].starts_with(b"HTTP/1.1 101"));
            assert!(field_values(headers, "upgrade").any(|v| lists(v, "websocket")));
            assert!(field_values(headers, "connection").any(|v| lists(v, "upgrade")));
            assert_eq!(field_values(headers, "sec-websocket-accept").count(), 1);
            let chosen = field_values(headers, "sec-websocket-protocol")
                .flat_map(|v| v.split(|&b| b == b','))
                .filter(|e| !e.trim_ascii().is_empty())
                .count();
            assert_eq!(
                chosen,
                usize::from(established.negotiated.protocol().is_some())
            );
            let accept = response.header("Sec-WebSocket-Accept").map(str::trim);
            assert_eq!(accept, Some(accept_key(BASE64.encode(NONCE)).as_str()));
            let protocols = ["chat", "superchat"];
            if let Some(p) = established.negotiated.protocol() {
                let bit = if p == "chat" { 0x01 } else { 0x02 };
                assert!(
                    protocols.contains(&p) && input.flags & bit != 0,
                    "unoffered {p}"
                );
            }
            if let Some(value) = established.negotiated.extensions() {
                let list = Extension::parse_list(&value).expect("negotiated extensions parse");
                assert!(!list.is_empty());
                for e in list {
                    let bit = if e.name().eq_ignore_ascii_case("permessage-deflate") {
                        0x04
                    } else {
                        assert!(e.name().eq_ignore_ascii_case("x-foo"), "unoffered {e}");
                        0x08
                    };
                    assert!(input.flags & bit != 0, "unoffered {e}");
                }
            }
        }
        Some(Err(ClientError::Rejected(response))) => {
            // Any status but 1xx (a status outside 100-599 counts as a server error, as RFC
            // 9110 §15 asks).
            let status = response.status();
            assert!(
                !(100..200).contains(&status),
                "a refusal with status {status}"
            );
            assert!(response.body().len() <= limits(input.flags).max_body_bytes);
        }
        Some(Err(ClientError::Informational(status))) => {
            assert!((100..200).contains(&status) && status != 101);
        }
        Some(Err(ClientError::Finished)) => panic!("Finished from a fresh handshake"),
        Some(Err(_)) | None => {}
    }
}

fn client_run(
    flags: u8,
    bytes: &[u8],
    cuts: &[usize],
    eof: bool,
) -> Run<wsmachine::handshake::Established, ClientError> {
    let url = Url::parse("ws://example.com/chat").expect("a valid URL");
    let hs = std::cell::RefCell::new(
        ClientHandshake::with_nonce(&url, client_options(flags), NONCE).expect("valid options"),
    );
    let mut run = feed(
        bytes,
        cuts,
        |piece| hs.borrow_mut().receive(piece),
        || {
            let hs = hs.borrow();
            (hs.parse_attempts(), hs.bytes_scanned())
        },
    );
    match &run.result {
        Some(_) => {
            // Finished: later input is refused, the end of stream is fine.
            assert_eq!(hs.borrow_mut().receive(b"x"), Err(ClientError::Finished));
            assert_eq!(hs.borrow_mut().receive_eof(), Ok(()));
        }
        None if eof => {
            let result = hs.borrow_mut().receive_eof();
            let error = result.expect_err("an unfinished handshake cannot end cleanly");
            assert!(
                matches!(error, ClientError::UnexpectedEof | ClientError::Rejected(_)),
                "{error:?} at end of stream"
            );
            run.result = Some(Err(error));
        }
        None => {}
    }
    run
}

// ---- extension parameters ----

/// Runs one fuzz input through the `Sec-WebSocket-Extensions` grammar: the bytes up to the
/// first NUL are one header value, the rest a second one.
pub fn run_extension_params(data: &[u8]) {
    let (a, b) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
        return;
    };
    let list_a = check_list(a);
    let list_b = check_list(b);
    let joined = Extension::parse_list(&format!("{a}, {b}"));
    if let (Ok(la), Ok(lb)) = (&list_a, &list_b) {
        let mut both = la.clone();
        both.extend(lb.iter().cloned());
        assert_eq!(joined.as_ref(), Ok(&both), "{a:?} joined with {b:?}");
    }
    // permessage-deflate: what a server agrees to for these offers, a client that made them
    // accepts, and both ends can then talk.
    if let Ok(offers) = &list_a {
        check_deflate_negotiation(offers, b.as_bytes());
    }
    // The same values as two header lines, at a server and at a client: merged in order as if
    // comma-joined, or refused as malformed.
    if header_safe(a) && header_safe(b) {
        let merged = match (&list_a, &list_b) {
            (Ok(la), Ok(lb)) => {
                let mut all = la.clone();
                all.extend(lb.iter().cloned());
                Some(all)
            }
            _ => None,
        };
        server_sees(a, b, merged.as_deref());
        client_sees(a, b, merged.as_deref());
    }
}

/// Parses one value and checks what it gives: tokens everywhere, and a canonical form that
/// parses to the same list.
fn check_list(value: &str) -> Result<Vec<Extension>, ()> {
    let list = Extension::parse_list(value).map_err(|_| ())?;
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    for e in &list {
        assert!(is_token(e.name()), "name {:?} from {value:?}", e.name());
        for (i, (name, v)) in e.params().iter().enumerate() {
            assert!(is_token(name), "param {name:?} from {value:?}");
            assert!(
                v.as_deref().is_none_or(is_token),
                "value {v:?} from {value:?}"
            );
            // `param` finds the first parameter of that name, case aside.
            let first = e.params()[..=i]
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(name))
                .expect("itself at least");
            assert_eq!(e.param(name), Some(e.params()[first].1.as_deref()));
        }
        assert_eq!(Extension::parse_list(&e.to_string()), Ok(vec![e.clone()]));
    }
    let canonical: Vec<String> = list.iter().map(ToString::to_string).collect();
    assert_eq!(
        Extension::parse_list(&canonical.join(", ")).as_ref(),
        Ok(&list),
        "canonical form of {value:?}"
    );
    // Empty list elements are skipped.
    assert_eq!(
        Extension::parse_list(&format!(", {value} ,,")).as_ref(),
        Ok(&list)
    );
    Ok(list)
}

/// Whether `value` can be sent as a header value as is.
fn header_safe(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7F).contains(&b))
}

fn server_sees(a: &str, b: &str, merged: Option<&[Extension]>) {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {a}\r\nSec-WebSocket-Extensions: {b}\r\n\r\n"
    );
    match (
        ServerHandshake::default().receive(request.as_bytes()),
        merged,
    ) {
        (Ok(Status::Complete(r)), Some(list)) => assert_eq!(r.extensions(), list),
        (Err(RequestError::MalformedExtensions), None) => {}
        (other, expected) => panic!("server: {other:?}, expected {expected:?} for {a:?} / {b:?}"),
    }
}

/// Server options from `knobs`, negotiated against `offers`; the response must satisfy the
/// client that made the offers, compatibly.
fn check_deflate_negotiation(offers: &[Extension], knobs: &[u8]) {
    let knob = |i: usize| knobs.get(i).copied().unwrap_or(0);
    let mut options = DeflateOptions::new();
    options.server_no_context_takeover = knob(0) & 1 != 0;
    options.client_no_context_takeover = knob(0) & 2 != 0;
    options.server_max_window_bits = (knob(1) != 0).then_some(knob(1) % 10 + 7);
    options.client_max_window_bits = (knob(2) != 0).then_some(knob(2) % 10 + 7);
    let Some(server) = options.negotiate(offers) else {
        return;
    };
    let response = server.to_extension();
    assert_eq!(
        Extension::parse_list(&response.to_string()),
        Ok(vec![response.clone()]),
        "the response element does not parse back"
    );
    let client = DeflateParams::from_response(&response, offers).unwrap_or_else(|e| {
        panic!("a client refuses our answer {response} to its offers {offers:?}: {e:?}")
    });
    assert_deflate_compatible(&server, &client);
}

fn client_sees(a: &str, b: &str, merged: Option<&[Extension]>) {
    let url = Url::parse("ws://example.com/").expect("a valid URL");
    // Offer every name the values use, so only the syntax decides.
    let mut options = ClientOptions::new();
    for e in merged.unwrap_or_default() {
        options = options.extension(Extension::new(e.name()));
    }
    let mut client = ClientHandshake::with_nonce(&url, options, NONCE).expect("valid offers");
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {a}\r\n\
         Sec-WebSocket-Extensions: {b}\r\n\r\n",
        accept_key(client.key())
    );
    match (client.receive(response.as_bytes()), merged) {
        (Ok(Status::Complete(established)), Some(list)) => {
            // permessage-deflate becomes typed parameters; the others stay as sent, in order.
            let negotiated = &established.negotiated;
            let (deflate, others): (Vec<_>, Vec<_>) = list
                .iter()
                .cloned()
                .partition(|e| e.name().eq_ignore_ascii_case(EXTENSION_NAME));
            assert_eq!(negotiated.deflate().is_some(), !deflate.is_empty());
            assert_eq!(negotiated.other_extensions(), others.as_slice());
            // The header value is derived from them: the others in order, then
            // permessage-deflate (the canonical form `Negotiated` documents).
            let mut canonical = others;
            canonical.extend(negotiated.deflate().map(DeflateParams::to_extension));
            let value = negotiated.extensions().unwrap_or_default();
            assert_eq!(Extension::parse_list(&value), Ok(canonical));
        }
        (Err(ClientError::MalformedExtensions), None) => {}
        // A permessage-deflate element is also held to RFC 7692's rules for responses.
        (Err(ClientError::Deflate(_)), Some(list))
            if list
                .iter()
                .any(|e| e.name().eq_ignore_ascii_case(EXTENSION_NAME)) => {}
        (other, expected) => panic!("client: {other:?}, expected {expected:?} for {a:?} / {b:?}"),
    }
}
