//! Explicit cluster ownership and scoped tokens that name real tenants.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// Tenants `a` and `b`; `ca` owned by `a` and used by its routes; `orphan` owned by nobody and
/// used by nobody.
async fn setup(h: &Harness) {
    h.post(
        "/api/v1/changes",
        json!({"ops": [
            {"op": "create", "kind": "tenant", "name": "a", "body": tenant("a")},
            {"op": "create", "kind": "tenant", "name": "b", "body": tenant("b")},
            {"op": "create", "kind": "cluster", "name": "ca", "body": owned_cluster("ca", "a")},
            {"op": "create", "kind": "cluster", "name": "orphan", "body": cluster("orphan")},
            {"op": "update", "kind": "routes", "tenant": "a", "body": routes_to("ca")}
        ]}),
    )
    .await
    .expect(StatusCode::CREATED);
}

/// Runs `sql` on the harness's database directly (what an older control plane left behind).
async fn raw_sql(h: &Harness, sql: &str) {
    sqlx::any::install_default_drivers();
    let url = match (&h.pg_url, &h.sqlite_path) {
        (Some(u), _) => u.clone(),
        (None, Some(p)) => format!("sqlite://{}", p.display()),
        (None, None) => panic!("no database location"),
    };
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    sqlx::query(sql).execute(&pool).await.expect(sql);
    pool.close().await;
}

both_stores! {
    async fn scoped_tokens_must_name_existing_tenants(h) {
        h.seed().await;
        let before = h.get("/api/v1/tokens").await.body["items"].as_array().map(Vec::len);
        for tenants in [json!(["ghost"]), json!(["shop", "ghost"])] {
            let r = h.post("/api/v1/tokens", json!({"name": "t", "role": "operator", "tenants": tenants}))
                .await
                .expect(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(r.body["violations"][0]["path"], "tenants", "{}", r.text);
            assert!(r.text.contains("ghost"), "{}", r.text);
        }
        assert_eq!(h.get("/api/v1/tokens").await.body["items"].as_array().map(Vec::len), before);
        h.token("shop-op", "operator", Some(&["shop"])).await;
    }
}

both_stores! {
    async fn a_scoped_token_cannot_take_over_a_cluster_by_routing_to_it(h) {
        setup(&h).await;
        let (_, op) = h.token("a-op", "operator", Some(&["a"])).await;
        let call = |m: Method, p: &'static str, b: Option<Value>| {
            let op = op.clone();
            let h = &h;
            async move { h.call(m, p, Some(&op), b, &[]).await }
        };
        let head = h.head().await;
        call(Method::GET, "/api/v1/clusters/orphan", None).await.expect(StatusCode::NOT_FOUND);
        let take = json!({"advanced": [{"condition": "default_t()", "cluster": "orphan"}]});
        call(Method::PUT, "/api/v1/tenants/a/routes", Some(take.clone())).await.expect(StatusCode::FORBIDDEN);
        let both = json!({"ops": [
            {"op": "update", "kind": "routes", "tenant": "a", "body": take},
            {"op": "patch", "kind": "cluster", "name": "orphan", "body": {"slow_start_ms": 1}}
        ]});
        call(Method::POST, "/api/v1/changes", Some(both)).await.expect(StatusCode::FORBIDDEN);
        call(Method::GET, "/api/v1/clusters/orphan", None).await.expect(StatusCode::NOT_FOUND);
        assert_eq!(h.head().await, head, "nothing was written");
        assert_eq!(h.get("/api/v1/clusters/orphan").await.body.get("owner"), None);

        // Ownership is what the cluster says: its own, visible and writable even unused...
        call(Method::POST, "/api/v1/clusters", Some(owned_cluster("spare", "a"))).await.expect(StatusCode::CREATED);
        let listed = call(Method::GET, "/api/v1/clusters", None).await.expect(StatusCode::OK);
        let names: Vec<&str> = listed.body["items"].as_array().expect("items").iter()
            .filter_map(|i| i["name"].as_str()).collect();
        assert_eq!(names, ["ca", "spare"]);
        call(Method::PATCH, "/api/v1/clusters/spare", Some(json!({"slow_start_ms": 3}))).await.expect(StatusCode::OK);
        // ...but it cannot create global or other tenants' clusters, nor give its own away.
        call(Method::POST, "/api/v1/clusters", Some(cluster("global2"))).await.expect(StatusCode::FORBIDDEN);
        call(Method::POST, "/api/v1/clusters", Some(owned_cluster("forb", "b"))).await.expect(StatusCode::FORBIDDEN);
        call(Method::PATCH, "/api/v1/clusters/ca", Some(json!({"owner": "b"}))).await.expect(StatusCode::FORBIDDEN);
        call(Method::PATCH, "/api/v1/clusters/ca", Some(json!({"owner": null}))).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(h.get("/api/v1/clusters/ca").await.body["owner"], "a");
    }
}

