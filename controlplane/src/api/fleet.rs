//! The fleet: every data-plane node, and whether it runs the newest version. Viewers may read,
//! tenant-scoped tokens too (is my change live?), but a NACK shows a scoped token only the
//! violations of its own tenants and clusters, and no free-text reason: they may name any
//! tenant's resources.

// utoipa's `params(Type)` expands to a qualified path that this lint flags.
#![allow(unused_qualifications)]

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use axum::Json;
use axum::extract::State;
use bfe_config::RawSnapshot;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::ApiPath;
use crate::auth::{Actor, Role};
use crate::error::{ApiError, ErrorBody};
use crate::service::tenant_of_path;
use crate::state::AppState;
use crate::store::NodeInfo;

/// The fleet view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodeList {
    /// The newest configuration version.
    pub head_version: i64,
    pub items: Vec<NodeInfo>,
}

/// What a scoped token sees of a NACK instead of the node's own words.
const SCOPED_NACK_REASON: &str = "the node refused this version";

/// Filters `nodes` to what `actor` may see of them.
async fn visible(state: &AppState, actor: &Actor, nodes: &mut [NodeInfo]) -> Result<(), ApiError> {
    if !actor.is_scoped() {
        return Ok(());
    }
    let mut snapshots: BTreeMap<i64, Option<RawSnapshot>> = BTreeMap::new();
    for nack in nodes.iter_mut().filter_map(|n| n.last_nack.as_mut()) {
        let snap = match snapshots.entry(nack.version) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(state.store.version_snapshot(nack.version).await?),
        };
        nack.reason = SCOPED_NACK_REASON.to_owned();
        nack.violations.retain(|v| {
            snap.as_ref()
                .and_then(|s| tenant_of_path(s, &v.path))
                .is_some_and(|t| actor.sees_tenant(t))
        });
    }
    Ok(())
}

/// Every node heard from within the grace period, with its applied version and lag.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "fleet",
    responses((status = 200, body = NodeList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_nodes(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Json<NodeList>, ApiError> {
    actor.require(Role::Viewer)?;
    let mut items = state.store.list_nodes(state.node_grace_ms()).await?;
    visible(&state, &actor, &mut items).await?;
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
    actor.require(Role::Viewer)?;
    let mut node = state
        .store
        .node(&node_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("node '{node_id}'")))?;
    visible(&state, &actor, std::slice::from_mut(&mut node)).await?;
    Ok(Json(node))
}
