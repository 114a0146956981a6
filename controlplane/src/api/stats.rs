//! Request statistics the nodes reported: counts, rates, error ratios and latency
//! percentiles over a time range, filtered by tenant, cluster, backend or node.

// utoipa's `params(Type)` expands to a qualified path that this lint flags.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::ApiQuery;
use crate::auth::{Actor, Role};
use crate::error::{ApiError, ErrorBody};
use crate::service::stats::{StatsReport, summarize};
use crate::state::AppState;
use crate::store::{StatsFilter, now_ms};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Start of the range, Unix ms (default: 5 minutes before `to`).
    #[param(minimum = 0)]
    pub from: Option<i64>,
    /// End of the range, Unix ms, exclusive (default: now).
    #[param(minimum = 1)]
    pub to: Option<i64>,
    pub tenant: Option<String>,
    pub cluster: Option<String>,
    pub backend: Option<String>,
    pub node: Option<String>,
}

/// Merged statistics of a time range. A tenant-scoped token must name one of its tenants.
#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", params(StatsQuery),
    responses((status = 200, body = StatsReport), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_stats(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<StatsReport>, ApiError> {
    actor.require(Role::Viewer)?;
    if let Some(scope) = &actor.tenants {
        match &q.tenant {
            Some(t) if scope.contains(t) => {}
            _ => {
                return Err(ApiError::bad_field(
                    "tenant",
                    "a tenant-scoped token must ask for one of its tenants",
                ));
            }
        }
    }
    let to_ms = q.to.unwrap_or_else(now_ms);
    if to_ms < 1 {
        return Err(ApiError::bad_field(
            "to",
            "must be a positive Unix time in ms",
        ));
    }
    let from_ms = q.from.unwrap_or(to_ms.saturating_sub(5 * 60 * 1000).max(0));
    if from_ms < 0 {
        return Err(ApiError::bad_field(
            "from",
            "must be a Unix time in ms, 0 or more",
        ));
    }
    if from_ms >= to_ms {
        return Err(ApiError::bad_field("from", "must be before 'to'"));
    }
    let filter = StatsFilter {
        from_ms,
        to_ms,
        tenant: q.tenant,
        cluster: q.cluster,
        backend: q.backend,
        node: q.node,
    };
    let rows = state.store.query_stats(&filter).await?;
    Ok(Json(summarize(&rows, from_ms, to_ms)))
}
