//! The control plane's own Prometheus metrics at `/metrics` (unauthenticated, no secrets):
//! the head version, the fleet's state, and the request totals the nodes reported recently.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::state::AppState;
use crate::store::{StatsFilter, now_ms};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    tenant: String,
    status_class: String,
}

/// `GET /metrics`.
pub async fn handler(State(state): State<AppState>) -> Response {
    match render(&state).await {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "Rendering metrics failed.");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn render(state: &AppState) -> Result<String, crate::error::ApiError> {
    let mut registry = Registry::with_prefix("bfe_cp");
    let head = state.store.head().await?;
    let head_gauge = Gauge::<i64>::default();
    head_gauge.set(head);
    registry.register(
        "config_head_version",
        "Newest configuration version",
        head_gauge,
    );

    let nodes = state.store.list_nodes(state.node_grace_ms()).await?;
    let by_state = Family::<StateLabels, Gauge>::default();
    let applied = Family::<NodeLabels, Gauge>::default();
    let lag = Family::<NodeLabels, Gauge>::default();
    for n in &nodes {
        let s = if n.connected {
            "connected"
        } else {
            "disconnected"
        };
        by_state.get_or_create(&StateLabels { state: s }).inc();
        let labels = NodeLabels {
            node: n.node_id.clone(),
        };
        applied.get_or_create(&labels).set(n.applied_version);
        lag.get_or_create(&labels).set(n.lag_versions);
    }
    registry.register(
        "nodes",
        "Data-plane nodes in the fleet, by connection state",
        by_state,
    );
    registry.register(
        "node_applied_version",
        "Version each node reported ACTIVE",
        applied,
    );
    registry.register(
        "node_lag_versions",
        "Versions each node is behind the head",
        lag,
    );

    // Requests the fleet reported over the last 5 minutes.
    let to_ms = now_ms();
    let rows = state
        .store
        .query_stats(&StatsFilter {
            from_ms: to_ms - 5 * 60 * 1000,
            to_ms,
            ..StatsFilter::default()
        })
        .await?;
    let recent = Family::<ClassLabels, Gauge>::default();
    for r in &rows {
        recent
            .get_or_create(&ClassLabels {
                tenant: r.tenant.clone(),
                status_class: r.status_class.clone(),
            })
            .inc_by(r.requests);
    }
    registry.register(
        "fleet_requests_5m",
        "Requests the nodes reported over the last 5 minutes",
        recent,
    );
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)
        .map_err(|e| crate::error::ApiError::Internal(format!("encoding metrics: {e}")))?;
    Ok(out)
}
