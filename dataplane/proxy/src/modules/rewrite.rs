//! mod_rewrite at HandleAfterLocation: the route is already chosen on the original request;
//! rules (global, then the tenant's) rewrite the Host, path and query the backend sees. A
//! matching rule with `last` stops the later rules of its scope. Later conditions see the
//! request as rewritten so far (BFE applies actions in place).

use std::sync::Arc;

use bfe_config::Snapshot;
use bfe_config::modules::RewriteAction;
use http::header::HOST;
use http::uri::{Authority, PathAndQuery};
use http::{HeaderValue, Uri, request};

use super::scopes::{Scopes, request_host};
use super::{ChainBuilder, Module};
use crate::facts::ReqFacts;
use crate::pipeline::{RequestCtx, RequestDecision, RequestFilter, RequestPhase};

#[derive(Default)]
pub struct RewriteModule;

struct RewriteFilter {
    scopes: Arc<Scopes>,
}

/// The parts of a request a rewrite changes, as owned strings.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host: Option<String>,
    path: String,
    query: Option<String>,
}

impl Module for RewriteModule {
    fn name(&self) -> &'static str {
        "rewrite"
    }

    fn register(&self, _snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        let scopes = chains.scopes().clone();
        if scopes.any(|s| !s.rewrite.is_empty()) {
            chains.request(
                RequestPhase::AfterLocation,
                Arc::new(RewriteFilter { scopes }),
            );
        }
    }
}

impl RequestFilter for RewriteFilter {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision {
        let mut rewrote = false;
        for scope in self.scopes.for_request(ctx.tenant) {
            for rule in &scope.rewrite {
                let matched = rule.condition.eval(&ReqFacts {
                    req,
                    ctx,
                    res: None,
                });
                if !matched {
                    continue;
                }
                let mut t = Target::of(req);
                let before_host = t.host.clone();
                for a in &rule.actions {
                    t.apply(a);
                }
                rewrote |= t.write_to(req, before_host.as_deref());
                if rule.last {
                    break;
                }
            }
        }
        if rewrote {
            ctx.record_action("rewrite", "rewrite");
        }
        RequestDecision::Continue
    }
}

// === impl Target ===

impl Target {
    fn of(req: &request::Parts) -> Self {
        Self {
            host: request_host(req).map(str::to_owned),
            path: req.uri.path().to_owned(),
            query: req.uri.query().map(str::to_owned),
        }
    }

    fn apply(&mut self, action: &RewriteAction) {
        match action {
            RewriteAction::HostSet(h) => self.host = h.to_str().ok().map(str::to_owned),
            RewriteAction::HostSetFromPathPrefix => {
                // `/x.example/rest` → host `x.example`, path `/rest`; else nothing (BFE).
                let mut segs = self.path.splitn(3, '/');
                if let (Some(""), Some(host), Some(rest)) = (segs.next(), segs.next(), segs.next())
                    && !host.is_empty()
                    && host.parse::<Authority>().is_ok()
                {
                    let (host, path) = (host.to_owned(), format!("/{rest}"));
                    self.host = Some(host);
                    self.path = path;
                }
            }
            RewriteAction::HostSuffixReplace { from, to } => {
                if let Some(host) = &self.host {
                    let (name, port) = split_port(host);
                    let cut = name.len().wrapping_sub(from.len());
                    if name.len() >= from.len()
                        && name.is_char_boundary(cut)
                        && name[cut..].eq_ignore_ascii_case(from)
                    {
                        self.host = Some(format!("{}{to}{port}", &name[..cut]));
                    }
                }
            }
            RewriteAction::PathSet(p) => self.path = p.to_string(),
            RewriteAction::PathPrefixAdd(prefix) => {
                let p = format!("{prefix}{}", self.path.trim_start_matches('/'));
                self.path = with_slash(p);
            }
            RewriteAction::PathPrefixTrim(prefix) => {
                if let Some(rest) = self.path.strip_prefix(&**prefix) {
                    self.path = with_slash(rest.to_owned());
                }
            }
            RewriteAction::QueryAdd { key, value } => {
                let pair = format!("{key}={value}");
                self.query = Some(match self.query.take().filter(|q| !q.is_empty()) {
                    Some(q) => format!("{q}&{pair}"),
                    None => pair,
                });
            }
            RewriteAction::QueryDel(keys) => self.retain_query(|k| !keys.iter().any(|d| **d == *k)),
            RewriteAction::QueryDelAllExcept(keys) => {
                self.retain_query(|k| keys.iter().any(|d| **d == *k))
            }
            RewriteAction::QueryRename { from, to } => {
                if let Some(q) = &self.query {
                    let renamed: Vec<String> = q
                        .split('&')
                        .map(|pair| match pair.split_once('=') {
                            Some((k, v)) if k == &**from => format!("{to}={v}"),
                            _ if pair == &**from => to.to_string(),
                            _ => pair.to_owned(),
                        })
                        .collect();
                    self.query = Some(renamed.join("&"));
                }
            }
        }
    }

