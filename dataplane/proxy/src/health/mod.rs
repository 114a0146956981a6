//! Backend health: one state per backend identity (its address), shared by every cluster that
//! lists it and carried across config swaps. Live traffic reports outcomes (BFE's passive
//! mode: `fall` consecutive failures take a backend out, then probes bring it back after
//! `rise` successes); clusters in `active` mode probe all the time.

mod probe;
mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bfe_config::Snapshot;
use bfe_config::cluster::{BackendId, HealthCheck, HealthMode};
use tokio::task::JoinHandle;

pub use state::{ActiveGuard, BackendState, Outcome};

/// Every backend's state and the probe tasks that watch them.
#[derive(Default)]
pub struct Health {
    states: Mutex<HashMap<BackendId, Arc<BackendState>>>,
    probes: Mutex<HashMap<BackendId, Probe>>,
}

/// A running probe task and the settings it was started with.
struct Probe {
    check: HealthCheck,
    /// Probes of `active` clusters run forever; passive ones stop once the backend is back.
    always: bool,
    task: JoinHandle<()>,
}

// === impl Health ===

impl Health {
    /// The state for `id`, created healthy if the backend is new: in slow start, unless it is
    /// part of the first config (`initial`), which starts at full weight.
    pub fn state(&self, id: &BackendId, initial: bool) -> Arc<BackendState> {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states
            .entry(id.clone())
            .or_insert_with(|| Arc::new(BackendState::new(id.clone(), !initial)))
            .clone()
    }

    /// Brings states and probes in line with a new snapshot: backends no longer listed are
    /// forgotten (one that comes back later starts fresh, in slow start), active-mode probes
    /// run for every backend of an active cluster.
    pub fn reconcile(self: &Arc<Self>, snapshot: &Snapshot) {
        let mut wanted: HashMap<BackendId, &HealthCheck> = HashMap::new();
        let mut listed: HashMap<BackendId, ()> = HashMap::new();
        for cluster in &snapshot.clusters {
            for sub in &cluster.sub_clusters {
                for b in &sub.backends {
                    listed.insert(b.id.clone(), ());
                    if cluster.health.mode == HealthMode::Active {
                        wanted.entry(b.id.clone()).or_insert(&cluster.health);
                    }
                }
            }
        }
        {
            let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
            states.retain(|id, _| listed.contains_key(id));
        }
        let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        probes.retain(|id, p| {
            let keep = match wanted.get(id) {
                Some(check) => p.always && same_check(&p.check, check),
                // A passive probe of a still-listed backend keeps running until it is back.
                None => !p.always && listed.contains_key(id) && !p.task.is_finished(),
            };
            if !keep {
                p.task.abort();
            }
            keep
        });
        for (id, check) in wanted {
            if let std::collections::hash_map::Entry::Vacant(slot) = probes.entry(id) {
                let state = self.state(slot.key(), false);
                let task = tokio::spawn(probe::run(state, check.clone(), true));
                slot.insert(Probe {
                    check: check.clone(),
                    always: true,
                    task,
                });
            }
        }
    }

    /// Records one attempt's outcome for a backend of a cluster with these health settings.
    pub fn report(
        self: &Arc<Self>,
        state: &Arc<BackendState>,
        check: &HealthCheck,
        outcome: Outcome,
    ) {
        if check.mode == HealthMode::Off {
            return;
        }
        let went_down = state.record(outcome, check.fall, check.rise);
        if went_down {
            tracing::warn!(backend = %state.id.0, "Backend marked down after consecutive failures.");
            if check.mode == HealthMode::Passive {
                self.start_recovery_probe(state, check);
            }
        }
    }

    fn start_recovery_probe(&self, state: &Arc<BackendState>, check: &HealthCheck) {
        let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        if probes.get(&state.id).is_some_and(|p| !p.task.is_finished()) {
            return;
        }
        let task = tokio::spawn(probe::run(state.clone(), check.clone(), false));
        probes.insert(
            state.id.clone(),
            Probe {
                check: check.clone(),
                always: false,
                task,
            },
        );
    }

    /// (backend, healthy) for every known backend, sorted (for /metrics).
    pub fn snapshot(&self) -> Vec<(Arc<str>, bool, u32)> {
        let states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = states
            .values()
            .map(|s| (s.id.0.clone(), s.is_healthy(), s.active()))
            .collect();
        out.sort();
        out
    }
}

impl Drop for Health {
    fn drop(&mut self) {
        let probes = self.probes.get_mut().unwrap_or_else(|p| p.into_inner());
        for p in probes.values() {
            p.task.abort();
        }
    }
}

fn same_check(a: &HealthCheck, b: &HealthCheck) -> bool {
    a.kind == b.kind
        && a.path == b.path
        && a.host == b.host
        && a.expect_status == b.expect_status
        && a.interval == b.interval
        && a.timeout == b.timeout
        && a.rise == b.rise
        && a.fall == b.fall
        && a.tls.as_ref().map(|t| &t.id) == b.tls.as_ref().map(|t| &t.id)
}
