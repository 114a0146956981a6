//! The request engine: walks BFE's callback points in order for one request, with tenant
//! routing, cluster routing, balancing and forwarding (with retries) between them.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bfe_config::cluster::{Cluster, RetryLevel};
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST};
use http::{HeaderValue, Request, Response, StatusCode, Uri, Version, request, response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use smallvec::SmallVec;

use super::chain::Chains;
use super::context::{RequestCtx, Session};
use super::decision::{ForwardDecision, LocalResponse, RequestDecision, ResponseDecision};
use super::phase::RequestPhase;
use crate::balance::{self, GslbChoice, View};
use crate::error::ProxyError;
use crate::facts::ReqFacts;
use crate::health::Outcome as Health;
use crate::http::body::{BodyOutcome, ClientBody, ReqBody};
use crate::http::headers::{self, Forwarded};
use crate::http::local_reply;
use crate::http::timed_io::ConnTimers;
use crate::http::upgrade;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::routing;
use crate::settings::Limits;
use crate::upstream::{AttemptError, UpstreamBody, Upstreams};

/// Shared by every connection: the live config and the runtime state beside it.
pub struct Engine {
    pub live: Arc<Live>,
    pub upstreams: Upstreams,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    /// True once shutdown began: HTTP/1 responses then carry `Connection: close`.
    pub draining: tokio::sync::watch::Receiver<bool>,
    /// Managed mode: request-finish records for the control plane.
    pub stats: Option<Arc<crate::agent::stats::Aggregator>>,
}

/// Returned instead of a response to make the server close the connection with nothing sent.
#[derive(Debug, thiserror::Error)]
#[error("connection closed by a module")]
pub struct CloseConnection;

/// The body of every response the proxy sends. When it ends or is dropped, the request is
/// finished: HandleRequestFinish runs exactly once.
pub struct ResponseBody {
    inner: Inner,
    finish: Option<Finish>,
}

enum Inner {
    Full(Option<Bytes>),
    Upstream(UpstreamBody),
}

struct Finish {
    ctx: Box<RequestCtx>,
    metrics: Arc<Metrics>,
    stats: Option<Arc<crate::agent::stats::Aggregator>>,
    body: Arc<BodyOutcome>,
}

/// What the request phases produced: a response to send, or a closed connection.
// The response is the common case; boxing it would allocate on every request.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Response(Response<ResponseBody>),
    Close,
}

// === impl Engine ===

impl Engine {
    /// Serves one request. `Err` closes the connection without a response.
    // Not an `async fn`: its arguments would stay in the future beside what they become
    // (`req` beside `parts`); hyper moves this future, so every byte of it costs.
    pub fn serve(
        self: Arc<Self>,
        req: Request<Incoming>,
        session: Arc<Session>,
        timers: Arc<ConnTimers>,
    ) -> impl Future<Output = Result<Response<ResponseBody>, CloseConnection>> + Send + 'static
    {
        let in_flight = timers.start_request();
        session
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (mut parts, body) = req.into_parts();
        let ctx = Box::new(RequestCtx::new(self.live.current(), session, &parts));
        async move {
            let _in_flight = in_flight;
            let outcome = Arc::new(BodyOutcome::default());
            match self.run(ctx, &mut parts, body, &timers, &outcome).await {
                Outcome::Response(res) => Ok(res),
                Outcome::Close => Err(CloseConnection),
            }
        }
    }

