//! Fanning one message out to 1, 100 and 10,000 server connections: a [`PreparedMessage`]
//! encoded once against `send_text`/`send_binary` on each connection.
//!
//! Each iteration queues the message on every connection and then marks each connection's
//! output written (`consume_output`), as a driver would after writing it: what is measured is
//! the work of getting the frame into every queue. Run with
//! `cargo bench --bench fanout` (add `--features deflate` for the compressed groups, where
//! every connection agreed to permessage-deflate with the default settings).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wsmachine::{Config, Connection, Negotiated, PreparedMessage};

/// A JSON-like text of about `len` bytes.
fn json(len: usize) -> String {
    let mut s = String::from("{\"type\":\"update\",\"items\":[");
    let mut i = 0;
    while s.len() + 40 < len {
        s.push_str(&format!("{{\"id\":{i},\"price\":{}.25}},", 100 + i % 17));
        i += 1;
    }
    s.push_str("{}]}");
    s
}

fn write_out(conns: &mut [Connection]) {
    for conn in conns {
        let n = conn.buffered_amount();
        conn.consume_output(n);
    }
}

fn fanout_group(c: &mut Criterion, group_name: &str, negotiated: &Negotiated) {
    let mut group = c.benchmark_group(group_name);
    group.sample_size(20);
    for (size_name, text) in [("100 B", json(100)), ("16 KiB", json(16 * 1024))] {
        for n in [1usize, 100, 10_000] {
            let mut conns: Vec<Connection> = (0..n)
                .map(|_| Connection::server(negotiated.clone(), Config::default()))
                .collect();
            group.throughput(Throughput::Elements(n as u64));
            let id = format!("{size_name} to {n}");
            group.bench_with_input(BenchmarkId::new("prepared", &id), &text, |b, text| {
                b.iter(|| {
                    let message = PreparedMessage::text(text.as_str());
                    for conn in conns.iter_mut() {
                        conn.send_prepared(black_box(&message)).unwrap();
                    }
                    write_out(&mut conns);
                })
            });
            group.bench_with_input(BenchmarkId::new("per connection", &id), &text, |b, text| {
                b.iter(|| {
                    for conn in conns.iter_mut() {
                        conn.send_text(black_box(text.as_str())).unwrap();
                    }
                    write_out(&mut conns);
                })
            });
        }
    }
    group.finish();
}

fn fanout(c: &mut Criterion) {
    fanout_group(c, "fanout", &Negotiated::default());
    #[cfg(feature = "deflate")]
    fanout_group(
        c,
        "fanout compressed",
        &Negotiated::new().with_deflate(wsmachine::extensions::DeflateParams::new()),
    );
}

criterion_group!(benches, fanout);
criterion_main!(benches);
