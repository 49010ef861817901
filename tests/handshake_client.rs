//! The client side of the opening handshake: the request, and every check of the server's
//! response (RFC 6455 §4.1).

use wsmachine::handshake::{
    BuildError, ClientError, ClientHandshake, ClientOptions, Extension, HandshakeLimits, Status,
    Url, accept_key,
};
use wsmachine::{FixedMask, MaskSource};

/// The RFC 6455 §1.2 sample nonce, so the key is `dGhlIHNhbXBsZSBub25jZQ==`.
const NONCE: [u8; 16] = *b"the sample nonce";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn handshake(options: ClientOptions) -> ClientHandshake {
    let url = Url::parse("ws://server.example.com/chat").unwrap();
    ClientHandshake::with_nonce(&url, options, NONCE).unwrap()
}

fn offers() -> ClientOptions {
    ClientOptions::new()
        .protocol("chat")
        .protocol("superchat")
        .extension(Extension::new("permessage-deflate").with_param("client_max_window_bits", None))
}

/// A 101 response with the right accept value plus `extra` lines.
fn switching(extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
    )
}

/// Feeds `bytes` whole and then one byte at a time (then EOF, if still waiting) to fresh
/// handshakes made by `options`; both must agree. Returns the result.
fn receive(
    options: ClientOptions,
    bytes: &[u8],
) -> Result<Status<wsmachine::handshake::Established>, ClientError> {
    let mut whole = handshake(options.clone());
    let mut result = whole.receive(bytes);
    if result == Ok(Status::Partial) {
        result = whole.receive_eof().map(|()| Status::Partial);
    }
    assert!(whole.parse_attempts() <= 1);

    let mut bytewise = handshake(options);
    let mut split = Ok(Status::Partial);
    for b in bytes {
        split = bytewise.receive(std::slice::from_ref(b));
        if split != Ok(Status::Partial) {
            break;
        }
    }
    if split == Ok(Status::Partial) {
        split = bytewise.receive_eof().map(|()| Status::Partial);
    }
    assert!(bytewise.parse_attempts() <= 1);
    assert!(bytewise.bytes_scanned() <= 3 * bytes.len());
    assert_eq!(split, result, "byte-at-a-time differs");
    result
}

#[test]
fn request_bytes() {
    let options = offers()
        .origin("http://example.com")
        .header("Cookie", "session=1")
        .header("Authorization", "Bearer t");
    assert_eq!(
        String::from_utf8(handshake(options).request_bytes().to_vec()).unwrap(),
        "GET /chat HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Origin: http://example.com\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Cookie: session=1\r\n\
         Authorization: Bearer t\r\n\r\n"
    );
}

#[test]
fn request_line_and_host_follow_the_url() {
    for (url, request_line, host) in [
        ("ws://h", "GET / HTTP/1.1", "h"),
        ("ws://h:80/a?b=c", "GET /a?b=c HTTP/1.1", "h"),
        ("wss://h:443?q", "GET /?q HTTP/1.1", "h"),
        ("wss://h:8443/", "GET / HTTP/1.1", "h:8443"),
        ("ws://[::1]:9001/x", "GET /x HTTP/1.1", "[::1]:9001"),
        ("ws://10.0.0.1:80", "GET / HTTP/1.1", "10.0.0.1"),
    ] {
        let url = Url::parse(url).unwrap();
        let hs = ClientHandshake::with_nonce(&url, ClientOptions::new(), NONCE).unwrap();
        let text = String::from_utf8(hs.request_bytes().to_vec()).unwrap();
        assert!(
            text.starts_with(&format!("{request_line}\r\nHost: {host}\r\n")),
            "{text}"
        );
    }
}

