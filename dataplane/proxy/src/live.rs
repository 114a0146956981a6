//! The one `ArcSwap` that holds the running configuration. Readers take `current()` once per
//! request; `install()` is the only way a new configuration becomes active.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use bfe_config::Snapshot;

use crate::balance::View;
use crate::health::Health;
use crate::modules::Registry;
use crate::pipeline::Chains;
use crate::tls::{TlsServers, TlsShared};

/// A compiled snapshot together with what is built from it: the filter chains and the
/// balancing view over the shared backend states.
pub struct Active {
    pub snapshot: Snapshot,
    pub chains: Chains,
    pub view: View,
    /// TLS server configurations built from `snapshot.tls` (once per snapshot).
    pub tls: TlsServers,
    /// Local install counter: 1 for the first config, +1 per swap.
    pub generation: u64,
    /// The control plane's version number (managed mode), `None` for a standalone file.
    pub version: Option<u64>,
}

pub struct Live {
    active: ArcSwap<Active>,
    generation: AtomicU64,
    registry: Registry,
    health: Arc<Health>,
    /// Session-resumption state shared by every snapshot's TLS configurations.
    tls_shared: TlsShared,
    /// Serialises installs: each builds on the previous view.
    install_lock: std::sync::Mutex<()>,
    /// False while a managed node without a cached config waits for its first version.
    ready: std::sync::atomic::AtomicBool,
}

// === impl Live ===

impl Live {
    /// Starts with `snapshot`; `ready` is false when it is only a placeholder (a managed node
    /// that has no config yet serves 404s and reports not ready).
    pub fn new(
        snapshot: Snapshot,
        version: Option<u64>,
        ready: bool,
        registry: Registry,
        health: Arc<Health>,
    ) -> Self {
        let chains = registry.build(&snapshot);
        health.reconcile(&snapshot);
        let view = View::build(&snapshot, &health, None, None);
        let tls_shared = TlsShared::new();
        let tls = tls_shared.build(&snapshot.tls);
        Self {
            active: ArcSwap::from_pointee(Active {
                snapshot,
                chains,
                view,
                tls,
                generation: 1,
                version,
            }),
            generation: AtomicU64::new(1),
            registry,
            health,
            tls_shared,
            install_lock: std::sync::Mutex::new(()),
            ready: std::sync::atomic::AtomicBool::new(ready),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    pub fn current(&self) -> Arc<Active> {
        self.active.load_full()
    }

    /// Builds the chains for `snapshot` and swaps it in; in-flight requests keep the one they
    /// took. Returns the new generation.
    pub fn install(&self, snapshot: Snapshot) -> u64 {
        self.install_versioned(snapshot, None)
    }

    /// As [`Self::install`], recording the control plane's version number.
    pub fn install_versioned(&self, snapshot: Snapshot, version: Option<u64>) -> u64 {
        let _serial = self.install_lock.lock().unwrap_or_else(|p| p.into_inner());
        let chains = self.registry.build(&snapshot);
        let previous = self.active.load_full();
        self.health.reconcile(&snapshot);
        let view = View::build(
            &snapshot,
            &self.health,
            Some(&previous.view),
            Some(&previous.snapshot),
        );
        let tls = self.tls_shared.build(&snapshot.tls);
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.active.store(Arc::new(Active {
            snapshot,
            chains,
            view,
            tls,
            generation,
            version,
        }));
        self.ready.store(true, Ordering::Release);
        generation
    }
}
