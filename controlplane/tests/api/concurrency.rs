//! 50 concurrent writers: strictly increasing versions, none lost.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

const WRITERS: usize = 50;

both_stores! {
    async fn fifty_concurrent_writers(h) {
        h.seed().await;
        let h = std::sync::Arc::new(h);
        let mut tasks = Vec::new();
        for i in 0..WRITERS {
            let h = h.clone();
            tasks.push(tokio::spawn(async move {
                // Half create a cluster each; half append a host to the same tenant with a
                // read-modify-write guarded by If-Match, retrying on 412 (the lost-update case).
                if i % 2 == 0 {
                    let r = h.post("/api/v1/clusters", cluster(&format!("w{i}"))).await;
                    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
                    r.headers["x-config-version"].to_str().expect("v").parse::<i64>().expect("n")
                } else {
                    loop {
                        let cur = h.get("/api/v1/tenants/shop").await.expect(StatusCode::OK);
                        let etag = cur.etag();
                        let mut hosts = cur.body["hosts"].as_array().expect("hosts").clone();
                        hosts.push(json!(format!("h{i}.shop.example")));
                        let r = h
                            .call(axum::http::Method::PATCH, "/api/v1/tenants/shop", Some(ADMIN),
                                Some(json!({"hosts": hosts})), &[("if-match", &etag)])
                            .await;
                        match r.status {
                            StatusCode::OK => {
                                break r.headers["x-config-version"].to_str().expect("v").parse::<i64>().expect("n");
                            }
                            StatusCode::PRECONDITION_FAILED => continue,
                            s => panic!("unexpected {s}: {}", r.text),
                        }
                    }
                }
            }));
        }
        let mut versions = Vec::new();
        for t in tasks {
            versions.push(t.await.expect("writer"));
        }
        versions.sort_unstable();
        versions.dedup();
        assert_eq!(versions.len(), WRITERS, "each writer got its own version");
        assert_eq!(h.head().await, 1 + WRITERS as i64);

        // The version history is contiguous, each version's parent is the one before it.
        let list = h.get("/api/v1/versions?limit=1000").await.expect(StatusCode::OK);
        let items = list.body["items"].as_array().expect("items");
        assert_eq!(items.len(), WRITERS + 1);
        for (i, v) in items.iter().enumerate() {
            let n = (WRITERS + 1 - i) as i64;
            assert_eq!(v["number"], n);
            if n > 1 {
                assert_eq!(v["parent"], n - 1);
            }
        }
        // No update was lost: every cluster and every host is there.
        let clusters = h.get("/api/v1/clusters?limit=1000").await.body;
        assert_eq!(clusters["items"].as_array().map(Vec::len), Some(2 + WRITERS / 2));
        let hosts = h.get("/api/v1/tenants/shop").await.body["hosts"].as_array().expect("hosts").len();
        assert_eq!(hosts, 1 + WRITERS / 2);
    }
}

both_stores! {
    async fn two_replicas_share_one_history(h) {
        // Two stores with their own pools stand for two control-plane processes: they serialize
        // on the database (PostgreSQL's row lock, SQLite's write lock), not on a process mutex.
        h.seed().await;
        let (other_app, other_store) = h.replica().await;
        let other = Harness { app: other_app, store: other_store.clone(), pg_url: None, sqlite_path: None };
        let (h, other) = (std::sync::Arc::new(h), std::sync::Arc::new(other));
        let mut tasks = Vec::new();
        for i in 0..40 {
            let target = if i % 2 == 0 { h.clone() } else { other.clone() };
            tasks.push(tokio::spawn(async move {
                let r = target.post("/api/v1/clusters", cluster(&format!("r{i}"))).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            }));
        }
        for t in tasks {
            t.await.expect("writer");
        }
        assert_eq!(h.head().await, 41);
        assert_eq!(other.head().await, 41);
        let list = other.get("/api/v1/versions?limit=1000").await.expect(StatusCode::OK);
        let numbers: Vec<i64> = list.body["items"].as_array().expect("items").iter().filter_map(|v| v["number"].as_i64()).collect();
        assert_eq!(numbers, (1..=41).rev().collect::<Vec<_>>());
        let clusters = h.get("/api/v1/clusters?limit=1000").await.body;
        assert_eq!(clusters["items"].as_array().map(Vec::len), Some(42));
        other_store.close().await;
    }
}
