//! One test per row of the policy table in the crate docs, each role where the
//! row applies to both, input fed whole and one byte at a time.

use wsmachine::frame::OpCode;
use wsmachine::{
    Bytes, CloseCode, Config, Connection, Event, Initiator, MessageKind, Negotiated, ProtocolError,
    ReadyState, Role, SendError,
};
use wsmachine_testkit::{
    Feed, FrameBuilder, KEY, Length, assert_failed, connection, events, frame, frames, output,
    peer_key,
};

const ROLES: [Role; 2] = [Role::Server, Role::Client];

/// Feeds `input` as `feed` says, taking the events after every read: the connection must
/// fail with `err`, send a Close with its code as the last frame, and report the outcome as
/// the last event (`assert_failed`).
fn assert_fails_with(feed: Feed, role: Role, config: Config, input: &[u8], err: ProtocolError) {
    let mut c = connection(role, config);
    let got = feed.receive_polling(&mut c, input);
    assert_failed(&mut c, &got, err, format_args!("{feed:?} input={input:x?}"));
}

fn fails(feed: Feed, role: Role, input: &[u8], err: ProtocolError) {
    assert_fails_with(feed, role, Config::default(), input, err)
}

#[test]
fn unmasked_frame_to_server_and_masked_frame_to_client() {
    for feed in Feed::ALL {
        fails(
            feed,
            Role::Server,
            &frame(true, 0, 0x1, None, b"hi"),
            ProtocolError::UnmaskedFrame,
        );
        fails(
            feed,
            Role::Client,
            &frame(true, 0, 0x1, Some(KEY), b"hi"),
            ProtocolError::MaskedFrame,
        );
        fails(
            feed,
            Role::Server,
            &frame(true, 0, 0x9, None, b""),
            ProtocolError::UnmaskedFrame,
        );
    }
}

#[test]
fn rsv_bits_without_extension() {
    for feed in Feed::ALL {
        for role in ROLES {
            for rsv in [0b100, 0b010, 0b001, 0b111] {
                let f = frame(true, rsv, 0x1, peer_key(role), b"x");
                fails(feed, role, &f, ProtocolError::ReservedBits);
            }
        }
    }
}

#[test]
fn reserved_opcodes() {
    for feed in Feed::ALL {
        for role in ROLES {
            for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
                fails(
                    feed,
                    role,
                    &frame(true, 0, op, peer_key(role), b""),
                    ProtocolError::ReservedOpcode,
                );
            }
        }
    }
}

#[test]
fn control_frame_over_125_bytes_or_fragmented() {
    for feed in Feed::ALL {
        for role in ROLES {
            for op in [0x8u8, 0x9, 0xA] {
                fails(
                    feed,
                    role,
                    &frame(true, 0, op, peer_key(role), &[b'a'; 126]),
                    ProtocolError::ControlFrameTooLong,
                );
                fails(
                    feed,
                    role,
                    &frame(false, 0, op, peer_key(role), b""),
                    ProtocolError::FragmentedControlFrame,
                );
            }
        }
    }
}

#[test]
fn length_top_bit() {
    for feed in Feed::ALL {
        for role in ROLES {
            let mut f = vec![0x82, 127 | if role == Role::Server { 0x80 } else { 0 }];
            f.extend_from_slice(&(1u64 << 63).to_be_bytes());
            fails(feed, role, &f, ProtocolError::LengthOverflow);
        }
    }
}

#[test]
fn non_minimal_length_strict_by_default_and_relaxable() {
    for feed in Feed::ALL {
        for role in ROLES {
            // "hello" with its length in the 16-bit and in the 64-bit form.
            for length in [Length::Extended16, Length::Extended64] {
                let f = &FrameBuilder {
                    fin: true,
                    rsv: 0,
                    opcode: OpCode::Binary.into(),
                    masking_key: peer_key(role),
                    length,
                    payload: b"hello",
                }
                .encode();
                fails(feed, role, f, ProtocolError::NonMinimalLength);
                let mut relaxed = Config::default();
                relaxed.allow_non_minimal_length = true;
                let mut c = connection(role, relaxed);
                feed.receive(&mut c, f);
                assert_eq!(
                    events(&mut c),
                    [Event::Binary(Bytes::from_static(b"hello"))]
                );
            }
        }
    }
}

