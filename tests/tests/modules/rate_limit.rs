//! Rate limiting (mod_prison's spirit) at HandleFoundProduct, and the two decision semantics:
//! a Respond decision passes HandleReadResponse and keeps the connection; a Finish decision
//! skips it and closes.

use std::time::Duration;

use bfe_tests::raw::exchange;

use super::support::{Setup, get, get_keep_alive};

/// A response header set at HandleReadResponse on every response.
const HEADER: &str = r#"
header:
  - { condition: 'default_t()', actions: [{ cmd: RSP_HEADER_SET, params: [X-Read-Response, ran] }] }
"#;

fn limit(action: &str) -> String {
    format!(
        r#"
rate_limit:
  - {{ name: two, condition: 'req_path_prefix_in("/limited", false)', key: [client_ip], window_ms: 60000, threshold: 2, action: {action} }}
{HEADER}"#
    )
}

#[tokio::test]
async fn respond_passes_read_response_and_keeps_the_connection() {
    let s = Setup::start(
        &limit(r#"{ cmd: RESPOND, params: { status: 429, body: "slow down" } }"#),
        "",
    )
    .await;
    for _ in 0..2 {
        let (r, _, _) = get_keep_alive(s.addr(), "/limited", &[]).await;
        assert_eq!(r.unwrap().status, 200);
    }
    let (r, closed, raw) = get_keep_alive(s.addr(), "/limited", &[]).await;
    let r = r.unwrap_or_else(|| panic!("a response: {:?}", String::from_utf8_lossy(&raw)));
    assert_eq!((r.status, r.body_str().as_str()), (429, "slow down"));
    assert_eq!(
        r.header("x-read-response"),
        Some("ran"),
        "HandleReadResponse ran"
    );
    assert_eq!(r.header("connection"), None);
    assert!(!closed, "the connection stays open");
    assert_eq!(s.a.hits(), 2);
    // Other paths do not match the rule's condition.
    assert_eq!(get(s.addr(), "/free", &[]).await.status, 200);
}

#[tokio::test]
async fn finish_skips_read_response_and_closes() {
    let s = Setup::start(
        &limit(r#"{ cmd: FINISH, params: { status: 403, body: "go away" } }"#),
        "",
    )
    .await;
    for _ in 0..2 {
        assert_eq!(get(s.addr(), "/limited", &[]).await.status, 200);
    }
    let (r, closed, raw) = get_keep_alive(s.addr(), "/limited", &[]).await;
    let r = r.unwrap_or_else(|| panic!("a response: {:?}", String::from_utf8_lossy(&raw)));
    assert_eq!((r.status, r.body_str().as_str()), (403, "go away"));
    assert_eq!(
        r.header("x-read-response"),
        None,
        "HandleReadResponse skipped"
    );
    assert_eq!(r.header("connection"), Some("close"));
    assert!(closed, "closed after the answer");
}

#[tokio::test]
async fn close_sends_nothing() {
    let s = Setup::start(&limit("{ cmd: CLOSE }"), "").await;
    for _ in 0..2 {
        assert_eq!(get(s.addr(), "/limited", &[]).await.status, 200);
    }
    let req = b"GET /limited HTTP/1.1\r\nHost: a.test\r\n\r\n";
    let (bytes, closed) = exchange(s.addr(), req, Duration::from_secs(3)).await;
    assert!(closed && bytes.is_empty(), "{bytes:?}");
}

#[tokio::test]
async fn keys_count_apart_and_pass_only_counts() {
    let s = Setup::start(
        r#"
rate_limit:
  - { name: watch, condition: 'default_t()', key: [client_ip], window_ms: 60000, threshold: 0, action: { cmd: PASS } }
  - { name: per-user, condition: 'default_t()', key: ["header:X-User", "query:k"], window_ms: 60000, threshold: 1, action: { cmd: RESPOND } }
"#,
        "",
    )
    .await;
    assert_eq!(
        get(s.addr(), "/x?k=1", &[("X-User", "ann")]).await.status,
        200
    );
    assert_eq!(
        get(s.addr(), "/x?k=1", &[("X-User", "ann")]).await.status,
        429
    );
    assert_eq!(
        get(s.addr(), "/x?k=1", &[("X-User", "bob")]).await.status,
        200
    );
    assert_eq!(
        get(s.addr(), "/x?k=2", &[("X-User", "ann")]).await.status,
        200
    );
    // The PASS rule is over its threshold from the first request but never blocks.
    assert_eq!(
        get(s.addr(), "/x?k=3", &[("X-User", "ann")]).await.status,
        200
    );
}

#[tokio::test]
async fn a_jailed_key_waits_out_its_stay() {
    let s = Setup::start(
        r#"
rate_limit:
  - { name: jail, condition: 'default_t()', key: [client_ip], window_ms: 50, threshold: 1, stay_ms: 600, action: { cmd: RESPOND } }
"#,
        "",
    )
    .await;
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 200);
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 429);
    // The window is over, but the key is still jailed.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 429);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 200);
}

#[tokio::test]
async fn counters_survive_a_config_swap() {
    let rules = r#"
rate_limit:
  - { name: one, condition: 'default_t()', key: [client_ip], window_ms: 60000, threshold: 1, action: { cmd: RESPOND } }
"#;
    let s = Setup::start(rules, "").await;
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 200);
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 429);
    s.reload(rules, "", "-2").await;
    assert_eq!(
        get(s.addr(), "/x", &[]).await.status,
        429,
        "still over the limit"
    );
    // A tenant rule of the same name is another counter.
    s.reload("", &rules.replace("threshold: 1", "threshold: 5"), "-3")
        .await;
    assert_eq!(get(s.addr(), "/x", &[]).await.status, 200);
}
