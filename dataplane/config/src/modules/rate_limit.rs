//! Rate limit rules in the spirit of mod_prison (HandleFoundProduct).

use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use super::block::LocalReply;
use super::raw::{RawRateLimitAction, RawRateLimitRule};
use crate::cond::Condition;
use crate::error::{FieldPath, Violations};

/// Distinct keys one rule may track, at most.
const MAX_KEYS_LIMIT: usize = 10_000_000;

#[derive(Debug, Clone)]
pub struct RateLimitRule {
    /// Unique in its scope; the runtime state of the rule is keyed by scope and name, so it
    /// survives config swaps that keep the name.
    pub name: Arc<str>,
    pub condition: Condition,
    pub key: Vec<KeyPart>,
    pub window: Duration,
    pub threshold: u64,
    pub stay: Duration,
    pub action: RateLimitAction,
    pub max_keys: usize,
}

/// One part of what identifies a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPart {
    /// The client address after trust logic.
    ClientIp,
    /// The TCP peer.
    SocketIp,
    Host,
    Path,
    /// Path and query.
    Url,
    Header(HeaderName),
    Cookie(Arc<str>),
    Query(Arc<str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitAction {
    Close,
    Finish(LocalReply),
    Respond(LocalReply),
    Pass,
}

// === impl RateLimitRule ===

impl RateLimitRule {
    pub(crate) fn compile(
        raw: &RawRateLimitRule,
        path: &FieldPath,
        errs: &mut Violations,
    ) -> Option<Self> {
        crate::compile::check_name(&raw.name, &path.field("name"), errs);
        let condition =
            super::compile_condition(&raw.condition, &path.field("condition"), false, errs);
        let kp = path.field("key");
        if raw.key.is_empty() {
            errs.push(&kp, "give at least one key part, e.g. client_ip");
        }
        let mut key = Vec::with_capacity(raw.key.len());
        for (i, k) in raw.key.iter().enumerate() {
            match KeyPart::parse(k) {
                Ok(part) => key.push(part),
                Err(msg) => errs.push(&kp.index(i), msg),
            }
        }
        if raw.window_ms == 0 {
            errs.push(&path.field("window_ms"), "give a window of at least 1 ms");
        }
        if raw.max_keys == 0 || raw.max_keys > MAX_KEYS_LIMIT {
            errs.push(
                &path.field("max_keys"),
                format!("give 1 to {MAX_KEYS_LIMIT} keys"),
            );
        }
        let ap = path.field("action").field("params");
        let action = match &raw.action {
            RawRateLimitAction::Close => RateLimitAction::Close,
            RawRateLimitAction::Pass => RateLimitAction::Pass,
            RawRateLimitAction::Finish(r) => RateLimitAction::Finish(LocalReply::compile(
                &r.clone().unwrap_or_default(),
                &ap,
                errs,
            )?),
            RawRateLimitAction::Respond(r) => RateLimitAction::Respond(LocalReply::compile(
                &r.clone().unwrap_or_default(),
                &ap,
                errs,
            )?),
        };
        (key.len() == raw.key.len()).then_some(())?;
        Some(Self {
            name: raw.name.as_str().into(),
            condition: condition?,
            key,
            window: Duration::from_millis(raw.window_ms),
            threshold: raw.threshold,
            stay: Duration::from_millis(raw.stay_ms),
            action,
            max_keys: raw.max_keys,
        })
    }
}

// === impl KeyPart ===

impl KeyPart {
    fn parse(s: &str) -> Result<Self, String> {
        let named = |name: &str| {
            if name.is_empty() {
                Err(format!("'{s}' needs a name after ':'"))
            } else {
                Ok(Arc::<str>::from(name))
            }
        };
        match s.split_once(':') {
            None => match s {
                "client_ip" => Ok(Self::ClientIp),
                "socket_ip" => Ok(Self::SocketIp),
                "host" => Ok(Self::Host),
                "path" => Ok(Self::Path),
                "url" => Ok(Self::Url),
                _ => Err(unknown(s)),
            },
            Some(("header", name)) => HeaderName::from_bytes(name.as_bytes())
                .map(Self::Header)
                .map_err(|_| format!("invalid header name '{name}'")),
            Some(("cookie", name)) => named(name).map(Self::Cookie),
            Some(("query", name)) => named(name).map(Self::Query),
            Some(_) => Err(unknown(s)),
        }
    }
}

fn unknown(s: &str) -> String {
    format!(
        "unknown key part '{s}': give client_ip, socket_ip, host, path, url, header:NAME, \
         cookie:NAME or query:NAME"
    )
}