#[test]
fn continuation_without_message_and_new_message_inside_one() {
    for feed in Feed::ALL {
        for role in ROLES {
            let k = peer_key(role);
            fails(
                feed,
                role,
                &frame(true, 0, 0x0, k, b"x"),
                ProtocolError::UnexpectedContinuation,
            );
            let mut f = frame(false, 0, 0x1, k, b"a");
            f.extend(frame(true, 0, 0x2, k, b"b"));
            fails(feed, role, &f, ProtocolError::ExpectedContinuation);
            let mut f = frame(false, 0, 0x2, k, b"a");
            f.extend(frame(false, 0, 0x1, k, b"b"));
            fails(feed, role, &f, ProtocolError::ExpectedContinuation);
        }
    }
}

#[test]
fn invalid_utf8_fails_fast_inside_a_frame_and_across_fragments() {
    for feed in Feed::ALL {
        for role in ROLES {
            let k = peer_key(role);
            fails(
                feed,
                role,
                &frame(true, 0, 0x1, k, b"ok\xff"),
                ProtocolError::InvalidUtf8,
            );
            // Truncated code point at the end of the message.
            fails(
                feed,
                role,
                &frame(true, 0, 0x1, k, b"\xce\xba\xe1"),
                ProtocolError::InvalidUtf8,
            );
            // Fail fast: only part of a 10-byte frame arrives; its first bytes are already invalid.
            let f = frame(true, 0, 0x1, k, b"\xed\xa0\x80 and more");
            let cut = f.len() - 8;
            fails(feed, role, &f[..cut], ProtocolError::InvalidUtf8);
            // Across fragments: a valid first fragment, then a continuation that starts badly,
            // while the message is still open.
            let mut f = frame(false, 0, 0x1, k, b"\xf4");
            f.extend(frame(false, 0, 0x0, k, b"\x90\x80\x80"));
            fails(feed, role, &f, ProtocolError::InvalidUtf8);
            // A code point split across fragments is fine.
            let mut ok = frame(false, 0, 0x1, k, b"\xe2\x82");
            ok.extend(frame(true, 0, 0x0, k, b"\xac"));
            let mut c = connection(role, Config::default());
            feed.receive(&mut c, &ok);
            assert_eq!(events(&mut c), [Event::Text("€".into())]);
        }
    }
}

#[test]
fn invalid_utf8_in_close_reason() {
    for feed in Feed::ALL {
        for role in ROLES {
            fails(
                feed,
                role,
                &frame(true, 0, 0x8, peer_key(role), b"\x03\xe8\xff\xfe"),
                ProtocolError::InvalidUtf8,
            );
        }
    }
}

#[test]
fn limits_fail_with_1009_before_the_payload_arrives() {
    for feed in Feed::ALL {
        for role in ROLES {
            let mut config = Config::default();
            config.max_frame_size = 1000;
            config.max_message_size = 1500;
            let k = peer_key(role);
            // Only the header of a too-large frame: it fails without waiting for the payload.
            let f = frame(true, 0, 0x2, k, &[0; 1001]);
            let header_len = f.len() - 1001;
            assert_fails_with(
                feed,
                role,
                config.clone(),
                &f[..header_len],
                ProtocolError::FrameTooLarge,
            );
            // Two fragments each under the frame limit, together over the message limit.
            let mut f = frame(false, 0, 0x2, k, &[0; 1000]);
            let second = frame(true, 0, 0x0, k, &[0; 600]);
            f.extend_from_slice(&second[..second.len() - 600]);
            assert_fails_with(
                feed,
                role,
                config.clone(),
                &f,
                ProtocolError::MessageTooLarge,
            );
            // Exactly at the limits is fine.
            let mut f = frame(false, 0, 0x2, k, &[0; 1000]);
            f.extend(frame(true, 0, 0x0, k, &[0; 500]));
            let mut c = connection(role, config);
            feed.receive(&mut c, &f);
            assert!(matches!(&events(&mut c)[..], [Event::Binary(b)] if b.len() == 1500));
        }
    }
}

#[test]
fn defaults_are_64_mib_messages_and_16_mib_frames() {
    for feed in Feed::ALL {
        let c = Config::default();
        assert_eq!((c.max_message_size, c.max_frame_size), (64 << 20, 16 << 20));
        // A 16 MiB + 1 frame header fails at once.
        let f = FrameBuilder {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary.into(),
            masking_key: Some(KEY),
            length: Length::Declared((16 << 20) + 1),
            payload: b"",
        };
        fails(
            feed,
            Role::Server,
            &f.encode(),
            ProtocolError::FrameTooLarge,
        );
    }
}

