//! mod_redirect at HandleFoundProduct: the first rule whose condition matches (global rules,
//! then the tenant's) builds a URL from its actions, in order, and redirects with its status.
//! When the URL comes out empty (`URL_FROM_QUERY` without the key), nothing happens (BFE).

use std::sync::Arc;

use bfe_config::Snapshot;
use bfe_config::modules::{RedirectAction, RedirectRule};
use http::{HeaderValue, request};

use super::scopes::{Scopes, query_value, request_host};
use super::{ChainBuilder, Module};
use crate::facts::ReqFacts;
use crate::pipeline::{Redirect, RequestCtx, RequestDecision, RequestFilter, RequestPhase};

#[derive(Default)]
pub struct RedirectModule;

struct RedirectFilter {
    scopes: Arc<Scopes>,
}

impl Module for RedirectModule {
    fn name(&self) -> &'static str {
        "redirect"
    }

    fn register(&self, _snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        let scopes = chains.scopes().clone();
        if scopes.any(|s| !s.redirect.is_empty()) {
            chains.request(
                RequestPhase::FoundProduct,
                Arc::new(RedirectFilter { scopes }),
            );
        }
    }
}

impl RequestFilter for RedirectFilter {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision {
        let facts = ReqFacts {
            req,
            ctx,
            res: None,
        };
        let Some(rule) = self
            .scopes
            .for_request(ctx.tenant)
            .flat_map(|s| &s.redirect)
            .find(|r| r.condition.eval(&facts))
        else {
            return RequestDecision::Continue;
        };
        match location(rule, req).and_then(|l| Redirect::new(rule.status, l)) {
            Some(r) => {
                ctx.record_action("redirect", "redirect");
                RequestDecision::Redirect(r)
            }
            None => RequestDecision::Continue,
        }
    }
}

/// The rule's actions applied in order; `None` when the URL is empty or not a header value.
fn location(rule: &RedirectRule, req: &request::Parts) -> Option<HeaderValue> {
    let uri = req.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut url: Option<HeaderValue> = None;
    for action in &rule.actions {
        url = match action {
            RedirectAction::UrlSet(v) => Some(v.clone()),
            RedirectAction::UrlFromQuery(key) => query_value(req.uri.query().unwrap_or(""), key)
                .and_then(|v| HeaderValue::from_str(&v).ok()),
            RedirectAction::UrlPrefixAdd(prefix) => {
                HeaderValue::from_str(&format!("{prefix}{uri}")).ok()
            }
            RedirectAction::SchemeSet(scheme) => {
                let host = request_host(req).unwrap_or("");
                HeaderValue::from_str(&format!("{}://{host}{uri}", scheme.as_str())).ok()
            }
        };
    }
    url.filter(|u| !u.is_empty())
}
