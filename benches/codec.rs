//! Decode and encode workloads for wsmachine beside tungstenite, fastwebsockets,
//! tokio-websockets and memcpy.
//!
//! Every implementation gets the same bytes, delivered in socket-sized reads (128 KiB, the
//! headline; 64 KiB and 4 KiB too). wsmachine is sans-IO, so its driver hands each read to
//! `receive` as a slice; the peers read the same slices through an in-memory
//! `Read`/`AsyncRead` (which copies, as their APIs require). Output goes to a sink that only
//! counts bytes. `memcpy` copies the same input bytes, read by read, into ONE reused buffer of
//! the read size (cache-hot, as a receive buffer is): the floor for anything that moves the
//! payload. Every implementation is built with the same profile (`[profile.bench]`: fat LTO,
//! one codegen unit). Before measuring, each implementation's result is checked: the same
//! message count, and for the Ping workload one Pong written per Ping.
//!
//! Run with `scripts/bench.sh` (pinned, with the ratio report) or `cargo bench --bench codec`;
//! see BENCHMARKS.md.
//!
//! With `--features deflate`, the `compressed` groups measure permessage-deflate: decoding and
//! encoding compressed JSON-like text, with and without context takeover. They measure
//! wsmachine alone: the peers here do not implement permessage-deflate
//! (`cargo bench --bench codec --features deflate -- compressed`).

use std::hint::black_box;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{SinkExt, StreamExt};
use wsmachine::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, apply_mask};
use wsmachine::{Config, Connection, Event, EventRef, MessageKind, Negotiated, Role};

// ---------- inputs ----------

/// A deterministic xorshift generator for keys and payloads.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn key(&mut self) -> [u8; 4] {
        (self.next() as u32).to_ne_bytes()
    }
}

fn push_frame(out: &mut Vec<u8>, rng: &mut Rng, fin: bool, opcode: OpCode, payload: &[u8]) {
    let key = rng.key();
    let h = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        masking_key: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut hb = [0; MAX_HEADER_LEN];
    let n = h.encode(&mut hb);
    out.extend_from_slice(&hb[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], key, 0);
}

struct Workload {
    name: &'static str,
    input: Vec<u8>,
    /// Whole data messages the input holds.
    messages: usize,
    /// Pings the input holds, each to be answered with a Pong.
    pongs: usize,
}

fn small_text() -> Workload {
    let mut rng = Rng(1);
    let mut input = Vec::new();
    for i in 0..1_000_000u32 {
        push_frame(
            &mut input,
            &mut rng,
            true,
            OpCode::Text,
            format!("message {i:08}").as_bytes(),
        );
    }
    Workload {
        name: "decode 1M x 16 B text",
        input,
        messages: 1_000_000,
        pongs: 0,
    }
}

fn mixed_utf8_text() -> Workload {
    // 4 KiB of mixed scripts: ASCII, Latin-1, Greek, CJK, emoji.
    let unit = "hello wörld κόσμε 世界 🌍 ";
    let mut text = String::new();
    while text.len() + unit.len() <= 4096 {
        text.push_str(unit);
    }
    while text.len() < 4096 {
        text.push('x');
    }
    let mut rng = Rng(2);
    let mut input = Vec::new();
    for _ in 0..20_000 {
        push_frame(&mut input, &mut rng, true, OpCode::Text, text.as_bytes());
    }
    Workload {
        name: "decode 20k x 4 KiB UTF-8 text",
        input,
        messages: 20_000,
        pongs: 0,
    }
}

fn big_binary(fragments: usize) -> Workload {
    let mut rng = Rng(3);
    let payload: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let mut input = Vec::new();
    for _ in 0..64 {
        let piece = payload.len() / fragments;
        for (i, chunk) in payload.chunks(piece).enumerate() {
            let opcode = if i == 0 {
                OpCode::Binary
            } else {
                OpCode::Continuation
            };
            push_frame(&mut input, &mut rng, i + 1 == fragments, opcode, chunk);
        }
    }
    let name = if fragments == 1 {
        "decode 64 x 1 MiB binary"
    } else {
        "decode 64 x 1 MiB in 4 KiB fragments"
    };
    Workload {
        name,
        input,
        messages: 64,
        pongs: 0,
    }
}

