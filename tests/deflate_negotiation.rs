//! permessage-deflate negotiation (RFC 7692 §7.1): the server's choice among offers, the
//! client's check of the response, and both through the real handshakes. One line per case.
#![cfg(feature = "deflate")]

use wsmachine::extensions::{DeflateError, DeflateOptions, DeflateParams};
use wsmachine::handshake::{
    Accept, BuildError, ClientError, ClientHandshake, ClientOptions, Extension, ServerHandshake,
    Url, accept_key,
};
use wsmachine::{Negotiated, NegotiatedError, Status};

fn list(value: &str) -> Vec<Extension> {
    Extension::parse_list(value).unwrap()
}

/// Options from a compact description: `s` server_no_context_takeover, `c`
/// client_no_context_takeover, `S<n>` server_max_window_bits, `C<n>` client_max_window_bits.
fn options(spec: &str) -> DeflateOptions {
    let mut o = DeflateOptions::new();
    for word in spec.split_whitespace() {
        match word.split_at(1) {
            ("s", "") => o.server_no_context_takeover = true,
            ("c", "") => o.client_no_context_takeover = true,
            ("S", n) => o.server_max_window_bits = Some(n.parse().unwrap()),
            ("C", n) => o.client_max_window_bits = Some(n.parse().unwrap()),
            _ => panic!("bad spec {word}"),
        }
    }
    o
}

/// Params from the same compact description.
fn params(spec: &str) -> DeflateParams {
    let o = options(spec);
    let mut p = DeflateParams::new();
    p.server_no_context_takeover = o.server_no_context_takeover;
    p.client_no_context_takeover = o.client_no_context_takeover;
    p.server_max_window_bits = o.server_max_window_bits;
    p.client_max_window_bits = o.client_max_window_bits;
    p
}

