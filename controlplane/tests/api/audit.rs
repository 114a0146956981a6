//! The audit log, and that no secret is ever echoed.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

both_stores! {
    async fn audit_entries_have_before_and_after(h) {
        h.seed().await;
        h.call(Method::PATCH, "/api/v1/clusters/api", Some(ADMIN), Some(json!({"slow_start_ms": 42})),
            &[("x-request-id", "req-audit-1")]).await.expect(StatusCode::OK);
        let a = h.get("/api/v1/audit?resource_kind=cluster&resource_name=api").await.expect(StatusCode::OK);
        let items = a.body["items"].as_array().expect("items");
        assert_eq!(items.len(), 2, "{}", a.text);
        let e = &items[0];
        assert_eq!(e["action"], "update");
        assert_eq!(e["actor"], "bootstrap#1");
        assert_eq!(e["request_id"], "req-audit-1");
        assert_eq!(e["version"], 2);
        assert_eq!(e["before"]["slow_start_ms"], 0);
        assert_eq!(e["after"]["slow_start_ms"], 42);
        assert!(e["at"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(items[1]["action"], "create");
        assert!(items[1]["before"].is_null());

        // Deletes, token writes and rollbacks are audited too.
        h.post("/api/v1/clusters", cluster("tmp")).await.expect(StatusCode::CREATED);
        h.delete("/api/v1/clusters/tmp").await.expect(StatusCode::NO_CONTENT);
        let a = h.get("/api/v1/audit?resource_name=tmp").await.expect(StatusCode::OK);
        assert_eq!(a.body["items"][0]["action"], "delete");
        assert!(a.body["items"][0]["after"].is_null());
        assert_eq!(a.body["items"][0]["before"]["name"], "tmp");
        let (id, _) = h.token("t", "viewer", None).await;
        h.delete(&format!("/api/v1/tokens/{id}")).await.expect(StatusCode::NO_CONTENT);
        let a = h.get("/api/v1/audit?resource_kind=token").await.expect(StatusCode::OK);
        let actions: Vec<&str> = a.body["items"].as_array().expect("items").iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions, ["token.revoke", "token.create", "token.create"]);
        h.post("/api/v1/versions/1/rollback", json!(null)).await.expect(StatusCode::CREATED);
        let a = h.get("/api/v1/audit?limit=1").await.expect(StatusCode::OK);
        assert!(a.body["items"][0]["action"].as_str().is_some_and(|s| s.starts_with("rollback.")));
        // Paging.
        let c = a.body["next_cursor"].as_str().expect("cursor").to_owned();
        let b = h.get(&format!("/api/v1/audit?limit=1&cursor={c}")).await.expect(StatusCode::OK);
        assert!(b.body["items"][0]["id"].as_i64() < a.body["items"][0]["id"].as_i64());
    }
}

both_stores! {
    async fn no_secret_is_ever_echoed(h) {
        h.seed().await;
        h.post("/api/v1/certificates", certificate("www")).await.expect(StatusCode::CREATED);
        h.put("/api/v1/certificates/www", certificate("www")).await.expect(StatusCode::OK);
        h.patch("/api/v1/certificates/www", json!({"key_pem": key_pem()})).await.expect(StatusCode::OK);
        h.post("/api/v1/changes", json!({"ops": [
            {"op": "create", "kind": "certificate", "name": "c2", "body": certificate("c2")}]}))
            .await
            .expect(StatusCode::CREATED);
        let (_, secret) = h.token("ops", "operator", None).await;
        let hash = bfe_controlplane::auth::hash_secret(&secret);
        let admin_hash = bfe_controlplane::auth::hash_secret(ADMIN);
        let head = h.head().await;
        let mut paths = vec![
            "/api/v1/certificates".to_owned(),
            "/api/v1/certificates/www".to_owned(),
            "/api/v1/certificates/c2".to_owned(),
            "/api/v1/audit?limit=1000".to_owned(),
            "/api/v1/tokens".to_owned(),
            "/api/v1/tokens/1".to_owned(),
            "/api/v1/tokens/2".to_owned(),
            "/api/v1/versions".to_owned(),
            format!("/api/v1/versions/diff?from=0&to={head}"),
            format!("/api/v1/versions/diff?from=1&to={head}"),
        ];
        for n in 1..=head {
            paths.push(format!("/api/v1/versions/{n}/snapshot"));
            paths.push(format!("/api/v1/versions/{n}"));
        }
        for p in &paths {
            let r = h.get(p).await.expect(StatusCode::OK);
            for secret_text in [key_marker(), "PRIVATE KEY", secret.as_str(), hash.as_str(), ADMIN, admin_hash.as_str()] {
                assert!(!r.text.contains(secret_text), "{p} echoes a secret ({secret_text})");
            }
        }
        // The dry run and a refused write do not echo the key either.
        let r = h.post("/api/v1/validate", json!({"ops": [
            {"op": "update", "kind": "certificate", "name": "www", "body": certificate("www")}]}))
            .await
            .expect(StatusCode::OK);
        assert!(!r.text.contains(key_marker()));
        let mut bad = certificate("www");
        bad["cert_pem"] = json!("garbage");
        let r = h.put("/api/v1/certificates/www", bad).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!r.text.contains(key_marker()));
    }
}
