//! mod_header: `REQ_*` actions at HandleAfterLocation (after routing, on the request the
//! backend will get), `RSP_*` actions at HandleReadResponse (on backend responses and on the
//! proxy's own Respond and error responses, as in BFE). Global rules run before the tenant's;
//! a matching rule with `last` stops the later rules of its scope at that phase. The engine
//! already sets the default forwarding headers (X-Forwarded-*, X-Real-Ip).

use std::sync::Arc;

use bfe_config::Snapshot;
use bfe_config::modules::{HeaderAction, HeaderRule, Segment, Template, Variable};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Version, request, response};

use super::scopes::Scopes;
use super::{ChainBuilder, Module};
use crate::facts::ReqFacts;
use crate::pipeline::{
    RequestCtx, RequestDecision, RequestFilter, RequestPhase, ResponseDecision, ResponseFilter,
};

pub struct HeaderModule {
    server_name: Arc<str>,
}

struct RequestHeaders {
    scopes: Arc<Scopes>,
    server_name: Arc<str>,
}

struct ResponseHeaders {
    scopes: Arc<Scopes>,
    server_name: Arc<str>,
}

impl Default for HeaderModule {
    fn default() -> Self {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_owned())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            server_name: name.into(),
        }
    }
}

impl Module for HeaderModule {
    fn name(&self) -> &'static str {
        "header"
    }

    fn register(&self, _snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        let scopes = chains.scopes().clone();
        if scopes.any(|s| s.header.iter().any(|r| !r.request.is_empty())) {
            chains.request(
                RequestPhase::AfterLocation,
                Arc::new(RequestHeaders {
                    scopes: scopes.clone(),
                    server_name: self.server_name.clone(),
                }),
            );
        }
        if scopes.any(|s| s.header.iter().any(|r| !r.response.is_empty())) {
            chains.response(Arc::new(ResponseHeaders {
                scopes,
                server_name: self.server_name.clone(),
            }));
        }
    }
}

impl RequestFilter for RequestHeaders {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision {
        let mut applied = false;
        for scope in self.scopes.for_request(ctx.tenant) {
            for rule in scope.header.iter().filter(|r| !r.request.is_empty()) {
                let facts = ReqFacts {
                    req,
                    ctx,
                    res: None,
                };
                if !rule.condition.eval(&facts) {
                    continue;
                }
                let vars = Vars {
                    ctx,
                    req,
                    server_name: &self.server_name,
                };
                let edits = render(&rule.request, &vars);
                apply(&mut req.headers, edits);
                applied = true;
                if rule.last {
                    break;
                }
            }
        }
        if applied {
            ctx.record_action("header", "request");
        }
        RequestDecision::Continue
    }
}

impl ResponseFilter for ResponseHeaders {
    fn on_response(
        &self,
        ctx: &mut RequestCtx,
        req: &request::Parts,
        res: &mut response::Parts,
    ) -> ResponseDecision {
        let mut applied = false;
        for scope in self.scopes.for_request(ctx.tenant) {
            for rule in scope.header.iter().filter(|r| !r.response.is_empty()) {
                if !matches(rule, req, ctx, res) {
                    continue;
                }
                let vars = Vars {
                    ctx,
                    req,
                    server_name: &self.server_name,
                };
                let edits = render(&rule.response, &vars);
                apply(&mut res.headers, edits);
                applied = true;
                if rule.last {
                    break;
                }
            }
        }
        if applied {
            ctx.record_action("header", "response");
        }
        ResponseDecision::Continue
    }
}

fn matches(
    rule: &HeaderRule,
    req: &request::Parts,
    ctx: &RequestCtx,
    res: &response::Parts,
) -> bool {
    rule.condition.eval(&ReqFacts {
        req,
        ctx,
        res: Some(res),
    })
}

/// What `%variables` read.
struct Vars<'a> {
    ctx: &'a RequestCtx,
    req: &'a request::Parts,
    server_name: &'a str,
}

