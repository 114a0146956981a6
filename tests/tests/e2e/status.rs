//! Real status codes (README.md, "Status codes"): 404 no tenant/route, 502 backend error, 503 shed, 504
//! backend timeout, 413/414/431 for oversized client input; retries on connect failure.

use std::time::Duration;

use bfe_dataplane::settings::Limits;
use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bfe_tests::raw::{exchange, get, parse_responses, request};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// An address where nothing listens (bound, then released).
async fn dead_addr() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

#[tokio::test]
async fn no_tenant_and_no_route_are_404() {
    let origin = Origin::start("o").await;
    let config = format!(
        r#"
tenants:
  - name: t
    hosts: ["a.test"]
    routes:
      basic: [{{ hosts: ["a.test"], paths: ["/only/*"], cluster: c }}]
clusters:
  - {{ name: c, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{}" }}] }}] }}
"#,
        origin.addr
    );
    let proxy = TestProxy::start(&config).await;
    assert_eq!(get(proxy.addr, "a.test", "/only/x").await.status, 200);
    let r = get(proxy.addr, "unknown.test", "/only/x").await;
    assert_eq!(r.status, 404, "no tenant");
    assert_eq!(
        get(proxy.addr, "a.test", "/elsewhere").await.status,
        404,
        "no route"
    );
    assert_eq!(origin.hits(), 1);
    proxy.shutdown().await;
}

#[tokio::test]
async fn connect_failures_are_retried_then_502() {
    let origin = Origin::start("alive").await;
    let dead = dead_addr().await;
    let proxy = TestProxy::start(&simple_config(
        &["a.test"],
        &[dead, origin.addr],
        "    retry: { max: 2 }",
    ))
    .await;
    for _ in 0..10 {
        let r = get(proxy.addr, "a.test", "/").await;
        assert_eq!(r.status, 200, "the dead backend is skipped by a retry");
        assert_eq!(r.json()["backend"], "alive");
    }
    proxy.shutdown().await;

    let proxy = TestProxy::start(&simple_config(&["a.test"], &[dead], "")).await;
    let r = get(proxy.addr, "a.test", "/").await;
    assert_eq!(r.status, 502);
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_backend_closing_without_a_response_is_502() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(b"HTTP/1.1 2").await;
            drop(s);
        }
    });
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[addr], "")).await;
    assert_eq!(get(proxy.addr, "a.test", "/").await.status, 502);
    proxy.shutdown().await;
}

#[tokio::test]
async fn blackhole_share_is_503() {
    let origin = Origin::start("o").await;
    let config = format!(
        r#"
tenants:
  - {{ name: t, hosts: ["a.test"], routes: {{ advanced: [{{ condition: "default_t()", cluster: c }}] }} }}
clusters:
  - name: c
    sub_clusters:
      - {{ name: s, weight: 1, backends: [{{ addr: "{}" }}] }}
      - {{ name: GSLB_BLACKHOLE, weight: 1000000 }}
"#,
        origin.addr
    );
    let proxy = TestProxy::start(&config).await;
    let r = get(proxy.addr, "a.test", "/").await;
    assert_eq!(r.status, 503);
    assert_eq!(origin.hits(), 0);
    proxy.shutdown().await;
}

#[tokio::test]
async fn oversized_client_input_gets_413_414_431() {
    let origin = Origin::start("o").await;
    let limits = Limits {
        max_header_bytes: 16 * 1024,
        max_uri_bytes: 1024,
        ..Limits::default()
    };
    let proxy = TestProxy::start_with(
        &simple_config(
            &["a.test"],
            &[origin.addr],
            "    max_request_body_bytes: 100",
        ),
        limits,
    )
    .await;
    let r = request(proxy.addr, "POST", "a.test", "/", &[], &[b'x'; 101]).await;
    assert_eq!(r.status, 413, "declared length over the limit");
    let r = request(proxy.addr, "POST", "a.test", "/", &[], &[b'x'; 100]).await;
    assert_eq!(r.status, 200, "at the limit");

    // A chunked body that grows past the limit is cut off with 413 too.
    let mut chunked =
        b"POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        chunked.extend_from_slice(b"40\r\n");
        chunked.extend_from_slice(&[b'y'; 64]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (out, closed) = exchange(proxy.addr, &chunked, Duration::from_secs(2)).await;
    let rs = parse_responses(&out);
    assert_eq!(
        rs.first().map(|r| r.status),
        Some(413),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(closed);

    let long = format!("/{}", "a".repeat(2000));
    assert_eq!(get(proxy.addr, "a.test", &long).await.status, 414);
    let big = "b".repeat(20 * 1024);
    let r = request(proxy.addr, "GET", "a.test", "/", &[("X-Big", &big)], b"").await;
    assert_eq!(r.status, 431);
    proxy.shutdown().await;
}
