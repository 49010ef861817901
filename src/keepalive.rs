//! A keepalive helper in the sans-IO style: it never reads a clock; the driver passes `now`.
//!
//! RFC 6455 has no timers, so detecting a dead peer is the driver's policy. [`Keepalive`]
//! implements the common one: after `interval` with nothing received, send a Ping; if nothing
//! at all (a Pong or any other frame) arrives within `timeout` of that Ping, report the peer
//! dead.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use wsmachine::keepalive::{Keepalive, Liveness};
//! use wsmachine::{Config, Connection, Negotiated, Role};
//!
//! let start = Instant::now();
//! let mut conn = Connection::new(Role::Server, Negotiated::default(), Config::default());
//! let mut keepalive = Keepalive::new(Duration::from_secs(30), Duration::from_secs(10), start);
//!
//! // The driver sleeps until `poll_timeout()` (or until the socket is readable), then:
//! let now = start + Duration::from_secs(30);
//! assert_eq!(keepalive.poll_timeout(), now);
//! assert_eq!(keepalive.handle_timeout(&mut conn, now), Liveness::Alive);
//! assert!(!conn.pending_output().is_empty()); // a Ping to write
//!
//! // No answer within the timeout: the peer is gone.
//! let later = now + Duration::from_secs(10);
//! assert_eq!(keepalive.handle_timeout(&mut conn, later), Liveness::Dead);
//! ```
//!
//! After every `receive`, call [`Keepalive::record_activity`]: any byte from the peer proves it
//! is alive, so a busy connection never pings.

use std::time::{Duration, Instant};

use crate::Connection;

/// Whether the peer still answers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Nothing is wrong (a Ping may have been queued: write the output).
    Alive,
    /// No sign of life within the timeout after a Ping. The transport is probably gone:
    /// close it and call [`Connection::receive_eof`] (the outcome is 1006); sending a Close
    /// to a peer that does not answer is pointless.
    Dead,
}

/// Pings an idle peer and reports it dead when it stops answering. See the module docs.
#[derive(Clone, Debug)]
pub struct Keepalive {
    interval: Duration,
    timeout: Duration,
    last_activity: Instant,
    /// When the unanswered Ping went out, if one did.
    ping_sent: Option<Instant>,
    pings: u64,
}

impl Keepalive {
    /// Pings after `interval` without input; reports the peer dead `timeout` after an
    /// unanswered Ping. `now` starts the first interval.
    pub fn new(interval: Duration, timeout: Duration, now: Instant) -> Self {
        Self {
            interval,
            timeout,
            last_activity: now,
            ping_sent: None,
            pings: 0,
        }
    }

    /// Records that bytes arrived from the peer at `now`: call it after every `receive`, and
    /// only then — it also clears the unanswered Ping, since any byte proves the peer alive.
    pub fn record_activity(&mut self, now: Instant) {
        self.last_activity = self.last_activity.max(now);
        self.ping_sent = None;
    }

    /// The next moment [`handle_timeout`](Self::handle_timeout) has work to do.
    pub fn poll_timeout(&self) -> Instant {
        match self.ping_sent {
            Some(sent) => sent + self.timeout,
            None => self.last_activity + self.interval,
        }
    }

    /// Does what is due at `now`: queues a Ping on `conn` when the peer has been quiet for
    /// the interval, or reports it dead when the Ping went unanswered for the timeout. Calling
    /// it early is harmless. A connection that can no longer send (closing or closed) is left
    /// alone.
    pub fn handle_timeout(&mut self, conn: &mut Connection, now: Instant) -> Liveness {
        match self.ping_sent {
            Some(sent) if now >= sent + self.timeout => Liveness::Dead,
            Some(_) => Liveness::Alive,
            None if now >= self.last_activity + self.interval => {
                self.pings += 1;
                // The payload numbers the pings; any answer at all counts as life.
                if conn.send_ping(&self.pings.to_be_bytes()).is_ok() {
                    self.ping_sent = Some(now);
                }
                Liveness::Alive
            }
            None => Liveness::Alive,
        }
    }

    /// How many Pings this helper has sent.
    pub fn pings_sent(&self) -> u64 {
        self.pings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{FrameHeader, OpCode, Status};
    use crate::{Config, Negotiated, Role};

    fn ping_count(conn: &mut Connection) -> usize {
        let mut n = 0;
        let mut out = conn.pending_output().to_vec();
        conn.consume_output(out.len());
        while let Ok(Status::Complete((h, used))) = FrameHeader::decode(&out) {
            assert_eq!(h.opcode, OpCode::Ping);
            n += 1;
            out.drain(..used + h.payload_len as usize);
        }
        n
    }

    #[test]
    fn pings_when_idle_and_reports_a_dead_peer() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut conn = Connection::new(Role::Server, Negotiated::default(), Config::default());
        let mut k = Keepalive::new(s(30), s(10), t0);
        // (time since t0, activity before it?, expected liveness, pings queued)
        let table: &[(u64, bool, Liveness, usize)] = &[
            (10, false, Liveness::Alive, 0),
            (29, false, Liveness::Alive, 0),
            (30, false, Liveness::Alive, 1), // idle for the interval: ping
            (35, false, Liveness::Alive, 0), // waiting for the answer
            (36, true, Liveness::Alive, 0),  // answered: a new interval starts at 36
            (65, false, Liveness::Alive, 0),
            (66, false, Liveness::Alive, 1),
            (75, false, Liveness::Alive, 0),
            (76, false, Liveness::Dead, 0), // no answer for the timeout
        ];
        for &(at, activity, liveness, pings) in table {
            let now = t0 + s(at);
            if activity {
                k.record_activity(now);
            }
            assert_eq!(k.handle_timeout(&mut conn, now), liveness, "at {at}s");
            assert_eq!(ping_count(&mut conn), pings, "at {at}s");
        }
        assert_eq!(k.pings_sent(), 2);
    }

    #[test]
    fn poll_timeout_tracks_the_next_deadline() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut conn = Connection::new(Role::Server, Negotiated::default(), Config::default());
        let mut k = Keepalive::new(s(5), s(2), t0);
        assert_eq!(k.poll_timeout(), t0 + s(5));
        k.record_activity(t0 + s(3));
        assert_eq!(k.poll_timeout(), t0 + s(8));
        k.handle_timeout(&mut conn, t0 + s(8));
        assert_eq!(k.poll_timeout(), t0 + s(10));
        // A closed connection cannot ping: no ping is recorded, and it is never "dead".
        conn.fail(crate::CloseCode::NORMAL, "").unwrap();
        let mut k = Keepalive::new(s(1), s(1), t0);
        assert_eq!(k.handle_timeout(&mut conn, t0 + s(1)), Liveness::Alive);
        assert_eq!(k.poll_timeout(), t0 + s(1));
    }
}
