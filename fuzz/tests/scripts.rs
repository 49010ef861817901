//! Hand-written scripts through the fuzz harnesses: each seed runs clean, and the scripts
//! below pin down sequences that once mattered.

use std::path::Path;

use wsmachine::Role;
use wsmachine::extensions::DeflateParams;
use wsmachine::frame::OpCode;
use wsmachine_fuzz::conn::{ConfigChoice, FrameSpec, Op, Script, run_script};

fn ping(payload: &[u8]) -> Op {
    Op::ReceiveFrame(FrameSpec {
        fin: true,
        opcode: OpCode::Ping,
        payload: payload.to_vec(),
        key: [1, 2, 3, 4],
        quirk: None,
        split: 0,
    })
}

fn script(ops: Vec<Op>) -> Script {
    Script {
        config: ConfigChoice::Default,
        key: [9, 9, 9, 9],
        deflate: None,
        ops,
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("seed folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).expect("seed"))
        .collect()
}

#[test]
fn connection_seeds_run_clean() {
    for (target, role) in [
        ("connection_server", Role::Server),
        ("connection_client", Role::Client),
    ] {
        let all = seeds(target);
        assert!(all.len() >= 10);
        for seed in all {
            wsmachine_fuzz::conn::run(role, &seed);
        }
    }
}

#[test]
fn pair_seeds_run_clean() {
    for seed in seeds("pair") {
        wsmachine_fuzz::pair::run(&seed);
    }
}

#[test]
fn handshake_seeds_run_clean() {
    for seed in seeds("handshake_server") {
        wsmachine_fuzz::handshake::run_server(&seed);
    }
    for seed in seeds("handshake_client") {
        wsmachine_fuzz::handshake::run_client(&seed);
    }
    for seed in seeds("extension_params") {
        wsmachine_fuzz::handshake::run_extension_params(&seed);
    }
}

/// A Pong partly written when the next Ping arrives must stay whole; the new one follows it.
#[test]
fn ping_while_the_pong_is_partly_written() {
    for role in [Role::Server, Role::Client] {
        for written in [0, 1, 2, 5] {
            let ops = vec![
                ping(b"first"),
                Op::Consume(written),
                ping(b"second"),
                Op::Consume(1),
                ping(b"third"),
                ping(b"fourth"),
            ];
            run_script(role, &script(ops), &[]);
        }
    }
}

/// The server seeds reach the verdicts their names promise (so the fuzzer starts from every
/// branch of the policy table).
#[test]
fn handshake_server_seeds_mean_what_they_say() {
    use wsmachine::handshake::{HandshakeLimits, ServerHandshake, Status};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/handshake_server");
    for (name, expected) in [
        ("rfc-6455-1.2-request", 101),
        ("pipelined-frame", 101),
        ("extensions-two-lines", 101),
        ("absolute-form-target", 101),
        ("token-lists-and-case", 101),
        ("post-405", 405),
        ("http10-505", 505),
        ("version-8-426", 426),
        ("missing-key", 400),
        ("bad-key", 400),
        ("duplicate-host", 400),
        ("body", 400),
        ("tls-client-hello", 400),
    ] {
        let seed = std::fs::read(dir.join(name)).expect("seed");
        let mut hs = ServerHandshake::new().limits(HandshakeLimits::default());
        let status = match hs.receive(&seed[2..]) {
            Ok(Status::Complete(_)) => 101,
            Ok(Status::Partial) => 0,
            Err(e) => e.status(),
        };
        assert_eq!(status, expected, "{name}");
    }
}

/// Twenty Pings in one read after our Close: one Pong each up to 16 waiting, then the newest
/// replaces the last (the crate's policy), so the output stays bounded.
#[test]
fn ping_flood_after_our_close() {
    for role in [Role::Server, Role::Client] {
        let mut ops = vec![Op::CloseValid(
            wsmachine::CloseFrame::new(wsmachine::CloseCode(4683), "").unwrap(),
        )];
        ops.extend((0..20u8).map(|i| ping(&vec![i; usize::from(i) + 100])));
        ops.push(Op::PollAll);
        run_script(role, &script(ops), &[]);
    }
}

/// The peer's Close is read but not yet taken when we fail the connection: our failure comes
/// first, and the Close event is still delivered before the outcome.
#[test]
fn fail_after_an_unread_peer_close() {
    for role in [Role::Server, Role::Client] {
        let close = Op::ReceiveFrame(FrameSpec {
            fin: true,
            opcode: OpCode::Close,
            payload: Vec::new(),
            key: [0, 0, 21, 187],
            quirk: None,
            split: 1,
        });
        let fail = Op::Fail(wsmachine::CloseCode(3515), "gone".into());
        run_script(role, &script(vec![close, fail, Op::PollAll]), &[]);
    }
}

/// Compressed messages from the peer under every kind of agreement: context takeover or not,
/// small windows, fragmented; and RSV1 without an agreement fails the connection.
#[test]
fn compressed_messages_from_the_peer() {
    let text = "permessage-deflate ".repeat(20);
    let mut configs: Vec<Option<DeflateParams>> = vec![None, Some(DeflateParams::new())];
    for bits in [8u8, 9, 12, 15] {
        let mut p = DeflateParams::new();
        p.server_no_context_takeover = bits % 2 == 0;
        p.client_no_context_takeover = bits % 2 == 1;
        p.server_max_window_bits = Some(bits);
        p.client_max_window_bits = Some(bits);
        configs.push(Some(p));
    }
    for role in [Role::Server, Role::Client] {
        for deflate in configs.clone() {
            let compressed = |text: bool, data: &[u8], cuts: Vec<u16>| Op::ReceiveCompressed {
                text,
                data: data.to_vec(),
                cuts,
                key: [1, 2, 3, 4],
            };
            let ops = vec![
                // Two empty messages: the second one compresses to nothing at all.
                compressed(false, b"", vec![]),
                compressed(false, b"", vec![]),
                compressed(true, text.as_bytes(), vec![]),
                compressed(true, text.as_bytes(), vec![3, 10]),
                compressed(false, &[7; 3000], vec![1]),
                Op::SendText(text.clone()),
                Op::SendBinary(vec![1; 2000]),
                Op::SendFragment {
                    text: true,
                    data: text.as_bytes().to_vec(),
                    fin: false,
                },
                Op::SendFragment {
                    text: true,
                    data: b"end".to_vec(),
                    fin: true,
                },
                Op::PollAll,
                Op::ConsumeAll,
            ];
            let mut s = script(ops);
            s.deflate = deflate;
            run_script(role, &s, &[]);
        }
    }
}
