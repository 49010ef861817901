//! The connection's timers on injected time, both roles: keepalive Pings, the Pong deadline,
//! the idle timeout, and the close timeout (a peer that never answers our Close, a server that
//! never closes the transport).

use std::time::Duration;

use wsmachine::frame::OpCode;
use wsmachine::{CloseCode, Config, Connection, Event, Initiator, ReadyState, Role, Timeout};
use wsmachine_testkit::{Pair, connection, events, frame, frames, output, peer_key};

const ROLES: [Role; 2] = [Role::Server, Role::Client];

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Gives `conn` the time `now` if it asked for it by then, as a driver's timer does.
fn tick(conn: &mut Connection, now: Duration) {
    if conn.poll_timeout().is_some_and(|at| at <= now) {
        conn.handle_timeout(now);
    }
}

/// A frame from the peer of `role`.
fn from_peer(role: Role, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    frame(true, 0, opcode, peer_key(role), payload)
}

fn keepalive(interval: u64, pong: Option<u64>) -> Config {
    let mut config = Config::default();
    config.keepalive_interval = Some(secs(interval));
    config.pong_timeout = pong.map(secs);
    config
}

fn closed(events: &[Event]) -> &wsmachine::CloseOutcome {
    match events.last() {
        Some(Event::Closed(outcome)) => outcome,
        other => panic!("not closed: {other:?}"),
    }
}

#[test]
fn no_timers_no_time_needed_except_the_close_timeout() {
    for role in ROLES {
        let mut config = Config::default();
        config.close_timeout = None;
        let mut conn = connection(role, config);
        assert_eq!(conn.poll_timeout(), None);
        conn.receive(&from_peer(role, OpCode::Text, b"hi"));
        assert_eq!(conn.poll_timeout(), None, "{role:?}");
        // The default has a close timeout, which starts only when closing does.
        let mut conn = connection(role, Config::default());
        assert_eq!(conn.poll_timeout(), None);
        conn.close(CloseCode::NORMAL, "").unwrap();
        assert_eq!(
            conn.poll_timeout(),
            Some(Duration::ZERO),
            "asks for the time"
        );
        conn.handle_timeout(secs(100));
        assert_eq!(conn.poll_timeout(), Some(secs(110)), "{role:?}");
    }
}

#[test]
fn keepalive_pings_after_an_interval_of_silence() {
    for role in ROLES {
        let mut conn = connection(role, keepalive(20, None));
        tick(&mut conn, secs(5));
        assert_eq!(conn.poll_timeout(), Some(secs(25)));
        tick(&mut conn, secs(24));
        assert!(output(&mut conn).is_empty());
        tick(&mut conn, secs(25));
        let sent = frames(&output(&mut conn));
        assert_eq!(sent.len(), 1, "{role:?}");
        assert_eq!(sent[0].opcode, OpCode::Ping);
        assert_eq!(sent[0].masked, role == Role::Client);
        assert_eq!(conn.poll_timeout(), Some(secs(45)), "the next one");
        // Input restarts the interval from the time the driver gives next.
        conn.receive(&from_peer(role, OpCode::Text, b"busy"));
        assert!(
            conn.poll_timeout().unwrap() <= secs(30),
            "asks for the time"
        );
        tick(&mut conn, secs(30));
        assert_eq!(conn.poll_timeout(), Some(secs(50)), "{role:?}");
        tick(&mut conn, secs(49));
        assert!(output(&mut conn).is_empty());
        assert_eq!(conn.state(), ReadyState::Open);
    }
}

#[test]
fn a_pong_in_time_keeps_the_connection_and_a_missing_one_ends_it() {
    for role in ROLES {
        // Answered: the Pong clears the deadline.
        let mut conn = connection(role, keepalive(10, Some(5)));
        tick(&mut conn, secs(0));
        tick(&mut conn, secs(10));
        assert_eq!(frames(&output(&mut conn))[0].opcode, OpCode::Ping);
        assert_eq!(conn.poll_timeout(), Some(secs(15)), "the Pong deadline");
        conn.receive(&from_peer(role, OpCode::Pong, b""));
        assert!(matches!(conn.poll_event(), Some(Event::Pong(_))));
        tick(&mut conn, secs(12));
        assert_eq!(
            conn.poll_timeout(),
            Some(secs(22)),
            "{role:?}: no deadline left"
        );
        tick(&mut conn, secs(16));
        assert_eq!(conn.state(), ReadyState::Open);

        // Not answered: 1006, not clean, no Close frame, and the transport closes at once.
        let mut conn = connection(role, keepalive(10, Some(5)));
        tick(&mut conn, secs(0));
        tick(&mut conn, secs(10));
        conn.send_text("unwritten").unwrap();
        tick(&mut conn, secs(14));
        assert_eq!(conn.state(), ReadyState::Open);
        tick(&mut conn, secs(15));
        let got = events(&mut conn);
        let outcome = closed(&got);
        assert_eq!(outcome.code, CloseCode::ABNORMAL, "{role:?}");
        assert!(!outcome.clean);
        assert_eq!(outcome.timeout, Some(Timeout::Pong));
        assert_eq!(outcome.initiator, Initiator::Local);
        assert_eq!(&*outcome.reason, Timeout::Pong.description());
        assert_eq!(conn.buffered_amount(), 0, "queued output dropped");
        assert!(conn.wants_transport_close());
        assert_eq!(
            conn.poll_timeout(),
            None,
            "a closed connection needs no time"
        );
    }
}

