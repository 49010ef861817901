//! The connection's lifecycle: one state, one transition function.
//!
//! Every change of the connection's state goes through [`Lifecycle::step`], which looks the
//! state and the input up in the table below and returns what the connection must do (queue a
//! Close frame, report the outcome). Nothing else writes the state.
//!
//! The states and the transition table are in the crate docs ("Architecture: the
//! lifecycle"), where users read them; `tests::the_table` below checks the function against
//! every row, and `tests/prop_lifecycle.rs` checks the running connection against the table.

use super::timers::Timeout;
use crate::error::{ProtocolError, SendError};

/// The connection's state. See the crate docs for the table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Open,
    CloseSent,
    PeerClosed {
        sent: bool,
        eof: bool,
    },
    Failing {
        error: ProtocolError,
        sent: bool,
        eof: bool,
    },
    Ending {
        sent: bool,
    },
    Closed {
        clean: bool,
        eof: bool,
    },
}

/// What happens to the connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// The application starts the closing handshake.
    Close,
    /// The application fails the connection.
    Fail,
    /// A valid Close frame arrived.
    PeerClose,
    /// The peer broke the protocol.
    Violation(ProtocolError),
    /// The transport ended; `pending`: input or decoder work is left to deliver.
    Eof { pending: bool },
    /// After the transport ended, the last buffered input was parsed.
    Drained,
    /// The application took the peer's Close event.
    CloseTaken,
    /// The application took every event before the protocol violation.
    EventsTaken,
    /// A timer gave up on the peer.
    TimedOut(Timeout),
}

/// How the connection ended, for the outcome the connection reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The closing handshake completed; `local`: our Close went first.
    Clean { local: bool },
    /// The application failed the connection.
    Failed,
    /// We failed the connection because the peer broke the protocol.
    Violation(ProtocolError),
    /// The transport ended before the closing handshake did; `local`: we had started it.
    Abnormal { local: bool },
    /// A timer gave up on the peer.
    TimedOut(Timeout),
}

/// What the connection does on a transition.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Output {
    /// Queue our Close frame.
    pub(crate) send_close: bool,
    /// Report the outcome.
    pub(crate) report: Option<Ending>,
}

/// The lifecycle: the state and the one function that changes it.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    state: State,
}

