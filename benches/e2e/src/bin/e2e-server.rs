//! An echo server for the end-to-end benchmark: `e2e-server IMPL [ADDR]`.
//!
//! Listens on `ADDR` (default `127.0.0.1:0`), prints `listening ADDR` once bound, and echoes
//! every text and binary message back on every connection, on one tokio current-thread
//! runtime (so on one core), until killed. `IMPL` is one of `wsmachine_e2e::IMPLEMENTATIONS`;
//! `raw` echoes the TCP bytes themselves, the ceiling for any WebSocket server.
//!
//! Every implementation is used the way its documentation shows for an echo server, with its
//! default limits, and `TCP_NODELAY` on every accepted socket. A connection's error (the load
//! generator drops its connections without a closing handshake) is printed only with
//! `E2E_LOG=1`, so that profiles of the server count no logging.

use std::error::Error;
use std::io::Write;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Result<T = ()> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

fn main() -> Result {
    let mut args = std::env::args().skip(1);
    let implementation = args.next().ok_or("usage: e2e-server IMPL [ADDR]")?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let serve: fn(TcpStream) -> _ = match implementation.as_str() {
        "wsmachine-tokio" => |s| Box::pin(wsmachine_tokio_echo(s)) as Conn,
        "tokio-tungstenite" => |s| Box::pin(tokio_tungstenite_echo(s)) as Conn,
        "fastwebsockets" => |s| Box::pin(fastwebsockets_echo(s)) as Conn,
        "tokio-websockets" => |s| Box::pin(tokio_websockets_echo(s)) as Conn,
        "raw" => |s| Box::pin(raw_echo(s)) as Conn,
        other => return Err(format!("unknown implementation {other}").into()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let log = std::env::var_os("E2E_LOG").is_some_and(|v| v == "1");
    runtime.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        let mut out = std::io::stdout();
        writeln!(out, "listening {}", listener.local_addr()?)?;
        out.flush()?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let name = implementation.clone();
            tokio::spawn(async move {
                if let Err(e) = serve(stream).await
                    && log
                {
                    eprintln!("{name}: connection failed: {e}");
                }
            });
        }
    })
}

type Conn = std::pin::Pin<Box<dyn Future<Output = Result> + Send>>;

async fn wsmachine_tokio_echo(stream: TcpStream) -> Result {
    use wsmachine_tokio::Message;
    let mut ws = wsmachine_tokio::accept(stream).await?;
    while let Some(message) = ws.recv().await {
        if let m @ (Message::Text(_) | Message::Binary(_)) = message? {
            ws.send(m).await?;
        }
    }
    Ok(())
}

async fn tokio_tungstenite_echo(stream: TcpStream) -> Result {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.send(message).await?;
        }
    }
    Ok(())
}

async fn fastwebsockets_echo(mut stream: TcpStream) -> Result {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    wsmachine_e2e::answer_upgrade(&mut stream).await?;
    let mut ws = WebSocket::after_handshake(stream, Role::Server);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    // Whole messages, with text checked as UTF-8, as the other implementations deliver them.
    let mut ws = FragmentCollector::new(ws);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

async fn tokio_websockets_echo(stream: TcpStream) -> Result {
    let (_request, mut ws) = tokio_websockets::ServerBuilder::new()
        .accept(stream)
        .await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.send(message).await?;
        }
    }
    Ok(())
}

/// The ceiling: bytes back as they come, no WebSocket work.
async fn raw_echo(mut stream: TcpStream) -> Result {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
