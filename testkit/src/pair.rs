//! A client and a server joined in memory, as after a handshake.

use std::time::Duration;

use wsmachine::{Config, Connection, Event, FixedMask, Negotiated, Role};

use crate::{KEY, WireChecker, take_output};

/// A client and a server joined by an in-memory transport.
///
/// [`drive`](Self::drive) moves bytes both ways and takes every event until both sides are
/// quiet, closing the transport the way a driver does when a side asks for it; it panics if
/// they never settle (a livelock). [`drive_by`](Self::drive_by) moves at most a few bytes per
/// step, [`transfer`](Self::transfer) and [`poll`](Self::poll) move one thing at a time, and
/// [`cut`](Self::cut) breaks the transport. Every byte either side writes goes through its
/// [`WireChecker`], so every test also checks that both write only valid frames.
pub struct Pair {
    /// The client, masking with [`KEY`] unless built with [`from_connections`](Self::from_connections).
    pub client: Connection,
    /// The server.
    pub server: Connection,
    /// Events the client reported during [`drive`](Self::drive) or [`poll`](Self::poll), in
    /// order.
    pub client_events: Vec<Event>,
    /// Events the server reported, in order.
    pub server_events: Vec<Event>,
    /// What the client wrote, checked frame by frame.
    pub client_wire: WireChecker,
    /// What the server wrote, checked frame by frame.
    pub server_wire: WireChecker,
    /// The pair's clock: time since it was built. The connections have no timers yet, so only
    /// [`advance`](Self::advance) moves it.
    pub now: Duration,
    /// How many steps [`drive`](Self::drive) takes before it calls the pair livelocked.
    pub step_limit: usize,
    /// The transport is closed, both ways.
    closed: bool,
    /// It was closed by [`cut`](Self::cut), not because a side asked for it.
    cut: bool,
}

impl Pair {
    /// A pair with default configuration and no extensions.
    pub fn connected() -> Self {
        Self::with_config(Config::default(), Config::default())
    }

    /// A pair with these configurations and no extensions.
    pub fn with_config(client: Config, server: Config) -> Self {
        Self::negotiated(Negotiated::default(), client, server)
    }

    /// A pair that agreed to permessage-deflate with `params`.
    #[cfg(feature = "deflate")]
    pub fn with_deflate(
        params: wsmachine::extensions::DeflateParams,
        client: Config,
        server: Config,
    ) -> Self {
        Self::negotiated(Negotiated::new().with_deflate(params), client, server)
    }

    /// A pair where both sides agreed to `negotiated`.
    pub fn negotiated(negotiated: Negotiated, client: Config, server: Config) -> Self {
        Self::from_connections(
            Connection::client_with_mask_source(negotiated.clone(), client, FixedMask(KEY)),
            Connection::server(negotiated, server),
        )
    }

    /// A pair of connections built elsewhere (after a handshake, say); each side's output is
    /// checked against what it negotiated.
    pub fn from_connections(client: Connection, server: Connection) -> Self {
        assert_eq!(client.role(), Role::Client, "the client is a server");
        assert_eq!(server.role(), Role::Server, "the server is a client");
        Self {
            client_wire: WireChecker::for_connection(&client),
            server_wire: WireChecker::for_connection(&server),
            client,
            server,
            client_events: Vec::new(),
            server_events: Vec::new(),
            now: Duration::ZERO,
            step_limit: 10_000,
            closed: false,
            cut: false,
        }
    }

    /// The connection of `role`.
    pub fn side(&mut self, role: Role) -> &mut Connection {
        match role {
            Role::Client => &mut self.client,
            Role::Server => &mut self.server,
        }
    }

    /// Moves bytes both ways and takes every event until both sides are quiet. Panics after
    /// [`step_limit`](Self::step_limit) steps.
    pub fn drive(&mut self) {
        self.drive_by(usize::MAX);
    }

    /// Like [`drive`](Self::drive), moving at most `max_bytes` each way per step: a slow
    /// transport that cuts frames anywhere.
    pub fn drive_by(&mut self, max_bytes: usize) {
        for _ in 0..self.step_limit {
            if !self.step(max_bytes) {
                return;
            }
        }
        panic!(
            "the pair did not settle in {} steps: a livelock",
            self.step_limit
        );
    }

    /// One step: takes every event, moves at most `max_bytes` each way, and closes the
    /// transport if a side asks for it. Returns whether anything happened.
    pub fn step(&mut self, max_bytes: usize) -> bool {
        let mut progress = self.tick(Role::Client);
        progress |= self.tick(Role::Server);
        progress |= self.poll(Role::Client, usize::MAX) > 0;
        progress |= self.poll(Role::Server, usize::MAX) > 0;
        progress |= self.transfer(Role::Server, max_bytes) > 0;
        progress |= self.transfer(Role::Client, max_bytes) > 0;
        progress |= self.close_transport_if_wanted();
        progress
    }

