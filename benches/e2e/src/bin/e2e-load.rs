//! The load generator of the end-to-end benchmark, after uWebSockets' `load_test`: N
//! connections, each with one message in flight; the rate of echoed messages is the result.
//!
//! ```text
//! e2e-load echo ADDR CONNECTIONS SIZE SECONDS [--raw]   one JSON line: messages per second
//! e2e-load idle ADDR CONNECTIONS SERVER_PID [--raw] [--unused]
//!                                                       one JSON line: server RSS per connection
//! e2e-load count ADDR CONNECTIONS SIZE MESSAGES [--raw] MESSAGES round trips per connection
//!                                                       (the first one before the others start)
//! ```
//!
//! `count` is a fixed amount of work, for profiling a server (`valgrind --tool=callgrind`,
//! `strace -c`, `perf stat`): instructions or system calls per message do not depend on how
//! busy the machine is.
//!
//! It speaks WebSocket with plain TCP and pre-built frames, so it costs the same for every
//! server: each connection sends a masked text frame of SIZE bytes and reads back exactly the
//! unmasked frame a server must echo (the same bytes for `--raw`, a plain TCP echo), comparing
//! every byte; two payloads alternate so a stale echo is caught. Any mismatch, a connection
//! that fails, or one that completes no message in the measured time is an error (exit code 1).
//!
//! Runs on one tokio current-thread runtime (one core), loopback only.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Result<T = ()> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Time every connection runs before the counted window starts.
const WARMUP: Duration = Duration::from_millis(500);

fn main() {
    if let Err(e) = run() {
        eprintln!("e2e-load: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let raw = args.iter().any(|a| a == "--raw");
    let unused = args.iter().any(|a| a == "--unused");
    let args: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.as_slice() {
        ["echo", addr, connections, size, seconds] => {
            let (addr, connections, size) = (addr.parse()?, connections.parse()?, size.parse()?);
            let seconds: f64 = seconds.parse()?;
            runtime.block_on(echo(addr, connections, size, seconds, raw))
        }
        ["idle", addr, connections, pid] => runtime.block_on(idle(
            addr.parse()?,
            connections.parse()?,
            pid.parse()?,
            raw,
            unused,
        )),
        ["count", addr, connections, size, messages] => runtime.block_on(count(
            addr.parse()?,
            connections.parse()?,
            size.parse()?,
            messages.parse()?,
            raw,
        )),
        _ => Err(
            "usage: e2e-load echo ADDR CONNECTIONS SIZE SECONDS [--raw] | \
                  e2e-load idle ADDR CONNECTIONS SERVER_PID [--raw] | \
                  e2e-load count ADDR CONNECTIONS SIZE MESSAGES [--raw]"
                .into(),
        ),
    }
}

/// What one connection sends and must get back, for two alternating payloads.
struct Script {
    send: [Vec<u8>; 2],
    expect: [Vec<u8>; 2],
}

impl Script {
    fn new(size: usize, key: [u8; 4], raw: bool) -> Self {
        let payload = |first: u8| -> Vec<u8> {
            (0..size)
                .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[(i + first as usize) % 36])
                .collect()
        };
        let (a, b) = (payload(0), payload(1));
        let send = [frame(&a, Some(key)), frame(&b, Some(key))];
        let expect = if raw {
            send.clone()
        } else {
            [frame(&a, None), frame(&b, None)]
        };
        Self { send, expect }
    }
}

/// A final text frame (RFC 6455 §5.2), masked with `key` if given.
fn frame(payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0x81];
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match key {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// Dials and, unless `raw`, runs the opening handshake.
async fn open(addr: SocketAddr, raw: bool) -> Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    if !raw {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let head = wsmachine_e2e::read_head(&mut stream).await?;
        if !head.starts_with(b"HTTP/1.1 101") {
            return Err(format!(
                "handshake refused: {}",
                String::from_utf8_lossy(&head).lines().next().unwrap_or("")
            )
            .into());
        }
    }
    Ok(stream)
}

/// One message out, its echo back and checked.
async fn round_trip(
    stream: &mut TcpStream,
    script: &Script,
    turn: usize,
    buf: &mut [u8],
) -> Result {
    let (send, expect) = (&script.send[turn & 1], &script.expect[turn & 1]);
    stream.write_all(send).await?;
    let got = &mut buf[..expect.len()];
    stream.read_exact(got).await?;
    if got != expect.as_slice() {
        return Err("the echo differs from the message sent".into());
    }
    Ok(())
}

async fn echo(
    addr: SocketAddr,
    connections: usize,
    size: usize,
    seconds: f64,
    raw: bool,
) -> Result {
    let count = Arc::new(AtomicU64::new(0));
    let go = Arc::new(tokio::sync::Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let mut stream = open(addr, raw).await?;
        let script = Script::new(size, (i as u32 ^ 0x5a5a_a5a5).to_le_bytes(), raw);
        let (count, go, stop) = (count.clone(), go.clone(), stop.clone());
        let notified = go.clone().notified_owned();
        tasks.push(tokio::spawn(async move {
            notified.await;
            let mut buf = vec![0u8; script.expect[0].len()];
            let mut done = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round_trip(&mut stream, &script, done as usize, &mut buf).await?;
                done += 1;
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<u64, Box<dyn Error + Send + Sync>>(done)
        }));
        let _ = go;
    }
    go.notify_waiters();
    tokio::time::sleep(WARMUP).await;
    let (start, first) = (Instant::now(), count.load(Ordering::Relaxed));
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let (elapsed, last) = (start.elapsed(), count.load(Ordering::Relaxed));
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let done = task.await??;
        if done == 0 {
            return Err("a connection completed no message".into());
        }
    }
    let rate = (last - first) as f64 / elapsed.as_secs_f64();
    println!(
        "{{\"connections\": {connections}, \"size\": {size}, \"seconds\": {:.3}, \
         \"messages\": {}, \"msgs_per_sec\": {rate:.1}}}",
        elapsed.as_secs_f64(),
        last - first
    );
    Ok(())
}

