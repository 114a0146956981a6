//! mod_redirect at HandleFoundProduct: before cluster routing, so it answers even for paths no
//! route matches; first matching rule wins, global before tenant.

use super::support::{Setup, get};

const RULES: &str = r#"
redirect:
  - { condition: 'req_path_prefix_in("/nowhere/old", false)', actions: [{ cmd: URL_SET, params: ["https://example.org/new"] }], status: 301 }
  - condition: 'req_path_in("/go", false)'
    actions: [{ cmd: URL_FROM_QUERY, params: [to] }]
  - { condition: 'req_path_prefix_in("/secure", false)', actions: [{ cmd: SCHEME_SET, params: [https] }], status: 308 }
  - { condition: 'req_path_prefix_in("/moved", false)', actions: [{ cmd: URL_PREFIX_ADD, params: ["http://b.example"] }], status: 307 }
  - { condition: 'req_path_in("/both", false)', actions: [{ cmd: URL_SET, params: ["/from-global"] }] }
"#;

const TENANT: &str = r#"
redirect:
  - { condition: 'req_path_in("/both", false) || req_path_in("/t", false)', actions: [{ cmd: URL_SET, params: ["/from-tenant"] }], status: 303 }
"#;

#[tokio::test]
async fn each_action_builds_its_location() {
    let s = Setup::start(RULES, TENANT).await;
    let r = get(
        s.addr(),
        "/go?x=1&to=https%3A%2F%2Fx.example%2Fy%3Fz%3D1",
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("https://x.example/y?z=1"))
    );
    let r = get(s.addr(), "/secure/p?q=1", &[]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (308, Some("https://a.test/secure/p?q=1"))
    );
    let r = get(s.addr(), "/moved/p?q=1", &[]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (307, Some("http://b.example/moved/p?q=1"))
    );
    assert!(
        r.body_str().contains("http://b.example/moved/p?q=1"),
        "small HTML body for GET"
    );
    assert_eq!(s.a.hits() + s.b.hits(), 0, "no redirect reaches a backend");
}

#[tokio::test]
async fn redirects_happen_before_routing() {
    let s = Setup::start(RULES, TENANT).await;
    // No route matches /nowhere/...: without the rule this is a 404.
    assert_eq!(get(s.addr(), "/nowhere/else", &[]).await.status, 404);
    let r = get(s.addr(), "/nowhere/old", &[]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("https://example.org/new"))
    );
}

#[tokio::test]
async fn no_url_means_no_redirect_and_conditions_scope_rules() {
    let s = Setup::start(RULES, TENANT).await;
    let r = get(s.addr(), "/go?from=1", &[]).await;
    assert_eq!((r.status, r.json()["backend"].as_str()), (200, Some("A")));
    assert_eq!(get(s.addr(), "/plain", &[]).await.status, 200);
}

#[tokio::test]
async fn global_rules_win_over_the_tenants() {
    let s = Setup::start(RULES, TENANT).await;
    let r = get(s.addr(), "/both", &[]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("/from-global"))
    );
    let r = get(s.addr(), "/t", &[]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/from-tenant"))
    );
}
