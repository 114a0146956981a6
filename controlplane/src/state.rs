//! What every handler shares.

use crate::store::Store;

/// Shared state of the REST API (and, later, the gRPC services).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Nodes not heard from for this long drop out of the fleet view.
    pub node_grace: std::time::Duration,
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
}

/// Default of [`AppState::max_body_bytes`]: a whole 10k-route configuration (≈1.5 MiB as one
/// change set) fits with room to spare, and sixteen such requests at once stay far below a
/// gigabyte of memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

// === impl AppState ===

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            node_grace: std::time::Duration::from_secs(3600),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    pub fn node_grace_ms(&self) -> i64 {
        i64::try_from(self.node_grace.as_millis()).unwrap_or(i64::MAX)
    }
}
