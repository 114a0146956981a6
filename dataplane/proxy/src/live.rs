//! The one `ArcSwap` that holds the running configuration. Readers take `current()` once per
//! request; `install()` is the only way a new configuration becomes active.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use bfe_config::Snapshot;

use crate::modules::Registry;
use crate::pipeline::Chains;

/// A compiled snapshot together with the filter chains built from it.
pub struct Active {
    pub snapshot: Snapshot,
    pub chains: Chains,
    /// Local install counter: 1 for the first config, +1 per swap.
    pub generation: u64,
}

pub struct Live {
    active: ArcSwap<Active>,
    generation: AtomicU64,
    registry: Registry,
}

// === impl Live ===

impl Live {
    pub fn new(snapshot: Snapshot, registry: Registry) -> Self {
        let chains = registry.build(&snapshot);
        Self {
            active: ArcSwap::from_pointee(Active {
                snapshot,
                chains,
                generation: 1,
            }),
            generation: AtomicU64::new(1),
            registry,
        }
    }

    pub fn current(&self) -> Arc<Active> {
        self.active.load_full()
    }

    /// Builds the chains for `snapshot` and swaps it in; in-flight requests keep the one they
    /// took. Returns the new generation.
    pub fn install(&self, snapshot: Snapshot) -> u64 {
        let chains = self.registry.build(&snapshot);
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.active.store(Arc::new(Active {
            snapshot,
            chains,
            generation,
        }));
        generation
    }
}