#[test]
fn pings_are_answered_one_for_one_then_coalesced_past_16_unsent() {
    for feed in Feed::ALL {
        for role in ROLES {
            let k = peer_key(role);
            // Autobahn 2.10: ten pings in one read get ten pongs, in order.
            let mut input = Vec::new();
            for i in 0..10 {
                input.extend(frame(true, 0, 0x9, k, format!("payload-{i}").as_bytes()));
            }
            let mut c = connection(role, Config::default());
            feed.receive(&mut c, &input);
            assert_eq!(events(&mut c).len(), 10);
            let sent = frames(&output(&mut c));
            let payloads: Vec<_> = sent
                .iter()
                .map(|f| String::from_utf8(f.payload.clone()).unwrap())
                .collect();
            let expected: Vec<_> = (0..10).map(|i| format!("payload-{i}")).collect();
            assert_eq!(payloads, expected);
            assert!(sent.iter().all(|f| f.opcode == OpCode::Pong));
            // A flood: 1000 pings unwritten give 16 pongs, the last one for the latest ping.
            let mut input = Vec::new();
            for i in 0..1000 {
                input.extend(frame(true, 0, 0x9, k, format!("{i}").as_bytes()));
            }
            feed.receive(&mut c, &input);
            assert_eq!(events(&mut c).len(), 1000);
            assert!(c.buffered_amount() <= 16 * (14 + 125));
            let sent = frames(&output(&mut c));
            assert_eq!(sent.len(), 16);
            assert_eq!(sent[14].payload, b"14");
            assert_eq!(sent[15].payload, b"999");
            // A pong already partly written is never replaced.
            let mut c = connection(role, Config::default());
            for i in 0..16 {
                feed.receive(&mut c, &frame(true, 0, 0x9, k, format!("{i}").as_bytes()));
            }
            let _ = events(&mut c);
            let n = c.buffered_amount();
            c.consume_output(n - 1); // all but the last byte of the 16th pong
            feed.receive(&mut c, &frame(true, 0, 0x9, k, b"late"));
            let _ = events(&mut c);
            let rest = output(&mut c);
            let sent = frames(&rest[1..]);
            assert_eq!(sent.len(), 1);
            assert_eq!(
                (sent[0].opcode, &sent[0].payload[..]),
                (OpCode::Pong, &b"late"[..])
            );
        }
    }
}

#[test]
fn auto_pong_can_be_switched_off() {
    for feed in Feed::ALL {
        let mut config = Config::default();
        config.auto_pong = false;
        let mut c = connection(Role::Server, config);
        feed.receive(&mut c, &frame(true, 0, 0x9, Some(KEY), b"p"));
        assert_eq!(events(&mut c), [Event::Ping(Bytes::from_static(b"p"))]);
        assert!(c.pending_output().is_empty());
        c.send_pong(b"p").unwrap();
        assert_eq!(c.pending_output(), b"\x8a\x01p");
    }
}

#[test]
fn unsolicited_pong_is_an_event_and_nothing_else() {
    for feed in Feed::ALL {
        for role in ROLES {
            let mut c = connection(role, Config::default());
            feed.receive(&mut c, &frame(true, 0, 0xA, peer_key(role), b"beat"));
            assert_eq!(events(&mut c), [Event::Pong(Bytes::from_static(b"beat"))]);
            assert!(c.pending_output().is_empty());
            assert_eq!(c.state(), ReadyState::Open);
        }
    }
}

#[test]
fn close_is_echoed_with_the_same_code_and_later_frames_are_discarded() {
    for feed in Feed::ALL {
        for role in ROLES {
            let k = peer_key(role);
            for (payload, echoed) in [
                (&b"\x03\xe8bye"[..], &b"\x03\xe8"[..]),
                (b"", b""),
                (b"\x0f\xa0", b"\x0f\xa0"),
            ] {
                let mut c = connection(role, Config::default());
                let mut input = frame(true, 0, 0x8, k, payload);
                input.extend(frame(true, 0, 0x1, k, b"after close"));
                input.extend(frame(true, 0, 0x9, k, b"ping after close"));
                feed.receive(&mut c, &input);
                let got = events(&mut c);
                assert_eq!(got.len(), 2, "{got:?}");
                let Event::Close(frame) = &got[0] else {
                    panic!()
                };
                let Event::Closed(outcome) = &got[1] else {
                    panic!()
                };
                assert_eq!(frame.code(), outcome.code);
                assert!(outcome.clean);
                assert_eq!(outcome.initiator, Initiator::Remote);
                let sent = frames(&output(&mut c));
                assert_eq!(sent.len(), 1);
                assert_eq!(
                    (sent[0].opcode, &sent[0].payload[..]),
                    (OpCode::Close, echoed)
                );
                assert_eq!(c.state(), ReadyState::Closed);
            }
        }
    }
}

