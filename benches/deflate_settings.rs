//! permessage-deflate settings against their cost: heap per active connection, the compressor
//! a thread shares, the compression ratio on JSON-like chat traffic, and the time per message.
//!
//! `cargo bench --bench deflate_settings --features deflate` prints a Markdown table. Each
//! row runs 50 server connections through the same conversation: 60 JSON-like messages of
//! 100 to 1,500 bytes from a browser-like client (15-bit window, context takeover), one at a
//! time, each answered with the same text, compressed by the server with the row's settings.
//! Heap is counted by a counting allocator; the ratio is the server's compressed frames
//! against the same frames uncompressed.

use std::time::Instant;

use wsmachine::extensions::DeflateParams;
use wsmachine::{Config, Connection, FixedMask, Negotiated};
use wsmachine_testkit::alloc::Counting;
use wsmachine_testkit::deflate::{converse, json_corpus};
use wsmachine_testkit::output;

#[global_allocator]
static GLOBAL: Counting = Counting;

const CONNECTIONS: usize = 50;

struct Row {
    takeover: bool,
    window_bits: u8,
    mem_level: u8,
    level: u8,
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is ignored too.
    let corpus = json_corpus();
    let negotiated = Negotiated::new().with_deflate(DeflateParams::new());
    let mut client_config = Config::default();
    client_config.deflate.context_takeover = true;
    let mut client =
        Connection::client_with_mask_source(negotiated.clone(), client_config, FixedMask([7; 4]));
    let reads: Vec<Vec<u8>> = corpus
        .iter()
        .map(|text| {
            client.send_text(text.as_str()).unwrap();
            output(&mut client)
        })
        .collect();
    // The same answers without compression: 2-byte or 4-byte headers.
    let plain: usize = corpus
        .iter()
        .map(|t| t.len() + if t.len() < 126 { 2 } else { 4 })
        .sum();

    let mut rows = Vec::new();
    for takeover in [false, true] {
        for (window_bits, mem_level) in [(15, 8), (15, 5), (12, 8), (12, 5), (10, 3), (9, 1)] {
            for level in [6, 1] {
                rows.push(Row {
                    takeover,
                    window_bits,
                    mem_level,
                    level,
                });
            }
        }
    }
    println!(
        "| context takeover | window bits | memory level | level | heap per connection | \
         compressor per thread | compressed / plain | µs per message |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in rows {
        // Each row on a new thread, whose shared compressor starts out absent.
        let (reads, negotiated, corpus) = (reads.clone(), negotiated.clone(), corpus.clone());
        std::thread::spawn(move || run(&row, &reads, &negotiated, &corpus, plain))
            .join()
            .unwrap();
    }
}

/// Measures one row and prints it.
fn run(row: &Row, reads: &[Vec<u8>], negotiated: &Negotiated, corpus: &[String], plain: usize) {
    let mut config = Config::default();
    config.deflate.context_takeover = row.takeover;
    config.deflate.window_bits = row.window_bits;
    config.deflate.mem_level = row.mem_level;
    config.deflate.level = row.level;

    // The thread's shared compressor for these settings, made before counting.
    let before = Counting::live();
    let mut warm = Connection::server(negotiated.clone(), config.clone());
    warm.send_text(corpus[10].as_str()).unwrap();
    drop(warm);
    let shared = Counting::live() - before;

    let before = Counting::live();
    let start = Instant::now();
    let mut sent = 0;
    let mut conns = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut conn = Box::new(Connection::server(negotiated.clone(), config.clone()));
        sent = converse(&mut conn, reads);
        conns.push(conn);
    }
    let elapsed = start.elapsed();
    let boxes = (CONNECTIONS * std::mem::size_of::<Connection>()) as isize;
    let per_connection = (Counting::live() - before - boxes) / CONNECTIONS as isize;
    drop(conns);
    let micros = elapsed.as_secs_f64() * 1e6 / (CONNECTIONS * reads.len()) as f64;
    println!(
        "| {} | {} | {} | {} | {:.1} KiB | {} | {:.3} | {:.1} |",
        if row.takeover { "yes" } else { "no" },
        row.window_bits,
        row.mem_level,
        row.level,
        per_connection as f64 / 1024.0,
        if shared > 0 {
            format!("{:.0} KiB", shared as f64 / 1024.0)
        } else {
            "—".to_owned()
        },
        sent as f64 / plain as f64,
        micros,
    );
}
