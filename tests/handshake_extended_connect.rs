//! Feature `http`: a WebSocket bootstrapped with an extended CONNECT, over HTTP/2 (RFC 8441)
//! and HTTP/3 (RFC 9220), in both roles: the client's request, the server's checks and `200`,
//! the client's checks of that answer, and the connections they produce.
#![cfg(feature = "http")]

use wsmachine::handshake::{
    Accept, Bootstrap, BuildError, ClientError, ClientOptions, ExtendedConnect, Extension, Header,
    Request, Url,
};
use wsmachine::{Config, Connection, Event, FixedMask, Negotiated};

type Version = fn(&Url, ClientOptions) -> Result<ExtendedConnect, BuildError>;

/// Both bootstraps: the client's constructor, the HTTP version, the server's view of it.
const VERSIONS: [(Version, http::Version, Bootstrap); 2] = [
    (
        ExtendedConnect::http2,
        http::Version::HTTP_2,
        Bootstrap::Http2,
    ),
    (
        ExtendedConnect::http3,
        http::Version::HTTP_3,
        Bootstrap::Http3,
    ),
];

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// A `2xx` (or other) answer with these fields.
fn response(status: u16, fields: &[(&str, &str)]) -> http::Response<()> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in fields {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

#[test]
fn request_for_each_version() {
    for (new, version, _) in VERSIONS {
        let options = ClientOptions::new()
            .protocol("chat")
            .protocol("superchat")
            .extension(Extension::new("x-foo").with_param("a", Some("1")))
            .origin("https://example.com")
            .header("Authorization", "Bearer abc");
        let connect = new(&url("wss://Example.com:8443/chat?room=1"), options).unwrap();
        assert_eq!(connect.version(), version);
        let request = connect.request();
        assert_eq!(request.method(), http::Method::CONNECT);
        assert_eq!(request.version(), version);
        // RFC 8441 §5: `:scheme` https for wss, `:authority` and `:path` from the URI.
        assert_eq!(request.uri().scheme_str(), Some("https"));
        assert_eq!(request.uri().authority().unwrap(), "example.com:8443");
        assert_eq!(request.uri().path_and_query().unwrap(), "/chat?room=1");
        let fields: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [
                ("sec-websocket-version", "13"),
                ("origin", "https://example.com"),
                ("sec-websocket-protocol", "chat, superchat"),
                ("sec-websocket-extensions", "x-foo; a=1"),
                ("authorization", "Bearer abc"),
            ]
        );
        // The driver attaches `:protocol`; the request carries no extension for it.
        assert!(request.extensions().is_empty());
        assert_eq!(ExtendedConnect::PROTOCOL, "websocket");
    }
    // ws:// is `http`, and the default port stays out of `:authority`, as out of `Host`.
    for (s, scheme, authority) in [
        ("ws://example.com/", "http", "example.com"),
        ("ws://example.com:80", "http", "example.com"),
        ("wss://example.com:443/x", "https", "example.com"),
        ("ws://[::1]:9001/", "http", "[::1]:9001"),
    ] {
        let request = ExtendedConnect::http2(&url(s), ClientOptions::new())
            .unwrap()
            .request();
        assert_eq!(request.uri().scheme_str(), Some(scheme), "{s}");
        assert_eq!(request.uri().authority().unwrap(), authority, "{s}");
        assert_eq!(request.headers().len(), 1, "{s}");
    }
}

#[test]
fn options_are_checked() {
    let u = url("ws://h/");
    for (options, error) in [
        (
            ClientOptions::new().protocol("a").protocol("a"),
            BuildError::InvalidProtocol,
        ),
        (
            ClientOptions::new().protocol("a b"),
            BuildError::InvalidProtocol,
        ),
        (
            ClientOptions::new().extension(Extension::new("x y")),
            BuildError::InvalidExtension,
        ),
        (
            ClientOptions::new().origin("a\nb"),
            BuildError::InvalidHeaderValue,
        ),
        (
            ClientOptions::new().header("Host", "h"),
            BuildError::ReservedHeader,
        ),
        (
            ClientOptions::new().header("Sec-WebSocket-Key", "k"),
            BuildError::ReservedHeader,
        ),
        (
            ClientOptions::new().header("Connection", "close"),
            BuildError::ReservedHeader,
        ),
        // RFC 9113 §8.2.2: connection-specific fields are malformed over HTTP/2.
        (
            ClientOptions::new().header("TE", "trailers"),
            BuildError::ReservedHeader,
        ),
        (
            ClientOptions::new().header("Keep-Alive", "5"),
            BuildError::ReservedHeader,
        ),
        (
            ClientOptions::new().header("X:", "v"),
            BuildError::InvalidHeaderName,
        ),
    ] {
        assert_eq!(
            ExtendedConnect::http2(&u, options.clone()).err(),
            Some(error),
            "{options:?}"
        );
        assert_eq!(
            ExtendedConnect::http3(&u, options.clone()).err(),
            Some(error)
        );
    }
    // A path `Url` takes but `http::Uri` does not.
    assert_eq!(
        ExtendedConnect::http2(&url("ws://h/<x>"), ClientOptions::new()).err(),
        Some(BuildError::InvalidUri)
    );
}

