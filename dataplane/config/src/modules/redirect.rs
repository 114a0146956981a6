//! mod_redirect rules (HandleFoundProduct): the first matching rule builds a URL from its
//! actions and redirects with its status.

use std::sync::Arc;

use http::{HeaderValue, StatusCode};

use super::raw::{RawRedirectAction, RawRedirectRule};
use crate::cond::Condition;
use crate::error::{FieldPath, Violations};

#[derive(Debug, Clone)]
pub struct RedirectRule {
    pub condition: Condition,
    pub actions: Vec<RedirectAction>,
    /// One of 301, 302, 303, 307, 308.
    pub status: StatusCode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectAction {
    /// The location, validated as a header value.
    UrlSet(HeaderValue),
    /// The (percent-decoded) value of this query key; no redirect when absent or empty.
    UrlFromQuery(Arc<str>),
    /// This prefix, then the request's path and query.
    UrlPrefixAdd(Arc<str>),
    /// `scheme://host` + the request's path and query.
    SchemeSet(Scheme),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

// === impl RedirectRule ===

impl RedirectRule {
    pub(crate) fn compile(
        raw: &RawRedirectRule,
        path: &FieldPath,
        errs: &mut Violations,
    ) -> Option<Self> {
        let condition =
            super::compile_condition(&raw.condition, &path.field("condition"), false, errs);
        let status = match raw.status {
            301 | 302 | 303 | 307 | 308 => StatusCode::from_u16(raw.status).ok(),
            s => {
                errs.push(
                    &path.field("status"),
                    format!("invalid redirect status {s}: give 301, 302, 303, 307 or 308"),
                );
                None
            }
        };
        if raw.actions.is_empty() {
            errs.push(&path.field("actions"), "give at least one action");
        }
        let ap = path.field("actions");
        let mut ok = true;
        let mut actions = Vec::with_capacity(raw.actions.len());
        for (i, a) in raw.actions.iter().enumerate() {
            let p = ap.index(i).field("params");
            let action = match a {
                RawRedirectAction::UrlSet((url,)) => match HeaderValue::from_str(url) {
                    Ok(v) if !url.trim().is_empty() => Some(RedirectAction::UrlSet(v)),
                    _ => {
                        errs.push(&p, format!("invalid URL '{url}'"));
                        None
                    }
                },
                RawRedirectAction::UrlFromQuery((key,)) if key.is_empty() => {
                    errs.push(&p, "give a query key");
                    None
                }
                RawRedirectAction::UrlFromQuery((key,)) => {
                    Some(RedirectAction::UrlFromQuery(key.as_str().into()))
                }
                RawRedirectAction::UrlPrefixAdd((prefix,)) => {
                    if prefix.is_empty() || HeaderValue::from_str(prefix).is_err() {
                        errs.push(&p, format!("invalid URL prefix '{prefix}'"));
                        None
                    } else {
                        Some(RedirectAction::UrlPrefixAdd(prefix.as_str().into()))
                    }
                }
                RawRedirectAction::SchemeSet((scheme,)) => match scheme.as_str() {
                    "http" => Some(RedirectAction::SchemeSet(Scheme::Http)),
                    "https" => Some(RedirectAction::SchemeSet(Scheme::Https)),
                    other => {
                        errs.push(&p, format!("invalid scheme '{other}': give http or https"));
                        None
                    }
                },
            };
            match action {
                Some(a) => actions.push(a),
                None => ok = false,
            }
        }
        Some(Self {
            condition: condition?,
            actions: ok.then_some(actions)?,
            status: status?,
        })
    }
}

// === impl Scheme ===

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}