#[test]
fn server_accepts_the_first_offer_it_can_honour() {
    // (our options, the client's offers, the response element or None for declined)
    let table: &[(&str, &str, Option<&str>)] = &[
        ("", "permessage-deflate", Some("permessage-deflate")),
        ("", "PerMessage-Deflate", Some("permessage-deflate")),
        (
            "",
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate"),
        ),
        // The client's hint binds it; echoing it lets our decompressor be small.
        (
            "",
            "permessage-deflate; client_max_window_bits=10",
            Some("permessage-deflate; client_max_window_bits=10"),
        ),
        (
            "",
            "permessage-deflate; server_max_window_bits=10",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            "",
            "permessage-deflate; server_max_window_bits=\"12\"",
            Some("permessage-deflate; server_max_window_bits=12"),
        ),
        // 8 bits: agreed, and kept by sending uncompressed.
        (
            "",
            "permessage-deflate; server_max_window_bits=8",
            Some("permessage-deflate; server_max_window_bits=8"),
        ),
        (
            "",
            "permessage-deflate; client_max_window_bits=8",
            Some("permessage-deflate; client_max_window_bits=8"),
        ),
        (
            "",
            "permessage-deflate; server_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        // A client's promise is echoed, so both ends hold the same parameters.
        (
            "",
            "permessage-deflate; client_no_context_takeover",
            Some("permessage-deflate; client_no_context_takeover"),
        ),
        (
            "",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=9; client_max_window_bits=9",
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=9",
            ),
        ),
        // Our own limits.
        (
            "s",
            "permessage-deflate",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        (
            "c",
            "permessage-deflate",
            Some("permessage-deflate; client_no_context_takeover"),
        ),
        (
            "S11",
            "permessage-deflate",
            Some("permessage-deflate; server_max_window_bits=11"),
        ),
        (
            "S11",
            "permessage-deflate; server_max_window_bits=13",
            Some("permessage-deflate; server_max_window_bits=11"),
        ),
        (
            "S11",
            "permessage-deflate; server_max_window_bits=9",
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (
            "C12",
            "permessage-deflate; client_max_window_bits",
            Some("permessage-deflate; client_max_window_bits=12"),
        ),
        (
            "C12",
            "permessage-deflate; client_max_window_bits=10",
            Some("permessage-deflate; client_max_window_bits=10"),
        ),
        // Without the client's client_max_window_bits we may not limit its window.
        ("C12", "permessage-deflate", Some("permessage-deflate")),
        // Declined: malformed offers (RFC 7692 §7).
        ("", "permessage-deflate; server_max_window_bits", None),
        ("", "permessage-deflate; server_max_window_bits=7", None),
        ("", "permessage-deflate; server_max_window_bits=16", None),
        ("", "permessage-deflate; server_max_window_bits=09", None),
        ("", "permessage-deflate; client_max_window_bits=16", None),
        ("", "permessage-deflate; client_max_window_bits=0", None),
        ("", "permessage-deflate; server_no_context_takeover=1", None),
        (
            "",
            "permessage-deflate; client_no_context_takeover=true",
            None,
        ),
        ("", "permessage-deflate; foo", None),
        ("", "permessage-deflate; max_window_bits=10", None),
        (
            "",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            None,
        ),
        (
            "",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            None,
        ),
        (
            "",
            "permessage-deflate; Server_Max_Window_Bits=10; server_max_window_bits=10",
            None,
        ),
        // Other extensions are not ours to answer.
        ("", "x-webkit-deflate-frame", None),
        ("", "", None),
        // The first acceptable offer wins; the others are declined.
        (
            "",
            "permessage-deflate; foo, permessage-deflate; server_no_context_takeover",
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        (
            "",
            "foo, permessage-deflate; client_max_window_bits=11, permessage-deflate",
            Some("permessage-deflate; client_max_window_bits=11"),
        ),
    ];
    for &(ours, offers, expected) in table {
        let agreed = options(ours).negotiate(&list(offers));
        assert_eq!(
            agreed.map(|p| p.to_extension().to_string()).as_deref(),
            expected,
            "options {ours:?}, offers {offers:?}"
        );
    }
}

#[test]
fn client_offers() {
    for (ours, offer) in [
        ("", "permessage-deflate; client_max_window_bits"),
        (
            "s",
            "permessage-deflate; server_no_context_takeover; client_max_window_bits",
        ),
        (
            "c",
            "permessage-deflate; client_no_context_takeover; client_max_window_bits",
        ),
        (
            "S10",
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits",
        ),
        ("C9", "permessage-deflate; client_max_window_bits=9"),
        (
            "s c S8 C15",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=8; client_max_window_bits=15",
        ),
    ] {
        assert_eq!(options(ours).offer().to_string(), offer, "{ours:?}");
    }
}

#[test]
fn client_checks_the_response_against_its_offers() {
    use DeflateError::*;
    // (our offers, the response element, the agreed parameters or the error)
    let table: &[(&str, &str, Result<&str, DeflateError>)] = &[
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
            Ok(""),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "PERMESSAGE-DEFLATE",
            Ok(""),
        ),
        // The server may add these unasked.
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_no_context_takeover",
            Ok("s"),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_no_context_takeover",
            Ok("c"),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=10",
            Ok("S10"),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=9",
            Ok("C9"),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=8",
            Ok("C8"),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=\"11\"",
            Ok("C11"),
        ),
        // Malformed responses.
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits",
            Err(InvalidValue),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits",
            Err(InvalidValue),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            Err(InvalidValue),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=010",
            Err(InvalidValue),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_no_context_takeover=x",
            Err(InvalidValue),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; foo",
            Err(UnknownParameter),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            Err(DuplicateParameter),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "x-other",
            Err(NotOffered),
        ),
        // A request of ours must be answered.
        (
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate",
            Err(NotOffered),
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover",
            Ok("s"),
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate",
            Err(NotOffered),
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=10",
            Ok("S10"),
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=9",
            Ok("S9"),
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=11",
            Err(NotOffered),
        ),
        // client_max_window_bits only if offered.
        (
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits=10",
            Err(NotOffered),
        ),
        (
            "permessage-deflate",
            "permessage-deflate; server_no_context_takeover",
            Ok("s"),
        ),
        // Our hint and promise bind us whatever the response says.
        (
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate",
            Ok("C10"),
        ),
        (
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=12",
            Ok("C10"),
        ),
        (
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=9",
            Ok("C9"),
        ),
        (
            "permessage-deflate; client_no_context_takeover; client_max_window_bits",
            "permessage-deflate",
            Ok("c"),
        ),
        // Several offers: the response must fit one of them.
        (
            "permessage-deflate; server_no_context_takeover, permessage-deflate",
            "permessage-deflate",
            Ok(""),
        ),
        (
            "permessage-deflate; server_max_window_bits=9, permessage-deflate; server_max_window_bits=12",
            "permessage-deflate; server_max_window_bits=11",
            Ok("S11"),
        ),
        (
            "foo, permessage-deflate; server_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=11",
            Err(NotOffered),
        ),
        ("foo", "permessage-deflate", Err(NotOffered)),
    ];
    for &(offers, response, expected) in table {
        let response_ext = list(response).remove(0);
        assert_eq!(
            DeflateParams::from_response(&response_ext, &list(offers)),
            expected.map(params),
            "offers {offers:?}, response {response:?}"
        );
    }
}

