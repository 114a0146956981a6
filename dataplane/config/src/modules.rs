//! Compiled module settings, shared by every request of a snapshot. Immutable and ready for
//! the hot path: conditions compiled, header names and values validated, `%variables` split
//! into segments, IP ranges sorted for binary search.

mod block;
mod header;
mod ip;
mod rate_limit;
pub mod raw;
mod redirect;
mod rewrite;

use crate::cond::Condition;
use crate::error::{FieldPath, Violations};
use raw::{RawBlockRule, RawHeaderRule, RawRateLimitRule, RawRedirectRule, RawRewriteRule};

pub use crate::raw::AccessLogFormat;
pub use block::{BlockAction, BlockRule, LocalReply};
pub use header::{HeaderAction, HeaderRule, Segment, Template, Variable};
pub use ip::{IpRanges, IpRangesBuilder};
pub use rate_limit::{KeyPart, RateLimitAction, RateLimitRule};
pub use redirect::{RedirectAction, RedirectRule, Scheme};
pub use rewrite::{RewriteAction, RewriteRule};

#[derive(Debug, Clone, Default)]
pub struct Modules {
    pub access_log: Option<AccessLog>,
    /// mod_trust_clientip: peers whose connections are trusted; `None` when not configured.
    pub trust_clientip: Option<IpRanges>,
    /// mod_logid; `None` when disabled.
    pub logid: Option<LogId>,
    /// mod_block's global blocklist, checked at HandleAccept against the socket peer.
    pub ip_blocklist: IpRanges,
    /// Rules of the global scope; they run before the tenant's.
    pub global: ScopeRules,
}

/// The rules of one scope (global, or one tenant).
#[derive(Debug, Clone, Default)]
pub struct ScopeRules {
    pub block: Vec<BlockRule>,
    pub rate_limit: Vec<RateLimitRule>,
    pub redirect: Vec<RedirectRule>,
    pub rewrite: Vec<RewriteRule>,
    pub header: Vec<HeaderRule>,
}

/// One tenant's module rules (`snapshot::Tenant::modules`).
pub type TenantModules = ScopeRules;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLog {
    pub format: AccessLogFormat,
    pub target: AccessLogTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccessLogTarget {
    Stdout,
    File(std::path::PathBuf),
}

/// mod_logid: the request header that carries the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogId {
    pub header: http::HeaderName,
}

// === impl ScopeRules ===

impl ScopeRules {
    pub fn is_empty(&self) -> bool {
        self.block.is_empty()
            && self.rate_limit.is_empty()
            && self.redirect.is_empty()
            && self.rewrite.is_empty()
            && self.header.is_empty()
    }
}

/// The rule lists of one scope, borrowed from either raw scope type.
pub(crate) struct RawScope<'a> {
    pub block: &'a [RawBlockRule],
    pub rate_limit: &'a [RawRateLimitRule],
    pub redirect: &'a [RawRedirectRule],
    pub rewrite: &'a [RawRewriteRule],
    pub header: &'a [RawHeaderRule],
}

pub(crate) fn scope_of_tenant(raw: &crate::raw::RawTenantModules) -> RawScope<'_> {
    RawScope {
        block: &raw.block,
        rate_limit: &raw.rate_limit,
        redirect: &raw.redirect,
        rewrite: &raw.rewrite,
        header: &raw.header,
    }
}

pub(crate) fn scope_of_global(raw: &crate::raw::RawGlobalModules) -> RawScope<'_> {
    RawScope {
        block: &raw.block,
        rate_limit: &raw.rate_limit,
        redirect: &raw.redirect,
        rewrite: &raw.rewrite,
        header: &raw.header,
    }
}

/// Compiles every rule list of a scope; `path` is the scope's `modules` path.
pub(crate) fn compile_scope(
    raw: &RawScope<'_>,
    path: &FieldPath,
    errs: &mut Violations,
) -> ScopeRules {
    fn each<R, T>(
        list: &[R],
        path: &FieldPath,
        errs: &mut Violations,
        f: impl Fn(&R, &FieldPath, &mut Violations) -> Option<T>,
    ) -> Vec<T> {
        list.iter()
            .enumerate()
            .filter_map(|(i, r)| f(r, &path.index(i), errs))
            .collect()
    }
    let rp = path.field("rate_limit");
    let mut names = std::collections::HashSet::new();
    for (i, r) in raw.rate_limit.iter().enumerate() {
        if !names.insert(r.name.as_str()) {
            errs.push(
                &rp.index(i).field("name"),
                format!("duplicate rule name '{}'", r.name),
            );
        }
    }
    ScopeRules {
        block: each(raw.block, &path.field("block"), errs, BlockRule::compile),
        rate_limit: each(raw.rate_limit, &rp, errs, RateLimitRule::compile),
        redirect: each(
            raw.redirect,
            &path.field("redirect"),
            errs,
            RedirectRule::compile,
        ),
        rewrite: each(
            raw.rewrite,
            &path.field("rewrite"),
            errs,
            RewriteRule::compile,
        ),
        header: each(raw.header, &path.field("header"), errs, HeaderRule::compile),
    }
}

/// Compiles a rule condition; `res_*` primitives only where `response` (HandleReadResponse).
pub(crate) fn compile_condition(
    src: &str,
    path: &FieldPath,
    response: bool,
    errs: &mut Violations,
) -> Option<Condition> {
    match Condition::compile(src) {
        Ok(c) if c.uses_response() && !response => {
            errs.push(
                path,
                "res_* primitives have no facts here: only rules with RSP_* actions alone can use them",
            );
            None
        }
        Ok(c) => Some(c),
        Err(e) => {
            errs.push(path, e.to_string());
            None
        }
    }
}
