//! Test support shared by wsmachine's integration tests and fuzz targets: one scripted
//! client/server [`Pair`], one frame builder ([`frame`], [`FrameBuilder`]), one output parser
//! ([`frames`]), one checker of what a connection writes ([`WireChecker`]), and the helpers that
//! feed and drain a [`Connection`] the way a driver does.
//!
//! A test reads like the RFC:
//!
//! ```
//! use wsmachine::Event;
//! use wsmachine_testkit::Pair;
//!
//! let mut pair = Pair::connected();
//! pair.client.send_text("hello").unwrap();
//! pair.drive();
//! assert_eq!(pair.take_server_events(), [Event::Text("hello".into())]);
//! ```
//!
//! Hand-made input comes from the one builder, and output is checked by parsing it back with
//! the crate's own header decoder:
//!
//! ```
//! use wsmachine::frame::OpCode;
//! use wsmachine::{Config, Connection, Negotiated, Role};
//! use wsmachine_testkit::{KEY, frame, frames, output};
//!
//! let mut server = Connection::server(Negotiated::default(), Config::default());
//! server.receive(&frame(true, 0, OpCode::Ping, Some(KEY), b"hi"));
//! let sent = frames(&output(&mut server));
//! assert_eq!((sent[0].opcode, &sent[0].payload[..]), (OpCode::Pong, &b"hi"[..]));
//! ```
//!
//! Features: `deflate` (pairs that agreed to permessage-deflate, the `deflate` module) and
//! `tokio` (the `driver` module for the loopback driver tests).
#![warn(missing_docs)]
#![warn(unreachable_pub)]

pub mod alloc;
#[cfg(feature = "deflate")]
pub mod deflate;
#[cfg(feature = "tokio")]
pub mod driver;
mod failure;
mod feed;
mod frame;
mod output;
mod pair;
mod wire;

pub use failure::assert_failed;
pub use feed::Feed;
pub use frame::{Frame, FrameBuilder, Length, RawOpcode, fragments, frame, frames};
pub use output::{events, output, peek_output, take_output};
pub use pair::Pair;
pub use wire::WireChecker;

use wsmachine::{Config, Connection, FixedMask, Negotiated, Role};

/// The masking key of every client the testkit builds, so that output is byte-exact.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A connection of `role` without extensions (a client masks with [`KEY`]).
pub fn connection(role: Role, config: Config) -> Connection {
    connection_with(role, Negotiated::default(), config, KEY)
}

/// A connection of `role` after a handshake that agreed to `negotiated`; a client masks with
/// `key`.
pub fn connection_with(
    role: Role,
    negotiated: Negotiated,
    config: Config,
    key: [u8; 4],
) -> Connection {
    match role {
        Role::Server => Connection::server(negotiated, config),
        Role::Client => Connection::client_with_mask_source(negotiated, config, FixedMask(key)),
    }
}

/// The masking key a peer uses for frames it sends to `receiver`: [`KEY`] towards a server,
/// none towards a client (RFC 6455 §5.1).
pub fn peer_key(receiver: Role) -> Option<[u8; 4]> {
    match receiver {
        Role::Server => Some(KEY),
        Role::Client => None,
    }
}

/// `len` bytes of a pseudo-random pattern (xorshift) that depends on `seed`: incompressible,
/// and different for each seed.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
