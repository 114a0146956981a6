//! The floor under our data plane: hyper's HTTP/1.1 + h2c server and HTTP/1.1 client with a
//! pool of upstream connections, the same runtime and allocator, and nothing else: no
//! routing, no modules, no header hygiene, no metrics. `bench/run.sh` measures it beside the real proxy (`PROXIES=…
//! floor`), which tells how much of our CPU per request is the pipeline and how much is the
//! HTTP stack under it.
//!
//!     cargo run --release -p bfe-bench --example floor_proxy -- 127.0.0.1:19104 127.0.0.1:19080
//!
//! A third argument `inline` swaps hyper's client for a minimal HTTP/1.1 exchange driven inside
//! the request's own task (no connection task, no dispatch channel): what a proxy-specific
//! client could save. It handles only what the benchmark sends (body-less requests, responses
//! with Content-Length); it is a measurement, not a client.

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
type RawPool = Arc<Mutex<Vec<TcpStream>>>;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args();
    args.next(); // the program name
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:19104".into());
    let upstream = args.next().unwrap_or_else(|| "127.0.0.1:19080".into());
    let inline = args.next().is_some_and(|a| a == "inline");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(listen, upstream, inline))
}

async fn serve(listen: String, upstream: String, inline: bool) -> std::io::Result<()> {
    let listener = TcpListener::bind(&listen).await?;
    let pool: Pool = Arc::default();
    let raw: RawPool = Arc::default();
    let upstream: Arc<str> = upstream.into();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (pool, raw, upstream) = (pool.clone(), raw.clone(), upstream.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let (pool, raw, upstream) = (pool.clone(), raw.clone(), upstream.clone());
                async move {
                    if inline {
                        forward_inline(req, raw, upstream).await
                    } else {
                        forward(req, pool, upstream).await
                    }
                }
            });
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

/// One exchange on a pooled raw connection, inside the calling task.
async fn forward_inline(
    req: Request<Incoming>,
    pool: RawPool,
    upstream: Arc<str>,
) -> Result<Response<Body>, Infallible> {
    use std::io::Write as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let pooled = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let mut stream = match pooled {
        Some(s) => s,
        None => match TcpStream::connect(&*upstream).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                s
            }
            Err(_) => return Ok(bad_gateway()),
        },
    };
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut head = Vec::with_capacity(512);
    let _ = write!(head, "{} {pq} HTTP/1.1\r\n", req.method());
    if !req.headers().contains_key(hyper::header::HOST)
        && let Some(a) = req.uri().authority()
    {
        let _ = write!(head, "host: {a}\r\n");
    }
    for (name, value) in req.headers() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    if stream.write_all(&head).await.is_err() {
        return Ok(bad_gateway());
    }
    let mut buf = bytes::BytesMut::with_capacity(8192);
    let (status, headers, head_len) = loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return Ok(bad_gateway()),
            Ok(_) => {}
        }
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let mut map = hyper::HeaderMap::with_capacity(parsed.headers.len());
                for h in parsed.headers.iter() {
                    if let (Ok(k), Ok(v)) = (
                        hyper::header::HeaderName::from_bytes(h.name.as_bytes()),
                        hyper::header::HeaderValue::from_bytes(h.value),
                    ) {
                        map.append(k, v);
                    }
                }
                break (parsed.code.unwrap_or(502), map, n);
            }
            Ok(httparse::Status::Partial) => continue,
            Err(_) => return Ok(bad_gateway()),
        }
    };
    let Some(length) = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return Ok(bad_gateway());
    };
    let _ = buf.split_to(head_len);
    let mut res = Response::new(
        RawBody {
            stream: Some(stream),
            pool,
            have: buf,
            remaining: length,
        }
        .boxed(),
    );
    *res.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    *res.headers_mut() = headers;
    Ok(res)
}

/// A Content-Length body read straight from the backend socket; the socket returns to the pool
/// when the body is complete.
struct RawBody {
    stream: Option<TcpStream>,
    pool: RawPool,
    have: bytes::BytesMut,
    remaining: u64,
}

impl hyper::body::Body for RawBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, hyper::Error>>> {
        use std::task::Poll;
        let this = &mut *self;
        loop {
            if this.remaining == 0 {
                if let Some(s) = this.stream.take() {
                    this.pool.lock().unwrap_or_else(|p| p.into_inner()).push(s);
                }
                return Poll::Ready(None);
            }
            if !this.have.is_empty() {
                let n = this
                    .have
                    .len()
                    .min(usize::try_from(this.remaining).unwrap_or(usize::MAX));
                this.remaining -= n as u64;
                let chunk = this.have.split_to(n).freeze();
                if this.remaining == 0
                    && let Some(s) = this.stream.take()
                {
                    this.pool.lock().unwrap_or_else(|p| p.into_inner()).push(s);
                }
                return Poll::Ready(Some(Ok(hyper::body::Frame::data(chunk))));
            }
            let Some(stream) = this.stream.as_mut() else {
                return Poll::Ready(None);
            };
            let mut chunk = [0u8; 16 * 1024];
            let mut rb = tokio::io::ReadBuf::new(&mut chunk);
            match tokio::io::AsyncRead::poll_read(std::pin::Pin::new(stream), cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                    this.stream = None;
                    return Poll::Ready(None);
                }
                Poll::Ready(Ok(())) => this.have.extend_from_slice(rb.filled()),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }
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
