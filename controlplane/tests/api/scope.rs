//! Tenant-scoped tokens: they see and change only their tenants and the clusters those own.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["name"].as_str().map(str::to_owned))
        .collect()
}

both_stores! {
    async fn scoped_tokens_stay_in_their_tenants(h) {
        let setup = json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "ca", "body": owned_cluster("ca", "a")},
            {"op": "create", "kind": "cluster", "name": "cb", "body": owned_cluster("cb", "b")},
            {"op": "create", "kind": "cluster", "name": "shared", "body": cluster("shared")},
            {"op": "create", "kind": "cluster", "name": "orphan", "body": cluster("orphan")},
            {"op": "create", "kind": "tenant", "name": "a", "body": tenant("a")},
            {"op": "create", "kind": "tenant", "name": "b", "body": tenant("b")},
            {"op": "update", "kind": "routes", "tenant": "a", "body": {"advanced": [
                {"condition": "req_path_in(\"/x\", false)", "cluster": "shared"},
                {"condition": "default_t()", "cluster": "ca"}]}},
            {"op": "update", "kind": "routes", "tenant": "b", "body": {"advanced": [
                {"condition": "req_path_in(\"/x\", false)", "cluster": "shared"},
                {"condition": "default_t()", "cluster": "cb"}]}}
        ]});
        h.post("/api/v1/changes", setup).await.expect(StatusCode::CREATED);
        let (_, op) = h.token("a-op", "operator", Some(&["a"])).await;
        let (_, adm) = h.token("a-admin", "admin", Some(&["a"])).await;
        let call = |m: Method, p: &'static str, b: Option<Value>| {
            let op = op.clone();
            let h = &h;
            async move { h.call(m, p, Some(&op), b, &[]).await }
        };

        // Reads: only tenant a, only cluster ca (shared and orphan have no owner).
        assert_eq!(names(&call(Method::GET, "/api/v1/tenants", None).await.body), ["a"]);
        assert_eq!(names(&call(Method::GET, "/api/v1/clusters", None).await.body), ["ca"]);
        call(Method::GET, "/api/v1/tenants/a", None).await.expect(StatusCode::OK);
        call(Method::GET, "/api/v1/tenants/a/routes", None).await.expect(StatusCode::OK);
        for p in ["/api/v1/tenants/b", "/api/v1/tenants/b/routes", "/api/v1/tenants/b/modules",
                  "/api/v1/clusters/cb", "/api/v1/clusters/shared", "/api/v1/clusters/orphan"] {
            call(Method::GET, p, None).await.expect(StatusCode::NOT_FOUND).assert_error_shape();
        }
        for p in ["/api/v1/certificates", "/api/v1/modules", "/api/v1/settings", "/api/v1/versions",
                  "/api/v1/versions/1", "/api/v1/versions/1/snapshot", "/api/v1/versions/diff?from=0&to=1"] {
            call(Method::GET, p, None).await.expect(StatusCode::FORBIDDEN).assert_error_shape();
        }
        // A scoped admin is still refused global, token and audit endpoints.
        for p in ["/api/v1/tokens", "/api/v1/audit"] {
            h.call(Method::GET, p, Some(&adm), None, &[]).await.expect(StatusCode::FORBIDDEN);
        }

        // Writes inside the scope.
        call(Method::PATCH, "/api/v1/tenants/a", Some(json!({"vips": ["10.9.9.9"]}))).await.expect(StatusCode::OK);
        call(Method::PATCH, "/api/v1/clusters/ca", Some(json!({"slow_start_ms": 7}))).await.expect(StatusCode::OK);
        // A new cluster with the route that uses it, in one change set.
        h.call(Method::POST, "/api/v1/changes", Some(&op), Some(json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "ca2", "body": owned_cluster("ca2", "a")},
            {"op": "update", "kind": "routes", "tenant": "a", "body": {"advanced": [
                {"condition": "req_path_in(\"/x\", false)", "cluster": "shared"},
                {"condition": "default_t()", "cluster": "ca2"}]}}
        ]})), &[]).await.expect(StatusCode::CREATED);
        let head = h.head().await;

        // Writes outside it.
        call(Method::PUT, "/api/v1/tenants/b", Some(tenant("b"))).await.expect(StatusCode::FORBIDDEN);
        call(Method::PUT, "/api/v1/tenants/b/routes", Some(routes_to("cb"))).await.expect(StatusCode::FORBIDDEN);
        call(Method::POST, "/api/v1/tenants", Some(tenant("c"))).await.expect(StatusCode::FORBIDDEN);
        call(Method::PATCH, "/api/v1/clusters/cb", Some(json!({"slow_start_ms": 1}))).await.expect(StatusCode::FORBIDDEN);
        call(Method::PATCH, "/api/v1/clusters/shared", Some(json!({"slow_start_ms": 1}))).await.expect(StatusCode::FORBIDDEN);
        call(Method::DELETE, "/api/v1/clusters/orphan", None).await.expect(StatusCode::FORBIDDEN);
        // A cluster without an owner (global).
        call(Method::POST, "/api/v1/clusters", Some(cluster("loose"))).await.expect(StatusCode::FORBIDDEN);
        // Pointing its routes at another tenant's cluster.
        call(Method::PUT, "/api/v1/tenants/a/routes", Some(routes_to("cb"))).await.expect(StatusCode::FORBIDDEN);
        call(Method::POST, "/api/v1/certificates", Some(certificate("x"))).await.expect(StatusCode::FORBIDDEN);
        call(Method::PUT, "/api/v1/settings", Some(json!({}))).await.expect(StatusCode::FORBIDDEN);
        call(Method::POST, "/api/v1/versions/1/rollback", None).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(h.head().await, head, "nothing outside the scope was written");

        // The dry run's diff shows only what the scope can see.
        let v = call(Method::POST, "/api/v1/validate", Some(json!({"ops": [
            {"op": "patch", "kind": "tenant", "name": "a", "body": {"vips": []}}]}))).await.expect(StatusCode::OK);
        assert_eq!(v.body["diff"]["resources"].as_array().map(Vec::len), Some(1));
        assert_eq!(v.body["diff"]["resources"][0]["name"], "a");
    }
}
