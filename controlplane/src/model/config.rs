//! The whole stored configuration as a map of resources, and its two conversions:
//! resources → [`RawSnapshot`] (to compile and to version) and back (for rollback).

use std::collections::{BTreeMap, BTreeSet};

use bfe_config::RawSnapshot;
use bfe_config::raw::RawTenant;

use super::{Doc, GLOBAL, GlobalSettings, ResourceKey, ResourceKind, TenantDoc};

/// One stored resource: its document and the version that last wrote it (its ETag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub revision: i64,
    pub doc: Doc,
}

/// Every stored resource, ordered by kind then name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub entries: BTreeMap<ResourceKey, Entry>,
}

// === impl Config ===

impl Config {
    pub fn get(&self, key: &ResourceKey) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub fn names(&self, kind: ResourceKind) -> impl Iterator<Item = &str> {
        self.entries
            .keys()
            .filter(move |k| k.kind == kind)
            .map(|k| k.name.as_str())
    }

    /// Assembles the snapshot these resources describe. Everything is ordered by name, so equal
    /// resources give an equal snapshot (and an equal hash) however they were written.
    pub fn to_snapshot(&self) -> RawSnapshot {
        let mut snap = RawSnapshot::default();
        for (key, entry) in &self.entries {
            match &entry.doc {
                Doc::Tenant(t) => {
                    let routes = match self.get(&ResourceKey::new(ResourceKind::Routes, &key.name))
                    {
                        Some(Entry {
                            doc: Doc::Routes(r),
                            ..
                        }) => r.clone(),
                        _ => Default::default(),
                    };
                    let modules =
                        match self.get(&ResourceKey::new(ResourceKind::TenantModules, &key.name)) {
                            Some(Entry {
                                doc: Doc::TenantModules(m),
                                ..
                            }) => m.clone(),
                            _ => Default::default(),
                        };
                    snap.tenants.push(RawTenant {
                        name: t.name.clone(),
                        hosts: t.hosts.clone(),
                        host_tags: t.host_tags.clone(),
                        vips: t.vips.clone(),
                        routes,
                        modules,
                    });
                }
                Doc::Cluster(c) => snap.clusters.push(c.clone()),
                Doc::Certificate(c) => snap.certificates.push(c.clone()),
                Doc::GlobalModules(m) => snap.modules = m.clone(),
                Doc::Settings(s) => snap.default_tenant = s.default_tenant.clone(),
                // Folded into their tenant above.
                Doc::Routes(_) | Doc::TenantModules(_) => {}
            }
        }
        snap
    }

    /// The resources that describe `snap`, each with revision 0 (the caller stamps revisions).
    /// Empty route and module documents are left out, as they are when never written.
    pub fn docs_of_snapshot(snap: &RawSnapshot) -> BTreeMap<ResourceKey, Doc> {
        let mut out = BTreeMap::new();
        for t in &snap.tenants {
            out.insert(
                ResourceKey::new(ResourceKind::Tenant, &t.name),
                Doc::Tenant(TenantDoc {
                    name: t.name.clone(),
                    hosts: t.hosts.clone(),
                    host_tags: t.host_tags.clone(),
                    vips: t.vips.clone(),
                }),
            );
            if t.routes != Default::default() {
                out.insert(
                    ResourceKey::new(ResourceKind::Routes, &t.name),
                    Doc::Routes(t.routes.clone()),
                );
            }
            if t.modules != Default::default() {
                out.insert(
                    ResourceKey::new(ResourceKind::TenantModules, &t.name),
                    Doc::TenantModules(t.modules.clone()),
                );
            }
        }
        for c in &snap.clusters {
            out.insert(
                ResourceKey::new(ResourceKind::Cluster, &c.name),
                Doc::Cluster(c.clone()),
            );
        }
        for c in &snap.certificates {
            out.insert(
                ResourceKey::new(ResourceKind::Certificate, &c.name),
                Doc::Certificate(c.clone()),
            );
        }
        if snap.modules != Default::default() {
            out.insert(
                ResourceKey::new(ResourceKind::GlobalModules, GLOBAL),
                Doc::GlobalModules(snap.modules.clone()),
            );
        }
        if snap.default_tenant.is_some() {
            out.insert(
                ResourceKey::new(ResourceKind::Settings, GLOBAL),
                Doc::Settings(GlobalSettings {
                    default_tenant: snap.default_tenant.clone(),
                }),
            );
        }
        out
    }

    /// Cluster names referenced by the routes of `tenant`.
    pub fn clusters_of_tenant(&self, tenant: &str) -> BTreeSet<String> {
        match self.get(&ResourceKey::new(ResourceKind::Routes, tenant)) {
            Some(Entry {
                doc: Doc::Routes(r),
                ..
            }) => r
                .basic
                .iter()
                .map(|b| b.cluster.clone())
                .chain(r.advanced.iter().map(|a| a.cluster.clone()))
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// The owner tenant of `cluster`, when it exists and has one.
    pub fn cluster_owner(&self, cluster: &str) -> Option<&str> {
        match self.get(&ResourceKey::new(ResourceKind::Cluster, cluster)) {
            Some(Entry {
                doc: Doc::Cluster(c),
                ..
            }) => c.owner.as_deref(),
            _ => None,
        }
    }

    /// Gives each cluster without an owner the one tenant whose routes use it, when exactly one
    /// does: the owner a scoped token was inferred to have before ownership was explicit.
    /// Returns whether anything changed.
    pub fn infer_cluster_owners(&mut self) -> bool {
        let inferred: Vec<(ResourceKey, String)> = self
            .entries
            .iter()
            .filter_map(|(k, e)| match &e.doc {
                Doc::Cluster(c) if c.owner.is_none() => {
                    let users = self.tenants_using(&k.name);
                    let mut it = users.into_iter();
                    match (it.next(), it.next()) {
                        (Some(only), None) => Some((k.clone(), only)),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        let changed = !inferred.is_empty();
        for (key, owner) in inferred {
            if let Some(Entry {
                doc: Doc::Cluster(c),
                ..
            }) = self.entries.get_mut(&key)
            {
                c.owner = Some(owner);
            }
        }
        changed
    }

    /// Tenants whose routes reference `cluster`.
    pub fn tenants_using(&self, cluster: &str) -> BTreeSet<String> {
        self.entries
            .iter()
            .filter_map(|(k, e)| match &e.doc {
                Doc::Routes(r)
                    if r.basic.iter().any(|b| b.cluster == cluster)
                        || r.advanced.iter().any(|a| a.cluster == cluster) =>
                {
                    Some(k.name.clone())
                }
                _ => None,
            })
            .collect()
    }
}
