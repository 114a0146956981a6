//! Choosing where a request goes inside its cluster: GSLB picks a sub-cluster by weight over a
//! hash of the client key (so a client sticks to a sub-cluster, as in BFE), then smooth weighted
//! round robin picks a backend inside it. State lives beside the snapshot, keyed by names, and
//! survives swaps.

mod gslb;
mod wrr;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bfe_config::cluster::{Backend, Cluster, SubCluster};

pub use gslb::{GslbChoice, choose, hash_key};

/// Balancer state for every sub-cluster seen so far.
/// (cluster, sub-cluster) names.
type SubClusterKey = (Arc<str>, Arc<str>);

#[derive(Default)]
pub struct Balancer {
    wrr: Mutex<HashMap<SubClusterKey, wrr::SmoothWrr>>,
}

// === impl Balancer ===

impl Balancer {
    /// Picks a backend in `sub`, skipping the backends in `exclude` (already tried).
    pub fn pick(
        &self,
        cluster: &Cluster,
        sub: &SubCluster,
        exclude: &[Arc<str>],
    ) -> Option<Backend> {
        let mut map = self.wrr.lock().unwrap_or_else(|p| p.into_inner());
        let state = map
            .entry((cluster.name.clone(), sub.name.clone()))
            .or_default();
        state
            .pick(&sub.backends, exclude)
            .map(|i| sub.backends[i].clone())
    }
}
