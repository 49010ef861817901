//! The chat example's room and protocol (`examples/chat/room.rs`), without sockets: joins,
//! presence, history, renames, leaves, what the server refuses, and JSON escaping.

#[path = "../examples/chat/room.rs"]
mod room;

use std::sync::Arc;

use room::{
    ChatMessage, HISTORY_LEN, MAX_NICK_CHARS, MAX_TEXT_CHARS, Member, Reject, Room, ServerMessage,
    Snapshot, clean_nick,
};
use tokio::sync::broadcast::error::TryRecvError;
use wsmachine::CloseCode;

/// Every message and notice is stamped with this time.
const NOW: u64 = 1_700_000_000_000;

fn room() -> Arc<Room> {
    Room::new(64, || NOW)
}

/// Everything in the member's inbox so far, parsed back.
fn drain(member: &mut Member) -> Vec<ServerMessage> {
    let mut frames = Vec::new();
    loop {
        match member.inbox.try_recv() {
            Ok(frame) => frames.push(serde_json::from_slice(&frame.payload()).expect("valid JSON")),
            Err(TryRecvError::Empty) => return frames,
            Err(e) => panic!("inbox: {e}"),
        }
    }
}

fn greeting(member: &Member) -> Vec<ServerMessage> {
    let parse = |frame: &String| serde_json::from_str(frame).expect("valid JSON");
    member.greeting.iter().map(parse).collect()
}

fn system(text: &str) -> ServerMessage {
    ServerMessage::System {
        text: text.into(),
        ts: NOW,
    }
}

fn presence(names: &[&str]) -> ServerMessage {
    ServerMessage::Presence {
        online: names.iter().map(|&n| n.into()).collect(),
    }
}

fn message(from: &str, text: &str) -> ServerMessage {
    ServerMessage::Message(chat(from, text))
}

fn chat(from: &str, text: &str) -> ChatMessage {
    ChatMessage {
        from: from.into(),
        text: text.into(),
        ts: NOW,
    }
}

fn say(text: &str) -> String {
    serde_json::json!({ "type": "message", "text": text }).to_string()
}

#[test]
fn a_newcomer_is_greeted_then_everyone_sees_the_join() {
    let room = room();
    let mut alice = room.join("alice");
    assert_eq!(
        greeting(&alice),
        [
            ServerMessage::You {
                nick: "alice".into()
            },
            ServerMessage::History { messages: vec![] }
        ]
    );
    assert_eq!(
        drain(&mut alice),
        [system("alice joined"), presence(&["alice"])]
    );

    let mut bob = room.join("bob");
    assert_eq!(
        drain(&mut alice),
        [system("bob joined"), presence(&["alice", "bob"])]
    );
    assert_eq!(
        drain(&mut bob),
        [system("bob joined"), presence(&["alice", "bob"])]
    );
}

#[test]
fn messages_reach_everyone_including_the_sender() {
    let room = room();
    let mut alice = room.join("alice");
    let mut bob = room.join("bob");
    drain(&mut alice);
    drain(&mut bob);
    assert_eq!(bob.receive(&say("  hi alice \n")), Ok(None));
    assert_eq!(drain(&mut alice), [message("bob", "hi alice")]);
    assert_eq!(drain(&mut bob), [message("bob", "hi alice")]);
}

#[test]
fn a_newcomer_gets_the_last_messages_oldest_first() {
    let room = room();
    let alice = room.join("alice");
    for n in 0..HISTORY_LEN + 10 {
        alice.receive(&say(&format!("line {n}"))).unwrap();
    }
    let carol = room.join("carol");
    let Some(ServerMessage::History { messages }) = greeting(&carol).pop() else {
        panic!("history comes second");
    };
    let expected: Vec<_> = (10..HISTORY_LEN + 10)
        .map(|n| chat("alice", &format!("line {n}")))
        .collect();
    assert_eq!(messages, expected);
    // Nothing said before the join arrives again through the inbox.
    let mut carol = carol;
    assert_eq!(
        drain(&mut carol),
        [system("carol joined"), presence(&["alice", "carol"])]
    );
}

