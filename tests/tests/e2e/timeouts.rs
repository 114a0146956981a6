//! Every timeout ends in its status: connect → 504, response header → 504, client body → 408,
//! keep-alive idle and header read → connection closed, slow reader → connection closed.

use std::time::{Duration, Instant};

use bfe_dataplane::settings::Limits;
use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bfe_tests::raw::{exchange, get, parse_responses, read_until_quiet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const FAST: &str = "    timeouts: { connect_ms: 300, response_header_ms: 300, read_client_body_ms: 300, write_client_ms: 300, keepalive_idle_ms: 300 }";

#[tokio::test]
async fn backend_connect_timeout_is_504() {
    // A listener that never accepts, its queue filled: further SYNs are dropped.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_millis(100), TcpStream::connect(addr)).await
        {
            fillers.push(s);
        }
    }
    let proxy = TestProxy::start(&simple_config(
        &["a.test"],
        &[addr],
        &format!("{FAST}\n    retry: {{ max: 0 }}"),
    ))
    .await;
    let started = Instant::now();
    let r = get(proxy.addr, "a.test", "/").await;
    assert_eq!(r.status, 504);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by connect_ms"
    );
    drop(listener);
    proxy.shutdown().await;
}

#[tokio::test]
async fn backend_response_header_timeout_is_504() {
    let origin = Origin::start("slow").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], FAST)).await;
    let started = Instant::now();
    assert_eq!(get(proxy.addr, "a.test", "/delay/3000").await.status, 504);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(get(proxy.addr, "a.test", "/delay/10").await.status, 200);
    proxy.shutdown().await;
}

/// A pooled backend connection keeps one timer across its exchanges: each exchange still gets
/// its whole response-header timeout, counted from its own start.
#[tokio::test]
async fn each_exchange_on_a_pooled_backend_connection_gets_its_own_response_timeout() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], FAST)).await;
    assert_eq!(get(proxy.addr, "a.test", "/delay/10").await.status, 200);
    // The first exchange's deadline (300 ms after it started) passes during the second one,
    // which needs 200 of its own 300 ms.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(get(proxy.addr, "a.test", "/delay/200").await.status, 200);
    let started = Instant::now();
    assert_eq!(get(proxy.addr, "a.test", "/delay/3000").await.status, 504);
    assert_cut_at_the_timeout(started.elapsed());
    proxy.shutdown().await;
}

/// Over an HTTP/2 backend each stream has its own response timer: a slow stream is cut off
/// at the timeout while a quick one on the same connection is answered.
#[tokio::test]
async fn response_header_timeout_over_an_h2c_backend_is_504_per_stream() {
    // The origin speaks HTTP/2 with prior knowledge too.
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(
        &["a.test"],
        &[origin.addr],
        &format!("{FAST}\n    protocol: h2c\n    retry: {{ max: 0 }}"),
    ))
    .await;
    let first = get(proxy.addr, "a.test", "/").await;
    assert_eq!(
        first.json()["version"],
        "HTTP/2.0",
        "the exchange went over HTTP/2"
    );
    let started = Instant::now();
    let (slow, quick) = tokio::join!(get(proxy.addr, "a.test", "/delay/3000"), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        get(proxy.addr, "a.test", "/delay/10").await
    });
    assert_eq!(slow.status, 504);
    assert_eq!(quick.status, 200);
    assert_cut_at_the_timeout(started.elapsed());
    proxy.shutdown().await;
}

#[tokio::test]
async fn slow_client_body_is_408() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], FAST)).await;
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .unwrap();
    let (out, closed) = read_until_quiet(&mut s, Duration::from_secs(3)).await;
    let rs = parse_responses(&out);
    assert_eq!(
        rs.first().map(|r| r.status),
        Some(408),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(closed, "the connection is out of sync and must close");
    proxy.shutdown().await;
}

