//! Managed mode against an in-process fake control plane: the RECEIVED → ACK → ACTIVE / NACK
//! protocol, persistence, boot from cache with the control plane down, reconnect, statistics.

use std::time::Duration;

use bfe_config::RawSnapshot;
use bfe_proto::discovery::v1::Snapshot;
use bfe_proto::discovery::v1::status::State;
use bfe_tests::fake_cp::FakeControlPlane;
use bfe_tests::origin::Origin;
use bfe_tests::proxy::{TestProxy, simple_config};
use bfe_tests::raw::get;
use hdrhistogram::serialization::Deserializer;

fn snapshot(backend: std::net::SocketAddr) -> RawSnapshot {
    RawSnapshot::parse(&simple_config(&["a.test"], &[backend], "")).unwrap()
}

async fn wait_until(mut ok: impl FnMut() -> bool, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_version_is_acked_activated_persisted_and_served() {
    let origin = Origin::start("o").await;
    let cp = FakeControlPlane::start().await;
    let cache = tempfile::tempdir().unwrap();
    let node = TestProxy::start_managed(&cp.url(), "node-1", cache.path()).await;
    assert_eq!(
        get(node.admin, "x", "/readyz").await.status,
        503,
        "no config yet"
    );
    assert_eq!(get(node.addr, "a.test", "/").await.status, 404);

    cp.push(1, &snapshot(origin.addr));
    let active = cp
        .wait_status(1, State::Active as i32, Duration::from_secs(5))
        .await;
    assert!(active.is_some(), "statuses: {:?}", cp.statuses());
    let states: Vec<i32> = cp
        .statuses()
        .iter()
        .filter(|s| s.version == 1)
        .map(|s| s.state)
        .collect();
    assert_eq!(
        states,
        [
            State::Received as i32,
            State::Ack as i32,
            State::Active as i32
        ]
    );
    let hello = &cp.hellos()[0];
    assert_eq!(hello.node_id, "node-1");
    assert_eq!(hello.labels.get("zone").map(String::as_str), Some("test"));
    assert_eq!(hello.held_version, 0);

    assert_eq!(node.version(), Some(1));
    assert_eq!(get(node.addr, "a.test", "/").await.status, 200);
    assert_eq!(get(node.admin, "x", "/readyz").await.status, 200);
    assert_eq!(get(node.admin, "x", "/config").await.json()["version"], 1);
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&node.config_path).unwrap()).unwrap();
    assert_eq!(cached["version"], 1, "persisted before ACTIVE was sent");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_or_corrupt_versions_are_nacked_and_the_old_one_keeps_serving() {
    let origin = Origin::start("o").await;
    let cp = FakeControlPlane::start().await;
    let cache = tempfile::tempdir().unwrap();
    let node = TestProxy::start_managed(&cp.url(), "node-2", cache.path()).await;
    cp.push(1, &snapshot(origin.addr));
    assert!(
        cp.wait_status(1, State::Active as i32, Duration::from_secs(5))
            .await
            .is_some()
    );

    let mut bad = snapshot(origin.addr);
    bad.tenants[0].routes.advanced[0].condition = "req_hots_in(\"a\")".to_owned();
    cp.push(2, &bad);
    let nack = cp
        .wait_status(2, State::Nack as i32, Duration::from_secs(5))
        .await
        .expect("NACK");
    assert_eq!(nack.violations.len(), 1);
    assert_eq!(
        nack.violations[0].path,
        "tenants[0].routes.advanced[0].condition"
    );
    assert!(
        nack.violations[0]
            .message
            .contains("unknown primitive 'req_hots_in'"),
        "{nack:?}"
    );
    assert!(
        cp.statuses()
            .iter()
            .all(|s| !(s.version == 2 && s.state == State::Active as i32))
    );

    let good = snapshot(origin.addr);
    cp.push_raw(Snapshot {
        version: 3,
        sha256: "0".repeat(64),
        body: good.canonical_json(),
        committed_unix_ms: 0,
    });
    let nack = cp
        .wait_status(3, State::Nack as i32, Duration::from_secs(5))
        .await
        .expect("NACK");
    assert!(nack.message.contains("hash mismatch"), "{nack:?}");

    assert_eq!(node.version(), Some(1), "still on the last good version");
    assert_eq!(get(node.addr, "a.test", "/").await.status, 200);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeps_serving_without_its_control_plane_and_boots_from_its_cache() {
    let origin = Origin::start("o").await;
    let mut cp = FakeControlPlane::start().await;
    let cp_addr = cp.addr;
    let cache = tempfile::tempdir().unwrap();
    let node = TestProxy::start_managed(&cp.url(), "node-3", cache.path()).await;
    cp.push(1, &snapshot(origin.addr));
    assert!(
        cp.wait_status(1, State::Active as i32, Duration::from_secs(5))
            .await
            .is_some()
    );

    cp.stop();
    drop(cp);
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..5 {
        assert_eq!(
            get(node.addr, "a.test", "/").await.status,
            200,
            "serving with the control plane gone"
        );
    }
    node.shutdown().await;

    // Restart while the control plane is still down: the cached version serves.
    let node = TestProxy::start_managed(&format!("http://{cp_addr}"), "node-3", cache.path()).await;
    assert_eq!(node.version(), Some(1));
    assert_eq!(get(node.admin, "x", "/readyz").await.status, 200);
    assert_eq!(get(node.addr, "a.test", "/").await.status, 200);

    // The control plane comes back on its address: the node reconnects, says what it holds,
    // and takes the next version.
    let cp = FakeControlPlane::bind(cp_addr).await;
    assert!(
        wait_until(|| !cp.hellos().is_empty(), Duration::from_secs(10)).await,
        "reconnected with backoff"
    );
    assert_eq!(cp.hellos()[0].held_version, 1);
    let other = Origin::start("other").await;
    cp.push(2, &snapshot(other.addr));
    assert!(
        cp.wait_status(2, State::Active as i32, Duration::from_secs(5))
            .await
            .is_some()
    );
    assert_eq!(
        get(node.addr, "a.test", "/").await.json()["backend"],
        "other"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_statistics_reach_the_control_plane_exactly() {
    let origin = Origin::start("o").await;
    let cp = FakeControlPlane::start().await;
    let cache = tempfile::tempdir().unwrap();
    let node = TestProxy::start_managed(&cp.url(), "node-4", cache.path()).await;
    cp.push(7, &snapshot(origin.addr));
    assert!(
        cp.wait_status(7, State::Active as i32, Duration::from_secs(5))
            .await
            .is_some()
    );
    for _ in 0..25 {
        assert_eq!(get(node.addr, "a.test", "/").await.status, 200);
    }
    for _ in 0..4 {
        assert_eq!(get(node.addr, "nobody.test", "/").await.status, 404);
    }
    let counted = |cp: &FakeControlPlane| -> (u64, u64) {
        let mut ok = 0;
        let mut missing = 0;
        for b in cp.batches() {
            for r in &b.records {
                if r.tenant == "t" && r.status_class == "2xx" && r.config_version == 7 {
                    ok += r.requests;
                }
                if r.tenant.is_empty() && r.status_class == "4xx" {
                    missing += r.requests;
                }
            }
        }
        (ok, missing)
    };
    assert!(
        wait_until(|| counted(&cp) == (25, 4), Duration::from_secs(5)).await,
        "{:?}",
        counted(&cp)
    );
    let batches = cp.batches();
    let seqs: Vec<u64> = batches.iter().map(|b| b.sequence).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "increasing sequences {seqs:?}"
    );
    assert!(
        batches
            .iter()
            .all(|b| b.node_id == "node-4" && !b.boot_id.is_empty())
    );
    // The latency histograms are real HDR histograms that merge.
    let mut total = 0;
    for b in &batches {
        for r in b.records.iter().filter(|r| r.tenant == "t") {
            let h: hdrhistogram::Histogram<u64> = Deserializer::new()
                .deserialize(&mut &r.latency_hdr[..])
                .unwrap();
            assert_eq!(h.len(), r.requests);
            total += h.len();
        }
    }
    assert_eq!(total, 25);
    node.shutdown().await;
}
