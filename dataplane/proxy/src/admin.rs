//! The local admin listener: /healthz, /readyz, /metrics, /config.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::live::Live;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Admin {
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    /// True once shutdown began: /readyz turns 503 so balancers in front stop sending.
    pub draining: watch::Receiver<bool>,
}

pub async fn serve(listener: TcpListener, admin: Admin, mut stop: watch::Receiver<bool>) {
    loop {
        let (stream, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(_) => continue,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let admin = admin.clone();
                async move { Ok::<_, Infallible>(admin.handle(&req)) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

impl Admin {
    fn handle(&self, req: &Request<Incoming>) -> Response<Full<Bytes>> {
        if req.method() != Method::GET {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed\n",
                "text/plain",
            );
        }
        match req.uri().path() {
            "/healthz" => text(StatusCode::OK, "ok\n", "text/plain"),
            "/readyz" if *self.draining.borrow() => {
                text(StatusCode::SERVICE_UNAVAILABLE, "draining\n", "text/plain")
            }
            "/readyz" if !self.live.is_ready() => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "no config yet\n",
                "text/plain",
            ),
            "/readyz" => text(StatusCode::OK, "ready\n", "text/plain"),
            "/metrics" => {
                self.metrics.set_backends(&self.live.health().snapshot());
                text(
                    StatusCode::OK,
                    self.metrics.encode(),
                    "text/plain; version=0.0.4; charset=utf-8",
                )
            }
            "/config" => {
                let active = self.live.current();
                let body = serde_json::json!({
                    "generation": active.generation,
                    "version": active.version,
                    "hash": active.snapshot.hash,
                    "label": active.snapshot.label(),
                    "tenants": active.snapshot.tenants.len(),
                    "clusters": active.snapshot.clusters.len(),
                });
                text(StatusCode::OK, body.to_string(), "application/json")
            }
            _ => text(StatusCode::NOT_FOUND, "not found\n", "text/plain"),
        }
    }
}

fn text(
    status: StatusCode,
    body: impl Into<Bytes>,
    content_type: &'static str,
) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    res
}
