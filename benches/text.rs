//! Why `Text` derefs with `from_utf8_unchecked` (the `unsafe` in `src/text.rs`): the
//! alternative, checking the bytes again on every access, costs a pass over the payload each
//! time the application looks at a message. This measures both for typical message sizes.
//! Run with `cargo bench --bench text`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wsmachine::{Bytes, Text};

fn deref(c: &mut Criterion) {
    let mut group = c.benchmark_group("Text as &str");
    for size in [16usize, 4096, 1 << 20] {
        let s: String = "héllo wörld κόσμε ".chars().cycle().take(size).collect();
        let text = Text::from(s.as_str());
        let bytes = Bytes::copy_from_slice(s.as_bytes());
        group.throughput(Throughput::Bytes(s.len() as u64));
        // What wsmachine does: the bytes were validated once, on arrival.
        group.bench_with_input(BenchmarkId::new("unchecked deref", size), &text, |b, t| {
            b.iter(|| black_box(black_box(t).as_str().len()))
        });
        // The safe alternative: validate on every access.
        group.bench_with_input(
            BenchmarkId::new("checked on access", size),
            &bytes,
            |b, bytes| b.iter(|| black_box(std::str::from_utf8(black_box(bytes)).unwrap().len())),
        );
    }
    group.finish();
}

criterion_group!(benches, deref);
criterion_main!(benches);
