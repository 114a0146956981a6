//! Heap allocations per operation, counted by an instrumented `#[global_allocator]`
//! (`stats_alloc`, so this workspace stays free of `unsafe`).
//!
//! 1. Routing (host lookup + route find) and condition evaluation: asserted to be 0.
//! 2. Balancer pick per algorithm: printed.
//! 3. One proxied HTTP/1.1 keep-alive request end to end, in process: the data plane
//!    (`bfe_dataplane::start`) between an allocation-free raw client and origin on loopback,
//!    minus the same client talking to the origin directly. Printed, not asserted.
//!
//! Run: `cargo bench -p bfe-bench --bench allocs`.

use std::alloc::System;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use bfe_bench::{
    FakeFacts, RuleHit, TYPICAL_CONDITIONS, advanced_request, advanced_rules_snapshot,
    basic_rules_snapshot, clusters_snapshot, host, hosts_snapshot,
};
use bfe_config::TenantId;
use bfe_config::cond::Condition;
use bfe_config::raw::Balance;
use bfe_dataplane::balance::View;
use bfe_dataplane::health::Health;
use bfe_dataplane::settings::{ConfigSource, Limits, Settings};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ITERS: usize = 10_000;
const BODY: &[u8] = b"Hello, world\n";

/// Allocations (including reallocations) per call of `f`, after one warm-up call.
fn allocs_per_call(mut f: impl FnMut()) -> f64 {
    f();
    let region = Region::new(GLOBAL);
    for _ in 0..ITERS {
        f();
    }
    let s = region.change();
    (s.allocations + s.reallocations) as f64 / ITERS as f64
}

fn report(name: &str, per_call: f64, must_be_zero: bool) -> bool {
    let verdict = match (must_be_zero, per_call == 0.0) {
        (true, true) => "ok",
        (true, false) => "FAIL (must be 0)",
        (false, _) => "info",
    };
    println!("allocs/op {name:<44} {per_call:>8.2}  {verdict}");
    !must_be_zero || per_call == 0.0
}

fn routing_and_conditions() -> bool {
    let mut ok = true;
    for n in [10, 10_000] {
        let snap = hosts_snapshot(n);
        let h = format!("{}:8080", host(n / 2));
        ok &= report(
            &format!("host_lookup/exact/{n}"),
            allocs_per_call(|| {
                black_box(snap.hosts.lookup(Some(black_box(h.as_str())), None));
            }),
            true,
        );

        let snap = basic_rules_snapshot(n);
        let t = snap.tenant(TenantId(0));
        let req = FakeFacts::typical(&host(n / 2), "/api/v1/items");
        ok &= report(
            &format!("route_find/basic/{n}"),
            allocs_per_call(|| {
                black_box(t.routes.find(&req.host, &req.path, black_box(&req)));
            }),
            true,
        );

        let snap = advanced_rules_snapshot(n);
        let t = snap.tenant(TenantId(0));
        let req = advanced_request(n, RuleHit::Last);
        ok &= report(
            &format!("route_find/advanced_last/{n}"),
            allocs_per_call(|| {
                black_box(t.routes.find(&req.host, &req.path, black_box(&req)));
            }),
            true,
        );
    }
    let req = FakeFacts::typical("www.example.com", "/api/v1/items");
    for (name, src) in TYPICAL_CONDITIONS {
        let cond = Condition::compile(src).expect("typical condition compiles");
        ok &= report(
            &format!("condition_eval/{name}"),
            allocs_per_call(|| {
                black_box(cond.eval(black_box(&req)));
            }),
            true,
        );
    }
    ok
}

fn balancer() {
    for (name, balance) in [
        ("wrr", Balance::Wrr),
        ("wlc", Balance::Wlc),
        ("sticky", Balance::Sticky),
    ] {
        let snap = clusters_snapshot(1, 10, balance);
        let health = Health::default();
        let view = View::build(&snap, &health, None, None);
        let cluster = snap.clusters[0].clone();
        let mut key = 0u64;
        report(
            &format!("balance_pick/{name}/10_backends"),
            allocs_per_call(|| {
                key = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
                black_box(view.pick(0, &cluster, 0, key, &[]));
            }),
            false,
        );
    }
}

// === end to end ===

