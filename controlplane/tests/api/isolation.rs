//! Tenant isolation matrix: a token scoped to tenant `a`, acting on tenant `b`'s resources with
//! every operation of every surface (REST resources and rules, change sets, validate, gRPC),
//! gets 403 or 404 and learns nothing of `b` (no document, no ETag, no version), and nothing
//! is written.

use axum::http::{Method, StatusCode};
use bfe_proto::admin::v1::admin_client::AdminClient;
use bfe_proto::admin::v1::{JsonBody, ResourceRef, ResourceWrite};
use serde_json::{Value, json};

use crate::support::*;

/// Strings only `b`'s resources contain; none may reach the scoped token.
const B_SECRETS: [&str; 4] = [
    "10.66.66.66",
    "www.b.example",
    "bsecretpath",
    "bsecretblock",
];

fn cluster_b() -> Value {
    json!({"name": "cb", "owner": "b", "sub_clusters": [
        {"name": "main", "weight": 1, "backends": [{"addr": "10.66.66.66:6666"}]}]})
}

fn routes_b() -> Value {
    json!({
        "basic": [{"hosts": ["www.b.example"], "paths": ["/bsecretpath/*"], "cluster": "cb"}],
        "advanced": [{"condition": "req_path_in(\"/bsecretpath\", false)", "cluster": "cb"}]
    })
}

fn modules_b() -> Value {
    json!({"block": [{"name": "bsecretblock",
        "condition": "req_path_in(\"/bsecretpath\", false)", "action": {"cmd": "CLOSE"}}]})
}

/// Version 1: tenant `a` and its cluster; version 2: everything of `b` (so `"r2"` is `b`'s).
async fn setup(h: &Harness) {
    h.post(
        "/api/v1/changes",
        json!({"ops": [
            {"op": "create", "kind": "cluster", "name": "ca", "body": owned_cluster("ca", "a")},
            {"op": "create", "kind": "tenant", "name": "a", "body": tenant("a")},
            {"op": "update", "kind": "routes", "tenant": "a", "body": routes_to("ca")}
        ]}),
    )
    .await
    .expect(StatusCode::CREATED);
    h.post("/api/v1/changes", json!({"ops": [
        {"op": "create", "kind": "cluster", "name": "cb", "body": cluster_b()},
        {"op": "create", "kind": "tenant", "name": "b", "body": {"name": "b", "hosts": ["www.b.example"]}},
        {"op": "update", "kind": "routes", "tenant": "b", "body": routes_b()},
        {"op": "update", "kind": "tenant_modules", "tenant": "b", "body": modules_b()}
    ]}))
    .await
    .expect(StatusCode::CREATED);
}

