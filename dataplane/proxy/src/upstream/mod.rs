//! Forwarding one attempt to one backend over a pooled connection. Connecting is done here,
//! before the request is handed to hyper, so a failed connect gives the request back intact
//! for a retry.

mod pool;
pub(crate) mod tls;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bfe_config::cluster::{Backend, Cluster};
use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

pub use pool::{H1Conn, Pool, PoolKey, Sender};

use crate::deadline::poll_deadline;
use crate::error::ProxyError;
use crate::http::body::{BodyOutcome, ReqBody};

/// Backend connections: the pool plus how to open new ones.
#[derive(Default)]
pub struct Upstreams {
    pool: Arc<Pool>,
    tls: tls::TlsClients,
}

/// How an attempt failed.
pub enum AttemptError {
    /// Nothing reached the backend: the request is back in its slot, untouched, and may be
    /// retried.
    NotSent(ProxyError),
    /// The request reached the backend (at least in part).
    Sent(ProxyError),
}

enum TrySend {
    /// The connection could not take the request; it is back in its slot.
    Returned,
    Failed(ProxyError),
}

/// A backend's response body. When it ends, its HTTP/1 connection goes back to the pool.
pub struct UpstreamBody {
    inner: Incoming,
    checkin: Option<Checkin>,
}

struct Checkin {
    pool: Arc<Pool>,
    key: PoolKey,
    conn: H1Conn,
    settings: bfe_config::cluster::Pool,
}

// === impl Upstreams ===

impl Upstreams {
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Starts dropping idle connections that the backend closed or that idled too long.
    pub fn spawn_idle_sweeper(&self) {
        tokio::spawn(pool::sweep_idle(Arc::downgrade(&self.pool)));
    }

    /// Sends the request in `req` to `backend`, waiting at most the cluster's response-header
    /// timeout. The request leaves the slot when hyper takes it and comes back on `NotSent`.
    pub async fn send(
        &self,
        backend: &Backend,
        cluster: &Cluster,
        req: &mut Option<Request<ReqBody>>,
        upload: &BodyOutcome,
    ) -> Result<Response<UpstreamBody>, AttemptError> {
        let key = PoolKey {
            addr: backend.addr.clone(),
            protocol: cluster.protocol,
            tls: cluster.tls.as_ref().map(|t| t.id.clone()),
        };
        if let Some(sender) = self.pool.checkout(&key) {
            match self.try_send(sender, &key, cluster, req, upload).await {
                Ok(res) => return Ok(res),
                // The pooled connection died under us before the request left: not the
                // backend's fault and not an attempt; use a fresh connection.
                Err(TrySend::Returned) => {}
                Err(TrySend::Failed(e)) => return Err(AttemptError::Sent(e)),
            }
        }
        // Boxed: connecting (TCP, TLS, the HTTP/2 handshake) is the cold path, and inline its
        // state would size every request's future, which hyper keeps per connection (HTTP/1)
        // or per stream (HTTP/2).
        let sender = match Box::pin(self.connect(&key, cluster)).await {
            Ok(s) => s,
            Err(e) => return Err(AttemptError::NotSent(e)),
        };
        match self.try_send(sender, &key, cluster, req, upload).await {
            Ok(res) => Ok(res),
            Err(TrySend::Returned) => Err(AttemptError::NotSent(ProxyError::BackendProtocol)),
            Err(TrySend::Failed(e)) => Err(AttemptError::Sent(e)),
        }
    }