fn text_and_ping() -> Workload {
    let mut rng = Rng(4);
    let mut input = Vec::new();
    for i in 0..100_000u32 {
        push_frame(
            &mut input,
            &mut rng,
            true,
            OpCode::Text,
            format!("message {i:08}").as_bytes(),
        );
        push_frame(&mut input, &mut rng, true, OpCode::Ping, b"ping");
    }
    // A last message behind the last Ping: the peers' loops stop at the last message they
    // expect, so every Ping comes before it and is answered.
    push_frame(&mut input, &mut rng, true, OpCode::Text, b"end");
    Workload {
        name: "decode 100k text + ping",
        input,
        messages: 100_001,
        pongs: 100_000,
    }
}

// ---------- wsmachine ----------

fn big_config() -> Config {
    let mut c = Config::default();
    c.max_message_size = 64 << 20;
    c
}

/// What a decode run produced: whole data messages, and bytes written back (the Pongs).
type Decoded = (usize, usize);

fn wsmachine_decode(input: &[u8], read: usize) -> Decoded {
    // The application answers every Ping itself (`send_pong`), one for one, as the peers do:
    // the automatic Pong keeps at most 16 unwritten, and a 128 KiB read holds thousands.
    let mut config = big_config();
    config.auto_pong = false;
    let mut conn = Connection::server(Negotiated::default(), config);
    let mut messages = 0;
    let mut written = 0;
    for chunk in input.chunks(read) {
        conn.receive(chunk);
        while let Some(event) = conn.poll_event() {
            match &event {
                Event::Text(_) | Event::Binary(_) => messages += 1,
                Event::Ping(data) => conn.send_pong(data).unwrap(),
                _ => {}
            }
            black_box(event);
        }
        written += drain_output(&mut conn);
    }
    (messages, written)
}

/// [`wsmachine_decode`] taking the events borrowed (`poll_event_ref`): short messages, Pings
/// and Pongs are lent from the input, with no `Bytes` and no event queue.
fn wsmachine_decode_borrowed(input: &[u8], read: usize) -> Decoded {
    let mut config = big_config();
    config.auto_pong = false;
    let mut conn = Connection::server(Negotiated::default(), config);
    let mut messages = 0;
    let mut written = 0;
    let mut pong = [0u8; 125];
    for chunk in input.chunks(read) {
        conn.receive(chunk);
        loop {
            let ping = match conn.poll_event_ref() {
                None => break,
                Some(EventRef::Text(text)) => {
                    black_box(text);
                    messages += 1;
                    continue;
                }
                Some(EventRef::Binary(data)) => {
                    black_box(data);
                    messages += 1;
                    continue;
                }
                Some(EventRef::Ping(data)) => {
                    // The borrow ends before the connection is used again.
                    pong[..data.len()].copy_from_slice(data);
                    data.len()
                }
                Some(event) => {
                    black_box(event);
                    continue;
                }
            };
            conn.send_pong(&pong[..ping]).unwrap();
        }
        written += drain_output(&mut conn);
    }
    (messages, written)
}

// ---------- in-memory streams for the peers ----------

struct MemStream<'a> {
    input: &'a [u8],
    read: usize,
    written: usize,
}

impl Read for MemStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read.min(buf.len()).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for MemStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += black_box(buf).len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemStream<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.read.min(buf.remaining()).min(this.input.len());
        buf.put_slice(&this.input[..n]);
        this.input = &this.input[n..];
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemStream<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().written += black_box(buf).len();
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn tungstenite_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(16 << 20))
}

fn tungstenite_decode(input: &[u8], read: usize, messages: usize) -> Decoded {
    let stream = MemStream {
        input,
        read,
        written: 0,
    };
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        stream,
        tungstenite::protocol::Role::Server,
        Some(tungstenite_config()),
    );
    let mut got = 0;
    while got < messages {
        match ws.read().expect("tungstenite read") {
            m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_)) => {
                got += 1;
                black_box(m);
            }
            m => {
                black_box(m);
            }
        }
    }
    ws.flush().ok();
    (got, ws.get_ref().written)
}

