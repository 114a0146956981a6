//! What every handler shares.

use crate::store::Store;

/// Shared state of the REST API (and, later, the gRPC services).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Nodes not heard from for this long drop out of the fleet view.
    pub node_grace: std::time::Duration,
}

// === impl AppState ===

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            node_grace: std::time::Duration::from_secs(3600),
        }
    }

    pub fn node_grace_ms(&self) -> i64 {
        i64::try_from(self.node_grace.as_millis()).unwrap_or(i64::MAX)
    }
}
