//! Prints how fuzz inputs decode, to read a crash or pick seeds:
//!
//!     cargo run --example decode -- pair artifacts/pair/crash-...
//!     cargo run --example decode -- connection corpus/connection_server/*

use arbitrary::{Arbitrary, Unstructured};
use wsmachine_fuzz::conn::Script;
use wsmachine_fuzz::pair::PairScript;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(kind) = args.get(1) else {
        eprintln!("usage: decode pair|connection FILE...");
        std::process::exit(2);
    };
    for path in &args[2..] {
        let data = std::fs::read(path).expect("readable input");
        let text = if kind == "pair" {
            format!(
                "{:#?}",
                PairScript::arbitrary_take_rest(Unstructured::new(&data))
            )
        } else {
            // A little-endian u16 script length, the script, then the peer's bytes.
            let Some((head, rest)) = data.split_first_chunk::<2>() else {
                println!("{path}: too short");
                continue;
            };
            let n = usize::from(u16::from_le_bytes(*head)).min(rest.len());
            let (script, wire) = rest.split_at(n);
            format!(
                "{:#?}\nwire: {wire:x?}",
                Script::arbitrary_take_rest(Unstructured::new(script))
            )
        };
        println!("{path} ({} bytes)\n{text}", data.len());
    }
}