    fn retain_query(&mut self, keep: impl Fn(&str) -> bool) {
        if let Some(q) = &self.query {
            let kept: Vec<&str> = q
                .split('&')
                .filter(|pair| keep(pair.split_once('=').map_or(*pair, |(k, _)| k)))
                .collect();
            self.query = (!kept.is_empty()).then(|| kept.join("&"));
        }
    }

    /// Writes the target back; true if anything changed. A value that would not form a valid
    /// URI or Host leaves that part unchanged (literals are validated at compile time, so only
    /// values taken from the request itself can get here).
    fn write_to(&self, req: &mut request::Parts, before_host: Option<&str>) -> bool {
        let mut changed = false;
        let pq = match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        };
        if req.uri.path_and_query().map(|p| p.as_str()) != Some(pq.as_str())
            && let Ok(pq) = pq.parse::<PathAndQuery>()
        {
            let mut parts = std::mem::take(&mut req.uri).into_parts();
            let old = parts.clone_path();
            parts.path_and_query = Some(pq);
            match Uri::from_parts(parts) {
                Ok(uri) => {
                    req.uri = uri;
                    changed = true;
                }
                Err(_) => req.uri = old,
            }
        }
        if self.host.as_deref() != before_host
            && let Some(host) = &self.host
            && let Ok(value) = HeaderValue::from_str(host)
        {
            req.headers.insert(HOST, value);
            if req.uri.authority().is_some()
                && let Ok(authority) = host.parse::<Authority>()
            {
                let mut parts = std::mem::take(&mut req.uri).into_parts();
                let old = parts.clone_path();
                parts.authority = Some(authority);
                req.uri = Uri::from_parts(parts).unwrap_or(old);
            }
            changed = true;
        }
        changed
    }
}

/// `(name, ":port" or "")`, IPv6 literals kept whole.
fn split_port(host: &str) -> (&str, &str) {
    match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']') && (host.starts_with('[') || !host[..i].contains(':')) =>
        {
            host.split_at(i)
        }
        _ => (host, ""),
    }
}

fn with_slash(p: String) -> String {
    if p.starts_with('/') {
        p
    } else {
        format!("/{p}")
    }
}

/// Rebuilding a URI from parts needs the old one back when the new parts do not form one.
trait ClonePath {
    fn clone_path(&self) -> Uri;
}

