//! Feature `http`: validating upgrades that an HTTP server already parsed (`http::Request`),
//! extended CONNECT over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220), and answers as
//! `http::Response`.
#![cfg(feature = "http")]

use wsmachine::handshake::{Accept, Bootstrap, BuildError, Extension, Request, RequestError};

fn upgrade() -> http::request::Builder {
    http::Request::get("/chat?x=1")
        .header("host", "example.com")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-version", "13")
}

#[test]
fn from_http() {
    let req = upgrade()
        .header("origin", "https://example.com")
        .header("sec-websocket-protocol", "chat")
        .header("sec-websocket-protocol", "superchat")
        .header("cookie", "a=b")
        .body(())
        .unwrap();
    let request = Request::from_http(&req).unwrap();
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), Some("x=1"));
    assert_eq!(request.host(), "example.com");
    assert_eq!(request.origin(), Some("https://example.com"));
    assert_eq!(request.protocols(), ["chat", "superchat"]);
    assert_eq!(request.header("Cookie"), Some("a=b"));
    assert_eq!(
        request.bootstrap(),
        &Bootstrap::Http1 {
            key: "dGhlIHNhbXBsZSBub25jZQ==".into()
        }
    );
    let accepted = request
        .accept(&Accept::new().protocol("superchat").header("X-A", "1"))
        .unwrap();
    let response = accepted.to_http().unwrap();
    let negotiated = accepted.negotiated.clone();
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(response.version(), http::Version::HTTP_11);
    let h = response.headers();
    assert_eq!(h["upgrade"], "websocket");
    assert_eq!(h["connection"], "Upgrade");
    assert_eq!(h["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(h["sec-websocket-protocol"], "superchat");
    assert_eq!(h["x-a"], "1");
    assert_eq!(negotiated.protocol(), Some("superchat"));
    // The same value renders as the bytes a sans-IO server writes, field for field.
    assert_eq!(
        accepted.to_bytes(),
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
          Sec-WebSocket-Protocol: superchat\r\nX-A: 1\r\n\r\n"
    );
    assert!(accepted.leftover.is_empty());
}

#[test]
fn from_http_rejections() {
    use RequestError::*;
    let cases: Vec<(http::Request<()>, RequestError)> = vec![
        (upgrade().method("POST").body(()).unwrap(), MethodNotAllowed),
        (
            upgrade().version(http::Version::HTTP_10).body(()).unwrap(),
            HttpVersion,
        ),
        (
            upgrade()
                .header("sec-websocket-version", "8")
                .body(())
                .unwrap(),
            DuplicateVersion,
        ),
        (
            http::Request::get("/")
                .header("host", "h")
                .header("upgrade", "websocket")
                .body(())
                .unwrap(),
            MissingConnectionUpgrade,
        ),
        (
            upgrade().header("content-length", "3").body(()).unwrap(),
            UnexpectedBody,
        ),
    ];
    for (req, error) in cases {
        assert_eq!(Request::from_http(&req).err(), Some(error), "{req:?}");
    }
    // No Host field: the authority of an absolute URI stands in for it.
    let mut req = upgrade()
        .uri("http://authority.example/chat")
        .body(())
        .unwrap();
    req.headers_mut().remove("host");
    assert_eq!(
        Request::from_http(&req).unwrap().host(),
        "authority.example"
    );
    let mut req = upgrade().body(()).unwrap();
    req.headers_mut().remove("host");
    assert_eq!(Request::from_http(&req).err(), Some(MissingHost));
}

fn connect() -> http::request::Builder {
    http::Request::connect("https://example.com/chat")
        .version(http::Version::HTTP_2)
        .header("sec-websocket-version", "13")
}

/// RFC 8441 over HTTP/2 and RFC 9220 over HTTP/3: the same request, told apart by its
/// version, accepted with a `200` and no `Sec-WebSocket-Accept`, `Upgrade` or `Connection`.
#[test]
fn extended_connect() {
    for (version, bootstrap) in [
        (http::Version::HTTP_2, Bootstrap::Http2),
        (http::Version::HTTP_3, Bootstrap::Http3),
    ] {
        let req = connect()
            .version(version)
            .header("origin", "https://example.com")
            .header("sec-websocket-protocol", "chat")
            .header("sec-websocket-extensions", "x-compress")
            .body(())
            .unwrap();
        let request = Request::from_extended_connect(&req, Some("websocket")).unwrap();
        assert_eq!(request.bootstrap(), &bootstrap);
        assert!(request.bootstrap().is_extended_connect());
        assert_eq!(request.key(), None);
        assert_eq!(request.host(), "example.com");
        assert_eq!(request.path(), "/chat");
        assert_eq!(request.origin(), Some("https://example.com"));
        assert!(request.leftover().is_empty());
        let accept = Accept::new()
            .protocol("chat")
            .extension(Extension::new("x-compress"));
        let accepted = request.accept(&accept).unwrap();
        assert_eq!(accepted.status(), 200);
        assert_eq!(accepted.bootstrap(), &bootstrap);
        assert!(accepted.leftover.is_empty());
        let response = accepted.to_http().unwrap();
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(response.version(), version);
        let h = response.headers();
        assert_eq!(h.len(), 2);
        assert_eq!(h["sec-websocket-protocol"], "chat");
        assert_eq!(h["sec-websocket-extensions"], "x-compress");
        assert!(h.get("sec-websocket-accept").is_none());
        assert!(h.get("upgrade").is_none());
        let negotiated = &accepted.negotiated;
        assert_eq!(negotiated.protocol(), Some("chat"));
        assert_eq!(negotiated.extensions().as_deref(), Some("x-compress"));
        // The same answer as status and fields, and in its HTTP/1.1 spelling.
        let names: Vec<&str> = accepted.headers().iter().map(|h| h.name()).collect();
        assert_eq!(
            names,
            ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"]
        );
        assert_eq!(
            accepted.to_bytes(),
            b"HTTP/1.1 200 OK\r\nSec-WebSocket-Protocol: chat\r\n\
              Sec-WebSocket-Extensions: x-compress\r\n\r\n"
        );
    }
}

/// Accepting an extended CONNECT checks the offers as over HTTP/1.1, and refuses the
/// connection-specific fields HTTP/2 and HTTP/3 forbid (RFC 9113 §8.2.2).
#[test]
fn extended_connect_accept_is_checked() {
    let req = connect()
        .header("sec-websocket-protocol", "chat")
        .body(())
        .unwrap();
    let request = Request::from_extended_connect(&req, Some("websocket")).unwrap();
    for (accept, error) in [
        (
            Accept::new().protocol("mqtt"),
            BuildError::UnofferedProtocol,
        ),
        (
            Accept::new().extension(Extension::new("x-compress")),
            BuildError::UnofferedExtension,
        ),
        (
            Accept::new().header("Upgrade", "websocket"),
            BuildError::ReservedHeader,
        ),
        (
            Accept::new().header("Keep-Alive", "timeout=5"),
            BuildError::ReservedHeader,
        ),
        (
            Accept::new().header("TE", "trailers"),
            BuildError::ReservedHeader,
        ),
        (
            Accept::new().header("X-Bad", "a\r\nb"),
            BuildError::InvalidHeaderValue,
        ),
    ] {
        assert_eq!(request.accept(&accept).err(), Some(error), "{accept:?}");
    }
    // Over HTTP/1.1 `Keep-Alive` may be sent with the 101, as before.
    let upgrade = Request::from_http(&upgrade().body(()).unwrap()).unwrap();
    assert!(
        upgrade
            .accept(&Accept::new().header("Keep-Alive", "timeout=5"))
            .is_ok()
    );
}

#[test]
fn extended_connect_rejections() {
    use RequestError::*;
    let ws = Some("websocket");
    let cases: Vec<(http::Request<()>, Option<&str>, RequestError)> = vec![
        (connect().body(()).unwrap(), None, MissingConnectProtocol),
        (
            connect().body(()).unwrap(),
            Some("connect-udp"),
            MissingConnectProtocol,
        ),
        (
            connect().method("GET").body(()).unwrap(),
            ws,
            ConnectRequired,
        ),
        (
            connect().version(http::Version::HTTP_11).body(()).unwrap(),
            ws,
            HttpVersion,
        ),
        (
            connect().version(http::Version::HTTP_10).body(()).unwrap(),
            ws,
            HttpVersion,
        ),
        (
            connect()
                .version(http::Version::HTTP_3)
                .method("GET")
                .body(())
                .unwrap(),
            ws,
            ConnectRequired,
        ),
        (
            connect()
                .version(http::Version::HTTP_3)
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
                .body(())
                .unwrap(),
            ws,
            UnexpectedKey,
        ),
        (
            connect().version(http::Version::HTTP_3).body(()).unwrap(),
            Some("webtransport"),
            MissingConnectProtocol,
        ),
        (
            http::Request::connect("https://example.com/")
                .version(http::Version::HTTP_2)
                .header("sec-websocket-version", "8")
                .body(())
                .unwrap(),
            ws,
            UnsupportedVersion,
        ),
        (
            connect()
                .header("sec-websocket-version", "13")
                .body(())
                .unwrap(),
            ws,
            DuplicateVersion,
        ),
        (
            connect()
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
                .body(())
                .unwrap(),
            ws,
            UnexpectedKey,
        ),
        (
            connect().uri("example.com:443").body(()).unwrap(),
            ws,
            BadTarget,
        ),
    ];
    for (req, protocol, error) in cases {
        assert_eq!(
            Request::from_extended_connect(&req, protocol).err(),
            Some(error),
            "{req:?}"
        );
    }
    assert!(
        Request::from_extended_connect(&connect().body(()).unwrap(), Some("WebSocket")).is_ok()
    );
}

#[test]
fn rejections_as_http_responses() {
    let response = RequestError::UnsupportedVersion
        .response()
        .to_http()
        .unwrap();
    assert_eq!(response.status(), 426);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    // Connection-specific fields stay out (HTTP/2 forbids them).
    assert!(response.headers().get("upgrade").is_none());
    assert_eq!(response.body(), b"Sec-WebSocket-Version 13 required");
    let response = RequestError::ConnectRequired.response().to_http().unwrap();
    assert_eq!(response.headers()["allow"], "CONNECT");
}
