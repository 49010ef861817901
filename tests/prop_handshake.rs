//! Property: any valid upgrade request — header names in any case, fields in any order,
//! subprotocol and extension offers spread over several lines, extra fields, pipelined bytes
//! after it, fed in any split — is accepted with exactly what it said, and the response to it
//! validates at a client that made the same offers with the same key.

use proptest::prelude::*;
use wsmachine::handshake::{
    Accept, ClientHandshake, ClientOptions, Extension, ServerHandshake, Status, Url,
};

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, written here so the test does not trust the crate's own.
fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

const TOKEN: &str = "[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,10}";

fn extension() -> impl Strategy<Value = Extension> {
    (
        TOKEN,
        prop::collection::vec((TOKEN, prop::option::of(TOKEN)), 0..3),
    )
        .prop_map(|(name, params)| {
            params.into_iter().fold(Extension::new(name), |e, (n, v)| {
                e.with_param(n, v.as_deref())
            })
        })
}

/// A header name in a random case.
fn cased(name: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), name.len()).prop_map(move |upper| {
        name.chars()
            .zip(upper)
            .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// The parts of a valid request.
#[derive(Clone, Debug)]
struct Valid {
    resource: String,
    host: String,
    nonce: [u8; 16],
    origin: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<Extension>,
    /// The request's lines, shuffled, and the bytes after it.
    lines: Vec<String>,
    leftover: Vec<u8>,
    cuts: Vec<usize>,
}

fn valid_request() -> impl Strategy<Value = Valid> {
    (
        (
            "/[a-zA-Z0-9._~/-]{0,20}(\\?[a-z0-9=&]{0,10})?",
            "[a-z][a-z0-9-]{0,15}(\\.[a-z]{2,5})?(:[1-9][0-9]{0,3})?",
            any::<[u8; 16]>(),
            prop::option::of("https?://[a-z]{1,10}\\.example"),
            prop::collection::vec(TOKEN, 0..4),
            prop::collection::vec(extension(), 0..3),
        ),
        (
            (
                cased("upgrade"),
                cased("connection"),
                cased("sec-websocket-key"),
                cased("sec-websocket-version"),
                cased("sec-websocket-protocol"),
                cased("sec-websocket-extensions"),
            ),
            prop_oneof![Just("websocket"), Just("WebSocket"), Just("h2c, websocket")],
            prop_oneof![
                Just("Upgrade"),
                Just("keep-alive, Upgrade"),
                Just("upgrade")
            ],
            prop::collection::vec(("X-[A-Za-z]{1,8}", "[!-~]([ -~]{0,18}[!-~])?"), 0..3),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..24),
            prop::collection::vec(any::<usize>(), 0..6),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (resource, host, nonce, origin, protocols, extensions),
                (
                    (upgrade, connection, key, version, protocol_name, extension_name),
                    upgrade_value,
                    connection_value,
                    extra,
                    one_line,
                    leftover,
                    cuts,
                    shuffle,
                ),
            )| {
                let mut protocols_unique: Vec<String> = Vec::new();
                for p in protocols {
                    if !protocols_unique.contains(&p) {
                        protocols_unique.push(p);
                    }
                }
                let mut lines = vec![
                    format!("Host: {host}"),
                    format!("{upgrade}: {upgrade_value}"),
                    format!("{connection}: {connection_value}"),
                    format!("{key}: {}", base64(&nonce)),
                    format!("{version}: 13"),
                ];
                if let Some(origin) = &origin {
                    lines.push(format!("Origin: {origin}"));
                }
                lines.extend(extra.iter().map(|(n, v)| format!("{n}: {v}")));
                // Shuffle the fields whose order does not matter (offers must keep theirs).
                let mut seed = shuffle;
                for i in (1..lines.len()).rev() {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    lines.swap(i, (seed >> 33) as usize % (i + 1));
                }
                // Offers: one line each, or all on one line; merged in order either way.
                if one_line {
                    if !protocols_unique.is_empty() {
                        lines.push(format!("{protocol_name}: {}", protocols_unique.join(", ")));
                    }
                    if !extensions.is_empty() {
                        let joined: Vec<String> =
                            extensions.iter().map(ToString::to_string).collect();
                        lines.push(format!("{extension_name}: {}", joined.join(", ")));
                    }
                } else {
                    for p in &protocols_unique {
                        lines.push(format!("{protocol_name}: {p}"));
                    }
                    for e in &extensions {
                        lines.push(format!("{extension_name}: {e}"));
                    }
                }
                Valid {
                    resource,
                    host,
                    nonce,
                    origin,
                    protocols: protocols_unique,
                    extensions,
                    lines,
                    leftover,
                    cuts,
                }
            },
        )
}

impl Valid {
    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("GET {} HTTP/1.1\r\n", self.resource).into_bytes();
        for line in &self.lines {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.leftover);
        out
    }

    fn client_options(&self) -> ClientOptions {
        let mut options = ClientOptions::new();
        for p in &self.protocols {
            options = options.protocol(p.as_str());
        }
        for e in &self.extensions {
            options = options.extension(e.clone());
        }
        options
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_requests_are_accepted_and_the_client_validates_the_response(
        v in valid_request(),
        // The server's preferences: a shuffle of some offers, plus one nobody offered.
        prefer_reversed in any::<bool>(),
    ) {
        let bytes = v.bytes();
        let mut cuts: Vec<usize> = v.cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(bytes.len());

        let mut server = ServerHandshake::default();
        let mut start = 0;
        let mut request = None;
        for cut in cuts {
            match server.receive(&bytes[start..cut]) {
                Ok(Status::Partial) => {}
                Ok(Status::Complete(r)) => {
                    // Whatever was fed after the header block is leftover; feed the rest too.
                    request = Some((r, cut));
                    break;
                }
                Err(e) => panic!("a valid request was refused: {e:?}\n{}", String::from_utf8_lossy(&bytes)),
            }
            start = cut;
        }
        let (request, fed) = request.expect("a complete request");
        prop_assert!(server.parse_attempts() <= 1);
        prop_assert_eq!(request.resource(), v.resource.as_str());
        prop_assert_eq!(request.host(), v.host.as_str());
        prop_assert_eq!(request.origin(), v.origin.as_deref());
        prop_assert_eq!(request.protocols(), &v.protocols[..]);
        prop_assert_eq!(request.extensions(), &v.extensions[..]);
        let key = base64(&v.nonce);
        prop_assert_eq!(request.key(), Some(key.as_str()));
        let mut leftover = request.leftover().to_vec();
        leftover.extend_from_slice(&bytes[fed..]);
        prop_assert_eq!(&leftover, &v.leftover);

        let mut preferences: Vec<&str> = vec!["not-offered"];
        preferences.extend(v.protocols.iter().map(String::as_str));
        if prefer_reversed {
            preferences.reverse();
        }
        let chosen = request.select_protocol(&preferences);
        // RFC 6455 §4.2.2: our first preference among the offers.
        let expected = preferences.iter().copied().find(|p| v.protocols.iter().any(|o| o == p));
        prop_assert_eq!(chosen, expected);
        let mut accept = Accept::new().protocol(chosen);
        if let Some(e) = v.extensions.first() {
            accept = accept.extension(e.clone());
        }
        let accepted = request.accept(&accept).unwrap();

        let url = Url::parse(&format!("ws://example.com{}", v.resource)).unwrap();
        let mut client = ClientHandshake::with_nonce(&url, v.client_options(), v.nonce).unwrap();
        let mut response = accepted.to_bytes();
        response.extend_from_slice(b"\x81\x00");
        match client.receive(&response) {
            Ok(Status::Complete(established)) => {
                prop_assert_eq!(&established.negotiated, &accepted.negotiated);
                prop_assert_eq!(established.negotiated.protocol(), chosen);
                let first = v.extensions.first().map(ToString::to_string);
                prop_assert_eq!(established.negotiated.extensions(), first);
                prop_assert_eq!(established.leftover, b"\x81\x00");
            }
            other => panic!("the client refused the response: {other:?}"),
        }
    }

    #[test]
    fn requests_our_client_writes_are_accepted(v in valid_request()) {
        let url = Url::parse(&format!("ws://{}{}", v.host, v.resource)).unwrap();
        let client = ClientHandshake::with_nonce(&url, v.client_options(), v.nonce).unwrap();
        let mut server = ServerHandshake::default();
        let Ok(Status::Complete(request)) = server.receive(client.request_bytes()) else {
            panic!("our own request was refused:\n{}", String::from_utf8_lossy(client.request_bytes()))
        };
        prop_assert_eq!(request.resource(), url.resource());
        prop_assert_eq!(request.host(), url.host_header());
        prop_assert_eq!(request.key(), Some(client.key()));
        prop_assert_eq!(request.protocols(), &v.protocols[..]);
        prop_assert_eq!(request.extensions(), &v.extensions[..]);
    }
}

// Property: an extended CONNECT (RFC 8441 over HTTP/2, RFC 9220 over HTTP/3) that our client
// builds from any valid offer is accepted by our server with exactly what it offered, and the
// server's `200` for any choice among the offers validates at that client with the same
// `Negotiated` value.
#[cfg(feature = "http")]
proptest! {
    #[test]
    fn extended_connect_round_trips(
        v in valid_request(),
        h3 in any::<bool>(),
        prefer_reversed in any::<bool>(),
    ) {
        use wsmachine::handshake::{Bootstrap, ExtendedConnect, Request};

        let url = Url::parse(&format!("wss://{}{}", v.host, v.resource)).unwrap();
        let mut options = v.client_options();
        if let Some(origin) = &v.origin {
            options = options.origin(origin.as_str());
        }
        let (client, bootstrap) = if h3 {
            (ExtendedConnect::http3(&url, options).unwrap(), Bootstrap::Http3)
        } else {
            (ExtendedConnect::http2(&url, options).unwrap(), Bootstrap::Http2)
        };
        let req = client.request();
        let request = Request::from_extended_connect(&req, Some(ExtendedConnect::PROTOCOL))
            .unwrap_or_else(|e| panic!("our own extended CONNECT was refused: {e}\n{req:?}"));
        prop_assert_eq!(request.bootstrap(), &bootstrap);
        prop_assert_eq!(request.resource(), url.resource());
        prop_assert_eq!(request.host(), url.host_header());
        prop_assert_eq!(request.origin(), v.origin.as_deref());
        prop_assert_eq!(request.protocols(), &v.protocols[..]);
        prop_assert_eq!(request.extensions(), &v.extensions[..]);
        prop_assert!(request.leftover().is_empty());

        let mut preferences: Vec<&str> = vec!["not-offered"];
        preferences.extend(v.protocols.iter().map(String::as_str));
        if prefer_reversed {
            preferences.reverse();
        }
        let mut accept = Accept::new().protocol(request.select_protocol(&preferences));
        if let Some(e) = v.extensions.last() {
            accept = accept.extension(e.clone());
        }
        let accepted = request.accept(&accept).unwrap();
        prop_assert_eq!(accepted.status(), 200);
        let response = accepted.to_http().unwrap();
        prop_assert_eq!(client.validate(&response), Ok(accepted.negotiated.clone()));
        prop_assert_eq!(
            client.validate_fields(accepted.status(), accepted.headers()),
            Ok(accepted.negotiated)
        );
    }
}

#[test]
fn base64_matches_the_rfc_example() {
    assert_eq!(base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
}
