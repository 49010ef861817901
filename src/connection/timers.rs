//! Timers, sans-IO: the connection says when it next needs the time and acts when told it.
//!
//! RFC 6455 has no timers, but a connection needs them: keepalive Pings, a deadline for their
//! Pong, an idle timeout, and a bound on the closing handshake. No clock is read here. Time is
//! a [`Duration`] since a fixed start of the driver's choosing, given to
//! [`Connection::handle_timeout`](crate::Connection::handle_timeout). An event that starts a
//! timer (input arrived, our Close was queued) cannot know the time, so it asks for it:
//! [`poll_timeout`](crate::Connection::poll_timeout) then returns a time already past, the
//! driver calls `handle_timeout` at once, and the timer starts from that `now`.

use core::time::Duration;

use super::Connection;
use super::lifecycle::{Input, State};
use crate::config::Config;
use crate::frame::OpCode;
use crate::frame::output::{Body, Output};
use crate::negotiated::Role;

impl Connection {
    /// When the connection next needs the time: call [`handle_timeout`](Self::handle_timeout)
    /// once the driver's clock reaches it. `None`: no timer runs (nothing configured, or the
    /// connection is over). A time at or before the last one given means "now": an event
    /// started a timer, which starts from the next `now` the driver gives.
    ///
    /// Times are [`Duration`]s since a fixed start of the driver's choosing (for example
    /// `Instant::now() - start`), the same for every call; no clock is read here, so this
    /// works without `std` and under a paused test clock. Check it after every call that
    /// feeds input, sends or takes events, as the driver contract says for the output.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.poll(&self.config, self.phase())
    }

    /// The driver's clock reads `now`: starts the timers that waited for the time, and acts
    /// on the ones that are due. A keepalive Ping is queued
    /// ([`Config::keepalive_interval`]); a peer that let a timer run out
    /// ([`Config::pong_timeout`], [`Config::idle_timeout`], [`Config::close_timeout`]) ends
    /// the connection with [`Event::Closed`](crate::Event::Closed): 1006, not clean, with
    /// [`CloseOutcome::timeout`](crate::CloseOutcome::timeout) saying which timer, no Close frame sent and queued output
    /// dropped, so the driver closes the transport at once; and after a clean close, a client
    /// that waited the close timeout for the server to close the transport
    /// [`wants_transport_close`](Self::wants_transport_close). Calling it early or often is
    /// harmless; `now` never moves the timers backwards.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wsmachine::{Config, Connection, Event, Negotiated, Role, Timeout};
    ///
    /// let mut config = Config::default();
    /// config.keepalive_interval = Some(Duration::from_secs(20));
    /// config.pong_timeout = Some(Duration::from_secs(10));
    /// let mut conn = Connection::server(Negotiated::new(), config);
    /// let start = conn.poll_timeout().unwrap(); // "now": the timers start from the next time
    /// conn.handle_timeout(start);
    /// assert_eq!(conn.poll_timeout(), Some(Duration::from_secs(20)));
    /// conn.handle_timeout(Duration::from_secs(20));
    /// assert_eq!(conn.pending_output(), b"\x89\x00"); // the keepalive Ping
    /// conn.handle_timeout(Duration::from_secs(30)); // no Pong
    /// let Some(Event::Closed(outcome)) = conn.poll_event() else { panic!() };
    /// assert_eq!((outcome.code.0, outcome.timeout), (1006, Some(Timeout::Pong)));
    /// assert!(conn.wants_transport_close());
    /// ```
    pub fn handle_timeout(&mut self, now: Duration) {
        // Each round acts on one due timer; a keepalive Ping re-arms its own timer later, and
        // a timeout ends the timers, so this ends.
        while let Some(due) = self.timers.tick(&self.config, self.phase(), now) {
            match due {
                Due::Ping => {
                    if self.lifecycle.check_control().is_ok() {
                        let key = self.masking_key();
                        self.out
                            .push_frame(OpCode::Ping, true, 0, key, Body::Borrowed(&[]));
                    }
                }
                Due::TimedOut(timeout) => {
                    self.step(Input::TimedOut(timeout));
                    // The peer is not answering: what is queued for it would never drain.
                    self.out = Output::default();
                }
                Due::CloseTransport => {}
            }
        }
    }

    /// What the timers wait for in the current state.
    fn phase(&self) -> Phase {
        match self.lifecycle.state() {
            State::Open => Phase::Open,
            State::CloseSent => Phase::Closing,
            State::Closed {
                clean: true,
                eof: false,
            } if self.role == Role::Client && !self.timers.transport_wait_over() => {
                Phase::AwaitingTransportClose
            }
            // Waiting for the application (the peer's Close, a violation, input kept past the
            // transport's end), or over.
            _ => Phase::Done,
        }
    }
}

/// Why a timer ended the connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timeout {
    /// A keepalive Ping got no Pong within [`Config::pong_timeout`].
    Pong,
    /// Nothing arrived from the peer for [`Config::idle_timeout`].
    Idle,
    /// Our Close got no Close in reply within [`Config::close_timeout`].
    Close,
}

impl Timeout {
    /// A short static description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Pong => "no pong within the pong timeout",
            Self::Idle => "nothing received within the idle timeout",
            Self::Close => "no close frame within the close timeout",
        }
    }
}

