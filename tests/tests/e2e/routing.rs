//! Tenant routing and cluster routing end to end: one config with several tenants, basic and
//! advanced rules, every cluster a separately named origin so the echoed `backend` proves where
//! each request went; plus the headers the origin sees.

use std::collections::BTreeMap;
use std::time::Duration;

use bfe_tests::origin::Origin;
use bfe_tests::proxy::TestProxy;
use bfe_tests::raw::{RawResponse, request};

/// Every cluster in [`matrix_config`]; each is served by an origin of the same name.
const CLUSTERS: &[&str] = &[
    "exact",
    "static",
    "img",
    "wild",
    "any",
    "canary",
    "v2",
    "v2get",
    "beta",
    "write",
    "deep",
    "apitag",
    "shopdefault",
    "sports",
    "fallback",
];

/// One row of the matrix: a request and the cluster it must reach (`None`: 404).
struct Case {
    host: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    expect: Option<&'static str>,
}

const fn get(host: &'static str, path: &'static str, expect: Option<&'static str>) -> Case {
    Case {
        host,
        method: "GET",
        path,
        headers: &[],
        expect,
    }
}

const fn with(
    host: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    expect: Option<&'static str>,
) -> Case {
    Case {
        host,
        method: "GET",
        path,
        headers,
        expect,
    }
}

/// Three tenants: `shop` (exact + wildcard hosts, an `api` host tag, basic and advanced rules),
/// `news` (advanced rules only, no catch-all) and `fallback` (the default tenant).
fn matrix_config(origins: &BTreeMap<&str, Origin>) -> String {
    let mut clusters = String::new();
    for (name, o) in origins {
        clusters.push_str(&format!(
            "  - {{ name: {name}, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: \"{}\" }}] }}] }}\n",
            o.addr
        ));
    }
    format!(
        r#"
version: routing-matrix
default_tenant: fallback
tenants:
  - name: shop
    hosts: ["shop.example", "*.shop.example"]
    host_tags:
      api: ["api.example", "*.api.example"]
    routes:
      basic:
        - {{ hosts: ["shop.example"], paths: ["/exact"], cluster: exact }}
        - {{ hosts: ["shop.example"], paths: ["/static/*"], cluster: static }}
        - {{ hosts: ["shop.example"], paths: ["/static/img/*"], cluster: img }}
        - {{ hosts: ["shop.example"], paths: ["/adv/*"], cluster: ADVANCED_MODE }}
        - {{ hosts: ["*.shop.example"], paths: ["/*"], cluster: wild }}
        - {{ hosts: ["*"], paths: ["/any/*", "/adv/*"], cluster: any }}
      advanced:
        - {{ name: canary, condition: 'req_header_value_in("X-Canary", "1", false)', cluster: canary }}
        - {{ name: v2, condition: 'req_query_value_in("v", "2", false)', cluster: v2 }}
        - {{ name: shadowed, condition: 'req_query_value_in("v", "2", false) && req_method_in("GET")', cluster: v2get }}
        - {{ name: beta, condition: 'req_cookie_value_in("beta", "yes", false)', cluster: beta }}
        - {{ name: write, condition: 'req_method_in("POST|PUT")', cluster: write }}
        - {{ name: deep, condition: 'req_path_prefix_in("/adv/deep", false)', cluster: deep }}
        - {{ name: api, condition: 'req_host_tag_in("api")', cluster: apitag }}
        - {{ name: rest, condition: 'default_t()', cluster: shopdefault }}
  - name: news
    hosts: ["news.example"]
    routes:
      advanced:
        - {{ condition: 'req_path_prefix_in("/sports", false)', cluster: sports }}
  - name: fallback
    hosts: ["fallback.example"]
    routes:
      advanced:
        - {{ condition: 'default_t()', cluster: fallback }}
clusters:
{clusters}"#
    )
}

