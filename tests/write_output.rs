//! `write_output`: the connection writes its output into the driver's buffer. The bytes are
//! exactly those the `pending_output`/`consume_output` queue gives, in both roles, whatever
//! the buffer sizes, and the two ways may be mixed.

use proptest::prelude::*;
use wsmachine::{Bytes, CloseCode, Config, Connection, MessageKind, Role};
use wsmachine_testkit::{connection, frames, output, pattern};

/// Something the application asks to send.
#[derive(Clone, Debug)]
enum Send {
    Text(String),
    /// A binary message, borrowed (copied into the queue) or shared (`Bytes`).
    Binary {
        len: usize,
        shared: bool,
    },
    /// A binary message in fragments.
    Fragments(Vec<usize>),
    Ping(Vec<u8>),
    Close,
}

fn send() -> impl Strategy<Value = Send> {
    prop_oneof![
        4 => ".{0,30}".prop_map(Send::Text),
        4 => (
            prop_oneof![0usize..200, 4000usize..70_000, 100_000usize..300_000],
            any::<bool>()
        )
            .prop_map(|(len, shared)| Send::Binary { len, shared }),
        1 => prop::collection::vec(0usize..10_000, 1..4).prop_map(Send::Fragments),
        2 => prop::collection::vec(any::<u8>(), 0..=125).prop_map(Send::Ping),
        1 => Just(Send::Close),
    ]
}

fn apply(conn: &mut Connection, send: &Send, seed: u64) {
    // Refusals (after a Close) are the same for both connections; only the bytes matter here.
    let _ = match send {
        Send::Text(text) => conn.send_text(text.as_str()),
        Send::Binary { len, shared } => {
            let data = pattern(seed, *len);
            if *shared {
                conn.send_binary(Bytes::from(data))
            } else {
                conn.send_binary(&data)
            }
        }
        Send::Fragments(lens) => lens.iter().enumerate().try_for_each(|(i, &len)| {
            let data = Bytes::from(pattern(seed + i as u64, len));
            conn.send_fragment(MessageKind::Binary, data, i + 1 == lens.len())
        }),
        Send::Ping(data) => conn.send_ping(data),
        Send::Close => conn.close(CloseCode::NORMAL, "bye"),
    };
}

/// How the second connection's output is taken, step by step.
#[derive(Clone, Debug)]
enum Take {
    /// `write_output` into a buffer of this size.
    Write(usize),
    /// `pending_output`, then `consume_output` of at most this much of it.
    Peek(usize),
}

fn take() -> impl Strategy<Value = Take> {
    prop_oneof![
        3 => prop_oneof![1usize..16, 1usize..5000, 60_000usize..200_000].prop_map(Take::Write),
        1 => (1usize..100_000).prop_map(Take::Peek),
    ]
}

/// Takes at most a few steps' worth of output from `conn` the way `takes` says, starting at
/// `turn`; returns the bytes.
fn take_some(conn: &mut Connection, takes: &[Take], turn: &mut usize, steps: usize) -> Vec<u8> {
    let mut got = Vec::new();
    for _ in 0..steps {
        let before = conn.buffered_amount();
        let n = match &takes[*turn % takes.len()] {
            Take::Write(size) => {
                let mut buf = vec![0xA5; *size];
                let n = conn.write_output(&mut buf);
                assert_eq!(
                    n,
                    before.min(*size),
                    "write_output wrote less than it could"
                );
                got.extend_from_slice(&buf[..n]);
                n
            }
            Take::Peek(max) => {
                let front = conn.pending_output();
                assert_eq!(front.is_empty(), before == 0, "pending_output hides output");
                let n = front.len().min(*max);
                got.extend_from_slice(&front[..n]);
                conn.consume_output(n);
                n
            }
        };
        *turn += 1;
        assert_eq!(conn.buffered_amount(), before - n);
    }
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn write_output_gives_the_bytes_of_the_queue(
        sends in prop::collection::vec(send(), 1..12),
        takes in prop::collection::vec(take(), 1..6),
        steps in prop::collection::vec(0usize..4, 1..6),
        server in any::<bool>(),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let mut queued = connection(role, Config::default());
        let mut written = connection(role, Config::default());
        let (mut want, mut got) = (Vec::new(), Vec::new());
        let mut turn = 0;
        for (i, send) in sends.iter().enumerate() {
            apply(&mut queued, send, i as u64);
            apply(&mut written, send, i as u64);
            // The queue path, written out whole; the other way, a few steps in between sends.
            want.extend(output(&mut queued));
            got.extend(take_some(&mut written, &takes, &mut turn, steps[i % steps.len()]));
            prop_assert_eq!(queued.buffered_amount(), 0);
        }
        // The rest, with write_output and a mid-sized buffer.
        let mut buf = vec![0; 7000];
        loop {
            let n = written.write_output(&mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        prop_assert_eq!(written.buffered_amount(), 0);
        prop_assert_eq!(written.pending_output(), &[][..]);
        prop_assert!(got == want, "{} bytes written, {} queued", got.len(), want.len());
    }
}

/// A client's large shared payload, written with `write_output`, is masked straight into the
/// driver's buffer: the frames parse back to the payload, and `pending_output` still shows
/// the next bytes when the driver switches back to peeking in the middle of it.
#[test]
fn a_client_payload_masked_into_the_driver_buffer() {
    let mut client = connection(Role::Client, Config::default());
    let payload = pattern(9, 200_000);
    let mut buf = vec![0; 4096];
    assert_eq!(client.write_output(&mut buf), 0);
    client.send_binary(Bytes::from(payload.clone())).unwrap();
    client.send_text("after").unwrap();
    let total = client.buffered_amount();
    let mut wire = Vec::new();
    // Write some, peek some, write the rest.
    let n = client.write_output(&mut buf);
    wire.extend_from_slice(&buf[..n]);
    let front = client.pending_output().to_vec();
    assert!(!front.is_empty());
    wire.extend_from_slice(&front);
    client.consume_output(front.len());
    while client.buffered_amount() > 0 {
        let n = client.write_output(&mut buf);
        wire.extend_from_slice(&buf[..n]);
    }
    assert_eq!(wire.len(), total);
    let frames = frames(&wire);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].payload, payload);
    assert_eq!(frames[1].payload, b"after");
}

/// A buffer of one byte makes progress one byte at a time.
#[test]
fn a_one_byte_buffer() {
    let mut server = connection(Role::Server, Config::default());
    server.send_text("Hello").unwrap();
    let mut wire = Vec::new();
    let mut byte = [0];
    while server.write_output(&mut byte) == 1 {
        wire.push(byte[0]);
    }
    assert_eq!(wire, b"\x81\x05Hello");
    assert_eq!(server.write_output(&mut []), 0);
}