#[test]
fn dropping_a_member_leaves_the_room() {
    let room = room();
    let mut alice = room.join("alice");
    let bob = room.join("bob");
    let bob_id = bob.id();
    drain(&mut alice);
    drop(bob);
    assert_eq!(
        drain(&mut alice),
        [system("bob left"), presence(&["alice"])]
    );
    // Leaving twice is nothing.
    room.leave(bob_id);
    assert_eq!(drain(&mut alice), []);
    assert_eq!(
        room.snapshot(),
        Snapshot {
            online: vec!["alice".into()],
            history: vec![]
        }
    );
}

#[test]
fn nicknames_are_unique_and_renames_are_announced() {
    let room = room();
    let mut alice = room.join("alice");
    let alice2 = room.join("alice");
    assert_eq!(
        greeting(&alice2)[0],
        ServerMessage::You {
            nick: "alice-2".into()
        }
    );
    let blank = room.join("  ");
    assert_eq!(
        greeting(&blank)[0],
        ServerMessage::You {
            nick: format!("guest-{}", blank.id())
        }
    );
    drop(blank);
    drain(&mut alice);

    let rename = |nick: &str| serde_json::json!({ "type": "rename", "nick": nick }).to_string();
    // The reply goes to the renamer alone; the notice and presence to everyone.
    let you = |nick: &str| Ok(Some(ServerMessage::You { nick: nick.into() }.encode()));
    assert_eq!(alice2.receive(&rename("carol")), you("carol"));
    assert_eq!(
        drain(&mut alice),
        [
            system("alice-2 is now carol"),
            presence(&["alice", "carol"])
        ]
    );
    // Taken: a suffix. Unchanged: no notice. Blank: nothing at all.
    assert_eq!(alice2.receive(&rename("alice")), you("alice-2"));
    assert_eq!(alice2.receive(&rename("alice-2")), you("alice-2"));
    assert_eq!(alice2.receive(&rename(" \t ")), Ok(None));
    assert_eq!(
        drain(&mut alice),
        [
            system("carol is now alice-2"),
            presence(&["alice", "alice-2"])
        ]
    );
    // Messages carry the current name.
    alice2.receive(&say("hi")).unwrap();
    assert_eq!(drain(&mut alice), [message("alice-2", "hi")]);
}

#[test]
fn nicknames_are_cleaned() {
    let long = "n".repeat(MAX_NICK_CHARS + 5);
    #[rustfmt::skip]
    let cases: &[(&str, Option<&str>)] = &[
        ("bob",              Some("bob")),
        ("  bob  ",          Some("bob")),
        ("b\u{7}o\nb",       Some("bob")),
        ("\u{1b}[31mred",    Some("[31mred")),
        ("Zoë 🦊",           Some("Zoë 🦊")),
        ("<b>&amp;</b>",     Some("<b>&amp;</b>")),   // the page shows it as text
        ("",                 None),
        (" \t\r\n ",         None),
        (&long,              Some(&long[..MAX_NICK_CHARS])),
    ];
    for &(raw, expected) in cases {
        assert_eq!(clean_nick(raw).as_deref(), expected, "{raw:?}");
    }
    // Cut by characters, not bytes.
    let wide = "é".repeat(MAX_NICK_CHARS + 1);
    assert_eq!(clean_nick(&wide).unwrap().chars().count(), MAX_NICK_CHARS);
}

