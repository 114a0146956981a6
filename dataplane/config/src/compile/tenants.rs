use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::cond::Condition;
use crate::error::{FieldPath, Violations};
use crate::host_table::{HostMatch, HostTable};
use crate::raw::{ADVANCED_MODE, RawRoutes, RawSnapshot, RawTenant};
use crate::route_table::{AdvancedRule, BasicTarget, RouteTable};
use crate::snapshot::{ClusterId, Tenant, TenantId};

type ClusterIds<'a> = HashMap<&'a str, ClusterId>;

/// Builds the host table (hosts, tags, VIPs, default tenant) and each tenant's route table.
pub(super) fn compile_all(
    raw: &RawSnapshot,
    clusters: &ClusterIds<'_>,
    root: &FieldPath,
    errs: &mut Violations,
) -> (HostTable, Vec<Tenant>) {
    let tp = root.field("tenants");
    let mut ids = HashMap::new();
    for (i, t) in raw.tenants.iter().enumerate() {
        super::check_name(&t.name, &tp.index(i).field("name"), errs);
        if ids.insert(t.name.as_str(), TenantId(i as u32)).is_some() {
            errs.push(
                &tp.index(i).field("name"),
                format!("duplicate tenant '{}'", t.name),
            );
        }
    }
    let default = raw.default_tenant.as_deref().and_then(|name| {
        let id = ids.get(name).copied();
        if id.is_none() {
            errs.push(
                &root.field("default_tenant"),
                format!("unknown tenant '{name}'"),
            );
        }
        id
    });
    let mut hosts = HostTable::new(default);
    let tenants = raw
        .tenants
        .iter()
        .enumerate()
        .map(|(i, t)| {
            compile_tenant(
                t,
                TenantId(i as u32),
                &mut hosts,
                clusters,
                &tp.index(i),
                errs,
            )
        })
        .collect();
    (hosts, tenants)
}

fn compile_tenant(
    raw: &RawTenant,
    id: TenantId,
    hosts: &mut HostTable,
    clusters: &ClusterIds<'_>,
    path: &FieldPath,
    errs: &mut Violations,
) -> Tenant {
    // Tag 0 is the tenant's own name, holding `hosts`; then the named host tags.
    let mut host_tags = vec![raw.name.as_str().into()];
    add_hosts(&raw.hosts, id, 0, hosts, &path.field("hosts"), errs);
    for (name, list) in &raw.host_tags {
        let p = path.field("host_tags").key(name);
        super::check_name(name, &p, errs);
        if name == &raw.name {
            errs.push(&p, "a host tag cannot reuse the tenant's name");
        }
        let tag = host_tags.len() as u32;
        host_tags.push(name.as_str().into());
        add_hosts(list, id, tag, hosts, &p, errs);
    }
    for (i, vip) in raw.vips.iter().enumerate() {
        let p = path.field("vips").index(i);
        match vip.parse::<IpAddr>() {
            Ok(ip) if !hosts.insert_vip(ip, id) => {
                errs.push(&p, format!("VIP {ip} is already taken"))
            }
            Ok(_) => {}
            Err(_) => errs.push(&p, format!("invalid IP address '{vip}'")),
        }
    }
    Tenant {
        name: raw.name.as_str().into(),
        host_tags,
        routes: compile_routes(&raw.routes, clusters, &path.field("routes"), errs),
        modules: super::modules::compile_tenant(&raw.modules, &path.field("modules"), errs),
    }
}

fn add_hosts(
    list: &[String],
    tenant: TenantId,
    tag: u32,
    hosts: &mut HostTable,
    path: &FieldPath,
    errs: &mut Violations,
) {
    for (i, host) in list.iter().enumerate() {
        let p = path.index(i);
        let Some(host) = normalize_host(host, &p, errs) else {
            continue;
        };
        if host == "*" {
            errs.push(&p, "'*' is not a host name: use default_tenant");
            continue;
        }
        let m = HostMatch {
            tenant,
            tag: Some(tag),
        };
        if !hosts.insert(&host, m) {
            errs.push(&p, format!("host '{host}' is already claimed"));
        }
    }
}

/// Lower-cases and checks a host pattern: a DNS name, `*.` + DNS name, or `*`.
fn normalize_host(host: &str, path: &FieldPath, errs: &mut Violations) -> Option<String> {
    let lower = host.to_ascii_lowercase();
    if lower == "*" {
        return Some(lower);
    }
    let name = lower.strip_prefix("*.").unwrap_or(&lower);
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Some(lower)
    } else {
        errs.push(path, format!("invalid host name '{host}'"));
        None
    }
}

fn compile_routes(
    raw: &RawRoutes,
    clusters: &ClusterIds<'_>,
    path: &FieldPath,
    errs: &mut Violations,
) -> RouteTable {
    let mut table = RouteTable::default();
    let bp = path.field("basic");
    for (i, rule) in raw.basic.iter().enumerate() {
        let p = bp.index(i);
        let target = if rule.cluster == ADVANCED_MODE {
            Some(BasicTarget::Advanced)
        } else {
            cluster_ref(&rule.cluster, clusters, &p.field("cluster"), errs)
                .map(BasicTarget::Cluster)
        };
        let star = ["*".to_owned()];
        let hosts = if rule.hosts.is_empty() {
            &star[..]
        } else {
            &rule.hosts
        };
        let paths = if rule.paths.is_empty() {
            &star[..]
        } else {
            &rule.paths
        };
        let mut seen = HashSet::new();
        for (h, host) in hosts.iter().enumerate() {
            let Some(host) = normalize_host(host, &p.field("hosts").index(h), errs) else {
                continue;
            };
            for (j, route_path) in paths.iter().enumerate() {
                let pp = p.field("paths").index(j);
                if route_path != "*" && !route_path.starts_with('/') {
                    errs.push(
                        &pp,
                        format!("path '{route_path}' must start with '/' or be '*'"),
                    );
                    continue;
                }
                if route_path
                    .find('*')
                    .is_some_and(|k| k != route_path.len() - 1)
                {
                    errs.push(&pp, "'*' may only end a path prefix");
                    continue;
                }
                let Some(target) = target else { continue };
                if !table.basic.insert(&host, route_path, target) && seen.insert((h, j)) {
                    errs.push(
                        &pp,
                        format!("duplicate basic rule for host '{host}' path '{route_path}'"),
                    );
                }
            }
        }
    }
    let ap = path.field("advanced");
    for (i, rule) in raw.advanced.iter().enumerate() {
        let p = ap.index(i);
        let cluster = cluster_ref(&rule.cluster, clusters, &p.field("cluster"), errs);
        let condition = match Condition::compile(&rule.condition) {
            Ok(c) if c.uses_response() => {
                errs.push(
                    &p.field("condition"),
                    "res_* primitives cannot be used for routing",
                );
                None
            }
            Ok(c) => Some(c),
            Err(e) => {
                errs.push(&p.field("condition"), e.to_string());
                None
            }
        };
        if let (Some(condition), Some(cluster)) = (condition, cluster) {
            let rule = AdvancedRule {
                name: rule.name.clone(),
                condition,
                cluster,
            };
            if let Err(e) = table.push_advanced(rule) {
                errs.push(&p, e.to_string());
            }
        }
    }
    table
}

fn cluster_ref(
    name: &str,
    clusters: &ClusterIds<'_>,
    path: &FieldPath,
    errs: &mut Violations,
) -> Option<ClusterId> {
    let id = clusters.get(name).copied();
    if id.is_none() {
        errs.push(path, format!("unknown cluster '{name}'"));
    }
    id
}
