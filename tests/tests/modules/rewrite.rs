//! mod_rewrite at HandleAfterLocation: the backend sees the rewritten host, path and query;
//! the route was chosen on the original request.

use super::support::{Setup, get, seen};

#[tokio::test]
async fn path_and_query_rewrites_reach_the_backend_but_not_routing() {
    let s = Setup::start(
        r#"
rewrite:
  - condition: 'req_path_prefix_in("/a", false)'
    actions:
      - { cmd: PATH_PREFIX_TRIM, params: ["/a"] }
      - { cmd: PATH_PREFIX_ADD, params: ["/b/"] }
      - { cmd: QUERY_DEL, params: [drop] }
      - { cmd: QUERY_RENAME, params: [old, new] }
      - { cmd: QUERY_ADD, params: [from, bfe] }
"#,
        "",
    )
    .await;
    let res = get(s.addr(), "/a/x?keep=1&drop=2&old=3", &[]).await;
    let echo = res.json();
    // `/b/...` routes to B, but routing ran on `/a/x`: the request stays on A.
    assert_eq!(echo["backend"], "A");
    assert_eq!(echo["path"], "/b/x");
    assert_eq!(echo["query"], "keep=1&new=3&from=bfe");
    let res = get(s.addr(), "/c?drop=2", &[]).await;
    assert_eq!(
        (res.json()["path"].clone(), res.json()["query"].clone()),
        ("/c".into(), "drop=2".into())
    );
}

#[tokio::test]
async fn host_rewrites_change_the_host_the_backend_sees() {
    let s = Setup::start(
        r#"
rewrite:
  - { condition: 'req_path_prefix_in("/set", false)', actions: [{ cmd: HOST_SET, params: ["backend.internal:8080"] }] }
  - { condition: 'req_path_prefix_in("/from", false)', actions: [{ cmd: PATH_PREFIX_TRIM, params: ["/from"] }, { cmd: HOST_SET_FROM_PATH_PREFIX }] }
  - { condition: 'req_path_prefix_in("/suffix", false)', actions: [{ cmd: HOST_SUFFIX_REPLACE, params: [".test", ".internal"] }] }
"#,
        "",
    )
    .await;
    let res = get(s.addr(), "/set/x", &[]).await;
    assert_eq!(seen(&res, "host").as_deref(), Some("backend.internal:8080"));
    assert_eq!(
        seen(&res, "x-forwarded-host").as_deref(),
        Some("a.test"),
        "the client's host"
    );
    let res = get(s.addr(), "/from/www.example.org/p/q", &[]).await;
    assert_eq!(seen(&res, "host").as_deref(), Some("www.example.org"));
    assert_eq!(res.json()["path"], "/p/q");
    let res = get(s.addr(), "/suffix", &[]).await;
    assert_eq!(seen(&res, "host").as_deref(), Some("a.internal"));
}

#[tokio::test]
async fn last_stops_the_later_rules_of_its_scope_only() {
    let s = Setup::start(
        r#"
rewrite:
  - { condition: 'req_path_prefix_in("/l", false)', actions: [{ cmd: QUERY_ADD, params: [g, "1"] }], last: true }
  - { condition: 'default_t()', actions: [{ cmd: QUERY_ADD, params: [g, "2"] }] }
"#,
        r#"
rewrite:
  - { condition: 'req_query_key_in("g")', actions: [{ cmd: QUERY_ADD, params: [t, "1"] }] }
"#,
    )
    .await;
    // Global rule 1 matched with `last`; the tenant's rule still runs and sees its rewrite.
    assert_eq!(get(s.addr(), "/l", &[]).await.json()["query"], "g=1&t=1");
    assert_eq!(get(s.addr(), "/m", &[]).await.json()["query"], "g=2&t=1");
}