    async fn run(
        &self,
        mut ctx: Box<RequestCtx>,
        parts: &mut request::Parts,
        body: Incoming,
        timers: &Arc<ConnTimers>,
        outcome: &Arc<BodyOutcome>,
    ) -> Outcome {
        if let Some(err) = self.check_framing(parts) {
            return self.fail(ctx, parts, err, outcome);
        }
        // A WebSocket (HTTP/1.1 Upgrade) goes through every phase like any request; only
        // after the backend's 101 do the two connections become a byte pipe.
        let upgrade = upgrade::take(parts);
        ctx.upgrade = upgrade.as_ref().map(|u| u.asked.clone());
        let active = ctx.active.clone();
        let chains = &active.chains;
        let snapshot = &active.snapshot;

        // HandleBeforeLocation → tenant routing → HandleFoundProduct.
        ctx = match self.request_phase(RequestPhase::BeforeLocation, ctx, parts, outcome) {
            Ok(c) => c,
            Err(o) => return o,
        };
        let found = routing::find_tenant(
            snapshot,
            &ReqFacts {
                req: parts,
                ctx: &ctx,
                res: None,
            },
        );
        let Some(found) = found else {
            return self.fail(ctx, parts, ProxyError::NoTenant, outcome);
        };
        ctx.tenant = Some(found.tenant);
        ctx.host_tag = found.tag;
        ctx = match self.request_phase(RequestPhase::FoundProduct, ctx, parts, outcome) {
            Ok(c) => c,
            Err(o) => return o,
        };

        // Cluster routing → HandleAfterLocation.
        let cluster_id = routing::find_cluster(
            snapshot,
            found,
            &ReqFacts {
                req: parts,
                ctx: &ctx,
                res: None,
            },
        );
        let Some(cluster_id) = cluster_id else {
            return self.fail(ctx, parts, ProxyError::NoRoute, outcome);
        };
        ctx.cluster = Some(cluster_id);
        // BFE's default forwarding headers come before the header module's rules, so a rule
        // at HandleAfterLocation may still override them.
        headers::add_forwarded(
            &mut parts.headers,
            &Forwarded {
                client_ip: ctx.client_ip,
                peer: &ctx.session.forwarded,
                secure: ctx.session.secure,
                host: ctx.host.as_ref(),
            },
        );
        ctx = match self.request_phase(RequestPhase::AfterLocation, ctx, parts, outcome) {
            Ok(c) => c,
            Err(o) => return o,
        };
        let cluster = snapshot.cluster(cluster_id).clone();
        timers.set(
            cluster.timeouts.keepalive_idle,
            cluster.timeouts.write_client,
        );

        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let (Some(limit), Some(len)) = (cluster.max_request_body_bytes, declared)
            && len > limit
        {
            return self.fail(ctx, parts, ProxyError::BodyTooLarge, outcome);
        }
        let body = ClientBody::new(
            body,
            cluster.timeouts.read_client_body,
            cluster.max_request_body_bytes,
            outcome.clone(),
        );
        // What balancing needs from the client's head, read before the head moves on.
        let hash = balance::request_hash(&cluster, parts, ctx.client_ip);
        let replay = cluster.retry.level == RetryLevel::Idempotent && replayable(parts);
        // Only HandleReadResponse filters read the request headers after this point; without
        // any, they move to the backend request instead of being copied.
        let keep_headers = !chains.read_response.is_empty();
        let mut upstream_req =
            Some(self.upstream_request(&ctx, parts, keep_headers, &cluster, ReqBody::Client(body)));

        // Balance → HandleForward → attempt, with retries.
        let res = match self
            .forward(&mut ctx, &cluster, &mut upstream_req, hash, replay, outcome)
            .await
        {
            Ok(res) => res,
            Err(ForwardError::Failed(err)) => {
                let err = outcome.error().unwrap_or(err);
                return self.fail(ctx, parts, err, outcome);
            }
            Err(ForwardError::Finished(local)) => {
                ctx.close_after = true;
                return self.local(ctx, parts, local, false, outcome);
            }
        };
        ctx.backend_header_at = Some(std::time::Instant::now());

        // HandleReadResponse on the backend's response head.
        let (mut res_parts, res_body) = res.into_parts();
        let switched = self.switch_protocols(&mut res_parts, upgrade, timers);
        if res_parts.status == StatusCode::SWITCHING_PROTOCOLS && !switched {
            return self.fail(ctx, parts, ProxyError::BackendProtocol, outcome);
        }
        match chains.run_response(&mut ctx, parts, &mut res_parts) {
            ResponseDecision::Continue => {}
            ResponseDecision::Finish => ctx.close_after = true,
            ResponseDecision::Redirect(r) => {
                let local = local_reply::redirect(&r, &ctx.method);
                return self.local(ctx, parts, local, false, outcome);
            }
        }
        Outcome::Response(self.respond(ctx, res_parts, Inner::Upstream(res_body), outcome))
    }

