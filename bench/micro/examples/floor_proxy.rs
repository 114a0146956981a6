//! The floor under our data plane: hyper's HTTP/1.1 + h2c server and HTTP/1.1 client with a
//! pool of upstream connections, the same runtime and allocator, and nothing else: no
//! routing, no modules, no header hygiene, no metrics. `bench/run.sh` measures it beside the real proxy (`PROXIES=…
//! floor`), which tells how much of our CPU per request is the pipeline and how much is the
//! HTTP stack under it.
//!
//!     cargo run --release -p bfe-bench --example floor_proxy -- 127.0.0.1:19104 127.0.0.1:19080

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::client::conn::http1 as client;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};

type Body = BoxBody<Bytes, hyper::Error>;
type Pool = Arc<Mutex<Vec<client::SendRequest<Incoming>>>>;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:19104".into());
    let upstream = args.next().unwrap_or_else(|| "127.0.0.1:19080".into());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(listen, upstream))
}

async fn serve(listen: String, upstream: String) -> std::io::Result<()> {
    let listener = TcpListener::bind(&listen).await?;
    let pool: Pool = Arc::default();
    let upstream: Arc<str> = upstream.into();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (pool, upstream) = (pool.clone(), upstream.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req| forward(req, pool.clone(), upstream.clone()));
            // HTTP/1.1, or HTTP/2 with prior knowledge, as the proxy's cleartext listener.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn forward(
    mut req: Request<Incoming>,
    pool: Pool,
    upstream: Arc<str>,
) -> Result<Response<Body>, Infallible> {
    // HTTP/2 → HTTP/1.1: the least a proxy must do is an origin-form target and a Host.
    if req.version() == hyper::Version::HTTP_2 {
        if let Some(host) = req
            .uri()
            .authority()
            .and_then(|a| hyper::header::HeaderValue::from_str(a.as_str()).ok())
        {
            req.headers_mut().insert(hyper::header::HOST, host);
        }
        let pq = req.uri().path_and_query().cloned();
        let mut parts = hyper::http::uri::Parts::default();
        parts.path_and_query = pq;
        if let Ok(uri) = hyper::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
        *req.version_mut() = hyper::Version::HTTP_11;
    }
    let pooled = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let mut sender = match pooled {
        Some(s) if !s.is_closed() => s,
        _ => match connect(&upstream).await {
            Some(s) => s,
            None => return Ok(bad_gateway()),
        },
    };
    if sender.ready().await.is_err() {
        return Ok(bad_gateway());
    }
    match sender.send_request(req).await {
        Ok(res) => Ok(res.map(|inner| {
            let mut body = Checkin {
                inner,
                back: Some((pool, sender)),
            };
            if body.inner.is_end_stream() {
                body.release();
            }
            body.boxed()
        })),
        Err(_) => Ok(bad_gateway()),
    }
}

async fn connect(addr: &str) -> Option<client::SendRequest<Incoming>> {
    let stream = TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = client::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(conn);
    Some(sender)
}

/// The response body; its connection goes back to the pool when it ends (as in the proxy).
struct Checkin {
    inner: Incoming,
    back: Option<(Pool, client::SendRequest<Incoming>)>,
}

impl Checkin {
    fn release(&mut self) {
        if let Some((pool, sender)) = self.back.take() {
            pool.lock().unwrap_or_else(|p| p.into_inner()).push(sender);
        }
    }
}

impl hyper::body::Body for Checkin {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, hyper::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(None) = polled {
            self.release();
        } else if self.inner.is_end_stream() {
            self.release();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

fn bad_gateway() -> Response<Body> {
    let mut res = Response::new(Full::new(Bytes::new()).map_err(|e| match e {}).boxed());
    *res.status_mut() = hyper::StatusCode::BAD_GATEWAY;
    res
}
