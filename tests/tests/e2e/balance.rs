//! Balancing, health and retries through real requests: weighted shares, least connections,
//! consistent stickiness, a backend killed under load, slow start after recovery, active
//! checks, retry rules and cross-sub-cluster retry.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bfe_tests::origin::Origin;
use bfe_tests::proxy::TestProxy;
use bfe_tests::raw::{get, request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// (sub-cluster name, GSLB weight, [(backend, weight)]).
type Sub<'a> = (&'a str, u32, &'a [(SocketAddr, u32)]);

fn cluster_config(subs: &[Sub<'_>], extra: &str) -> String {
    let subs: Vec<String> = subs
        .iter()
        .map(|(name, w, bs)| {
            let bs: Vec<String> = bs
                .iter()
                .map(|(a, w)| format!("{{ addr: \"{a}\", weight: {w} }}"))
                .collect();
            format!(
                "      - {{ name: {name}, weight: {w}, backends: [{}] }}",
                bs.join(", ")
            )
        })
        .collect();
    format!(
        r#"
tenants:
  - {{ name: t, hosts: ["a.test"], routes: {{ advanced: [{{ condition: "default_t()", cluster: c }}] }} }}
clusters:
  - name: c
    sub_clusters:
{}
{extra}
"#,
        subs.join("\n")
    )
}

async fn dead_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn wrr_splits_requests_by_weight() {
    let (a, b, c) = (
        Origin::start("a").await,
        Origin::start("b").await,
        Origin::start("c").await,
    );
    let config = cluster_config(&[("s", 1, &[(a.addr, 1), (b.addr, 2), (c.addr, 3)])], "");
    let proxy = TestProxy::start(&config).await;
    for _ in 0..600 {
        assert_eq!(get(proxy.addr, "a.test", "/").await.status, 200);
    }
    assert_eq!(
        (a.hits(), b.hits(), c.hits()),
        (100, 200, 300),
        "smooth WRR is exact per cycle"
    );
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wlc_sends_more_to_the_backend_with_fewer_requests_in_flight() {
    let (slow, fast) = (Origin::start("slow").await, Origin::start("fast").await);
    slow.set_delay(300);
    let config = cluster_config(
        &[("s", 1, &[(slow.addr, 1), (fast.addr, 1)])],
        "    balance: wlc",
    );
    let proxy = TestProxy::start(&config).await;
    let addr = proxy.addr;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                assert_eq!(get(addr, "a.test", "/").await.status, 200);
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .unwrap()
            .unwrap();
    }
    let (s, f) = (slow.hits(), fast.hits());
    assert_eq!(s + f, 80);
    assert!(
        f >= 3 * s,
        "least connections favours the fast backend: slow {s}, fast {f}"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn sticky_clients_stay_when_an_unrelated_backend_is_removed() {
    let origins: Vec<Origin> =
        futures_util::future::join_all((0..5).map(Origin::start_named)).await;
    let all: Vec<(SocketAddr, u32)> = origins.iter().map(|o| (o.addr, 1)).collect();
    let extra = "    balance: sticky\n    hash: { strategy: client_id, header: X-User }";
    let proxy = TestProxy::start(&cluster_config(&[("s", 1, &all)], extra)).await;
    let mut before = HashMap::new();
    for user in 0..300 {
        let r = request(
            proxy.addr,
            "GET",
            "a.test",
            "/",
            &[("X-User", &format!("u{user}"))],
            b"",
        )
        .await;
        before.insert(user, r.json()["backend"].as_str().unwrap().to_owned());
    }
    let used: std::collections::HashSet<&String> = before.values().collect();
    assert_eq!(used.len(), 5, "300 users spread over all 5 backends");
    // Remove backend o4; everyone else's users must stay.
    proxy.write_config(&cluster_config(&[("s", 1, &all[..4])], extra));
    assert!(proxy.wait_generation(2, Duration::from_secs(3)).await);
    let (mut kept, mut movable) = (0, 0);
    for user in 0..300 {
        let r = request(
            proxy.addr,
            "GET",
            "a.test",
            "/",
            &[("X-User", &format!("u{user}"))],
            b"",
        )
        .await;
        let now = r.json()["backend"].as_str().unwrap().to_owned();
        assert_ne!(now, "o4");
        if before[&user] != "o4" {
            movable += 1;
            if now == before[&user] {
                kept += 1;
            }
        }
    }
    assert!(kept * 100 >= movable * 95, "{kept} of {movable} stayed");
    assert_eq!(kept, movable, "rendezvous hashing moves none of them");
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_backend_under_load_costs_no_client_errors() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let extra =
        "    retry: { max: 2, level: idempotent }\n    health: { fall: 2, interval_ms: 200 }";
    let proxy = TestProxy::start(&cluster_config(
        &[("s", 1, &[(a.addr, 1), (b.addr, 1)])],
        extra,
    ))
    .await;
    let addr = proxy.addr;
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (ok, failed) = (ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            // Keep-alive client: pooled backend connections are the ones a crash resets.
            while Instant::now() < deadline {
                let r = get(addr, "a.test", "/delay/5").await;
                if r.status == 200 {
                    ok.fetch_add(1, Ordering::Relaxed)
                } else {
                    failed.fetch_add(1, Ordering::Relaxed)
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    a.kill();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "every request answered 200"
    );
    assert!(
        ok.load(Ordering::Relaxed) > 50,
        "load actually ran: {}",
        ok.load(Ordering::Relaxed)
    );
    let metrics = get(proxy.admin, "x", "/metrics").await.body_str();
    assert!(
        metrics.contains(&format!("bfe_backend_up{{backend=\"{}\"}} 0", a.addr)),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("bfe_backend_up{{backend=\"{}\"}} 1", b.addr)),
        "{metrics}"
    );
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovered_backend_returns_through_slow_start() {
    let b = Origin::start("b").await;
    let a_addr = dead_addr().await;
    let extra = "    slow_start_ms: 4000\n    health: { fall: 1, rise: 1, interval_ms: 100 }\n    retry: { max: 1 }";
    let proxy = TestProxy::start(&cluster_config(
        &[("s", 1, &[(a_addr, 1), (b.addr, 1)])],
        extra,
    ))
    .await;
    // a is down: the first attempt on it fails to connect and marks it down.
    for _ in 0..4 {
        assert_eq!(get(proxy.addr, "a.test", "/").await.status, 200);
    }
    let a = Origin::bind(a_addr, "a").await;
    // The recovery probe (GET /health_check) brings it back within a few intervals.
    let back = Instant::now();
    while a.hits() == 0 && back.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(a.hits() > 0, "probed");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let probes = a.hits();
    let mut early = 0;
    for _ in 0..40 {
        if get(proxy.addr, "a.test", "/").await.json()["backend"] == "a" {
            early += 1;
        }
    }
    assert!(
        early < 10,
        "just back: well under its 50% share ({early} of 40)"
    );
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let mut late = 0;
    for _ in 0..100 {
        if get(proxy.addr, "a.test", "/").await.json()["backend"] == "a" {
            late += 1;
        }
    }
    assert!(
        (40..=60).contains(&late),
        "after slow start: its full share ({late}%)"
    );
    assert!(probes >= 1);
    proxy.shutdown().await;
}

#[tokio::test]
async fn active_checks_take_a_failing_backend_out_and_bring_it_back() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let extra =
        "    health: { mode: active, fall: 2, rise: 2, interval_ms: 50, expect_status: \"2xx\" }";
    let proxy = TestProxy::start(&cluster_config(
        &[("s", 1, &[(a.addr, 1), (b.addr, 1)])],
        extra,
    ))
    .await;
    a.set_health_status(503);
    tokio::time::sleep(Duration::from_millis(400)).await;
    for _ in 0..20 {
        assert_eq!(get(proxy.addr, "a.test", "/").await.json()["backend"], "b");
    }
    a.set_health_status(200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut seen_a = false;
    for _ in 0..20 {
        seen_a |= get(proxy.addr, "a.test", "/").await.json()["backend"] == "a";
    }
    assert!(seen_a, "back in rotation after rise successes");
    proxy.shutdown().await;
}

/// A backend that reads the request, then closes without answering.
async fn black_hole_backend() -> (SocketAddr, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let seen = s2.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                if let Ok(n) = s.read(&mut buf).await
                    && n > 0
                {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn a_sent_post_is_not_retried_but_an_idempotent_get_is() {
    let (bad, seen) = black_hole_backend().await;
    let good = Origin::start("good").await;
    // Weight 1000:1 puts the first attempt on the bad backend.
    let extra = "    retry: { max: 1, level: idempotent }\n    health: { mode: off }";
    let proxy = TestProxy::start(&cluster_config(
        &[("s", 1, &[(bad, 1000), (good.addr, 1)])],
        extra,
    ))
    .await;
    let r = request(proxy.addr, "POST", "a.test", "/", &[], b"payload").await;
    assert_eq!(
        r.status, 502,
        "a POST that reached the backend is never replayed"
    );
    assert_eq!(seen.load(Ordering::Relaxed), 1);
    assert_eq!(good.hits(), 0);
    let r = get(proxy.addr, "a.test", "/").await;
    assert_eq!(
        r.status, 200,
        "a body-less GET is retried on the other backend"
    );
    assert_eq!(r.json()["backend"], "good");
    assert_eq!(seen.load(Ordering::Relaxed), 2);
    proxy.shutdown().await;

    // With the default level (connect errors only) the GET is not retried either.
    let extra = "    retry: { max: 1 }\n    health: { mode: off }";
    let proxy = TestProxy::start(&cluster_config(
        &[("s", 1, &[(bad, 1000), (good.addr, 1)])],
        extra,
    ))
    .await;
    assert_eq!(get(proxy.addr, "a.test", "/").await.status, 502);
    proxy.shutdown().await;
}

#[tokio::test]
async fn cross_sub_cluster_retry_reaches_another_site() {
    let dead = dead_addr().await;
    let other = Origin::start("site-b").await;
    let subs: &[Sub<'_>] = &[("a", 1000, &[(dead, 1)]), ("b", 1, &[(other.addr, 1)])];
    let proxy = TestProxy::start(&cluster_config(
        subs,
        "    retry: { max: 0, cross: 1 }\n    health: { mode: off }",
    ))
    .await;
    let r = get(proxy.addr, "a.test", "/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["backend"], "site-b");
    proxy.shutdown().await;
    let proxy = TestProxy::start(&cluster_config(
        subs,
        "    retry: { max: 0, cross: 0 }\n    health: { mode: off }",
    ))
    .await;
    assert_eq!(
        get(proxy.addr, "a.test", "/").await.status,
        502,
        "no cross retry configured"
    );
    proxy.shutdown().await;
}
