//! Prepared messages: encoded once, queued on many connections, byte for byte what a message
//! sent the ordinary way would be (or, compressed, what decodes to it).

use bytes::Bytes;
use wsmachine::frame::OpCode;
use wsmachine::{
    CloseCode, Config, Connection, Event, MessageKind, Negotiated, PreparedMessage, SendError,
};
use wsmachine_testkit::{Pair, frame, frames, output};

fn server() -> Connection {
    Connection::server(Negotiated::default(), Config::default())
}

/// A payload that does not compress much, so its compressed form is large too.
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 16) as u8 + b'a'
        })
        .collect()
}

#[test]
fn a_server_queues_the_prepared_frame_byte_for_byte() {
    let text = PreparedMessage::text("Hello");
    let big = PreparedMessage::binary(vec![7u8; 70_000]);
    assert_eq!((text.kind(), text.len()), (MessageKind::Text, 5));
    assert_eq!((big.kind(), big.len()), (MessageKind::Binary, 70_000));
    for mut conn in [server(), server(), server()] {
        conn.send_prepared(&text).unwrap();
        conn.send_prepared(&big).unwrap();
        let mut expected = frame(true, 0, OpCode::Text, None, b"Hello");
        expected.extend(frame(true, 0, OpCode::Binary, None, &[7u8; 70_000]));
        assert_eq!(output(&mut conn), expected);
    }
}

#[test]
fn a_large_prepared_frame_is_queued_by_reference_on_every_connection() {
    let big = PreparedMessage::binary(vec![1u8; 60_000]);
    // The frame's bytes: a 4-byte header (126, then the length), then the shared payload.
    let payload_at = big.payload().as_ptr() as usize;
    for mut conn in [server(), server()] {
        conn.send_prepared(&big).unwrap();
        let queued = conn.pending_output();
        assert_eq!(queued.len(), 4 + 60_000);
        assert_eq!(queued.as_ptr() as usize + 4, payload_at, "not copied");
    }
}

#[test]
fn a_client_masks_each_prepared_frame_with_its_own_key() {
    let message = PreparedMessage::text("to the server");
    let mut pair = Pair::connected();
    pair.client.send_prepared(&message).unwrap();
    pair.client.send_prepared(&message).unwrap();
    let sent = frames(pair.client.pending_output());
    assert_eq!(sent.len(), 2);
    for f in &sent {
        assert!(f.masked);
        assert_eq!(f.payload, b"to the server");
    }
    pair.drive();
    assert_eq!(
        pair.take_server_events(),
        vec![
            Event::Text("to the server".into()),
            Event::Text("to the server".into())
        ]
    );
}

