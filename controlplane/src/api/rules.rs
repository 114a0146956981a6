//! One route rule at a time: `/tenants/{tenant}/routes/{list}[/{index}]`, `list` being `basic`
//! or `advanced`. A rule's ETag is its tenant's `routes` document's; every write is a
//! one-operation change set (a rule op), so it is validated and versioned like any other.

// utoipa's `params(Type)` expands to a qualified path that this lint flags.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::extract::{ApiDoc, ApiPath, ApiQuery, RequestId, if_match};
use super::resource::{self, CONFIG_VERSION, strip_op_index, with_etag};
use crate::auth::{Actor, Role};
use crate::error::{ApiError, ErrorBody};
use crate::model::{Doc, Entry, ResourceKey, ResourceKind};
use crate::service::{
    ChangeKind, ChangeOp, ChangeSet, OpKind, RuleList, commit_change_set, rules_of,
};
use crate::state::AppState;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InsertQuery {
    /// Insert at this position instead of appending.
    pub at: Option<usize>,
}

fn change_kind(list: RuleList) -> ChangeKind {
    match list {
        RuleList::Basic => ChangeKind::BasicRule,
        RuleList::Advanced => ChangeKind::AdvancedRule,
    }
}

/// The rules of one list, and the routes document's revision.
async fn load(
    state: &AppState,
    actor: &Actor,
    tenant: String,
    list: RuleList,
) -> Result<(Vec<Value>, i64), ApiError> {
    let key = ResourceKey::new(ResourceKind::Routes, &tenant);
    resource::check_read(state, actor, &key).await?;
    match state.store.get(&key).await? {
        Some(Entry {
            doc: Doc::Routes(r),
            revision,
        }) => Ok((rules_of(&r, list), revision)),
        Some(e) => Ok((Vec::new(), e.revision)),
        // Never written: empty, if the tenant exists.
        None => match state
            .store
            .get(&ResourceKey::new(ResourceKind::Tenant, tenant))
            .await?
        {
            Some(_) => Ok((Vec::new(), 0)),
            None => Err(ApiError::not_found(key)),
        },
    }
}