/// A fixed number of round trips on each of `connections`, all at once. Every connection is
/// opened and makes its first round trip before the others start; if `E2E_AFTER_WARMUP` is
/// set, that command (split at spaces, e.g. `callgrind_control -z PID`) runs then, so a
/// profile can leave the handshakes and first messages out.
async fn count(
    addr: SocketAddr,
    connections: usize,
    size: usize,
    messages: u64,
    raw: bool,
) -> Result {
    let go = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::with_capacity(connections);
    for i in 0..connections {
        let mut stream = open(addr, raw).await?;
        let script = Script::new(size, (i as u32 ^ 0x5a5a_a5a5).to_le_bytes(), raw);
        let mut buf = vec![0u8; script.expect[0].len()];
        round_trip(&mut stream, &script, 0, &mut buf).await?;
        let notified = go.clone().notified_owned();
        tasks.push(tokio::spawn(async move {
            notified.await;
            for turn in 1..messages {
                round_trip(&mut stream, &script, turn as usize, &mut buf).await?;
            }
            Ok::<(), Box<dyn Error + Send + Sync>>(())
        }));
    }
    if let Ok(command) = std::env::var("E2E_AFTER_WARMUP") {
        let mut words = command.split_whitespace();
        let program = words.next().ok_or("E2E_AFTER_WARMUP is empty")?;
        let status = std::process::Command::new(program).args(words).status()?;
        if !status.success() {
            return Err(format!("E2E_AFTER_WARMUP failed: {status}").into());
        }
    }
    let start = Instant::now();
    go.notify_waiters();
    for task in tasks {
        task.await??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = messages.saturating_sub(1) * connections as u64;
    println!(
        "{{\"connections\": {connections}, \"size\": {size}, \"messages\": {total}, \
         \"seconds\": {elapsed:.3}, \"msgs_per_sec\": {:.1}}}",
        total as f64 / elapsed
    );
    Ok(())
}

/// The server's resident set, from `/proc/PID/status`, in bytes.
fn rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib * 1024)
}

/// Opens `connections`, echoes one 20-byte message on each (so whatever a server allocates
/// for a used connection is there; not with `unused`), leaves them idle, and reports the
/// server's RSS growth.
async fn idle(addr: SocketAddr, connections: usize, pid: u32, raw: bool, unused: bool) -> Result {
    // Settle the server's one-time allocations (runtime, listener) on one connection first.
    {
        let mut stream = open(addr, raw).await?;
        let script = Script::new(20, [1, 2, 3, 4], raw);
        round_trip(&mut stream, &script, 0, &mut [0u8; 64]).await?;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss(pid)?;
    let mut streams = Vec::with_capacity(connections);
    let script = Script::new(20, [1, 2, 3, 4], raw);
    for _ in 0..connections {
        let mut stream = open(addr, raw).await?;
        if !unused {
            round_trip(&mut stream, &script, 0, &mut [0u8; 64]).await?;
        }
        streams.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss(pid)?;
    let per = after.saturating_sub(before) as f64 / connections as f64;
    println!(
        "{{\"connections\": {connections}, \"rss_before\": {before}, \"rss_after\": {after}, \
         \"used\": {}, \"bytes_per_connection\": {per:.0}}}",
        !unused
    );
    Ok(())
}
