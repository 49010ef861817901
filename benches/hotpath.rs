//! The core's hot paths beside tungstenite, fastwebsockets and memcpy, as a benchmark program
//! (not criterion) so that one run of one workload can be counted under callgrind.
//!
//! ```text
//! cargo bench --profile callgrind --bench hotpath -- ratios [ROUNDS]
//! cargo bench --profile callgrind --bench hotpath -- run WORKLOAD IMPL
//! cargo bench --profile callgrind --bench hotpath -- list
//! ```
//!
//! `ratios` runs every implementation of every workload in turn, round after round
//! (interleaved, so a noisy neighbour slows them all alike), and prints each one's median time
//! and its ratio to the best peer and to memcpy. `run` runs one workload once with one
//! implementation inside `measured`, the only function `scripts/callgrind.sh` counts.
//!
//! Every implementation gets the same bytes in 128 KiB reads (decode) and writes into one
//! reused 128 KiB "socket" buffer (encode, and the Pongs of the ping workload): the floor,
//! memcpy, copies the same bytes into one reused 128 KiB buffer; `memcpy-msg` into one reused
//! buffer the size of a message (1 MiB for the large workloads), where a decoder must
//! assemble a whole message and an encoder writes one.

use std::hint::black_box;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wsmachine::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, apply_mask};
use wsmachine::{Bytes, Config, Connection, Event, EventRef, FixedMask, Negotiated};

/// The size of one read from the transport, and of the buffer output is written into.
const READ: usize = 128 * 1024;

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
}

/// Appends one masked (client) frame.
fn push_frame(out: &mut Vec<u8>, rng: &mut Rng, fin: bool, opcode: OpCode, payload: &[u8]) {
    let key = (rng.next() as u32).to_ne_bytes();
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        masking_key: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut buf = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut buf);
    out.extend_from_slice(&buf[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], key, 0);
}

/// The workloads, by name.
const WORKLOADS: [&str; 6] = ["small", "ping", "utf8", "big", "frag", "encode"];

/// The implementations, by name.
const IMPLS: [&str; 6] = [
    "wsmachine",
    "wsmachine-ref",
    "tungstenite",
    "fastwebsockets",
    "memcpy",
    "memcpy-msg",
];

struct Workload {
    /// The wire bytes (decode) or the payload to send (encode).
    input: Vec<u8>,
    /// Data messages in it (decode) or to send (encode).
    messages: usize,
    /// A Ping follows each message.
    pings: bool,
}

fn workload(name: &str) -> Workload {
    let mut rng = Rng(1);
    let mut input = Vec::new();
    match name {
        // 1M x 16 B masked text.
        "small" | "ping" => {
            let (count, pings) = if name == "small" {
                (1_000_000u32, false)
            } else {
                (100_000, true)
            };
            for i in 0..count {
                let text = format!("message {i:08}");
                push_frame(&mut input, &mut rng, true, OpCode::Text, text.as_bytes());
                if pings {
                    push_frame(&mut input, &mut rng, true, OpCode::Ping, b"ping");
                }
            }
            Workload {
                input,
                messages: count as usize,
                pings,
            }
        }
        // 20k x 4 KiB of mixed scripts: ASCII, Latin-1, Greek, CJK, emoji.
        "utf8" => {
            let unit = "hello wörld κόσμε 世界 🌍 ";
            let mut text = String::new();
            while text.len() + unit.len() <= 4096 {
                text.push_str(unit);
            }
            while text.len() < 4096 {
                text.push('x');
            }
            for _ in 0..20_000 {
                push_frame(&mut input, &mut rng, true, OpCode::Text, text.as_bytes());
            }
            Workload {
                input,
                messages: 20_000,
                pings: false,
            }
        }
        // 64 x 1 MiB binary, whole or in 4 KiB fragments.
        "big" | "frag" => {
            let payload: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
            let piece = if name == "big" { 1 << 20 } else { 4096 };
            for _ in 0..64 {
                let n = payload.len() / piece;
                for (i, chunk) in payload.chunks(piece).enumerate() {
                    let opcode = if i == 0 {
                        OpCode::Binary
                    } else {
                        OpCode::Continuation
                    };
                    push_frame(&mut input, &mut rng, i + 1 == n, opcode, chunk);
                }
            }
            Workload {
                input,
                messages: 64,
                pings: false,
            }
        }
        // 64 x 1 MiB sent by a client (masked) and written out.
        "encode" => Workload {
            input: (0..1 << 20).map(|_| rng.next() as u8).collect(),
            messages: 64,
            pings: false,
        },
        _ => panic!("unknown workload {name:?}; try `list`"),
    }
}

