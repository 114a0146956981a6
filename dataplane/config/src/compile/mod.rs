//! raw → [`Snapshot`]: runs every check, collects every violation with its field path, and
//! builds the runtime tables only when there is none (Vector's compiler, not fail-fast).

mod certificates;
mod clusters;
mod modules;
mod tenants;
mod tls;

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{FieldPath, Violations};
use crate::raw::RawSnapshot;
use crate::snapshot::{ClusterId, Snapshot};

/// Compiles a raw document into a snapshot, or returns every violation found.
pub fn compile(raw: &RawSnapshot) -> Result<Snapshot, Violations> {
    let mut errs = Violations::default();
    let root = FieldPath::root();

    let clusters = clusters::compile_all(
        &raw.clusters,
        &raw.certificates,
        &root.field("clusters"),
        &mut errs,
    );
    let cluster_ids: HashMap<&str, ClusterId> = clusters
        .iter()
        .enumerate()
        .map(|(i, c)| (&*c.name, ClusterId(i as u32)))
        .collect();
    let (hosts, tenants) = tenants::compile_all(raw, &cluster_ids, &root, &mut errs);
    certificates::check_all(&raw.certificates, &root.field("certificates"), &mut errs);
    let tls = tls::compile(raw, &cluster_ids, &root.field("tls"), &mut errs);
    let modules = modules::compile_global(&raw.modules, &root.field("modules"), &mut errs);

    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Snapshot {
        hash: raw.sha256_hex(),
        hosts,
        tenants,
        clusters: clusters.into_iter().map(Arc::new).collect(),
        modules,
        tls,
        raw: Arc::new(raw.clone()),
    })
}

/// Names of tenants, clusters, tags, rules and the like: what fits in a path, a metric label
/// and a URL.
pub(crate) fn check_name(name: &str, path: &FieldPath, errs: &mut Violations) {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        errs.push(
            path,
            format!("invalid name '{name}': use 1-128 characters of A-Z a-z 0-9 - _ ."),
        );
    }
}

#[cfg(test)]
mod tests;