    /// Strips the response's hop-by-hop headers; for a 101 answering an upgrade request, keeps
    /// the upgrade headers and starts splicing once both sides switched. False for a 101
    /// that cannot be honoured (no upgrade asked, or the backend connection cannot switch).
    fn switch_protocols(
        &self,
        res: &mut response::Parts,
        upgrade: Option<upgrade::UpgradeRequest>,
        timers: &Arc<ConnTimers>,
    ) -> bool {
        let protocol = res.headers.get(http::header::UPGRADE).cloned();
        headers::strip_hop_by_hop(&mut res.headers, false);
        if res.status != StatusCode::SWITCHING_PROTOCOLS {
            return true;
        }
        let backend = res.extensions.remove::<hyper::upgrade::OnUpgrade>();
        let (Some(up), Some(backend), Some(protocol)) = (upgrade, backend, protocol) else {
            return false;
        };
        upgrade::to_client(res, &up.asked, &protocol);
        upgrade::splice(
            up.client,
            backend,
            self.limits.upgrade_idle_timeout,
            timers.start_request(),
        );
        true
    }

    /// Refuses what hyper accepts but a proxy must not pass on.
    fn check_framing(&self, parts: &request::Parts) -> Option<ProxyError> {
        let uri_len = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
        if uri_len > self.limits.max_uri_bytes {
            return Some(ProxyError::UriTooLong);
        }
        // hyper already refuses differing Content-Lengths, bad chunk sizes, obs-fold and a
        // Transfer-Encoding not ending in chunked. It resolves Content-Length beside
        // Transfer-Encoding by dropping the length and closing after the response (RFC 9112
        // §6.3), so the backend never sees both. What is left: Host (RFC 9112 §3.2).
        let hosts = parts.headers.get_all(HOST).iter().count();
        if hosts > 1 || (hosts == 0 && parts.version == Version::HTTP_11) {
            return Some(ProxyError::Framing);
        }
        None
    }

    /// Runs one request phase; `Err` carries the outcome when a filter ended the request.
    #[allow(clippy::result_large_err)] // see `Outcome`
    fn request_phase(
        &self,
        phase: RequestPhase,
        mut ctx: Box<RequestCtx>,
        parts: &mut request::Parts,
        outcome: &Arc<BodyOutcome>,
    ) -> Result<Box<RequestCtx>, Outcome> {
        let active = ctx.active.clone();
        match active.chains.run_request(phase, &mut ctx, parts) {
            RequestDecision::Continue => Ok(ctx),
            RequestDecision::Respond(local) => Err(self.local(ctx, parts, local, true, outcome)),
            RequestDecision::Redirect(r) => {
                let local = local_reply::redirect(&r, &ctx.method);
                Err(self.local(ctx, parts, local, false, outcome))
            }
            RequestDecision::Finish(local) => {
                ctx.close_after = true;
                Err(self.local(ctx, parts, local, false, outcome))
            }
            RequestDecision::Close => {
                self.finish_now(ctx, outcome);
                Err(Outcome::Close)
            }
        }
    }

