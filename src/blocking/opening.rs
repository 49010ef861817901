//! The opening handshake over a blocking stream, both roles, within a deadline.

use alloc::vec;
use std::io;
#[cfg(feature = "getrandom")]
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[cfg(feature = "getrandom")]
use super::ConnectOptions;
use super::{AcceptOptions, Error, READ_BUFFER, Transport, WebSocket};
use super::{MIN_WAIT, is_timeout, set_read_timeout};
use crate::connection::Connection;
use crate::handshake::{Accept, Response, ServerHandshake, Status};

impl<S: Transport> WebSocket<S> {
    /// Accepts a WebSocket on a server's `stream` with the default [`AcceptOptions`]: no
    /// subprotocol, no compression, any origin, a 10-second handshake.
    pub fn accept(stream: S) -> Result<Self, Error> {
        Self::accept_with(stream, AcceptOptions::new())
    }

    /// Accepts a WebSocket on a server's `stream`: reads the upgrade request (at most
    /// [`AcceptOptions::handshake_timeout`]), checks it (RFC 6455 §4.2.1, the origin policy,
    /// the header limits), selects the subprotocol and permessage-deflate, and writes the
    /// `101` response.
    ///
    /// A request that breaks a rule gets the core's refusal (`400`, `403`, `426`, `431`, ...)
    /// and [`Error::Request`]; a client too slow gets no answer and
    /// [`Error::HandshakeTimeout`]. Either way the stream is ended.
    pub fn accept_with(mut stream: S, options: AcceptOptions) -> Result<Self, Error> {
        let deadline = options.handshake_timeout.map(|t| Instant::now() + t);
        let mut buf = vec![0; READ_BUFFER];
        let mut read_timeout = None;
        let mut handshake = ServerHandshake::new()
            .limits(options.limits)
            .origin_policy(options.origin_policy);
        let request = loop {
            let n = match read_before(&mut stream, &mut buf, deadline, &mut read_timeout) {
                Ok(0) => return Err(Error::HandshakeEof),
                Ok(n) => n,
                Err(e) => return Err(end(stream, e)),
            };
            match handshake.receive(&buf[..n]) {
                Ok(Status::Complete(request)) => break request,
                Ok(Status::Partial) => {}
                Err(rejection) => {
                    let _ = stream.write_all(&rejection.response().to_bytes());
                    return Err(end(stream, Error::Request(rejection)));
                }
            }
        };
        let mut accept = Accept::new().protocol(request.select_protocol(&options.protocols));
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &options.deflate {
            accept = accept.deflate(request.select_deflate(deflate));
        }
        for (name, value) in options.headers {
            accept = accept.header(name, value);
        }
        let accepted = match request.accept(&accept) {
            Ok(accepted) => accepted,
            Err(e) => {
                // Our options are at fault, not the client: a server error.
                if let Ok(response) = Response::new(500) {
                    let _ = stream.write_all(&response.to_bytes());
                }
                return Err(end(stream, Error::Options(e)));
            }
        };
        stream.write_all(&accepted.to_bytes())?;
        stream.flush()?;
        let mut conn = Connection::server(accepted.negotiated, options.config);
        // Bytes that followed the request belong to the connection (RFC 6455 §4.2.1).
        conn.receive(&accepted.leftover);
        Ok(Self::new(stream, conn, buf, read_timeout))
    }

    /// Opens a WebSocket as a client over a `stream` already connected to the server (a TLS
    /// stream for `wss://`, say): writes the upgrade request for `url` and reads the response
    /// (at most [`ConnectOptions::handshake_timeout`]). `url` gives the `Host` field and the
    /// resource; no connection is made to it.
    #[cfg(feature = "getrandom")]
    #[cfg_attr(docsrs, doc(cfg(feature = "getrandom")))]
    pub fn client(stream: S, url: &str, options: ConnectOptions) -> Result<Self, Error> {
        let url = crate::handshake::Url::parse(url).map_err(Error::Url)?;
        let deadline = options.handshake_timeout.map(|t| Instant::now() + t);
        Self::client_handshake(stream, &url, options, deadline)
    }

