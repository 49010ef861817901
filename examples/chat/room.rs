//! The chat room: who is online, the recent history, and the JSON protocol the page speaks.
//!
//! No WebSocket and no socket here. A session joins the room and gets a [`Member`]: the frames
//! to greet its client with, an inbox of frames broadcast to everyone, and
//! [`Member::receive`] for each text message the client sends. Dropping the `Member` leaves the
//! room. Every frame is one JSON object, serialized once and shared by all inboxes.
//!
//! # Protocol
//!
//! The page sends:
//! - `{"type":"message","text":"hi"}` — say something (trimmed; blank text is ignored);
//! - `{"type":"rename","nick":"bob"}` — change nickname (cleaned like the `nick` query
//!   parameter; a blank one is ignored).
//!
//! The server sends:
//! - `{"type":"you","nick":"alice"}` — the nickname this client got (on join and after a
//!   rename; a taken name gets a suffix, `alice-2`);
//! - `{"type":"history","messages":[{"from":..,"text":..,"ts":..}, ..]}` — the last
//!   [`HISTORY_LEN`] messages, oldest first, right after `you` on join;
//! - `{"type":"message","from":"alice","text":"hi","ts":1700000000000}` — `ts` in milliseconds
//!   since the Unix epoch, stamped by the server;
//! - `{"type":"presence","online":["alice","bob"]}` — everyone online, in join order, after
//!   every join, leave and rename;
//! - `{"type":"system","text":"alice joined","ts":..}` — joins, leaves, renames.
//!
//! What the server does with what it receives ([`Reject`] names the close codes): text is
//! already UTF-8 (the core closes with 1007 otherwise); a binary message closes with 1003;
//! text that is not a JSON object with a string `type`, or a known `type` with missing or
//! ill-typed fields, closes with 1007; an unknown `type` is ignored, so a newer page can talk
//! to an older server; a message over [`MAX_TEXT_CHARS`] closes with 1009 (the page never
//! sends one). Unknown fields are ignored.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use wsmachine::{CloseCode, PreparedMessage};

/// Messages kept for newcomers.
pub const HISTORY_LEN: usize = 50;
/// The longest message text accepted, in characters (the page's input has the same limit).
pub const MAX_TEXT_CHARS: usize = 2000;
/// The longest nickname kept, in characters; longer ones are cut.
pub const MAX_NICK_CHARS: usize = 32;

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// One chat message, as sent and as kept in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub from: String,
    pub text: String,
    pub ts: Millis,
}

/// A frame from the server to the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    You { nick: String },
    History { messages: Vec<ChatMessage> },
    Message(ChatMessage),
    Presence { online: Vec<String> },
    System { text: String, ts: Millis },
}

impl ServerMessage {
    /// The JSON text of the frame (serde_json escapes quotes, backslashes and control
    /// characters).
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("strings and integers always serialize")
    }
}

/// A frame from the page to the server.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMessage {
    Message {
        text: String,
    },
    Rename {
        nick: String,
    },
    /// Any other `type`: ignored, for forward compatibility.
    #[serde(other)]
    Unknown,
}

/// Why a client's message ends its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// A binary message: the protocol is JSON text.
    Binary,
    /// Not a JSON object with a string `type`, or a known `type` with bad fields.
    Malformed,
    /// Message text over [`MAX_TEXT_CHARS`].
    TooLong,
}

impl Reject {
    /// The close code to send (RFC 6455 §7.4.1).
    pub const fn close_code(self) -> CloseCode {
        match self {
            Self::Binary => CloseCode::UNSUPPORTED_DATA,
            Self::Malformed => CloseCode::INVALID_PAYLOAD,
            Self::TooLong => CloseCode::MESSAGE_TOO_BIG,
        }
    }

    /// The close reason to send.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Binary => "text messages only",
            Self::Malformed => "invalid JSON message",
            Self::TooLong => "message too long",
        }
    }
}

/// A nickname as kept: trimmed, without control characters, at most [`MAX_NICK_CHARS`]
/// characters; `None` if nothing is left.
pub fn clean_nick(raw: &str) -> Option<String> {
    let nick: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_NICK_CHARS)
        .collect();
    let nick = nick.trim_end();
    (!nick.is_empty()).then(|| nick.to_owned())
}

/// Who is online and what was said lately; one per server, shared by the sessions.
pub struct Room {
    state: Mutex<State>,
    /// Every frame for everyone, serialized and encoded once (a [`PreparedMessage`]: each
    /// session queues the same frame, compressed once for all the sessions that compress
    /// messages on their own). Sent under the state lock, so the frames arrive in the order
    /// of the state changes and a newcomer's history and inbox neither overlap nor leave a
    /// gap.
    broadcast: broadcast::Sender<PreparedMessage>,
    clock: fn() -> Millis,
}

struct State {
    next_id: u64,
    /// Member id → nickname; ids grow, so this is join order.
    online: BTreeMap<u64, String>,
    history: VecDeque<ChatMessage>,
}

/// What the room holds, for tests and diagnostics.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub online: Vec<String>,
    pub history: Vec<ChatMessage>,
}

