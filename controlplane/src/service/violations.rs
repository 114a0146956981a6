//! Violation paths from the compiler refer to the snapshot document; this adds the resource
//! each one belongs to, so a client that wrote `PUT /tenants/shop/routes` can find its field.

use bfe_config::{RawSnapshot, Violation};

use crate::error::ViolationBody;

/// Maps each violation, keeping its snapshot path and adding `resource` where it can be told
/// (`routes/shop:advanced[0].condition`, `cluster/api:sub_clusters[0].weight`).
pub fn locate_violations(snap: &RawSnapshot, violations: &[Violation]) -> Vec<ViolationBody> {
    violations
        .iter()
        .map(|v| ViolationBody {
            path: v.path.clone(),
            message: v.message.clone(),
            resource: locate(snap, &v.path),
        })
        .collect()
}

/// The tenant a snapshot path belongs to: a tenant's own fields, routes and modules, or a
/// cluster's owner. `None` for global parts (global clusters, certificates, modules, settings).
pub fn tenant_of_path<'s>(snap: &'s RawSnapshot, path: &str) -> Option<&'s str> {
    let (list, rest) = path.split_once('[')?;
    let index: usize = rest.split_once(']')?.0.parse().ok()?;
    match list {
        "tenants" => Some(snap.tenants.get(index)?.name.as_str()),
        "clusters" => snap.clusters.get(index)?.owner.as_deref(),
        _ => None,
    }
}

fn locate(snap: &RawSnapshot, path: &str) -> Option<String> {
    let (list, rest) = path.split_once('[')?;
    let (index, rest) = rest.split_once(']')?;
    let index: usize = index.parse().ok()?;
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    match list {
        "tenants" => {
            let name = &snap.tenants.get(index)?.name;
            let (kind, field) = if let Some(f) = rest.strip_prefix("routes.") {
                ("routes", f)
            } else if let Some(f) = rest.strip_prefix("modules.") {
                ("tenant_modules", f)
            } else {
                ("tenant", rest)
            };
            Some(format!("{kind}/{name}:{field}"))
        }
        "clusters" => Some(format!("cluster/{}:{rest}", snap.clusters.get(index)?.name)),
        "certificates" => Some(format!(
            "certificate/{}:{rest}",
            snap.certificates.get(index)?.name
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bfe_config::raw::RawTenant;

    #[test]
    fn tenant_route_paths_name_the_routes_resource() {
        let snap = RawSnapshot {
            tenants: vec![
                RawTenant {
                    name: "a".to_owned(),
                    ..Default::default()
                },
                RawTenant {
                    name: "shop".to_owned(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            locate(&snap, "tenants[1].routes.advanced[0].condition").as_deref(),
            Some("routes/shop:advanced[0].condition")
        );
        assert_eq!(
            locate(&snap, "tenants[0].hosts[1]").as_deref(),
            Some("tenant/a:hosts[1]")
        );
        assert_eq!(locate(&snap, "default_tenant"), None);
    }
}
