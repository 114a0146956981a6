//! The gRPC admin API: each RPC is dispatched in-process to the REST router, so authorization,
//! tenant scoping, validation, ETags and auditing are exactly the REST API's (one service layer,
//! two surfaces). HTTP outcomes map to gRPC codes; error bodies travel as the status message.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bfe_proto::admin::v1::{
    DiffRequest, JsonBody, JsonReply, Page, ResourceRef, ResourceWrite, StatsQuery, VersionRef,
    admin_server::Admin,
};
use tonic::{Code, Response, Status};
use tower::ServiceExt;

/// Largest REST response relayed (a version snapshot of a large config fits).
const MAX_BODY: usize = 256 * 1024 * 1024;

pub struct AdminService {
    rest: Router,
}

impl AdminService {
    pub fn new(rest: Router) -> Self {
        Self { rest }
    }

    async fn call(
        &self,
        meta: &tonic::metadata::MetadataMap,
        method: Method,
        path: &str,
        body: Option<String>,
        if_match: &str,
    ) -> Result<Response<JsonReply>, Status> {
        if path.contains("..") || path.starts_with('/') {
            return Err(Status::invalid_argument(
                "path: give a path under /api/v1, e.g. tenants/shop",
            ));
        }
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/v1/{path}"));
        if let Some(auth) = meta.get("authorization").and_then(|v| v.to_str().ok()) {
            req = req.header(header::AUTHORIZATION, auth);
        }
        if let Some(id) = meta.get("x-request-id").and_then(|v| v.to_str().ok()) {
            req = req.header("x-request-id", id);
        }
        if !if_match.is_empty() {
            req = req.header(header::IF_MATCH, if_match);
        }
        let req = match body {
            Some(json) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json)),
            None => req.body(Body::empty()),
        }
        .map_err(|e| Status::invalid_argument(format!("request: {e}")))?;
        let res = self
            .rest
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| Status::internal(format!("dispatch: {e}")))?;
        let status = res.status();
        let etag = res
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let version = res
            .headers()
            .get("x-config-version")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let bytes = axum::body::to_bytes(res.into_body(), MAX_BODY)
            .await
            .map_err(|e| Status::internal(format!("response body: {e}")))?;
        let json = String::from_utf8_lossy(&bytes).into_owned();
        if status.is_success() {
            Ok(Response::new(JsonReply {
                json,
                etag,
                config_version: version,
            }))
        } else {
            Err(Status::new(code(status), json))
        }
    }
}

impl AdminService {
    /// A write to a resource path; DELETE sends no body.
    async fn write(
        &self,
        req: tonic::Request<ResourceWrite>,
        method: Method,
    ) -> Result<Response<JsonReply>, Status> {
        let r = req.get_ref();
        let body = (method != Method::DELETE).then(|| r.json.clone());
        self.call(req.metadata(), method, &r.path, body, &r.if_match)
            .await
    }
}

fn code(status: StatusCode) -> Code {
    match status.as_u16() {
        400 | 405 | 413 | 415 | 422 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        408 => Code::DeadlineExceeded,
        409 => Code::AlreadyExists,
        412 => Code::FailedPrecondition,
        503 => Code::Unavailable,
        _ => Code::Internal,
    }
}