    async fn connect(&self, key: &PoolKey, cluster: &Cluster) -> Result<Sender, ProxyError> {
        let stream =
            match tokio::time::timeout(cluster.timeouts.connect, TcpStream::connect(&*key.addr))
                .await
            {
                Err(_) => return Err(ProxyError::ConnectTimeout),
                Ok(Err(e)) => {
                    tracing::debug!(backend = %key.addr, error = %e, "Backend connect failed.");
                    return Err(ProxyError::Connect);
                }
                Ok(Ok(s)) => s,
            };
        // Small writes (headers) must not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let handshake = async {
            match (&cluster.tls, key.protocol.is_tls()) {
                (Some(settings), true) => {
                    let config = self.tls.config(settings, key.protocol.is_h2())?;
                    let name = tls::server_name(settings, &key.addr)?;
                    let stream = tokio_rustls::TlsConnector::from(config)
                        .connect(name, stream)
                        .await
                        .map_err(|e| {
                            tracing::debug!(backend = %key.addr, error = %e, "Backend TLS handshake failed.");
                            ProxyError::Connect
                        })?;
                    self.http_handshake(key, TokioIo::new(stream)).await
                }
                _ => self.http_handshake(key, TokioIo::new(stream)).await,
            }
        };
        match tokio::time::timeout(cluster.timeouts.connect, handshake).await {
            Err(_) => Err(ProxyError::ConnectTimeout),
            Ok(r) => r,
        }
    }

    /// The HTTP/1.1 or HTTP/2 handshake on a connected (maybe TLS) stream.
    async fn http_handshake<I>(&self, key: &PoolKey, io: I) -> Result<Sender, ProxyError>
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let result = if key.protocol.is_h2() {
            match http2::Builder::new(TokioExecutor::new())
                .handshake(io)
                .await
            {
                Ok((sender, conn)) => {
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "Backend HTTP/2 connection ended with an error.");
                        }
                    });
                    self.pool.put_h2(key.clone(), sender.clone());
                    Ok(Sender::H2(sender))
                }
                Err(e) => Err(e),
            }
        } else {
            match http1::Builder::new().handshake(io).await {
                Ok((sender, conn)) => {
                    tokio::spawn(async move {
                        if let Err(e) = conn.with_upgrades().await {
                            tracing::debug!(error = %e, "Backend connection ended with an error.");
                        }
                    });
                    Ok(Sender::H1(H1Conn {
                        sender,
                        timer: crate::deadline::unarmed(),
                    }))
                }
                Err(e) => Err(e),
            }
        };
        result.map_err(|e| {
            tracing::debug!(backend = %key.addr, error = %e, "Backend handshake failed.");
            ProxyError::Connect
        })
    }

    async fn try_send(
        &self,
        sender: Sender,
        key: &PoolKey,
        cluster: &Cluster,
        req: &mut Option<Request<ReqBody>>,
        upload: &BodyOutcome,
    ) -> Result<Response<UpstreamBody>, TrySend> {
        let timeout = cluster.timeouts.response_header;
        match sender {
            Sender::H1(mut conn) => {
                if conn.sender.ready().await.is_err() {
                    return Err(TrySend::Returned);
                }
                let Some(r) = req.take() else {
                    return Err(TrySend::Failed(EMPTY_SLOT));
                };
                let deadline = Instant::now() + timeout;
                let sent = conn.sender.try_send_request(r);
                let res =
                    match response_deadline(conn.timer.as_mut(), deadline, timeout, upload, sent)
                        .await
                    {
                        Err(_) => return Err(TrySend::Failed(ProxyError::ResponseTimeout)),
                        Ok(Err(e)) => return Err(exchange_failed(req, e, key)),
                        Ok(Ok(res)) => res,
                    };
                let checkin = Checkin {
                    pool: self.pool.clone(),
                    key: key.clone(),
                    conn,
                    settings: cluster.pool,
                };
                // A connection that switched protocols is no longer HTTP: never pooled.
                let checkin =
                    (res.status() != http::StatusCode::SWITCHING_PROTOCOLS).then_some(checkin);
                Ok(res.map(|inner| UpstreamBody::new(inner, checkin)))
            }
            Sender::H2(mut sender) => {
                if sender.ready().await.is_err() {
                    return Err(TrySend::Returned);
                }
                let Some(r) = req.take() else {
                    return Err(TrySend::Failed(EMPTY_SLOT));
                };
                // Streams share the connection: each has its own timer.
                let deadline = Instant::now() + timeout;
                let timer = tokio::time::sleep_until(deadline);
                tokio::pin!(timer);
                let sent = sender.try_send_request(r);
                match response_deadline(timer, deadline, timeout, upload, sent).await {
                    Err(_) => Err(TrySend::Failed(ProxyError::ResponseTimeout)),
                    Ok(Err(e)) => Err(exchange_failed(req, e, key)),
                    Ok(Ok(res)) => Ok(res.map(|inner| UpstreamBody::new(inner, None))),
                }
            }
        }
    }
}

/// A failed exchange: the request back in its slot when hyper hands it back unsent (the
/// connection closed first), else a protocol failure.
fn exchange_failed(
    req: &mut Option<Request<ReqBody>>,
    mut e: hyper::client::conn::TrySendError<Request<ReqBody>>,
    key: &PoolKey,
) -> TrySend {
    match e.take_message() {
        Some(r) => {
            *req = Some(r);
            TrySend::Returned
        }
        None => {
            tracing::debug!(backend = %key.addr, error = %e.error(), "Backend exchange failed.");
            TrySend::Failed(ProxyError::BackendProtocol)
        }
    }
}

/// An attempt found no request in its slot. Unreachable (every caller fills the slot), so
/// reported as a failed exchange rather than a panic.
const EMPTY_SLOT: ProxyError = ProxyError::BackendProtocol;

/// Waits for the response head until `deadline`, or, while the client's body is still
/// uploading, `timeout` past it (a slow upload is bounded by the body's own read timeout, not by
/// this one), on `timer`.
async fn response_deadline<F: Future>(
    mut timer: Pin<&mut Sleep>,
    mut deadline: Instant,
    timeout: Duration,
    upload: &BodyOutcome,
    fut: F,
) -> Result<F::Output, ()> {
    tokio::pin!(fut);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        loop {
            ready!(poll_deadline(timer.as_mut(), deadline, cx));
            if !upload.streaming() {
                return Poll::Ready(Err(()));
            }
            deadline = Instant::now() + timeout;
        }
    })
    .await
}

// === impl UpstreamBody ===

impl UpstreamBody {
    fn new(inner: Incoming, checkin: Option<Checkin>) -> Self {
        let mut body = Self { inner, checkin };
        // A body that is already complete (204, Content-Length: 0) may never be polled.
        if body.inner.is_end_stream() {
            body.release();
        }
        body
    }

    fn release(&mut self) {
        if let Some(c) = self.checkin.take() {
            c.pool.checkin(c.key, c.conn, c.settings);
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.release(),
            Poll::Ready(Some(Err(_))) => self.checkin = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
