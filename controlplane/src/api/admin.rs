//! Admin-only endpoints: API tokens and the audit log.

// utoipa's `params(Type)` expands to a qualified path that this lint flags.
#![allow(unused_qualifications)]

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiPath, ApiQuery, ListQuery, RequestId, if_match};
use super::resource::with_etag;
use crate::auth::{Actor, Role, new_secret};
use crate::error::{ApiError, ErrorBody, ViolationBody};
use crate::model::{ResourceKey, ResourceKind};
use crate::state::AppState;
use crate::store::{AuditEntry, AuditFilter, NewToken, TokenRow};

/// A token to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    pub role: Role,
    /// Restrict the token to these tenants; absent for an unscoped token.
    #[serde(default)]
    pub tenants: Option<BTreeSet<String>>,
}

/// A created token: the secret is shown here once and never again.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenRow,
    /// The bearer secret. Store it now: only its hash is kept.
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPage {
    pub items: Vec<TokenRow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Page size, 1..=1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// e.g. `cluster`, `routes`, `token`.
    pub resource_kind: Option<String>,
    pub resource_name: Option<String>,
    /// `name#id` of a token.
    pub actor: Option<String>,
}

fn admin(actor: &Actor) -> Result<(), ApiError> {
    actor.require(Role::Admin)?;
    actor.require_unscoped()
}

fn page_limit(limit: Option<u32>) -> Result<i64, ApiError> {
    ListQuery {
        limit,
        ..Default::default()
    }
    .limit()
}

fn cursor_id(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|c| {
            c.parse()
                .map_err(|_| ApiError::bad_field("cursor", "not a cursor"))
        })
        .transpose()
}

/// A token name has 1-128 characters (the API and the offline `admin-token create` agree).
pub fn check_token_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 128 {
        return Err(ApiError::bad_field(
            "name",
            "a token name has 1-128 characters",
        ));
    }
    Ok(())
}

/// Create a token; its secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<Response, ApiError> {
    admin(&actor)?;
    check_token_name(&req.name)?;
    if req.tenants.as_ref().is_some_and(BTreeSet::is_empty) {
        return Err(ApiError::bad_field(
            "tenants",
            "a scoped token needs at least one tenant (omit `tenants` for an unscoped token)",
        ));
    }
    // A scope naming a tenant that does not exist yet would grant whoever creates it later.
    let mut missing = Vec::new();
    for t in req.tenants.iter().flatten() {
        let key = ResourceKey::new(ResourceKind::Tenant, t);
        if state.store.get(&key).await?.is_none() {
            missing.push(format!("'{t}'"));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::Invalid(vec![ViolationBody {
            path: "tenants".to_owned(),
            message: format!("no tenant {}", missing.join(", ")),
            resource: None,
        }]));
    }
    let secret = new_secret();
    let info = state
        .store
        .create_token(&NewToken {
            name: &req.name,
            role: req.role,
            tenants: req.tenants.as_ref(),
            secret: &secret,
            created_by: &actor.label(),
            request_id: &rid.0,
        })
        .await?;
    let etag = info.etag();
    let mut res = (
        StatusCode::CREATED,
        Json(CreatedToken {
            info,
            token: secret,
        }),
    )
        .into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&etag) {
        res.headers_mut().insert(axum::http::header::ETAG, v);
    }
    Ok(res)
}

/// List tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(ListQuery),
    responses((status = 200, body = TokenPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<TokenPage>, ApiError> {
    admin(&actor)?;
    let limit = q.limit()?;
    let after = cursor_id(q.cursor.as_deref())?.unwrap_or(0);
    let prefix = q.name_prefix.unwrap_or_default();
    let mut items = Vec::new();
    let mut last = after;
    // The name filter is applied here; keep reading pages until this one is full.
    loop {
        let rows = state.store.list_tokens(last, limit + 1).await?;
        let done = rows.len() <= usize::try_from(limit).unwrap_or(usize::MAX);
        for row in rows {
            last = row.id;
            if row.name.starts_with(&prefix) {
                items.push(row);
            }
        }
        if done || items.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
            break;
        }
    }
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| items.last().map(|t| t.id.to_string()))
        .flatten();
    Ok(Json(TokenPage { items, next_cursor }))
}

/// One token.
#[utoipa::path(get, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, body = TokenRow), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_token(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    admin(&actor)?;
    let t = state
        .store
        .token(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("token {id}")))?;
    let etag = t.etag();
    let mut res = Json(t).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&etag) {
        res.headers_mut().insert(axum::http::header::ETAG, v);
    }
    Ok(res)
}

/// Revoke a token (it stays listed, marked revoked). The last unscoped admin token cannot be
/// revoked (409).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id"),
        ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 412, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    admin(&actor)?;
    if let Some(m) = if_match(&headers)? {
        let t = state
            .store
            .token(id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("token {id}")))?;
        if m.trim() != "*" && m.trim() != t.etag() {
            return Err(ApiError::PreconditionFailed(format!(
                "token {id} is not at ETag {m} (it is at {})",
                t.etag()
            )));
        }
    }
    state
        .store
        .revoke_token(id, &actor.label(), &rid.0)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("token {id}")))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    admin(&actor)?;
    let limit = page_limit(q.limit)?;
    let filter = AuditFilter {
        before_id: cursor_id(q.cursor.as_deref())?,
        resource_kind: q.resource_kind,
        resource_name: q.resource_name,
        actor: q.actor,
    };
    let mut items = state.store.list_audit(&filter, limit + 1).await?;
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    let head = items.first().map_or(0, |a| a.id);
    Ok(with_etag(
        StatusCode::OK,
        head,
        Json(AuditPage { items, next_cursor }),
    ))
}