fn page_query(p: &Page) -> String {
    let mut q = Vec::new();
    if p.limit > 0 {
        q.push(format!("limit={}", p.limit));
    }
    if !p.cursor.is_empty() {
        q.push(format!("cursor={}", urlencode(&p.cursor)));
    }
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn apply_changes(
        &self,
        req: tonic::Request<JsonBody>,
    ) -> Result<Response<JsonReply>, Status> {
        let body = req.get_ref().json.clone();
        self.call(req.metadata(), Method::POST, "changes", Some(body), "")
            .await
    }

    async fn validate(&self, req: tonic::Request<JsonBody>) -> Result<Response<JsonReply>, Status> {
        let body = req.get_ref().json.clone();
        self.call(req.metadata(), Method::POST, "validate", Some(body), "")
            .await
    }

    async fn list_versions(
        &self,
        req: tonic::Request<Page>,
    ) -> Result<Response<JsonReply>, Status> {
        let path = format!("versions{}", page_query(req.get_ref()));
        self.call(req.metadata(), Method::GET, &path, None, "")
            .await
    }

    async fn get_version(
        &self,
        req: tonic::Request<VersionRef>,
    ) -> Result<Response<JsonReply>, Status> {
        let path = format!("versions/{}", req.get_ref().number);
        self.call(req.metadata(), Method::GET, &path, None, "")
            .await
    }

    async fn get_version_snapshot(
        &self,
        req: tonic::Request<VersionRef>,
    ) -> Result<Response<JsonReply>, Status> {
        let path = format!("versions/{}/snapshot", req.get_ref().number);
        self.call(req.metadata(), Method::GET, &path, None, "")
            .await
    }

    async fn diff_versions(
        &self,
        req: tonic::Request<DiffRequest>,
    ) -> Result<Response<JsonReply>, Status> {
        let path = format!(
            "versions/diff?from={}&to={}",
            req.get_ref().from,
            req.get_ref().to
        );
        self.call(req.metadata(), Method::GET, &path, None, "")
            .await
    }

    async fn rollback(
        &self,
        req: tonic::Request<VersionRef>,
    ) -> Result<Response<JsonReply>, Status> {
        let path = format!("versions/{}/rollback", req.get_ref().number);
        self.call(
            req.metadata(),
            Method::POST,
            &path,
            Some("{}".to_owned()),
            "",
        )
        .await
    }

    async fn list_nodes(&self, req: tonic::Request<Page>) -> Result<Response<JsonReply>, Status> {
        self.call(req.metadata(), Method::GET, "nodes", None, "")
            .await
    }

    async fn get_stats(
        &self,
        req: tonic::Request<StatsQuery>,
    ) -> Result<Response<JsonReply>, Status> {
        let q = req.get_ref();
        let mut parts = Vec::new();
        if q.from_unix_ms > 0 {
            parts.push(format!("from={}", q.from_unix_ms));
        }
        if q.to_unix_ms > 0 {
            parts.push(format!("to={}", q.to_unix_ms));
        }
        for (k, v) in [
            ("tenant", &q.tenant),
            ("cluster", &q.cluster),
            ("backend", &q.backend),
            ("node", &q.node),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        let path = if parts.is_empty() {
            "stats".to_owned()
        } else {
            format!("stats?{}", parts.join("&"))
        };
        self.call(req.metadata(), Method::GET, &path, None, "")
            .await
    }

    async fn get_resource(
        &self,
        req: tonic::Request<ResourceRef>,
    ) -> Result<Response<JsonReply>, Status> {
        let r = req.get_ref();
        let path = if r.query.is_empty() {
            r.path.clone()
        } else {
            format!("{}?{}", r.path, r.query)
        };
        self.call(req.metadata(), Method::GET, &path, None, "")
            .await
    }

    async fn create_resource(
        &self,
        req: tonic::Request<ResourceWrite>,
    ) -> Result<Response<JsonReply>, Status> {
        self.write(req, Method::POST).await
    }

    async fn put_resource(
        &self,
        req: tonic::Request<ResourceWrite>,
    ) -> Result<Response<JsonReply>, Status> {
        self.write(req, Method::PUT).await
    }

    async fn patch_resource(
        &self,
        req: tonic::Request<ResourceWrite>,
    ) -> Result<Response<JsonReply>, Status> {
        self.write(req, Method::PATCH).await
    }

    async fn delete_resource(
        &self,
        req: tonic::Request<ResourceWrite>,
    ) -> Result<Response<JsonReply>, Status> {
        self.write(req, Method::DELETE).await
    }
}
