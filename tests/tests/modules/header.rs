//! mod_header: request actions at HandleAfterLocation, response actions at HandleReadResponse,
//! `%variables`, cookies, conditions (request and response), scope order and `last`.

use super::support::{Setup, all, get, seen};

#[tokio::test]
async fn request_actions_reach_the_backend_with_variables() {
    let s = Setup::start(
        r#"
header:
  - condition: 'req_path_prefix_in("/h", false)'
    actions:
      - { cmd: REQ_HEADER_SET, params: [X-Client, "%bfe_client_ip|%bfe_request_host|%bfe_cluster|%bfe_protocol|100%%"] }
      - { cmd: REQ_HEADER_ADD, params: [X-Added, "yes"] }
      - { cmd: REQ_HEADER_DEL, params: [X-Secret] }
      - { cmd: REQ_HEADER_RENAME, params: [X-Old, X-New] }
      - { cmd: REQ_COOKIE_SET, params: [b, "20"] }
      - { cmd: REQ_COOKIE_DEL, params: [track] }
"#,
        "",
    )
    .await;
    let headers = [
        ("X-Secret", "s3cr3t"),
        ("X-Old", "moved"),
        ("Cookie", "a=1; b=2; track=xyz"),
    ];
    let res = get(s.addr(), "/h", &headers).await;
    assert_eq!(res.status, 200);
    assert_eq!(
        seen(&res, "x-client").as_deref(),
        Some("127.0.0.1|a.test|ca|http|100%")
    );
    assert_eq!(seen(&res, "x-added").as_deref(), Some("yes"));
    assert_eq!(seen(&res, "x-secret"), None);
    assert_eq!(seen(&res, "x-old"), None);
    assert_eq!(seen(&res, "x-new").as_deref(), Some("moved"));
    assert_eq!(seen(&res, "cookie").as_deref(), Some("a=1; b=20"));

    // The condition scopes the rule.
    let res = get(s.addr(), "/other", &headers).await;
    assert_eq!(seen(&res, "x-client"), None);
    assert_eq!(seen(&res, "x-secret").as_deref(), Some("s3cr3t"));
}

#[tokio::test]
async fn request_headers_change_after_routing_not_before() {
    // The rule sets the header the route table looks at; routing already happened, so the
    // request stays on cluster ca (origin A) although the backend sees `X-Route: b`.
    let s = Setup::start(
        "header: [{ condition: 'default_t()', actions: [{ cmd: REQ_HEADER_SET, params: [X-Route, b] }] }]",
        "",
    )
    .await;
    let res = get(s.addr(), "/x", &[]).await;
    assert_eq!(res.json()["backend"], "A");
    assert_eq!(seen(&res, "x-route").as_deref(), Some("b"));
    let res = get(s.addr(), "/x", &[("X-Route", "b")]).await;
    assert_eq!(
        res.json()["backend"],
        "B",
        "the client's own header still routes"
    );
}

#[tokio::test]
async fn response_actions_and_response_conditions() {
    let s = Setup::start(
        r#"
header:
  - condition: 'default_t()'
    actions:
      - { cmd: RSP_HEADER_SET, params: [X-Proxied-By, "bfe %bfe_cluster"] }
      - { cmd: RSP_HEADER_DEL, params: [Content-Type] }
      - { cmd: RSP_COOKIE_SET, params: { name: sid, value: "%bfe_session_id", path: "/", http_only: true } }
  - condition: 'res_code_in("404")'
    actions: [{ cmd: RSP_HEADER_SET, params: [X-Not-Found, "1"] }]
"#,
        "",
    )
    .await;
    let ok = get(s.addr(), "/x", &[]).await;
    assert_eq!(ok.header("x-proxied-by"), Some("bfe ca"));
    assert_eq!(ok.header("content-type"), None);
    let cookie = ok.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("sid=") && cookie.ends_with("; Path=/; HttpOnly"),
        "{cookie}"
    );
    assert_eq!(ok.header("x-not-found"), None);

    let missing = get(s.addr(), "/status/404", &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-not-found"), Some("1"));
    // The proxy's own error pages pass HandleReadResponse too (no route → 404).
    let unrouted = get(s.addr(), "/nowhere", &[]).await;
    assert_eq!(unrouted.status, 404);
    assert_eq!(unrouted.header("x-not-found"), Some("1"));
    assert_eq!(
        unrouted.header("x-proxied-by"),
        Some("bfe"),
        "no cluster yet (trailing space trimmed)"
    );
}

#[tokio::test]
async fn global_rules_run_before_the_tenants_and_last_stops_its_scope_only() {
    let s = Setup::start(
        r#"
header:
  - { condition: 'default_t()', actions: [{ cmd: RSP_HEADER_ADD, params: [X-Order, global-1] }], last: true }
  - { condition: 'default_t()', actions: [{ cmd: RSP_HEADER_ADD, params: [X-Order, global-2] }] }
"#,
        r#"
header:
  - { condition: 'req_path_in("/x", false)', actions: [{ cmd: RSP_HEADER_ADD, params: [X-Order, tenant-1] }] }
  - { condition: 'default_t()', actions: [{ cmd: RSP_HEADER_ADD, params: [X-Order, tenant-2] }] }
"#,
    )
    .await;
    let res = get(s.addr(), "/x", &[]).await;
    assert_eq!(all(&res, "x-order"), ["global-1", "tenant-1", "tenant-2"]);
    let res = get(s.addr(), "/y", &[]).await;
    assert_eq!(all(&res, "x-order"), ["global-1", "tenant-2"]);
}
