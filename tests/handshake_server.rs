//! The server side of the opening handshake: every rejection of the policy table, the edge
//! cases of the header grammar, the request view, accepting, bounds and pipelined bytes.

use wsmachine::handshake::{
    Accept, Bootstrap, BuildError, Extension, HandshakeLimits, OriginPolicy, Request, RequestError,
    ServerHandshake, Status,
};

/// A valid request (RFC 6455 §1.2, without the optional fields).
const VALID: &str = "GET /chat HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// `VALID` with the field called `name` replaced by `line` (or removed if `line` is empty),
/// or `line` added before the end when no field is called `name`.
fn with(name: &str, line: &str) -> String {
    let mut out = String::new();
    let mut replaced = false;
    for l in VALID.split_inclusive("\r\n") {
        if l == "\r\n" {
            if !replaced && !line.is_empty() {
                out.push_str(line);
                out.push_str("\r\n");
            }
            out.push_str(l);
        } else if l
            .split(':')
            .next()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
        {
            if !replaced && !line.is_empty() {
                out.push_str(line);
                out.push_str("\r\n");
            }
            replaced = true;
        } else {
            out.push_str(l);
        }
    }
    out
}

/// Feeds `bytes` in one call, then one byte at a time, and checks both give the same result;
/// returns it.
fn receive(bytes: &[u8]) -> Result<Request, RequestError> {
    receive_with(ServerHandshake::default, bytes)
}

fn receive_with(new: impl Fn() -> ServerHandshake, bytes: &[u8]) -> Result<Request, RequestError> {
    let mut whole = new();
    let result = match whole.receive(bytes) {
        Ok(Status::Complete(request)) => Ok(request),
        Ok(Status::Partial) => panic!("incomplete: {:?}", String::from_utf8_lossy(bytes)),
        Err(e) => Err(e),
    };
    assert!(whole.parse_attempts() <= 1);

    let mut bytewise = new();
    let mut split_result = None;
    for (i, b) in bytes.iter().enumerate() {
        match bytewise.receive(std::slice::from_ref(b)) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(request)) => {
                // The header block ends with the last byte.
                assert_eq!(i + 1, bytes.len(), "complete early, at byte {i}");
                split_result = Some(Ok(request));
            }
            // Errors may come early: garbage and oversized blocks are refused at once.
            Err(e) => split_result = Some(Err(e)),
        }
        break;
    }
    assert_eq!(
        split_result.as_ref(),
        Some(&result),
        "byte-at-a-time differs"
    );
    assert!(bytewise.parse_attempts() <= 1);
    assert!(bytewise.bytes_scanned() <= 3 * bytes.len());
    result
}

