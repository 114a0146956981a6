//! `POST /changes` (an atomic change set) and `POST /validate` (its dry run).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, RequestId};
use super::resource::with_config_version;
use crate::auth::{Actor, Role};
use crate::error::{ApiError, ErrorBody, ViolationBody};
use crate::model::ResourceKind;
use crate::service::diff::SnapshotDiff;
use crate::service::{ChangeSet, commit_change_set, etag_of, locate_violations};
use crate::state::AppState;
use crate::store::VersionInfo;

/// The version a change set created and what it changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommitResponse {
    pub version: VersionInfo,
    pub changes: Vec<ChangedResource>,
}

/// One resource a change set wrote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangedResource {
    pub kind: ResourceKind,
    pub name: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// The new ETag (absent for a delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// The verdict of a dry run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ValidateResponse {
    /// Whether committing the change set now would be accepted.
    pub valid: bool,
    pub violations: Vec<ViolationBody>,
    /// What would change relative to the live configuration.
    pub diff: SnapshotDiff,
}

/// Apply an atomic change set: every op or none, as one new version (201). A set that changes
/// nothing creates no version and answers 200 with the live version and no changes.
#[utoipa::path(post, path = "/api/v1/changes", tag = "changes", request_body = ChangeSet,
    responses(
        (status = 201, body = CommitResponse, headers(("x-config-version" = i64))),
        (status = 200, description = "Nothing changed; the live version", body = CommitResponse,
            headers(("x-config-version" = i64))),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_changes(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    ApiJson(set): ApiJson<ChangeSet>,
) -> Result<Response, ApiError> {
    actor.require(Role::Operator)?;
    let commit = commit_change_set(&state.store, &actor, &set, &rid.0, false).await?;
    let version = commit
        .version
        .clone()
        .ok_or_else(|| ApiError::Internal("commit without a version".to_owned()))?;
    let changes = commit
        .changed
        .iter()
        .map(|key| {
            let after = commit.after.get(key);
            let action = match (commit.before.get(key), after) {
                (None, _) => "create",
                (_, None) => "delete",
                _ => "update",
            };
            ChangedResource {
                kind: key.kind,
                name: key.name.clone(),
                action: action.to_owned(),
                etag: after.map(|e| etag_of(e.revision)),
            }
        })
        .collect();
    let number = version.number;
    if commit.changed.is_empty() {
        // Nothing changed: no version was created, the live one is the answer.
        let mut res = Json(CommitResponse { version, changes }).into_response();
        with_config_version(&mut res, number);
        return Ok(res);
    }
    let location = format!("/api/v1/versions/{number}");
    let mut res = (
        StatusCode::CREATED,
        Json(CommitResponse { version, changes }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    with_config_version(&mut res, number);
    Ok(res)
}

/// Dry-run a change set: its violations and its diff against the live configuration. Nothing is
/// stored. Errors that are not about the candidate (404, 409, 412, 400) are still errors.
#[utoipa::path(post, path = "/api/v1/validate", tag = "changes", request_body = ChangeSet,
    responses((status = 200, body = ValidateResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody)))]
pub async fn post_validate(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    ApiJson(set): ApiJson<ChangeSet>,
) -> Result<Json<ValidateResponse>, ApiError> {
    actor.require(Role::Operator)?;
    let commit = commit_change_set(&state.store, &actor, &set, &rid.0, true).await?;
    let diff = SnapshotDiff::between(&commit.before.to_snapshot(), &commit.candidate).visible_to(
        &actor,
        &commit.before,
        &commit.after,
    );
    Ok(Json(ValidateResponse {
        valid: commit.violations.is_empty(),
        violations: locate_violations(&commit.candidate, &commit.violations),
        diff,
    }))
}