    /// Balances and forwards, retrying as the cluster allows: attempts that sent nothing move
    /// to another backend of the sub-cluster (`retry.max`), then to other sub-clusters
    /// (`retry.cross`); with `retry.level: idempotent`, a failed attempt of a body-less
    /// idempotent request is retried too. HandleForward runs before every attempt, and every
    /// outcome feeds the backend's passive health.
    ///
    /// `req` is the one place the request lives until hyper takes it, and where an attempt
    /// that sent nothing puts it back: passed by value, each async frame on the way would
    /// keep its own copy.
    async fn forward(
        &self,
        ctx: &mut RequestCtx,
        cluster: &Arc<Cluster>,
        req: &mut Option<Request<ReqBody>>,
        hash: u64,
        replayable: bool,
        upload: &BodyOutcome,
    ) -> Result<Response<UpstreamBody>, ForwardError> {
        let active = ctx.active.clone();
        let view = &active.view;
        let cidx = ctx.cluster.map_or(0, |c| c.0 as usize);
        let no_tried: &[Arc<str>] = &[];
        let mut sub = match balance::choose(cluster, hash, |i| {
            view.has_candidates(cidx, cluster, i, no_tried)
        }) {
            None => return Err(ForwardError::Failed(ProxyError::NoBackend)),
            Some(GslbChoice::Blackhole) => return Err(ForwardError::Failed(ProxyError::Blackhole)),
            Some(GslbChoice::Sub(s)) => s,
        };
        // A copy of the head to resend when a sent attempt may be retried (boxed: rare).
        let replay = replayable
            .then(|| req.as_ref().map(|r| Box::new(ReplayHead::of(r))))
            .flatten();
        let mut tried_subs: SmallVec<[usize; 4]> = SmallVec::new();
        tried_subs.push(sub);
        let mut in_sub_left = cluster.retry.max;
        let mut cross_left = cluster.retry.cross;
        let mut last_err = ProxyError::NoBackend;
        loop {
            let Some(pick) = view.pick(cidx, cluster, sub, hash, &ctx.tried) else {
                // Nothing left here: straight to a cross-sub-cluster retry (BFE).
                match next_sub(view, cidx, cluster, &tried_subs, &ctx.tried, hash)
                    .filter(|_| cross_left > 0)
                {
                    Some(next) => {
                        cross_left -= 1;
                        tried_subs.push(next);
                        sub = next;
                        continue;
                    }
                    None => return Err(ForwardError::Failed(last_err)),
                }
            };
            ctx.attempts += 1;
            ctx.sub_cluster = cluster.sub_clusters.get(sub).map(|s| s.name.clone());
            ctx.backend = Some(pick.backend.clone());
            ctx.tried.push(pick.backend.addr.clone());
            if let ForwardDecision::Finish(local) = run_forward(&active.chains, ctx, req) {
                return Err(ForwardError::Finished(local));
            }
            let load = pick.state.start();
            let result = self
                .upstreams
                .send(&pick.backend, cluster, req, upload)
                .await;
            let health = self.live.health();
            let err = match result {
                Ok(res) => {
                    let outlier = cluster
                        .health
                        .outlier_status
                        .is_some_and(|s| s.contains(res.status().as_u16()));
                    let verdict = if outlier {
                        Health::Failure
                    } else {
                        Health::Success
                    };
                    health.report(&pick.state, &cluster.health, verdict);
                    ctx.backend_load = Some(load);
                    return Ok(res);
                }
                // The request is back in `req`, untouched.
                Err(AttemptError::NotSent(err)) => err,
                Err(AttemptError::Sent(err)) => {
                    // A client-side failure (slow or broken upload) says nothing about the backend.
                    if upload.error().is_some() {
                        return Err(ForwardError::Failed(err));
                    }
                    health.report(&pick.state, &cluster.health, Health::Failure);
                    match &replay {
                        Some(head) => {
                            *req = Some(head.request());
                            err
                        }
                        None => return Err(ForwardError::Failed(err)),
                    }
                }
            };
            if matches!(err, ProxyError::Connect | ProxyError::ConnectTimeout) {
                health.report(&pick.state, &cluster.health, Health::Failure);
            }
            tracing::debug!(backend = %pick.backend.addr, error = %err, "Attempt failed; retrying if allowed.");
            drop(load);
            last_err = err;
            if in_sub_left > 0 {
                in_sub_left -= 1;
                self.metrics.retry("in_sub_cluster");
                continue;
            }
            match next_sub(view, cidx, cluster, &tried_subs, &ctx.tried, hash)
                .filter(|_| cross_left > 0)
            {
                Some(next) => {
                    cross_left -= 1;
                    tried_subs.push(next);
                    sub = next;
                    self.metrics.retry("cross_sub_cluster");
                }
                None => return Err(ForwardError::Failed(err)),
            }
        }
    }

