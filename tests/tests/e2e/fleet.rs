//! The whole product end to end with real processes: a control plane on a throwaway
//! PostgreSQL database (two replicas in one test), two managed data planes, real backends.
//! Config goes in through the REST API and must come out of both nodes; statistics must come
//! back equal to the requests sent.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bfe_tests::origin::Origin;
use bfe_tests::raw::{RawResponse, get, request};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const ADMIN: &str = "bfe_e2e_admin_token";
const NODE_TOKEN: &str = "e2e-node-secret";

fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/e2e-… → target/debug/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

/// A throwaway PostgreSQL database, dropped at the end.
struct Db {
    name: String,
    url: String,
}

impl Db {
    async fn create() -> Self {
        let base = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("fleet_e2e_{:016x}", rand_u64());
        let out = Command::new("psql")
            .args([
                base.as_str(),
                "-q",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .output()
            .await
            .expect("psql is installed (scripts/test.sh installs postgresql-client)");
        assert!(
            out.status.success(),
            "CREATE DATABASE: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = match base.rsplit_once('/') {
            Some((prefix, _)) => format!("{prefix}/{name}"),
            None => panic!("DATABASE_URL without a database: {base}"),
        };
        Self { name, url }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let base = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let _ = std::process::Command::new("psql")
            .args([
                base.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Spawns a process with a ready file and waits for it.
async fn spawn_ready(mut cmd: Command, ready: &Path) -> (Child, Value) {
    let _ = std::fs::remove_file(ready);
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(ready)
            && let Ok(v) = serde_json::from_str::<Value>(&text)
        {
            return (child, v);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{cmd:?} exited early: {status}");
        }
        assert!(Instant::now() < deadline, "{cmd:?} not ready in 20 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

struct ControlPlane {
    child: Child,
    rest: SocketAddr,
    grpc: SocketAddr,
}

impl ControlPlane {
    async fn start(db: &Db, dir: &Path, tag: &str, rest: &str, grpc: &str) -> Self {
        Self::start_with(db, dir, tag, rest, grpc, &[]).await
    }

    async fn start_with(
        db: &Db,
        dir: &Path,
        tag: &str,
        rest: &str,
        grpc: &str,
        extra: &[&str],
    ) -> Self {
        let ready = dir.join(format!("cp-{tag}.ready"));
        let mut cmd = Command::new(bin("controlplane"));
        cmd.args(["--listen", rest, "--grpc-listen", grpc])
            .args(extra)
            .arg("--ready-file")
            .arg(&ready)
            .env("DATABASE_URL", &db.url)
            .env("BFE_BOOTSTRAP_TOKEN", ADMIN)
            .env("BFE_NODE_TOKEN", NODE_TOKEN);
        let (child, v) = spawn_ready(cmd, &ready).await;
        let addr = |k: &str| v[k].as_str().and_then(|s| s.parse().ok()).expect("address");
        Self {
            child,
            rest: addr("rest"),
            grpc: addr("grpc"),
        }
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> RawResponse {
        let auth = format!("Bearer {ADMIN}");
        let mut headers = vec![("Authorization", auth.as_str())];
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        request(self.rest, method, "cp", path, &headers, body.as_bytes()).await
    }

    async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

struct Node {
    child: Child,
    http: SocketAddr,
    admin: SocketAddr,
}

impl Node {
    async fn start(cp_grpc: SocketAddr, id: &str, dir: &Path, extra: &[&str]) -> Self {
        Self::start_url(&format!("http://{cp_grpc}"), id, dir, extra).await
    }

    async fn start_url(url: &str, id: &str, dir: &Path, extra: &[&str]) -> Self {
        let ready = dir.join(format!("{id}.ready"));
        let mut cmd = Command::new(bin("dataplane"));
        cmd.args([
            "--control-plane",
            url,
            "--node-id",
            id,
            "--label",
            "role=e2e",
        ])
        .args([
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--stats-interval",
            "1",
        ])
        .arg("--cache-dir")
        .arg(dir.join(format!("{id}-cache")))
        .arg("--ready-file")
        .arg(&ready)
        .args(extra)
        .env("BFE_NODE_TOKEN", NODE_TOKEN);
        let (child, v) = spawn_ready(cmd, &ready).await;
        Self {
            child,
            http: v["http"][0]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("http"),
            admin: v["admin"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("admin"),
        }
    }

    async fn version(&self) -> Option<i64> {
        get(self.admin, "x", "/config").await.json()["version"].as_i64()
    }

    async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn seed(origin: SocketAddr) -> Value {
    json!({
        "message": "seed",
        "ops": [
            {"op": "create", "kind": "cluster", "name": "web", "body": {
                "name": "web", "sub_clusters": [{"name": "s", "weight": 1, "backends": [{"addr": origin.to_string()}]}]}},
            {"op": "create", "kind": "tenant", "name": "shop", "body": {"name": "shop", "hosts": ["shop.test"]}},
            {"op": "update", "kind": "routes", "tenant": "shop", "body": {
                "advanced": [{"condition": "default_t()", "cluster": "web"}]}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_flows_to_the_fleet_and_statistics_flow_back() {
    let db = Db::create().await;
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start("web-1").await;
    let cp = ControlPlane::start(&db, dir.path(), "a", "127.0.0.1:0", "127.0.0.1:0").await;
    let n1 = Node::start(cp.grpc, "node-1", dir.path(), &[]).await;
    let n2 = Node::start(cp.grpc, "node-2", dir.path(), &[]).await;

    // A route created through REST carries traffic through both nodes within 2 s.
    let committed = Instant::now();
    let r = cp
        .api("POST", "/api/v1/changes", Some(seed(origin.addr)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body_str());
    let version = r.json()["version"]["number"]
        .as_i64()
        .expect("version number");
    for node in [&n1, &n2] {
        assert!(
            eventually(Duration::from_secs(2), || async {
                get(node.http, "shop.test", "/").await.status == 200
            })
            .await,
            "node did not serve the new route within 2 s"
        );
    }
    eprintln!("commit → both nodes serving: {:?}", committed.elapsed());
    assert_eq!(n1.version().await, Some(version));

    // The fleet view shows both, connected, on the head version, no lag.
    let ok = eventually(Duration::from_secs(3), || async {
        let nodes = cp.api("GET", "/api/v1/nodes", None).await.json();
        nodes["items"].as_array().is_some_and(|items| {
            items.len() == 2
                && items.iter().all(|n| {
                    n["connected"] == true
                        && n["applied_version"] == version
                        && n["lag_versions"] == 0
                        && n["labels"]["role"] == "e2e"
                })
        })
    })
    .await;
    assert!(
        ok,
        "{}",
        cp.api("GET", "/api/v1/nodes", None).await.body_str()
    );

    // The control plane's own metrics tell the same story.
    let metrics = get(cp.rest, "cp", "/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body_str();
    assert!(
        text.contains(r#"bfe_cp_nodes{state="connected"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(&format!("bfe_cp_config_head_version {version}")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"bfe_cp_node_applied_version{{node="node-1"}} {version}"#
        )),
        "{text}"
    );

    // An invalid change is refused at the API and never reaches a node.
    let bad = json!({"message": "bad", "ops": [{"op": "update", "kind": "routes", "tenant": "shop", "body": {
        "advanced": [{"condition": "req_hots_in(\"x\")", "cluster": "web"}]}}]});
    let r = cp.api("POST", "/api/v1/changes", Some(bad)).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body_str().contains("routes.advanced[0].condition"),
        "{}",
        r.body_str()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(n1.version().await, Some(version));
    assert_eq!(n2.version().await, Some(version));

    // Statistics: the requests in /api/v1/stats equal the requests actually sent.
    // Requests made while waiting for convergence are still in flight to the control plane:
    // wait until the count stops moving (intervals are 1 s).
    let mut before = stats_requests(&cp).await;
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = stats_requests(&cp).await;
        if now == before {
            break;
        }
        before = now;
    }
    let sent = 40u64;
    for i in 0..sent {
        let node = if i % 2 == 0 { &n1 } else { &n2 };
        assert_eq!(get(node.http, "shop.test", "/").await.status, 200);
    }
    let counted = eventually(Duration::from_secs(6), || async {
        stats_requests(&cp).await == before + sent
    })
    .await;
    assert!(
        counted,
        "stats: {} vs {}",
        stats_requests(&cp).await,
        before + sent
    );
    let report = cp
        .api("GET", "/api/v1/stats?tenant=shop", None)
        .await
        .json();
    assert!(report["total"]["p99_ms"].as_f64().is_some(), "{report}");
    assert_eq!(report["total"]["error_ratio"], 0.0);

    cp.kill().await;
    n1.kill().await;
    n2.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_outlive_their_control_plane_and_converge_when_it_returns() {
    let db = Db::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Origin::start("web-a").await, Origin::start("web-b").await);
    let cp = ControlPlane::start(&db, dir.path(), "1", "127.0.0.1:0", "127.0.0.1:0").await;
    let (rest, grpc) = (cp.rest.to_string(), cp.grpc.to_string());
    let n1 = Node::start(cp.grpc, "node-1", dir.path(), &[]).await;
    let n2 = Node::start(cp.grpc, "node-2", dir.path(), &[]).await;
    let r = cp.api("POST", "/api/v1/changes", Some(seed(a.addr))).await;
    assert_eq!(r.status, 201, "{}", r.body_str());
    let v1 = r.json()["version"]["number"].as_i64().expect("version");
    for node in [&n1, &n2] {
        assert!(
            eventually(Duration::from_secs(3), || async {
                node.version().await == Some(v1)
            })
            .await
        );
    }

    // The control plane is killed: both nodes keep serving.
    cp.kill().await;
    for node in [&n1, &n2] {
        for _ in 0..5 {
            assert_eq!(
                get(node.http, "shop.test", "/").await.json()["backend"],
                "web-a"
            );
        }
    }
    // node-1 restarts while the control plane is down: it serves its persisted version.
    n1.kill().await;
    let n1 = Node::start(grpc.parse().unwrap(), "node-1", dir.path(), &[]).await;
    assert_eq!(n1.version().await, Some(v1));
    assert_eq!(get(n1.admin, "x", "/readyz").await.status, 200);
    assert_eq!(
        get(n1.http, "shop.test", "/").await.json()["backend"],
        "web-a"
    );

    // The control plane comes back on its addresses: both nodes reconnect and converge on the
    // next version.
    let cp = ControlPlane::start(&db, dir.path(), "2", &rest, &grpc).await;
    let change = json!({"message": "move", "ops": [{"op": "patch", "kind": "cluster", "name": "web", "body": {
        "sub_clusters": [{"name": "s", "weight": 1, "backends": [{"addr": b.addr.to_string()}]}]}}]});
    let r = cp.api("POST", "/api/v1/changes", Some(change)).await;
    assert_eq!(r.status, 201, "{}", r.body_str());
    let v2 = r.json()["version"]["number"].as_i64().expect("version");
    for node in [&n1, &n2] {
        assert!(
            eventually(Duration::from_secs(20), || async {
                node.version().await == Some(v2)
            })
            .await,
            "a node did not converge after the control plane returned"
        );
        assert_eq!(
            get(node.http, "shop.test", "/").await.json()["backend"],
            "web-b"
        );
    }
    cp.kill().await;
    n1.kill().await;
    n2.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_on_one_replica_reaches_nodes_of_the_other_within_a_second() {
    let db = Db::create().await;
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start("web").await;
    let replica_a = ControlPlane::start(&db, dir.path(), "a", "127.0.0.1:0", "127.0.0.1:0").await;
    let replica_b = ControlPlane::start(&db, dir.path(), "b", "127.0.0.1:0", "127.0.0.1:0").await;
    let node = Node::start(replica_b.grpc, "node-b", dir.path(), &[]).await;
    // Let the stream come up before timing the propagation.
    assert!(
        eventually(Duration::from_secs(5), || async {
            replica_b.api("GET", "/api/v1/nodes", None).await.json()["items"]
                .as_array()
                .is_some_and(|i| i.len() == 1)
        })
        .await
    );
    let committed = Instant::now();
    let r = replica_a
        .api("POST", "/api/v1/changes", Some(seed(origin.addr)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body_str());
    let v = r.json()["version"]["number"].as_i64().expect("version");
    assert!(
        eventually(Duration::from_secs(1), || async {
            node.version().await == Some(v)
        })
        .await,
        "not active through the other replica within 1 s"
    );
    eprintln!(
        "replica A commit → node on replica B active: {:?}",
        committed.elapsed()
    );
    assert_eq!(get(node.http, "shop.test", "/").await.status, 200);
    replica_a.kill().await;
    replica_b.kill().await;
    node.kill().await;
}

async fn stats_requests(cp: &ControlPlane) -> u64 {
    let from = 0;
    let to = i64::MAX / 2;
    let r = cp
        .api(
            "GET",
            &format!("/api/v1/stats?tenant=shop&from={from}&to={to}"),
            None,
        )
        .await;
    r.json()["total"]["requests"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_apply_a_version_nacks_with_its_reason_in_the_fleet_view() {
    let db = Db::create().await;
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start("web").await;
    let cp = ControlPlane::start(&db, dir.path(), "n", "127.0.0.1:0", "127.0.0.1:0").await;
    let n1 = Node::start(cp.grpc, "node-big", dir.path(), &[]).await;
    // node-small refuses anything over 200 bytes: the seed's snapshot is larger.
    let n2 = Node::start(
        cp.grpc,
        "node-small",
        dir.path(),
        &["--max-snapshot-bytes", "200"],
    )
    .await;
    let r = cp
        .api("POST", "/api/v1/changes", Some(seed(origin.addr)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body_str());
    let v = r.json()["version"]["number"].as_i64().expect("version");
    let shown = eventually(Duration::from_secs(5), || async {
        let node = cp.api("GET", "/api/v1/nodes/node-small", None).await.json();
        node["last_nack"]["version"] == v
    })
    .await;
    let small = cp.api("GET", "/api/v1/nodes/node-small", None).await.json();
    assert!(shown, "{small}");
    let reason = small["last_nack"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("exceeds this node's limit of 200 bytes"),
        "{small}"
    );
    assert_eq!(small["applied_version"], 0);
    assert_eq!(small["lag_versions"], v);
    let big = cp.api("GET", "/api/v1/nodes/node-big", None).await.json();
    assert_eq!(big["applied_version"], v, "{big}");
    assert!(big["last_nack"].is_null());
    assert_eq!(get(n1.http, "shop.test", "/").await.status, 200);
    assert_eq!(
        get(n2.http, "shop.test", "/").await.status,
        404,
        "the refused version never ran"
    );
    // The refused version is not pushed again on this stream: still one NACK, no ACTIVE.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(n2.version().await, None);
    cp.kill().await;
    n1.kill().await;
    n2.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_and_control_plane_speak_mutual_tls() {
    use bfe_tests::tls_util::{TestCa, write};
    let db = Db::create().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("fleet");
    let server = ca.server("controlplane", &["127.0.0.1"]);
    let good = ca.client("node-good");
    let p = |name: &str, text: &str| write(dir.path(), name, text).to_string_lossy().into_owned();
    let (cert, key, root) = (
        p("cp.pem", &server.chain_pem),
        p("cp.key", &server.key_pem),
        p("root.pem", &ca.root_pem()),
    );
    let (node_cert, node_key) = (p("node.pem", &good.chain_pem), p("node.key", &good.key_pem));
    let cp = ControlPlane::start_with(
        &db,
        dir.path(),
        "tls",
        "127.0.0.1:0",
        "127.0.0.1:0",
        &[
            "--grpc-tls-cert",
            &cert,
            "--grpc-tls-key",
            &key,
            "--grpc-client-ca",
            &root,
        ],
    )
    .await;
    let url = format!("https://127.0.0.1:{}", cp.grpc.port());
    let trusted = Node::start_url(
        &url,
        "node-good",
        dir.path(),
        &[
            "--control-plane-ca",
            &root,
            "--node-cert",
            &node_cert,
            "--node-key",
            &node_key,
        ],
    )
    .await;
    // Trusts the control plane but has no client certificate: refused at the handshake.
    let anonymous = Node::start_url(
        &url,
        "node-anon",
        dir.path(),
        &["--control-plane-ca", &root],
    )
    .await;
    let origin = Origin::start("web").await;
    let r = cp
        .api("POST", "/api/v1/changes", Some(seed(origin.addr)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body_str());
    let v = r.json()["version"]["number"].as_i64().expect("version");
    assert!(
        eventually(Duration::from_secs(5), || async {
            trusted.version().await == Some(v)
        })
        .await,
        "the node with a client certificate gets the version over mutual TLS"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        anonymous.version().await,
        None,
        "a node without a client certificate gets nothing"
    );
    let nodes = cp.api("GET", "/api/v1/nodes", None).await.json();
    let ids: Vec<&str> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["node_id"].as_str())
        .collect();
    assert_eq!(ids, ["node-good"]);
    cp.kill().await;
    trusted.kill().await;
    anonymous.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grpc_admin_api_mirrors_rest() {
    use bfe_proto::admin::v1::admin_client::AdminClient;
    use bfe_proto::admin::v1::{JsonBody, Page, ResourceRef, ResourceWrite, VersionRef};
    let db = Db::create().await;
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start("web").await;
    let cp = ControlPlane::start(&db, dir.path(), "admin", "127.0.0.1:0", "127.0.0.1:0").await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", cp.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut admin = AdminClient::new(channel);
    fn authed<T>(msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        r.metadata_mut().insert(
            "authorization",
            format!("Bearer {ADMIN}").parse().expect("ascii"),
        );
        r
    }

    // No token: the REST rule (401) as UNAUTHENTICATED.
    let err = admin
        .list_versions(tonic::Request::new(Page::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);

    // A change set through gRPC is a version like any other.
    let reply = admin
        .apply_changes(authed(JsonBody {
            json: seed(origin.addr).to_string(),
        }))
        .await
        .unwrap()
        .into_inner();
    let body: Value = serde_json::from_str(&reply.json).unwrap();
    let v = body["version"]["number"].as_i64().unwrap();
    let rest_versions = cp.api("GET", "/api/v1/versions", None).await.json();
    assert_eq!(
        rest_versions["items"][0]["number"], v,
        "REST sees the gRPC commit"
    );
    let listed: Value = serde_json::from_str(
        &admin
            .list_versions(authed(Page::default()))
            .await
            .unwrap()
            .into_inner()
            .json,
    )
    .unwrap();
    assert_eq!(listed, rest_versions, "the same document on both surfaces");
    let got = admin
        .get_version(authed(VersionRef { number: v as u64 }))
        .await
        .unwrap()
        .into_inner();
    assert!(got.json.contains(&format!("\"number\":{v}")));

    // Resources by path, with ETags and If-Match.
    let tenant = admin
        .get_resource(authed(ResourceRef {
            path: "tenants/shop".into(),
            query: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(!tenant.etag.is_empty());
    let stale = admin
        .put_resource(authed(ResourceWrite {
            path: "tenants/shop".into(),
            json: json!({"name": "shop", "hosts": ["shop.test", "new.test"]}).to_string(),
            if_match: "\"r999\"".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(
        stale.code(),
        tonic::Code::FailedPrecondition,
        "stale If-Match is 412 in REST"
    );
    let fresh = admin
        .put_resource(authed(ResourceWrite {
            path: "tenants/shop".into(),
            json: json!({"name": "shop", "hosts": ["shop.test", "new.test"]}).to_string(),
            if_match: tenant.etag.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(fresh.config_version > v as u64);

    // A bad condition: 422 with the field path, as INVALID_ARGUMENT.
    let bad = json!({"message": "bad", "ops": [{"op": "update", "kind": "routes", "tenant": "shop", "body": {
        "advanced": [{"condition": "req_hots_in(\"x\")", "cluster": "web"}]}}]});
    let err = admin
        .apply_changes(authed(JsonBody {
            json: bad.to_string(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("routes.advanced[0].condition"),
        "{}",
        err.message()
    );
    cp.kill().await;
}