fn fastwebsockets_decode(
    rt: &tokio::runtime::Runtime,
    input: &[u8],
    read: usize,
    messages: usize,
) -> Decoded {
    rt.block_on(async {
        let stream = MemStream {
            input,
            read,
            written: 0,
        };
        let mut ws =
            fastwebsockets::WebSocket::after_handshake(stream, fastwebsockets::Role::Server);
        ws.set_max_message_size(64 << 20);
        ws.set_auto_pong(true);
        let mut ws = fastwebsockets::FragmentCollector::new(ws);
        let mut got = 0;
        while got < messages {
            let frame = ws.read_frame().await.expect("fastwebsockets read");
            if matches!(
                frame.opcode,
                fastwebsockets::OpCode::Text | fastwebsockets::OpCode::Binary
            ) {
                got += 1;
            }
            black_box(&frame.payload);
        }
        (got, ws.into_inner().written)
    })
}

fn tokio_websockets_limits() -> tokio_websockets::Limits {
    tokio_websockets::Limits::default().max_payload_len(Some(64 << 20))
}

fn tokio_websockets_decode(
    rt: &tokio::runtime::Runtime,
    input: &[u8],
    read: usize,
    messages: usize,
) -> Decoded {
    rt.block_on(async {
        let stream = MemStream {
            input,
            read,
            written: 0,
        };
        let mut ws = tokio_websockets::ServerBuilder::new()
            .limits(tokio_websockets_limits())
            .serve(stream);
        let mut got = 0;
        while got < messages {
            let message = ws
                .next()
                .await
                .expect("tokio-websockets stream ended")
                .expect("tokio-websockets read");
            if message.is_text() || message.is_binary() {
                got += 1;
            }
            black_box(message);
        }
        // Pongs it queued and has not written yet.
        ws.flush().await.unwrap();
        (got, ws.get_ref().written)
    })
}

/// The floor: the same input, read by read, copied into one reused buffer of the read size.
fn memcpy(input: &[u8], read: usize, dst: &mut [u8]) {
    for chunk in input.chunks(read) {
        dst[..chunk.len()].copy_from_slice(chunk);
        black_box(&mut *dst);
    }
}

/// Read sizes, headline first, with their labels in criterion's ids.
const READS: [(usize, &str); 3] = [
    (128 * 1024, "128KiB reads"),
    (64 * 1024, "64KiB reads"),
    (4 * 1024, "4KiB reads"),
];

// ---------- benches ----------

fn configure(c: &mut Criterion) -> &mut Criterion {
    c
}

fn decode(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for w in [
        small_text(),
        mixed_utf8_text(),
        big_binary(1),
        big_binary(256),
        text_and_ping(),
    ] {
        let mut group = configure(c).benchmark_group(w.name);
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500));
        group.throughput(Throughput::Bytes(w.input.len() as u64));
        let mut dst = vec![0u8; READS[0].0];
        for (read, label) in READS {
            // The same result from everyone before anything is timed: every message, and one
            // Pong (6 bytes: a 2-byte header and "ping") written per Ping.
            let expect = (w.messages, w.pongs * 6);
            assert_eq!(wsmachine_decode(&w.input, read), expect, "wsmachine");
            assert_eq!(
                wsmachine_decode_borrowed(&w.input, read),
                expect,
                "wsmachine, borrowed"
            );
            assert_eq!(
                tungstenite_decode(&w.input, read, w.messages),
                expect,
                "tungstenite"
            );
            assert_eq!(
                fastwebsockets_decode(&rt, &w.input, read, w.messages),
                expect,
                "fastwebsockets"
            );
            assert_eq!(
                tokio_websockets_decode(&rt, &w.input, read, w.messages),
                expect,
                "tokio-websockets"
            );
            group.bench_function(BenchmarkId::new("wsmachine", label), |b| {
                b.iter(|| wsmachine_decode(&w.input, read))
            });
            group.bench_function(BenchmarkId::new("wsmachine-borrowed", label), |b| {
                b.iter(|| wsmachine_decode_borrowed(&w.input, read))
            });
            group.bench_function(BenchmarkId::new("tungstenite", label), |b| {
                b.iter(|| tungstenite_decode(&w.input, read, w.messages))
            });
            group.bench_function(BenchmarkId::new("fastwebsockets", label), |b| {
                b.iter(|| fastwebsockets_decode(&rt, &w.input, read, w.messages))
            });
            group.bench_function(BenchmarkId::new("tokio-websockets", label), |b| {
                b.iter(|| tokio_websockets_decode(&rt, &w.input, read, w.messages))
            });
            group.bench_function(BenchmarkId::new("memcpy", label), |b| {
                b.iter(|| memcpy(&w.input, read, &mut dst))
            });
        }
        group.finish();
    }
}

