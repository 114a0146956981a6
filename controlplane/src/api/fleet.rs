//! The fleet: every data-plane node, and whether it runs the newest version. Viewers may read;
//! a tenant-scoped token may not (nodes serve every tenant).

// utoipa's `params(Type)` expands to a qualified path that this lint flags.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::ApiPath;
use crate::auth::{Actor, Role};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::NodeInfo;

/// The fleet view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeList {
    /// The newest configuration version.
    pub head_version: i64,
    pub items: Vec<NodeInfo>,
}

fn allowed(actor: &Actor) -> Result<(), ApiError> {
    actor.require(Role::Viewer)?;
    actor.require_unscoped()
}

/// Every node heard from within the grace period, with its applied version and lag.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "fleet",
    responses((status = 200, body = NodeList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_nodes(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<NodeList>, ApiError> {
    allowed(&actor)?;
    let items = state.store.list_nodes(state.node_grace_ms()).await?;
    let head_version = state.store.head().await?;
    Ok(Json(NodeList {
        head_version,
        items,
    }))
}

/// One node.
#[utoipa::path(get, path = "/api/v1/nodes/{node_id}", tag = "fleet",
    params(("node_id" = String, Path, description = "Node id")),
    responses((status = 200, body = NodeInfo), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_node(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(node_id): ApiPath<String>,
) -> Result<Json<NodeInfo>, ApiError> {
    allowed(&actor)?;
    state
        .store
        .node(&node_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("node '{node_id}'")))
}
