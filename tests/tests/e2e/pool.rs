//! Backend connection reuse: one pooled connection carries exchanges of every shape, and a
//! connection the backend closed, or one idle past its timeout, is never used again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bfe_tests::raw::{get, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn sequential_exchanges_of_every_shape_reuse_one_backend_connection() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    let exchanges: [(&str, &str, &[u8], u16, usize); 6] = [
        ("GET", "/bytes/300000", b"", 200, 300_000),
        ("HEAD", "/bytes/10", b"", 200, 0),
        ("GET", "/status/204", b"", 204, 0),
        ("POST", "/echo", b"hello", 200, usize::MAX),
        ("GET", "/bytes/0", b"", 200, 0),
        ("GET", "/drip/3/5", b"", 200, 15),
    ];
    for (method, path, body, status, len) in exchanges {
        let res = request(proxy.addr, method, "a.test", path, &[], body).await;
        assert_eq!(res.status, status, "{method} {path}");
        if len != usize::MAX {
            assert_eq!(res.body.len(), len, "{method} {path}");
        }
    }
    assert_eq!(origin.hits.load(Ordering::SeqCst), 6);
    assert_eq!(
        origin.conns.load(Ordering::SeqCst),
        1,
        "every exchange went over the first backend connection"
    );
    proxy.shutdown().await;
}

/// A backend that answers one request per connection with keep-alive, then either closes
/// the connection after `close_after` or waits for the proxy to close it, recording when.
struct RawOrigin {
    addr: SocketAddr,
    conns: Arc<AtomicU64>,
    closed_by_proxy: Arc<tokio::sync::Notify>,
}

async fn raw_origin(close_after: Option<Duration>) -> RawOrigin {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(AtomicU64::new(0));
    let closed_by_proxy = Arc::new(tokio::sync::Notify::new());
    let (c, notify) = (conns.clone(), closed_by_proxy.clone());
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_one(s, close_after, notify.clone()));
        }
    });
    RawOrigin {
        addr,
        conns,
        closed_by_proxy,
    }
}

async fn serve_one(
    mut s: TcpStream,
    close_after: Option<Duration>,
    closed_by_proxy: Arc<tokio::sync::Notify>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        .await
        .is_err()
    {
        return;
    }
    match close_after {
        Some(d) => tokio::time::sleep(d).await,
        None => {
            if let Ok(0) = s.read(&mut buf).await {
                closed_by_proxy.notify_one();
            }
        }
    }
}

#[tokio::test]
async fn a_connection_the_backend_closed_while_idle_is_not_reused() {
    let origin = raw_origin(Some(Duration::from_millis(50))).await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    for _ in 0..3 {
        let res = get(proxy.addr, "a.test", "/").await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body_str(), "ok");
        // The backend closes the pooled connection meanwhile.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(origin.conns.load(Ordering::SeqCst), 3);
    proxy.shutdown().await;
}

#[tokio::test]
async fn an_idle_backend_connection_is_closed_after_the_pool_idle_timeout() {
    let origin = raw_origin(None).await;
    let extra = "    pool: { idle_timeout_ms: 300 }";
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], extra)).await;
    let res = get(proxy.addr, "a.test", "/").await;
    assert_eq!(res.status, 200);
    let idle_since = Instant::now();
    // The pool's sweep runs every 2 s: the connection goes within one sweep after 300 ms.
    tokio::time::timeout(Duration::from_secs(5), origin.closed_by_proxy.notified())
        .await
        .expect("the proxy closed its idle backend connection");
    assert!(idle_since.elapsed() >= Duration::from_millis(300));
    proxy.shutdown().await;
}
