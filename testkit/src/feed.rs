//! How input reaches a connection: in one read, or one byte per read.

use wsmachine::{Connection, Event};

/// How input reaches a connection. Protocol rules must hold whatever the reads are, so tests
/// run a body once per mode: `for feed in Feed::ALL { ... }`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Feed {
    /// All input in one read.
    Whole,
    /// One byte per read.
    Bytewise,
}

impl Feed {
    /// Every mode, whole first.
    pub const ALL: [Self; 2] = [Self::Whole, Self::Bytewise];

    /// Feeds `input` to `conn` without taking events.
    pub fn receive(self, conn: &mut Connection, input: &[u8]) {
        match self {
            Self::Whole => conn.receive(input),
            Self::Bytewise => {
                for byte in input {
                    conn.receive(std::slice::from_ref(byte));
                }
            }
        }
    }

    /// Feeds `input` to `conn`, taking the events after every read; returns them.
    pub fn receive_polling(self, conn: &mut Connection, input: &[u8]) -> Vec<Event> {
        let mut got = Vec::new();
        match self {
            Self::Whole => {
                conn.receive(input);
                got.extend(crate::events(conn));
            }
            Self::Bytewise => {
                for byte in input {
                    conn.receive(std::slice::from_ref(byte));
                    got.extend(crate::events(conn));
                }
            }
        }
        got
    }
}
