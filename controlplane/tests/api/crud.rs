//! CRUD and pagination of every resource, and the one error shape.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Creates `n` resources through `coll`, then pages through them 2 at a time.
async fn check_pagination(h: &Harness, coll: &str, names: &[String]) {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let url = match &cursor {
            Some(c) => format!("{coll}?limit=2&cursor={c}"),
            None => format!("{coll}?limit=2"),
        };
        let page = h.get(&url).await.expect(StatusCode::OK);
        let items = page.body["items"].as_array().expect("items").clone();
        assert!(items.len() <= 2);
        for it in &items {
            assert!(it["etag"].as_str().is_some_and(|e| e.starts_with("\"r")));
            seen.push(it["name"].as_str().expect("name").to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected = names.to_vec();
    expected.sort();
    assert_eq!(seen, expected, "paging through {coll}");
    // The name-prefix filter.
    let page = h
        .get(&format!(
            "{coll}?name_prefix={}",
            &names[0][..names[0].len() - 1]
        ))
        .await
        .expect(StatusCode::OK);
    assert!(!page.body["items"].as_array().expect("items").is_empty());
    let page = h
        .get(&format!("{coll}?name_prefix=zzz-none"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(page.body["items"], json!([]));
    h.get(&format!("{coll}?limit=0"))
        .await
        .expect(StatusCode::BAD_REQUEST)
        .assert_error_shape();
}

both_stores! {
    async fn clusters_crud_and_pagination(h) {
        let r = h.post("/api/v1/clusters", cluster("c1")).await.expect(StatusCode::CREATED);
        let etag = r.etag();
        assert_eq!(r.body["name"], "c1");
        assert!(r.headers.get("x-config-version").is_some());
        h.post("/api/v1/clusters", cluster("c1")).await.expect(StatusCode::CONFLICT).assert_error_shape();
        let g = h.get("/api/v1/clusters/c1").await.expect(StatusCode::OK);
        assert_eq!(g.etag(), etag);
        assert_eq!(g.body["sub_clusters"][0]["backends"][0]["addr"], "127.0.0.1:9001");

        let mut c = cluster("c1");
        c["slow_start_ms"] = json!(500);
        let u = h.put("/api/v1/clusters/c1", c).await.expect(StatusCode::OK);
        assert_ne!(u.etag(), etag);
        assert_eq!(h.get("/api/v1/clusters/c1").await.body["slow_start_ms"], 500);
        let p = h.patch("/api/v1/clusters/c1", json!({"balance": "wlc"})).await.expect(StatusCode::OK);
        assert_eq!(p.body["balance"], "wlc");
        assert_eq!(p.body["slow_start_ms"], 500);

        // The body's name must match the path's.
        h.put("/api/v1/clusters/c1", cluster("other")).await.expect(StatusCode::BAD_REQUEST).assert_error_shape();
        // Unknown fields are refused.
        let mut bad = cluster("c1");
        bad["wieght"] = json!(1);
        let r = h.put("/api/v1/clusters/c1", bad).await.expect(StatusCode::BAD_REQUEST);
        assert!(r.text.contains("wieght"), "{}", r.text);

        let mut names = vec!["c1".to_owned()];
        for i in 2..=5 {
            let n = format!("c{i}");
            h.post("/api/v1/clusters", cluster(&n)).await.expect(StatusCode::CREATED);
            names.push(n);
        }
        check_pagination(&h, "/api/v1/clusters", &names).await;

        h.delete("/api/v1/clusters/c1").await.expect(StatusCode::NO_CONTENT);
        h.get("/api/v1/clusters/c1").await.expect(StatusCode::NOT_FOUND).assert_error_shape();
        h.delete("/api/v1/clusters/c1").await.expect(StatusCode::NOT_FOUND).assert_error_shape();
        h.put("/api/v1/clusters/c1", cluster("c1")).await.expect(StatusCode::NOT_FOUND);
    }
}

both_stores! {
    async fn tenants_routes_and_modules_crud(h) {
        h.seed().await;
        let t = h.get("/api/v1/tenants/shop").await.expect(StatusCode::OK);
        assert_eq!(t.body["hosts"], json!(["www.shop.example"]));
        h.patch("/api/v1/tenants/shop", json!({"vips": ["10.0.0.1"]})).await.expect(StatusCode::OK);
        assert_eq!(h.get("/api/v1/tenants/shop").await.body["vips"], json!(["10.0.0.1"]));

        // Routes: whole-document replace, ordered.
        let r = h.get("/api/v1/tenants/shop/routes").await.expect(StatusCode::OK);
        assert_eq!(r.body["advanced"][0]["cluster"], "api");
        let routes = json!({"advanced": [
            {"name": "first", "condition": "req_path_prefix_in(\"/s\", false)", "cluster": "static"},
            {"name": "rest", "condition": "default_t()", "cluster": "api"}
        ]});
        let u = h.put("/api/v1/tenants/shop/routes", routes.clone()).await.expect(StatusCode::OK);
        assert_eq!(u.body["advanced"][0]["name"], "first");
        assert_eq!(u.body["advanced"][1]["name"], "rest");
        assert_eq!(h.get("/api/v1/tenants/shop/routes").await.body["advanced"], routes["advanced"]);

        // Tenant modules and global documents exist implicitly.
        let m = h.get("/api/v1/tenants/shop/modules").await.expect(StatusCode::OK);
        assert_eq!(m.etag(), "\"r0\"");
        h.put("/api/v1/tenants/shop/modules", json!({})).await.expect(StatusCode::OK);
        let g = h.get("/api/v1/modules").await.expect(StatusCode::OK);
        assert_eq!(g.body["access_log"]["enabled"], false);
        h.patch("/api/v1/modules", json!({"access_log": {"enabled": true}})).await.expect(StatusCode::OK);
        assert_eq!(h.get("/api/v1/modules").await.body["access_log"]["enabled"], true);
        h.put("/api/v1/settings", json!({"default_tenant": "shop"})).await.expect(StatusCode::OK);
        assert_eq!(h.get("/api/v1/settings").await.body["default_tenant"], "shop");

        let mut names = vec!["shop".to_owned()];
        for n in ["shop2", "shop3", "shop4"] {
            h.post("/api/v1/tenants", tenant(n)).await.expect(StatusCode::CREATED);
            names.push(n.to_owned());
        }
        h.post("/api/v1/tenants", tenant("shop2")).await.expect(StatusCode::CONFLICT);
        check_pagination(&h, "/api/v1/tenants", &names).await;

        // Deleting a tenant removes its routes too.
        h.put("/api/v1/tenants/shop2/routes", routes_to("api")).await.expect(StatusCode::OK);
        h.delete("/api/v1/tenants/shop2").await.expect(StatusCode::NO_CONTENT);
        h.get("/api/v1/tenants/shop2/routes").await.expect(StatusCode::NOT_FOUND);
        // Routes of a tenant that does not exist.
        h.put("/api/v1/tenants/nobody/routes", routes_to("api")).await.expect(StatusCode::NOT_FOUND);
        // The default tenant cannot be deleted (the compiler refuses the dangling reference).
        let r = h.delete("/api/v1/tenants/shop").await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["violations"][0]["path"], "default_tenant");
    }
}

both_stores! {
    async fn certificates_crud_key_is_write_only(h) {
        let r = h.post("/api/v1/certificates", certificate("www")).await.expect(StatusCode::CREATED);
        assert_eq!(r.body["has_key"], true);
        assert!(r.body.get("key_pem").is_none());
        let g = h.get("/api/v1/certificates/www").await.expect(StatusCode::OK);
        assert_eq!(g.body["cert_pem"], cert_pem());
        assert!(!g.text.contains(key_marker()));
        // An update without the key keeps the stored key.
        h.put("/api/v1/certificates/www", json!({"name": "www", "cert_pem": cert_pem()}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(h.get("/api/v1/certificates/www").await.body["has_key"], true);
        let mut names = vec!["www".to_owned()];
        for n in ["www2", "www3"] {
            h.post("/api/v1/certificates", certificate(n)).await.expect(StatusCode::CREATED);
            names.push(n.to_owned());
        }
        check_pagination(&h, "/api/v1/certificates", &names).await;
        h.delete("/api/v1/certificates/www").await.expect(StatusCode::NO_CONTENT);
        h.get("/api/v1/certificates/www").await.expect(StatusCode::NOT_FOUND);
    }
}

both_stores! {
    async fn tokens_crud(h) {
        h.seed().await;
        let (id, secret) = h.token("ci", "viewer", None).await;
        assert!(secret.starts_with("bfe_") && secret.len() == 4 + 64);
        let g = h.get(&format!("/api/v1/tokens/{id}")).await.expect(StatusCode::OK);
        assert_eq!(g.body["name"], "ci");
        assert!(g.body.get("token").is_none());
        for i in 0..3 {
            h.token(&format!("extra{i}"), "operator", Some(&["shop"])).await;
        }
        // bootstrap + ci + 3 extra, paged by 2.
        let mut seen = 0;
        let mut url = "/api/v1/tokens?limit=2".to_owned();
        loop {
            let p = h.get(&url).await.expect(StatusCode::OK);
            seen += p.body["items"].as_array().expect("items").len();
            match p.body["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/tokens?limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, 5);
        let p = h.get("/api/v1/tokens?name_prefix=extra").await.expect(StatusCode::OK);
        assert_eq!(p.body["items"].as_array().map(Vec::len), Some(3));
        // The token works, then is revoked and does not.
        h.call(Method::GET, "/api/v1/tenants", Some(&secret), None, &[]).await.expect(StatusCode::OK);
        h.delete(&format!("/api/v1/tokens/{id}")).await.expect(StatusCode::NO_CONTENT);
        h.call(Method::GET, "/api/v1/tenants", Some(&secret), None, &[])
            .await
            .expect(StatusCode::UNAUTHORIZED)
            .assert_error_shape();
        let g = h.get(&format!("/api/v1/tokens/{id}")).await.expect(StatusCode::OK);
        assert!(g.body["revoked_at"].is_string());
        h.post("/api/v1/tokens", json!({"name": "x", "role": "root"}))
            .await
            .expect(StatusCode::BAD_REQUEST)
            .assert_error_shape();
    }
}

both_stores! {
    async fn one_error_shape_everywhere(h) {
        // Malformed JSON.
        let r = h
            .call(Method::POST, "/api/v1/changes", Some(ADMIN), None, &[("content-type", "application/json")])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        r.assert_error_shape();
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/clusters")
            .header("authorization", format!("Bearer {ADMIN}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{not json"))
            .expect("request");
        let res = tower::ServiceExt::oneshot(h.app.clone(), req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let bytes = http_body_util::BodyExt::collect(res.into_body()).await.expect("body").to_bytes();
        let v: Value = serde_json::from_slice(&bytes).expect("json error body");
        assert!(v["error"].is_string());
        // A body that is not declared JSON, and one over the size limit.
        let send = |ct: Option<&'static str>, body: String| {
            let mut req = axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/clusters")
                .header("authorization", format!("Bearer {ADMIN}"));
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            let req = req.body(axum::body::Body::from(body)).expect("request");
            tower::ServiceExt::oneshot(h.app.clone(), req)
        };
        let res = send(None, cluster("x").to_string()).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let big = format!("{{\"name\": \"{}\"}}", "x".repeat(17 * 1024 * 1024));
        let res = send(Some("application/json"), big).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let bytes = http_body_util::BodyExt::collect(res.into_body()).await.expect("body").to_bytes();
        let v: Value = serde_json::from_slice(&bytes).expect("json error body");
        assert!(v["error"].is_string());
        // Unknown route, wrong method, bad path parameter, bad query.
        h.get("/api/v1/nope").await.expect(StatusCode::NOT_FOUND).assert_error_shape();
        h.call(Method::DELETE, "/api/v1/versions", Some(ADMIN), None, &[])
            .await
            .expect(StatusCode::METHOD_NOT_ALLOWED)
            .assert_error_shape();
        h.get("/api/v1/versions/abc").await.expect(StatusCode::BAD_REQUEST).assert_error_shape();
        h.get("/api/v1/tenants?bogus=1").await.expect(StatusCode::BAD_REQUEST).assert_error_shape();
        // Request ids are echoed, or made.
        let r = h.call(Method::GET, "/api/v1/tenants", Some(ADMIN), None, &[("x-request-id", "abc-123")]).await;
        assert_eq!(r.headers.get("x-request-id").and_then(|v| v.to_str().ok()), Some("abc-123"));
        let r = h.get("/api/v1/tenants").await;
        assert!(r.headers.get("x-request-id").is_some());
    }
}

both_stores! {
    async fn route_rules_one_at_a_time(h) {
        h.seed().await;
        let base = "/api/v1/tenants/shop/routes/advanced";
        let l = h.get(base).await.expect(StatusCode::OK);
        assert_eq!(l.body.as_array().map(Vec::len), Some(1));
        let etag = l.etag();
        assert_eq!(etag, h.get("/api/v1/tenants/shop/routes").await.etag());
        // Insert at the front, append at the end.
        let first = json!({"name": "first", "condition": "req_path_in(\"/a\", false)", "cluster": "static"});
        let r = h.post(&format!("{base}?at=0"), first.clone()).await.expect(StatusCode::CREATED);
        assert_eq!(r.headers["location"], "/api/v1/tenants/shop/routes/advanced/0");
        assert_eq!(r.body, first);
        let last = json!({"name": "last", "condition": "default_t()", "cluster": "static"});
        let r = h.post(base, last.clone()).await.expect(StatusCode::CREATED);
        assert_eq!(r.headers["location"], "/api/v1/tenants/shop/routes/advanced/2");
        let names: Vec<Value> = h.get(base).await.body.as_array().expect("rules").iter().map(|r| r["name"].clone()).collect();
        assert_eq!(names, [json!("first"), Value::Null, json!("last")]);
        // Read, patch, replace and delete one rule.
        assert_eq!(h.get(&format!("{base}/2")).await.expect(StatusCode::OK).body, last);
        let p = h.patch(&format!("{base}/2"), json!({"cluster": "api"})).await.expect(StatusCode::OK);
        assert_eq!(p.body["cluster"], "api");
        assert_eq!(p.body["name"], "last");
        h.put(&format!("{base}/1"), json!({"condition": "default_t()", "cluster": "static"})).await.expect(StatusCode::OK);
        h.delete(&format!("{base}/0")).await.expect(StatusCode::NO_CONTENT);
        let rules = h.get(base).await.body;
        assert_eq!(rules[0]["cluster"], "static");
        assert_eq!(rules[1]["name"], "last");
        assert_eq!(rules.as_array().map(Vec::len), Some(2));
        // Errors: a missing rule, a bad index, a bad rule, a bad list, a stale ETag, a bad condition.
        h.get(&format!("{base}/9")).await.expect(StatusCode::NOT_FOUND).assert_error_shape();
        h.delete(&format!("{base}/9")).await.expect(StatusCode::NOT_FOUND);
        h.post(&format!("{base}?at=9"), last.clone()).await.expect(StatusCode::BAD_REQUEST);
        h.post(base, json!({"cluster": "api"})).await.expect(StatusCode::BAD_REQUEST).assert_error_shape();
        h.get("/api/v1/tenants/shop/routes/fancy").await.expect(StatusCode::BAD_REQUEST).assert_error_shape();
        h.call(Method::DELETE, &format!("{base}/0"), Some(ADMIN), None, &[("if-match", &etag)])
            .await
            .expect(StatusCode::PRECONDITION_FAILED);
        let r = h
            .put(&format!("{base}/1"), json!({"condition": "req_hots_in(\"a\")", "cluster": "api"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["violations"][0]["path"], "tenants[0].routes.advanced[1].condition");
        // Basic rules.
        let b = h
            .post("/api/v1/tenants/shop/routes/basic", json!({"hosts": ["www.shop.example"], "paths": ["/img/*"], "cluster": "static"}))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(b.headers["location"], "/api/v1/tenants/shop/routes/basic/1");
        assert_eq!(h.get("/api/v1/tenants/shop/routes").await.body["basic"][1]["paths"], json!(["/img/*"]));
        // Rules in a change set, with the routes document's ETag.
        let etag = h.get("/api/v1/tenants/shop/routes").await.etag();
        h.post("/api/v1/changes", json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "new", "body": cluster("new")},
            {"op": "create", "kind": "advanced_rule", "tenant": "shop", "index": 0, "if_match": etag,
             "body": {"condition": "req_path_in(\"/new\", false)", "cluster": "new"}}
        ]})).await.expect(StatusCode::CREATED);
        assert_eq!(h.get(&format!("{base}/0")).await.body["cluster"], "new");
    }
}
