//! The control plane's one error type. Every failure of the REST API, whoever caused it, ends up
//! here, and [`ApiError::into_response`] is the only place that maps an error to an HTTP status
//! and to the one error body `{"error": …, "violations": [{"path": …, "message": …}]}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bfe_config::Violation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The error body of every API error.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A one-line, human-readable description.
    pub error: String,
    /// Field-level problems, when the error is about a document's content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<ViolationBody>,
}

/// One field-level problem. `path` is a path into the snapshot document
/// (`tenants[2].routes.advanced[0].condition`) or into the request (`ops[1].body`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ViolationBody {
    pub path: String,
    pub message: String,
    /// The same problem relative to the resource the request named, when it can be told
    /// (`routes.advanced[0].condition` inside tenant `shop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// Everything that can go wrong, classified by who caused it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (bad JSON, a bad query, a body that does not fit the resource).
    #[error("{message}")]
    BadRequest {
        message: String,
        violations: Vec<ViolationBody>,
    },
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A body over the size limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A body that is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Create of a resource that exists.
    #[error("{0}")]
    Conflict(String),
    /// A stale `If-Match`.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The candidate snapshot does not compile.
    #[error("the change set was refused: {} violation(s)", .0.len())]
    Invalid(Vec<ViolationBody>),
    /// A bug or a store failure; details are logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

// === impl ApiError ===

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            violations: Vec::new(),
        }
    }

    /// A bad request about one field of the request.
    pub fn bad_field(path: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            message: format!("invalid request: {message}"),
            violations: vec![ViolationBody {
                path: path.into(),
                message,
                resource: None,
            }],
        }
    }

    /// A typed read of a request (or of its `root` part) failed: the error names the field.
    pub fn shape(root: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        Self::bad_field(
            join_path(root, &e.path().to_string()),
            e.inner().to_string(),
        )
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn invalid(violations: Vec<Violation>) -> Self {
        Self::Invalid(
            violations
                .into_iter()
                .map(|v| ViolationBody {
                    resource: None,
                    path: v.path,
                    message: v.message,
                })
                .collect(),
        )
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (error, violations) = match self {
            Self::BadRequest {
                message,
                violations,
            } => (message.clone(), violations.clone()),
            Self::Invalid(v) => (self.to_string(), v.clone()),
            // Internal details stay in the log.
            Self::Internal(_) => ("internal error".to_owned(), Vec::new()),
            other => (other.to_string(), Vec::new()),
        };
        // Messages quote what the client sent (a value of the wrong type, a name): repeat a
        // bounded part, so a 4 MiB value is not answered with 4 MiB.
        ErrorBody {
            error: clip(&error, MAX_MESSAGE),
            violations: violations
                .into_iter()
                .map(|v| ViolationBody {
                    path: clip(&v.path, MAX_PATH),
                    message: clip(&v.message, MAX_MESSAGE),
                    resource: v.resource.map(|r| clip(&r, MAX_PATH)),
                })
                .collect(),
        }
    }
}

/// Longest message of an error body, in characters.
const MAX_MESSAGE: usize = 400;
/// Longest field path of an error body, in characters.
const MAX_PATH: usize = 200;

/// `s` cut to `max` characters: its start and its end (where serde says what it expected and
/// where), joined by an ellipsis.
pub fn clip(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_owned();
    }
    let tail = max / 4;
    let head = max - tail - 1;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(count - tail));
    out
}

/// `root` and a path inside it: `join_path("body", "hosts[0]")` is `body.hosts[0]`. The top of
/// a request body with no root is named `body`.
pub fn join_path(root: &str, path: &str) -> String {
    let joined = match (root, path) {
        (r, "" | ".") => r.to_owned(),
        ("", p) => p.to_owned(),
        (r, p) if p.starts_with('[') => format!("{r}{p}"),
        (r, p) => format!("{r}.{p}"),
    };
    if joined.is_empty() {
        "body".to_owned()
    } else {
        joined
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(error = %detail, "Request failed with an internal error.");
        }
        let mut res = (self.status(), Json(self.body())).into_response();
        if matches!(self, Self::Unauthenticated) {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("store: {e}"))
    }
}

impl From<sqlx::migrate::MigrateError> for ApiError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Internal(format!("migration: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_echoes_keep_their_start_and_end() {
        let long = format!(
            "invalid type: string \"{}\", expected a sequence",
            "x".repeat(10_000)
        );
        let c = clip(&long, MAX_MESSAGE);
        assert_eq!(c.chars().count(), MAX_MESSAGE);
        assert!(c.starts_with("invalid type: string \"xxx"));
        assert!(c.ends_with("\", expected a sequence"));
        assert_eq!(clip("short", MAX_MESSAGE), "short");
    }

    #[test]
    fn paths_join() {
        assert_eq!(join_path("body", "."), "body");
        assert_eq!(join_path("", "."), "body");
        assert_eq!(join_path("", "ops[0].op"), "ops[0].op");
        assert_eq!(join_path("ops[1].body", "hosts[0]"), "ops[1].body.hosts[0]");
        assert_eq!(join_path("body", "[2]"), "body[2]");
    }
}