#[test]
fn nonce_comes_from_the_mask_source() {
    let url = Url::parse("ws://h/").unwrap();
    let mut masks = FixedMask([1, 2, 3, 4]);
    let hs = ClientHandshake::with_mask_source(&url, ClientOptions::new(), &mut masks).unwrap();
    assert_eq!(hs.key(), "AQIDBAECAwQBAgMEAQIDBA==");
    // Through a trait object, as a driver holding `Box<dyn MaskSource>` would.
    let masks: &mut dyn MaskSource = &mut masks;
    let hs2 = ClientHandshake::with_mask_source(&url, ClientOptions::new(), masks).unwrap();
    assert_eq!(hs2.key(), hs.key());
    #[cfg(feature = "getrandom")]
    {
        let mut os = wsmachine::OsRandom::new();
        let a = ClientHandshake::with_mask_source(&url, ClientOptions::new(), &mut os).unwrap();
        let b = ClientHandshake::with_mask_source(&url, ClientOptions::new(), &mut os).unwrap();
        assert_ne!(a.key(), b.key());
        assert_eq!(a.key().len(), 24);
    }
}

/// The default constructor draws the nonce from the OS CSPRNG (RFC 6455 §4.1 item 7): a
/// fresh, valid key for every handshake, and the request is otherwise the same bytes.
#[cfg(feature = "getrandom")]
#[test]
fn default_nonce_comes_from_the_os() {
    let url = Url::parse("ws://h/chat").unwrap();
    let options = || ClientOptions::new().protocol("chat");
    let keys: Vec<String> = (0..8)
        .map(|_| {
            let hs = ClientHandshake::new(&url, options()).unwrap();
            let request = String::from_utf8(hs.request_bytes().to_vec()).unwrap();
            let fixed = ClientHandshake::with_nonce(&url, options(), [0; 16]).unwrap();
            let expected = String::from_utf8(fixed.request_bytes().to_vec())
                .unwrap()
                .replace(fixed.key(), hs.key());
            assert_eq!(request, expected);
            hs.key().to_owned()
        })
        .collect();
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(key.len(), 24, "{key}");
        assert!(!keys[..i].contains(key), "{key} repeated");
    }
    // Invalid options fail the same way as with an explicit source.
    assert_eq!(
        ClientHandshake::new(&url, ClientOptions::new().protocol("a b")).err(),
        Some(BuildError::InvalidProtocol)
    );
}

#[test]
fn established() {
    let response = switching(
        "Sec-WebSocket-Protocol: superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n\
         Set-Cookie: a=b\r\n",
    );
    let Ok(Status::Complete(established)) = receive(offers(), response.as_bytes()) else {
        panic!("not established")
    };
    assert_eq!(established.negotiated.protocol(), Some("superchat"));
    assert_eq!(
        established.negotiated.extensions().as_deref(),
        Some("permessage-deflate; client_max_window_bits=10")
    );
    assert_eq!(established.response.status(), 101);
    assert_eq!(established.response.header("set-cookie"), Some("a=b"));
    assert!(established.leftover.is_empty());
}

#[test]
fn accepted_variants() {
    for (name, response) in [
        ("minimal", switching("")),
        (
            "odd case",
            switching("")
                .replace("Upgrade: websocket", "UPGRADE: WebSocket")
                .replace("Connection: Upgrade", "connection: keep-alive, upgrade"),
        ),
        (
            "reason phrase is free",
            switching("").replace("Switching Protocols", "OK"),
        ),
        (
            "empty protocol field",
            switching("Sec-WebSocket-Protocol: \r\n"),
        ),
        (
            "empty extensions field",
            switching("Sec-WebSocket-Extensions: ,\r\n"),
        ),
        ("bare LF", switching("").replace("\r\n", "\n")),
        (
            "pathological token list",
            switching("").replace("Connection: Upgrade", "Connection: ,,\t,  , ,Upgrade  ,,"),
        ),
    ] {
        let result = receive(offers(), response.as_bytes());
        let Ok(Status::Complete(established)) = result else {
            panic!("{name}: {result:?}")
        };
        assert_eq!(established.negotiated.protocol(), None, "{name}");
        assert_eq!(
            established.negotiated.extensions().as_deref(),
            None,
            "{name}"
        );
    }
}