fn cases() -> Vec<Case> {
    vec![
        // Basic rules on the exact host: exact path (trailing slash ignored), prefixes on
        // segment boundaries, the longer prefix wins.
        get("shop.example", "/exact", Some("exact")),
        get("shop.example", "/exact/", Some("exact")),
        get("shop.example", "/exact/more", Some("shopdefault")),
        get("shop.example", "/static", Some("static")),
        get("shop.example", "/static/app.css", Some("static")),
        get("shop.example", "/static/img/logo.png", Some("img")),
        get("shop.example", "/staticx", Some("shopdefault")),
        // Host case and port do not matter, for the tenant nor for the route.
        get("SHOP.Example:8080", "/static/img/a.png", Some("img")),
        get("Shop.EXAMPLE.", "/exact", Some("exact")),
        // `*` host rule within the tenant.
        get("shop.example", "/any/thing", Some("any")),
        // ADVANCED_MODE stops the basic lookup (the `*` rule on /adv/* is not used) and falls
        // through to the advanced rules.
        get("shop.example", "/adv/x", Some("shopdefault")),
        get("shop.example", "/adv/deep/x", Some("deep")),
        // `*.shop.example` in a route matches exactly one label; the host table's wildcard
        // matches one or more.
        get("www.shop.example", "/anything", Some("wild")),
        get("www.shop.example", "/adv/deep/x", Some("wild")),
        get("a.b.shop.example", "/anything", Some("shopdefault")),
        get("a.b.shop.example", "/any/x", Some("any")),
        get("a.b.shop.example", "/adv/x", Some("any")),
        // Advanced rules, in order: the first match wins.
        with("shop.example", "/p", &[("X-Canary", "1")], Some("canary")),
        with(
            "shop.example",
            "/p",
            &[("x-canary", "0")],
            Some("shopdefault"),
        ),
        get("shop.example", "/p?v=2", Some("v2")),
        with(
            "shop.example",
            "/p?v=2",
            &[("X-Canary", "1")],
            Some("canary"),
        ),
        get("shop.example", "/p?v=3", Some("shopdefault")),
        with(
            "shop.example",
            "/p",
            &[("Cookie", "a=1; beta=yes")],
            Some("beta"),
        ),
        with(
            "shop.example",
            "/p",
            &[("Cookie", "beta=no")],
            Some("shopdefault"),
        ),
        with(
            "shop.example",
            "/p?v=2",
            &[("Cookie", "beta=yes")],
            Some("v2"),
        ),
        Case {
            host: "shop.example",
            method: "POST",
            path: "/p",
            headers: &[],
            expect: Some("write"),
        },
        Case {
            host: "shop.example",
            method: "PUT",
            path: "/p",
            headers: &[("Cookie", "beta=yes")],
            expect: Some("beta"),
        },
        Case {
            host: "shop.example",
            method: "DELETE",
            path: "/p",
            headers: &[],
            expect: Some("shopdefault"),
        },
        // Host tags: exact and wildcard members of `api` belong to `shop`.
        get("api.example", "/p", Some("apitag")),
        get("v1.eu.api.example", "/p", Some("apitag")),
        get("shop.example", "/p", Some("shopdefault")),
        // Second tenant: a route, and a tenant without a matching route → 404.
        get("news.example", "/sports/today", Some("sports")),
        get("NEWS.example:80", "/sports", Some("sports")),
        get("news.example", "/weather", None),
        get("news.example", "/sportsx", Some("sports")),
        // Unknown hosts go to the default tenant.
        get("nobody.test", "/", Some("fallback")),
        get("example", "/", Some("fallback")),
        get("fallback.example", "/x", Some("fallback")),
    ]
}

async fn send(proxy: &TestProxy, c: &Case) -> RawResponse {
    tokio::time::timeout(
        Duration::from_secs(10),
        request(proxy.addr, c.method, c.host, c.path, c.headers, b""),
    )
    .await
    .expect("response within 10 s")
}

