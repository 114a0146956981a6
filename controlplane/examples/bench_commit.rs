//! Commit latency of a one-route change with 10k routes and 1k clusters stored, and the compile
//! time of that snapshot. Not a timed test: run it and read the figures.
//!
//! ```text
//! cargo run --release -p bfe-controlplane --example bench_commit            # SQLite (temp file)
//! cargo run --release -p bfe-controlplane --example bench_commit -- postgres # DATABASE_URL or 127.0.0.1
//! ```
//! PostgreSQL runs in a throwaway database that is dropped at the end.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bfe_controlplane::{AppState, Store, app, ensure_bootstrap_token};
use serde_json::{Value, json};
use sqlx::Connection;
use tower::ServiceExt;

const TENANTS: usize = 100;
const RULES_PER_TENANT: usize = 100;
const CLUSTERS: usize = 1000;
const COMMITS: usize = 20;
const COMPILES: usize = 5;
const TOKEN: &str = "bfe_bench_admin";

fn cluster(i: usize) -> Value {
    json!({"name": format!("c{i:04}"), "sub_clusters": [{"name": "main", "weight": 1,
        "backends": [{"addr": format!("10.{}.{}.1:80", i / 250, i % 250)}]}]})
}

fn routes(t: usize, variant: usize) -> Value {
    let advanced: Vec<Value> = (0..RULES_PER_TENANT)
        .map(|j| {
            let path = if j == 0 { format!("/v{variant}") } else { format!("/p{j}") };
            json!({"condition": format!("req_path_prefix_in(\"{path}\", false) && req_method_in(\"GET|POST\")"),
                   "cluster": format!("c{:04}", (t * RULES_PER_TENANT + j) % CLUSTERS)})
        })
        .collect();
    json!({"advanced": advanced})
}

async fn call(app: &axum::Router, method: &str, path: &str, body: Value) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn stats(mut d: Vec<Duration>) -> String {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    format!(
        "min {:.1} ms, p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms (n={})",
        ms(d[0]),
        ms(d[d.len() / 2]),
        ms(d[d.len() * 9 / 10]),
        ms(d[d.len() - 1]),
        d.len()
    )
}

async fn bench(store: Store) {
    ensure_bootstrap_token(&store, Some(TOKEN))
        .await
        .expect("token");
    let app = app(AppState::new(store.clone()));

    // Seed: 1k clusters, then 100 tenants with 100 advanced rules each, as two change sets.
    let t0 = Instant::now();
    let ops: Vec<Value> = (0..CLUSTERS)
        .map(|i| json!({"op": "create", "kind": "cluster", "name": format!("c{i:04}"), "body": cluster(i)}))
        .collect();
    let (s, b) = call(&app, "POST", "/api/v1/changes", json!({"ops": ops})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let mut ops = Vec::new();
    for t in 0..TENANTS {
        let name = format!("t{t:03}");
        ops.push(json!({"op": "create", "kind": "tenant", "name": name,
            "body": {"name": name, "hosts": [format!("www.{name}.example")]}}));
        ops.push(json!({"op": "update", "kind": "routes", "tenant": name, "body": routes(t, 0)}));
    }
    let (s, b) = call(&app, "POST", "/api/v1/changes", json!({"ops": ops})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    println!(
        "seeded {CLUSTERS} clusters, {} routes in {:.1} s",
        TENANTS * RULES_PER_TENANT,
        t0.elapsed().as_secs_f64()
    );

    // Compile time of the stored snapshot.
    let snap = store.load_config().await.expect("load").to_snapshot();
    println!(
        "snapshot canonical JSON: {:.1} MiB",
        snap.canonical_json().len() as f64 / 1048576.0
    );
    let mut compiles = Vec::new();
    for _ in 0..COMPILES {
        let t = Instant::now();
        bfe_config::compile(&snap).expect("compiles");
        compiles.push(t.elapsed());
    }
    println!("compile: {}", stats(compiles));

    // Commit latency of a one-route change (PUT of one tenant's routes, rule 0 changed).
    let mut commits = Vec::new();
    for i in 1..=COMMITS {
        let t = Instant::now();
        let (s, b) = call(&app, "PUT", "/api/v1/tenants/t042/routes", routes(42, i)).await;
        commits.push(t.elapsed());
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    println!(
        "commit of a one-route change (HTTP PUT, end to end): {}",
        stats(commits)
    );
    // The same through a change set patching one cluster (no route document rewritten).
    let mut patches = Vec::new();
    for i in 1..=COMMITS {
        let t = Instant::now();
        let (s, b) = call(
            &app,
            "PATCH",
            "/api/v1/clusters/c0007",
            json!({"slow_start_ms": i}),
        )
        .await;
        patches.push(t.elapsed());
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    println!("commit of a one-field cluster patch: {}", stats(patches));
}

#[tokio::main]
async fn main() {
    // `RUST_LOG=info` shows each commit's wait/load/compile/write split.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let postgres = std::env::args().any(|a| a == "postgres");
    if postgres {
        let admin_url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("cp_bench_{}", std::process::id());
        let mut admin = sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .expect("postgres");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create db");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let store = Store::open_postgres(&format!("{base}/{name}"))
            .await
            .expect("open");
        println!("store: PostgreSQL");
        bench(store.clone()).await;
        store.close().await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop");
    } else {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_sqlite(&dir.path().join("bench.db"))
            .await
            .expect("open");
        println!("store: SQLite");
        bench(store.clone()).await;
        store.close().await;
    }
}
