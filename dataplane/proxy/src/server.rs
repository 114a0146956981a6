//! Listeners and connections: accept, PROXY protocol, HandleAccept, TLS handshake and
//! HandleHandshake, then HTTP/1.1 or HTTP/2 through hyper (or stream mode), HandleFinish at
//! close, and graceful drain on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bfe_config::tls::{AlpnProtocol, TlsRule};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::LazyConfigAcceptor;

use crate::gated::Gated;
use crate::http::timed_io::{ConnTimers, TimedIo};
use crate::pipeline::{ConnDecision, ConnPhase, Engine, Session};
use crate::proxy_protocol::{self, Mode};
use crate::tls::TlsInfo;

/// How connections learn about shutdown, and how shutdown learns they are gone.
#[derive(Clone)]
pub struct Drain {
    /// Turns true when shutdown begins: stop accepting, finish in-flight work, then close.
    pub draining: watch::Receiver<bool>,
    /// Turns true when the drain deadline passed: close now.
    pub abort: watch::Receiver<bool>,
    /// Held by every connection task; the shutdown waits until all are dropped.
    pub alive: mpsc::Sender<()>,
}

/// What a listener speaks.
#[derive(Debug, Clone, Copy)]
pub struct ListenerKind {
    pub tls: bool,
    pub proxy_protocol: Mode,
}

/// The hyper connection builders, shared by every connection of a listener.
struct Builders {
    /// Cleartext: HTTP/1.1, or HTTP/2 with prior knowledge.
    auto: auto::Builder<TokioExecutor>,
    /// TLS without ALPN `h2`.
    h1: auto::Builder<TokioExecutor>,
    /// TLS with ALPN `h2`.
    h2: auto::Builder<TokioExecutor>,
}

/// Accepts on `listener` until draining starts.
pub async fn accept_loop(
    listener: TcpListener,
    kind: ListenerKind,
    engine: Arc<Engine>,
    drain: Drain,
    ids: Arc<AtomicU64>,
) {
    let mut stop = drain.draining.clone();
    let builders = Arc::new(Builders {
        auto: http_builder(&engine),
        h1: http_builder(&engine).http1_only(),
        h2: http_builder(&engine).http2_only(),
    });
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "Accept failed.");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let engine = engine.clone();
        let builders = builders.clone();
        let drain = drain.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, id, kind, engine, &builders, drain).await;
        });
    }
}

fn http_builder(engine: &Engine) -> auto::Builder<TokioExecutor> {
    let limits = engine.limits;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // The head deadline is the client socket's (`TimedIo`): cheaper per request.
        .header_read_timeout(None)
        // hyper refuses a buffer below 8 KiB.
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true)
        .half_close(false);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        // RFC 8441: WebSocket over HTTP/2 (extended CONNECT).
        .enable_connect_protocol()
        .initial_stream_window_size(limits.h2_stream_window)
        .initial_connection_window_size(limits.h2_connection_window)
        // Bounds HEADERS + CONTINUATION too: a CONTINUATION flood ends at this size.
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        // Rapid reset: streams the client opened and reset before we handled them, and
        // streams we reset because of its protocol errors, close the connection past this.
        .max_pending_accept_reset_streams(limits.h2_max_pending_resets)
        .max_local_error_reset_streams(limits.h2_max_pending_resets)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    kind: ListenerKind,
    engine: Arc<Engine>,
    builders: &Builders,
    drain: Drain,
) {
    let local = stream.local_addr().unwrap_or(peer);
    let _ = stream.set_nodelay(true);
    engine.metrics.connections_total.inc();
    engine.metrics.connections_active.inc();
    let _active = ActiveConn(engine.clone());
    let limits = engine.limits;

    // PROXY protocol: the real client and the VIP it aimed at.
    let (header, stream) = match proxy_protocol::accept(
        stream,
        kind.proxy_protocol,
        limits.proxy_header_max_bytes,
        limits.proxy_header_timeout,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            engine.metrics.proxy_header(e.kind());
            tracing::debug!(peer = %peer, error = %e, "PROXY protocol header refused; closing.");
            return;
        }
    };
    if kind.proxy_protocol != Mode::Off {
        engine
            .metrics
            .proxy_header(if header.is_some() { "ok" } else { "absent" });
    }
    let (client, vip) = match header.and_then(|h| h.addrs) {
        Some((src, dst)) => (src, dst.ip()),
        None => (peer, local.ip()),
    };
    let mut session = Session::new(id, client, local, kind.tls);
    session.vip = Some(vip);
    let session = Arc::new(session);

    // HandleAccept.
    if let ConnDecision::Close = engine
        .live
        .current()
        .chains
        .run_conn(ConnPhase::Accept, &session)
    {
        engine.live.current().chains.run_finish(&session);
        return;
    }
    let timers = ConnTimers::new(limits.header_read_timeout, limits.write_timeout);
    let io = TimedIo::new(stream, timers.clone(), session.clone());
    if kind.tls {
        // Boxed: the TLS state (rustls connection, handshake) would otherwise size every
        // connection task, cleartext ones included, for as long as they stay open.
        Box::pin(serve_tls(io, builders, &engine, &session, timers, drain)).await;
    } else {
        serve_http(io, &builders.auto, &engine, &session, timers, drain).await;
    }
    // HandleFinish, with the config current at close time.
    engine.live.current().chains.run_finish(&session);
}

