//! mod_rewrite rules (HandleAfterLocation): host, path and query rewrites. Every literal is
//! validated here so that applying an action only splices strings that form a valid URI.

use std::sync::Arc;

use http::HeaderValue;

use super::raw::{RawRewriteAction, RawRewriteRule};
use crate::cond::Condition;
use crate::error::{FieldPath, Violations};

#[derive(Debug, Clone)]
pub struct RewriteRule {
    pub condition: Condition,
    pub actions: Vec<RewriteAction>,
    /// Stop the later rules of this scope when this one matched.
    pub last: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewriteAction {
    /// The new Host value (`host` or `host:port`).
    HostSet(HeaderValue),
    /// `/example.org/rest` → Host `example.org`, path `/rest`; other paths are left alone.
    HostSetFromPathPrefix,
    /// Replaces a suffix of the host name (port kept); hosts without it are left alone.
    HostSuffixReplace {
        from: Arc<str>,
        to: Arc<str>,
    },
    PathSet(Arc<str>),
    /// `/a` + `p` → `/p/a`... as BFE: the prefix is put before the path without its leading `/`.
    PathPrefixAdd(Arc<str>),
    PathPrefixTrim(Arc<str>),
    /// Appends `key=value` (raw, already valid in a query).
    QueryAdd {
        key: Arc<str>,
        value: Arc<str>,
    },
    /// Removes every `key=…` pair of these keys (compared raw, as BFE does).
    QueryDel(Vec<Arc<str>>),
    QueryDelAllExcept(Vec<Arc<str>>),
    QueryRename {
        from: Arc<str>,
        to: Arc<str>,
    },
}

// === impl RewriteRule ===

impl RewriteRule {
    pub(crate) fn compile(
        raw: &RawRewriteRule,
        path: &FieldPath,
        errs: &mut Violations,
    ) -> Option<Self> {
        let condition =
            super::compile_condition(&raw.condition, &path.field("condition"), false, errs);
        if raw.actions.is_empty() {
            errs.push(&path.field("actions"), "give at least one action");
        }
        let ap = path.field("actions");
        let before = errs.len();
        let actions: Vec<RewriteAction> = raw
            .actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| compile_action(a, &ap.index(i).field("params"), errs))
            .collect();
        (errs.len() == before).then_some(())?;
        Some(Self {
            condition: condition?,
            actions,
            last: raw.last,
        })
    }
}

fn compile_action(
    raw: &RawRewriteAction,
    p: &FieldPath,
    errs: &mut Violations,
) -> Option<RewriteAction> {
    let mut fail = |msg: String| {
        errs.push(p, msg);
        None
    };
    match raw {
        RawRewriteAction::HostSet((host,)) => {
            if !is_host(host, true) {
                return fail(format!("invalid host '{host}'"));
            }
            HeaderValue::from_str(host).ok().map(RewriteAction::HostSet)
        }
        RawRewriteAction::HostSetFromPathPrefix => Some(RewriteAction::HostSetFromPathPrefix),
        RawRewriteAction::HostSuffixReplace(from, to) => {
            if from.is_empty() || !is_host(from, false) || !is_host(to, false) && !to.is_empty() {
                return fail(format!("invalid host suffixes '{from}', '{to}'"));
            }
            Some(RewriteAction::HostSuffixReplace {
                from: from.as_str().into(),
                to: to.as_str().into(),
            })
        }
        RawRewriteAction::PathSet((path,)) => {
            if !path.starts_with('/') || !path.bytes().all(is_path_byte) {
                return fail(format!(
                    "invalid path '{path}': start with '/', no '?', '#' or spaces"
                ));
            }
            Some(RewriteAction::PathSet(path.as_str().into()))
        }
        RawRewriteAction::PathPrefixAdd((prefix,))
        | RawRewriteAction::PathPrefixTrim((prefix,))
            if prefix.is_empty() || !prefix.bytes().all(is_path_byte) =>
        {
            fail(format!(
                "invalid path prefix '{prefix}': no '?', '#' or spaces"
            ))
        }
        RawRewriteAction::PathPrefixAdd((prefix,)) => {
            Some(RewriteAction::PathPrefixAdd(prefix.as_str().into()))
        }
        RawRewriteAction::PathPrefixTrim((prefix,)) => {
            Some(RewriteAction::PathPrefixTrim(prefix.as_str().into()))
        }
        RawRewriteAction::QueryAdd(key, value) => {
            if !is_query_key(key) || !value.bytes().all(|b| is_query_byte(b) && b != b'&') {
                return fail(format!(
                    "invalid query pair '{key}={value}': percent-encode spaces, '&', '=' and '#'"
                ));
            }
            Some(RewriteAction::QueryAdd {
                key: key.as_str().into(),
                value: value.as_str().into(),
            })
        }
        RawRewriteAction::QueryDel(keys) if keys.is_empty() => {
            fail("give at least one query key".to_owned())
        }
        RawRewriteAction::QueryDel(keys) | RawRewriteAction::QueryDelAllExcept(keys) => {
            if let Some(bad) = keys.iter().find(|k| !is_query_key(k)) {
                return fail(format!("invalid query key '{bad}'"));
            }
            let keys = keys.iter().map(|k| k.as_str().into()).collect();
            Some(match raw {
                RawRewriteAction::QueryDel(_) => RewriteAction::QueryDel(keys),
                _ => RewriteAction::QueryDelAllExcept(keys),
            })
        }
        RawRewriteAction::QueryRename(from, to) => {
            if !is_query_key(from) || !is_query_key(to) {
                return fail(format!("invalid query keys '{from}', '{to}'"));
            }
            Some(RewriteAction::QueryRename {
                from: from.as_str().into(),
                to: to.as_str().into(),
            })
        }
    }
}

/// A host name or bracketed IPv6 literal, with an optional `:port` when `port` is allowed.
fn is_host(s: &str, port: bool) -> bool {
    let (host, rest) = match s.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((ip, rest)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => (None, rest),
            _ => return false,
        },
        None => match s.split_once(':') {
            Some((h, p)) => (Some(h), &s[h.len()..][..p.len() + 1]),
            None => (Some(s), ""),
        },
    };
    let port_ok = match rest.strip_prefix(':') {
        None => rest.is_empty(),
        Some(p) => port && !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()),
    };
    port_ok
        && host.is_none_or(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        })
}

/// Bytes allowed in a path (RFC 3986 pchar and `/`, with `%` for escapes).
pub(crate) fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

fn is_query_byte(b: u8) -> bool {
    is_path_byte(b) || b == b'?'
}

fn is_query_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| is_query_byte(b) && b != b'&' && b != b'=')
}
