//! The rule scopes of one snapshot, global first then one per tenant, shared by the filters
//! of every rule-based module, plus small helpers those modules share.

use std::borrow::Cow;

use bfe_config::modules::{LocalReply, ScopeRules, TenantModules};
use bfe_config::{Snapshot, TenantId};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE};
use http::{HeaderValue, request};

use crate::pipeline::LocalResponse;

/// Global rules, then each tenant's, indexed by [`TenantId`].
#[derive(Debug, Default)]
pub struct Scopes {
    global: ScopeRules,
    tenants: Vec<TenantModules>,
}

// === impl Scopes ===

impl Scopes {
    pub fn build(snapshot: &Snapshot) -> Self {
        let tenants = snapshot.tenants.iter().map(|t| t.modules.clone()).collect();
        Self {
            global: snapshot.modules.global.clone(),
            tenants,
        }
    }

    /// The scopes a request runs through, in order: global, then its tenant's (when known).
    pub fn for_request(&self, tenant: Option<TenantId>) -> impl Iterator<Item = &ScopeRules> {
        let t = tenant.and_then(|t| self.tenants.get(t.0 as usize));
        std::iter::once(&self.global).chain(t)
    }

    /// As [`Self::for_request`], with each scope's index in [`Self::all`].
    pub fn for_request_indexed(
        &self,
        tenant: Option<TenantId>,
    ) -> impl Iterator<Item = (usize, &ScopeRules)> {
        let t = tenant.and_then(|t| {
            let i = t.0 as usize;
            self.tenants.get(i).map(|s| (i + 1, s))
        });
        std::iter::once((0, &self.global)).chain(t)
    }

    /// Every scope: global first, then tenants by id.
    pub fn all(&self) -> impl Iterator<Item = &ScopeRules> {
        std::iter::once(&self.global).chain(self.tenants.iter())
    }

    pub fn any(&self, f: impl FnMut(&ScopeRules) -> bool) -> bool {
        self.all().any(f)
    }
}

/// A module's own reply, as a pipeline response.
pub fn local_response(reply: &LocalReply) -> LocalResponse {
    let mut r = LocalResponse::new(reply.status, Bytes::copy_from_slice(reply.body.as_bytes()));
    if !reply.body.is_empty() {
        r.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    r
}

/// The Host the request names: the Host header, else the URI's authority.
pub fn request_host(req: &request::Parts) -> Option<&str> {
    match req.headers.get(http::header::HOST) {
        Some(h) => h.to_str().ok(),
        None => req.uri.authority().map(|a| a.as_str()),
    }
}

/// The first value of query parameter `key` (keys compared raw), percent-decoded.
pub fn query_value<'a>(query: &'a str, key: &str) -> Option<Cow<'a, str>> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(v))
}

/// `%XX` and `+` decoded; invalid escapes are kept as they are.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    bytes.get(i + 1).and_then(|&b| hex(b)),
                    bytes.get(i + 2).and_then(|&b| hex(b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The value of cookie `name` in the request's Cookie headers.
pub fn cookie_value<'a>(req: &'a request::Parts, name: &str) -> Option<&'a str> {
    req.headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode() {
        assert_eq!(
            query_value("a=1&to=https%3A%2F%2Fx.org%2F&b", "to").unwrap(),
            "https://x.org/"
        );
        assert_eq!(query_value("a=1&b", "b").unwrap(), "");
        assert!(query_value("a=1", "c").is_none());
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