// ---------- encode ----------

const SINK_FLUSH: usize = 64 * 1024;

/// "Writes" all pending output to a sink that only looks at it; returns the bytes written.
fn drain_output(conn: &mut Connection) -> usize {
    let mut written = 0;
    while !conn.pending_output().is_empty() {
        let n = black_box(conn.pending_output()).len();
        written += n;
        conn.consume_output(n);
    }
    written
}

/// The payload as text for a text message, checked once outside the timed loop (the
/// encoders take `&str`, so the check is the caller's, not theirs).
fn as_text(payload: &[u8], kind: MessageKind) -> Option<&str> {
    (kind == MessageKind::Text).then(|| std::str::from_utf8(payload).unwrap())
}

fn wsmachine_encode(role: Role, messages: usize, payload: &[u8], kind: MessageKind) -> usize {
    let mut conn = match role {
        Role::Server => Connection::server(Negotiated::default(), big_config()),
        Role::Client => Connection::client(Negotiated::default(), big_config()),
    };
    let text = as_text(payload, kind);
    let mut written = 0;
    for _ in 0..messages {
        match text {
            Some(text) => conn.send_text(text).unwrap(),
            None => conn.send_binary(payload).unwrap(),
        }
        if conn.buffered_amount() >= SINK_FLUSH {
            written += drain_output(&mut conn);
        }
    }
    written += drain_output(&mut conn);
    written
}

fn tungstenite_encode(
    role: tungstenite::protocol::Role,
    messages: usize,
    payload: &[u8],
    kind: MessageKind,
) -> usize {
    let stream = MemStream {
        input: &[],
        read: 0,
        written: 0,
    };
    let mut ws = tungstenite::WebSocket::from_raw_socket(stream, role, Some(tungstenite_config()));
    let text = as_text(payload, kind);
    for _ in 0..messages {
        let m = match text {
            Some(text) => tungstenite::Message::text(text),
            None => tungstenite::Message::binary(payload.to_vec()),
        };
        ws.write(m).unwrap();
    }
    ws.flush().unwrap();
    ws.get_ref().written
}

fn fastwebsockets_encode(
    rt: &tokio::runtime::Runtime,
    role: fastwebsockets::Role,
    messages: usize,
    payload: &[u8],
    kind: MessageKind,
) -> usize {
    rt.block_on(async {
        let stream = MemStream {
            input: &[],
            read: 0,
            written: 0,
        };
        let mut ws = fastwebsockets::WebSocket::after_handshake(stream, role);
        ws.set_writev(false);
        for _ in 0..messages {
            let p = fastwebsockets::Payload::Borrowed(payload);
            let frame = match kind {
                MessageKind::Text => fastwebsockets::Frame::text(p),
                MessageKind::Binary => fastwebsockets::Frame::binary(p),
            };
            ws.write_frame(frame).await.unwrap();
        }
        ws.into_inner().written
    })
}