/// TLS handshake, HandleHandshake, then HTTP or stream mode as ALPN and the rule say.
async fn serve_tls<S>(
    io: S,
    builders: &Builders,
    engine: &Arc<Engine>,
    session: &Arc<Session>,
    timers: Arc<ConnTimers>,
    drain: Drain,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some((tls, info, rule)) = handshake(io, engine, session).await else {
        return;
    };
    let protocol = info.protocol;
    let _ = session.tls.set(info);
    // HandleHandshake.
    let decision = engine
        .live
        .current()
        .chains
        .run_conn(ConnPhase::Handshake, session);
    match (decision, protocol) {
        (ConnDecision::Close, _) => {}
        (ConnDecision::Continue, AlpnProtocol::H2) => {
            timers.coalesce_writes();
            serve_http(tls, &builders.h2, engine, session, timers, drain).await;
        }
        (ConnDecision::Continue, AlpnProtocol::Http11) => {
            serve_http(tls, &builders.h1, engine, session, timers, drain).await;
        }
        (ConnDecision::Continue, AlpnProtocol::Stream) => {
            serve_stream(tls, &rule, engine, session, &timers, drain).await;
        }
    }
}

/// Reads the ClientHello, picks the TLS rule from the snapshot live now (VIP, then SNI), and
/// finishes the handshake with that rule's configuration, all within the handshake timeout.
async fn handshake<S>(
    io: S,
    engine: &Engine,
    session: &Session,
) -> Option<(tokio_rustls::server::TlsStream<S>, TlsInfo, Arc<TlsRule>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let peer = session.peer;
    let fut = async {
        let start = match LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io).await {
            Ok(s) => s,
            Err(e) => {
                engine.metrics.tls_handshake("error", "", "");
                tracing::debug!(peer = %peer, error = %e, "Bad ClientHello.");
                return None;
            }
        };
        let sni: Option<Arc<str>> = start
            .client_hello()
            .server_name()
            .map(|s| bfe_config::tls::normalize_host(s).into());
        let active = engine.live.current();
        let Some(selected) = active
            .tls
            .select(&active.snapshot.tls, session.vip, sni.as_deref())
        else {
            engine.metrics.tls_handshake("no_certificate", "", "");
            tracing::debug!(peer = %peer, sni = ?sni, "No TLS rule or certificate; closing.");
            return None;
        };
        let rule = selected.rule.clone();
        match start.into_stream(selected.config).await {
            Ok(tls) => {
                let info = TlsInfo::from_connection(tls.get_ref().1, &rule, sni);
                let result = if info.resumed { "resumed" } else { "full" };
                let protocol = std::str::from_utf8(info.protocol.id()).unwrap_or("");
                engine.metrics.tls_handshake(result, info.version, protocol);
                Some((tls, info, rule))
            }
            Err(e) => {
                engine.metrics.tls_handshake("error", "", "");
                tracing::debug!(peer = %peer, error = %e, "TLS handshake failed.");
                None
            }
        }
    };
    match tokio::time::timeout(engine.limits.tls_handshake_timeout, fut).await {
        Ok(r) => r,
        Err(_) => {
            engine.metrics.tls_handshake("timeout", "", "");
            tracing::debug!(peer = %peer, "TLS handshake timed out.");
            None
        }
    }
}

