//! Change sets: atomicity, and 422 with exact field paths.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

both_stores! {
    async fn a_change_set_with_one_bad_op_stores_nothing(h) {
        h.seed().await;
        let head = h.head().await;
        let clusters_before = h.get("/api/v1/clusters").await.body;
        // Good ops first, then an op that conflicts (create of an existing cluster).
        let set = json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "new1", "body": cluster("new1")},
            {"op": "create", "kind": "tenant", "name": "t9", "body": tenant("t9")},
            {"op": "create", "kind": "cluster", "name": "api", "body": cluster("api")}
        ]});
        let r = h.post("/api/v1/changes", set).await.expect(StatusCode::CONFLICT);
        assert!(r.body["error"].as_str().is_some_and(|e| e.contains("ops[2]")), "{}", r.text);
        // Good ops, then one that does not compile.
        let set = json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "new1", "body": cluster("new1")},
            {"op": "update", "kind": "routes", "tenant": "shop", "body": routes_to("missing")}
        ]});
        h.post("/api/v1/changes", set).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        // Good ops, then a body that does not parse.
        let set = json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "new1", "body": cluster("new1")},
            {"op": "create", "kind": "cluster", "name": "new2", "body": {"name": "new2"}}
        ]});
        let r = h.post("/api/v1/changes", set).await.expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["violations"][0]["path"], "ops[1].body");
        assert_eq!(h.head().await, head, "no version was created");
        assert_eq!(h.get("/api/v1/clusters").await.body, clusters_before);
        h.get("/api/v1/tenants/t9").await.expect(StatusCode::NOT_FOUND);
        h.get("/api/v1/clusters/new1").await.expect(StatusCode::NOT_FOUND);

        // The same set without the bad op commits as one version.
        let set = json!({"message": "two at once", "ops": [
            {"op": "create", "kind": "cluster", "name": "new1", "body": cluster("new1")},
            {"op": "create", "kind": "tenant", "name": "t9", "body": tenant("t9")},
            {"op": "update", "kind": "routes", "tenant": "t9", "body": routes_to("new1")}
        ]});
        let r = h.post("/api/v1/changes", set).await.expect(StatusCode::CREATED);
        assert_eq!(r.body["version"]["number"], head + 1);
        assert_eq!(r.body["version"]["message"], "two at once");
        assert_eq!(r.body["changes"].as_array().map(Vec::len), Some(3));
        assert_eq!(h.head().await, head + 1);
        h.post("/api/v1/changes", json!({"ops": []})).await.expect(StatusCode::BAD_REQUEST);
    }
}

both_stores! {
    async fn refused_candidates_name_the_field(h) {
        h.seed().await;
        let head = h.head().await;
        // A misspelt condition primitive.
        let r = h
            .put("/api/v1/tenants/shop/routes", json!({"advanced": [
                {"condition": "req_hots_in(\"a\")", "cluster": "api"}
            ]}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let v = &r.body["violations"][0];
        assert!(v["path"].as_str().is_some_and(|p| p.ends_with("routes.advanced[0].condition")), "{}", r.text);
        assert_eq!(v["path"], "tenants[0].routes.advanced[0].condition");
        assert!(v["message"].as_str().is_some_and(|m| m.contains("unknown primitive")), "{}", r.text);
        assert_eq!(v["resource"], "routes/shop:advanced[0].condition");
        // An unknown cluster.
        let r = h
            .put("/api/v1/tenants/shop/routes", routes_to("ghost"))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let v = &r.body["violations"][0];
        assert_eq!(v["path"], "tenants[0].routes.advanced[0].cluster");
        assert!(v["message"].as_str().is_some_and(|m| m.contains("unknown cluster 'ghost'")));
        // Deleting a cluster still referenced.
        let r = h.delete("/api/v1/clusters/api").await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text.contains("unknown cluster 'api'"), "{}", r.text);
        // An invalid certificate.
        let r = h
            .post("/api/v1/certificates", json!({"name": "bad", "cert_pem": "not a pem", "key_pem": "nor this"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let paths: Vec<&str> = r.body["violations"]
            .as_array()
            .expect("violations")
            .iter()
            .filter_map(|v| v["path"].as_str())
            .collect();
        assert!(paths.contains(&"certificates[0].cert_pem"), "{}", r.text);
        assert!(!r.text.contains("nor this"));
        assert_eq!(h.head().await, head);

        // The dry run reports the same, with a diff, and stores nothing.
        let r = h
            .post("/api/v1/validate", json!({"ops": [
                {"op": "update", "kind": "routes", "tenant": "shop", "body": {"advanced": [
                    {"condition": "req_hots_in(\"a\")", "cluster": "api"}]}}
            ]}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["valid"], false);
        assert_eq!(r.body["violations"][0]["path"], "tenants[0].routes.advanced[0].condition");
        let r = h
            .post("/api/v1/validate", json!({"ops": [
                {"op": "patch", "kind": "cluster", "name": "api", "body": {"slow_start_ms": 10}},
                {"op": "create", "kind": "cluster", "name": "extra", "body": cluster("extra")}
            ]}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["valid"], true);
        assert_eq!(r.body["violations"], json!([]));
        let diff = &r.body["diff"]["resources"];
        assert_eq!(diff[0]["kind"], "cluster");
        assert_eq!(diff[0]["name"], "api");
        assert_eq!(diff[0]["change"], "changed");
        assert_eq!(diff[0]["fields"][0]["path"], "slow_start_ms");
        assert_eq!(diff[0]["fields"][0]["after"], 10);
        assert_eq!(diff[1]["name"], "extra");
        assert_eq!(diff[1]["change"], "added");
        assert_eq!(h.head().await, head);
        h.get("/api/v1/clusters/extra").await.expect(StatusCode::NOT_FOUND);
    }
}