#[test]
fn close_inside_a_fragmented_message_drops_the_partial_message() {
    for feed in Feed::ALL {
        for role in ROLES {
            let k = peer_key(role);
            let mut input = frame(false, 0, 0x1, k, b"partial");
            input.extend(frame(true, 0, 0x8, k, b"\x03\xe8"));
            let mut c = connection(role, Config::default());
            feed.receive(&mut c, &input);
            let got = events(&mut c);
            assert!(
                matches!(&got[..], [Event::Close(_), Event::Closed(o)] if o.clean && o.code == CloseCode::NORMAL),
                "{got:?}"
            );
        }
    }
}

#[test]
fn invalid_close_payloads() {
    for feed in Feed::ALL {
        for role in ROLES {
            let k = peer_key(role);
            fails(
                feed,
                role,
                &frame(true, 0, 0x8, k, b"\x03"),
                ProtocolError::CloseFrameTooShort,
            );
            for code in [
                0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
            ] {
                fails(
                    feed,
                    role,
                    &frame(true, 0, 0x8, k, &code.to_be_bytes()),
                    ProtocolError::InvalidCloseCode,
                );
            }
            for code in [
                1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                4999,
            ] {
                let mut c = connection(role, Config::default());
                feed.receive(&mut c, &frame(true, 0, 0x8, k, &code.to_be_bytes()));
                let got = events(&mut c);
                assert!(
                    matches!(got.last(), Some(Event::Closed(o)) if o.clean && o.code.0 == code),
                    "{code}"
                );
            }
        }
    }
}

#[test]
fn caller_errors_send_nothing() {
    for role in ROLES {
        let mut c = connection(role, Config::default());
        for code in [1005u16, 1006, 1015, 1004, 999, 2000, 5000] {
            assert_eq!(
                c.close(CloseCode(code), ""),
                Err(SendError::InvalidCloseCode),
                "{code}"
            );
            assert_eq!(
                c.fail(CloseCode(code), ""),
                Err(SendError::InvalidCloseCode),
                "{code}"
            );
        }
        assert_eq!(
            c.close(CloseCode::NORMAL, &"r".repeat(124)),
            Err(SendError::CloseReasonTooLong)
        );
        assert_eq!(
            c.send_ping(&[0; 126]),
            Err(SendError::ControlPayloadTooLong)
        );
        assert_eq!(
            c.send_pong(&[0; 126]),
            Err(SendError::ControlPayloadTooLong)
        );
        assert_eq!(
            c.send_fragment(MessageKind::Text, &b"\xff"[..], false),
            Err(SendError::InvalidUtf8)
        );
        assert_eq!(
            c.send_fragment(MessageKind::Text, &b"\xe2\x82"[..], true),
            Err(SendError::InvalidUtf8)
        );
        assert!(c.pending_output().is_empty());
        assert_eq!(c.state(), ReadyState::Open);
        // Fragment rules.
        c.send_fragment(MessageKind::Text, "a", false).unwrap();
        let before = c.buffered_amount();
        assert_eq!(c.send_text("whole"), Err(SendError::MessageInProgress));
        assert_eq!(c.send_binary(b"whole"), Err(SendError::MessageInProgress));
        assert_eq!(
            c.send_fragment(MessageKind::Binary, "b", true),
            Err(SendError::FragmentKindMismatch)
        );
        c.send_ping(b"between fragments").unwrap();
        assert!(c.buffered_amount() > before);
        c.send_fragment(MessageKind::Text, "b", true).unwrap();
        c.send_text("next").unwrap();
    }
}

