//! Process-level behaviour in-process: admin endpoints, metrics that count what was served,
//! the access log, and graceful drain of HTTP/1.1.

use std::time::Duration;

use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bfe_tests::raw::{get, parse_responses, read_until_quiet};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn admin_endpoints_report_health_config_and_counted_metrics() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    for _ in 0..7 {
        assert_eq!(get(proxy.addr, "a.test", "/").await.status, 200);
    }
    for _ in 0..3 {
        assert_eq!(get(proxy.addr, "nobody.test", "/").await.status, 404);
    }
    assert_eq!(get(proxy.admin, "x", "/healthz").await.status, 200);
    assert_eq!(get(proxy.admin, "x", "/readyz").await.status, 200);
    let config = get(proxy.admin, "x", "/config").await.json();
    assert_eq!(config["generation"], 1);
    assert_eq!(config["hash"].as_str().map(str::len), Some(64));
    let metrics = get(proxy.admin, "x", "/metrics").await.body_str();
    assert!(
        metrics.contains(r#"bfe_requests_total{tenant="t",cluster="c",status_class="2xx"} 7"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"bfe_requests_total{tenant="-",cluster="-",status_class="4xx"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"bfe_request_errors_total{code="BK_FIND_PRODUCT"} 3"#),
        "{metrics}"
    );
    assert!(metrics.contains("bfe_config_generation 1"), "{metrics}");
    assert!(
        metrics.contains("bfe_request_duration_seconds_count{tenant=\"t\"} 7"),
        "{metrics}"
    );
    assert!(metrics.contains("bfe_connections_active"), "{metrics}");
    assert_eq!(get(proxy.admin, "x", "/nope").await.status, 404);
    proxy.shutdown().await;
}

#[tokio::test]
async fn the_access_log_writes_one_json_line_per_request() {
    let origin = Origin::start("o").await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let extra = format!(
        "modules:\n  access_log: {{ enabled: true, format: json, target: \"{}\" }}",
        log.display()
    );
    let config = simple_config(&["a.test"], &[origin.addr], "") + &extra;
    let proxy = TestProxy::start(&config).await;
    for i in 0..5 {
        get(proxy.addr, "a.test", &format!("/log/{i}?q=1")).await;
    }
    get(proxy.addr, "nobody.test", "/missing").await;
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if lines.len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(lines.len(), 6, "{lines:?}");
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["uri"], "/log/0?q=1");
    assert_eq!(first["status"], 200);
    assert_eq!(first["tenant"], "t");
    assert_eq!(first["cluster"], "c");
    assert_eq!(first["backend"], origin.addr.to_string());
    assert_eq!(first["attempts"], 1);
    assert_eq!(first["tried"], serde_json::json!([origin.addr.to_string()]));
    assert!(first["response_bytes"].as_u64().unwrap() > 0);
    let last: serde_json::Value = serde_json::from_str(&lines[5]).unwrap();
    assert_eq!(last["status"], 404);
    assert_eq!(last["error"], "BK_FIND_PRODUCT");
    assert!(last["tenant"].is_null());
    proxy.shutdown().await;

    // The combined format: NCSA fields in order.
    let log2 = dir.path().join("combined.log");
    let config = simple_config(&["a.test"], &[origin.addr], "")
        + &format!(
            "modules:\n  access_log: {{ enabled: true, format: combined, target: \"{}\" }}",
            log2.display()
        );
    let proxy = TestProxy::start(&config).await;
    bfe_tests::raw::request(
        proxy.addr,
        "GET",
        "a.test",
        "/c",
        &[("User-Agent", "ua/1"), ("Referer", "http://r/")],
        b"",
    )
    .await;
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log2).unwrap_or_default();
        if !text.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(text.starts_with("127.0.0.1 - - ["), "{text}");
    assert!(text.contains("] \"GET /c HTTP/1.1\" 200 "), "{text}");
    assert!(
        text.trim_end().ends_with("\"http://r/\" \"ua/1\""),
        "{text}"
    );
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_http1_with_connection_close() {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    let addr = proxy.addr;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /delay/600 HTTP/1.1\r\nHost: a.test\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let shutdown = tokio::spawn(proxy.shutdown());
    let (out, closed) = read_until_quiet(&mut s, Duration::from_secs(5)).await;
    let rs = parse_responses(&out);
    assert_eq!(rs.len(), 1, "{}", String::from_utf8_lossy(&out));
    assert_eq!(rs[0].status, 200);
    assert_eq!(rs[0].header("connection"), Some("close"));
    assert!(closed);
    tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}
