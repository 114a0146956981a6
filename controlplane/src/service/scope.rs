//! The cluster rules of tenant-scoped tokens (the rules themselves are documented in
//! `crate::auth`).

use std::collections::BTreeSet;

use crate::auth::Actor;
use crate::error::ApiError;
use crate::model::{Config, ResourceKey, ResourceKind};

/// An op of a scoped token on a cluster that exists must be on one its scope owns. Judged on
/// the live config, before the op reads the cluster; a cluster this change set creates is
/// judged on the candidate by [`check_cluster_scope`].
pub(super) fn check_cluster_op(
    actor: &Actor,
    path: &str,
    before: &Config,
    cluster: &str,
) -> Result<(), ApiError> {
    let exists = before
        .get(&ResourceKey::new(ResourceKind::Cluster, cluster))
        .is_some();
    if exists && !actor.owns_cluster(before, cluster) {
        return Err(ApiError::Forbidden(format!(
            "{path}: cluster '{cluster}' is not owned by the token's tenants"
        )));
    }
    Ok(())
}

/// The cluster rules of a scoped token (see `crate::auth`).
pub(super) fn check_cluster_scope(
    actor: &Actor,
    before: &Config,
    after: &Config,
) -> Result<(), ApiError> {
    let Some(scope) = &actor.tenants else {
        return Ok(());
    };
    // Clusters this change set creates or updates.
    let mut touched: BTreeSet<String> = after
        .entries
        .iter()
        .filter(|(k, e)| k.kind == ResourceKind::Cluster && before.get(k) != Some(*e))
        .map(|(k, _)| k.name.clone())
        .collect();
    // Clusters it deletes must have been owned before.
    for key in before.entries.keys() {
        if key.kind == ResourceKind::Cluster
            && after.get(key).is_none()
            && !actor.owns_cluster(before, &key.name)
        {
            return Err(ApiError::Forbidden(format!(
                "cluster '{}' is not owned by the token's tenants",
                key.name
            )));
        }
    }
    // Clusters its tenants' routes newly reference (unknown ones are the compiler's business).
    for tenant in scope {
        let old_refs = before.clusters_of_tenant(tenant);
        touched.extend(
            after
                .clusters_of_tenant(tenant)
                .into_iter()
                .filter(|c| !old_refs.contains(c))
                .filter(|c| {
                    after
                        .get(&ResourceKey::new(ResourceKind::Cluster, c))
                        .is_some()
                }),
        );
    }
    for cluster in touched {
        if !actor.owns_cluster(after, &cluster) {
            return Err(ApiError::Forbidden(format!(
                "cluster '{cluster}' would not be owned by the token's tenants \
                 (referenced by routes of its tenants only)"
            )));
        }
    }
    Ok(())
}
