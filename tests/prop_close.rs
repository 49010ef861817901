//! Properties of Close frames (RFC 6455 §5.5.1, §7.4): what may be sent round-trips through
//! encode and parse and through a connection pair; any payload either parses and re-encodes to
//! itself or fails with the error the policy table names.

use proptest::prelude::*;
use wsmachine::close::MAX_REASON_LEN;
use wsmachine::{Bytes, CloseCode, CloseFrame, Event, ProtocolError};
use wsmachine_testkit::Pair;

fn sendable_code() -> impl Strategy<Value = CloseCode> {
    prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999].prop_map(CloseCode)
}

/// A reason of at most 123 bytes, cut on a code point boundary.
fn reason() -> impl Strategy<Value = String> {
    ".{0,60}".prop_map(|s| {
        let mut end = s.len().min(MAX_REASON_LEN);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_owned()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sendable_frames_round_trip(code in sendable_code(), reason in reason()) {
        let frame = CloseFrame::new(code, &reason).unwrap();
        let mut payload = Vec::new();
        frame.encode(&mut payload);
        prop_assert_eq!(payload.len(), frame.encoded_len());
        prop_assert_eq!(&payload[..2], &code.0.to_be_bytes()[..]);
        prop_assert_eq!(CloseFrame::parse(Bytes::from(payload)), Ok(frame));
    }

    #[test]
    fn any_payload_parses_to_itself_or_fails_as_the_policy_says(
        payload in prop::collection::vec(any::<u8>(), 0..130),
    ) {
        match CloseFrame::parse(Bytes::from(payload.clone())) {
            Ok(frame) => {
                let mut again = Vec::new();
                frame.encode(&mut again);
                prop_assert_eq!(again, payload);
            }
            Err(e) => {
                let expected = if payload.len() == 1 {
                    ProtocolError::CloseFrameTooShort
                } else if !CloseCode(u16::from_be_bytes([payload[0], payload[1]])).is_valid_on_wire() {
                    ProtocolError::InvalidCloseCode
                } else {
                    prop_assert!(core::str::from_utf8(&payload[2..]).is_err());
                    ProtocolError::InvalidUtf8
                };
                prop_assert_eq!(e, expected);
            }
        }
    }

    #[test]
    fn a_close_arrives_as_sent_and_is_echoed(
        from_client in any::<bool>(),
        code in sendable_code(),
        reason in reason(),
    ) {
        let mut pair = Pair::connected();
        let closer = if from_client { &mut pair.client } else { &mut pair.server };
        closer.close(code, &reason).unwrap();
        pair.drive();
        let (closer_events, peer_events) = if from_client {
            (pair.take_client_events(), pair.take_server_events())
        } else {
            (pair.take_server_events(), pair.take_client_events())
        };
        // The peer reports the frame as sent, then the outcome.
        let sent = CloseFrame::new(code, &reason).unwrap();
        prop_assert_eq!(&peer_events[0], &Event::Close(sent));
        // The echo carries the same code and no reason.
        let Some(Event::Close(echo)) = closer_events.first() else {
            panic!("no echo: {closer_events:?}")
        };
        prop_assert_eq!((echo.code(), echo.reason()), (code, ""));
        for events in [&closer_events, &peer_events] {
            let Some(Event::Closed(outcome)) = events.last() else {
                panic!("no outcome: {events:?}")
            };
            prop_assert!(outcome.clean);
            prop_assert_eq!(outcome.code, code);
        }
    }
}

/// The `arbitrary` feature: generated values are the valid ones the docs promise.
#[cfg(feature = "arbitrary")]
mod arbitrary_values {
    use super::*;
    use arbitrary::{Arbitrary, Unstructured};
    use wsmachine::frame::{FrameHeader, MAX_HEADER_LEN, Status};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_close_frames_are_valid(data in prop::collection::vec(any::<u8>(), 0..200)) {
            let frame = CloseFrame::arbitrary(&mut Unstructured::new(&data)).unwrap();
            prop_assert!(frame.reason().len() <= MAX_REASON_LEN);
            if frame.code() == CloseCode::NO_STATUS {
                prop_assert_eq!(frame.reason(), "");
            } else {
                prop_assert!(frame.code().is_sendable());
            }
            let mut payload = Vec::new();
            frame.encode(&mut payload);
            prop_assert_eq!(CloseFrame::parse(Bytes::from(payload)), Ok(frame));
        }

        #[test]
        fn arbitrary_headers_round_trip(data in prop::collection::vec(any::<u8>(), 0..40)) {
            let header = FrameHeader::arbitrary(&mut Unstructured::new(&data)).unwrap();
            let mut buf = [0; MAX_HEADER_LEN];
            let n = header.encode(&mut buf);
            prop_assert_eq!(FrameHeader::decode(&buf[..n]), Ok(Status::Complete((header, n))));
        }
    }
}
