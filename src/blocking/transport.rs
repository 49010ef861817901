//! What the blocking [`WebSocket`](super::WebSocket) needs from its stream beyond `Read +
//! Write`: a read timeout, so that the connection's timers can run while it waits for input,
//! and a way to end the stream.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A byte stream the blocking [`WebSocket`](super::WebSocket) can run on: `Read + Write`, a
/// read timeout, and an end.
///
/// The connection's timers (keepalive Pings, the pong and idle deadlines, the close timeout,
/// the handshake deadline) run while the driver waits in `read`, so the driver bounds each
/// read with [`set_read_timeout`](Self::set_read_timeout); a read that times out must fail
/// with [`ErrorKind::WouldBlock`](io::ErrorKind::WouldBlock) or
/// [`ErrorKind::TimedOut`](io::ErrorKind::TimedOut), as [`TcpStream`] does.
///
/// It is implemented for [`TcpStream`], `UnixStream` (on Unix), and through `&mut S` and
/// `Box<S>`. For another stream — a TLS stream over a `TcpStream`, say — wrap it in
/// [`WithTimeout`], which forwards the timeout to a function of your choosing, usually to the
/// socket underneath:
///
/// ```no_run
/// # use std::net::TcpStream;
/// use wsmachine::blocking::WithTimeout;
/// # struct Tls { sock: TcpStream }
/// # impl std::io::Read for Tls { fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> { Ok(0) } }
/// # impl std::io::Write for Tls {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { Ok(b.len()) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// # let tls = Tls { sock: TcpStream::connect("127.0.0.1:443")? };
/// // `tls` is a TLS stream that owns its socket as `sock`.
/// let stream = WithTimeout::new(tls, |tls, timeout| tls.sock.set_read_timeout(timeout));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A stream that cannot time out its reads goes in [`WithTimeout::none`]; the timers then act
/// only when a read returns, so a silent peer can hold a read forever.
pub trait Transport: Read + Write {
    /// Makes the following reads wait at most `timeout` (`None`: without limit). The driver
    /// never passes a zero duration.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;

    /// Ends the stream in both directions (for TCP, a FIN: RFC 6455 §7.1.1 asks the server
    /// to close the TCP connection first). The default does nothing: the stream ends when
    /// dropped.
    fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
    }
}

#[cfg(unix)]
impl Transport for std::os::unix::net::UnixStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, Shutdown::Both)
    }
}

impl<S: Transport + ?Sized> Transport for &mut S {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        (**self).shutdown()
    }
}

impl<S: Transport + ?Sized> Transport for Box<S> {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        (**self).shutdown()
    }
}

/// How [`WithTimeout`] sets a read timeout on the stream it wraps.
type SetTimeout<S> = fn(&mut S, Option<Duration>) -> io::Result<()>;

/// A [`Transport`] made of any `Read + Write` stream and a function that sets its read
/// timeout (see [`Transport`] for an example).
#[derive(Debug)]
pub struct WithTimeout<S, F = SetTimeout<S>> {
    stream: S,
    set_read_timeout: F,
}

impl<S, F> WithTimeout<S, F>
where
    S: Read + Write,
    F: FnMut(&mut S, Option<Duration>) -> io::Result<()>,
{
    /// Wraps `stream`; `set_read_timeout` is called with it to bound the following reads.
    pub fn new(stream: S, set_read_timeout: F) -> Self {
        Self {
            stream,
            set_read_timeout,
        }
    }
}

impl<S: Read + Write> WithTimeout<S> {
    /// Wraps a stream whose reads cannot time out: the timers act only when a read returns.
    pub fn none(stream: S) -> Self {
        Self {
            stream,
            set_read_timeout: |_, _| Ok(()),
        }
    }
}

impl<S, F> WithTimeout<S, F> {
    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The wrapped stream, mutably. Reading or writing it directly loses WebSocket bytes.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Read, F> Read for WithTimeout<S, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl<S: Write, F> Write for WithTimeout<S, F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.stream.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl<S, F> Transport for WithTimeout<S, F>
where
    S: Read + Write,
    F: FnMut(&mut S, Option<Duration>) -> io::Result<()>,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        (self.set_read_timeout)(&mut self.stream, timeout)
    }
}