#[test]
fn keepalive_across_a_pair_keeps_both_open() {
    let mut pair = Pair::with_config(keepalive(10, Some(5)), keepalive(7, Some(3)));
    for _ in 0..30 {
        pair.advance(secs(1));
        pair.drive();
    }
    assert_eq!(pair.client.state(), ReadyState::Open);
    assert_eq!(pair.server.state(), ReadyState::Open);
    let pongs = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Pong(_)))
            .count()
    };
    let pings = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Ping(_)))
            .count()
    };
    // Each side's silence is broken by the other's Pings, so the faster one sets the pace.
    assert!(pongs(&pair.server_events) >= 3, "{:?}", pair.server_events);
    assert_eq!(pings(&pair.client_events), pongs(&pair.server_events));
}

#[test]
fn the_idle_timeout_ends_a_silent_connection() {
    for role in ROLES {
        let mut config = Config::default();
        config.idle_timeout = Some(secs(60));
        let mut conn = connection(role, config);
        tick(&mut conn, secs(0));
        tick(&mut conn, secs(50));
        conn.receive(&from_peer(role, OpCode::Binary, b"alive"));
        tick(&mut conn, secs(55));
        tick(&mut conn, secs(114));
        assert_eq!(
            conn.state(),
            ReadyState::Open,
            "{role:?}: 59 s since the input"
        );
        tick(&mut conn, secs(115));
        let got = events(&mut conn);
        assert!(matches!(got[0], Event::Binary(_)));
        let outcome = closed(&got);
        assert_eq!(outcome.timeout, Some(Timeout::Idle), "{role:?}");
        assert_eq!((outcome.code, outcome.clean), (CloseCode::ABNORMAL, false));
        assert!(frames(&output(&mut conn)).is_empty(), "no Close frame");
        assert!(conn.wants_transport_close());
    }
}

#[test]
fn the_close_timeout_bounds_the_wait_for_a_peer_that_never_answers() {
    for role in ROLES {
        let mut conn = connection(role, Config::default());
        tick(&mut conn, secs(3));
        conn.close(CloseCode::GOING_AWAY, "bye").unwrap();
        assert_eq!(frames(&output(&mut conn))[0].opcode, OpCode::Close);
        tick(&mut conn, secs(4));
        // Messages still arrive while closing; they do not restart the close timer.
        conn.receive(&from_peer(role, OpCode::Text, b"late"));
        tick(&mut conn, secs(13));
        assert_eq!(conn.state(), ReadyState::Closing, "{role:?}");
        tick(&mut conn, secs(14));
        let got = events(&mut conn);
        assert_eq!(got[0], Event::Text("late".into()));
        let outcome = closed(&got);
        assert_eq!(outcome.timeout, Some(Timeout::Close), "{role:?}");
        assert_eq!((outcome.code, outcome.clean), (CloseCode::ABNORMAL, false));
        assert_eq!(outcome.initiator, Initiator::Local);
        assert!(conn.wants_transport_close());

        // Answered in time: clean, and no timeout.
        let mut conn = connection(role, Config::default());
        tick(&mut conn, secs(0));
        conn.close(CloseCode::NORMAL, "").unwrap();
        tick(&mut conn, secs(1));
        conn.receive(&from_peer(role, OpCode::Close, &1000u16.to_be_bytes()));
        let got = events(&mut conn);
        let outcome = closed(&got);
        assert!(outcome.clean, "{role:?}");
        assert_eq!(outcome.timeout, None);
    }
}

#[test]
fn a_client_waits_the_close_timeout_for_a_server_that_never_closes_the_transport() {
    let mut config = Config::default();
    config.close_timeout = Some(secs(4));
    let mut conn = connection(Role::Client, config);
    tick(&mut conn, secs(0));
    conn.receive(&from_peer(
        Role::Client,
        OpCode::Close,
        &1000u16.to_be_bytes(),
    ));
    let got = events(&mut conn);
    assert!(closed(&got).clean);
    let _ = output(&mut conn); // our echo
    assert!(
        !conn.wants_transport_close(),
        "the server closes first (RFC 6455 §7.1.1)"
    );
    tick(&mut conn, secs(1));
    assert_eq!(conn.poll_timeout(), Some(secs(5)));
    tick(&mut conn, secs(4));
    assert!(!conn.wants_transport_close());
    tick(&mut conn, secs(5));
    assert!(conn.wants_transport_close(), "waited long enough");
    assert_eq!(conn.poll_timeout(), None);
    assert!(conn.poll_event().is_none(), "the outcome stays clean");

    // A server closes at once; the end of stream ends a client's wait too.
    let mut server = connection(Role::Server, Config::default());
    server.receive(&from_peer(Role::Server, OpCode::Close, b""));
    let _ = events(&mut server);
    let _ = output(&mut server);
    assert!(server.wants_transport_close());
    assert_eq!(server.poll_timeout(), None);
    let mut client = connection(Role::Client, Config::default());
    client.receive(&from_peer(Role::Client, OpCode::Close, b""));
    let _ = events(&mut client);
    let _ = output(&mut client);
    client.receive_eof();
    assert!(client.wants_transport_close());
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn a_clock_that_goes_backwards_moves_no_deadline() {
    let mut conn = connection(Role::Server, keepalive(10, None));
    tick(&mut conn, secs(100));
    assert_eq!(conn.poll_timeout(), Some(secs(110)));
    conn.handle_timeout(secs(1));
    assert_eq!(conn.poll_timeout(), Some(secs(110)));
    conn.receive(&from_peer(Role::Server, OpCode::Ping, b""));
    conn.handle_timeout(secs(2));
    assert_eq!(
        conn.poll_timeout(),
        Some(secs(110)),
        "restarted from the latest time seen"
    );
}