#[test]
fn valid_request() {
    let request = receive(VALID.as_bytes()).unwrap();
    assert_eq!(request.resource(), "/chat");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), None);
    assert_eq!(request.host(), "server.example.com");
    assert_eq!(request.origin(), None);
    assert!(request.protocols().is_empty());
    assert!(request.extensions().is_empty());
    assert_eq!(request.key(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(request.leftover(), b"");
    assert_eq!(request.headers().len(), 5);
    // An HTTP/1.1 upgrade knows its key, and is answered with a 101.
    let http1 = Bootstrap::Http1 {
        key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
    };
    assert_eq!(request.bootstrap(), &http1);
    assert_eq!(request.bootstrap().key(), request.key());
    assert!(!request.bootstrap().is_extended_connect());
}

/// Accepting gives one value: the status and fields of the response, which render as the
/// bytes to write, the negotiated value and the leftover.
#[test]
fn accepted_value() {
    let mut bytes = with("x", "Sec-WebSocket-Protocol: chat").into_bytes();
    bytes.extend_from_slice(b"\x81\x00");
    let Ok(Status::Complete(request)) = ServerHandshake::new().receive(&bytes) else {
        panic!()
    };
    let accepted = request
        .accept(&Accept::new().protocol("chat").header("X-A", "1"))
        .unwrap();
    assert_eq!(accepted.status(), 101);
    assert!(matches!(accepted.bootstrap(), Bootstrap::Http1 { .. }));
    let fields: Vec<(&str, &str)> = accepted
        .headers()
        .iter()
        .map(|h| (h.name(), h.value_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("Sec-WebSocket-Protocol", "chat"),
            ("X-A", "1"),
        ]
    );
    assert_eq!(accepted.header("sec-websocket-protocol"), Some("chat"));
    assert_eq!(accepted.header("x-missing"), None);
    let mut expected = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
    for (name, value) in fields {
        expected.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    expected.extend_from_slice(b"\r\n");
    assert_eq!(accepted.to_bytes(), expected);
    assert_eq!(accepted.negotiated.protocol(), Some("chat"));
    assert_eq!(accepted.leftover, b"\x81\x00");
}

/// The builder: `new()` takes nothing and equals `default()`; `limits` and `origin_policy`
/// each set their own part, in either order.
#[test]
fn builder() {
    let mut limits = HandshakeLimits::default();
    limits.max_headers = 6;
    let seven = with("x", "X-Six: 6\r\nX-Seven: 7");
    let evil = with("x", "Origin: https://evil.example");
    let policy = || OriginPolicy::allow_list(["https://good.example"]);
    for new in [
        (|| ServerHandshake::new()) as fn() -> ServerHandshake,
        ServerHandshake::default,
    ] {
        assert!(receive_with(new, seven.as_bytes()).is_ok());
        assert!(receive_with(new, evil.as_bytes()).is_ok());
    }
    let limits_first = || {
        ServerHandshake::new()
            .limits(limits.clone())
            .origin_policy(policy())
    };
    let policy_first = || {
        ServerHandshake::new()
            .origin_policy(policy())
            .limits(limits.clone())
    };
    for new in [&limits_first as &dyn Fn() -> ServerHandshake, &policy_first] {
        assert_eq!(
            receive_with(new, seven.as_bytes()).err(),
            Some(RequestError::HeadersTooLarge)
        );
        assert_eq!(
            receive_with(new, evil.as_bytes()).err(),
            Some(RequestError::ForbiddenOrigin)
        );
        assert!(receive_with(new, VALID.as_bytes()).is_ok());
    }
}

#[test]
fn rejections() {
    use RequestError::*;
    let garbage_tls: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    let too_many_headers = with("host", &format!("Host: x{}", "\r\nX-A: 1".repeat(64)));
    let big = with(
        "host",
        &format!("Host: x\r\nCookie: {}", "a".repeat(64 * 1024)),
    );
    let cases: Vec<(&str, Vec<u8>, RequestError, u16)> = vec![
        ("POST", VALID.replacen("GET", "POST", 1).into(), MethodNotAllowed, 405),
        ("get in lower case", VALID.replacen("GET", "get", 1).into(), MethodNotAllowed, 405),
        ("HTTP/1.0", VALID.replacen("HTTP/1.1", "HTTP/1.0", 1).into(), HttpVersion, 505),
        ("HTTP/2.0 as text", VALID.replacen("HTTP/1.1", "HTTP/2.0", 1).into(), HttpVersion, 505),
        ("missing Host", with("host", "").into(), MissingHost, 400),
        ("empty Host", with("host", "Host:").into(), MissingHost, 400),
        ("repeated Host", with("host", "Host: a\r\nHost: b").into(), DuplicateHost, 400),
        ("missing Upgrade", with("upgrade", "").into(), MissingUpgrade, 400),
        ("Upgrade: h2c", with("upgrade", "Upgrade: h2c").into(), MissingUpgrade, 400),
        ("Upgrade: websocket2", with("upgrade", "Upgrade: websocket2").into(), MissingUpgrade, 400),
        ("missing Connection", with("connection", "").into(), MissingConnectionUpgrade, 400),
        (
            "Connection: keep-alive",
            with("connection", "Connection: keep-alive").into(),
            MissingConnectionUpgrade,
            400,
        ),
        ("version 8", with("sec-websocket-version", "Sec-WebSocket-Version: 8").into(), UnsupportedVersion, 426),
        ("version 13, 8", with("sec-websocket-version", "Sec-WebSocket-Version: 13, 8").into(), UnsupportedVersion, 426),
        ("missing version", with("sec-websocket-version", "").into(), UnsupportedVersion, 426),
        (
            "repeated version",
            with("sec-websocket-version", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13").into(),
            DuplicateVersion,
            400,
        ),
        ("missing key", with("sec-websocket-key", "").into(), MissingKey, 400),
        (
            "repeated key",
            with(
                "sec-websocket-key",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            )
            .into(),
            DuplicateKey,
            400,
        ),
        ("key of 12 bytes", with("sec-websocket-key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAA").into(), InvalidKey, 400),
        ("key not base64", with("sec-websocket-key", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==").into(), InvalidKey, 400),
        ("empty key", with("sec-websocket-key", "Sec-WebSocket-Key:").into(), InvalidKey, 400),
        ("Content-Length: 5", with("x", "Content-Length: 5").into(), UnexpectedBody, 400),
        ("Content-Length: junk", with("x", "Content-Length: five").into(), UnexpectedBody, 400),
        ("Transfer-Encoding", with("x", "Transfer-Encoding: chunked").into(), UnexpectedBody, 400),
        ("protocol not a token", with("x", "Sec-WebSocket-Protocol: a b").into(), MalformedProtocols, 400),
        ("bad extensions", with("x", "Sec-WebSocket-Extensions: foo; bar=\"a b\"").into(), MalformedExtensions, 400),
        ("repeated Origin", with("x", "Origin: http://a\r\nOrigin: http://b").into(), DuplicateOrigin, 400),
        ("fragment in target", VALID.replacen("/chat", "/chat#x", 1).into(), BadTarget, 400),
        ("asterisk target", VALID.replacen("/chat", "*", 1).into(), BadTarget, 400),
        ("TLS ClientHello", garbage_tls.to_vec(), Malformed, 400),
        ("JSON", b"{\"hello\": \"world\"}\r\n\r\n".to_vec(), Malformed, 400),
        ("words", b"hello world\r\n\r\n".to_vec(), Malformed, 400),
        ("space before method", b" GET / HTTP/1.1\r\n\r\n".to_vec(), Malformed, 400),
        ("bad header line", with("x", "Bad Header").into(), Malformed, 400),
        ("header without colon", with("x", "NoColon").into(), Malformed, 400),
        ("65 headers", too_many_headers.into(), HeadersTooLarge, 431),
        ("64 KiB header block", big.into(), HeadersTooLarge, 431),
    ];
    for (name, bytes, error, status) in cases {
        assert_eq!(receive(&bytes).err(), Some(error), "{name}");
        assert_eq!(error.status(), status, "{name}");
        let response = error.response();
        assert_eq!(response.status(), status, "{name}");
        let text = String::from_utf8(response.to_bytes()).unwrap();
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status} ")),
            "{name}: {text}"
        );
        assert!(text.ends_with(error.description()), "{name}: {text}");
    }
}

#[test]
fn rejection_responses_are_byte_exact() {
    assert_eq!(
        RequestError::MethodNotAllowed.response().to_bytes(),
        b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n\
          Content-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\n\
          Connection: close\r\n\r\na WebSocket upgrade must use GET"
    );
    assert_eq!(
        RequestError::UnsupportedVersion.response().to_bytes(),
        b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\
          Content-Type: text/plain; charset=utf-8\r\nContent-Length: 33\r\n\
          Connection: Upgrade, close\r\n\r\nSec-WebSocket-Version 13 required"
    );
    assert_eq!(
        RequestError::HeadersTooLarge.response().to_bytes(),
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n\
          Content-Type: text/plain; charset=utf-8\r\nContent-Length: 30\r\n\
          Connection: close\r\n\r\nrequest header block too large"
    );
}

#[test]
fn accepted_edge_cases() {
    let cases: Vec<(&str, String)> = vec![
        (
            "names in odd case",
            VALID
                .replace("Host:", "hOsT:")
                .replace("Upgrade: websocket", "uPGRADE: websocket")
                .replace("Connection:", "CONNECTION:")
                .replace("Sec-WebSocket-Key:", "sec-websocket-KEY:")
                .replace("Sec-WebSocket-Version:", "SEC-WEBSOCKET-VERSION:"),
        ),
        ("Upgrade: WebSocket", with("upgrade", "Upgrade: WebSocket")),
        ("Upgrade: WEBSOCKET", with("upgrade", "Upgrade: WEBSOCKET")),
        ("Upgrade list", with("upgrade", "Upgrade: h2c, websocket")),
        (
            "Upgrade on two lines",
            with("upgrade", "Upgrade: h2c\r\nUpgrade: websocket"),
        ),
        (
            "Connection: keep-alive, Upgrade",
            with("connection", "Connection: keep-alive, Upgrade"),
        ),
        (
            "pathological token list",
            with("connection", "Connection: ,,\t,  , ,Upgrade  ,,"),
        ),
        (
            "Connection on two lines",
            with(
                "connection",
                "Connection: keep-alive\r\nConnection: upgrade",
            ),
        ),
        (
            "whitespace around values",
            with(
                "sec-websocket-key",
                "Sec-WebSocket-Key: \t dGhlIHNhbXBsZSBub25jZQ== \t",
            ),
        ),
        ("Content-Length: 0", with("x", "Content-Length: 0")),
        ("bare LF line ends", VALID.replace("\r\n", "\n")),
        ("leading empty lines", format!("\r\n\r\n{VALID}")),
        (
            "absolute-form target",
            VALID.replacen("/chat", "http://server.example.com/chat", 1),
        ),
        (
            "HTTP/1.1 header values with obs-text",
            with("x", "X-Latin1: caf\u{e9}"),
        ),
    ];
    for (name, request) in cases {
        let request = receive(request.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(request.path(), "/chat", "{name}");
        assert_eq!(request.key(), Some("dGhlIHNhbXBsZSBub25jZQ=="), "{name}");
    }
}

#[test]
fn request_view() {
    let bytes = with(
        "x",
        "Origin: https://example.com\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Protocol: v2.chat\r\n\
         Sec-WebSocket-Extensions: foo\r\n\
         Sec-WebSocket-Extensions: bar; baz=2, qux; q=\"x\"; flag\r\n\
         Cookie: session=abc\r\n\
         Authorization: Bearer t0k3n",
    )
    .replacen("/chat", "/chat/room?id=7&x", 1);
    let request = receive(bytes.as_bytes()).unwrap();
    assert_eq!(request.resource(), "/chat/room?id=7&x");
    assert_eq!(request.path(), "/chat/room");
    assert_eq!(request.query(), Some("id=7&x"));
    assert_eq!(request.origin(), Some("https://example.com"));
    assert_eq!(request.protocols(), ["chat", "superchat", "v2.chat"]);
    // Two lines merge as if comma-joined.
    let joined = Extension::parse_list("foo, bar; baz=2, qux; q=x; flag").unwrap();
    assert_eq!(request.extensions(), joined.as_slice());
    assert_eq!(request.extensions()[1].param("baz"), Some(Some("2")));
    assert_eq!(request.extensions()[2].param("flag"), Some(None));
    assert_eq!(request.header("cookie"), Some("session=abc"));
    assert_eq!(request.header("AUTHORIZATION"), Some("Bearer t0k3n"));
    assert_eq!(request.header("x-missing"), None);
    let names: Vec<&str> = request.headers().iter().map(|h| h.name()).collect();
    assert_eq!(names[..2], ["Host", "Upgrade"]);
    assert_eq!(
        request.select_protocol(&["v2.chat", "chat"]),
        Some("v2.chat")
    );
    assert_eq!(request.select_protocol(&["mqtt"]), None);
    assert_eq!(request.select_protocol::<&str>(&[]), None);
}

#[test]
fn rfc_sample_response_is_byte_exact() {
    // RFC 6455 §1.2 / §1.3.
    let bytes = with(
        "x",
        "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat",
    );
    let request = receive(bytes.as_bytes()).unwrap();
    let protocol = request.select_protocol(&["chat"]);
    let accepted = request.accept(&Accept::new().protocol(protocol)).unwrap();
    assert_eq!(
        accepted.to_bytes(),
        b"HTTP/1.1 101 Switching Protocols\r\n\
          Upgrade: websocket\r\n\
          Connection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
          Sec-WebSocket-Protocol: chat\r\n\r\n"
    );
    assert_eq!(accepted.negotiated.protocol(), Some("chat"));
    assert_eq!(accepted.negotiated.extensions().as_deref(), None);
    assert!(accepted.leftover.is_empty());
}

#[test]
fn accept_with_extensions_and_headers() {
    let bytes = with(
        "x",
        "Sec-WebSocket-Extensions: x-compress; window_bits, x-foo",
    );
    let request = receive(bytes.as_bytes()).unwrap();
    let accept = Accept::new()
        .extension(Extension::new("x-compress").with_param("window_bits", Some("10")))
        .header("Set-Cookie", "id=1");
    let accepted = request.accept(&accept).unwrap();
    assert_eq!(
        accepted.to_bytes(),
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
          Sec-WebSocket-Extensions: x-compress; window_bits=10\r\n\
          Set-Cookie: id=1\r\n\r\n"
    );
    assert_eq!(
        accepted.negotiated.extensions().as_deref(),
        Some("x-compress; window_bits=10")
    );
}

/// Regression (found by the handshake fuzz target): accepting permessage-deflate as a generic
/// extension would make the server's connection disagree with the client about compression.
#[test]
fn permessage_deflate_is_not_accepted_as_a_generic_extension() {
    let bytes = with(
        "x",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
    );
    let request = receive(bytes.as_bytes()).unwrap();
    for name in ["permessage-deflate", "Permessage-Deflate"] {
        let accept = Accept::new().extension(Extension::new(name));
        assert_eq!(
            request.accept(&accept).unwrap_err(),
            BuildError::DeflateAsExtension
        );
    }
}

#[test]
fn accept_caller_errors() {
    let bytes = with(
        "x",
        "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: foo",
    );
    let request = receive(bytes.as_bytes()).unwrap();
    for (accept, error) in [
        (
            Accept::new().protocol("superchat"),
            BuildError::UnofferedProtocol,
        ),
        (
            Accept::new().protocol("CHAT"),
            BuildError::UnofferedProtocol,
        ),
        (
            Accept::new().extension(Extension::new("bar")),
            BuildError::UnofferedExtension,
        ),
        (
            Accept::new().extension(Extension::new("foo").with_param("a b", None)),
            BuildError::InvalidExtension,
        ),
        (
            Accept::new().header("Sec-WebSocket-Accept", "x"),
            BuildError::ReservedHeader,
        ),
        (
            Accept::new().header("connection", "close"),
            BuildError::ReservedHeader,
        ),
        (
            Accept::new().header("Sec-WebSocket-Protocol", "chat"),
            BuildError::ReservedHeader,
        ),
        (
            Accept::new().header("X-A", "1\r\n\r\ninjected"),
            BuildError::InvalidHeaderValue,
        ),
        (
            Accept::new().header("X A", "1"),
            BuildError::InvalidHeaderName,
        ),
    ] {
        assert_eq!(request.accept(&accept), Err(error), "{accept:?}");
    }
    // None of them is a problem when not asked for.
    assert!(request.accept(&Accept::new().protocol(None)).is_ok());
    assert!(
        request
            .accept(
                &Accept::new()
                    .protocol("chat")
                    .extension(Extension::new("FOO"))
            )
            .is_ok()
    );
}

#[test]
fn application_rejection() {
    use wsmachine::handshake::Response;
    let response = Response::new(401)
        .and_then(|r| r.with_header("WWW-Authenticate", "Bearer realm=\"chat\""))
        .unwrap()
        .with_body("token required");
    assert_eq!(
        response.to_bytes(),
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"chat\"\r\n\
          Content-Length: 14\r\nConnection: close\r\n\r\ntoken required"
    );
    assert_eq!(Response::new(101).err(), Some(BuildError::InvalidStatus));
    assert_eq!(
        Response::new(403)
            .unwrap()
            .with_header("Content-Length", "3")
            .err(),
        Some(BuildError::ReservedHeader)
    );
}

#[test]
fn origin_policy_rejects_with_403() {
    let allow = || {
        ServerHandshake::default().origin_policy(OriginPolicy::allow_list(["https://good.example"]))
    };
    let good = with("x", "Origin: https://good.example");
    let evil = with("x", "Origin: https://evil.example");
    assert!(receive_with(allow, good.as_bytes()).is_ok());
    assert!(
        receive_with(allow, VALID.as_bytes()).is_ok(),
        "no Origin: not a browser"
    );
    let error = receive_with(allow, evil.as_bytes()).unwrap_err();
    assert_eq!(error, RequestError::ForbiddenOrigin);
    assert!(
        error
            .response()
            .to_bytes()
            .starts_with(b"HTTP/1.1 403 Forbidden\r\n")
    );

    let browsers_only =
        || ServerHandshake::default().origin_policy(OriginPolicy::predicate(|o| o.is_some()));
    assert_eq!(
        receive_with(browsers_only, VALID.as_bytes()).err(),
        Some(RequestError::ForbiddenOrigin)
    );
}

#[test]
fn big_header_block_fed_bytewise_is_linear() {
    // 64 KiB without an end: refused as soon as the 16 KiB limit is passed, never parsed.
    let block = with(
        "host",
        &format!("Host: x\r\nCookie: {}", "a".repeat(64 * 1024)),
    );
    let mut handshake = ServerHandshake::default();
    let mut fed = 0;
    let mut outcome = None;
    for b in block.as_bytes() {
        fed += 1;
        match handshake.receive(std::slice::from_ref(b)) {
            Ok(Status::Partial) => {}
            other => {
                outcome = Some(other);
                break;
            }
        }
    }
    assert_eq!(outcome, Some(Err(RequestError::HeadersTooLarge)));
    assert_eq!(fed, 16 * 1024, "rejected as soon as the limit was passed");
    assert_eq!(handshake.parse_attempts(), 0);
    assert!(handshake.bytes_scanned() <= 3 * fed);
    assert_eq!(handshake.receive(b"x"), Err(RequestError::Finished));

    // Just under the limit, byte by byte: one parse, linear scanning.
    let limit = 16 * 1024;
    let filler = limit - VALID.len() - "Cookie: \r\n".len();
    let block = with("x", &format!("Cookie: {}", "a".repeat(filler)));
    assert_eq!(block.len(), limit);
    let request = receive(block.as_bytes()).unwrap();
    assert_eq!(request.header("cookie").map(str::len), Some(filler));
    // One byte more is too much.
    let block = with("x", &format!("Cookie: {}", "a".repeat(filler + 1)));
    assert_eq!(
        receive(block.as_bytes()).err(),
        Some(RequestError::HeadersTooLarge)
    );
}

#[test]
fn limits_are_configurable() {
    let mut limits = HandshakeLimits::default();
    limits.max_headers = 5;
    let five = || ServerHandshake::new().limits(limits.clone());
    assert!(receive_with(five, VALID.as_bytes()).is_ok());
    let six = with("x", "X-Six: 6");
    assert_eq!(
        receive_with(five, six.as_bytes()).err(),
        Some(RequestError::HeadersTooLarge)
    );

    let mut limits = HandshakeLimits::default();
    limits.max_header_bytes = VALID.len();
    let exact = || ServerHandshake::new().limits(limits.clone());
    assert!(receive_with(exact, VALID.as_bytes()).is_ok());
    let mut limits = HandshakeLimits::default();
    limits.max_header_bytes = VALID.len() - 1;
    let short = || ServerHandshake::new().limits(limits.clone());
    assert_eq!(
        receive_with(short, VALID.as_bytes()).err(),
        Some(RequestError::HeadersTooLarge)
    );
}

#[test]
fn pipelined_bytes_are_never_lost() {
    let frames: Vec<u8> = (0..=255u8).chain(*b"\r\n\r\n").collect();
    let mut input = VALID.as_bytes().to_vec();
    input.extend_from_slice(&frames);
    // Split the input in two at every point: whatever follows the header block, in the call
    // that completes it and in later reads, is exactly `frames`.
    for split in 1..input.len() {
        let mut handshake = ServerHandshake::default();
        let (first, second) = input.split_at(split);
        let (request, rest) = match handshake.receive(first) {
            Ok(Status::Complete(request)) => (request, second),
            Ok(Status::Partial) => match handshake.receive(second) {
                Ok(Status::Complete(request)) => (request, &[][..]),
                other => panic!("split {split}: {other:?}"),
            },
            Err(e) => panic!("split {split}: {e}"),
        };
        let accepted = request.accept(&Accept::new()).unwrap();
        let mut after = accepted.leftover.clone();
        after.extend_from_slice(rest);
        assert_eq!(after, frames, "split {split}");
        assert_eq!(handshake.receive(b"more"), Err(RequestError::Finished));
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `input` cut at `cuts`; returns the request and every byte after the header block.
    fn feed(input: &[u8], cuts: &[usize]) -> (Result<Request, RequestError>, Vec<u8>, u32) {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        cuts.push(input.len());
        cuts.sort_unstable();
        let mut handshake = ServerHandshake::default();
        let mut start = 0;
        let mut result = None;
        let mut after = Vec::new();
        for cut in cuts {
            let piece = &input[start..cut];
            start = cut;
            if result.is_some() {
                after.extend_from_slice(piece); // the driver's next reads go to the connection
                continue;
            }
            match handshake.receive(piece) {
                Ok(Status::Partial) => {}
                Ok(Status::Complete(request)) => {
                    after.extend_from_slice(request.leftover());
                    result = Some(Ok(request));
                }
                Err(e) => result = Some(Err(e)),
            }
        }
        (
            result.expect("incomplete"),
            after,
            handshake.parse_attempts(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_split_gives_the_same_request_and_leftover(
            cuts in proptest::collection::vec(any::<usize>(), 0..10),
            frames in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut input = with("x", "Sec-WebSocket-Protocol: chat, superchat\r\nCookie: a=b").into_bytes();
            input.extend_from_slice(&frames);
            let (whole, whole_after, _) = feed(&input, &[]);
            let (split, split_after, attempts) = feed(&input, &cuts);
            let (whole, split) = (whole.unwrap(), split.unwrap());
            prop_assert_eq!(split.headers(), whole.headers());
            prop_assert_eq!(split.protocols(), ["chat", "superchat"]);
            prop_assert_eq!(&whole_after, &frames);
            prop_assert_eq!(&split_after, &frames);
            prop_assert_eq!(attempts, 1);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
            chunk in 1usize..64,
        ) {
            let mut handshake = ServerHandshake::default();
            for piece in bytes.chunks(chunk) {
                if handshake.receive(piece) != Ok(Status::Partial) {
                    break;
                }
            }
            prop_assert!(handshake.parse_attempts() <= 1);
            prop_assert!(handshake.bytes_scanned() <= 3 * bytes.len());
        }

        #[test]
        fn mutated_requests_never_panic(
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
            cuts in proptest::collection::vec(any::<usize>(), 0..4),
        ) {
            let mut input = with("x", "Origin: http://a\r\nSec-WebSocket-Extensions: foo; bar=\"1\"").into_bytes();
            for (index, byte) in edits {
                let i = index.index(input.len());
                input[i] = byte;
            }
            input.extend_from_slice(b"\r\n\r\n"); // so that the block always ends
            let (result, _, attempts) = feed(&input, &cuts);
            prop_assert!(attempts <= 1);
            if let Err(e) = result {
                // Every rejection has a well-formed response.
                let response = e.response().to_bytes();
                prop_assert!(response.starts_with(b"HTTP/1.1 "));
            }
        }
    }
}