/// Every REST request on `b`'s resources: method, path, body, If-Match.
fn rest_cases() -> Vec<(Method, &'static str, Option<Value>, Option<&'static str>)> {
    let b_tenant = json!({"name": "b", "hosts": ["www.b.example"]});
    let rule_b = json!({"condition": "req_path_in(\"/bsecretpath\", false)", "cluster": "cb"});
    let mut cases = Vec::new();
    for m in [None, Some("\"r2\""), Some("\"r999\""), Some("*")] {
        cases.extend([
            (Method::PUT, "/api/v1/clusters/cb", Some(cluster_b()), m),
            (Method::PATCH, "/api/v1/clusters/cb", Some(json!({})), m),
            (
                Method::PATCH,
                "/api/v1/clusters/cb",
                Some(json!({"slow_start_ms": 5})),
                m,
            ),
            (Method::DELETE, "/api/v1/clusters/cb", None, m),
            (Method::PUT, "/api/v1/tenants/b", Some(b_tenant.clone()), m),
            (Method::PATCH, "/api/v1/tenants/b", Some(json!({})), m),
            (Method::DELETE, "/api/v1/tenants/b", None, m),
            (Method::PUT, "/api/v1/tenants/b/routes", Some(routes_b()), m),
            (
                Method::PATCH,
                "/api/v1/tenants/b/routes",
                Some(json!({})),
                m,
            ),
            (
                Method::PUT,
                "/api/v1/tenants/b/modules",
                Some(modules_b()),
                m,
            ),
            (
                Method::PATCH,
                "/api/v1/tenants/b/modules",
                Some(json!({})),
                m,
            ),
            (
                Method::POST,
                "/api/v1/tenants/b/routes/advanced",
                Some(rule_b.clone()),
                m,
            ),
            (
                Method::PUT,
                "/api/v1/tenants/b/routes/advanced/0",
                Some(rule_b.clone()),
                m,
            ),
            (
                Method::PATCH,
                "/api/v1/tenants/b/routes/advanced/0",
                Some(json!({})),
                m,
            ),
            (
                Method::PATCH,
                "/api/v1/tenants/b/routes/basic/0",
                Some(json!({})),
                m,
            ),
            (
                Method::DELETE,
                "/api/v1/tenants/b/routes/advanced/0",
                None,
                m,
            ),
        ]);
    }
    cases.extend([
        (Method::GET, "/api/v1/clusters/cb", None, None),
        (Method::GET, "/api/v1/tenants/b", None, None),
        (Method::GET, "/api/v1/tenants/b/routes", None, None),
        (Method::GET, "/api/v1/tenants/b/modules", None, None),
        (Method::GET, "/api/v1/tenants/b/routes/advanced", None, None),
        (Method::GET, "/api/v1/tenants/b/routes/basic/0", None, None),
        (Method::POST, "/api/v1/clusters", Some(cluster_b()), None),
        (Method::POST, "/api/v1/tenants", Some(b_tenant), None),
    ]);
    cases
}

/// Every change-set op on `b`'s resources, each sent alone.
fn change_ops() -> Vec<Value> {
    let mut ops = Vec::new();
    let targets = [
        ("cluster", json!({"name": "cb"}), cluster_b()),
        (
            "tenant",
            json!({"name": "b"}),
            json!({"name": "b", "hosts": ["www.b.example"]}),
        ),
        ("routes", json!({"tenant": "b"}), routes_b()),
        ("tenant_modules", json!({"tenant": "b"}), modules_b()),
        (
            "advanced_rule",
            json!({"tenant": "b", "index": 0}),
            json!({"condition": "req_path_in(\"/bsecretpath\", false)", "cluster": "cb"}),
        ),
    ];
    for (kind, addr, whole) in targets {
        for (op, body) in [
            ("create", Some(whole.clone())),
            ("update", Some(whole.clone())),
            ("patch", Some(json!({}))),
            ("delete", None),
        ] {
            for if_match in [None, Some("\"r2\""), Some("\"r999\"")] {
                let mut o = addr.clone();
                o["op"] = json!(op);
                o["kind"] = json!(kind);
                if let Some(b) = &body {
                    o["body"] = b.clone();
                }
                if let Some(m) = if_match {
                    o["if_match"] = json!(m);
                }
                ops.push(o);
            }
        }
    }
    ops
}

/// Nothing of `b` in a refused answer.
#[track_caller]
fn assert_refused(what: &str, status: StatusCode, etag: Option<&str>, text: &str) {
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{what}: {status} {text}"
    );
    assert_eq!(etag, None, "{what}: an ETag was returned");
    for s in B_SECRETS {
        assert!(!text.contains(s), "{what}: the answer shows '{s}': {text}");
    }
    assert!(
        !text.contains("r2"),
        "{what}: the answer shows b's ETag: {text}"
    );
}

/// The Admin gRPC service over a real socket; returns a client and the server's stop handle.
async fn grpc_admin(
    h: &Harness,
) -> (
    AdminClient<tonic::transport::Channel>,
    tokio::sync::oneshot::Sender<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let svc = bfe_proto::admin::v1::admin_server::AdminServer::new(
        bfe_controlplane::grpc::AdminService::new(h.app.clone()),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async {
                    let _ = rx.await;
                },
            ),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    (AdminClient::new(channel), tx)
}

fn authed<T>(token: &str, msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    r
}

