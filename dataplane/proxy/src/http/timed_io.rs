//! A client socket with the timeouts hyper does not give per request: idle time between
//! requests (the cluster's keep-alive idle) and a per-write deadline towards a slow reader.
//! It also counts bytes for the session.
//!
//! Deadlines are lazy: the logical deadline moves with every request, but the timer-wheel
//! entry is only re-armed when it fires early (or must fire sooner), so a busy keep-alive
//! connection touches the timer wheel about once per timeout period, not once per read.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::pipeline::Session;

/// Timeouts of one connection, updated by the requests it carries.
#[derive(Debug)]
pub struct ConnTimers {
    /// Read deadline while no request is in flight (first request, then keep-alive idle).
    idle_ms: AtomicU64,
    write_ms: AtomicU64,
    in_flight: AtomicUsize,
}

pin_project! {
    pub struct TimedIo<T> {
        #[pin]
        inner: T,
        timers: Arc<ConnTimers>,
        session: Arc<Session>,
        read_sleep: Pin<Box<Sleep>>,
        read_deadline: Option<Instant>,
        write_sleep: Pin<Box<Sleep>>,
        write_deadline: Option<Instant>,
    }
}

/// Marks a request in flight on its connection until dropped.
pub struct InFlight(Arc<ConnTimers>);

// === impl ConnTimers ===

impl ConnTimers {
    pub fn new(idle: Duration, write: Duration) -> Arc<Self> {
        Arc::new(Self {
            idle_ms: AtomicU64::new(millis(idle)),
            write_ms: AtomicU64::new(millis(write)),
            in_flight: AtomicUsize::new(0),
        })
    }

    /// Applies a cluster's keep-alive idle and write timeouts to the rest of the connection.
    pub fn set(&self, idle: Duration, write: Duration) {
        self.idle_ms.store(millis(idle), Ordering::Relaxed);
        self.write_ms.store(millis(write), Ordering::Relaxed);
    }

    pub fn start_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

// === impl TimedIo ===

impl<T> TimedIo<T> {
    pub fn new(inner: T, timers: Arc<ConnTimers>, session: Arc<Session>) -> Self {
        let far = Instant::now() + Duration::from_secs(86400 * 365);
        Self {
            inner,
            timers,
            session,
            read_sleep: Box::pin(tokio::time::sleep_until(far)),
            read_deadline: None,
            write_sleep: Box::pin(tokio::time::sleep_until(far)),
            write_deadline: None,
        }
    }
}

/// Waits for `deadline` on `sleep`, which may be armed earlier than that (never later): an
/// early firing re-arms it for the rest.
fn poll_deadline(sleep: &mut Pin<Box<Sleep>>, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
    loop {
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
        }
        ready!(sleep.as_mut().poll(cx));
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        sleep.as_mut().reset(deadline);
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("client {what} timed out"))
}

impl<T: AsyncRead> AsyncRead for TimedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        match this.inner.poll_read(cx, buf) {
            Poll::Ready(r) => {
                *this.read_deadline = None;
                let n = (buf.filled().len() - before) as u64;
                this.session.bytes_in.fetch_add(n, Ordering::Relaxed);
                Poll::Ready(r)
            }
            Poll::Pending => {
                // Idle deadline only between requests: a request body has its own timeout.
                if this.timers.in_flight.load(Ordering::Acquire) > 0 {
                    *this.read_deadline = None;
                    return Poll::Pending;
                }
                let deadline = *this.read_deadline.get_or_insert_with(|| {
                    let ms = this.timers.idle_ms.load(Ordering::Relaxed);
                    Instant::now() + Duration::from_millis(ms)
                });
                ready!(poll_deadline(this.read_sleep, deadline, cx));
                Poll::Ready(Err(timed_out("idle")))
            }
        }
    }
}

impl<T: AsyncWrite> TimedIo<T> {
    /// One write through `write`, counted, with the write deadline armed while it is pending.
    fn poll_timed_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        write: impl FnOnce(Pin<&mut T>, &mut Context<'_>) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        match write(this.inner, cx) {
            Poll::Ready(r) => {
                *this.write_deadline = None;
                if let Ok(n) = r {
                    this.session
                        .bytes_out
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                let deadline = *this.write_deadline.get_or_insert_with(|| {
                    let ms = this.timers.write_ms.load(Ordering::Relaxed);
                    Instant::now() + Duration::from_millis(ms)
                });
                ready!(poll_deadline(this.write_sleep, deadline, cx));
                Poll::Ready(Err(timed_out("write")))
            }
        }
    }
}

impl<T: AsyncWrite> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_timed_write(cx, |inner, cx| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_timed_write(cx, |inner, cx| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
