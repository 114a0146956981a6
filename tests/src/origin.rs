//! A programmable origin server on 127.0.0.1:0.
//!
//! Paths: `/delay/{ms}/...` waits before the response head; `/status/{code}` answers that
//! status; `/bytes/{n}` sends n bytes; `/drip/{n}/{ms}` sends n chunks ms apart; anything else
//! echoes the request as JSON: `{backend, method, path, query, version, headers, body_len}`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Body = BoxBody<Bytes, Infallible>;

/// A running origin; stops when dropped (or `kill`ed: every connection reset at once).
pub struct Origin {
    pub addr: SocketAddr,
    pub name: String,
    /// Requests served so far.
    pub hits: Arc<AtomicU64>,
    /// Connections accepted so far.
    pub conns: Arc<AtomicU64>,
    knobs: Arc<Knobs>,
    task: JoinHandle<()>,
}

/// Behaviour that tests change while the origin runs.
#[derive(Default)]
struct Knobs {
    /// Extra delay before every response head, in ms.
    delay_ms: AtomicU64,
    /// Status of `/health_check` (0 = 200).
    health_status: AtomicU64,
    killed: tokio::sync::Notify,
}

impl Origin {
    pub async fn start(name: &str) -> Self {
        Self::bind("127.0.0.1:0".parse().expect("literal address"), name).await
    }

    /// An origin named `o{i}`.
    pub async fn start_named(i: usize) -> Self {
        Self::start(&format!("o{i}")).await
    }

    pub async fn bind(addr: SocketAddr, name: &str) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind origin");
        let addr = listener.local_addr().expect("origin addr");
        let hits = Arc::new(AtomicU64::new(0));
        let conns = Arc::new(AtomicU64::new(0));
        let knobs = Arc::new(Knobs::default());
        let (h, c, n, k) = (hits.clone(), conns.clone(), name.to_owned(), knobs.clone());
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    () = k.killed.notified() => {
                        // Drop the listener and reset every open connection.
                        conns.abort_all();
                        return;
                    }
                };
                let Ok((stream, _)) = accepted else { continue };
                c.fetch_add(1, Ordering::Relaxed);
                let (h, n, k) = (h.clone(), n.clone(), k.clone());
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        h.fetch_add(1, Ordering::Relaxed);
                        handle(req, n.clone(), k.clone())
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Self {
            addr,
            name: name.to_owned(),
            hits,
            conns,
            knobs,
            task,
        }
    }

    /// Adds `ms` of latency before every response head.
    pub fn set_delay(&self, ms: u64) {
        self.knobs.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Makes `/health_check` answer `status`.
    pub fn set_health_status(&self, status: u16) {
        self.knobs
            .health_status
            .store(u64::from(status), Ordering::Relaxed);
    }

    /// Stops listening and resets every open connection, like a crashed process.
    pub fn kill(&self) {
        self.knobs.killed.notify_one();
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    r
}

async fn handle(
    req: Request<Incoming>,
    name: String,
    knobs: Arc<Knobs>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    if path == "/health_check" {
        let code = knobs.health_status.load(Ordering::Relaxed);
        let status =
            StatusCode::from_u16(u16::try_from(code).unwrap_or(200)).unwrap_or(StatusCode::OK);
        return Ok(full(status, "health\n"));
    }
    let delay = knobs.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut segs = path.trim_start_matches('/').split('/');
    match segs.next() {
        Some("delay") => {
            let ms = segs.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Some("status") => {
            let code = segs.next().and_then(|s| s.parse().ok()).unwrap_or(200);
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
            return Ok(full(status, format!("status {code} from {name}\n")));
        }
        Some("bytes") => {
            let n = segs.next().and_then(|s| s.parse().ok()).unwrap_or(0usize);
            return Ok(full(StatusCode::OK, vec![b'x'; n]));
        }
        Some("drip") => {
            let n: usize = segs.next().and_then(|s| s.parse().ok()).unwrap_or(1);
            let ms: u64 = segs.next().and_then(|s| s.parse().ok()).unwrap_or(10);
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
            tokio::spawn(async move {
                for _ in 0..n {
                    if tx
                        .send(Ok(Frame::data(Bytes::from_static(b"drip\n"))))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            });
            let stream = tokio_stream_from(rx);
            return Ok(Response::new(BodyExt::boxed(StreamBody::new(stream))));
        }
        _ => {}
    }
    let method = req.method().to_string();
    let query = req.uri().query().unwrap_or("").to_owned();
    let version = format!("{:?}", req.version());
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into(),
            )
        })
        .collect();
    let body_len = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().len(),
        Err(_) => return Ok(full(StatusCode::BAD_REQUEST, "bad body\n")),
    };
    let echo = serde_json::json!({
        "backend": name,
        "method": method,
        "path": path,
        "query": query,
        "version": version,
        "headers": headers,
        "body_len": body_len,
    });
    let mut r = full(StatusCode::OK, echo.to_string());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// An mpsc receiver as a `Stream` of frames, without pulling in tokio-stream.
fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, Infallible>>,
) -> impl futures_core::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send + Sync + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