fn config() -> Config {
    let mut c = Config::default();
    c.max_message_size = 64 << 20;
    c.max_frame_size = 64 << 20;
    c
}

// ---------- the socket: reads of READ bytes in, writes copied into one reused buffer ----------

struct Socket<'a> {
    input: &'a [u8],
    out: Vec<u8>,
    written: usize,
}

impl<'a> Socket<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            out: vec![0; READ],
            written: 0,
        }
    }

    /// Copies `data` into the reused output buffer, as a write to a socket would; returns how
    /// much fit.
    fn write_some(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(READ);
        self.out[..n].copy_from_slice(&data[..n]);
        black_box(&mut self.out);
        self.written += n;
        n
    }
}

impl Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = READ.min(buf.len()).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.write_some(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for Socket<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = READ.min(buf.remaining()).min(this.input.len());
        buf.put_slice(&this.input[..n]);
        this.input = &this.input[n..];
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Socket<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.get_mut().write_some(buf)))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

// ---------- wsmachine ----------

/// Decodes with the owned events of `poll_event`.
fn wsmachine_decode(w: &Workload) -> usize {
    let mut conn = Connection::server(Negotiated::default(), config());
    let mut socket = Socket::new(&[]);
    let mut messages = 0;
    for chunk in w.input.chunks(READ) {
        conn.receive(chunk);
        while let Some(event) = conn.poll_event() {
            if matches!(event, Event::Text(_) | Event::Binary(_)) {
                messages += 1;
            }
            black_box(event);
        }
        write_queue(&mut conn, &mut socket);
    }
    messages
}

/// Decodes with the borrowed events of `poll_event_ref`.
fn wsmachine_decode_ref(w: &Workload) -> usize {
    let mut conn = Connection::server(Negotiated::default(), config());
    let mut socket = Socket::new(&[]);
    let mut messages = 0;
    for chunk in w.input.chunks(READ) {
        conn.receive(chunk);
        while let Some(event) = conn.poll_event_ref() {
            if matches!(event, EventRef::Text(_) | EventRef::Binary(_)) {
                messages += 1;
            }
            black_box(event);
        }
        write_queue(&mut conn, &mut socket);
    }
    messages
}

/// Writes the output queue out with `pending_output`/`consume_output`.
fn write_queue(conn: &mut Connection, socket: &mut Socket<'_>) {
    loop {
        let out = conn.pending_output();
        if out.is_empty() {
            break;
        }
        let n = socket.write_some(out);
        conn.consume_output(n);
    }
}

/// A client sends each message and the driver writes the queue out (`pending_output`).
fn wsmachine_encode(w: &Workload) -> usize {
    let mut conn = Connection::client_with_mask_source(
        Negotiated::default(),
        config(),
        FixedMask([0x37, 0xfa, 0x21, 0x3d]),
    );
    let mut socket = Socket::new(&[]);
    let payload = Bytes::from(w.input.clone());
    for _ in 0..w.messages {
        conn.send_binary(payload.clone()).unwrap();
        write_queue(&mut conn, &mut socket);
    }
    socket.written
}