#[allow(clippy::too_many_arguments)]
async fn write(
    state: &AppState,
    actor: &Actor,
    rid: &str,
    op: OpKind,
    tenant: String,
    list: RuleList,
    index: Option<usize>,
    body: Option<Value>,
    if_match: Option<String>,
) -> Result<Response, ApiError> {
    actor.require(Role::Operator)?;
    let set = ChangeSet {
        message: None,
        ops: vec![ChangeOp {
            op,
            kind: change_kind(list),
            name: None,
            tenant: Some(tenant.clone()),
            body,
            if_match,
            index,
        }],
    };
    let commit = commit_change_set(&state.store, actor, &set, rid, false)
        .await
        .map_err(strip_op_index)?;
    let key = ResourceKey::new(ResourceKind::Routes, &tenant);
    let (rules, revision) = match commit.after.get(&key) {
        Some(e) => match &e.doc {
            Doc::Routes(r) => (rules_of(r, list), e.revision),
            _ => (Vec::new(), e.revision),
        },
        None => (Vec::new(), 0),
    };
    let version = commit.version.as_ref().map_or(0, |v| v.number);
    let mut res = match op {
        OpKind::Delete => with_etag(StatusCode::NO_CONTENT, revision, ()),
        OpKind::Create => {
            let at = index.unwrap_or(rules.len().saturating_sub(1));
            let rule = rules.get(at).cloned().unwrap_or(Value::Null);
            let mut res = with_etag(StatusCode::CREATED, revision, Json(rule));
            let list_name = match list {
                RuleList::Basic => "basic",
                RuleList::Advanced => "advanced",
            };
            let location = format!("/api/v1/tenants/{tenant}/routes/{list_name}/{at}");
            if let Ok(v) = HeaderValue::from_str(&location) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        OpKind::Update | OpKind::Patch => {
            let rule = index
                .and_then(|i| rules.get(i).cloned())
                .unwrap_or(Value::Null);
            with_etag(StatusCode::OK, revision, Json(rule))
        }
    };
    if let Ok(v) = HeaderValue::from_str(&version.to_string()) {
        res.headers_mut().insert(CONFIG_VERSION, v);
    }
    Ok(res)
}

/// The rules of one list, in order.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/routes/{list}", tag = "routes",
    params(("tenant" = String, Path, description = "Tenant name"),
        ("list" = RuleList, Path, description = "`basic` or `advanced`")),
    responses((status = 200, body = Vec<Value>, headers(("ETag" = String))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_rules(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((tenant, list)): ApiPath<(String, RuleList)>,
) -> Result<Response, ApiError> {
    let (rules, revision) = load(&state, &actor, tenant, list).await?;
    Ok(with_etag(StatusCode::OK, revision, Json(rules)))
}

/// Append a rule (or insert it at `?at=`).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/routes/{list}", tag = "routes",
    request_body = Object,
    params(("tenant" = String, Path, description = "Tenant name"),
        ("list" = RuleList, Path, description = "`basic` or `advanced`"), InsertQuery,
        ("If-Match" = Option<String>, Header, description = "ETag of the routes document")),
    responses((status = 201, body = Value, headers(("ETag" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    headers: HeaderMap,
    ApiPath((tenant, list)): ApiPath<(String, RuleList)>,
    ApiQuery(q): ApiQuery<InsertQuery>,
    ApiDoc(body): ApiDoc,
) -> Result<Response, ApiError> {
    let m = if_match(&headers)?;
    write(
        &state,
        &actor,
        &rid.0,
        OpKind::Create,
        tenant,
        list,
        q.at,
        Some(body),
        m,
    )
    .await
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/routes/{list}/{index}", tag = "routes",
    params(("tenant" = String, Path, description = "Tenant name"),
        ("list" = RuleList, Path, description = "`basic` or `advanced`"),
        ("index" = usize, Path, description = "Position of the rule")),
    responses((status = 200, body = Value, headers(("ETag" = String))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get_rule(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((tenant, list, index)): ApiPath<(String, RuleList, usize)>,
) -> Result<Response, ApiError> {
    let (rules, revision) = load(&state, &actor, tenant, list).await?;
    let rule = rules
        .get(index)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("rule {index}")))?;
    Ok(with_etag(StatusCode::OK, revision, Json(rule)))
}

/// Replace one rule.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/routes/{list}/{index}", tag = "routes",
    request_body = Object,
    params(("tenant" = String, Path, description = "Tenant name"),
        ("list" = RuleList, Path, description = "`basic` or `advanced`"),
        ("index" = usize, Path, description = "Position of the rule"),
        ("If-Match" = Option<String>, Header, description = "ETag of the routes document")),
    responses((status = 200, body = Value, headers(("ETag" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_rule(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    headers: HeaderMap,
    ApiPath((tenant, list, index)): ApiPath<(String, RuleList, usize)>,
    ApiDoc(body): ApiDoc,
) -> Result<Response, ApiError> {
    let m = if_match(&headers)?;
    write(
        &state,
        &actor,
        &rid.0,
        OpKind::Update,
        tenant,
        list,
        Some(index),
        Some(body),
        m,
    )
    .await
}

/// Change fields of one rule with a JSON merge patch.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/routes/{list}/{index}", tag = "routes",
    request_body = Object,
    params(("tenant" = String, Path, description = "Tenant name"),
        ("list" = RuleList, Path, description = "`basic` or `advanced`"),
        ("index" = usize, Path, description = "Position of the rule"),
        ("If-Match" = Option<String>, Header, description = "ETag of the routes document")),
    responses((status = 200, body = Value, headers(("ETag" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_rule(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    headers: HeaderMap,
    ApiPath((tenant, list, index)): ApiPath<(String, RuleList, usize)>,
    ApiDoc(body): ApiDoc,
) -> Result<Response, ApiError> {
    let m = if_match(&headers)?;
    write(
        &state,
        &actor,
        &rid.0,
        OpKind::Patch,
        tenant,
        list,
        Some(index),
        Some(body),
        m,
    )
    .await
}

/// Delete one rule (the ones after it move up).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/routes/{list}/{index}", tag = "routes",
    params(("tenant" = String, Path, description = "Tenant name"),
        ("list" = RuleList, Path, description = "`basic` or `advanced`"),
        ("index" = usize, Path, description = "Position of the rule"),
        ("If-Match" = Option<String>, Header, description = "ETag of the routes document")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    actor: Actor,
    rid: RequestId,
    headers: HeaderMap,
    ApiPath((tenant, list, index)): ApiPath<(String, RuleList, usize)>,
) -> Result<Response, ApiError> {
    let m = if_match(&headers)?;
    write(
        &state,
        &actor,
        &rid.0,
        OpKind::Delete,
        tenant,
        list,
        Some(index),
        None,
        m,
    )
    .await
}
