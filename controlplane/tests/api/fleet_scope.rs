//! The fleet view for tenant-scoped tokens: every node's version state, but of a NACK only the
//! violations in the token's own tenants and clusters.

use axum::http::{Method, StatusCode};
use bfe_controlplane::store::{Nack, NackViolation};
use serde_json::json;

use crate::support::*;

both_stores! {
    async fn scoped_tokens_see_the_fleet_but_not_other_tenants_nacks(h) {
        h.post("/api/v1/changes", json!({"ops": [
            {"op": "create", "kind": "tenant", "name": "a", "body": tenant("a")},
            {"op": "create", "kind": "tenant", "name": "b", "body": tenant("b")},
            {"op": "create", "kind": "cluster", "name": "ca", "body": owned_cluster("ca", "a")},
            {"op": "create", "kind": "cluster", "name": "cb", "body": owned_cluster("cb", "b")},
            {"op": "update", "kind": "routes", "tenant": "a", "body": routes_to("ca")},
            {"op": "update", "kind": "routes", "tenant": "b", "body": routes_to("cb")}
        ]}))
        .await
        .expect(StatusCode::CREATED);
        let head = h.head().await;
        // What the discovery service records for a node that runs `head` and refused it once.
        let labels = [("zone".to_owned(), "z1".to_owned())].into_iter().collect();
        h.store.node_hello("n1", &labels, "build-1").await.expect("hello");
        h.store.node_active("n1", head, "sha").await.expect("active");
        let v = |path: &str, message: &str| NackViolation { path: path.to_owned(), message: message.to_owned() };
        let nack = Nack {
            version: head,
            build: "build-1".to_owned(),
            reason: "tenant b-secret-reason refused".to_owned(),
            // Snapshot order: tenants a, b; clusters ca, cb.
            violations: vec![
                v("tenants[0].routes.advanced[0].condition", "a-visible"),
                v("tenants[1].hosts[0]", "b-secret-host"),
                v("clusters[1].sub_clusters[0].weight", "cb-secret-weight"),
                v("clusters[0].sub_clusters[0].weight", "ca-visible"),
                v("modules.access_log.target", "global-secret"),
            ],
        };
        h.store.node_nack("n1", &nack).await.expect("nack");

        let (_, viewer) = h.token("a-viewer", "viewer", Some(&["a"])).await;
        for path in ["/api/v1/nodes", "/api/v1/nodes/n1"] {
            let r = h.call(Method::GET, path, Some(&viewer), None, &[]).await.expect(StatusCode::OK);
            let node = if path.ends_with("nodes") { &r.body["items"][0] } else { &r.body };
            assert_eq!(node["node_id"], "n1", "{}", r.text);
            assert_eq!(node["applied_version"], head);
            assert_eq!(node["connected"], true);
            let messages: Vec<&str> = node["last_nack"]["violations"].as_array().expect("violations")
                .iter().filter_map(|v| v["message"].as_str()).collect();
            assert_eq!(messages, ["a-visible", "ca-visible"], "{}", r.text);
            assert_eq!(node["last_nack"]["version"], head);
            assert!(!r.text.contains("secret"), "{path}: {}", r.text);
        }
        // An unscoped viewer sees the node's own words.
        let (_, all) = h.token("viewer", "viewer", None).await;
        let r = h.call(Method::GET, "/api/v1/nodes/n1", Some(&all), None, &[]).await.expect(StatusCode::OK);
        assert_eq!(r.body["last_nack"]["violations"].as_array().map(Vec::len), Some(5));
        assert!(r.text.contains("b-secret-reason"));
    }
}
