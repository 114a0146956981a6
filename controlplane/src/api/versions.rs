//! Versions: list, show, snapshot, diff and rollback. All need an unscoped token (a version
//! holds every tenant).

// utoipa's `params(Type)` expands to a qualified path that this lint flags.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiPath, ApiQuery, RequestId};
use crate::auth::{Actor, Role};
use crate::error::{ApiError, ErrorBody};
use crate::service::diff::SnapshotDiff;
use crate::service::rollback;
use crate::state::AppState;
use crate::store::VersionInfo;

/// One page of versions, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionPage {
    pub items: Vec<VersionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// Page size, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version (0 = the empty configuration).
    pub from: i64,
    pub to: i64,
}

/// Diff of two versions, per resource and per field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionDiff {
    pub from: i64,
    pub to: i64,
    #[serde(flatten)]
    pub diff: SnapshotDiff,
}

fn allowed(actor: &Actor) -> Result<(), ApiError> {
    actor.require(Role::Viewer)?;
    actor.require_unscoped()
}

/// List versions, newest first.
#[utoipa::path(get, path = "/api/v1/versions", tag = "versions", params(VersionQuery),
    responses((status = 200, body = VersionPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_versions(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<Json<VersionPage>, ApiError> {
    allowed(&actor)?;
    let limit = super::extract::ListQuery {
        limit: q.limit,
        ..Default::default()
    }
    .limit()?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::bad_field("cursor", "not a cursor"))
        })
        .transpose()?;
    let mut items = state.store.list_versions(before, limit + 1).await?;
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| items.last().map(|v| v.number.to_string()))
        .flatten();
    Ok(Json(VersionPage { items, next_cursor }))
}

/// One version's metadata.
#[utoipa::path(get, path = "/api/v1/versions/{number}", tag = "versions",
    params(("number" = i64, Path, description = "Version number")),
    responses((status = 200, body = VersionInfo), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(number): ApiPath<i64>,
) -> Result<Response, ApiError> {
    allowed(&actor)?;
    let v = state
        .store
        .version(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("version {number}")))?;
    Ok(super::resource::with_etag(
        StatusCode::OK,
        v.number,
        Json(v),
    ))
}

/// A version's whole snapshot (private keys left out).
#[utoipa::path(get, path = "/api/v1/versions/{number}/snapshot", tag = "versions",
    params(("number" = i64, Path, description = "Version number")),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_version_snapshot(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(number): ApiPath<i64>,
) -> Result<Response, ApiError> {
    allowed(&actor)?;
    let mut snap = state
        .store
        .version_snapshot(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("version {number}")))?;
    for cert in &mut snap.certificates {
        // `key_pem` is skipped when empty, so the key is simply absent.
        cert.key_pem.clear();
    }
    Ok(super::resource::with_etag(
        StatusCode::OK,
        number,
        Json(snap),
    ))
}

/// Diff two versions (`from=0` diffs against the empty configuration).
#[utoipa::path(get, path = "/api/v1/versions/diff", tag = "versions", params(DiffQuery),
    responses((status = 200, body = VersionDiff), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn diff_versions(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<VersionDiff>, ApiError> {
    allowed(&actor)?;
    let load = |n: i64| {
        let store = state.store.clone();
        async move {
            if n == 0 {
                return Ok(Default::default());
            }
            store
                .version_snapshot(n)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("version {n}")))
        }
    };
    let (a, b) = (load(q.from).await?, load(q.to).await?);
    Ok(Json(VersionDiff {
        from: q.from,
        to: q.to,
        diff: SnapshotDiff::between(&a, &b),
    }))
}

/// Make the live configuration equal to version `number`, as a new version (201); when it
/// already is, no version is created and the live one is the answer (200).
#[utoipa::path(post, path = "/api/v1/versions/{number}/rollback", tag = "versions",
    params(("number" = i64, Path, description = "The version to restore")),
    responses((status = 201, body = VersionInfo, headers(("x-config-version" = i64))),
        (status = 200, description = "Already live; no version created", body = VersionInfo,
            headers(("x-config-version" = i64))),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn rollback_version(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    ApiPath(number): ApiPath<i64>,
) -> Result<Response, ApiError> {
    actor.require(Role::Operator)?;
    actor.require_unscoped()?;
    let snap = state
        .store
        .version_snapshot(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("version {number}")))?;
    let commit = rollback(&state.store, &actor, number, snap, &rid.0).await?;
    let v = commit
        .version
        .ok_or_else(|| ApiError::Internal("rollback without a version".to_owned()))?;
    // The live configuration already equals the target: no version is created.
    let status = if commit.changed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let created = v.number;
    let mut res = (status, Json(v)).into_response();
    super::resource::with_config_version(&mut res, created);
    Ok(res)
}