#[tokio::test]
async fn idle_keepalive_connection_is_closed_after_the_cluster_idle_timeout() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], FAST)).await;
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        .await
        .unwrap();
    let (out, closed) = read_until_quiet(&mut s, Duration::from_millis(200)).await;
    assert_eq!(parse_responses(&out).len(), 1);
    assert!(!closed, "kept alive after the response");
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(n, Ok(0) | Err(_)), "closed, not answered: {n:?}");
    let idle = started.elapsed();
    assert!(
        idle < Duration::from_millis(1500),
        "closed after ~300 ms idle, took {idle:?}"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn incomplete_request_head_is_dropped_after_the_header_timeout() {
    let (origin, proxy) = with_header_timeout(300).await;
    let started = Instant::now();
    let (out, closed) = exchange(
        proxy.addr,
        b"GET / HTTP/1.1\r\nHost: a.te",
        Duration::from_secs(3),
    )
    .await;
    assert!(closed, "slowloris connection closed");
    assert!(started.elapsed() < Duration::from_secs(2));
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    assert_eq!(origin.hits(), 0);
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_head_trickled_byte_by_byte_is_cut_off_at_the_header_timeout() {
    let (origin, proxy) = with_header_timeout(400).await;
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    let started = Instant::now();
    // One byte every 50 ms: each read succeeds, but the head would take 2.5 s.
    let head = b"GET / HTTP/1.1\r\nHost: a.test\r\nX-Slow: aaaaaaaaaaaa\r\n\r\n";
    let mut cut_off = None;
    for b in head {
        if s.write_all(&[*b]).await.is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                cut_off = Some(started.elapsed());
                break;
            }
            Ok(Ok(_)) if buf.starts_with(b"HTTP/1.1 408") => {
                cut_off = Some(started.elapsed());
                break;
            }
            Ok(Ok(n)) => panic!("answered: {}", String::from_utf8_lossy(&buf[..n])),
            Err(_) => {}
        }
    }
    let cut_off = cut_off.expect("the trickled head was read to its end");
    assert!(
        cut_off >= Duration::from_millis(300) && cut_off < Duration::from_millis(2000),
        "closed ~400 ms after the connection opened (the whole head takes 2.7 s), took {cut_off:?}"
    );
    assert_eq!(origin.hits(), 0);
    proxy.shutdown().await;
}

#[tokio::test]
async fn each_request_restarts_the_wait_for_the_next_head() {
    let (origin, proxy) = with_header_timeout(400).await;
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    // Five requests 250 ms apart: together far past the timeout, each wait well within it.
    for i in 0..5 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            .await
            .unwrap();
        let (out, closed) = read_until_quiet(&mut s, Duration::from_millis(150)).await;
        assert_eq!(parse_responses(&out).len(), 1, "request {i}");
        assert!(!closed, "request {i}: kept alive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(origin.hits(), 5);
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_by_the_write_timeout() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], FAST)).await;
    let total = 64 * 1024 * 1024;
    let mut s = TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(format!("GET /bytes/{total} HTTP/1.1\r\nHost: a.test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    // Read nothing while the proxy's writes stall, well past write_client_ms.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
            Err(_) => panic!("neither data nor close within 2 s"),
        }
        assert!(
            Instant::now() < deadline,
            "connection still open after 10 s"
        );
    }
    assert!(
        got < total,
        "the proxy gave up on the slow reader ({got} of {total} bytes)"
    );
    proxy.shutdown().await;
}

/// `waited` is about `FAST`'s 300 ms response-header timeout.
fn assert_cut_at_the_timeout(waited: Duration) {
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
        "timed out after {waited:?}, not ~300 ms"
    );
}

/// An origin and a proxy to it whose header read timeout is `ms`.
async fn with_header_timeout(ms: u64) -> (Origin, TestProxy) {
    let origin = Origin::start("o").await;
    let limits = Limits {
        header_read_timeout: Duration::from_millis(ms),
        ..Limits::default()
    };
    let proxy =
        TestProxy::start_with(&simple_config(&["a.test"], &[origin.addr], ""), limits).await;
    (origin, proxy)
}