    /// The request as the backend will see it. The client's headers are moved into it unless
    /// `keep_headers` asks for a copy.
    fn upstream_request(
        &self,
        ctx: &RequestCtx,
        parts: &mut request::Parts,
        keep_headers: bool,
        cluster: &Cluster,
        body: ReqBody,
    ) -> Request<ReqBody> {
        let mut headers = if keep_headers {
            parts.headers.clone()
        } else {
            std::mem::take(&mut parts.headers)
        };
        headers::strip_hop_by_hop(&mut headers, true);
        let mut method = parts.method.clone();
        if let Some(asked) = &ctx.upgrade
            && cluster.protocol.is_http1()
        {
            upgrade::to_backend(&mut headers, asked);
            if asked.over_h2 {
                method = http::Method::GET;
            }
        }
        if !headers.contains_key(HOST)
            && let Some(h) = &ctx.host
        {
            headers.insert(HOST, h.clone());
        }
        let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let (uri, version) = match cluster.protocol {
            bfe_config::cluster::BackendProtocol::Http
            | bfe_config::cluster::BackendProtocol::Https => {
                (origin_form(&parts.uri), Version::HTTP_11)
            }
            p @ (bfe_config::cluster::BackendProtocol::H2c
            | bfe_config::cluster::BackendProtocol::H2) => {
                // The Host as forwarded: a rewrite module may have changed it.
                let authority = headers
                    .get(HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_else(|| ctx.host_str());
                let uri = Uri::builder()
                    .scheme(if p.is_tls() { "https" } else { "http" })
                    .authority(if authority.is_empty() {
                        "localhost"
                    } else {
                        authority
                    })
                    .path_and_query(pq)
                    .build()
                    .unwrap_or_else(|_| Uri::from_static("/"));
                (uri, Version::HTTP_2)
            }
        };
        let mut req = Request::new(body);
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.version_mut() = version;
        *req.headers_mut() = headers;
        req
    }

    /// The proxy's own answer to `err`. It passes HandleReadResponse (so error-page modules
    /// see it), as in BFE.
    fn fail(
        &self,
        mut ctx: Box<RequestCtx>,
        parts: &request::Parts,
        err: ProxyError,
        outcome: &Arc<BodyOutcome>,
    ) -> Outcome {
        tracing::debug!(error = %err, code = err.code(), "Request failed.");
        ctx.error = Some(err);
        if err.closes_connection() {
            ctx.close_after = true;
        }
        self.local(ctx, parts, local_reply::error(err), true, outcome)
    }

    /// Sends a local response, through HandleReadResponse when `read_response` is set.
    fn local(
        &self,
        mut ctx: Box<RequestCtx>,
        req: &request::Parts,
        local: LocalResponse,
        read_response: bool,
        outcome: &Arc<BodyOutcome>,
    ) -> Outcome {
        let (mut parts, body) = local_reply::into_response(local).into_parts();
        if read_response {
            let active = ctx.active.clone();
            match active.chains.run_response(&mut ctx, req, &mut parts) {
                ResponseDecision::Continue => {}
                ResponseDecision::Finish => ctx.close_after = true,
                ResponseDecision::Redirect(r) => {
                    let local = local_reply::redirect(&r, &ctx.method);
                    let (p, b) = local_reply::into_response(local).into_parts();
                    return Outcome::Response(self.respond(ctx, p, Inner::Full(Some(b)), outcome));
                }
            }
        }
        Outcome::Response(self.respond(ctx, parts, Inner::Full(Some(body)), outcome))
    }

    fn respond(
        &self,
        mut ctx: Box<RequestCtx>,
        mut parts: response::Parts,
        inner: Inner,
        outcome: &Arc<BodyOutcome>,
    ) -> Response<ResponseBody> {
        ctx.status = parts.status.as_u16();
        if (ctx.close_after || *self.draining.borrow())
            && ctx.version < Version::HTTP_2
            && parts.status != StatusCode::SWITCHING_PROTOCOLS
        {
            parts
                .headers
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        let finish = Finish {
            ctx,
            metrics: self.metrics.clone(),
            stats: self.stats.clone(),
            body: outcome.clone(),
        };
        Response::from_parts(
            parts,
            ResponseBody {
                inner,
                finish: Some(finish),
            },
        )
    }

    /// Finishes a request that sends no response (a Close decision).
    fn finish_now(&self, ctx: Box<RequestCtx>, outcome: &Arc<BodyOutcome>) {
        drop(Finish {
            ctx,
            metrics: self.metrics.clone(),
            stats: self.stats.clone(),
            body: outcome.clone(),
        });
    }
}

enum ForwardError {
    Failed(ProxyError),
    /// A HandleForward filter answered instead.
    Finished(LocalResponse),
}

/// Another sub-cluster for a cross retry: one not tried yet that still has a backend to try,
/// starting from a hash-derived position so retries spread.
fn next_sub(
    view: &View,
    cidx: usize,
    cluster: &Cluster,
    tried_subs: &[usize],
    tried: &[Arc<str>],
    hash: u64,
) -> Option<usize> {
    let n = cluster.sub_clusters.len();
    (0..n)
        .map(|i| (i + (hash as usize % n.max(1))) % n)
        .find(|&i| {
            !tried_subs.contains(&i)
                && cluster.sub_clusters[i].weight > 0
                && view.has_candidates(cidx, cluster, i, tried)
        })
}

/// HandleForward on the request in its slot. A sync function, so the head taken apart here
/// is not kept in the forwarding future.
fn run_forward(
    chains: &Chains,
    ctx: &mut RequestCtx,
    req: &mut Option<Request<ReqBody>>,
) -> ForwardDecision {
    let Some(r) = req.take() else {
        return ForwardDecision::Continue;
    };
    let (mut p, b) = r.into_parts();
    let decision = chains.run_forward(ctx, &mut p);
    *req = Some(Request::from_parts(p, b));
    decision
}

/// What a retry of a sent, replayable (body-less) request sends again.
struct ReplayHead {
    method: http::Method,
    uri: Uri,
    version: Version,
    headers: http::HeaderMap,
}

impl ReplayHead {
    fn of(req: &Request<ReqBody>) -> Self {
        Self {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
        }
    }

    fn request(&self) -> Request<ReqBody> {
        let mut req = Request::new(ReqBody::Empty);
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.version_mut() = self.version;
        *req.headers_mut() = self.headers.clone();
        req
    }
}

/// The path and query of `uri` as a URI of its own, sharing its bytes (no copy).
fn origin_form(uri: &Uri) -> Uri {
    if uri.scheme().is_none() && uri.authority().is_none() {
        return uri.clone();
    }
    let mut parts = http::uri::Parts::default();
    parts.path_and_query = Some(
        uri.path_and_query()
            .cloned()
            .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
    );
    Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/"))
}

/// Requests safe to send twice: idempotent methods without a body.
fn replayable(req: &request::Parts) -> bool {
    use http::Method;
    let idempotent = matches!(
        req.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    );
    let no_body = !req.headers.contains_key(http::header::TRANSFER_ENCODING)
        && req
            .headers
            .get(CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
    idempotent && no_body
}

// === impl ResponseBody ===

impl ResponseBody {
    fn end(&mut self) {
        self.finish = None;
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = crate::http::body::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled: Poll<Option<Result<Frame<Bytes>, Self::Error>>> = match &mut this.inner {
            Inner::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Inner::Upstream(u) => Pin::new(u).poll_frame(cx).map_err(Into::into),
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(f)) = (frame.data_ref(), this.finish.as_mut()) {
                    f.ctx.response_body_bytes += data.len() as u64;
                }
                if this.is_end_stream() {
                    this.end();
                }
            }
            Poll::Ready(Some(Err(e))) => {
                tracing::debug!(error = %e, "Backend response body failed.");
                this.end();
            }
            Poll::Ready(None) => this.end(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Full(b) => b.as_ref().is_none_or(Bytes::is_empty),
            Inner::Upstream(u) => u.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::Upstream(u) => u.size_hint(),
        }
    }
}

// === impl Finish ===

impl Drop for Finish {
    fn drop(&mut self) {
        self.ctx.request_body_bytes = self.body.bytes();
        let active = self.ctx.active.clone();
        active.chains.run_request_finish(&self.ctx);
        self.metrics.request_finished(&self.ctx);
        if let Some(stats) = &self.stats {
            stats.record(&self.ctx);
        }
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseBody")
    }
}