#[track_caller]
fn assert_grpc_refused<T: std::fmt::Debug>(
    what: &str,
    r: Result<tonic::Response<T>, tonic::Status>,
) {
    match r {
        Ok(reply) => panic!("{what}: answered {reply:?}"),
        Err(s) => {
            assert!(
                matches!(
                    s.code(),
                    tonic::Code::PermissionDenied | tonic::Code::NotFound
                ),
                "{what}: {s:?}"
            );
            assert_refused(what, StatusCode::FORBIDDEN, None, s.message());
        }
    }
}

both_stores! {
    async fn a_scoped_token_gets_nothing_of_another_tenant(h) {
        setup(&h).await;
        let (op_id, op) = h.token("a-op", "operator", Some(&["a"])).await;
        let head = h.head().await;
        let before: Vec<Value> = {
            let mut v = Vec::new();
            for p in ["/api/v1/clusters/cb", "/api/v1/tenants/b", "/api/v1/tenants/b/routes",
                      "/api/v1/tenants/b/modules"] {
                let r = h.get(p).await.expect(StatusCode::OK);
                v.push(json!([r.etag(), r.body]));
            }
            v
        };

        for (method, path, body, m) in rest_cases() {
            let headers: Vec<(&str, &str)> = m.map(|m| ("if-match", m)).into_iter().collect();
            let r = h.call(method.clone(), path, Some(&op), body, &headers).await;
            let what = format!("{method} {path} (If-Match {m:?})");
            assert_refused(&what, r.status, r.headers.get("etag").and_then(|v| v.to_str().ok()), &r.text);
            assert!(r.headers.get("x-config-version").is_none(), "{what}: a version header");
        }
        for o in change_ops() {
            for endpoint in ["/api/v1/changes", "/api/v1/validate"] {
                let r = h.call(Method::POST, endpoint, Some(&op), Some(json!({"ops": [o.clone()]})), &[]).await;
                assert_refused(&format!("{endpoint} {o}"), r.status, None, &r.text);
            }
        }

        let (mut grpc, stop) = grpc_admin(&h).await;
        for (path, json) in [("clusters/cb", cluster_b()), ("tenants/b", json!({"name": "b"}))] {
            for if_match in ["", "\"r2\"", "\"r999\""] {
                let w = || ResourceWrite { path: path.into(), json: json.to_string(), if_match: if_match.into() };
                let patch = ResourceWrite { json: "{}".into(), ..w() };
                assert_grpc_refused(&format!("gRPC patch {path}"), grpc.patch_resource(authed(&op, patch)).await);
                assert_grpc_refused(&format!("gRPC put {path}"), grpc.put_resource(authed(&op, w())).await);
                assert_grpc_refused(&format!("gRPC delete {path}"), grpc.delete_resource(authed(&op, w())).await);
            }
            let get = ResourceRef { path: path.into(), query: String::new() };
            assert_grpc_refused(&format!("gRPC get {path}"), grpc.get_resource(authed(&op, get)).await);
        }
        let set = json!({"ops": [{"op": "patch", "kind": "cluster", "name": "cb", "body": {}}]}).to_string();
        assert_grpc_refused("gRPC apply", grpc.apply_changes(authed(&op, JsonBody { json: set.clone() })).await);
        assert_grpc_refused("gRPC validate", grpc.validate(authed(&op, JsonBody { json: set })).await);
        let _ = stop.send(());

        // Nothing was written: no version, b's resources as they were, no audit row by the token.
        assert_eq!(h.head().await, head, "no version was created");
        for (i, p) in ["/api/v1/clusters/cb", "/api/v1/tenants/b", "/api/v1/tenants/b/routes",
                       "/api/v1/tenants/b/modules"].into_iter().enumerate() {
            let r = h.get(p).await.expect(StatusCode::OK);
            assert_eq!(json!([r.etag(), r.body]), before[i], "{p} changed");
        }
        let audit = h.get(&format!("/api/v1/audit?actor=a-op%23{op_id}")).await.expect(StatusCode::OK);
        assert_eq!(audit.body["items"], json!([]), "the scoped token wrote: {}", audit.text);

        // The same token still works on its own tenant's cluster (the matrix is not vacuous).
        let own = h.call(Method::PATCH, "/api/v1/clusters/ca", Some(&op), Some(json!({})), &[]).await;
        own.expect(StatusCode::OK);
    }
}
