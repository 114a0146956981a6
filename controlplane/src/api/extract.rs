//! Extractors whose rejections use [`ApiError`]'s shape, so even malformed JSON, a bad query or a
//! bad path parameter answer `{"error": …}` (axum's error-handling example). Every client text
//! passes [`super::body`]'s checks on the way in, with the field's path.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::IntoParams;

use super::body;
use crate::auth::Actor;
use crate::error::ApiError;
use crate::text::check_text;

/// A typed JSON request body; errors name fields from the top (`ops[1].body.hosts[0]`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// A resource document as a JSON body; errors name fields under `body` (`body.hosts[0]`).
#[derive(Debug)]
pub struct ApiDoc(pub Value);

/// Query string.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

/// Path parameters.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

/// The request id (from `x-request-id` or generated), set by the request-id middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Cursor pagination and the name filter of resource listings.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only names starting with this.
    pub name_prefix: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

// === impl ListQuery ===

impl ListQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
            _ => Err(ApiError::bad_field(
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }
}

/// The `If-Match` header, when present.
pub fn if_match(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get(header::IF_MATCH)
        .map(|v| match v.to_str().map(str::trim) {
            Ok("") => Err(ApiError::bad_field("If-Match", "empty; give an ETag or *")),
            Ok(v) if is_etag_list(v) => Ok(v.to_owned()),
            Ok(_) => Err(ApiError::bad_field(
                "If-Match",
                "not an entity tag (\"r42\") or *",
            )),
            Err(_) => Err(ApiError::bad_field("If-Match", "not a valid header value")),
        })
        .transpose()
}

/// `*` or a comma-separated list of entity tags (`"r42"`, `W/"x"`), as RFC 9110 §13.1.1 has
/// it: anything else is a malformed header (400), not a precondition that failed (412).
fn is_etag_list(v: &str) -> bool {
    v == "*"
        || v.split(',').all(|tag| {
            let tag = tag.trim();
            let opaque = tag.strip_prefix("W/").unwrap_or(tag);
            opaque.len() >= 2
                && opaque.starts_with('"')
                && opaque.ends_with('"')
                && !opaque[1..opaque.len() - 1].contains('"')
        })
}

/// The body of a JSON request, parsed strictly, paths starting at `root`.
async fn json_body<S: Send + Sync>(req: Request, state: &S, root: &str) -> Result<Value, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType(
            "expected a request with `Content-Type: application/json`".to_owned(),
        ));
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(r.body_text())
        } else {
            ApiError::bad_request(format!("reading the body: {}", r.body_text()))
        }
    })?;
    body::parse(&bytes, root)
}

/// `application/json` or `application/<anything>+json`, parameters ignored.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = json_body(req, state, "").await?;
        body::typed(value, "").map(Self)
    }
}

impl<S: Send + Sync> FromRequest<S> for ApiDoc {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Every resource document and merge patch is an object; `[]` would read as an empty
        // struct and `[null]` would reach the If-Match check before its shape.
        match json_body(req, state, "body").await? {
            v @ Value::Object(_) => Ok(Self(v)),
            _ => Err(ApiError::bad_field("body", "must be a JSON object")),
        }
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state).await?;
        for (name, value) in &pairs {
            let path = format!("query.{name}");
            check_text(&path, name)?;
            check_text(&path, value)?;
        }
        let Query(q) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(q))
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::bad_request(format!("invalid path: {}", r.body_text())))?;
        for (name, value) in &raw {
            check_text(&format!("path.{name}"), value)?;
        }
        let Path(p) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(p))
    }
}

// === impl ApiError ===

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(format!("invalid query: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request(format!("invalid path: {}", r.body_text()))
    }
}

// === impl Actor ===

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or(ApiError::Unauthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(String::new())))
    }
}
