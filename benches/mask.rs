//! Why `extend_masked` writes into the buffer's spare capacity (the `unsafe` in
//! `src/frame/mask.rs`): it copies and masks in one pass, where the safe alternative copies
//! the payload in (`extend_from_slice`) and then masks it in place, a second pass over the
//! bytes. This measures both for typical payload sizes, source and destination in cache, the
//! destination buffer reused as the connection's buffers are.
//! Run with `cargo bench --bench mask`.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wsmachine::frame::{apply_mask, extend_masked};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn copy_and_mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("copy and mask");
    for size in [16usize, 4096, 64 * 1024, 1 << 20] {
        let src: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        let mut dst = BytesMut::with_capacity(size);
        group.throughput(Throughput::Bytes(size as u64));
        // What wsmachine does: one pass into the spare capacity.
        group.bench_with_input(BenchmarkId::new("one pass", size), &src, |b, src| {
            b.iter(|| {
                dst.clear();
                black_box(extend_masked(&mut dst, black_box(src), KEY, 0));
            })
        });
        // The safe alternative: copy, then mask in place.
        group.bench_with_input(BenchmarkId::new("copy then mask", size), &src, |b, src| {
            b.iter(|| {
                dst.clear();
                dst.extend_from_slice(black_box(src));
                black_box(apply_mask(&mut dst, KEY, 0));
            })
        });
        // The floor: a plain copy.
        group.bench_with_input(BenchmarkId::new("memcpy", size), &src, |b, src| {
            b.iter(|| {
                dst.clear();
                dst.extend_from_slice(black_box(src));
                black_box(&dst);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, copy_and_mask);
criterion_main!(benches);