/// A client sends each message and lets the connection write into the driver's buffer
/// (`write_output`).
fn wsmachine_encode_ref(w: &Workload) -> usize {
    let mut conn = Connection::client_with_mask_source(
        Negotiated::default(),
        config(),
        FixedMask([0x37, 0xfa, 0x21, 0x3d]),
    );
    let mut out = vec![0u8; READ];
    let mut written = 0;
    let payload = Bytes::from(w.input.clone());
    for _ in 0..w.messages {
        conn.send_binary(payload.clone()).unwrap();
        loop {
            let n = conn.write_output(&mut out);
            if n == 0 {
                break;
            }
            black_box(&mut out);
            written += n;
        }
    }
    written
}

// ---------- the peers ----------

fn tungstenite_decode(w: &Workload) -> usize {
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        Socket::new(&w.input),
        tungstenite::protocol::Role::Server,
        Some(config),
    );
    let mut messages = 0;
    while messages < w.messages {
        let m = ws.read().expect("tungstenite read");
        if matches!(
            m,
            tungstenite::Message::Text(_) | tungstenite::Message::Binary(_)
        ) {
            messages += 1;
        }
        black_box(m);
    }
    if w.pings {
        // The last Pong.
        let _ = ws.read();
        ws.flush().unwrap();
    }
    messages
}

fn tungstenite_encode(w: &Workload) -> usize {
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        Socket::new(&[]),
        tungstenite::protocol::Role::Client,
        None,
    );
    let payload = Bytes::from(w.input.clone());
    for _ in 0..w.messages {
        ws.send(tungstenite::Message::Binary(payload.clone()))
            .unwrap();
    }
    ws.get_ref().written
}

fn fastwebsockets_decode(rt: &tokio::runtime::Runtime, w: &Workload) -> usize {
    rt.block_on(async {
        let mut ws = fastwebsockets::WebSocket::after_handshake(
            Socket::new(&w.input),
            fastwebsockets::Role::Server,
        );
        ws.set_max_message_size(64 << 20);
        ws.set_auto_pong(true);
        let mut ws = fastwebsockets::FragmentCollector::new(ws);
        let mut messages = 0;
        while messages < w.messages {
            let frame = ws.read_frame().await.expect("fastwebsockets read");
            if matches!(
                frame.opcode,
                fastwebsockets::OpCode::Text | fastwebsockets::OpCode::Binary
            ) {
                messages += 1;
            }
            black_box(&frame.payload);
        }
        if w.pings {
            // The last Ping, answered.
            let _ = ws.read_frame().await;
        }
        messages
    })
}

fn fastwebsockets_encode(rt: &tokio::runtime::Runtime, w: &Workload) -> usize {
    rt.block_on(async {
        let mut ws = fastwebsockets::WebSocket::after_handshake(
            Socket::new(&[]),
            fastwebsockets::Role::Client,
        );
        ws.set_auto_apply_mask(true);
        let mut written = 0;
        for _ in 0..w.messages {
            let frame = fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(&w.input));
            ws.write_frame(frame).await.unwrap();
            written += w.input.len();
        }
        written
    })
}

/// The floor: the same bytes copied, READ at a time, into one reused buffer of `size` bytes
/// (filled in turn): the wire bytes once (decode), or the payload once per message (encode).
/// `size` is READ for the floor the ratios use; `memcpy-msg` gives it the size of a message
/// (1 MiB for `big` and `frag`), where a decoder must put a whole message.
fn memcpy(w: &Workload, encode: bool, size: usize) -> usize {
    let mut dst = vec![0u8; size.max(READ)];
    let mut at = 0;
    let copies = if encode { w.messages } else { 1 };
    let mut n = 0;
    for _ in 0..copies {
        for chunk in w.input.chunks(READ) {
            if at + chunk.len() > dst.len() {
                at = 0;
            }
            dst[at..at + chunk.len()].copy_from_slice(chunk);
            black_box(&mut dst);
            at += chunk.len();
            n += chunk.len();
        }
    }
    n
}

