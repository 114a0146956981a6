//! Hostile and malformed input: oversized bodies, errors that would echo it back, control
//! characters in any text field, duplicate JSON keys and bodies of the wrong shape. Every
//! refusal is a 4xx with the field's path, alike on both stores, and nothing is written.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

/// Sends raw body bytes (not necessarily valid JSON).
async fn send_raw(app: &axum::Router, method: Method, path: &str, body: Vec<u8>) -> Res {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Res {
        status,
        headers,
        body,
        text,
    }
}

#[track_caller]
fn violation_path(r: &Res) -> &str {
    r.assert_error_shape();
    r.body["violations"][0]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("no violation path: {}", r.text))
}

both_stores! {
    async fn oversized_bodies_are_refused_and_errors_do_not_echo_input(h) {
        h.seed().await;
        let head = h.head().await;
        // Over the 4 MiB default: 413 in the error shape.
        let big = format!(r#"{{"name": "shop", "hosts": ["{}"]}}"#, "a".repeat(4 * 1024 * 1024));
        let r = send_raw(&h.app, Method::PUT, "/api/v1/tenants/shop", big.into_bytes()).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &r.text[..r.text.len().min(300)]);
        r.assert_error_shape();

        // A 1 MiB value of the wrong type, in a resource body and in a change set, and a 32 KiB
        // name in the URL: the error says what is wrong in well under a kilobyte.
        let long = "x".repeat(1024 * 1024);
        let r = h.put("/api/v1/tenants/shop", json!({"name": "shop", "hosts": long})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.text.len() < 1024, "{} bytes echoed", r.text.len());
        assert!(r.text.contains('…'), "{}", r.text);
        let set = json!({"ops": [{"op": "create", "kind": long, "name": "x"}]});
        let r = h.post("/api/v1/changes", set).await.expect(StatusCode::BAD_REQUEST);
        assert!(r.text.len() < 1024, "{} bytes echoed", r.text.len());
        let r = h.get(&format!("/api/v1/tenants/{}", "n".repeat(32 * 1024))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.text.len() < 1024, "{} bytes echoed", r.text.len());
        assert_eq!(h.head().await, head);
    }
}