#[test]
fn what_the_server_does_with_what_it_receives() {
    let at_limit = say(&"x".repeat(MAX_TEXT_CHARS));
    let over_limit = say(&"é".repeat(MAX_TEXT_CHARS + 1));
    #[rustfmt::skip]
    let cases: &[(&str, Result<bool, Reject>)] = &[
        // (frame, Ok(whether a message was broadcast) or the rejection)
        (r#"{"type":"message","text":"hi"}"#,            Ok(true)),
        (r#"{"text":"hi","type":"message","x":[1]}"#,    Ok(true)),   // field order, extra fields
        (r#"{"type":"message","text":"   "}"#,           Ok(false)),  // blank: ignored
        (r#"{"type":"typing"}"#,                          Ok(false)),  // unknown type: ignored
        (r#"{"type":"typing","text":5}"#,                 Ok(false)),
        (&at_limit,                                       Ok(true)),
        (&over_limit,                                     Err(Reject::TooLong)),
        ("hi",                                            Err(Reject::Malformed)),
        ("",                                              Err(Reject::Malformed)),
        ("[]",                                            Err(Reject::Malformed)),
        ("null",                                          Err(Reject::Malformed)),
        (r#"{"text":"hi"}"#,                              Err(Reject::Malformed)), // no type
        (r#"{"type":5}"#,                                 Err(Reject::Malformed)),
        (r#"{"type":"message"}"#,                         Err(Reject::Malformed)), // no text
        (r#"{"type":"message","text":5}"#,                Err(Reject::Malformed)),
        (r#"{"type":"rename","nick":null}"#,              Err(Reject::Malformed)),
        (r#"{"type":"message","text":"\ud800"}"#,         Err(Reject::Malformed)), // lone surrogate
        (r#"{"type":"message","text":"hi"} x"#,           Err(Reject::Malformed)), // trailing data
    ];
    let room = room();
    let mut member = room.join("m");
    drain(&mut member);
    for (frame, expected) in cases {
        let got = member.receive(frame).map(|reply| {
            assert_eq!(reply, None);
            !drain(&mut member).is_empty()
        });
        assert_eq!(&got, expected, "{frame:?}");
    }
}

#[test]
fn rejections_map_to_close_codes() {
    #[rustfmt::skip]
    let cases = [
        (Reject::Binary,    CloseCode::UNSUPPORTED_DATA), // 1003
        (Reject::Malformed, CloseCode::INVALID_PAYLOAD),  // 1007
        (Reject::TooLong,   CloseCode::MESSAGE_TOO_BIG),  // 1009
    ];
    for (reject, code) in cases {
        assert_eq!(reject.close_code(), code);
        assert!(reject.close_code().is_sendable());
        assert!(!reject.reason().is_empty());
    }
}

#[test]
fn frames_escape_user_text() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        // (text, how it appears inside the JSON string)
        ("plain",              "plain"),
        ("say \"hi\"",         r#"say \"hi\""#),
        (r"C:\dir",            r"C:\\dir"),
        ("a\nb\tc\rd",         r"a\nb\tc\rd"),
        ("\u{0}\u{1f}",        r"\u0000\u001f"),
        ("</script><b>x</b>",  "</script><b>x</b>"),  // HTML is the page's business (textContent)
        ("é ✓ 🦊 \u{2028}",   "é ✓ 🦊 \u{2028}"),    // UTF-8 as is: JSON.parse takes U+2028
    ];
    for &(text, escaped) in cases {
        let frame = ServerMessage::Message(chat("x", text)).encode();
        assert_eq!(
            frame,
            format!(r#"{{"type":"message","from":"x","text":"{escaped}","ts":{NOW}}}"#)
        );
        // And back: what the page parses is what was said.
        assert_eq!(
            serde_json::from_str::<ServerMessage>(&frame).unwrap(),
            message("x", text)
        );
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["text"], text);
    }
}

#[test]
fn frame_shapes() {
    #[rustfmt::skip]
    let cases = [
        (ServerMessage::You { nick: "a".into() },                   r#"{"type":"you","nick":"a"}"#),
        (ServerMessage::History { messages: vec![chat("a", "b")] }, r#"{"type":"history","messages":[{"from":"a","text":"b","ts":1700000000000}]}"#),
        (presence(&["a", "b"]),                                     r#"{"type":"presence","online":["a","b"]}"#),
        (system("a joined"),                                        r#"{"type":"system","text":"a joined","ts":1700000000000}"#),
    ];
    for (message, json) in cases {
        assert_eq!(message.encode(), json);
    }
}

#[test]
fn a_member_that_falls_behind_sees_lagged() {
    let room = Room::new(4, || NOW);
    let mut slow = room.join("slow");
    let talker = room.join("talker");
    for n in 0..10 {
        talker.receive(&say(&n.to_string())).unwrap();
    }
    assert!(matches!(
        slow.inbox.try_recv(),
        Err(TryRecvError::Lagged(_))
    ));
}
