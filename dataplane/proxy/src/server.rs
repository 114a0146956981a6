//! Listeners and connections: accept, HandleAccept, serve HTTP/1.1 or HTTP/2 (prior knowledge)
//! through hyper, HandleFinish at close, and graceful drain on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::http::timed_io::{ConnTimers, TimedIo};
use crate::pipeline::{ConnDecision, ConnPhase, Engine, Session};

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

/// Accepts on `listener` until draining starts.
pub async fn accept_loop(
    listener: TcpListener,
    engine: Arc<Engine>,
    drain: Drain,
    ids: Arc<AtomicU64>,
) {
    let mut stop = drain.draining.clone();
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
        let drain = drain.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, id, engine, &builder, drain).await;
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
    mut drain: Drain,
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
    let conn = builder.serve_connection_with_upgrades(io, svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = until_true(&mut drain.draining) => {
            // HTTP/1: close after the in-flight response; HTTP/2: GOAWAY, finish open streams.
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                r = conn.as_mut() => r,
                () = until_true(&mut drain.abort) => Ok(()),
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(peer = %peer, error = %e, "Client connection ended with an error.");
    }
    drop(drain.alive);
    // HandleFinish, with the config current at close time.
    engine.live.current().chains.run_finish(&session);
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
