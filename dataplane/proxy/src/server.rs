//! Listeners and connections: accept, HandleAccept, serve HTTP/1.1 or HTTP/2 (prior knowledge)
//! through hyper, HandleFinish at close, and graceful drain on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::http::timed_io::{ConnTimers, TimedIo};
use crate::pipeline::{ConnDecision, ConnPhase, Engine, Session};

/// Accepts on `listener` until `stop` turns true; every connection is watched by `graceful`.
pub async fn accept_loop(
    listener: TcpListener,
    engine: Arc<Engine>,
    graceful: Arc<GracefulShutdown>,
    mut stop: watch::Receiver<bool>,
    ids: Arc<AtomicU64>,
) {
    let builder = Arc::new(http_builder(&engine));
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
        let builder = builder.clone();
        let graceful = graceful.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, id, engine, &builder, &graceful).await;
        });
    }
}

fn http_builder(engine: &Engine) -> auto::Builder<TokioExecutor> {
    let limits = engine.limits;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // hyper refuses a buffer below 8 KiB.
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true)
        .half_close(false);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    engine: Arc<Engine>,
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
) {
    let local = stream.local_addr().unwrap_or(peer);
    let session = Arc::new(Session::new(id, peer, local, false));
    engine.metrics.connections_total.inc();
    engine.metrics.connections_active.inc();
    let _active = ActiveConn(engine.clone());

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
    let _ = stream.set_nodelay(true);
    let limits = engine.limits;
    let timers = ConnTimers::new(limits.header_read_timeout, limits.write_timeout);
    let io = TokioIo::new(TimedIo::new(stream, timers.clone(), session.clone()));
    let svc = {
        let (engine, session) = (engine.clone(), session.clone());
        service_fn(move |req| engine.clone().serve(req, session.clone(), timers.clone()))
    };
    let conn = builder.serve_connection_with_upgrades(io, svc).into_owned();
    if let Err(e) = graceful.watch(conn).await {
        tracing::debug!(peer = %peer, error = %e, "Client connection ended with an error.");
    }
    // HandleFinish, with the config current at close time.
    engine.live.current().chains.run_finish(&session);
}

/// Decrements the active-connection gauge however the connection ends.
struct ActiveConn(Arc<Engine>);

impl Drop for ActiveConn {
    fn drop(&mut self) {
        self.0.metrics.connections_active.dec();
    }
}