impl Room {
    /// An empty room. `backlog` is how many frames a member may fall behind (then its inbox
    /// reports `Lagged`); `clock` stamps messages and notices.
    pub fn new(backlog: usize, clock: fn() -> Millis) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                next_id: 1,
                online: BTreeMap::new(),
                history: VecDeque::with_capacity(HISTORY_LEN),
            }),
            broadcast: broadcast::channel(backlog).0,
            clock,
        })
    }

    /// Enters the room as `nick` (cleaned, made unique; `guest-N` if blank) and tells everyone.
    pub fn join(self: &Arc<Self>, nick: &str) -> Member {
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        let wanted = clean_nick(nick).unwrap_or_else(|| format!("guest-{id}"));
        let nick = state.unique(&wanted, id);
        // Subscribe before anything else is broadcast: the history covers what came before.
        let inbox = self.broadcast.subscribe();
        state.online.insert(id, nick.clone());
        let greeting = vec![
            ServerMessage::You { nick: nick.clone() }.encode(),
            ServerMessage::History {
                messages: state.history.iter().cloned().collect(),
            }
            .encode(),
        ];
        self.notice(&state, format!("{nick} joined"));
        Member {
            room: Arc::clone(self),
            id,
            greeting,
            inbox,
        }
    }

    /// Leaves the room and tells everyone; nothing if `id` already left.
    pub fn leave(&self, id: u64) {
        let mut state = self.lock();
        if let Some(nick) = state.online.remove(&id) {
            self.notice(&state, format!("{nick} left"));
        }
    }

    /// Says `text` (trimmed; blank text is ignored) to everyone, and keeps it in the history.
    pub fn say(&self, id: u64, text: &str) -> Result<(), Reject> {
        let text = text.trim();
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(Reject::TooLong);
        }
        let mut state = self.lock();
        let Some(from) = state.online.get(&id) else {
            return Ok(());
        };
        if text.is_empty() {
            return Ok(());
        }
        let message = ChatMessage {
            from: from.clone(),
            text: text.to_owned(),
            ts: (self.clock)(),
        };
        if state.history.len() == HISTORY_LEN {
            state.history.pop_front();
        }
        state.history.push_back(message.clone());
        self.send(&ServerMessage::Message(message));
        Ok(())
    }

    /// Changes `id`'s nickname (cleaned, made unique) and tells everyone if it changed;
    /// returns the nickname now held, or `None` if `nick` is blank or `id` left.
    pub fn rename(&self, id: u64, nick: &str) -> Option<String> {
        let mut state = self.lock();
        let wanted = clean_nick(nick)?;
        let old = state.online.get(&id)?.clone();
        let new = state.unique(&wanted, id);
        if new != old {
            state.online.insert(id, new.clone());
            self.notice(&state, format!("{old} is now {new}"));
        }
        Some(new)
    }

    /// Who is online and the history.
    #[allow(dead_code)] // the tests' view of the room
    pub fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        Snapshot {
            online: state.online.values().cloned().collect(),
            history: state.history.iter().cloned().collect(),
        }
    }

    /// A system notice, then the presence list it changed.
    fn notice(&self, state: &State, text: String) {
        let ts = (self.clock)();
        self.send(&ServerMessage::System { text, ts });
        self.send(&ServerMessage::Presence {
            online: state.online.values().cloned().collect(),
        });
    }

    fn send(&self, message: &ServerMessage) {
        // An error only means nobody is listening.
        let _ = self.broadcast.send(PreparedMessage::text(message.encode()));
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent if a session panicked: every update is one statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// `wanted`, or `wanted-2`, `wanted-3`, … whichever no other member holds.
    fn unique(&self, wanted: &str, id: u64) -> String {
        let taken = |nick: &str| self.online.iter().any(|(&i, n)| i != id && n == nick);
        if !taken(wanted) {
            return wanted.to_owned();
        }
        (2..)
            .map(|n| format!("{wanted}-{n}"))
            .find(|nick| !taken(nick))
            .expect("finitely many members")
    }
}

/// One client in the room, until dropped.
pub struct Member {
    room: Arc<Room>,
    id: u64,
    /// Frames for this client alone, to send before anything from the inbox: `you`, `history`.
    pub greeting: Vec<String>,
    /// Frames for everyone, from the moment of joining.
    pub inbox: broadcast::Receiver<PreparedMessage>,
}

impl Member {
    /// This member's id in the room.
    #[allow(dead_code)] // the tests' handle on a member
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Handles one text message from the client; returns a frame to send to it alone, or why
    /// to close the connection.
    pub fn receive(&self, text: &str) -> Result<Option<String>, Reject> {
        let message: ClientMessage = serde_json::from_str(text).map_err(|_| Reject::Malformed)?;
        match message {
            ClientMessage::Message { text } => self.room.say(self.id, &text).map(|()| None),
            ClientMessage::Rename { nick } => Ok(self
                .room
                .rename(self.id, &nick)
                .map(|nick| ServerMessage::You { nick }.encode())),
            ClientMessage::Unknown => Ok(None),
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.room.leave(self.id);
    }
}
