//! What every handler shares.

use crate::store::Store;

/// Shared state of the REST API (and, later, the gRPC services).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}

// === impl AppState ===

impl AppState {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}
