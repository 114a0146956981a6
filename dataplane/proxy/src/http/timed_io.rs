//! A client socket with its timeouts: idle time between requests (the cluster's keep-alive
//! idle), the time an HTTP/1 request head may take to arrive whole (slowloris), and a per-write
//! deadline towards a slow reader. It also counts bytes for the session, and coalesces an
//! HTTP/2 connection's writes.
//!
//! The head deadline is here rather than hyper's `header_read_timeout`: hyper allocates and
//! registers a fresh timer for every request head, which cost about 1k instructions per
//! request; here it is one clock read per request and a lazily re-armed timer.
//!
//! Deadlines are lazy (`crate::deadline`): the logical deadline moves with every request, but
//! the timer is only re-armed when it fires early (or must fire sooner).
//!
//! Write coalescing: the `h2` crate writes every DATA frame above 256 bytes with its own
//! `writev` (it chains the payload instead of copying it) and flushes after each, so a
//! connection carrying many streams makes one system call per response. With coalescing on,
//! writes are copied into a buffer, and a flush that finds new bytes in it does not send
//! them yet: it wakes the connection's task and reports success. h2 ends every poll of the
//! connection with a flush, so the next poll, after the other tasks of this scheduler tick
//! added their frames, finds nothing new and sends everything in one write, as HAProxy's
//! event loop does. This relies on that h2 behaviour; it is never on for HTTP/1.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::deadline::{poll_deadline, unarmed};
use crate::pipeline::Session;

/// Timeouts of one connection, updated by the requests it carries.
#[derive(Debug)]
pub struct ConnTimers {
    /// Read deadline while no request is in flight (first request, then keep-alive idle).
    idle_ms: AtomicU64,
    write_ms: AtomicU64,
    /// How long an HTTP/1 request head may take, from when the connection starts waiting for
    /// it until the request starts.
    head: Duration,
    in_flight: AtomicUsize,
    /// Requests started so far: a new value means the head being waited for is a new one.
    started: AtomicU64,
    /// Coalesce writes (HTTP/2 connections; see the module docs).
    coalesce: AtomicBool,
}

pin_project! {
    pub struct TimedIo<T> {
        #[pin]
        inner: T,
        timers: Arc<ConnTimers>,
        session: Arc<Session>,
        read_sleep: Pin<Box<Sleep>>,
        read_deadline: Option<Instant>,
        // The head being waited for (the `started` count it follows) and its deadline.
        head_deadline: Option<(u64, Instant)>,
        write_sleep: Pin<Box<Sleep>>,
        write_deadline: Option<Instant>,
        // Coalesced writes not yet sent, and their length at the last flush (deferred).
        out: Vec<u8>,
        out_at_flush: usize,
        // The first read was looked at for the HTTP/2 connection preface.
        sniffed: bool,
    }
}

/// Coalesced bytes above this are sent before more are taken. The buffer is allocated at this
/// size while requests are in flight (growing it cost a `realloc` copy per burst) and freed
/// when the connection idles.
const OUT_MAX: usize = 64 * 1024;
/// How an HTTP/2 connection with prior knowledge starts (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// Marks a request in flight on its connection until dropped.
pub struct InFlight(Arc<ConnTimers>);

// === impl ConnTimers ===

impl ConnTimers {
    /// `head` also bounds the wait for the first request, until a cluster sets the idle.
    pub fn new(head: Duration, write: Duration) -> Arc<Self> {
        Arc::new(Self {
            idle_ms: AtomicU64::new(millis(head)),
            write_ms: AtomicU64::new(millis(write)),
            head,
            in_flight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            coalesce: AtomicBool::new(false),
        })
    }

    /// Coalesces the connection's writes from now on: it speaks HTTP/2.
    pub fn coalesce_writes(&self) {
        self.coalesce.store(true, Ordering::Relaxed);
    }