#[test]
fn prepared_messages_are_refused_as_other_messages_are_and_queue_nothing() {
    let message = PreparedMessage::binary(Bytes::from_static(b"data"));
    let mut conn = server();
    conn.send_fragment(MessageKind::Text, "Hel", false).unwrap();
    let queued = conn.buffered_amount();
    assert_eq!(
        conn.send_prepared(&message),
        Err(SendError::MessageInProgress)
    );
    assert_eq!(conn.buffered_amount(), queued);
    conn.send_fragment(MessageKind::Text, "lo", true).unwrap();
    conn.close(CloseCode::NORMAL, "").unwrap();
    let queued = conn.buffered_amount();
    assert!(conn.send_prepared(&message).is_err());
    assert_eq!(conn.buffered_amount(), queued);
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use wsmachine::extensions::DeflateParams;
    use wsmachine::frame::RSV1;

    fn config(context_takeover: bool) -> Config {
        let mut c = Config::default();
        c.deflate.context_takeover = context_takeover;
        c
    }

    fn deflate_server(params: DeflateParams, config: Config) -> Connection {
        Connection::server(Negotiated::new().with_deflate(params), config)
    }

    /// Connections that compress each message on its own share one compressed frame; their
    /// peers, which keep their decompressor's context, read it among ordinary messages.
    #[test]
    fn connections_without_context_takeover_share_one_compressed_frame() {
        let body = noise(40_000);
        let message = PreparedMessage::binary(body.clone());
        let mut pairs: Vec<Pair> = (0..3)
            .map(|_| Pair::with_deflate(DeflateParams::new(), config(false), config(false)))
            .collect();
        let mut shared = Vec::new();
        for pair in &mut pairs {
            pair.server
                .send_text("before, compressed ".repeat(10))
                .unwrap();
            let before = pair.server.buffered_amount();
            pair.server.send_prepared(&message).unwrap();
            let mut out = Vec::new();
            // Read the prepared frame alone: the queue holds it as its own piece.
            while pair.server.buffered_amount() > 0 {
                out.extend_from_slice(pair.server.pending_output());
                let n = pair.server.pending_output().len();
                pair.server.consume_output(n);
            }
            shared.push(out[before..].to_vec());
            // Re-queue what the pair's transport would have carried, through the peer.
            pair.client.receive(&out);
            pair.server
                .send_text("after, compressed ".repeat(10))
                .unwrap();
            pair.drive();
            assert_eq!(
                pair.take_client_events(),
                vec![
                    Event::Text("before, compressed ".repeat(10).into()),
                    Event::Binary(body.clone().into()),
                    Event::Text("after, compressed ".repeat(10).into()),
                ]
            );
        }
        assert_eq!(shared[0], shared[1]);
        assert_eq!(shared[1], shared[2]);
        let f = &frames(&shared[0])[0];
        assert_eq!(f.rsv, RSV1, "compressed");
        assert!(f.payload.len() < body.len());
    }

    /// A connection that keeps its compressor's context compresses the prepared message with
    /// it, exactly as if the message had been sent the ordinary way.
    #[test]
    fn a_connection_with_context_takeover_compresses_it_itself() {
        let text = "{\"event\":\"tick\",\"value\":12345,\"more\":\"a little padding to pass the threshold\"}";
        let message = PreparedMessage::text(text);
        let mut prepared = deflate_server(DeflateParams::new(), config(true));
        let mut ordinary = deflate_server(DeflateParams::new(), config(true));
        for _ in 0..3 {
            prepared.send_prepared(&message).unwrap();
            ordinary.send_text(text).unwrap();
        }
        let out = output(&mut prepared);
        assert_eq!(out, output(&mut ordinary));
        let sent = frames(&out);
        // Compressed, and with context takeover the later copies are much shorter than the
        // first.
        assert_eq!(sent[0].rsv, RSV1);
        assert!(sent[1].payload.len() * 2 < sent[0].payload.len());
    }

    /// Each agreed window gets a compressed form it can read.
    #[test]
    fn each_window_gets_its_own_shared_form() {
        let body = noise(20_000);
        let message = PreparedMessage::binary(body.clone());
        for spec in [9, 12, 15, 9, 12] {
            let mut params = DeflateParams::new();
            params.server_max_window_bits = Some(spec);
            let mut pair = Pair::with_deflate(params, config(false), config(false));
            pair.server.send_prepared(&message).unwrap();
            pair.drive();
            assert_eq!(
                pair.take_client_events(),
                vec![Event::Binary(body.clone().into())],
                "window {spec}"
            );
        }
    }

    #[test]
    fn uncompressed_and_short_messages_go_as_they_are() {
        let big = vec![b'x'; 10_000];
        let compressible = PreparedMessage::binary(big.clone());
        let at = compressible.payload().as_ptr();
        let raw = compressible.uncompressed();
        assert!(!raw.compressible());
        assert_eq!(raw.payload().as_ptr(), at, "the same frame, not a copy");
        let short = PreparedMessage::text("hi");
        let mut conn = deflate_server(DeflateParams::new(), Config::default());
        conn.send_prepared(&raw).unwrap();
        conn.send_prepared(&short).unwrap();
        let mut expected = frame(true, 0, OpCode::Binary, None, &big);
        expected.extend(frame(true, 0, OpCode::Text, None, b"hi"));
        assert_eq!(output(&mut conn), expected);
        // The same message, compressible, is compressed.
        conn.send_prepared(&PreparedMessage::binary(big)).unwrap();
        let sent = frames(&output(&mut conn));
        assert_eq!(sent[0].rsv, RSV1);
    }

    /// A client masks the shared compressed payload with its own key.
    #[test]
    fn a_client_masks_the_shared_compressed_payload() {
        let message = PreparedMessage::text(
            "compress me, compress me, compress me, compress me, compress me, compress me",
        );
        let mut pair = Pair::with_deflate(DeflateParams::new(), config(false), config(false));
        pair.client.send_prepared(&message).unwrap();
        let sent = frames(pair.client.pending_output());
        assert!(sent[0].masked);
        assert_eq!(sent[0].rsv, RSV1);
        pair.drive();
        assert_eq!(
            pair.take_server_events(),
            vec![Event::Text(
                "compress me, compress me, compress me, compress me, compress me, compress me"
                    .into()
            )]
        );
    }
}
