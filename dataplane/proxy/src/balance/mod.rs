//! Choosing where a request goes inside its cluster: GSLB picks a sub-cluster by weight over a
//! hash of the client key (a client sticks to a sub-cluster, as in BFE), then the cluster's
//! algorithm picks a healthy backend inside it: smooth weighted round robin, weighted least
//! connections, or consistent (rendezvous) hashing. Slow start scales weights of backends that
//! just entered service.
//!
//! A [`View`] is built per snapshot: for each backend the shared [`BackendState`] (found by
//! backend identity, so health and load survive swaps) and per sub-cluster the WRR state
//! (carried over by name). Picking is then index-based and takes one small lock.

mod gslb;
mod sticky;
mod wrr;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bfe_config::Snapshot;
use bfe_config::cluster::{Backend, Balance, Cluster};

pub use gslb::{GslbChoice, choose, request_hash};

use crate::health::{BackendState, Health};

/// Runtime state for one snapshot's clusters, aligned with `snapshot.clusters`.
pub struct View {
    clusters: Vec<ClusterView>,
}

struct ClusterView {
    subs: Vec<SubView>,
}

struct SubView {
    states: Vec<Arc<BackendState>>,
    wrr: Arc<Mutex<wrr::SmoothWrr>>,
}

/// A picked backend with its live state.
pub struct Pick {
    pub backend: Backend,
    pub state: Arc<BackendState>,
}

// === impl View ===

impl View {
    /// `previous` is the view being replaced (None for the first config: its backends start at
    /// full weight; backends added later start in slow start).
    pub fn build(
        snapshot: &Snapshot,
        health: &Health,
        previous: Option<&View>,
        prev_snapshot: Option<&Snapshot>,
    ) -> Self {
        let initial = previous.is_none();
        // WRR state carried over by (cluster, sub-cluster) name.
        let mut carried: HashMap<(&str, &str), Arc<Mutex<wrr::SmoothWrr>>> = HashMap::new();
        if let (Some(view), Some(snap)) = (previous, prev_snapshot) {
            for (c, cv) in snap.clusters.iter().zip(&view.clusters) {
                for (s, sv) in c.sub_clusters.iter().zip(&cv.subs) {
                    carried.insert((&c.name, &s.name), sv.wrr.clone());
                }
            }
        }
        let clusters = snapshot
            .clusters
            .iter()
            .map(|c| ClusterView {
                subs: c
                    .sub_clusters
                    .iter()
                    .map(|s| SubView {
                        states: s
                            .backends
                            .iter()
                            .map(|b| health.state(&b.id, initial))
                            .collect(),
                        wrr: carried
                            .get(&(&*c.name, &*s.name))
                            .cloned()
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        Self { clusters }
    }

    /// Picks a healthy backend of sub-cluster `sub` of cluster `cluster` (indices into the
    /// snapshot this view was built for), skipping `exclude` (already tried).
    pub fn pick(
        &self,
        cluster_idx: usize,
        cluster: &Cluster,
        sub: usize,
        key: u64,
        exclude: &[Arc<str>],
    ) -> Option<Pick> {
        let sv = self.clusters.get(cluster_idx)?.subs.get(sub)?;
        let backends = &cluster.sub_clusters.get(sub)?.backends;
        let eligible = |i: usize| {
            let b = &backends[i];
            b.weight > 0 && sv.states[i].is_healthy() && !exclude.contains(&b.addr)
        };
        let weight =
            |i: usize| sv.states[i].effective_weight(backends[i].weight, cluster.slow_start);
        let i = match cluster.balance {
            Balance::Wrr => {
                let mut w = sv.wrr.lock().unwrap_or_else(|p| p.into_inner());
                w.pick(backends, &eligible, &weight)
            }
            Balance::Wlc => {
                // Fewest in flight per unit of weight; smooth WRR breaks ties. Loads are read
                // once: other requests change them while we decide.
                // On the stack for typical sub-clusters: no allocation per pick.
                let mut inline = [None; 32];
                let mut heap;
                let loads: &mut [Option<(u64, u64)>] = if backends.len() <= inline.len() {
                    &mut inline[..backends.len()]
                } else {
                    heap = vec![None; backends.len()];
                    &mut heap
                };
                for (i, load) in loads.iter_mut().enumerate() {
                    *load = eligible(i).then(|| {
                        (
                            u64::from(sv.states[i].active()),
                            u64::from(weight(i).max(1)),
                        )
                    });
                }
                let loads = &*loads;
                let (lb, wb) = loads
                    .iter()
                    .flatten()
                    .copied()
                    .min_by(|(la, wa), (lb, wb)| (la * wb).cmp(&(lb * wa)))?;
                let tied = |i: usize| loads[i].is_some_and(|(l, w)| l * wb == lb * w);
                let mut w = sv.wrr.lock().unwrap_or_else(|p| p.into_inner());
                w.pick(backends, &tied, &weight)
            }
            Balance::Sticky => sticky::pick(backends, key, &eligible, &weight),
        }?;
        Some(Pick {
            backend: backends[i].clone(),
            state: sv.states[i].clone(),
        })
    }

    /// Whether sub-cluster `sub` has any backend left to try.
    pub fn has_candidates(
        &self,
        cluster_idx: usize,
        cluster: &Cluster,
        sub: usize,
        exclude: &[Arc<str>],
    ) -> bool {
        let Some(sv) = self.clusters.get(cluster_idx).and_then(|c| c.subs.get(sub)) else {
            return false;
        };
        cluster.sub_clusters.get(sub).is_some_and(|s| {
            s.backends
                .iter()
                .zip(&sv.states)
                .any(|(b, st)| b.weight > 0 && st.is_healthy() && !exclude.contains(&b.addr))
        })
    }
}
