//! The cluster rules of tenant-scoped tokens (the rules themselves are documented in
//! `crate::auth`).

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

/// The cluster rules of a scoped token on the candidate (see `crate::auth`): clusters it
/// created or updated are owned by its tenants, and its tenants' routes newly reference only
/// clusters its tenants own. (Deletes were checked per op by [`check_cluster_op`].)
pub(super) fn check_cluster_scope(
    actor: &Actor,
    before: &Config,
    after: &Config,
) -> Result<(), ApiError> {
    let Some(scope) = &actor.tenants else {
        return Ok(());
    };
    for (key, entry) in &after.entries {
        if key.kind == ResourceKind::Cluster
            && before.get(key) != Some(entry)
            && !actor.owns_cluster(after, &key.name)
        {
            return Err(ApiError::Forbidden(format!(
                "cluster '{}': a tenant-scoped token must give its clusters one of its tenants \
                 as `owner`",
                key.name
            )));
        }
    }
    for tenant in scope {
        let old_refs = before.clusters_of_tenant(tenant);
        let new_refs = after.clusters_of_tenant(tenant);
        // Unknown clusters are the compiler's business.
        let foreign = new_refs.difference(&old_refs).find(|c| {
            after
                .get(&ResourceKey::new(ResourceKind::Cluster, c.as_str()))
                .is_some()
                && !actor.owns_cluster(after, c)
        });
        if let Some(cluster) = foreign {
            return Err(ApiError::Forbidden(format!(
                "routes of tenant '{tenant}' may use only clusters owned by the token's \
                 tenants; cluster '{cluster}' is not"
            )));
        }
    }
    Ok(())
}