/// Serves HTTP on an established connection until it closes or the drain ends it.
async fn serve_http<I>(
    io: I,
    builder: &auto::Builder<TokioExecutor>,
    engine: &Arc<Engine>,
    session: &Arc<Session>,
    timers: Arc<ConnTimers>,
    mut drain: Drain,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = {
        let (engine, session) = (engine.clone(), session.clone());
        // Boxed: hyper moves an HTTP/2 stream's service future several times on its way into
        // the stream's task, and keeps an HTTP/1 connection's slot for it allocated while the
        // connection idles; boxed, a move is a pointer and an idle slot 16 bytes, not ~2 KiB.
        service_fn(move |req| Box::pin(engine.clone().serve(req, session.clone(), timers.clone())))
    };
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let draining = Gated::new(until_true(&mut drain.draining));
    tokio::pin!(draining);
    let result = tokio::select! {
        biased;
        r = conn.as_mut() => r,
        () = draining.as_mut() => {
            // HTTP/1: close after the in-flight response; HTTP/2: GOAWAY, finish open streams.
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                r = conn.as_mut() => r,
                () = until_true(&mut drain.abort) => Ok(()),
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(peer = %session.peer, error = %e, "Client connection ended with an error.");
    }
    drop(drain.alive);
}

/// Stream mode: the rule's cluster, a backend picked by client address, bytes both ways.
async fn serve_stream<I>(
    io: I,
    rule: &TlsRule,
    engine: &Engine,
    session: &Session,
    timers: &Arc<ConnTimers>,
    mut drain: Drain,
) where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let Some(target) = rule.stream.clone() else {
        return;
    };
    let active = engine.live.current();
    let Some(cluster) = active
        .snapshot
        .clusters
        .get(target.cluster.0 as usize)
        .cloned()
    else {
        return;
    };
    let Some((addr, _load)) =
        crate::routing::pick_stream_backend(&active, target.cluster, session.peer.ip())
    else {
        tracing::debug!(cluster = %cluster.name, "Stream mode: no backend available.");
        return;
    };
    drop(active);
    // The splice has its own idle timeout; the connection's between-requests one is off.
    let _in_flight = timers.start_request();
    let pp = target.proxy_protocol.map(|v| {
        let vip = SocketAddr::new(
            session.vip.unwrap_or(session.local.ip()),
            session.local.port(),
        );
        (v, session.peer, vip)
    });
    let splice = crate::stream::proxy(io, addr, cluster.timeouts.connect, pp, target.idle_timeout);
    tokio::select! {
        biased;
        r = splice => match r {
            Ok((up, down)) => tracing::debug!(up, down, "Stream ended."),
            Err(e) => tracing::debug!(error = %e, "Stream ended with an error."),
        },
        () = Gated::new(until_true(&mut drain.abort)) => {}
    }
    drop(drain.alive);
}

/// Resolves once the flag is true (or its sender is gone); holds no borrow across awaits.
async fn until_true(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|v| *v).await;
}

/// Decrements the active-connection gauge however the connection ends.
struct ActiveConn(Arc<Engine>);

impl Drop for ActiveConn {
    fn drop(&mut self) {
        self.0.metrics.connections_active.dec();
    }
}