    /// Applies a cluster's keep-alive idle and write timeouts to the rest of the connection.
    pub fn set(&self, idle: Duration, write: Duration) {
        self.idle_ms.store(millis(idle), Ordering::Relaxed);
        self.write_ms.store(millis(write), Ordering::Relaxed);
    }

    pub fn start_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::Relaxed);
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
        Self {
            inner,
            timers,
            session,
            read_sleep: unarmed(),
            read_deadline: None,
            head_deadline: None,
            write_sleep: unarmed(),
            write_deadline: None,
            out: Vec::new(),
            out_at_flush: 0,
            sniffed: false,
        }
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
        let polled = this.inner.poll_read(cx, buf);
        if let Poll::Ready(r) = &polled {
            *this.read_deadline = None;
            let read = &buf.filled()[before..];
            if !*this.sniffed && !read.is_empty() {
                *this.sniffed = true;
                if read.starts_with(H2_PREFACE) {
                    this.timers.coalesce_writes();
                }
            }
            this.session
                .bytes_in
                .fetch_add(read.len() as u64, Ordering::Relaxed);
            if r.is_err() {
                return polled;
            }
        }
        // A request in flight: its body has its own timeout, and its head has arrived.
        if this.timers.in_flight.load(Ordering::Acquire) > 0 {
            *this.read_deadline = None;
            return polled;
        }
        // Waiting for a request head (HTTP/1; HTTP/2 has no heads between requests). Its
        // deadline runs from the first read after the previous request started.
        let mut now = None;
        let head = if this.timers.coalesce.load(Ordering::Relaxed) {
            None
        } else {
            let started = this.timers.started.load(Ordering::Relaxed);
            match *this.head_deadline {
                Some((n, at)) if n == started => Some(at),
                _ => {
                    let at = *now.insert(Instant::now()) + this.timers.head;
                    *this.head_deadline = Some((started, at));
                    Some(at)
                }
            }
        };
        if polled.is_ready() {
            return polled;
        }
        if this.out.is_empty() && this.out.capacity() > 0 {
            *this.out = Vec::new();
        }
        let idle = *this.read_deadline.get_or_insert_with(|| {
            let ms = this.timers.idle_ms.load(Ordering::Relaxed);
            now.unwrap_or_else(Instant::now) + Duration::from_millis(ms)
        });
        let (deadline, what) = match head {
            Some(at) if at < idle => (at, "request head"),
            _ => (idle, "idle"),
        };
        ready!(poll_deadline(this.read_sleep.as_mut(), deadline, cx));
        Poll::Ready(Err(timed_out(what)))
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
                ready!(poll_deadline(this.write_sleep.as_mut(), deadline, cx));
                Poll::Ready(Err(timed_out("write")))
            }
        }
    }

    fn coalescing(&self) -> bool {
        self.timers.coalesce.load(Ordering::Relaxed)
    }

    /// Takes `bufs` into the coalescing buffer, sending what it holds first if they would
    /// overflow it (and `bufs` directly if they alone would).
    fn poll_coalesce(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if self.out.len() + len > OUT_MAX {
            ready!(self.as_mut().poll_send_out(cx))?;
            if len > OUT_MAX {
                return self.poll_timed_write(cx, |inner, cx| inner.poll_write_vectored(cx, bufs));
            }
        }
        let out = self.project().out;
        if out.capacity() == 0 {
            out.reserve_exact(OUT_MAX);
        }
        for b in bufs {
            out.extend_from_slice(b);
        }
        Poll::Ready(Ok(len))
    }

    /// Sends the coalescing buffer.
    fn poll_send_out(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut out = std::mem::take(self.as_mut().project().out);
        let mut sent = 0;
        let result = loop {
            if sent == out.len() {
                break Poll::Ready(Ok(()));
            }
            match self
                .as_mut()
                .poll_timed_write(cx, |inner, cx| inner.poll_write(cx, &out[sent..]))
            {
                Poll::Ready(Ok(0)) => break Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => sent += n,
                Poll::Ready(Err(e)) => break Poll::Ready(Err(e)),
                Poll::Pending => break Poll::Pending,
            }
        };
        out.drain(..sent);
        // What is left (the socket was full) is not new: the next flush sends it.
        let this = self.project();
        *this.out_at_flush = out.len();
        *this.out = out;
        result
    }
}