impl ClonePath for http::uri::Parts {
    fn clone_path(&self) -> Uri {
        let mut b = Uri::builder();
        if let Some(s) = &self.scheme {
            b = b.scheme(s.clone());
        }
        if let Some(a) = &self.authority {
            b = b.authority(a.clone());
        }
        if let Some(p) = &self.path_and_query {
            b = b.path_and_query(p.clone());
        }
        b.build().unwrap_or_else(|_| Uri::from_static("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, path: &str, query: Option<&str>) -> Target {
        Target {
            host: Some(host.to_owned()),
            path: path.to_owned(),
            query: query.map(str::to_owned),
        }
    }

    fn apply(t: &mut Target, a: RewriteAction) {
        t.apply(&a);
    }

    #[test]
    fn host_actions() {
        let mut t = target("a.example.com:8080", "/www.b.org/x/y", None);
        apply(&mut t, RewriteAction::HostSetFromPathPrefix);
        assert_eq!(
            (t.host.as_deref(), t.path.as_str()),
            (Some("www.b.org"), "/x/y")
        );
        let mut t = target("a.example.com:8080", "/only", None);
        apply(&mut t, RewriteAction::HostSetFromPathPrefix);
        assert_eq!(t.path, "/only", "one segment: untouched");
        let mut t = target("a.example.COM:8080", "/", None);
        apply(
            &mut t,
            RewriteAction::HostSuffixReplace {
                from: ".example.com".into(),
                to: ".internal".into(),
            },
        );
        assert_eq!(t.host.as_deref(), Some("a.internal:8080"));
        assert_eq!(split_port("[::1]:80"), ("[::1]", ":80"));
        assert_eq!(split_port("[::1]"), ("[::1]", ""));
    }

    #[test]
    fn path_actions_follow_bfe() {
        let mut t = target("h", "/a/b", None);
        apply(&mut t, RewriteAction::PathPrefixAdd("/v2/".into()));
        assert_eq!(t.path, "/v2/a/b");
        apply(&mut t, RewriteAction::PathPrefixTrim("/v2/a".into()));
        assert_eq!(t.path, "/b");
        apply(&mut t, RewriteAction::PathPrefixAdd("x".into()));
        assert_eq!(t.path, "/xb", "BFE: prefix + path without its '/'");
        apply(&mut t, RewriteAction::PathSet("/set".into()));
        assert_eq!(t.path, "/set");
    }

    #[test]
    fn query_actions_follow_bfe() {
        let mut t = target("h", "/", Some("a=1&b=2&a=3&c"));
        apply(&mut t, RewriteAction::QueryDel(vec!["a".into()]));
        assert_eq!(t.query.as_deref(), Some("b=2&c"));
        apply(
            &mut t,
            RewriteAction::QueryRename {
                from: "b".into(),
                to: "bee".into(),
            },
        );
        assert_eq!(t.query.as_deref(), Some("bee=2&c"));
        apply(
            &mut t,
            RewriteAction::QueryAdd {
                key: "k".into(),
                value: "v".into(),
            },
        );
        assert_eq!(t.query.as_deref(), Some("bee=2&c&k=v"));
        apply(
            &mut t,
            RewriteAction::QueryDelAllExcept(vec!["k".into(), "c".into()]),
        );
        assert_eq!(t.query.as_deref(), Some("c&k=v"));
        apply(&mut t, RewriteAction::QueryDelAllExcept(vec![]));
        assert_eq!(t.query, None);
        apply(
            &mut t,
            RewriteAction::QueryAdd {
                key: "k".into(),
                value: "v".into(),
            },
        );
        assert_eq!(t.query.as_deref(), Some("k=v"));
    }

    #[test]
    fn write_back_changes_uri_and_host_header() {
        let (mut req, ()) = http::Request::get("http://a.example/x?q=1")
            .body(())
            .unwrap()
            .into_parts();
        req.headers
            .insert(HOST, HeaderValue::from_static("a.example"));
        let mut t = Target::of(&req);
        let before = t.host.clone();
        apply(
            &mut t,
            RewriteAction::HostSet(HeaderValue::from_static("b.example:81")),
        );
        apply(&mut t, RewriteAction::PathSet("/y".into()));
        assert!(t.write_to(&mut req, before.as_deref()));
        assert_eq!(req.uri.to_string(), "http://b.example:81/y?q=1");
        assert_eq!(req.headers[HOST], "b.example:81");
    }
}