#[test]
fn failures() {
    use ClientError::*;
    let cases: Vec<(&str, ClientOptions, String, ClientError)> = vec![
        (
            "wrong accept",
            offers(),
            switching("").replace(ACCEPT, "dGhlIHNhbXBsZSBub25jZQ=="),
            BadAccept,
        ),
        (
            "accept of another key",
            offers(),
            switching("").replace(ACCEPT, &accept_key("x")),
            BadAccept,
        ),
        (
            "two accepts",
            offers(),
            switching(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n")),
            BadAccept,
        ),
        (
            "missing accept",
            offers(),
            switching("").replace(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n"), ""),
            MissingAccept,
        ),
        (
            "missing Upgrade",
            offers(),
            switching("").replace("Upgrade: websocket\r\n", ""),
            MissingUpgrade,
        ),
        (
            "Upgrade: h2c",
            offers(),
            switching("").replace("Upgrade: websocket", "Upgrade: h2c"),
            MissingUpgrade,
        ),
        (
            "missing Connection",
            offers(),
            switching("").replace("Connection: Upgrade\r\n", ""),
            MissingConnection,
        ),
        (
            "Connection: close",
            offers(),
            switching("").replace("Connection: Upgrade", "Connection: close"),
            MissingConnection,
        ),
        (
            "subprotocol never offered",
            offers(),
            switching("Sec-WebSocket-Protocol: mqtt\r\n"),
            UnofferedProtocol,
        ),
        (
            "subprotocol in another case",
            offers(),
            switching("Sec-WebSocket-Protocol: CHAT\r\n"),
            UnofferedProtocol,
        ),
        (
            "subprotocol when none offered",
            ClientOptions::new(),
            switching("Sec-WebSocket-Protocol: chat\r\n"),
            UnofferedProtocol,
        ),
        (
            "several subprotocols",
            offers(),
            switching("Sec-WebSocket-Protocol: chat, superchat\r\n"),
            MultipleProtocols,
        ),
        (
            "several subprotocol fields",
            offers(),
            switching("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n"),
            MultipleProtocols,
        ),
        (
            "unoffered extension",
            offers(),
            switching("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"),
            UnofferedExtension,
        ),
        (
            "extension when none offered",
            ClientOptions::new(),
            switching("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            UnofferedExtension,
        ),
        (
            "malformed extensions",
            offers(),
            switching("Sec-WebSocket-Extensions: permessage-deflate; =1\r\n"),
            MalformedExtensions,
        ),
        (
            "100 Continue",
            offers(),
            "HTTP/1.1 100 Continue\r\n\r\n".into(),
            Informational(100),
        ),
        (
            "102 Processing",
            offers(),
            "HTTP/1.1 102 Processing\r\n\r\n".into(),
            Informational(102),
        ),
        (
            "103 Early Hints",
            offers(),
            "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n".into(),
            Informational(103),
        ),
        (
            "HTTP/1.0 101",
            offers(),
            switching("").replacen("HTTP/1.1", "HTTP/1.0", 1),
            HttpVersion,
        ),
        (
            "garbage",
            offers(),
            "SSH-2.0-OpenSSH_9.6\r\n\r\n".into(),
            Malformed,
        ),
        (
            "TLS alert",
            offers(),
            "\x15\x03\x03\x00\x02\x02\x46".into(),
            Malformed,
        ),
        (
            "HTTP/2 preface",
            offers(),
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".into(),
            Malformed,
        ),
        (
            "no status code",
            offers(),
            "HTTP/1.1 OK\r\n\r\n".into(),
            Malformed,
        ),
        (
            "bad header line",
            offers(),
            switching("Bad Header\r\n"),
            Malformed,
        ),
        (
            "too many headers",
            offers(),
            switching(&"X: 1\r\n".repeat(62)),
            TooLarge,
        ),
        (
            "64 KiB header block",
            offers(),
            switching(&format!("X: {}\r\n", "a".repeat(64 * 1024))),
            TooLarge,
        ),
    ];
    for (name, options, response, error) in cases {
        assert_eq!(
            receive(options, response.as_bytes()).err(),
            Some(error),
            "{name}"
        );
    }
    // Any final status but 101 is a refusal, with its body.
    for (status, body) in [
        (403, &b"origin not allowed"[..]),
        (500, b""),
        (200, b"<html>"),
        (301, b""),
    ] {
        let mut bytes = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body);
        let Err(ClientError::Rejected(response)) = receive(offers(), &bytes) else {
            panic!("{status}")
        };
        assert_eq!((response.status(), response.body()), (status, body));
    }
}

#[test]
fn rejection_carries_status_headers_and_body() {
    let response = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Reason: origin\r\n\
                    Content-Length: 18\r\n\r\norigin not allowed";
    let Err(ClientError::Rejected(rejected)) = receive(ClientOptions::new(), response.as_bytes())
    else {
        panic!()
    };
    assert_eq!(rejected.status(), 403);
    assert_eq!(rejected.reason(), "Forbidden");
    assert_eq!(rejected.header("x-reason"), Some("origin"));
    assert_eq!(rejected.headers().len(), 3);
    assert_eq!(rejected.body(), b"origin not allowed");
    let error = ClientError::Rejected(rejected);
    assert_eq!(error.status(), Some(403));
    assert_eq!(error.to_string(), "the server refused the upgrade (403)");

    // The body waits for its bytes; bytes after it are not part of it.
    let mut hs = handshake(ClientOptions::new());
    assert_eq!(
        hs.receive(b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nab"),
        Ok(Status::Partial)
    );
    let Err(ClientError::Rejected(r)) = hs.receive(b"cdeEXTRA") else {
        panic!()
    };
    assert_eq!(r.body(), b"abcde");
    assert_eq!(hs.receive(b"x"), Err(ClientError::Finished));
    assert_eq!(hs.receive_eof(), Ok(()));
}

#[test]
fn rejection_body_until_eof_and_bounded() {
    // No Content-Length: the body ends with the transport.
    let mut hs = handshake(ClientOptions::new());
    assert_eq!(
        hs.receive(b"HTTP/1.1 503 Service Unavailable\r\n\r\nbusy, "),
        Ok(Status::Partial)
    );
    assert_eq!(hs.receive(b"try later"), Ok(Status::Partial));
    let Err(ClientError::Rejected(r)) = hs.receive_eof() else {
        panic!()
    };
    assert_eq!((r.status(), r.body()), (503, &b"busy, try later"[..]));

    // A chunked body is not read.
    let mut hs = handshake(ClientOptions::new());
    let Err(ClientError::Rejected(r)) =
        hs.receive(b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    else {
        panic!()
    };
    assert_eq!(r.body(), b"");

    // A huge body: only `max_body_bytes` are kept, and not more is waited for.
    let mut limits = HandshakeLimits::default();
    limits.max_body_bytes = 10;
    let mut hs = handshake(ClientOptions::new().limits(limits));
    assert_eq!(
        hs.receive(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 1000000\r\n\r\n0123"),
        Ok(Status::Partial)
    );
    let Err(ClientError::Rejected(r)) = hs.receive(b"456789abcdef") else {
        panic!()
    };
    assert_eq!(r.body(), b"0123456789");
}

#[test]
fn eof_and_misuse() {
    let mut hs = handshake(ClientOptions::new());
    assert_eq!(hs.receive(b"HTTP/1.1 101 Switching"), Ok(Status::Partial));
    assert_eq!(hs.receive_eof(), Err(ClientError::UnexpectedEof));
    assert_eq!(hs.receive(b" Protocols\r\n"), Err(ClientError::Finished));

    let mut hs = handshake(ClientOptions::new());
    assert!(matches!(
        hs.receive(switching("").as_bytes()),
        Ok(Status::Complete(_))
    ));
    assert_eq!(hs.receive(b"frames"), Err(ClientError::Finished));
    assert_eq!(hs.receive_eof(), Ok(()));
}

#[test]
fn big_response_fed_bytewise_is_linear() {
    let response = switching(&format!("X: {}\r\n", "a".repeat(64 * 1024)));
    let mut hs = handshake(ClientOptions::new());
    let mut fed = 0;
    let result = loop {
        fed += 1;
        match hs.receive(&response.as_bytes()[fed - 1..fed]) {
            Ok(Status::Partial) => continue,
            other => break other,
        }
    };
    assert_eq!(result.err(), Some(ClientError::TooLarge));
    assert_eq!(fed, 16 * 1024);
    assert_eq!(hs.parse_attempts(), 0);
    assert!(hs.bytes_scanned() <= 3 * fed);
}

#[test]
fn leftover_after_the_response() {
    let frames: &[u8] = b"\x81\x05Hello\x89\x00";
    let mut bytes = switching("").into_bytes();
    bytes.extend_from_slice(frames);
    for split in 1..bytes.len() {
        let mut hs = handshake(ClientOptions::new());
        let (first, second) = bytes.split_at(split);
        let (established, rest) = match hs.receive(first).unwrap() {
            Status::Complete(established) => (established, second),
            Status::Partial => match hs.receive(second).unwrap() {
                Status::Complete(established) => (established, &[][..]),
                Status::Partial => panic!("split {split}"),
            },
        };
        let mut after = established.leftover;
        after.extend_from_slice(rest);
        assert_eq!(after, frames, "split {split}");
    }
}

#[test]
fn build_errors() {
    let url = Url::parse("ws://h/").unwrap();
    for (options, error) in [
        (
            ClientOptions::new().protocol("a").protocol("a"),
            BuildError::InvalidProtocol,
        ),
        (
            ClientOptions::new().protocol("a,b"),
            BuildError::InvalidProtocol,
        ),
        (
            ClientOptions::new().extension(Extension::new("x").with_param("p", Some("a b"))),
            BuildError::InvalidExtension,
        ),
        (
            ClientOptions::new().header("Upgrade", "h2c"),
            BuildError::ReservedHeader,
        ),
        (
            ClientOptions::new().header("X", "a\r\nb"),
            BuildError::InvalidHeaderValue,
        ),
        (
            ClientOptions::new().origin("http://a\nb"),
            BuildError::InvalidHeaderValue,
        ),
    ] {
        assert_eq!(
            ClientHandshake::with_nonce(&url, options, NONCE).err(),
            Some(error)
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_split_gives_the_same_outcome(
            cuts in proptest::collection::vec(any::<usize>(), 0..10),
            frames in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut input = switching("Sec-WebSocket-Protocol: chat\r\n").into_bytes();
            input.extend_from_slice(&frames);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            cuts.push(input.len());
            cuts.sort_unstable();
            let mut hs = handshake(offers());
            let mut start = 0;
            let mut established = None;
            let mut after = Vec::new();
            for cut in cuts {
                let piece = &input[start..cut];
                start = cut;
                if established.is_some() {
                    after.extend_from_slice(piece);
                } else if let Status::Complete(e) = hs.receive(piece).unwrap() {
                    after.extend_from_slice(&e.leftover);
                    established = Some(e);
                }
            }
            let established = established.expect("incomplete");
            prop_assert_eq!(established.negotiated.protocol(), Some("chat"));
            prop_assert_eq!(after, frames);
            prop_assert_eq!(hs.parse_attempts(), 1);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
            chunk in 1usize..64,
        ) {
            let mut hs = handshake(offers());
            for piece in bytes.chunks(chunk) {
                if hs.receive(piece) != Ok(Status::Partial) {
                    break;
                }
            }
            let _ = hs.receive_eof();
            prop_assert!(hs.parse_attempts() <= 1);
        }

        #[test]
        fn mutated_responses_never_panic(
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let mut input = switching("Sec-WebSocket-Extensions: permessage-deflate; a=\"1\"\r\n").into_bytes();
            for (index, byte) in edits {
                let i = index.index(input.len());
                input[i] = byte;
            }
            let mut hs = handshake(offers());
            if hs.receive(&input) == Ok(Status::Partial) {
                prop_assert!(hs.receive_eof().is_err());
            }
        }
    }
}