    #[cfg(feature = "getrandom")]
    fn client_handshake(
        mut stream: S,
        url: &crate::handshake::Url,
        options: ConnectOptions,
        deadline: Option<Instant>,
    ) -> Result<Self, Error> {
        let mut handshake = crate::handshake::ClientHandshake::new(url, options.handshake)
            .map_err(Error::Options)?;
        stream.write_all(handshake.request_bytes())?;
        stream.flush()?;
        let mut buf = vec![0; READ_BUFFER];
        let mut read_timeout = None;
        let established = loop {
            let n = match read_before(&mut stream, &mut buf, deadline, &mut read_timeout) {
                Ok(n) => n,
                Err(e) => return Err(end(stream, e)),
            };
            let result = if n == 0 {
                // A refusal may be delimited by the end of the stream.
                handshake.receive_eof().map(|()| Status::Partial)
            } else {
                handshake.receive(&buf[..n])
            };
            match result {
                Ok(Status::Complete(established)) => break established,
                Ok(Status::Partial) if n > 0 => {}
                Ok(Status::Partial) => return Err(Error::HandshakeEof),
                Err(e) => return Err(end(stream, Error::Response(e))),
            }
        };
        let mut conn = Connection::client(established.negotiated, options.config);
        conn.receive(&established.leftover);
        Ok(Self::new(stream, conn, buf, read_timeout))
    }
}

#[cfg(feature = "getrandom")]
impl WebSocket<TcpStream> {
    /// Connects to a `ws://` URL with the default [`ConnectOptions`].
    pub fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, ConnectOptions::new())
    }

    /// Connects to a `ws://` URL: resolves the host, dials each of its addresses in turn
    /// (within the handshake timeout), and runs the opening handshake. `wss://` fails with
    /// [`Error::TlsRequired`]: open a TLS stream and use [`client`](Self::client).
    pub fn connect_with(url: &str, options: ConnectOptions) -> Result<Self, Error> {
        let url = crate::handshake::Url::parse(url).map_err(Error::Url)?;
        if url.is_tls() {
            return Err(Error::TlsRequired);
        }
        let deadline = options.handshake_timeout.map(|t| Instant::now() + t);
        let stream = dial(url.host(), url.port(), deadline)?;
        // Frames are written whole; Nagle's algorithm would only delay them.
        stream.set_nodelay(true)?;
        Self::client_handshake(stream, &url, options, deadline)
    }
}

/// A TCP connection to the first address of `host` that answers before `deadline`.
#[cfg(feature = "getrandom")]
fn dial(host: &str, port: u16, deadline: Option<Instant>) -> Result<TcpStream, Error> {
    use std::net::ToSocketAddrs;
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        let attempt = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => TcpStream::connect_timeout(&addr, left),
                _ => return Err(Error::HandshakeTimeout),
            },
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if is_timeout(&e) => Error::HandshakeTimeout,
        Some(e) => Error::Io(e),
        None => Error::Io(io::Error::new(
            io::ErrorKind::NotFound,
            "no address for the host",
        )),
    })
}

/// Reads into `buf` before `deadline`, retrying timeouts until it passes.
fn read_before<S: Transport>(
    stream: &mut S,
    buf: &mut [u8],
    deadline: Option<Instant>,
    read_timeout: &mut Option<Option<Duration>>,
) -> Result<usize, Error> {
    loop {
        let wait = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left.max(MIN_WAIT)),
                _ => return Err(Error::HandshakeTimeout),
            },
            None => None,
        };
        set_read_timeout(stream, read_timeout, wait)?;
        match stream.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Ends a stream whose handshake failed, and passes the error on.
fn end<S: Transport>(mut stream: S, error: Error) -> Error {
    let _ = stream.flush();
    let _ = stream.shutdown();
    error
}