/// Our client's request, accepted by our server, whose answer our client validates: both
/// ends agree, and the connections they build talk over the stream.
#[test]
fn round_trip() {
    for (new, version, bootstrap) in VERSIONS {
        let options = ClientOptions::new()
            .protocol("v1.chat")
            .protocol("v2.chat")
            .extension(Extension::new("x-foo"))
            .header("Cookie", "id=1");
        let client = new(&url("wss://example.com/chat"), options).unwrap();
        let req = client.request();

        let request =
            Request::from_extended_connect(&req, Some(ExtendedConnect::PROTOCOL)).unwrap();
        assert_eq!(request.bootstrap(), &bootstrap);
        assert_eq!(request.path(), "/chat");
        assert_eq!(request.host(), "example.com");
        assert_eq!(request.protocols(), ["v1.chat", "v2.chat"]);
        assert_eq!(request.header("cookie"), Some("id=1"));
        let accept = Accept::new()
            .protocol(request.select_protocol(&["v2.chat"]))
            .extension(Extension::new("x-foo"))
            .header("Set-Cookie", "seen=1");
        let accepted = request.accept(&accept).unwrap();
        let response = accepted.to_http().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), version);

        let negotiated = client.validate(&response).unwrap();
        assert_eq!(negotiated, accepted.negotiated);
        assert_eq!(negotiated.protocol(), Some("v2.chat"));
        assert_eq!(negotiated.extensions().as_deref(), Some("x-foo"));
        // The same check from status and fields, for libraries without `http` types.
        let fields: Vec<Header> = accepted.headers().to_vec();
        assert_eq!(
            client.validate_fields(accepted.status(), &fields),
            Ok(negotiated.clone())
        );

        talk(negotiated, accepted.negotiated);
    }
}

/// A client and a server connection exchange a message each way over an in-memory stream
/// (the DATA of the request and the response).
fn talk(client: Negotiated, server: Negotiated) {
    #[cfg(feature = "deflate")]
    let compressed = client.deflate().is_some();
    #[cfg(not(feature = "deflate"))]
    let compressed = false;
    let mut client =
        Connection::client_with_mask_source(client, Config::default(), FixedMask([1; 4]));
    let mut server = Connection::server(server, Config::default());
    // Long enough to be compressed when permessage-deflate was agreed.
    let text = "over the stream ".repeat(8);
    client.send_text(text.as_str()).unwrap();
    // RSV1 marks a compressed message (RFC 7692 §6).
    assert_eq!(client.pending_output()[0] & 0x40 != 0, compressed);
    server.send_binary(vec![1, 2, 3]).unwrap();
    let move_bytes = |from: &mut Connection, to: &mut Connection| {
        while !from.pending_output().is_empty() {
            let n = from.pending_output().len();
            to.receive(from.pending_output());
            from.consume_output(n);
        }
    };
    move_bytes(&mut client, &mut server);
    move_bytes(&mut server, &mut client);
    assert_eq!(server.poll_event(), Some(Event::Text(text.as_str().into())));
    assert_eq!(
        client.poll_event(),
        Some(Event::Binary(vec![1, 2, 3].into()))
    );
}

