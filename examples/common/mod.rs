//! A small blocking driver for wsmachine over `std::net::TcpStream`, shared by the examples.
//!
//! It follows the driver contract from the crate docs: after every read or send, drain the
//! events and write the pending output before reading again, and close the transport when the
//! connection says so. It is a reference for writing your own driver, not part of the crate.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use wsmachine::handshake::{
    Accept, ClientHandshake, ClientOptions, Request, ServerHandshake, Status, Url,
};
use wsmachine::{Config, Connection, Event};

/// How long a client waits for the server to close the TCP connection after the closing
/// handshake (RFC 6455 §7.1.1: the server closes first), and the read timeout used meanwhile.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// Limits for the conformance testees: Autobahn's section 9 sends messages of up to 16 MiB
/// in single frames.
pub fn testee_config() -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    config
}

/// What one turn of the driver loop produced.
pub enum Step {
    /// An event from the connection.
    Event(Event),
    /// Nothing yet: the read timed out, or bytes arrived that made no event.
    Idle,
    /// The connection is over and the transport closed.
    Done,
}

/// A WebSocket connection over a blocking TCP stream.
pub struct WsStream {
    stream: TcpStream,
    pub conn: Connection,
    buf: Vec<u8>,
    eof: bool,
}

impl WsStream {
    /// Runs the server handshake on `stream`. `choose` sees the request and returns the
    /// `Accept` to answer with, or `None` to refuse (403).
    pub fn accept(
        mut stream: TcpStream,
        config: Config,
        choose: impl FnOnce(&Request) -> Option<Accept>,
    ) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        let mut handshake = ServerHandshake::default();
        let mut buf = vec![0; 64 * 1024];
        let request = loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "EOF during handshake",
                ));
            }
            match handshake.receive(&buf[..n]) {
                Ok(Status::Complete(request)) => break request,
                Ok(Status::Partial) => {}
                Err(rejection) => {
                    stream.write_all(&rejection.response().to_bytes())?;
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        rejection.to_string(),
                    ));
                }
            }
        };
        let Some(accept) = choose(&request) else {
            let refusal = wsmachine::handshake::Response::new(403)
                .map_err(|e| io::Error::other(e.to_string()))?
                .with_body("forbidden");
            stream.write_all(&refusal.to_bytes())?;
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "refused"));
        };
        let accepted = request
            .accept(&accept)
            .map_err(|e| io::Error::other(e.to_string()))?;
        stream.write_all(&accepted.to_bytes())?;
        let mut conn = Connection::server(accepted.negotiated, config);
        conn.receive(&accepted.leftover);
        Ok(Self {
            stream,
            conn,
            buf,
            eof: false,
        })
    }

    /// Connects to a `ws://` URL and runs the client handshake.
    pub fn connect(url: &str, options: ClientOptions, config: Config) -> io::Result<Self> {
        let url = Url::parse(url)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        if url.is_tls() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "wss:// needs a TLS layer",
            ));
        }
        let mut stream = TcpStream::connect((url.host(), url.port()))?;
        stream.set_nodelay(true)?;
        let mut handshake =
            ClientHandshake::new(&url, options).map_err(|e| io::Error::other(e.to_string()))?;
        stream.write_all(handshake.request_bytes())?;
        let mut buf = vec![0; 64 * 1024];
        let established = loop {
            let n = stream.read(&mut buf)?;
            let result = if n == 0 {
                handshake.receive_eof().map(|()| Status::Partial)
            } else {
                handshake.receive(&buf[..n])
            };
            match result {
                Ok(Status::Complete(established)) => break established,
                Ok(Status::Partial) if n > 0 => {}
                Ok(Status::Partial) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "EOF during handshake",
                    ));
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        };
        let mut conn = Connection::client(established.negotiated, config);
        conn.receive(&established.leftover);
        Ok(Self {
            stream,
            conn,
            buf,
            eof: false,
        })
    }

    /// Writes all pending output.
    pub fn flush(&mut self) -> io::Result<()> {
        while !self.conn.pending_output().is_empty() {
            let n = self.stream.write(self.conn.pending_output())?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.conn.consume_output(n);
        }
        Ok(())
    }

    /// Echoes every text and binary message as the same type until the connection ends.
    pub fn echo_all(&mut self) -> io::Result<()> {
        while let Some(event) = self.next_event()? {
            // Sending fails only after a Close, when there is nothing left to echo to.
            match event {
                Event::Text(text) => self.conn.send_text(text).unwrap_or(()),
                Event::Binary(data) => self.conn.send_binary(data).unwrap_or(()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The next event, reading from the socket as needed; `None` once the connection is over
    /// and the transport closed.
    pub fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            match self.step(None)? {
                Step::Event(event) => return Ok(Some(event)),
                Step::Idle => {}
                Step::Done => return Ok(None),
            }
        }
    }

    /// One turn of the driver loop: an event if one is ready; otherwise write the pending
    /// output and read once, waiting at most `wait` (forever if `None`) while the connection
    /// is open.
    pub fn step(&mut self, wait: Option<Duration>) -> io::Result<Step> {
        if let Some(event) = self.conn.poll_event() {
            return Ok(Step::Event(event));
        }
        self.flush()?;
        if self.conn.wants_transport_close() || self.eof {
            let _ = self.stream.shutdown(Shutdown::Both);
            return Ok(Step::Done);
        }
        // After the closing handshake a client waits, bounded, for the server's FIN.
        let closed = self.conn.state() == wsmachine::ReadyState::Closed;
        self.stream
            .set_read_timeout(if closed { Some(CLOSE_WAIT) } else { wait })?;
        match self.stream.read(&mut self.buf) {
            Ok(0) => self.end_of_stream(),
            Ok(n) => self.conn.receive(&self.buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if closed {
                    self.end_of_stream();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.end_of_stream(),
            Err(e) => return Err(e),
        }
        Ok(Step::Idle)
    }

    fn end_of_stream(&mut self) {
        self.eof = true;
        self.conn.receive_eof();
    }

    /// The underlying stream (for timeouts).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}