    /// Moves at most `max_bytes` of what the other side wrote towards `to` (dropped if the
    /// transport is closed). Returns how many bytes the writer gave up.
    pub fn transfer(&mut self, to: Role, max_bytes: usize) -> usize {
        let (from, wire, to) = match to {
            Role::Server => (&mut self.client, &mut self.client_wire, &mut self.server),
            Role::Client => (&mut self.server, &mut self.server_wire, &mut self.client),
        };
        let bytes = take_output(from, max_bytes);
        wire.push(&bytes);
        if !self.closed && !bytes.is_empty() {
            to.receive(&bytes);
        }
        bytes.len()
    }

    /// Takes at most `n` events from the side of `role` into its events. Returns how many.
    pub fn poll(&mut self, role: Role, n: usize) -> usize {
        let (conn, events) = match role {
            Role::Client => (&mut self.client, &mut self.client_events),
            Role::Server => (&mut self.server, &mut self.server_events),
        };
        let before = events.len();
        events.extend(std::iter::from_fn(|| conn.poll_event()).take(n));
        events.len() - before
    }

    /// Closes the transport if either side asks for it
    /// ([`wants_transport_close`](Connection::wants_transport_close)), as a driver does: both
    /// see the end of stream. Returns whether it did.
    pub fn close_transport_if_wanted(&mut self) -> bool {
        if !self.closed
            && (self.client.wants_transport_close() || self.server.wants_transport_close())
        {
            self.close_transport();
            return true;
        }
        false
    }

    /// The transport breaks: both sides see the end of stream; what is written after it is
    /// lost. Nothing happens if it is already closed.
    pub fn cut(&mut self) {
        if !self.closed {
            self.cut = true;
            self.close_transport();
        }
    }

    /// Whether the transport is closed (both sides saw the end of stream).
    pub fn transport_closed(&self) -> bool {
        self.closed
    }

    /// Whether the transport was closed by [`cut`](Self::cut).
    pub fn was_cut(&self) -> bool {
        self.cut
    }

    /// Moves the clock forward by `by`. The sides see the new time when the pair next
    /// steps ([`drive`](Self::drive)).
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Gives the side of `role` the time if it asked for it
    /// ([`poll_timeout`](Connection::poll_timeout) at or before [`now`](Self::now)), as a
    /// driver's timer does. Returns whether it did.
    pub fn tick(&mut self, role: Role) -> bool {
        let now = self.now;
        let conn = self.side(role);
        match conn.poll_timeout() {
            Some(at) if at <= now => {
                conn.handle_timeout(now);
                true
            }
            _ => false,
        }
    }

    /// Takes the client's events.
    pub fn take_client_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_events)
    }

    /// Takes the server's events.
    pub fn take_server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_events)
    }

    fn close_transport(&mut self) {
        self.closed = true;
        self.client.receive_eof();
        self.server.receive_eof();
    }
}

#[cfg(test)]
mod tests {
    use wsmachine::{CloseCode, Event};

    use super::*;

    #[test]
    fn a_byte_per_step_delivers_the_same_as_all_at_once() {
        for max_bytes in [usize::MAX, 1, 3] {
            let mut pair = Pair::connected();
            pair.client.send_text("hello").unwrap();
            pair.server.send_binary(vec![7; 300]).unwrap();
            pair.client.close(CloseCode::NORMAL, "bye").unwrap();
            pair.drive_by(max_bytes);
            let client = pair.take_client_events();
            let server = pair.take_server_events();
            assert_eq!(server[0], Event::Text("hello".into()), "{max_bytes}");
            assert_eq!(client[0], Event::Binary(vec![7; 300].into()), "{max_bytes}");
            assert!(matches!(client.last(), Some(Event::Closed(o)) if o.clean));
            assert!(matches!(server.last(), Some(Event::Closed(o)) if o.clean));
            assert!(pair.transport_closed() && !pair.was_cut());
            assert_eq!(pair.client_wire.messages, [(true, b"hello".to_vec())]);
            assert_eq!(pair.server_wire.messages, [(false, vec![7; 300])]);
        }
    }

    #[test]
    fn a_cut_loses_what_is_in_flight() {
        let mut pair = Pair::connected();
        pair.client.send_text("lost").unwrap();
        assert_eq!(pair.transfer(Role::Server, 2), 2);
        pair.cut();
        pair.drive();
        assert!(pair.was_cut());
        for events in [pair.take_client_events(), pair.take_server_events()] {
            assert!(
                matches!(&events[..], [Event::Closed(o)] if o.code == CloseCode::ABNORMAL),
                "{events:?}"
            );
        }
    }
}
