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
