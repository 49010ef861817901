//! The `inflate` harness on its seeds and on hand-written inputs that pin down the cases that
//! matter: a bomb under a small limit, corrupted data, invalid UTF-8 after inflation, a stream
//! ended with a final block, streaming mode, one-byte reads.

use std::path::Path;

use wsmachine_fuzz::inflate::{Input, Limit, Message, Payload, check, run};

#[test]
fn seeds_run_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join("inflate");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("seed folder") {
        run(&std::fs::read(entry.expect("entry").path()).expect("seed"));
        count += 1;
    }
    assert!(count >= 5);
}

fn message(text: bool, payload: Payload, cuts: Vec<u16>) -> Message {
    Message {
        text,
        payload,
        cuts,
        pings: true,
    }
}

fn compressed(data: &[u8], repeat: u8) -> Payload {
    Payload::Compressed {
        data: data.to_vec(),
        repeat,
        level: 6,
    }
}

#[test]
fn hand_written_inputs() {
    let messages = || {
        vec![
            message(true, compressed(b"Hello", 0), vec![]),
            message(true, compressed(b"Hello", 0), vec![1, 2]),
            message(false, compressed(&[0; 1000], 7), vec![5, 100, 3000]),
            message(true, compressed("κόσμε ".as_bytes(), 20), vec![1, 7]),
            message(false, Payload::Raw(vec![]), vec![]),
            // A final block with the RFC 7692 §7.2.3.4 trailer, then a fresh stream.
            message(
                true,
                Payload::Raw(vec![0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]),
                vec![3],
            ),
            message(
                true,
                Payload::Raw(vec![0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
                vec![],
            ),
        ]
    };
    let ending = |last: Message| {
        let mut m = messages();
        m.push(last);
        m
    };
    let endings = [
        // A small bomb: 16 KiB of zeros in a few dozen bytes, against every limit.
        message(false, compressed(&[0; 1024], 15), vec![]),
        message(
            false,
            Payload::Corrupted {
                data: b"Hello, Hello, Hello".to_vec(),
                at: 2,
                xor: 0x55,
            },
            vec![],
        ),
        message(true, compressed(b"valid \xff invalid", 3), vec![4]),
        message(false, Payload::Raw(vec![0xff, 0xff, 0xff]), vec![1]),
    ];
    for server in [false, true] {
        for streaming in [false, true] {
            for limit in [Limit::Tiny(10), Limit::Small(5000), Limit::Large] {
                for reads in [vec![], vec![1], vec![3, 700, 13]] {
                    for window_bits in [0, 1, 7] {
                        for no_context_takeover in [false, true] {
                            let base = |messages| Input {
                                server,
                                window_bits,
                                no_context_takeover,
                                streaming,
                                limit: limit.clone(),
                                reads: reads.clone(),
                                messages,
                            };
                            check(&base(messages()));
                            for last in &endings {
                                check(&base(ending(last.clone())));
                            }
                        }
                    }
                }
            }
        }
    }
}
