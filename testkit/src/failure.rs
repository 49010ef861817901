//! The checks every protocol failure must pass (RFC 6455 §7.1.7).

use std::fmt::Display;

use wsmachine::frame::OpCode;
use wsmachine::{Connection, Event, Initiator, ProtocolError, ReadyState, Role};

use crate::{frame, frames, output, peer_key};

/// Checks that `conn` failed the connection with `error`, given the `events` it reported: the
/// last event is the outcome (the error, its close code, not clean, initiated by us); the last
/// frame it wrote is a Close with that code, masked if it is a client; it is closed and wants
/// the transport closed; and whatever arrives next delivers and sends nothing. Takes the
/// output. `context` goes into every failure message.
#[track_caller]
pub fn assert_failed(
    conn: &mut Connection,
    events: &[Event],
    error: ProtocolError,
    context: impl Display,
) {
    let role = conn.role();
    let Some(Event::Closed(outcome)) = events.last() else {
        panic!("no outcome: {events:?} ({role:?} {context})")
    };
    assert_eq!(outcome.error, Some(error), "{role:?} {context}");
    assert_eq!(outcome.code, error.close_code(), "{role:?} {context}");
    assert!(!outcome.clean, "{role:?} {context}");
    assert_eq!(outcome.initiator, Initiator::Local, "{role:?} {context}");
    let sent = frames(&output(conn));
    let close = sent.last().expect("a close frame");
    assert_eq!(close.opcode, OpCode::Close, "{role:?} {context}");
    assert_eq!(close.masked, role == Role::Client, "{role:?} {context}");
    assert_eq!(
        close.payload[..2],
        error.close_code().0.to_be_bytes(),
        "{role:?} {context}"
    );
    assert_eq!(conn.state(), ReadyState::Closed, "{role:?} {context}");
    assert!(conn.wants_transport_close(), "{role:?} {context}");
    // Nothing more is delivered or sent, whatever arrives next.
    conn.receive(&frame(true, 0, OpCode::Text, peer_key(role), b"late"));
    assert_eq!(conn.poll_event(), None, "{role:?} {context}");
    assert!(conn.pending_output().is_empty(), "{role:?} {context}");
}
