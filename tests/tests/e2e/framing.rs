//! Request framing at the client edge: every smuggling vector refused (or neutralised as RFC
//! 9112 requires) and the connection closed; pipelining and 100-continue answered correctly.

use std::time::Duration;

use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bfe_tests::raw::{exchange, parse_responses};

async fn setup() -> (Origin, TestProxy) {
    let origin = Origin::start("o").await;
    let proxy = TestProxy::start(&simple_config(&["a.test"], &[origin.addr], "")).await;
    (origin, proxy)
}

/// Sends raw bytes; returns the responses and whether the proxy closed the connection.
async fn send(proxy: &TestProxy, bytes: &[u8]) -> (Vec<bfe_tests::raw::RawResponse>, bool) {
    let (out, closed) = exchange(proxy.addr, bytes, Duration::from_millis(1500)).await;
    (parse_responses(&out), closed)
}

#[tokio::test]
async fn ambiguous_or_malformed_framing_is_refused_and_the_connection_closed() {
    let (origin, proxy) = setup().await;
    let cases: &[(&str, &[u8])] = &[
        (
            "differing duplicate Content-Length",
            b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        ),
        (
            "Content-Length list",
            b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5, 6\r\n\r\nabcde",
        ),
        (
            "non-numeric Content-Length",
            b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: +5\r\n\r\nabcde",
        ),
        (
            "bad chunk size",
            b"POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        ),
        (
            "obs-fold",
            b"GET / HTTP/1.1\r\nHost: a.test\r\nX-A: a\r\n b\r\n\r\n",
        ),
        (
            "chunked not last",
            b"POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        ),
        (
            "unknown transfer coding",
            b"POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            b"POST / HTTP/1.0\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "two Host headers",
            b"GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n",
        ),
        ("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n"),
        (
            "space before colon",
            b"GET / HTTP/1.1\r\nHost : a.test\r\n\r\n",
        ),
        (
            "NUL in a header value",
            b"GET / HTTP/1.1\r\nHost: a.test\r\nX-A: a\x00b\r\n\r\n",
        ),
    ];
    for (name, bytes) in cases {
        let before = origin.hits();
        let (responses, closed) = send(&proxy, bytes).await;
        assert_eq!(
            responses.len(),
            1,
            "{name}: expected one response, got {responses:?}"
        );
        assert_eq!(responses[0].status, 400, "{name}: {responses:?}");
        assert!(closed, "{name}: connection must be closed");
        assert_eq!(
            origin.hits(),
            before,
            "{name}: nothing may reach the backend"
        );
    }
    proxy.shutdown().await;
}

#[tokio::test]
async fn content_length_beside_transfer_encoding_cannot_smuggle() {
    let (origin, proxy) = setup().await;
    // CL.TE: a front end honouring CL would leave "GET /smuggled" for the next request.
    let attack = b"POST /first HTTP/1.1\r\nHost: a.test\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n";
    let (responses, closed) = send(&proxy, attack).await;
    assert_eq!(responses.len(), 1, "exactly one response: {responses:?}");
    let echo = responses[0].json();
    assert_eq!(echo["path"], "/first");
    assert_eq!(echo["body_len"], 0, "the chunked framing won: empty body");
    assert!(
        echo["headers"]["content-length"].is_null(),
        "backend never sees both: {echo}"
    );
    assert_eq!(responses[0].header("connection"), Some("close"));
    assert!(closed, "connection closed after responding (RFC 9112 §6.3)");
    assert_eq!(origin.hits(), 1, "the smuggled request never ran");
    proxy.shutdown().await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let (_origin, proxy) = setup().await;
    let mut bytes = Vec::new();
    for i in 0..5 {
        let close = if i == 4 { "Connection: close\r\n" } else { "" };
        bytes.extend_from_slice(
            format!("GET /p{i} HTTP/1.1\r\nHost: a.test\r\n{close}\r\n").as_bytes(),
        );
    }
    let (responses, closed) = send(&proxy, &bytes).await;
    assert!(closed);
    let paths: Vec<String> = responses
        .iter()
        .map(|r| r.json()["path"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(paths, ["/p0", "/p1", "/p2", "/p3", "/p4"]);
    proxy.shutdown().await;
}

#[tokio::test]
async fn chunked_bodies_stream_through_and_expect_continue_is_honoured() {
    let (_origin, proxy) = setup().await;
    let chunked = b"POST /c HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let (responses, _) = send(&proxy, chunked).await;
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].json()["body_len"], 11);

    let (out, _) = exchange(
        proxy.addr,
        b"POST /e HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nabc",
        Duration::from_millis(1500),
    )
    .await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 100 Continue\r\n"), "{text}");
    let responses = parse_responses(&out);
    assert_eq!(responses.last().map(|r| r.status), Some(200));
    assert_eq!(
        responses.last().map(|r| r.json()["body_len"].clone()),
        Some(3.into())
    );
    proxy.shutdown().await;
}
