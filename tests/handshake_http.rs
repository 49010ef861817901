//! Feature `http`: validating upgrades that an HTTP server already parsed (`http::Request`),
//! RFC 8441 extended CONNECT over HTTP/2, and answers as `http::Response`.
#![cfg(feature = "http")]

use wsmachine::handshake::{Accept, BuildError, Extension, Request, RequestError};

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
    let (response, negotiated) = request
        .accept_http(&Accept::new().protocol("superchat").header("X-A", "1"))
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    let h = response.headers();
    assert_eq!(h["upgrade"], "websocket");
    assert_eq!(h["connection"], "Upgrade");
    assert_eq!(h["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(h["sec-websocket-protocol"], "superchat");
    assert_eq!(h["x-a"], "1");
    assert_eq!(negotiated.protocol(), Some("superchat"));
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

#[test]
fn extended_connect() {
    let req = connect()
        .header("origin", "https://example.com")
        .header("sec-websocket-protocol", "chat")
        .header("sec-websocket-extensions", "x-compress")
        .body(())
        .unwrap();
    let request = Request::from_extended_connect(&req, Some("websocket")).unwrap();
    assert_eq!(request.key(), None);
    assert_eq!(request.host(), "example.com");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.origin(), Some("https://example.com"));
    let accept = Accept::new()
        .protocol("chat")
        .extension(Extension::new("x-compress"));
    let (response, negotiated) = request.accept_http(&accept).unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    let h = response.headers();
    assert_eq!(h.len(), 2);
    assert_eq!(h["sec-websocket-protocol"], "chat");
    assert_eq!(h["sec-websocket-extensions"], "x-compress");
    assert!(h.get("sec-websocket-accept").is_none());
    assert!(h.get("upgrade").is_none());
    assert_eq!(negotiated.protocol(), Some("chat"));
    assert_eq!(negotiated.extensions().as_deref(), Some("x-compress"));
    // Not an HTTP/1.1 request: no 101 bytes for it.
    assert_eq!(
        request.accept(&Accept::new()).err(),
        Some(BuildError::NotHttp1)
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