impl<T: AsyncWrite> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.coalescing() {
            return self.poll_coalesce(cx, &[io::IoSlice::new(buf)]);
        }
        self.poll_timed_write(cx, |inner, cx| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.coalescing() {
            return self.poll_coalesce(cx, bufs);
        }
        self.poll_timed_write(cx, |inner, cx| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.coalescing() || self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let len = self.out.len();
        if len > 0 {
            // New bytes since the last flush: send them at a later poll of this task (see the
            // module docs), unless the buffer is full.
            if len != self.out_at_flush && len < OUT_MAX {
                *self.as_mut().project().out_at_flush = len;
                cx.waker().wake_by_ref();
                return Poll::Ready(Ok(()));
            }
            ready!(self.as_mut().poll_send_out(cx))?;
        }
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_send_out(cx))?;
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::task::{Wake, Waker};

    use super::*;

    type Writes = Arc<Mutex<Vec<Vec<u8>>>>;

    /// A socket that records every write it is given and reads from a fixed input. It takes
    /// at most `room` bytes (then it is full: `Pending`) when that is set.
    #[derive(Default)]
    struct Recorder {
        input: Vec<u8>,
        writes: Writes,
        room: Arc<Mutex<Option<usize>>>,
    }

    impl AsyncRead for Recorder {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self.input.len().min(buf.remaining());
            buf.put_slice(&self.input[..n]);
            self.input.drain(..n);
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let mut room = self.room.lock().expect("lock");
            let n = room.map_or(buf.len(), |r| r.min(buf.len()));
            if n == 0 {
                return Poll::Pending;
            }
            if let Some(r) = room.as_mut() {
                *r -= n;
            }
            self.writes.lock().expect("lock").push(buf[..n].to_vec());
            Poll::Ready(Ok(n))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn timed(input: &[u8]) -> (TimedIo<Recorder>, Arc<ConnTimers>, Writes) {
        timed_on(Recorder {
            input: input.to_vec(),
            ..Recorder::default()
        })
    }

    fn timed_on(recorder: Recorder) -> (TimedIo<Recorder>, Arc<ConnTimers>, Writes) {
        let writes = recorder.writes.clone();
        let timers = ConnTimers::new(Duration::from_secs(5), Duration::from_secs(5));
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let session = Arc::new(Session::new(1, addr, addr, false));
        (
            TimedIo::new(recorder, timers.clone(), session),
            timers,
            writes,
        )
    }

    /// The value of a poll that completed without an error.
    fn done<T>(polled: Poll<io::Result<T>>) -> T {
        match polled {
            Poll::Ready(Ok(v)) => v,
            Poll::Ready(Err(e)) => panic!("failed: {e}"),
            Poll::Pending => panic!("pending"),
        }
    }

    fn read_once(io: &mut TimedIo<Recorder>) {
        let mut cx = Context::from_waker(Waker::noop());
        let mut bytes = [0u8; 64];
        let mut buf = ReadBuf::new(&mut bytes);
        done(Pin::new(io).poll_read(&mut cx, &mut buf));
    }

    #[tokio::test]
    async fn the_http2_preface_turns_coalescing_on_and_http1_does_not() {
        let (mut io, timers, _) = timed(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        read_once(&mut io);
        assert!(timers.coalesce.load(Ordering::Relaxed));

        let (mut io, timers, _) = timed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        read_once(&mut io);
        assert!(!timers.coalesce.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn coalesced_writes_leave_in_one_write_once_a_flush_finds_nothing_new() {
        let (mut io, timers, writes) = timed(b"");
        timers.coalesce_writes();
        let waker = Arc::new(CountingWaker::default());
        let w = Waker::from(waker.clone());
        let mut cx = Context::from_waker(&w);
        let mut io = Pin::new(&mut io);

        assert_eq!(done(io.as_mut().poll_write(&mut cx, b"ab")), 2);
        let bufs = [io::IoSlice::new(b"cd"), io::IoSlice::new(b"e")];
        assert_eq!(done(io.as_mut().poll_write_vectored(&mut cx, &bufs)), 3);
        assert!(
            writes.lock().expect("lock").is_empty(),
            "nothing is sent before a flush"
        );

        // A flush that finds new bytes defers them (and asks to be polled again); one that
        // finds nothing new since sends everything.
        done(io.as_mut().poll_flush(&mut cx));
        assert_eq!(waker.0.load(Ordering::Relaxed), 1);
        assert!(writes.lock().expect("lock").is_empty());
        assert_eq!(done(io.as_mut().poll_write(&mut cx, b"f")), 1);
        done(io.as_mut().poll_flush(&mut cx));
        assert_eq!(waker.0.load(Ordering::Relaxed), 2);
        assert!(writes.lock().expect("lock").is_empty());
        done(io.as_mut().poll_flush(&mut cx));
        assert_eq!(*writes.lock().expect("lock"), vec![b"abcdef".to_vec()]);

        // Nothing buffered: a flush is immediate.
        done(io.as_mut().poll_flush(&mut cx));
        assert_eq!(writes.lock().expect("lock").len(), 1);
    }

    #[tokio::test]
    async fn what_a_full_socket_left_over_goes_at_the_next_flush() {
        let recorder = Recorder::default();
        let room = recorder.room.clone();
        *room.lock().expect("lock") = Some(2);
        let (mut io, timers, writes) = timed_on(recorder);
        timers.coalesce_writes();
        let mut cx = Context::from_waker(Waker::noop());
        let mut io = Pin::new(&mut io);

        assert_eq!(done(io.as_mut().poll_write(&mut cx, b"abcd")), 4);
        done(io.as_mut().poll_flush(&mut cx));
        assert!(
            io.as_mut().poll_flush(&mut cx).is_pending(),
            "the socket took 2 bytes"
        );
        assert_eq!(*writes.lock().expect("lock"), vec![b"ab".to_vec()]);

        // Room again: the rest is not new, so this flush sends it rather than deferring it.
        *room.lock().expect("lock") = None;
        done(io.as_mut().poll_flush(&mut cx));
        assert_eq!(
            *writes.lock().expect("lock"),
            vec![b"ab".to_vec(), b"cd".to_vec()]
        );
    }

    #[tokio::test]
    async fn shutdown_sends_what_is_buffered_and_big_writes_are_not_held() {
        let (mut io, timers, writes) = timed(b"");
        timers.coalesce_writes();
        let mut cx = Context::from_waker(Waker::noop());
        let mut io = Pin::new(&mut io);

        assert_eq!(done(io.as_mut().poll_write(&mut cx, b"head")), 4);
        let big = vec![7u8; OUT_MAX + 1];
        assert_eq!(done(io.as_mut().poll_write(&mut cx, &big)), big.len());
        assert_eq!(done(io.as_mut().poll_write(&mut cx, b"tail")), 4);
        done(io.as_mut().poll_shutdown(&mut cx));
        let writes = writes.lock().expect("lock");
        assert_eq!(writes.len(), 3);
        assert_eq!(writes[0], b"head");
        assert_eq!(writes[1].len(), big.len());
        assert_eq!(writes[2], b"tail");
    }

    #[tokio::test]
    async fn without_coalescing_writes_go_straight_through() {
        let (mut io, _, writes) = timed(b"");
        let mut cx = Context::from_waker(Waker::noop());
        let mut io = Pin::new(&mut io);
        assert_eq!(done(io.as_mut().poll_write(&mut cx, b"ab")), 2);
        assert_eq!(writes.lock().expect("lock").len(), 1);
    }
}