impl core::fmt::Display for Timeout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.description())
    }
}

/// What the connection must do now, from [`Timers::expire`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    /// Send a keepalive Ping.
    Ping,
    /// Give up on the peer.
    TimedOut(Timeout),
    /// A client waited long enough for the server to close the transport.
    CloseTransport,
}

/// What the connection is waiting for, as the timers see it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Messages flow: keepalive and idle timers run.
    Open,
    /// Our Close is queued and the peer's has not arrived.
    Closing,
    /// A client after a clean close, waiting for the server to close the transport.
    AwaitingTransportClose,
    /// Nothing to time.
    Done,
}

/// The deadlines. All `None` until the driver first tells the time.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// The latest time the driver gave.
    now: Option<Duration>,
    /// Input arrived since the driver last told the time: keepalive and idle restart then.
    input: bool,
    /// A Pong arrived since the driver last told the time.
    pong: bool,
    keepalive_at: Option<Duration>,
    pong_deadline: Option<Duration>,
    idle_at: Option<Duration>,
    /// The end of the closing handshake's wait, once it started.
    close_at: Option<Duration>,
    /// The phase the deadlines were set for.
    armed: Option<Phase>,
    /// The client's wait for the transport to close is over.
    transport_wait_over: bool,
}

impl Timers {
    /// Input arrived from the peer.
    #[inline]
    pub(crate) fn input(&mut self) {
        self.input = true;
    }

    /// A Pong arrived.
    pub(crate) fn pong(&mut self) {
        self.pong = true;
    }

    /// Whether the client's wait for the server to close the transport is over.
    pub(crate) fn transport_wait_over(&self) -> bool {
        self.transport_wait_over
    }

    /// When the connection next needs [`tick`](Self::tick): the earliest deadline, a time
    /// already past when a timer must start from the current time, or `None`.
    pub(crate) fn poll(&self, config: &Config, phase: Phase) -> Option<Duration> {
        if nothing_to_time(config, phase) {
            return None;
        }
        let asap = Some(self.now.unwrap_or(Duration::ZERO));
        if self.armed != Some(phase) {
            // A new phase starts its timers from the current time.
            return asap;
        }
        if phase == Phase::Open && (self.input || self.pong) {
            // Input restarts the keepalive and idle timers; a Pong ends the wait for one.
            return asap;
        }
        [
            self.keepalive_at,
            self.pong_deadline,
            self.idle_at,
            self.close_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The time is `now`: starts what waited for the time, and returns what is due, if
    /// anything (at most one thing per call; call again while something is due).
    pub(crate) fn tick(&mut self, config: &Config, phase: Phase, now: Duration) -> Option<Due> {
        // A clock that goes backwards is held where it was: deadlines never move earlier.
        let now = self.now.map_or(now, |seen| seen.max(now));
        self.now = Some(now);
        if self.armed != Some(phase) {
            self.enter(config, phase, now);
        }
        if core::mem::take(&mut self.pong) {
            self.pong_deadline = None;
        }
        if core::mem::take(&mut self.input) && phase == Phase::Open {
            self.keepalive_at = config.keepalive_interval.map(|d| now.saturating_add(d));
            self.idle_at = config.idle_timeout.map(|d| now.saturating_add(d));
        }
        let due = |at: Option<Duration>| at.is_some_and(|at| at <= now);
        if due(self.close_at) {
            self.close_at = None;
            return Some(match phase {
                Phase::AwaitingTransportClose => {
                    self.transport_wait_over = true;
                    Due::CloseTransport
                }
                _ => Due::TimedOut(Timeout::Close),
            });
        }
        if due(self.pong_deadline) {
            self.pong_deadline = None;
            return Some(Due::TimedOut(Timeout::Pong));
        }
        if due(self.idle_at) {
            self.idle_at = None;
            return Some(Due::TimedOut(Timeout::Idle));
        }
        if due(self.keepalive_at) {
            self.keepalive_at = config.keepalive_interval.map(|d| now.saturating_add(d));
            if self.pong_deadline.is_none() {
                self.pong_deadline = config.pong_timeout.map(|d| now.saturating_add(d));
            }
            return Some(Due::Ping);
        }
        None
    }

    /// Sets the deadlines for a new phase, from `now`.
    fn enter(&mut self, config: &Config, phase: Phase, now: Duration) {
        let from_now = |d: Option<Duration>| d.map(|d| now.saturating_add(d));
        self.armed = Some(phase);
        self.keepalive_at = None;
        self.pong_deadline = None;
        self.idle_at = None;
        self.close_at = None;
        match phase {
            Phase::Open => {
                self.keepalive_at = from_now(config.keepalive_interval);
                self.idle_at = from_now(config.idle_timeout);
            }
            Phase::Closing | Phase::AwaitingTransportClose => {
                self.close_at = from_now(config.close_timeout);
            }
            Phase::Done => {}
        }
    }
}

/// Whether `phase` has no timer configured at all (then the time is never needed).
fn nothing_to_time(config: &Config, phase: Phase) -> bool {
    match phase {
        Phase::Open => config.keepalive_interval.is_none() && config.idle_timeout.is_none(),
        Phase::Closing | Phase::AwaitingTransportClose => config.close_timeout.is_none(),
        Phase::Done => true,
    }
}