/// A keep-alive origin that answers every request head with the same 13-byte response.
async fn origin() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind origin");
    let addr = l.local_addr().expect("origin addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let _ = s.set_nodelay(true);
                let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world\n";
                let mut buf = vec![0u8; 16384];
                let mut filled = 0;
                loop {
                    match s.read(&mut buf[filled..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => filled += n,
                    }
                    // Answer every complete head in the buffer (GETs: no bodies).
                    while let Some(end) = find(&buf[..filled], b"\r\n\r\n") {
                        if s.write_all(resp).await.is_err() {
                            return;
                        }
                        buf.copy_within(end + 4..filled, 0);
                        filled -= end + 4;
                    }
                }
            });
        }
    });
    addr
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends `n` GETs over one keep-alive connection, one at a time, reusing one buffer.
async fn client(conn: &mut TcpStream, buf: &mut [u8], n: usize) {
    let req = b"GET /small HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: allocs\r\n\r\n";
    for _ in 0..n {
        conn.write_all(req).await.expect("write request");
        let mut filled = 0;
        loop {
            let r = conn.read(&mut buf[filled..]).await.expect("read response");
            assert!(r > 0, "connection closed");
            filled += r;
            if let Some(end) = find(&buf[..filled], b"\r\n\r\n")
                && filled >= end + 4 + BODY.len()
            {
                assert!(buf.starts_with(b"HTTP/1.1 200"), "status");
                break;
            }
        }
    }
}

/// (allocations, bytes allocated) per request.
async fn allocs_per_request(addr: SocketAddr) -> (f64, f64) {
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let mut buf = vec![0u8; 65536];
    client(&mut conn, &mut buf, 1000).await;
    let region = Region::new(GLOBAL);
    client(&mut conn, &mut buf, ITERS).await;
    let s = region.change();
    (
        (s.allocations + s.reallocations) as f64 / ITERS as f64,
        s.bytes_allocated as f64 / ITERS as f64,
    )
}

/// Net heap bytes held per idle keep-alive connection: open `IDLE` connections to `addr`, one
/// request each, and compare allocated − freed bytes before and after (client sockets included,
/// a few hundred bytes each).
async fn held_bytes_per_idle_connection(addr: SocketAddr) -> f64 {
    const IDLE: usize = 500;
    let mut buf = vec![0u8; 65536];
    let mut conns = Vec::with_capacity(IDLE);
    let region = Region::new(GLOBAL);
    for _ in 0..IDLE {
        let mut c = TcpStream::connect(addr).await.expect("connect");
        client(&mut c, &mut buf, 1).await;
        conns.push(c);
    }
    // Let the server side finish the response and park every connection.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = region.change();
    drop(conns);
    (s.bytes_allocated as f64 - s.bytes_deallocated as f64) / IDLE as f64
}

fn end_to_end() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let origin = origin().await;
        let dir = std::env::temp_dir().join(format!("bfe-bench-allocs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = dir.join("snapshot.yaml");
        std::fs::write(
            &config,
            format!(
                "version: allocs\ndefault_tenant: t\ntenants:\n  - name: t\n    hosts: [bench.local]\n    routes:\n      basic:\n        - cluster: origin\nclusters:\n  - name: origin\n    sub_clusters:\n      - name: main\n        weight: 100\n        backends:\n          - addr: \"{origin}\"\n    pool: {{ max_idle_per_backend: 64, idle_timeout_ms: 600000 }}\n"
            ),
        )
        .expect("write snapshot");
        let running = bfe_dataplane::start(Settings {
            http_listen: vec!["127.0.0.1:0".parse().expect("addr")],
            https_listen: vec![],
            proxy_protocol: Default::default(),
            admin_listen: None,
            source: ConfigSource::File {
                path: config,
                poll: Duration::from_secs(3600),
            },
            limits: Limits::default(),
            shutdown_timeout: Duration::from_secs(1),
        })
        .await
        .expect("start the data plane");
        let direct = allocs_per_request(origin).await;
        let proxied = allocs_per_request(running.http[0]).await;
        report("h1_keepalive_request/client+origin_direct", direct.0, false);
        report("h1_keepalive_request/client+proxy+origin", proxied.0, false);
        report("h1_keepalive_request/proxy_only", proxied.0 - direct.0, false);
        println!(
            "bytes/op  {:<44} {:>8.0}  info",
            "h1_keepalive_request/proxy_only",
            proxied.1 - direct.1
        );
        let held = held_bytes_per_idle_connection(running.http[0]).await;
        println!(
            "bytes/conn {:<43} {:>8.0}  info",
            "idle_keepalive_connection/heap_held", held
        );
        running.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs the same checks.
    let ok = routing_and_conditions();
    balancer();
    end_to_end();
    if ok {
        println!("allocs: routing and condition evaluation allocate nothing");
    } else {
        println!("allocs: FAIL: routing or condition evaluation allocates");
        std::process::exit(1);
    }
}
