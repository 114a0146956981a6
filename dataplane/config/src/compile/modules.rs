//! Module settings: the global scope (process-wide settings and global rules) and each
//! tenant's rules. The rule compilers live beside their compiled types in `crate::modules`.

use crate::error::{FieldPath, Violations};
use crate::modules::{
    self, AccessLog, AccessLogTarget, IpRanges, IpRangesBuilder, LogId, Modules, TenantModules,
};
use crate::raw::{RawGlobalModules, RawTenantModules};

pub(super) fn compile_global(
    raw: &RawGlobalModules,
    path: &FieldPath,
    errs: &mut Violations,
) -> Modules {
    let al = &raw.access_log;
    let access_log = al.enabled.then(|| {
        let target = match al.target.as_str() {
            "stdout" | "-" => AccessLogTarget::Stdout,
            "" => {
                errs.push(
                    &path.field("access_log").field("target"),
                    "give 'stdout' or a file path",
                );
                AccessLogTarget::Stdout
            }
            file => AccessLogTarget::File(file.into()),
        };
        AccessLog {
            format: al.format,
            target,
        }
    });
    let trusted = ip_ranges(
        &raw.trust_clientip.ranges,
        &path.field("trust_clientip").field("ranges"),
        errs,
    );
    let logid = raw.logid.enabled.then(|| {
        let header =
            http::HeaderName::from_bytes(raw.logid.header.as_bytes()).unwrap_or_else(|_| {
                errs.push(
                    &path.field("logid").field("header"),
                    format!("invalid header name '{}'", raw.logid.header),
                );
                http::HeaderName::from_static("x-bfe-log-id")
            });
        LogId { header }
    });
    Modules {
        access_log,
        trust_clientip: (!trusted.is_empty()).then_some(trusted),
        logid,
        ip_blocklist: ip_ranges(&raw.ip_blocklist, &path.field("ip_blocklist"), errs),
        global: modules::compile_scope(&modules::scope_of_global(raw), path, errs),
    }
}

/// One tenant's rules; `path` is the tenant's `modules`.
pub(super) fn compile_tenant(
    raw: &RawTenantModules,
    path: &FieldPath,
    errs: &mut Violations,
) -> TenantModules {
    modules::compile_scope(&modules::scope_of_tenant(raw), path, errs)
}

fn ip_ranges(list: &[String], path: &FieldPath, errs: &mut Violations) -> IpRanges {
    let mut b = IpRangesBuilder::default();
    for (i, entry) in list.iter().enumerate() {
        if let Err(msg) = b.add(entry) {
            errs.push(&path.index(i), msg);
        }
    }
    b.build()
}

#[cfg(test)]
mod tests;
