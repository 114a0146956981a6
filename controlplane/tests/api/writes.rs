//! What a write answers: every write names the version it made (`x-config-version`, REST and
//! gRPC alike), and a write that changes nothing makes no version at all.

use axum::http::StatusCode;
use bfe_proto::admin::v1::admin_client::AdminClient;
use bfe_proto::admin::v1::admin_server::AdminServer;
use bfe_proto::admin::v1::{JsonBody, ResourceWrite, VersionRef};
use serde_json::{Value, json};

use crate::support::*;

fn config_version(r: &Res) -> i64 {
    r.headers
        .get("x-config-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no x-config-version header: {:?}", r.headers))
}

/// The harness's app behind the gRPC admin service on a real loopback socket.
async fn grpc_admin(h: &Harness) -> AdminClient<tonic::transport::Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = AdminServer::new(bfe_controlplane::grpc::AdminService::new(h.app.clone()));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    AdminClient::new(channel)
}

fn authed<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {ADMIN}").parse().expect("ascii"),
    );
    r
}

both_stores! {
    async fn every_write_names_its_version_over_rest_and_grpc(h) {
        let r = h.seed().await;
        assert_eq!(config_version(&r), 1, "POST /changes");
        assert_eq!(r.body["version"]["number"], 1);
        let r = h.patch("/api/v1/clusters/api", json!({"balance": "wlc"})).await.expect(StatusCode::OK);
        assert_eq!(config_version(&r), 2);
        let r = h.post("/api/v1/versions/1/rollback", json!({})).await.expect(StatusCode::CREATED);
        assert_eq!(config_version(&r), 3, "rollback");
        assert_eq!(r.body["number"], 3);

        let mut admin = grpc_admin(&h).await;
        let set = json!({"ops": [{"op": "create", "kind": "cluster", "name": "c2", "body": cluster("c2")}]});
        let reply = admin
            .apply_changes(authed(JsonBody { json: set.to_string() }))
            .await
            .expect("apply")
            .into_inner();
        assert_eq!(reply.config_version, 4, "ApplyChanges: {}", reply.json);
        let reply = admin
            .rollback(authed(VersionRef { number: 1 }))
            .await
            .expect("rollback")
            .into_inner();
        assert_eq!(reply.config_version, 5, "Rollback: {}", reply.json);
        let reply = admin
            .patch_resource(authed(ResourceWrite {
                path: "clusters/api".into(),
                json: json!({"balance": "wlc"}).to_string(),
                if_match: String::new(),
            }))
            .await
            .expect("patch")
            .into_inner();
        assert_eq!(reply.config_version, 6);
        assert_eq!(h.head().await, 6);
    }
}

both_stores! {
    async fn a_write_that_changes_nothing_makes_no_version(h) {
        h.seed().await;
        let audit_rows = || async {
            h.get("/api/v1/audit?limit=1000").await.body["items"].as_array().map_or(0, Vec::len)
        };
        let audit_before = audit_rows().await;
        let current = h.get("/api/v1/tenants/shop").await.expect(StatusCode::OK);

        // An identical PUT, an empty merge patch, and a patch that sets what is there already.
        let same = h.put("/api/v1/tenants/shop", current.body.clone()).await.expect(StatusCode::OK);
        assert_eq!(same.etag(), current.etag(), "the ETag is unchanged");
        assert_eq!(same.body, current.body);
        assert_eq!(config_version(&same), 1, "answers with the current version");
        let r = h.patch("/api/v1/clusters/api", json!({})).await.expect(StatusCode::OK);
        assert_eq!(config_version(&r), 1);
        assert_eq!(r.etag(), "\"r1\"");
        let hosts = current.body["hosts"].clone();
        h.patch("/api/v1/tenants/shop", json!({"hosts": hosts})).await.expect(StatusCode::OK);

        // A change set that changes nothing: 200 with the current version and no changes.
        let set = json!({"ops": [{"op": "patch", "kind": "cluster", "name": "api", "body": {}}]});
        let r = h.post("/api/v1/changes", set).await.expect(StatusCode::OK);
        assert_eq!(r.body["version"]["number"], 1, "{}", r.text);
        assert_eq!(r.body["changes"], json!([]));
        assert_eq!(config_version(&r), 1);

        // Rolling back to the version that is live.
        let r = h.post("/api/v1/versions/1/rollback", json!({})).await.expect(StatusCode::OK);
        assert_eq!(r.body["number"], 1);
        assert_eq!(config_version(&r), 1);

        assert_eq!(h.head().await, 1, "no version was created");
        assert_eq!(audit_rows().await, audit_before, "nothing was audited");
        assert_eq!(h.get("/api/v1/versions").await.body["items"].as_array().map(Vec::len), Some(1));

        // A real change still makes one.
        let r = h.patch("/api/v1/clusters/api", json!({"balance": "wlc"})).await.expect(StatusCode::OK);
        assert_eq!(config_version(&r), 2);
        let v: Value = h.get("/api/v1/versions/2").await.body;
        assert_eq!(v["parent"], 1);
    }
}
