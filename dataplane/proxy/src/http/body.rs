//! Bodies streamed through the proxy, never buffered whole: the client's request body (with
//! its read timeout and size limit) and the response body (which reports the request finished
//! when it ends or is dropped).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use crate::error::ProxyError;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How reading the client's body ended, shared between the body and the request engine.
#[derive(Debug, Default)]
pub struct BodyOutcome {
    state: AtomicU8,
    bytes: AtomicU64,
}

const STREAMING: u8 = 0;
const OK: u8 = 4;
const TIMEOUT: u8 = 1;
const TOO_LARGE: u8 = 2;
const MALFORMED: u8 = 3;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientBodyError(ProxyError);

pin_project! {
    /// The client's request body on its way to the backend.
    pub struct ClientBody {
        #[pin]
        inner: Incoming,
        timeout: Duration,
        // Made on the first wait: most bodies are empty or arrive with the head.
        sleep: Option<Pin<Box<Sleep>>>,
        armed: bool,
        limit: Option<u64>,
        outcome: Arc<BodyOutcome>,
    }
}

// === impl BodyOutcome ===

impl BodyOutcome {
    /// The client-side error that ended the body, if any.
    pub fn error(&self) -> Option<ProxyError> {
        match self.state.load(Ordering::Acquire) {
            TIMEOUT => Some(ProxyError::ClientBodyTimeout),
            TOO_LARGE => Some(ProxyError::BodyTooLarge),
            MALFORMED => Some(ProxyError::ClientBody),
            _ => None,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Whether the client is still sending the body (it has neither ended nor failed).
    pub fn streaming(&self) -> bool {
        self.state.load(Ordering::Acquire) == STREAMING
    }

    fn fail(&self, state: u8) -> ClientBodyError {
        self.state.store(state, Ordering::Release);
        ClientBodyError(self.error().unwrap_or(ProxyError::ClientBody))
    }
}

// === impl ClientBody ===

impl ClientBody {
    pub fn new(
        inner: Incoming,
        timeout: Duration,
        limit: Option<u64>,
        outcome: Arc<BodyOutcome>,
    ) -> Self {
        // A body hyper knows is empty may never be polled: it is complete now.
        if inner.is_end_stream() {
            outcome.state.store(OK, Ordering::Release);
        }
        Self {
            inner,
            timeout,
            sleep: None,
            armed: false,
            limit,
            outcome,
        }
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = ClientBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let mut this = self.project();
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(frame) => {
                *this.armed = false;
                Poll::Ready(match frame {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            let total = this
                                .outcome
                                .bytes
                                .fetch_add(data.len() as u64, Ordering::Relaxed)
                                + data.len() as u64;
                            if this.limit.is_some_and(|l| total > l) {
                                return Poll::Ready(Some(Err(this.outcome.fail(TOO_LARGE))));
                            }
                        }
                        if this.inner.is_end_stream() {
                            this.outcome.state.store(OK, Ordering::Release);
                        }
                        Some(Ok(frame))
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "Client request body failed.");
                        Some(Err(this.outcome.fail(MALFORMED)))
                    }
                    None => {
                        this.outcome.state.store(OK, Ordering::Release);
                        None
                    }
                })
            }
            Poll::Pending => {
                if !*this.armed {
                    let deadline = Instant::now() + *this.timeout;
                    match this.sleep.as_mut() {
                        Some(sleep) => sleep.as_mut().reset(deadline),
                        None => *this.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
                    }
                    *this.armed = true;
                }
                if let Some(sleep) = this.sleep.as_mut() {
                    ready!(sleep.as_mut().poll(cx));
                }
                Poll::Ready(Some(Err(this.outcome.fail(TIMEOUT))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The body sent to a backend: the client's, or none (retries of body-less requests, probes).
pub enum ReqBody {
    Client(ClientBody),
    Empty,
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = ClientBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // ClientBody is Unpin (its pinned parts are boxed or Unpin), so projecting by hand is safe.
        match self.get_mut() {
            ReqBody::Client(b) => Pin::new(b).poll_frame(cx),
            ReqBody::Empty => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ReqBody::Client(b) => b.is_end_stream(),
            ReqBody::Empty => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReqBody::Client(b) => b.size_hint(),
            ReqBody::Empty => SizeHint::with_exact(0),
        }
    }
}