/// An action with its values rendered.
enum Edit<'a> {
    Set(&'a HeaderName, HeaderValue),
    Add(&'a HeaderName, HeaderValue),
    Del(&'a HeaderName),
    Rename(&'a HeaderName, &'a HeaderName),
    CookieSet(&'a str, HeaderValue),
    CookieDel(&'a str),
    SetCookie(&'a str, HeaderValue),
    SetCookieDel(&'a str),
}

/// Renders every value first (variables read the request as it was when the rule matched).
/// An action whose rendered value is not a valid header value is skipped.
fn render<'a>(actions: &'a [HeaderAction], vars: &Vars<'_>) -> Vec<Edit<'a>> {
    actions
        .iter()
        .filter_map(|a| {
            Some(match a {
                HeaderAction::Set(n, t) => Edit::Set(n, vars.value(t)?),
                HeaderAction::Add(n, t) => Edit::Add(n, vars.value(t)?),
                HeaderAction::Del(n) => Edit::Del(n),
                HeaderAction::Rename(a, b) => Edit::Rename(a, b),
                HeaderAction::CookieSet(n, t) => Edit::CookieSet(n, vars.value(t)?),
                HeaderAction::CookieDel(n) => Edit::CookieDel(n),
                HeaderAction::SetCookie {
                    name,
                    value,
                    attributes,
                } => {
                    let v = vars.value(value)?;
                    let line = format!(
                        "{name}={}{attributes}",
                        String::from_utf8_lossy(v.as_bytes())
                    );
                    Edit::SetCookie(name, HeaderValue::from_str(&line).ok()?)
                }
                HeaderAction::SetCookieDel(n) => Edit::SetCookieDel(n),
            })
        })
        .collect()
}

fn apply(headers: &mut HeaderMap, edits: Vec<Edit<'_>>) {
    for e in edits {
        match e {
            Edit::Set(n, v) => {
                headers.insert(n.clone(), v);
            }
            Edit::Add(n, v) => {
                headers.append(n.clone(), v);
            }
            Edit::Del(n) => {
                headers.remove(n);
            }
            Edit::Rename(from, to) => {
                let values: Vec<HeaderValue> = match headers.entry(from) {
                    http::header::Entry::Occupied(o) => o.remove_entry_mult().1.collect(),
                    http::header::Entry::Vacant(_) => continue,
                };
                headers.remove(to);
                for v in values {
                    headers.append(to.clone(), v);
                }
            }
            Edit::CookieSet(name, value) => edit_cookies(headers, name, Some(&value)),
            Edit::CookieDel(name) => edit_cookies(headers, name, None),
            Edit::SetCookie(name, line) => {
                drop_set_cookies(headers, name);
                headers.append(SET_COOKIE, line);
            }
            Edit::SetCookieDel(name) => drop_set_cookies(headers, name),
        }
    }
}

/// Rewrites the Cookie header(s) into one with `name` set to `value` (or removed).
fn edit_cookies(headers: &mut HeaderMap, name: &str, value: Option<&HeaderValue>) {
    let mut pairs: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let is_name = |c: &str| c.split_once('=').map_or(c, |(k, _)| k) == name;
    let value = value.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match (pairs.iter_mut().find(|c| is_name(c)), &value) {
        (Some(c), Some(v)) => *c = format!("{name}={v}"),
        (None, Some(v)) => pairs.push(format!("{name}={v}")),
        (_, None) => pairs.retain(|c| !is_name(c)),
    }
    headers.remove(COOKIE);
    if !pairs.is_empty()
        && let Ok(v) = HeaderValue::from_str(&pairs.join("; "))
    {
        headers.insert(COOKIE, v);
    }
}

fn drop_set_cookies(headers: &mut HeaderMap, name: &str) {
    let kept: Vec<HeaderValue> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter(|v| {
            let line = v.to_str().unwrap_or("");
            let cookie = line.split(';').next().unwrap_or("");
            cookie.split_once('=').map_or(cookie, |(k, _)| k).trim() != name
        })
        .cloned()
        .collect();
    headers.remove(SET_COOKIE);
    for v in kept {
        headers.append(SET_COOKIE, v);
    }
}

// === impl Vars ===

impl Vars<'_> {
    fn value(&self, t: &Template) -> Option<HeaderValue> {
        if let Some(v) = t.constant() {
            return Some(v.clone());
        }
        let mut out = String::with_capacity(64);
        for s in t.segments() {
            match s {
                Segment::Literal(l) => out.push_str(l),
                Segment::Var(v) => self.push(*v, &mut out),
            }
        }
        HeaderValue::from_str(&out).ok()
    }

    fn push(&self, v: Variable, out: &mut String) {
        use std::fmt::Write as _;
        let ctx = self.ctx;
        let _ = match v {
            Variable::ClientIp => write!(out, "{}", ctx.client_ip),
            Variable::ClientPort => {
                // The port is known for the socket peer only.
                if ctx.client_ip == ctx.session.peer.ip() {
                    write!(out, "{}", ctx.session.peer.port())
                } else {
                    Ok(())
                }
            }
            Variable::RequestHost => {
                out.push_str(super::scopes::request_host(self.req).unwrap_or(""));
                Ok(())
            }
            Variable::SessionId => write!(out, "{}", ctx.session.id),
            Variable::LogId => {
                out.push_str(ctx.log_id.as_deref().unwrap_or(""));
                Ok(())
            }
            Variable::Vip => match ctx.session.vip {
                Some(ip) => write!(out, "{ip}"),
                None => write!(out, "unknown"),
            },
            Variable::Bip => write!(out, "unknown"),
            Variable::Rip => write!(out, "{}", ctx.session.local.ip()),
            Variable::ServerName => {
                out.push_str(self.server_name);
                Ok(())
            }
            Variable::Cluster => {
                out.push_str(ctx.cluster_name().unwrap_or(""));
                Ok(())
            }
            Variable::BackendInfo => {
                let (name, addr) = ctx.backend.as_ref().map_or(("", ""), |b| {
                    (b.name.as_deref().unwrap_or(&b.addr), &*b.addr)
                });
                write!(
                    out,
                    "ClusterName:{},SubClusterName:{},BackendName:{name}({addr})",
                    ctx.cluster_name().unwrap_or(""),
                    ctx.sub_cluster.as_deref().unwrap_or(""),
                )
            }
            Variable::Protocol => {
                out.push_str(match (ctx.version, ctx.session.secure) {
                    (Version::HTTP_2, true) => "h2",
                    (Version::HTTP_2, false) => "h2c",
                    (_, true) => "https",
                    (_, false) => "http",
                });
                Ok(())
            }
            Variable::Unavailable(_) => Ok(()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_set_replaced_and_deleted() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; b=2"));
        h.append(COOKIE, HeaderValue::from_static("c=3"));
        edit_cookies(&mut h, "b", Some(&HeaderValue::from_static("20")));
        assert_eq!(h[COOKIE], "a=1; b=20; c=3");
        edit_cookies(&mut h, "d", Some(&HeaderValue::from_static("4")));
        edit_cookies(&mut h, "a", None);
        assert_eq!(h[COOKIE], "b=20; c=3; d=4");
        for n in ["b", "c", "d"] {
            edit_cookies(&mut h, n, None);
        }
        assert!(h.get(COOKIE).is_none());
    }

    #[test]
    fn set_cookie_lines_are_replaced_by_name() {
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, HeaderValue::from_static("sid=1; Path=/"));
        h.append(SET_COOKIE, HeaderValue::from_static("other=2"));
        apply(
            &mut h,
            vec![Edit::SetCookie(
                "sid",
                HeaderValue::from_static("sid=9; HttpOnly"),
            )],
        );
        let lines: Vec<_> = h.get_all(SET_COOKIE).iter().collect();
        assert_eq!(lines, ["other=2", "sid=9; HttpOnly"]);
        apply(&mut h, vec![Edit::SetCookieDel("other")]);
        assert_eq!(h.get_all(SET_COOKIE).iter().count(), 1);
    }

    #[test]
    fn rename_moves_every_value() {
        let mut h = HeaderMap::new();
        h.append("x-a", HeaderValue::from_static("1"));
        h.append("x-a", HeaderValue::from_static("2"));
        h.append("x-b", HeaderValue::from_static("old"));
        let (a, b) = (
            HeaderName::from_static("x-a"),
            HeaderName::from_static("x-b"),
        );
        apply(&mut h, vec![Edit::Rename(&a, &b)]);
        assert!(h.get("x-a").is_none());
        assert_eq!(h.get_all("x-b").iter().collect::<Vec<_>>(), ["1", "2"]);
    }
}
