//! Time from a commit to every node ACTIVE, with 1, 100 and 1000 simulated nodes: lightweight
//! in-process gRPC stream clients that answer RECEIVED, ACK and ACTIVE as soon as a version
//! arrives (a real node also compiles and persists: add its own apply time). Not a timed test.
//!
//! ```text
//! cargo run --release -p bfe-controlplane --example bench_fanout            # SQLite (temp file)
//! cargo run --release -p bfe-controlplane --example bench_fanout -- postgres # DATABASE_URL or 127.0.0.1
//! ```

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use bfe_controlplane::grpc::{NodeAuth, services};
use bfe_controlplane::publisher::Publisher;
use bfe_controlplane::{AppState, Store, app, ensure_bootstrap_token};
use bfe_proto::discovery::v1::discovery_client::DiscoveryClient;
use bfe_proto::discovery::v1::status::State;
use bfe_proto::discovery::v1::{Hello, NodeMessage, Status, control_message, node_message};
use serde_json::json;
use sqlx::Connection;
use tokio::sync::mpsc;
use tower::ServiceExt;

const TOKEN: &str = "bfe_bench_admin";
const COMMITS: usize = 10;

/// One simulated node: reports the instant it sent ACTIVE for each version. Nodes share a few
/// HTTP/2 connections (one stream each), so a thousand of them fit in one process.
async fn node(
    channel: tonic::transport::Channel,
    id: usize,
    active: mpsc::UnboundedSender<(u64, Instant)>,
) {
    let mut client = DiscoveryClient::new(channel).max_decoding_message_size(64 << 20);
    let (tx, rx) = mpsc::channel::<NodeMessage>(16);
    let hello = Hello {
        node_id: format!("sim-{id}"),
        build: "bench".to_owned(),
        ..Default::default()
    };
    tx.send(NodeMessage {
        msg: Some(node_message::Msg::Hello(hello)),
    })
    .await
    .expect("hello");
    let mut inbound = client
        .stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("stream")
        .into_inner();
    while let Ok(Some(m)) = inbound.message().await {
        if let Some(control_message::Msg::Snapshot(s)) = m.msg {
            for state in [State::Received, State::Ack, State::Active] {
                let status = Status {
                    version: s.version,
                    sha256: s.sha256.clone(),
                    state: state as i32,
                    ..Default::default()
                };
                let _ = tx
                    .send(NodeMessage {
                        msg: Some(node_message::Msg::Status(status)),
                    })
                    .await;
            }
            let _ = active.send((s.version, Instant::now()));
        }
    }
}

fn pct(mut v: Vec<Duration>, q: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

async fn run(store: Store, nodes: usize) {
    let publisher = Publisher::spawn(store.clone(), None);
    let (discovery, stats) = services(store.clone(), publisher, NodeAuth::new(None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(discovery)
            .add_service(stats)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut channels = Vec::new();
    for _ in 0..nodes.div_ceil(50) {
        let ch = tonic::transport::Endpoint::from_shared(url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        channels.push(ch);
    }
    let sims: Vec<_> = (0..nodes)
        .map(|i| tokio::spawn(node(channels[i / 50].clone(), i, tx.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500 + nodes as u64)).await;
    // Drain whatever the nodes got at connect (the current head).
    while rx.try_recv().is_ok() {}
    let api = app(AppState::new(store.clone()));
    let mut per_node = Vec::new();
    let mut all_nodes = Vec::new();
    for i in 0..COMMITS {
        let body = json!({"message": "bench", "ops": [{"op": "patch", "kind": "cluster", "name": "c",
            "body": {"slow_start_ms": i + 1}}]});
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/changes")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let started = Instant::now();
        let res = api.clone().oneshot(req).await.expect("infallible");
        assert!(res.status().is_success(), "{}", res.status());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        let version = v["version"]["number"].as_u64().expect("version");
        let mut seen = 0;
        let mut last = started;
        while seen < nodes {
            let Some((ver, at)) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
                .await
                .ok()
                .flatten()
            else {
                panic!("only {seen} of {nodes} nodes got version {version}");
            };
            if ver == version {
                seen += 1;
                per_node.push(at - started);
                last = last.max(at);
            }
        }
        all_nodes.push(last - started);
    }
    println!(
        "{nodes:>5} nodes: commit → node ACTIVE p50 {:.1} ms p99 {:.1} ms; commit → all ACTIVE p50 {:.1} ms p99 {:.1} ms ({COMMITS} commits)",
        pct(per_node.clone(), 0.5),
        pct(per_node, 0.99),
        pct(all_nodes.clone(), 0.5),
        pct(all_nodes, 0.99),
    );
    for s in sims {
        s.abort();
    }
    server.abort();
}

async fn seed(store: &Store) {
    ensure_bootstrap_token(store, Some(TOKEN))
        .await
        .expect("token");
    let api = app(AppState::new(store.clone()));
    let body = json!({"message": "seed", "ops": [
        {"op": "create", "kind": "cluster", "name": "c", "body": {"name": "c", "sub_clusters": [
            {"name": "s", "weight": 1, "backends": [{"addr": "127.0.0.1:9"}]}]}},
        {"op": "create", "kind": "tenant", "name": "t", "body": {"name": "t", "hosts": ["t.example"]}},
        {"op": "update", "kind": "routes", "tenant": "t", "body": {"advanced": [{"condition": "default_t()", "cluster": "c"}]}}
    ]});
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/changes")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let res = api.oneshot(req).await.expect("infallible");
    assert!(res.status().is_success());
}

#[tokio::main]
async fn main() {
    let postgres = std::env::args().any(|a| a == "postgres");
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, drop_db): (Store, Option<(String, String)>) = if postgres {
        let base = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("bench_fanout_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&base).await.expect("postgres");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create");
        let url = format!(
            "{}/{name}",
            base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p)
        );
        (
            Store::open_postgres(&url).await.expect("open"),
            Some((base, name)),
        )
    } else {
        (
            Store::open_sqlite(&dir.path().join("cp.db"))
                .await
                .expect("open"),
            None,
        )
    };
    println!("store: {}", if postgres { "PostgreSQL" } else { "SQLite" });
    seed(&store).await;
    for nodes in [1, 100, 1000] {
        run(store.clone(), nodes).await;
    }
    store.close().await;
    if let Some((base, name)) = drop_db {
        let mut conn = sqlx::PgConnection::connect(&base).await.expect("postgres");
        let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}