impl Lifecycle {
    pub(crate) const fn new() -> Self {
        Self { state: State::Open }
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    /// Applies `input`: looks up the transition, lets `act` carry out its output (queue the
    /// Close frame), then moves to the next state. A refused input changes nothing.
    pub(crate) fn step(
        &mut self,
        input: Input,
        act: impl FnOnce(Output),
    ) -> Result<Output, SendError> {
        let (next, output) = transition(self.state, input)?;
        act(output);
        self.state = next;
        Ok(output)
    }

    /// Whether new input from the transport is parsed.
    #[inline]
    pub(crate) fn reading(&self) -> bool {
        matches!(self.state, State::Open | State::CloseSent)
    }

    /// Whether input already received is parsed (also after the transport ended).
    #[inline]
    pub(crate) fn parsing(&self) -> bool {
        matches!(
            self.state,
            State::Open | State::CloseSent | State::Ending { .. }
        )
    }

    /// Whether our Close frame is queued (or the connection is over).
    pub(crate) fn close_sent(&self) -> bool {
        match self.state {
            State::Open => false,
            State::CloseSent | State::Closed { .. } => true,
            State::PeerClosed { sent, .. }
            | State::Failing { sent, .. }
            | State::Ending { sent } => sent,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed { .. })
    }

    /// Whether the transport's end of stream was seen.
    pub(crate) fn eof(&self) -> bool {
        match self.state {
            State::Open | State::CloseSent => false,
            State::Ending { .. } => true,
            State::PeerClosed { eof, .. }
            | State::Failing { eof, .. }
            | State::Closed { eof, .. } => eof,
        }
    }

    /// The protocol violation waiting for the events before it to be taken.
    pub(crate) fn failing(&self) -> Option<ProtocolError> {
        match self.state {
            State::Failing { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Data frames may be sent: our Close is not sent and the connection is not closed.
    #[inline(always)]
    pub(crate) fn check_data(&self) -> Result<(), SendError> {
        // The open state first, with one comparison: this runs for every message sent.
        if let State::Open = self.state {
            return Ok(());
        }
        self.check_data_closing()
    }

    #[inline(never)]
    fn check_data_closing(&self) -> Result<(), SendError> {
        match self.state {
            State::Closed { .. } => Err(SendError::Closed),
            _ if self.close_sent() => Err(SendError::CloseSent),
            _ => Ok(()),
        }
    }

    /// Control frames (Ping, Pong) may be sent: the connection is not closed.
    pub(crate) fn check_control(&self) -> Result<(), SendError> {
        match self.state {
            State::Closed { .. } => Err(SendError::Closed),
            _ => Ok(()),
        }
    }
}

/// The transition table (see the crate docs): the next state and the output, or why the
/// application's request is refused.
pub(crate) fn transition(state: State, input: Input) -> Result<(State, Output), SendError> {
    use Input as I;
    use State as S;
    let none = Output::default();
    let close = Output {
        send_close: true,
        report: None,
    };
    let report = |send_close: bool, ending: Ending| Output {
        send_close,
        report: Some(ending),
    };
    Ok(match (state, input) {
        (S::Closed { .. }, I::Close | I::Fail) => return Err(SendError::Closed),
        (S::CloseSent, I::Close)
        | (
            S::PeerClosed { sent: true, .. }
            | S::Failing { sent: true, .. }
            | S::Ending { sent: true },
            I::Close,
        ) => return Err(SendError::CloseSent),
        (S::Open, I::Close) => (S::CloseSent, close),
        (S::PeerClosed { eof, .. }, I::Close) => (S::PeerClosed { sent: true, eof }, close),
        (S::Failing { error, eof, .. }, I::Close) => (
            S::Failing {
                error,
                sent: true,
                eof,
            },
            close,
        ),
        (S::Ending { .. }, I::Close) => (S::Ending { sent: true }, close),

        (S::Closed { .. }, I::TimedOut(_)) => (state, none),
        (state, I::TimedOut(timeout)) => {
            let eof = Lifecycle { state }.eof();
            (
                S::Closed { clean: false, eof },
                report(false, Ending::TimedOut(timeout)),
            )
        }
        (state, I::Fail) => {
            let sent = Lifecycle { state }.close_sent();
            let eof = Lifecycle { state }.eof();
            (
                S::Closed { clean: false, eof },
                report(!sent, Ending::Failed),
            )
        }

        (S::Open, I::PeerClose) => (
            S::PeerClosed {
                sent: false,
                eof: false,
            },
            none,
        ),
        (S::CloseSent, I::PeerClose) => (
            S::PeerClosed {
                sent: true,
                eof: false,
            },
            none,
        ),
        (S::Ending { sent }, I::PeerClose) => (S::PeerClosed { sent, eof: true }, none),

        (S::Open, I::Violation(error)) => (
            S::Failing {
                error,
                sent: false,
                eof: false,
            },
            none,
        ),
        (S::CloseSent, I::Violation(error)) => (
            S::Failing {
                error,
                sent: true,
                eof: false,
            },
            none,
        ),
        (S::Ending { sent }, I::Violation(error)) => (
            S::Failing {
                error,
                sent,
                eof: true,
            },
            none,
        ),

        (S::Open, I::Eof { pending: false }) => (
            S::Closed {
                clean: false,
                eof: true,
            },
            report(false, Ending::Abnormal { local: false }),
        ),
        (S::CloseSent, I::Eof { pending: false }) => (
            S::Closed {
                clean: false,
                eof: true,
            },
            report(false, Ending::Abnormal { local: true }),
        ),
        (S::Open, I::Eof { pending: true }) => (S::Ending { sent: false }, none),
        (S::CloseSent, I::Eof { pending: true }) => (S::Ending { sent: true }, none),
        (S::PeerClosed { sent, .. }, I::Eof { .. }) => (S::PeerClosed { sent, eof: true }, none),
        (S::Failing { error, sent, .. }, I::Eof { .. }) => (
            S::Failing {
                error,
                sent,
                eof: true,
            },
            none,
        ),
        (S::Closed { clean, .. }, I::Eof { .. }) => (S::Closed { clean, eof: true }, none),

        (S::Ending { sent }, I::Drained) => (
            S::Closed {
                clean: false,
                eof: true,
            },
            report(false, Ending::Abnormal { local: sent }),
        ),
        (S::PeerClosed { sent, eof }, I::CloseTaken) => (
            S::Closed { clean: true, eof },
            report(!sent, Ending::Clean { local: sent }),
        ),
        (S::Failing { error, sent, eof }, I::EventsTaken) => (
            S::Closed { clean: false, eof },
            report(!sent, Ending::Violation(error)),
        ),

        (state, _) => (state, none),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: ProtocolError = ProtocolError::InvalidUtf8;
    const T: Timeout = Timeout::Close;

    /// One line per row of the crate docs' table (and the refusals), so the docs and the
    /// function cannot drift apart.
    type Row = (State, Input, Result<(State, Output), SendError>);

    /// The rows of the crate docs' table, one line each.
    #[rustfmt::skip]
    fn rows() -> Vec<Row> {
        use Input as I;
        use State as S;
        let ok = |s, o: Output| Ok((s, o));
        let none = Output::default();
        let close = Output {
            send_close: true,
            report: None,
        };
        let rep = |send_close, e| Output {
            send_close,
            report: Some(e),
        };
        let closed = |clean, eof| S::Closed { clean, eof };
        vec![
        (S::Open, I::TimedOut(T), ok(closed(false, false), rep(false, Ending::TimedOut(T)))),
        (S::CloseSent, I::TimedOut(T), ok(closed(false, false), rep(false, Ending::TimedOut(T)))),
        (S::Ending { sent: true }, I::TimedOut(T), ok(closed(false, true), rep(false, Ending::TimedOut(T)))),
        (S::PeerClosed { sent: false, eof: true }, I::TimedOut(T), ok(closed(false, true), rep(false, Ending::TimedOut(T)))),
        (closed(true, false), I::TimedOut(T), ok(closed(true, false), none)),
        (S::Open, I::Close, ok(S::CloseSent, close)),
        (S::Open, I::PeerClose, ok(S::PeerClosed { sent: false, eof: false }, none)),
        (S::CloseSent, I::PeerClose, ok(S::PeerClosed { sent: true, eof: false }, none)),
        (S::Open, I::Violation(E), ok(S::Failing { error: E, sent: false, eof: false }, none)),
        (S::CloseSent, I::Violation(E), ok(S::Failing { error: E, sent: true, eof: false }, none)),
        (S::Open, I::Eof { pending: false }, ok(closed(false, true), rep(false, Ending::Abnormal { local: false }))),
        (S::CloseSent, I::Eof { pending: false }, ok(closed(false, true), rep(false, Ending::Abnormal { local: true }))),
        (S::Open, I::Eof { pending: true }, ok(S::Ending { sent: false }, none)),
        (S::CloseSent, I::Eof { pending: true }, ok(S::Ending { sent: true }, none)),
        (S::PeerClosed { sent: false, eof: true }, I::Close, ok(S::PeerClosed { sent: true, eof: true }, close)),
        (S::Failing { error: E, sent: false, eof: false }, I::Close, ok(S::Failing { error: E, sent: true, eof: false }, close)),
        (S::Ending { sent: false }, I::Close, ok(S::Ending { sent: true }, close)),
        (S::PeerClosed { sent: true, eof: false }, I::Eof { pending: false }, ok(S::PeerClosed { sent: true, eof: true }, none)),
        (S::Failing { error: E, sent: false, eof: false }, I::Eof { pending: true }, ok(S::Failing { error: E, sent: false, eof: true }, none)),
        (S::PeerClosed { sent: false, eof: false }, I::CloseTaken, ok(closed(true, false), rep(true, Ending::Clean { local: false }))),
        (S::PeerClosed { sent: true, eof: true }, I::CloseTaken, ok(closed(true, true), rep(false, Ending::Clean { local: true }))),
        (S::Failing { error: E, sent: false, eof: true }, I::EventsTaken, ok(closed(false, true), rep(true, Ending::Violation(E)))),
        (S::Failing { error: E, sent: true, eof: false }, I::EventsTaken, ok(closed(false, false), rep(false, Ending::Violation(E)))),
        (S::Ending { sent: true }, I::PeerClose, ok(S::PeerClosed { sent: true, eof: true }, none)),
        (S::Ending { sent: false }, I::Violation(E), ok(S::Failing { error: E, sent: false, eof: true }, none)),
        (S::Ending { sent: false }, I::Drained, ok(closed(false, true), rep(false, Ending::Abnormal { local: false }))),
        (S::Open, I::Fail, ok(closed(false, false), rep(true, Ending::Failed))),
        (S::CloseSent, I::Fail, ok(closed(false, false), rep(false, Ending::Failed))),
        (S::PeerClosed { sent: false, eof: true }, I::Fail, ok(closed(false, true), rep(true, Ending::Failed))),
        (S::Ending { sent: true }, I::Fail, ok(closed(false, true), rep(false, Ending::Failed))),
        (closed(true, false), I::Eof { pending: false }, ok(closed(true, true), none)),
        (S::CloseSent, I::Close, Err(SendError::CloseSent)),
        (S::PeerClosed { sent: true, eof: false }, I::Close, Err(SendError::CloseSent)),
        (S::Failing { error: E, sent: true, eof: false }, I::Close, Err(SendError::CloseSent)),
        (S::Ending { sent: true }, I::Close, Err(SendError::CloseSent)),
        (closed(false, true), I::Close, Err(SendError::Closed)),
        (closed(true, true), I::Fail, Err(SendError::Closed)),
        // Inputs that cannot happen in a state change nothing.
        (S::Open, I::CloseTaken, ok(S::Open, none)),
        (S::Open, I::Drained, ok(S::Open, none)),
        (S::PeerClosed { sent: false, eof: false }, I::Violation(E), ok(S::PeerClosed { sent: false, eof: false }, none)),
        (closed(false, true), I::PeerClose, ok(closed(false, true), none)),
        ]
    }

    #[test]
    fn the_table() {
        for (state, input, expected) in rows() {
            assert_eq!(transition(state, input), expected, "{state:?} × {input:?}");
        }
    }

    #[test]
    fn a_refused_input_changes_nothing() {
        let mut life = Lifecycle::new();
        assert!(life.step(Input::Close, |_| ()).is_ok());
        assert_eq!(life.state(), State::CloseSent);
        let mut acted = false;
        assert_eq!(
            life.step(Input::Close, |_| acted = true),
            Err(SendError::CloseSent)
        );
        assert!(!acted);
        assert_eq!(life.state(), State::CloseSent);
    }
}
