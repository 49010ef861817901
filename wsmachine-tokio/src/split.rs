//! The reader and writer halves of a split [`WebSocket`].
//!
//! Both halves drive the same [`Driver`] behind a `std::sync::Mutex`, locked only for the
//! length of one synchronous poll. Wake-ups: each half stores its task's waker in its slot
//! before it polls, and polls the transport and the timer with a waker that wakes *both*
//! slots, so whichever half waits for whatever the transport does is woken; and after a poll
//! that changed the connection (input taken, output written, a message queued, a timer), it
//! wakes the other half, which may have been waiting for exactly that (room in the output,
//! output to write). A half that is not waiting has an empty slot, so nothing is lost by
//! waking it.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use wsmachine::{CloseCode, CloseOutcome, PreparedMessage};

use crate::driver::Driver;
use crate::{Error, Message, WebSocket};

/// Which half polls.
#[derive(Copy, Clone)]
enum Side {
    Read,
    Write,
}

/// The wakers of the two halves' tasks.
#[derive(Default)]
struct Wakers {
    read: Mutex<Option<Waker>>,
    write: Mutex<Option<Waker>>,
}

impl Wakers {
    fn slot(&self, side: Side) -> MutexGuard<'_, Option<Waker>> {
        let slot = match side {
            Side::Read => &self.read,
            Side::Write => &self.write,
        };
        slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, side: Side, waker: &Waker) {
        let mut slot = self.slot(side);
        match &*slot {
            Some(stored) if stored.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    fn wake_side(&self, side: Side) {
        // Taken out of the lock first: a waker may run code that polls again.
        let waker = self.slot(side).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_side(Side::Read);
        self.wake_side(Side::Write);
    }
}

/// What both halves hold.
struct Shared<S> {
    driver: Mutex<Driver<S>>,
    wakers: Arc<Wakers>,
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Driver<S>> {
        // A panic in another half's poll leaves a consistent connection: every poll acts on
        // a completed read or write before it can panic.
        self.driver.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one synchronous poll of `side` on the driver, as described in the module docs.
    fn poll<R>(
        &self,
        side: Side,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Driver<S>, &mut Context<'_>) -> R,
    ) -> R {
        self.wakers.register(side, cx.waker());
        let both = Waker::from(Arc::clone(&self.wakers));
        let mut both_cx = Context::from_waker(&both);
        let mut driver = self.lock();
        let before = driver.changes;
        let result = f(&mut driver, &mut both_cx);
        let changed = driver.changes != before;
        drop(driver);
        if changed {
            self.wakers.wake_side(match side {
                Side::Read => Side::Write,
                Side::Write => Side::Read,
            });
        }
        result
    }
}

pub(crate) fn split<S>(driver: Driver<S>) -> (ReadHalf<S>, WriteHalf<S>) {
    let shared = Arc::new(Shared {
        driver: Mutex::new(driver),
        wakers: Arc::default(),
    });
    (
        ReadHalf {
            shared: Arc::clone(&shared),
        },
        WriteHalf { shared },
    )
}

/// The receiving half of a [`WebSocket`], from [`WebSocket::split`]: `recv` and `Stream`.
///
/// It also writes what the connection queues in answer to input (Pongs, the Close reply),
/// runs the timers and shuts the transport down at the end, so keep it polled.
pub struct ReadHalf<S> {
    shared: Arc<Shared<S>>,
}

/// The sending half of a [`WebSocket`], from [`WebSocket::split`]: `send`, `close`, `flush`
/// and `Sink`.
pub struct WriteHalf<S> {
    shared: Arc<Shared<S>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next message, or `None` once the connection is over, as
    /// [`WebSocket::recv`]. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.shared.poll(Side::Read, cx, Driver::poll_recv)).await
    }

    /// Puts the halves back together; fails, giving them back, if they are not of the same
    /// WebSocket.
    pub fn reunite(self, writer: WriteHalf<S>) -> Result<WebSocket<S>, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.shared, &writer.shared) {
            return Err(ReuniteError(self, writer));
        }
        drop(writer);
        let shared = Arc::into_inner(self.shared).expect("the two halves held the only references");
        let driver = shared
            .driver
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(WebSocket { driver })
    }
}

impl<S> ReadHalf<S> {
    /// How the connection ended, once it has.
    pub fn close_outcome(&self) -> Option<CloseOutcome> {
        self.shared.lock().outcome().cloned()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Queues `message` at its first poll and writes all queued output, as
    /// [`WebSocket::send`]; cancel-safe in the same sense.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.shared.poll(
            Side::Write,
            &mut Context::from_waker(Waker::noop()),
            |d, _| d.start_send(message),
        )?;
        self.flush().await
    }

    /// Sends a prepared message, as [`WebSocket::send_prepared`].
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.shared.poll(
            Side::Write,
            &mut Context::from_waker(Waker::noop()),
            |d, _| d.start_send_prepared(message),
        )?;
        self.flush().await
    }

    /// Writes and flushes all queued output. Cancel-safe.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.shared.poll(Side::Write, cx, Driver::poll_flush)).await
    }

    /// Starts the closing handshake, as [`WebSocket::close`]; the reader half finishes it.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.send(Message::close(code, reason)?)
            .await
            .or_else(|e| match e {
                Error::AlreadyClosed => Ok(()),
                e => Err(e),
            })
    }

    /// Bytes queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        self.shared.lock().conn.buffered_amount()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.shared.poll(Side::Read, cx, Driver::poll_recv)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(Side::Write, cx, Driver::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.shared.poll(
            Side::Write,
            &mut Context::from_waker(Waker::noop()),
            |d, _| d.start_send(message),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(Side::Write, cx, Driver::poll_flush)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll(Side::Write, cx, Driver::poll_close)
    }
}

/// The halves given to [`ReadHalf::reunite`] are of two different WebSockets.
pub struct ReuniteError<S>(pub ReadHalf<S>, pub WriteHalf<S>);

impl<S> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the halves are of two different WebSockets")
    }
}

impl<S> std::error::Error for ReuniteError<S> {}

impl<S> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadHalf(..)")
    }
}

impl<S> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteHalf(..)")
    }
}
