//! The generic read, list and write of one stored resource; the per-kind handlers are thin
//! wrappers that name the kind, so every kind behaves alike (ETags, If-Match, scope, errors).

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::extract::ListQuery;
use crate::auth::Actor;
use crate::error::ApiError;
use crate::model::{Doc, Entry, ResourceKey, ResourceKind};
use crate::service::{ChangeOp, ChangeSet, OpKind, commit_change_set, etag_of};
use crate::state::AppState;

/// Response header carrying the version a write created.
pub const CONFIG_VERSION: &str = "x-config-version";

/// One page of a resource listing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourcePage {
    pub items: Vec<ListItem>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One resource of a listing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListItem {
    pub name: String,
    /// The resource's ETag, usable as `If-Match` or a change-set op's `if_match`.
    pub etag: String,
    /// The resource document (certificates without their key).
    #[schema(value_type = Object)]
    pub value: Value,
}

/// Whether `actor` may read `key`; resources outside a scoped token's reach are 404.
pub async fn check_read(
    state: &AppState,
    actor: &Actor,
    key: &ResourceKey,
) -> Result<(), ApiError> {
    match key.kind {
        k if k.is_per_tenant() => {
            if actor.sees_tenant(&key.name) {
                Ok(())
            } else {
                Err(ApiError::not_found(key))
            }
        }
        ResourceKind::Cluster if actor.is_scoped() => match state.store.get(key).await? {
            Some(Entry {
                doc: Doc::Cluster(c),
                ..
            }) if actor.owns(c.owner.as_deref()) => Ok(()),
            _ => Err(ApiError::not_found(key)),
        },
        ResourceKind::Cluster => Ok(()),
        _ => actor.require_unscoped(),
    }
}

/// `GET` of one resource: its public document and ETag.
pub async fn read(state: &AppState, actor: &Actor, key: ResourceKey) -> Result<Response, ApiError> {
    check_read(state, actor, &key).await?;
    let entry = match state.store.get(&key).await? {
        Some(e) => e,
        None => implicit(state, &key)
            .await?
            .ok_or_else(|| ApiError::not_found(&key))?,
    };
    Ok(with_etag(
        StatusCode::OK,
        entry.revision,
        Json(entry.doc.to_public_value()),
    ))
}

/// The empty document a never-written route, module or singleton resource stands for.
async fn implicit(state: &AppState, key: &ResourceKey) -> Result<Option<Entry>, ApiError> {
    let tenant_exists = || async {
        let tenant = ResourceKey::new(ResourceKind::Tenant, &key.name);
        Ok::<_, ApiError>(state.store.get(&tenant).await?.is_some())
    };
    let doc = match key.kind {
        ResourceKind::Routes if tenant_exists().await? => Doc::Routes(Default::default()),
        ResourceKind::TenantModules if tenant_exists().await? => {
            Doc::TenantModules(Default::default())
        }
        ResourceKind::GlobalModules => Doc::GlobalModules(Default::default()),
        ResourceKind::Settings => Doc::Settings(Default::default()),
        _ => return Ok(None),
    };
    Ok(Some(Entry { revision: 0, doc }))
}

/// `GET` of a listing, filtered to what the caller may see.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    kind: ResourceKind,
    q: &ListQuery,
) -> Result<Json<ResourcePage>, ApiError> {
    if !kind.is_per_tenant() && kind != ResourceKind::Cluster {
        actor.require_unscoped()?;
    }
    let limit = q.limit()?;
    let prefix = q.name_prefix.as_deref().unwrap_or("");
    let cursor = q.cursor.as_deref().unwrap_or("");
    let mut rows = if actor.is_scoped() {
        // Scope filters are applied here, so read every match and page afterwards.
        let rows = state.store.list(kind, prefix, cursor, None).await?;
        rows.into_iter()
            .filter(|(name, e)| match &e.doc {
                Doc::Cluster(c) => actor.owns(c.owner.as_deref()),
                _ => actor.sees_tenant(name),
            })
            .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
            .collect()
    } else {
        state
            .store
            .list(kind, prefix, cursor, Some(limit + 1))
            .await?
    };
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more.then(|| rows.last().map(|(n, _)| n.clone())).flatten();
    let items = rows
        .into_iter()
        .map(|(name, e)| ListItem {
            name,
            etag: etag_of(e.revision),
            value: e.doc.to_public_value(),
        })
        .collect();
    Ok(Json(ResourcePage { items, next_cursor }))
}

/// A single-resource write: a one-operation change set.
pub async fn write(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
    op: OpKind,
    key: ResourceKey,
    body: Option<Value>,
    if_match: Option<String>,
) -> Result<Response, ApiError> {
    actor.require(crate::auth::Role::Operator)?;
    let set = ChangeSet {
        message: None,
        ops: vec![ChangeOp {
            op,
            kind: key.kind.into(),
            name: Some(key.name.clone()),
            tenant: None,
            body,
            if_match,
            index: None,
        }],
    };
    let commit = commit_change_set(&state.store, actor, &set, request_id, false)
        .await
        .map_err(strip_op_index)?;
    let version = commit.version.as_ref().map_or(0, |v| v.number);
    let mut res = match (op, commit.after.get(&key)) {
        (OpKind::Delete, _) | (_, None) => StatusCode::NO_CONTENT.into_response(),
        (op, Some(entry)) => {
            let status = if op == OpKind::Create {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            with_etag(status, entry.revision, Json(entry.doc.to_public_value()))
        }
    };
    with_config_version(&mut res, version);
    Ok(res)
}

/// Sets [`CONFIG_VERSION`]: the version a write created, or the live one if it changed nothing.
pub fn with_config_version(res: &mut Response, version: i64) {
    res.headers_mut()
        .insert(CONFIG_VERSION, HeaderValue::from(version));
}

/// Single-resource writes have no `ops[0]`: say `body` rather than `ops[0].body`.
pub fn strip_op_index(e: ApiError) -> ApiError {
    let fix = |s: &str| {
        s.strip_prefix("ops[0]: ")
            .or_else(|| s.strip_prefix("ops[0]."))
            .unwrap_or(s)
            .to_owned()
    };
    match e {
        ApiError::BadRequest {
            message,
            mut violations,
        } => {
            for v in &mut violations {
                v.path = fix(&v.path);
            }
            ApiError::BadRequest {
                message,
                violations,
            }
        }
        ApiError::NotFound(m) => ApiError::NotFound(fix(&m)),
        ApiError::Conflict(m) => ApiError::Conflict(fix(&m)),
        ApiError::PreconditionFailed(m) => ApiError::PreconditionFailed(fix(&m)),
        ApiError::Forbidden(m) => ApiError::Forbidden(fix(&m)),
        other => other,
    }
}

/// A response with the resource's ETag.
pub fn with_etag(status: StatusCode, revision: i64, body: impl IntoResponse) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag_of(revision)) {
        headers.insert(header::ETAG, v);
    }
    (status, headers, body).into_response()
}