fn tokio_websockets_encode(
    rt: &tokio::runtime::Runtime,
    role: Role,
    messages: usize,
    payload: &[u8],
    kind: MessageKind,
) -> usize {
    rt.block_on(async {
        let stream = MemStream {
            input: &[],
            read: 0,
            written: 0,
        };
        let mut ws = match role {
            Role::Server => tokio_websockets::ServerBuilder::new().serve(stream),
            Role::Client => tokio_websockets::ClientBuilder::new().take_over(stream),
        };
        let text = as_text(payload, kind);
        for _ in 0..messages {
            // Its messages own their payload, as tungstenite's do: the copy is its API's.
            let m = match text {
                Some(text) => tokio_websockets::Message::text(text.to_owned()),
                None => tokio_websockets::Message::binary(payload.to_vec()),
            };
            ws.feed(m).await.unwrap();
        }
        ws.flush().await.unwrap();
        ws.get_ref().written
    })
}

fn encode(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let small = b"message 00000000".to_vec();
    let big: Vec<u8> = {
        let mut rng = Rng(5);
        (0..1 << 20).map(|_| rng.next() as u8).collect()
    };
    let cases: [(&str, Role, usize, &[u8], MessageKind); 2] = [
        (
            "encode 1M x 16 B text (server)",
            Role::Server,
            1_000_000,
            &small,
            MessageKind::Text,
        ),
        (
            "encode 64 x 1 MiB masked binary (client)",
            Role::Client,
            64,
            &big,
            MessageKind::Binary,
        ),
    ];
    for (name, role, n, payload, kind) in cases {
        let (t_role, f_role) = match role {
            Role::Server => (
                tungstenite::protocol::Role::Server,
                fastwebsockets::Role::Server,
            ),
            Role::Client => (
                tungstenite::protocol::Role::Client,
                fastwebsockets::Role::Client,
            ),
        };
        // Every encoder writes the same number of bytes.
        let wire = wsmachine_encode(role, n, payload, kind);
        assert_eq!(tungstenite_encode(t_role, n, payload, kind), wire);
        assert_eq!(fastwebsockets_encode(&rt, f_role, n, payload, kind), wire);
        assert_eq!(tokio_websockets_encode(&rt, role, n, payload, kind), wire);
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500));
        group.throughput(Throughput::Bytes((n * payload.len()) as u64));
        let mut dst = vec![0u8; SINK_FLUSH + payload.len()];
        group.bench_function("wsmachine", |b| {
            b.iter(|| wsmachine_encode(role, n, payload, kind))
        });
        group.bench_function("tungstenite", |b| {
            b.iter(|| tungstenite_encode(t_role, n, payload, kind))
        });
        group.bench_function("fastwebsockets", |b| {
            b.iter(|| fastwebsockets_encode(&rt, f_role, n, payload, kind))
        });
        group.bench_function("tokio-websockets", |b| {
            b.iter(|| tokio_websockets_encode(&rt, role, n, payload, kind))
        });
        group.bench_function("memcpy", |b| {
            b.iter(|| {
                let mut at = 0;
                for _ in 0..n {
                    if at + payload.len() > dst.len() {
                        at = 0;
                    }
                    dst[at..at + payload.len()].copy_from_slice(payload);
                    at += payload.len();
                }
                black_box(&mut dst);
            })
        });
        group.finish();
    }
}

// ---------- permessage-deflate ----------

#[cfg(feature = "deflate")]
mod compressed {
    use super::*;
    use wsmachine::extensions::DeflateParams;

    const MESSAGES: usize = 5_000;

    /// About 4 KiB of JSON-like text per message, each message different, as an API feed.
    fn json_messages() -> Vec<String> {
        let mut rng = Rng(6);
        (0..MESSAGES)
            .map(|i| {
                let mut m = format!("{{\"seq\": {i}, \"items\": [");
                while m.len() < 4000 {
                    let v = rng.next();
                    m.push_str(&format!(
                        "{{\"id\": {}, \"price\": {}.{:02}, \"name\": \"item-{}\", \"ok\": {}}}, ",
                        v % 100_000,
                        (v >> 20) % 1000,
                        (v >> 30) % 100,
                        (v >> 40) % 500,
                        v & 1 == 0
                    ));
                }
                m.push_str("null]}");
                m
            })
            .collect()
    }