/// Runs both handshakes; returns what each side agreed to, or the client's error.
fn handshake(
    client: DeflateOptions,
    server: DeflateOptions,
) -> (
    Option<DeflateParams>,
    Result<Option<DeflateParams>, ClientError>,
    Vec<u8>,
) {
    let url = Url::parse("ws://example.com/").unwrap();
    let mut hs =
        ClientHandshake::with_nonce(&url, ClientOptions::new().deflate(client), [9; 16]).unwrap();
    let Ok(Status::Complete(request)) = ServerHandshake::default().receive(hs.request_bytes())
    else {
        panic!("request refused")
    };
    let accepted = request
        .accept(&Accept::new().deflate(request.select_deflate(&server)))
        .unwrap();
    let ours = accepted.negotiated.deflate().copied();
    let theirs = match hs.receive(&accepted.to_bytes()) {
        Ok(Status::Complete(done)) => Ok(done.negotiated.deflate().copied()),
        Ok(Status::Partial) => panic!("partial response"),
        Err(e) => Err(e),
    };
    (ours, theirs, accepted.to_bytes())
}

#[test]
fn both_handshakes_agree() {
    for (client, server) in [
        ("", ""),
        ("s c", ""),
        ("", "s c"),
        ("S9", "C9"),
        ("S12 C10", "S11 C12"),
        ("C8", "S8"),
        ("s c S15 C15", "s c S15 C15"),
    ] {
        let (ours, theirs, response) = handshake(options(client), options(server));
        assert!(ours.is_some(), "{client:?} / {server:?}");
        assert_eq!(Ok(ours), theirs, "{client:?} / {server:?}");
        let response = String::from_utf8(response).unwrap();
        assert!(
            response.contains(&format!(
                "Sec-WebSocket-Extensions: {}\r\n",
                ours.unwrap().to_extension()
            )),
            "{response}"
        );
    }
    let (ours, theirs, _) = handshake(options("S12 C10"), options("S11 C12"));
    assert_eq!(ours, Some(params("S11 C10")));
    assert_eq!(theirs, Ok(Some(params("S11 C10"))));
}

/// A client handshake offering deflate, answered by `extensions`.
fn client_sees(
    offer: DeflateOptions,
    extensions: &str,
) -> Result<Option<DeflateParams>, ClientError> {
    let url = Url::parse("ws://example.com/").unwrap();
    let mut hs =
        ClientHandshake::with_nonce(&url, ClientOptions::new().deflate(offer), [3; 16]).unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n",
        accept_key(hs.key())
    );
    match hs.receive(response.as_bytes())? {
        Status::Complete(done) => Ok(done.negotiated.deflate().copied()),
        Status::Partial => panic!("partial"),
    }
}

#[test]
fn the_client_handshake_fails_on_a_response_it_did_not_offer() {
    assert_eq!(client_sees(options(""), ""), Ok(None));
    assert_eq!(
        client_sees(
            options("S10"),
            "permessage-deflate; server_max_window_bits=10"
        ),
        Ok(Some(params("S10")))
    );
    for (offer, extensions, error) in [
        (
            "S10",
            "permessage-deflate; server_max_window_bits=12",
            DeflateError::NotOffered,
        ),
        ("s", "permessage-deflate", DeflateError::NotOffered),
        (
            "",
            "permessage-deflate; bogus",
            DeflateError::UnknownParameter,
        ),
        (
            "",
            "permessage-deflate; client_max_window_bits",
            DeflateError::InvalidValue,
        ),
        (
            "",
            "permessage-deflate, permessage-deflate",
            DeflateError::DuplicateExtension,
        ),
    ] {
        assert_eq!(
            client_sees(options(offer), extensions),
            Err(ClientError::Deflate(error)),
            "{offer:?} / {extensions:?}"
        );
    }
    // An extension never offered at all is refused before its parameters are looked at.
    let url = Url::parse("ws://example.com/").unwrap();
    let mut hs = ClientHandshake::with_nonce(&url, ClientOptions::new(), [3; 16]).unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        accept_key(hs.key())
    );
    assert_eq!(
        hs.receive(response.as_bytes()).err(),
        Some(ClientError::UnofferedExtension)
    );
}