#[test]
fn after_our_close_data_is_refused_but_ping_and_pong_are_allowed() {
    for feed in Feed::ALL {
        for role in ROLES {
            let mut c = connection(role, Config::default());
            c.close(CloseCode::NORMAL, "done").unwrap();
            assert_eq!(c.state(), ReadyState::Closing);
            let queued = c.buffered_amount();
            assert_eq!(c.send_text("x"), Err(SendError::CloseSent));
            assert_eq!(c.send_binary(b"x"), Err(SendError::CloseSent));
            assert_eq!(
                c.send_fragment(MessageKind::Binary, b"x", true),
                Err(SendError::CloseSent)
            );
            assert_eq!(c.close(CloseCode::NORMAL, ""), Err(SendError::CloseSent));
            assert_eq!(c.buffered_amount(), queued);
            c.send_ping(b"still").unwrap();
            c.send_pong(b"here").unwrap();
            // Messages from the peer still arrive while we wait for its Close.
            let k = peer_key(role);
            feed.receive(&mut c, &frame(true, 0, 0x1, k, b"in flight"));
            feed.receive(&mut c, &frame(true, 0, 0x9, k, b"p"));
            let got = events(&mut c);
            assert_eq!(
                got,
                [
                    Event::Text("in flight".into()),
                    Event::Ping(Bytes::from_static(b"p"))
                ]
            );
            let sent = frames(&output(&mut c));
            let ops: Vec<_> = sent.iter().map(|f| f.opcode).collect();
            assert_eq!(
                ops,
                [OpCode::Close, OpCode::Ping, OpCode::Pong, OpCode::Pong]
            );
            feed.receive(&mut c, &frame(true, 0, 0x8, k, b"\x03\xe8"));
            let got = events(&mut c);
            assert!(
                matches!(&got[..], [Event::Close(_), Event::Closed(o)] if o.clean && o.initiator == Initiator::Local)
            );
            // Nothing is echoed: our Close was already sent.
            assert!(c.pending_output().is_empty());
            assert_eq!(c.send_ping(b""), Err(SendError::Closed));
            assert_eq!(c.close(CloseCode::NORMAL, ""), Err(SendError::Closed));
            assert_eq!(c.fail(CloseCode::NORMAL, ""), Err(SendError::Closed));
        }
    }
}

#[test]
fn eof_before_the_closing_handshake_is_1006_and_loses_nothing_delivered() {
    for feed in Feed::ALL {
        for role in ROLES {
            let k = peer_key(role);
            // In every state: open, mid-header, mid-payload, mid-message, after our close.
            let msg = frame(true, 0, 0x1, k, b"delivered");
            let partial = frame(true, 0, 0x2, k, b"never complete");
            for (input, close_first) in [
                (msg.clone(), false),
                ([msg.clone(), partial[..1].to_vec()].concat(), false),
                (
                    [msg.clone(), partial[..partial.len() - 3].to_vec()].concat(),
                    false,
                ),
                (
                    [msg.clone(), frame(false, 0, 0x1, k, b"half")].concat(),
                    false,
                ),
                (msg.clone(), true),
            ] {
                let mut c = connection(role, Config::default());
                if close_first {
                    c.close(CloseCode::NORMAL, "").unwrap();
                }
                feed.receive(&mut c, &input);
                c.receive_eof();
                c.receive_eof(); // idempotent
                let got = events(&mut c);
                assert_eq!(got.len(), 2, "{got:?}");
                assert_eq!(got[0], Event::Text("delivered".into()));
                let Event::Closed(o) = &got[1] else { panic!() };
                assert_eq!((o.code, o.clean), (CloseCode::ABNORMAL, false));
                assert_eq!(
                    o.initiator,
                    if close_first {
                        Initiator::Local
                    } else {
                        Initiator::Remote
                    }
                );
                assert_eq!(c.state(), ReadyState::Closed);
                let _ = output(&mut c);
                assert!(c.wants_transport_close());
            }
        }
    }
}

#[test]
fn after_the_closing_handshake_the_server_closes_the_transport_first() {
    for feed in Feed::ALL {
        // Server side: after echoing, it wants the transport closed once the echo is written.
        let mut s = connection(Role::Server, Config::default());
        feed.receive(&mut s, &frame(true, 0, 0x8, Some(KEY), b"\x03\xe8"));
        let _ = events(&mut s);
        assert!(!s.wants_transport_close(), "echo not written yet");
        let _ = output(&mut s);
        assert!(s.wants_transport_close());
        // Client side: the handshake is complete but it waits for the server's EOF.
        let mut c = connection(Role::Client, Config::default());
        c.close(CloseCode::NORMAL, "").unwrap();
        let _ = output(&mut c);
        feed.receive(&mut c, &frame(true, 0, 0x8, None, b"\x03\xe8"));
        let got = events(&mut c);
        assert!(matches!(got.last(), Some(Event::Closed(o)) if o.clean));
        assert!(!c.wants_transport_close());
        c.receive_eof();
        assert_eq!(c.poll_event(), None, "no second outcome");
        assert!(c.wants_transport_close());
    }
}

/// A server has no key source (its constructor takes none): nothing it sends is masked.
#[test]
fn servers_never_mask() {
    for feed in Feed::ALL {
        let mut s = Connection::server(Negotiated::default(), Config::default());
        s.send_text("x").unwrap();
        s.send_ping(b"").unwrap();
        feed.receive(&mut s, &frame(true, 0, 0x9, Some(KEY), b""));
        let _ = events(&mut s);
        s.close(CloseCode::NORMAL, "").unwrap();
        assert!(frames(&output(&mut s)).iter().all(|f| !f.masked));
    }
}
