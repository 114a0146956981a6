//! Cluster ownership as a rule of the candidate snapshot, whoever writes it: a cluster's owner
//! is an existing tenant, and only the owner's routes use an owned cluster (global clusters,
//! without an owner, serve any tenant). Checked beside the compiler, with snapshot paths.

use std::collections::{BTreeMap, BTreeSet};

use bfe_config::{RawSnapshot, Violation};

/// Every breach of the ownership rules in `snap`.
pub fn ownership_violations(snap: &RawSnapshot) -> Vec<Violation> {
    let tenants: BTreeSet<&str> = snap.tenants.iter().map(|t| t.name.as_str()).collect();
    let mut out = Vec::new();
    let mut owners = BTreeMap::new();
    for (i, c) in snap.clusters.iter().enumerate() {
        if let Some(owner) = &c.owner {
            if !tenants.contains(owner.as_str()) {
                out.push(Violation {
                    path: format!("clusters[{i}].owner"),
                    message: format!(
                        "no tenant '{owner}' (a tenant that owns clusters can be deleted only \
                         with them, or after they get another owner)"
                    ),
                });
            }
            owners.insert(c.name.as_str(), owner.as_str());
        }
    }
    for (t, tenant) in snap.tenants.iter().enumerate() {
        let routes = &tenant.routes;
        let uses = routes
            .basic
            .iter()
            .enumerate()
            .map(|(j, r)| (format!("basic[{j}]"), r.cluster.as_str()))
            .chain(
                routes
                    .advanced
                    .iter()
                    .enumerate()
                    .map(|(j, r)| (format!("advanced[{j}]"), r.cluster.as_str())),
            );
        for (rule, cluster) in uses {
            if owners.get(cluster).is_some_and(|o| *o != tenant.name) {
                out.push(Violation {
                    path: format!("tenants[{t}].routes.{rule}.cluster"),
                    message: format!("cluster '{cluster}' is owned by another tenant"),
                });
            }
        }
    }
    out
}