both_stores! {
    async fn routes_may_use_only_their_tenants_or_global_clusters(h) {
        setup(&h).await;
        // Even an unscoped admin cannot point b's routes at a's cluster: the candidate is
        // refused with the route's path.
        let r = h.put("/api/v1/tenants/b/routes", routes_to("ca")).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["violations"][0]["path"], "tenants[1].routes.advanced[0].cluster", "{}", r.text);
        // A global cluster may serve any tenant.
        h.put("/api/v1/tenants/b/routes", routes_to("orphan")).await.expect(StatusCode::OK);
        // An owner must be a tenant: a cluster of a missing tenant, or a tenant deleted while it
        // still owns clusters, is refused.
        let r = h.post("/api/v1/clusters", owned_cluster("x", "ghost")).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body["violations"][0]["path"].as_str().is_some_and(|p| p.ends_with(".owner")), "{}", r.text);
        let r = h.delete("/api/v1/tenants/a").await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text.contains("owner"), "{}", r.text);
        // Moving a cluster to another owner is checked against the routes that use it.
        h.patch("/api/v1/clusters/ca", json!({"owner": "b"})).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

both_stores! {
    async fn existing_clusters_get_the_owner_they_were_inferred_to_have(h) {
        // What an older control plane stored: clusters without an owner.
        h.post("/api/v1/changes", json!({"ops": [
            {"op": "create", "kind": "tenant", "name": "a", "body": tenant("a")},
            {"op": "create", "kind": "tenant", "name": "b", "body": tenant("b")},
            {"op": "create", "kind": "cluster", "name": "solo", "body": cluster("solo")},
            {"op": "create", "kind": "cluster", "name": "shared", "body": cluster("shared")},
            {"op": "create", "kind": "cluster", "name": "unused", "body": cluster("unused")},
            {"op": "update", "kind": "routes", "tenant": "a", "body": {"advanced": [
                {"condition": "req_path_in(\"/s\", false)", "cluster": "shared"},
                {"condition": "default_t()", "cluster": "solo"}]}},
            {"op": "update", "kind": "routes", "tenant": "b", "body": routes_to("shared")}
        ]}))
        .await
        .expect(StatusCode::CREATED);
        raw_sql(&h, "INSERT INTO pending_upgrades (name) VALUES ('cluster_owners')").await;
        let head = h.head().await;

        // The next start (a replica opening the store) assigns owners once, as a version.
        let (_, replica) = h.replica().await;
        assert_eq!(h.head().await, head + 1);
        let v = h.get(&format!("/api/v1/versions/{}", head + 1)).await.expect(StatusCode::OK);
        assert_eq!(v.body["author"], "system", "{}", v.text);
        assert_eq!(h.get("/api/v1/clusters/solo").await.body["owner"], "a");
        assert_eq!(h.get("/api/v1/clusters/shared").await.body.get("owner"), None);
        assert_eq!(h.get("/api/v1/clusters/unused").await.body.get("owner"), None);
        replica.close().await;
        // Once only.
        let (_, again) = h.replica().await;
        again.close().await;
        assert_eq!(h.head().await, head + 1);

        let (_, op) = h.token("a-op", "operator", Some(&["a"])).await;
        h.call(Method::GET, "/api/v1/clusters/solo", Some(&op), None, &[]).await.expect(StatusCode::OK);
        h.call(Method::GET, "/api/v1/clusters/shared", Some(&op), None, &[]).await.expect(StatusCode::NOT_FOUND);
    }
}