#[test]
fn the_server_accepts_deflate_only_if_offered() {
    let mut server = ServerHandshake::default();
    let Ok(Status::Complete(request)) = server.receive(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    ) else {
        panic!()
    };
    assert_eq!(request.select_deflate(&DeflateOptions::new()), None);
    // Accepting nothing is fine; forcing parameters on a client that did not offer is not.
    let accepted = request.accept(&Accept::new().deflate(None)).unwrap();
    assert_eq!(accepted.negotiated.deflate(), None);
    assert!(!String::from_utf8_lossy(&accepted.to_bytes()).contains("Extensions"));
    assert_eq!(
        request.accept(&Accept::new().deflate(DeflateParams::new())),
        Err(BuildError::UnofferedExtension)
    );
}

/// `Negotiated` holds the agreed extensions as typed values; the header text is derived from
/// them in one canonical order, whatever order they were set in.
#[test]
fn the_extensions_header_is_derived_in_canonical_order() {
    let foo = Extension::new("x-foo").with_param("a", Some("1"));
    let deflate_first = Negotiated::new()
        .with_deflate(params("s C10"))
        .with_extension(foo.clone())
        .unwrap();
    let deflate_last = Negotiated::new()
        .with_extension(foo.clone())
        .unwrap()
        .with_deflate(params("s C10"));
    let canonical =
        "x-foo; a=1, permessage-deflate; server_no_context_takeover; client_max_window_bits=10";
    for n in [&deflate_first, &deflate_last] {
        assert_eq!(n.extensions().as_deref(), Some(canonical));
        assert_eq!(n.deflate(), Some(&params("s C10")));
        assert_eq!(n.other_extensions(), std::slice::from_ref(&foo));
    }
    assert_eq!(deflate_first, deflate_last);
    // permessage-deflate cannot be added as text beside its parameters.
    assert_eq!(
        Negotiated::new().with_extension(Extension::new("permessage-deflate")),
        Err(NegotiatedError::DeflateAsExtension)
    );
}

/// Through both handshakes: the server writes the derived value (permessage-deflate last,
/// whatever order `Accept` was built in), and the client ends with the same typed values,
/// permessage-deflate in `deflate` and the other extension beside it.
#[test]
fn deflate_and_another_extension_through_both_handshakes() {
    let url = Url::parse("ws://example.com/").unwrap();
    let options = ClientOptions::new()
        .extension(Extension::new("x-foo"))
        .deflate(DeflateOptions::new());
    let foo = Extension::new("x-foo").with_param("a", Some("1"));
    for deflate_first in [true, false] {
        let mut hs = ClientHandshake::with_nonce(&url, options.clone(), [9; 16]).unwrap();
        let Ok(Status::Complete(request)) = ServerHandshake::default().receive(hs.request_bytes())
        else {
            panic!("request refused")
        };
        let deflate = request.select_deflate(&DeflateOptions::new());
        let accept = if deflate_first {
            Accept::new().deflate(deflate).extension(foo.clone())
        } else {
            Accept::new().extension(foo.clone()).deflate(deflate)
        };
        let accepted = request.accept(&accept).unwrap();
        let response = String::from_utf8(accepted.to_bytes()).unwrap();
        assert!(
            response.contains("\r\nSec-WebSocket-Extensions: x-foo; a=1, permessage-deflate\r\n"),
            "{response}"
        );
        let Ok(Status::Complete(established)) = hs.receive(&accepted.to_bytes()) else {
            panic!("response refused")
        };
        assert_eq!(established.negotiated, accepted.negotiated);
        assert_eq!(established.negotiated.deflate(), deflate.as_ref());
        assert_eq!(
            established.negotiated.other_extensions(),
            std::slice::from_ref(&foo)
        );
    }
}