    fn negotiated(no_context_takeover: bool) -> Negotiated {
        let mut p = DeflateParams::new();
        p.server_no_context_takeover = no_context_takeover;
        p.client_no_context_takeover = no_context_takeover;
        Negotiated::new().with_deflate(p)
    }

    fn config(level: u8) -> Config {
        let mut c = big_config();
        c.deflate.level = level;
        c
    }

    /// What a client sends for `messages`: compressed and masked.
    fn client_wire(messages: &[String], no_context_takeover: bool) -> Vec<u8> {
        let mut conn = Connection::client(negotiated(no_context_takeover), config(6));
        let mut wire = Vec::new();
        for m in messages {
            conn.send_text(m.as_str()).unwrap();
            while !conn.pending_output().is_empty() {
                let n = conn.pending_output().len();
                wire.extend_from_slice(conn.pending_output());
                conn.consume_output(n);
            }
        }
        wire
    }

    fn decode(input: &[u8], no_context_takeover: bool, read: usize) -> usize {
        let mut conn = Connection::server(negotiated(no_context_takeover), config(6));
        let mut messages = 0;
        for chunk in input.chunks(read) {
            conn.receive(chunk);
            while let Some(event) = conn.poll_event() {
                if matches!(event, Event::Text(_)) {
                    messages += 1;
                }
                black_box(event);
            }
        }
        messages
    }

    fn encode(messages: &[String], no_context_takeover: bool, level: u8) -> usize {
        let mut conn = Connection::server(negotiated(no_context_takeover), config(level));
        let mut written = 0;
        for m in messages {
            conn.send_text(m.as_str()).unwrap();
            if conn.buffered_amount() >= SINK_FLUSH {
                written += drain_output(&mut conn);
            }
        }
        written += drain_output(&mut conn);
        written
    }

    pub fn benches(c: &mut Criterion) {
        let messages = json_messages();
        let text_bytes: usize = messages.iter().map(String::len).sum();
        let mut group = c.benchmark_group("compressed decode 5k x 4 KiB JSON text");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(5))
            .warm_up_time(Duration::from_secs(1));
        // Throughput in inflated (application) bytes.
        group.throughput(Throughput::Bytes(text_bytes as u64));
        for no_context_takeover in [false, true] {
            let input = client_wire(&messages, no_context_takeover);
            let context = if no_context_takeover {
                "no context takeover"
            } else {
                "context takeover"
            };
            println!(
                "{context}: {text_bytes} bytes of text, {} on the wire ({:.1}%)",
                input.len(),
                100.0 * input.len() as f64 / text_bytes as f64
            );
            assert_eq!(decode(&input, no_context_takeover, 64 * 1024), MESSAGES);
            group.bench_function(
                BenchmarkId::new("wsmachine", format!("{context}, 64KiB reads")),
                |b| b.iter(|| decode(&input, no_context_takeover, 64 * 1024)),
            );
        }
        group.finish();

        let mut group = c.benchmark_group("compressed encode 5k x 4 KiB JSON text (server)");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(5))
            .warm_up_time(Duration::from_secs(1));
        group.throughput(Throughput::Bytes(text_bytes as u64));
        for no_context_takeover in [false, true] {
            for level in [1, 6] {
                let context = if no_context_takeover {
                    "no context takeover"
                } else {
                    "context takeover"
                };
                let wire = encode(&messages, no_context_takeover, level);
                println!(
                    "{context}, level {level}: {wire} bytes on the wire ({:.1}%)",
                    100.0 * wire as f64 / text_bytes as f64
                );
                group.bench_function(
                    BenchmarkId::new("wsmachine", format!("{context}, level {level}")),
                    |b| b.iter(|| encode(&messages, no_context_takeover, level)),
                );
            }
        }
        group.finish();
    }
}

#[cfg(feature = "deflate")]
criterion_group!(benches, decode, encode, compressed::benches);
#[cfg(not(feature = "deflate"))]
criterion_group!(benches, decode, encode);
criterion_main!(benches);