both_stores! {
    async fn the_body_limit_is_a_setting(h) {
        let mut state = bfe_controlplane::AppState::new(h.store.clone());
        state.max_body_bytes = 2048;
        let app = bfe_controlplane::app(state);
        let body = json!({"name": "t", "hosts": ["a".repeat(4096)]}).to_string();
        let r = send_raw(&app, Method::POST, "/api/v1/tenants", body.into_bytes()).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
        let r = send_raw(&app, Method::POST, "/api/v1/tenants", tenant("t").to_string().into_bytes()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
}

both_stores! {
    async fn control_characters_are_refused_in_every_text_field(h) {
        h.seed().await;
        let head = h.head().await;
        let tokens = h.get("/api/v1/tokens").await.body;
        // Body fields: a token name, a change-set message, a nested document field.
        let r = h.post("/api/v1/tokens", json!({"name": "a\u{0}b", "role": "viewer"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "name");
        let set = json!({"message": "nul\u{0}", "ops": [{"op": "patch", "kind": "cluster", "name": "api", "body": {"balance": "wlc"}}]});
        let r = h.post("/api/v1/changes", set).await.expect(StatusCode::BAD_REQUEST);
        assert_eq!(violation_path(&r), "message");
        let r = h.put("/api/v1/tenants/shop", json!({"name": "shop", "hosts": ["ok.example", "bell\u{7}.example"]})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "body.hosts[1]");
        let r = h.post("/api/v1/changes", json!({"ops": [{"op": "create", "kind": "cluster", "name": "c\u{1b}", "body": cluster("c")}]})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "ops[0].name");
        // Path and query parameters.
        let r = h.get("/api/v1/tenants/a%00b").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "path.tenant");
        let r = h.delete("/api/v1/clusters/a%01b").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let r = h.get("/api/v1/tenants?name_prefix=%00").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "query.name_prefix");
        let r = h.get("/api/v1/audit?actor=x%00").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "query.actor");
        // Nothing was written; text with line breaks and tabs (PEM, messages) is still fine.
        assert_eq!(h.head().await, head);
        assert_eq!(h.get("/api/v1/tokens").await.body, tokens);
        h.post("/api/v1/certificates", certificate("www")).await.expect(StatusCode::CREATED);
        let set = json!({"message": "two\nlines\tand a tab", "ops": [{"op": "patch", "kind": "cluster", "name": "api", "body": {"balance": "wlc"}}]});
        h.post("/api/v1/changes", set).await.expect(StatusCode::CREATED);
    }
}

both_stores! {
    async fn shape_errors_and_duplicate_keys_name_the_field(h) {
        h.seed().await;
        let head = h.head().await;
        let r = h.put("/api/v1/tenants/shop", json!({"name": "shop", "hosts": "www.shop.example"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "body.hosts");
        let mut c = cluster("api");
        c["sub_clusters"][0]["weight"] = json!("heavy");
        let r = h.put("/api/v1/clusters/api", c).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "body.sub_clusters[0].weight");
        let set = json!({"ops": [
            {"op": "patch", "kind": "cluster", "name": "api", "body": {"balance": "wlc"}},
            {"op": "patch", "kind": "tenant", "name": "shop", "body": {"vips": [1]}}
        ]});
        let r = h.post("/api/v1/changes", set).await.expect(StatusCode::BAD_REQUEST);
        assert_eq!(violation_path(&r), "ops[1].body.vips[0]");
        let r = h.post("/api/v1/changes", json!({"ops": [{"op": "frobnicate", "kind": "cluster", "name": "api"}]})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "ops[0].op");
        let r = h.post("/api/v1/tokens", json!({"name": "t", "role": "root"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "role");

        // Duplicate keys, at the top and nested, in every kind of body.
        let r = send_raw(&h.app, Method::PUT, "/api/v1/tenants/shop",
            br#"{"name": "shop", "hosts": ["a.example"], "hosts": ["b.example"]}"#.to_vec()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "body.hosts");
        let r = send_raw(&h.app, Method::POST, "/api/v1/changes",
            br#"{"ops": [{"op": "patch", "kind": "cluster", "name": "api", "body": {"balance": "wlc", "balance": "rr"}}]}"#.to_vec()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "ops[0].body.balance");
        let r = send_raw(&h.app, Method::POST, "/api/v1/tokens",
            br#"{"name": "a", "name": "b", "role": "viewer"}"#.to_vec()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "name");
        assert_eq!(h.head().await, head, "nothing was written");
    }
}

both_stores! {
    async fn out_of_range_times_are_refused_not_a_crash(h) {
        // i64::MIN overflowed the default range's subtraction: a panic, the connection dropped.
        let r = h.get("/api/v1/stats?from=-9223372036854775808&to=-9223372036854775808").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "to");
        let r = h.get("/api/v1/stats?to=-9223372036854775808").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let r = h.get("/api/v1/stats?from=-1&to=1000").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "from");
        h.get("/api/v1/stats?to=1").await.expect(StatusCode::OK);
        h.get("/api/v1/stats").await.expect(StatusCode::OK);
    }
}

both_stores! {
    async fn bodies_that_are_not_objects_and_empty_if_match_are_bad_requests(h) {
        h.seed().await;
        let head = h.head().await;
        // `[]` read as an empty settings document (200), and `[null]` met the If-Match check
        // (412) before its shape was looked at.
        let r = h.patch("/api/v1/settings", json!([])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "body");
        let r = h.call(Method::PUT, "/api/v1/clusters/api", Some(ADMIN), Some(json!([null, null])), &[("if-match", "\"r1\"")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let r = h.call(Method::PATCH, "/api/v1/clusters/api", Some(ADMIN), Some(json!({"balance": "wlc"})), &[("if-match", "")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(violation_path(&r), "If-Match");
        let r = h.call(Method::PUT, "/api/v1/settings", Some(ADMIN), Some(json!({"": null})), &[("if-match", "C%w<!21<ug")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "a malformed If-Match: {}", r.text);
        assert_eq!(violation_path(&r), "If-Match");
        // Well-formed tags that do not match are still 412.
        let r = h.call(Method::PATCH, "/api/v1/clusters/api", Some(ADMIN), Some(json!({"balance": "wlc"})), &[("if-match", "W/\"x\", \"r999\"")]).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.text);
        assert_eq!(h.head().await, head);
    }
}
