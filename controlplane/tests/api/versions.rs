//! Versions: list, show, snapshot, diff and rollback.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

both_stores! {
    async fn versions_diff_and_rollback(h) {
        h.seed().await; // v1
        let v1 = h.get("/api/v1/versions/1").await.expect(StatusCode::OK);
        assert_eq!(v1.body["number"], 1);
        assert_eq!(v1.body["message"], "seed");
        assert_eq!(v1.body["author"], "bootstrap#1");
        assert!(v1.body["parent"].is_null());
        assert_eq!(v1.body["sha256"].as_str().map(str::len), Some(64));

        h.patch("/api/v1/clusters/api", json!({"balance": "wlc"})).await.expect(StatusCode::OK); // v2
        h.post("/api/v1/clusters", cluster("extra")).await.expect(StatusCode::CREATED); // v3
        h.put("/api/v1/tenants/shop/routes", routes_to("extra")).await.expect(StatusCode::OK); // v4
        h.post("/api/v1/certificates", certificate("www")).await.expect(StatusCode::CREATED); // v5
        assert_eq!(h.head().await, 5);
        let v5 = h.get("/api/v1/versions/5").await.body;
        assert_eq!(v5["parent"], 4);

        // Paged, newest first.
        let p = h.get("/api/v1/versions?limit=2").await.expect(StatusCode::OK);
        let nums: Vec<i64> = p.body["items"].as_array().expect("items").iter().filter_map(|v| v["number"].as_i64()).collect();
        assert_eq!(nums, [5, 4]);
        let c = p.body["next_cursor"].as_str().expect("cursor").to_owned();
        let p = h.get(&format!("/api/v1/versions?limit=10&cursor={c}")).await.expect(StatusCode::OK);
        let nums: Vec<i64> = p.body["items"].as_array().expect("items").iter().filter_map(|v| v["number"].as_i64()).collect();
        assert_eq!(nums, [3, 2, 1]);
        assert!(p.body["next_cursor"].is_null());

        // The snapshot, without private keys.
        let s = h.get("/api/v1/versions/5/snapshot").await.expect(StatusCode::OK);
        assert_eq!(s.body["certificates"][0]["name"], "www");
        assert!(s.body["certificates"][0].get("key_pem").is_none());
        assert!(!s.text.contains(key_marker()));
        assert_eq!(s.body["tenants"][0]["routes"]["advanced"][0]["cluster"], "extra");
        h.get("/api/v1/versions/99").await.expect(StatusCode::NOT_FOUND).assert_error_shape();

        // Field-level diff.
        let d = h.get("/api/v1/versions/diff?from=1&to=4").await.expect(StatusCode::OK);
        let res = d.body["resources"].as_array().expect("resources");
        let find = |kind: &str, name: &str| {
            res.iter().find(|r| r["kind"] == kind && r["name"] == name).cloned().expect("resource in diff")
        };
        let api = find("cluster", "api");
        assert_eq!(api["change"], "changed");
        assert_eq!(api["fields"], json!([{"path": "balance", "change": "changed", "before": "wrr", "after": "wlc"}]));
        assert_eq!(find("cluster", "extra")["change"], "added");
        let shop = find("tenant", "shop");
        let paths: Vec<&str> = shop["fields"].as_array().expect("fields").iter().filter_map(|f| f["path"].as_str()).collect();
        assert!(paths.contains(&"routes.advanced[0].cluster"), "{paths:?}");
        assert!(paths.contains(&"routes.basic[0]"), "{paths:?}");
        let d = h.get("/api/v1/versions/diff?from=4&to=5").await.expect(StatusCode::OK);
        assert_eq!(d.body["resources"][0]["kind"], "certificate");
        assert_eq!(d.body["resources"][0]["change"], "added");
        assert!(!d.text.contains(key_marker()));
        let d = h.get("/api/v1/versions/diff?from=3&to=3").await.expect(StatusCode::OK);
        assert_eq!(d.body["resources"], json!([]));
        h.get("/api/v1/versions/diff?from=1&to=42").await.expect(StatusCode::NOT_FOUND);
        h.get("/api/v1/versions/diff?from=1").await.expect(StatusCode::BAD_REQUEST);

        // Rollback to v1: a new version equal to v1, and the store matches it.
        let r = h.post("/api/v1/versions/1/rollback", json!(null)).await.expect(StatusCode::CREATED);
        assert_eq!(r.body["number"], 6);
        assert_eq!(r.body["rollback_of"], 1);
        assert_eq!(r.body["sha256"], v1.body["sha256"]);
        h.get("/api/v1/clusters/extra").await.expect(StatusCode::NOT_FOUND);
        h.get("/api/v1/certificates/www").await.expect(StatusCode::NOT_FOUND);
        assert_eq!(h.get("/api/v1/clusters/api").await.body["balance"], "wrr");
        assert_eq!(h.get("/api/v1/tenants/shop/routes").await.body["advanced"][0]["cluster"], "api");
        let d = h.get("/api/v1/versions/diff?from=1&to=6").await.expect(StatusCode::OK);
        assert_eq!(d.body["resources"], json!([]));
        // And forward again to v5: the certificate comes back with its key.
        let r = h.post("/api/v1/versions/5/rollback", json!(null)).await.expect(StatusCode::CREATED);
        assert_eq!(r.body["sha256"], v5["sha256"]);
        assert_eq!(h.get("/api/v1/certificates/www").await.body["has_key"], true);
        h.post("/api/v1/versions/77/rollback", json!(null)).await.expect(StatusCode::NOT_FOUND);
    }
}

/// Other replicas learn of a commit through LISTEN/NOTIFY (PostgreSQL only: an embedded SQLite
/// store has one process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notifies_every_new_version() {
    run(Db::Postgres, |h| async move {
        let url = h.pg_url.clone().expect("a PostgreSQL run");
        let mut listener = sqlx::postgres::PgListener::connect(&url)
            .await
            .expect("listen");
        listener
            .listen(bfe_controlplane::store::VERSIONS_CHANNEL)
            .await
            .expect("listen");
        h.seed().await;
        h.post("/api/v1/clusters", cluster("x"))
            .await
            .expect(StatusCode::CREATED);
        for expected in ["1", "2"] {
            let n = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv())
                .await
                .expect("a notification in time")
                .expect("notification");
            assert_eq!(n.payload(), expected);
        }
    })
    .await;
}
