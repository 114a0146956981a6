//! The compiled, immutable configuration one request runs against.

use std::sync::Arc;

use crate::cluster::Cluster;
use crate::host_table::HostTable;
use crate::modules::Modules;
use crate::raw::RawSnapshot;
use crate::route_table::RouteTable;

/// Index of a tenant in [`Snapshot::tenants`]; valid only for the snapshot that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(pub u32);

/// Index of a cluster in [`Snapshot::clusters`]; valid only for the snapshot that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClusterId(pub u32);

/// One compiled configuration. Built only by [`crate::compile`]; never mutated.
#[derive(Debug)]
pub struct Snapshot {
    /// SHA-256 of the raw document's canonical encoding.
    pub hash: String,
    pub hosts: HostTable,
    pub tenants: Vec<Tenant>,
    pub clusters: Vec<Arc<Cluster>>,
    pub modules: Modules,
    pub tls: crate::tls::TlsConfig,
    /// The document this was compiled from (for `/config`, persistence and diffs).
    pub raw: Arc<RawSnapshot>,
}

#[derive(Debug)]
pub struct Tenant {
    pub name: Arc<str>,
    /// Host tag names; [`crate::host_table::HostMatch::tag`] indexes this.
    pub host_tags: Vec<Arc<str>>,
    pub routes: RouteTable,
    /// This tenant's module rules (they run after the global scope's).
    pub modules: crate::modules::TenantModules,
}

// === impl Snapshot ===

impl Snapshot {
    pub fn tenant(&self, id: TenantId) -> &Tenant {
        &self.tenants[id.0 as usize]
    }

    pub fn cluster(&self, id: ClusterId) -> &Arc<Cluster> {
        &self.clusters[id.0 as usize]
    }

    pub fn cluster_by_name(&self, name: &str) -> Option<&Arc<Cluster>> {
        self.clusters.iter().find(|c| &*c.name == name)
    }

    /// The free-form label of a standalone file, if any.
    pub fn label(&self) -> Option<&str> {
        self.raw.version.as_deref()
    }
}
