//! Cleartext HTTP/2 (prior knowledge) through the same pipeline: hyper's client and curl.

use std::time::Duration;

use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

async fn h2_client(addr: std::net::SocketAddr) -> http2::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

fn req(
    method: &str,
    authority: &str,
    path: &str,
    body: &'static [u8],
) -> http::Request<Full<Bytes>> {
    http::Request::builder()
        .method(method)
        .uri(format!("http://{authority}{path}"))
        .body(Full::new(Bytes::from_static(body)))
        .unwrap()
}

/// Sends `req` on its own stream from a task of its own: the status and the whole body,
/// within 20 s.
fn exchange(
    sender: &http2::SendRequest<Full<Bytes>>,
    req: http::Request<Full<Bytes>>,
) -> tokio::task::JoinHandle<(http::StatusCode, Bytes)> {
    let mut s = sender.clone();
    tokio::spawn(async move {
        let whole = async {
            s.ready().await.unwrap();
            let res = s.send_request(req).await.unwrap();
            let status = res.status();
            (status, res.into_body().collect().await.unwrap().to_bytes())
        };
        tokio::time::timeout(Duration::from_secs(20), whole)
            .await
            .expect("the exchange finished in time")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_h2_streams_run_through_the_pipeline() {
    let origin = Origin::start("h1-origin").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    let sender = h2_client(proxy.addr).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let post = req("POST", "a.test", &format!("/s{i}"), b"0123456789");
        tasks.push((i, exchange(&sender, post)));
    }
    for (i, t) in tasks {
        let (status, body) = t.await.unwrap();
        let echo = serde_json::from_slice::<serde_json::Value>(&body).unwrap();
        assert_eq!(status, 200);
        assert_eq!(echo["path"], format!("/s{i}"));
        assert_eq!(echo["body_len"], 10);
        assert_eq!(
            echo["headers"]["host"], "a.test",
            ":authority becomes Host for an HTTP/1.1 backend"
        );
        assert_eq!(echo["version"], "HTTP/1.1");
    }
    // Routing works on :authority too: an unknown authority is a 404 over HTTP/2.
    let mut s = sender.clone();
    let res = s
        .send_request(req("GET", "nobody.test", "/", b""))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_and_trickling_h2_streams_arrive_whole() {
    let origin = Origin::start("h1-origin").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    let sender = h2_client(proxy.addr).await;
    big_beside_trickling(&sender, |path| req("GET", "a.test", path, b"")).await;
    proxy.shutdown().await;
}

/// Large bodies on many streams at once (the proxy coalesces an HTTP/2 connection's writes
/// and sends them past its buffer's size directly), beside a stream that trickles small
/// chunks: every body arrives whole and in its own stream, and no chunk waits for more.
/// `get` makes the GET request for a path. (The TLS tests use it too.)
pub(crate) async fn big_beside_trickling(
    sender: &http2::SendRequest<Full<Bytes>>,
    get: impl Fn(&str) -> http::Request<Full<Bytes>>,
) {
    let drip = exchange(sender, get("/drip/5/30"));
    let tasks: Vec<_> = (0..16usize)
        .map(|i| {
            let len = 200_000 + i * 7_001;
            (len, exchange(sender, get(&format!("/bytes/{len}"))))
        })
        .collect();
    for (len, t) in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body.len(), len);
        assert!(body.iter().all(|b| *b == b'x'));
    }
    let (status, dripped) = drip.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(&dripped[..], b"drip\n".repeat(5).as_slice());
}

#[tokio::test]
async fn curl_speaks_h2_prior_knowledge_to_the_proxy() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["localhost"], &[origin.addr], "")).await;
    let url = format!("http://localhost:{}/curl", proxy.addr.port());
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "--http2-prior-knowledge",
            "-o",
            "-",
            "-w",
            "\n%{http_version} %{http_code}",
            "--max-time",
            "10",
            "--connect-to",
        ])
        .arg(format!("localhost:{}:{}", proxy.addr.port(), proxy.addr))
        .arg(&url)
        .output()
        .await
        .expect("curl is installed (.ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("\n2 200"), "curl output: {text}");
    assert!(text.contains("\"path\":\"/curl\""), "{text}");
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_goaway_and_lets_the_open_stream_finish() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    let mut sender = h2_client(proxy.addr).await;
    let slow = {
        let mut s = sender.clone();
        tokio::spawn(async move {
            s.send_request(req("GET", "a.test", "/delay/600", b""))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let shutdown = tokio::spawn(proxy.shutdown());
    let res = tokio::time::timeout(Duration::from_secs(5), slow)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(res.status(), 200, "the in-flight stream completes");
    tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .unwrap()
        .unwrap();
    // After GOAWAY the connection takes no new streams.
    let after = tokio::time::timeout(Duration::from_secs(2), async {
        sender.ready().await?;
        sender.send_request(req("GET", "a.test", "/", b"")).await
    })
    .await
    .unwrap();
    assert!(after.is_err(), "new stream refused after GOAWAY: {after:?}");
}
