//! ETags and If-Match: a stale write is 412 and changes nothing.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

both_stores! {
    async fn stale_if_match_is_412_and_changes_nothing(h) {
        h.seed().await;
        let first = h.get("/api/v1/clusters/api").await.expect(StatusCode::OK).etag();
        let mut c = cluster("api");
        c["slow_start_ms"] = json!(100);
        let r = h
            .call(Method::PUT, "/api/v1/clusters/api", Some(ADMIN), Some(c.clone()), &[("if-match", &first)])
            .await
            .expect(StatusCode::OK);
        let second = r.etag();
        assert_ne!(first, second);
        let head = h.head().await;

        // Reusing the first ETag is stale: for PUT, PATCH and DELETE, and in a change set.
        c["slow_start_ms"] = json!(999);
        for (method, body) in [
            (Method::PUT, Some(c.clone())),
            (Method::PATCH, Some(json!({"slow_start_ms": 999}))),
            (Method::DELETE, None),
        ] {
            h.call(method, "/api/v1/clusters/api", Some(ADMIN), body, &[("if-match", &first)])
                .await
                .expect(StatusCode::PRECONDITION_FAILED)
                .assert_error_shape();
        }
        h.post("/api/v1/changes", json!({"ops": [
            {"op": "update", "kind": "cluster", "name": "api", "body": c, "if_match": first}
        ]}))
        .await
        .expect(StatusCode::PRECONDITION_FAILED);
        let now = h.get("/api/v1/clusters/api").await;
        assert_eq!(now.body["slow_start_ms"], 100);
        assert_eq!(now.etag(), second);
        assert_eq!(h.head().await, head, "no version was created");

        // The current ETag works; `*` means "must exist".
        h.call(Method::PATCH, "/api/v1/clusters/api", Some(ADMIN), Some(json!({"slow_start_ms": 5})), &[("if-match", &second)])
            .await
            .expect(StatusCode::OK);
        h.call(Method::PUT, "/api/v1/clusters/ghost", Some(ADMIN), Some(cluster("ghost")), &[("if-match", "*")])
            .await
            .expect(StatusCode::PRECONDITION_FAILED);

        // Routes documents carry their own ETag; never-written ones are "r0".
        let routes = h.get("/api/v1/tenants/shop/routes").await.etag();
        h.post("/api/v1/tenants", tenant("t2")).await.expect(StatusCode::CREATED);
        assert_eq!(h.get("/api/v1/tenants/t2/routes").await.etag(), "\"r0\"");
        h.call(Method::PUT, "/api/v1/tenants/t2/routes", Some(ADMIN), Some(routes_to("api")), &[("if-match", "\"r0\"")])
            .await
            .expect(StatusCode::OK);
        h.call(Method::PUT, "/api/v1/tenants/t2/routes", Some(ADMIN), Some(routes_to("api")), &[("if-match", "\"r0\"")])
            .await
            .expect(StatusCode::PRECONDITION_FAILED);
        // Deleting and re-creating never revives an old ETag.
        let t2 = h.get("/api/v1/tenants/t2").await.etag();
        h.delete("/api/v1/tenants/t2").await.expect(StatusCode::NO_CONTENT);
        h.post("/api/v1/tenants", tenant("t2")).await.expect(StatusCode::CREATED);
        h.call(Method::PUT, "/api/v1/tenants/t2", Some(ADMIN), Some(tenant("t2")), &[("if-match", &t2)])
            .await
            .expect(StatusCode::PRECONDITION_FAILED);
        assert_eq!(h.get("/api/v1/tenants/shop/routes").await.etag(), routes);
    }
}