#[tokio::test]
async fn routing_matrix_reaches_the_expected_cluster() {
    let mut origins = BTreeMap::new();
    for name in CLUSTERS {
        origins.insert(*name, Origin::start(name).await);
    }
    let proxy = TestProxy::start(&matrix_config(&origins)).await;

    let cases = cases();
    let mut wrong = Vec::new();
    let mut expected_hits: BTreeMap<&str, u64> = BTreeMap::new();
    for c in &cases {
        let res = send(&proxy, c).await;
        let got = match res.status {
            200 => res.json()["backend"].as_str().map(str::to_owned),
            404 => None,
            other => Some(format!("status {other}: {}", res.body_str())),
        };
        if got.as_deref() != c.expect {
            wrong.push(format!(
                "{} {} {} {:?}: expected {:?}, got {got:?}",
                c.method, c.host, c.path, c.headers, c.expect
            ));
        }
        if let Some(e) = c.expect {
            *expected_hits.entry(e).or_default() += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases misrouted:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    // Each request reached exactly one origin exactly once: 404s reached none, nothing retried.
    for (name, o) in &origins {
        let want = expected_hits.get(name).copied().unwrap_or(0);
        assert_eq!(o.hits(), want, "hits on origin {name}");
    }
    assert_eq!(
        origins["v2get"].hits(),
        0,
        "a rule shadowed by an earlier one is never used"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn unknown_host_without_default_tenant_is_404() {
    let origin = Origin::start("only").await;
    let config = format!(
        r#"
tenants:
  - name: t
    hosts: ["a.example", "*.w.example"]
    routes:
      advanced:
        - {{ condition: 'default_t()', cluster: c }}
clusters:
  - {{ name: c, sub_clusters: [{{ name: s, weight: 1, backends: [{{ addr: "{}" }}] }}] }}
"#,
        origin.addr
    );
    let proxy = TestProxy::start(&config).await;
    let table = [
        ("a.example", 200),
        ("A.EXAMPLE:1234", 200),
        ("x.y.w.example", 200),
        ("b.example", 404),
        ("w.example", 404),
        ("a.example.org", 404),
    ];
    for (host, status) in table {
        let res = tokio::time::timeout(
            Duration::from_secs(10),
            request(proxy.addr, "GET", host, "/", &[], b""),
        )
        .await
        .expect("response within 10 s");
        assert_eq!(res.status, status, "Host {host:?}: {}", res.body_str());
    }
    assert_eq!(
        origin.hits(),
        3,
        "only the routed requests reach the origin"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn forwarded_headers_are_set_and_hop_by_hop_headers_removed() {
    let origin = Origin::start("echo").await;
    let proxy = TestProxy::start(&bfe_tests::proxy::simple_config(
        &["fwd.example"],
        &[origin.addr],
        "",
    ))
    .await;
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        request(
            proxy.addr,
            "GET",
            "fwd.example:8080",
            "/h?q=1",
            &[
                ("X-Forwarded-For", "203.0.113.7"),
                ("X-Real-IP", "198.51.100.1"),
                ("X-Forwarded-Proto", "https"),
                ("Connection", "X-Hop"),
                ("X-Hop", "secret"),
                ("Keep-Alive", "timeout=5"),
                ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
                ("Upgrade", "websocket"),
                ("TE", "trailers"),
                ("X-Keep", "kept"),
            ],
            b"",
        ),
    )
    .await
    .expect("response within 10 s");
    assert_eq!(res.status, 200, "{}", res.body_str());
    let echo = res.json();
    assert_eq!(echo["backend"], "echo");
    assert_eq!(echo["path"], "/h");
    assert_eq!(echo["query"], "q=1");
    let h = &echo["headers"];
    assert_eq!(h["x-keep"], "kept", "end-to-end headers pass: {h}");
    assert_eq!(h["x-forwarded-for"], "203.0.113.7, 127.0.0.1", "{h}");
    assert_eq!(h["x-real-ip"], "127.0.0.1", "{h}");
    assert_eq!(h["x-forwarded-proto"], "http", "{h}");
    assert_eq!(h["x-forwarded-host"], "fwd.example:8080", "{h}");
    assert_eq!(h["te"], "trailers", "TE: trailers is kept: {h}");
    for gone in [
        "x-hop",
        "keep-alive",
        "proxy-authorization",
        "upgrade",
        "proxy-connection",
    ] {
        assert!(h.get(gone).is_none(), "{gone} must not be forwarded: {h}");
    }
    // The proxy may open its own keep-alive connection, but never forwards the client's tokens.
    if let Some(conn) = h.get("connection").and_then(|v| v.as_str()) {
        assert!(
            !conn.to_ascii_lowercase().contains("x-hop"),
            "client Connection tokens forwarded: {conn}"
        );
    }
    proxy.shutdown().await;
}