// ---------- running ----------

/// Runs `imp` on `w` once: the one function `scripts/callgrind.sh` counts.
#[inline(never)]
fn measured(name: &str, imp: &str, w: &Workload, rt: &tokio::runtime::Runtime) -> usize {
    let encode = name == "encode";
    match (imp, encode) {
        ("wsmachine", false) => wsmachine_decode(w),
        ("wsmachine", true) => wsmachine_encode(w),
        ("wsmachine-ref", false) => wsmachine_decode_ref(w),
        ("wsmachine-ref", true) => wsmachine_encode_ref(w),
        ("tungstenite", false) => tungstenite_decode(w),
        ("tungstenite", true) => tungstenite_encode(w),
        ("fastwebsockets", false) => fastwebsockets_decode(rt, w),
        ("fastwebsockets", true) => fastwebsockets_encode(rt, w),
        ("memcpy", _) => memcpy(w, encode, READ),
        ("memcpy-msg", false) => memcpy(w, false, w.input.len() / w.messages),
        ("memcpy-msg", true) => memcpy(w, true, w.input.len()),
        _ => panic!("unknown implementation {imp:?}; try `list`"),
    }
}

/// What `measured` must return: messages decoded, or bytes of payload written.
fn expected(name: &str, imp: &str, w: &Workload) -> Option<usize> {
    match (name, imp) {
        (_, "memcpy" | "memcpy-msg") => None,
        ("encode", _) => Some(w.messages * (w.input.len() + 14)),
        _ => Some(w.messages),
    }
}

fn check(name: &str, imp: &str, w: &Workload, got: usize) {
    if let Some(want) = expected(name, imp, w) {
        // Encoders count frames or payload bytes; allow the header difference.
        let ok = if name == "encode" {
            got >= w.messages * w.input.len() && got <= want
        } else {
            got == want
        };
        assert!(ok, "{name}/{imp}: got {got}, expected {want}");
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    match args.first().map(String::as_str) {
        Some("list") => {
            println!("workloads: {}", WORKLOADS.join(" "));
            println!("implementations: {}", IMPLS.join(" "));
        }
        Some("run") => {
            let (name, imp) = (&args[1], &args[2]);
            let w = workload(name);
            let got = measured(name, imp, &w, &rt);
            check(name, imp, &w, got);
            println!("{name} {imp} messages={}", w.messages);
        }
        _ => {
            let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(11);
            println!(
                "median of {rounds} interleaved rounds; ratios: the best peer's time over ours, memcpy's over ours"
            );
            for name in WORKLOADS {
                let w = workload(name);
                let mut times = vec![Vec::new(); IMPLS.len()];
                for _ in 0..rounds {
                    for (i, imp) in IMPLS.iter().enumerate() {
                        let start = Instant::now();
                        let got = measured(name, imp, &w, &rt);
                        times[i].push(start.elapsed());
                        check(name, imp, &w, got);
                    }
                }
                let t: Vec<Duration> = times.into_iter().map(median).collect();
                let best_peer = t[2].min(t[3]);
                for (i, imp) in IMPLS.iter().enumerate() {
                    let per = t[i].as_nanos() as f64 / w.messages as f64;
                    let ratios = if i < 2 {
                        format!(
                            "  vs best peer {:.2}x  vs memcpy {:.2}x  vs memcpy-msg {:.2}x",
                            best_peer.as_secs_f64() / t[i].as_secs_f64(),
                            t[4].as_secs_f64() / t[i].as_secs_f64(),
                            t[5].as_secs_f64() / t[i].as_secs_f64()
                        )
                    } else {
                        String::new()
                    };
                    println!(
                        "{name:7} {imp:15} {:>10.3} ms {per:>10.1} ns/msg{ratios}",
                        t[i].as_secs_f64() * 1e3
                    );
                }
            }
        }
    }
}
