//! The conversions and getters an ordinary program uses.

use std::borrow::Cow;

use wsmachine::{Bytes, CloseCode, Config, Connection, Event, Negotiated, Text};
use wsmachine_testkit::{frames, output};

fn server() -> Connection {
    Connection::server(Negotiated::new(), Config::default())
}

#[test]
fn text_payloads_come_from_every_string_type() {
    let mut c = server();
    c.send_text("a").unwrap();
    c.send_text(String::from("b")).unwrap();
    let c_owned = String::from("c");
    c.send_text(&c_owned).unwrap();
    c.send_text(Cow::Borrowed("d")).unwrap();
    c.send_text(Cow::<str>::Owned("e".into())).unwrap();
    c.send_text(Box::<str>::from("f")).unwrap();
    c.send_text(Text::from("g")).unwrap();
    let sent: Vec<Vec<u8>> = frames(&output(&mut c))
        .into_iter()
        .map(|f| f.payload)
        .collect();
    assert_eq!(sent, [b"a", b"b", b"c", b"d", b"e", b"f", b"g"]);
}

#[test]
fn binary_payloads_come_from_every_byte_type() {
    let mut c = server();
    c.send_binary(&b"a"[..]).unwrap();
    c.send_binary(b"b").unwrap();
    c.send_binary(vec![b'c']).unwrap();
    let d_owned = vec![b'd'];
    c.send_binary(&d_owned).unwrap();
    c.send_binary(Box::<[u8]>::from(&b"e"[..])).unwrap();
    c.send_binary(Cow::Borrowed(&b"f"[..])).unwrap();
    c.send_binary(Cow::<[u8]>::Owned(b"g".to_vec())).unwrap();
    c.send_binary(Bytes::from_static(b"h")).unwrap();
    c.send_binary("i").unwrap();
    let sent: Vec<Vec<u8>> = frames(&output(&mut c))
        .into_iter()
        .map(|f| f.payload)
        .collect();
    assert_eq!(sent, [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i"]);
}

#[test]
fn received_text_becomes_a_string() {
    let mut c = server();
    c.receive(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"); // RFC 6455 §5.7
    let Some(Event::Text(text)) = c.poll_event() else {
        panic!("no text")
    };
    let owned: String = text.into();
    assert_eq!(owned, "Hello");
}

#[test]
fn is_closed_follows_the_outcome() {
    let mut c = server();
    assert!(!c.is_closed());
    c.close(CloseCode::NORMAL, "").unwrap();
    assert!(!c.is_closed(), "closing, not closed");
    c.fail(CloseCode::GOING_AWAY, "").unwrap();
    assert!(c.is_closed());
    assert!(matches!(c.poll_event(), Some(Event::Closed(_))));
}