#[test]
fn non_2xx_is_refused() {
    let client = ExtendedConnect::http2(&url("ws://h/"), ClientOptions::new()).unwrap();
    for status in [300, 301, 400, 403, 404, 426, 500, 503] {
        let refused = response(status, &[("sec-websocket-version", "13")]);
        match client.validate(&refused) {
            Err(ClientError::Rejected(response)) => {
                assert_eq!(response.status(), status);
                assert_eq!(response.header("Sec-WebSocket-Version"), Some("13"));
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(
            client.validate(&refused).unwrap_err().status(),
            Some(status)
        );
    }
    // RFC 9113 §8.6: no 101 over HTTP/2; interim responses are not an answer.
    for status in [100, 101, 103] {
        assert_eq!(
            client.validate(&response(status, &[])),
            Err(ClientError::Informational(status))
        );
    }
    // Any 2xx accepts a CONNECT (RFC 9110 §9.3.6).
    for status in [200, 201, 204, 299] {
        assert_eq!(
            client.validate(&response(status, &[])),
            Ok(Negotiated::new()),
            "{status}"
        );
    }
    assert_eq!(
        client
            .validate_fields(404, &[Header::new("x", "y")])
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[test]
fn answers_that_break_the_offer() {
    let options = ClientOptions::new()
        .protocol("chat")
        .extension(Extension::new("x-foo"));
    for (new, _, _) in VERSIONS {
        let client = new(&url("wss://h/"), options.clone()).unwrap();
        for (fields, error) in [
            (
                &[("sec-websocket-protocol", "mqtt")][..],
                ClientError::UnofferedProtocol,
            ),
            (
                &[("sec-websocket-protocol", "chat, chat")],
                ClientError::MultipleProtocols,
            ),
            (
                &[
                    ("sec-websocket-protocol", "chat"),
                    ("sec-websocket-protocol", "chat"),
                ],
                ClientError::MultipleProtocols,
            ),
            (
                &[("sec-websocket-extensions", "x-bar")],
                ClientError::UnofferedExtension,
            ),
            (
                &[("sec-websocket-extensions", "x-foo, x-bar")],
                ClientError::UnofferedExtension,
            ),
            (
                &[("sec-websocket-extensions", "x-foo;")],
                ClientError::MalformedExtensions,
            ),
            // permessage-deflate was not offered: refused like any other extension.
            (
                &[("sec-websocket-extensions", "permessage-deflate")],
                ClientError::UnofferedExtension,
            ),
        ] {
            assert_eq!(
                client.validate(&response(200, fields)),
                Err(error.clone()),
                "{fields:?}"
            );
        }
        let ok = response(
            200,
            &[
                ("sec-websocket-protocol", "chat"),
                ("sec-websocket-extensions", "X-Foo"),
                // Fields an HTTP/1.1 server would send change nothing here.
                ("sec-websocket-accept", "ignored"),
            ],
        );
        let negotiated = client.validate(&ok).unwrap();
        assert_eq!(negotiated.protocol(), Some("chat"));
        assert_eq!(negotiated.extensions().as_deref(), Some("X-Foo"));
    }
    // No offer: any subprotocol is one we did not offer.
    let client = ExtendedConnect::http3(&url("ws://h/"), ClientOptions::new()).unwrap();
    assert_eq!(
        client.validate(&response(200, &[("sec-websocket-protocol", "chat")])),
        Err(ClientError::UnofferedProtocol)
    );
}

/// permessage-deflate over an extended CONNECT: offered, agreed, checked against the offer
/// (RFC 7692 §7) as over HTTP/1.1, and then used by both connections.
#[cfg(feature = "deflate")]
#[test]
fn deflate_round_trip_and_bad_parameters() {
    use wsmachine::extensions::{DeflateError, DeflateOptions};

    for (new, _, _) in VERSIONS {
        let options = ClientOptions::new().deflate(DeflateOptions::new());
        let client = new(&url("wss://example.com/"), options).unwrap();
        let req = client.request();
        assert_eq!(
            req.headers()["sec-websocket-extensions"],
            "permessage-deflate; client_max_window_bits"
        );
        let request = Request::from_extended_connect(&req, Some("websocket")).unwrap();
        let mut server_options = DeflateOptions::new();
        server_options.server_no_context_takeover = true;
        server_options.client_max_window_bits = Some(12);
        let deflate = request.select_deflate(&server_options);
        assert!(deflate.is_some());
        let accepted = request.accept(&Accept::new().deflate(deflate)).unwrap();
        let response = accepted.to_http().unwrap();
        assert_eq!(
            response.headers()["sec-websocket-extensions"],
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"
        );
        let negotiated = client.validate(&response).unwrap();
        assert_eq!(negotiated, accepted.negotiated);
        assert_eq!(negotiated.deflate(), deflate.as_ref());
        talk(negotiated, accepted.negotiated);

        for (extensions, error) in [
            // A window smaller than 8 bits.
            (
                "permessage-deflate; server_max_window_bits=7",
                DeflateError::InvalidValue,
            ),
            // A parameter RFC 7692 does not define.
            ("permessage-deflate; x=1", DeflateError::UnknownParameter),
            // Accepted twice.
            (
                "permessage-deflate, permessage-deflate",
                DeflateError::DuplicateExtension,
            ),
            // A window for us larger than we allowed.
            (
                "permessage-deflate; client_max_window_bits=16",
                DeflateError::InvalidValue,
            ),
        ] {
            assert_eq!(
                client.validate(
                    &http::Response::builder()
                        .header("sec-websocket-extensions", extensions)
                        .body(())
                        .unwrap()
                ),
                Err(ClientError::Deflate(error)),
                "{extensions}"
            );
        }
    }
    // We asked the server to keep its window to 10 bits: an answer that leaves the request
    // out answers none of our offers.
    let mut offer = DeflateOptions::new();
    offer.server_max_window_bits = Some(10);
    let client =
        ExtendedConnect::http2(&url("ws://h/"), ClientOptions::new().deflate(offer)).unwrap();
    assert_eq!(
        client.validate(&response(
            200,
            &[("sec-websocket-extensions", "permessage-deflate")]
        )),
        Err(ClientError::Deflate(DeflateError::NotOffered))
    );
}

#[test]
fn client_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ExtendedConnect>();
    assert_send_sync::<Bootstrap>();
}
