//! A rate limiter in the spirit of mod_prison, at HandleFoundProduct. Each rule counts the
//! requests matching its condition per key (client IP, header, cookie, …) in fixed windows;
//! a key over the threshold within a window is jailed for `stay`, and the rule's action
//! applies while it is. Counters live in the module, keyed by scope and rule name, so they
//! survive config swaps; each rule tracks at most `max_keys` keys (least recently used go).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bfe_config::Snapshot;
use bfe_config::modules::{KeyPart, RateLimitAction, RateLimitRule};
use http::request;

use super::scopes::{Scopes, cookie_value, local_response, query_value, request_host};
use super::{ChainBuilder, Module};
use crate::facts::ReqFacts;
use crate::pipeline::{RequestCtx, RequestDecision, RequestFilter, RequestPhase};

/// (tenant name or `None` for the global scope, rule name)
type StateKey = (Option<Arc<str>>, Arc<str>);

#[derive(Default)]
pub struct RateLimitModule {
    limiters: Mutex<HashMap<StateKey, Arc<Limiter>>>,
}

struct RateLimitFilter {
    scopes: Arc<Scopes>,
    /// `limiters[scope][rule]`, aligned with `Scopes::all()`.
    limiters: Vec<Vec<Arc<Limiter>>>,
}

/// Per-key counters of one rule, sharded to keep lock hold times short.
pub(crate) struct Limiter {
    shards: Box<[Mutex<Table>]>,
    per_shard: usize,
    hasher: RandomState,
}

/// An LRU map: `order` holds (key, stamp) per touch; stale pairs are skipped when evicting
/// and compacted away when they pile up.
#[derive(Default)]
struct Table {
    map: HashMap<u64, Entry>,
    order: VecDeque<(u64, u64)>,
    stamp: u64,
}

struct Entry {
    window_start: Instant,
    count: u64,
    jailed_until: Option<Instant>,
    stamp: u64,
}

impl Module for RateLimitModule {
    fn name(&self) -> &'static str {
        "rate_limit"
    }

    fn register(&self, snapshot: &Snapshot, chains: &mut ChainBuilder<'_>) {
        let scopes = chains.scopes().clone();
        let mut state = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        let mut live = HashMap::new();
        let limiters: Vec<Vec<Arc<Limiter>>> = scopes
            .all()
            .enumerate()
            .map(|(i, scope)| {
                let tenant: Option<Arc<str>> = i
                    .checked_sub(1)
                    .and_then(|t| snapshot.tenants.get(t))
                    .map(|t| t.name.clone());
                scope
                    .rate_limit
                    .iter()
                    .map(|rule| {
                        let key = (tenant.clone(), rule.name.clone());
                        let limiter = match state.get(&key) {
                            Some(l) if l.capacity_for(rule.max_keys) => l.clone(),
                            _ => Arc::new(Limiter::new(rule.max_keys)),
                        };
                        live.insert(key, limiter.clone());
                        limiter
                    })
                    .collect()
            })
            .collect();
        // Rules gone from the config take their counters with them.
        *state = live;
        drop(state);
        if limiters.iter().any(|l| !l.is_empty()) {
            chains.request(
                RequestPhase::FoundProduct,
                Arc::new(RateLimitFilter { scopes, limiters }),
            );
        }
    }
}

impl RequestFilter for RateLimitFilter {
    fn on_request(&self, ctx: &mut RequestCtx, req: &mut request::Parts) -> RequestDecision {
        let now = Instant::now();
        let mut outcome: Option<&RateLimitAction> = None;
        let mut passed = 0;
        {
            let facts = ReqFacts {
                req,
                ctx,
                res: None,
            };
            'scopes: for (si, scope) in self.scopes.for_request_indexed(ctx.tenant) {
                for (ri, rule) in scope.rate_limit.iter().enumerate() {
                    let Some(limiter) = self.limiters.get(si).and_then(|l| l.get(ri)) else {
                        continue;
                    };
                    if !rule.condition.eval(&facts) {
                        continue;
                    }
                    let key = limiter.key_hash(rule, req, ctx);
                    if !limiter.check(key, now, rule.window, rule.threshold, rule.stay) {
                        continue;
                    }
                    if rule.action == RateLimitAction::Pass {
                        passed += 1;
                        continue;
                    }
                    outcome = Some(&rule.action);
                    break 'scopes;
                }
            }
        }
        for _ in 0..passed {
            ctx.record_action("rate_limit", "pass");
        }
        match outcome {
            None | Some(RateLimitAction::Pass) => RequestDecision::Continue,
            Some(RateLimitAction::Close) => {
                ctx.record_action("rate_limit", "close");
                RequestDecision::Close
            }
            Some(RateLimitAction::Finish(r)) => {
                ctx.record_action("rate_limit", "finish");
                RequestDecision::Finish(local_response(r))
            }
            Some(RateLimitAction::Respond(r)) => {
                ctx.record_action("rate_limit", "respond");
                RequestDecision::Respond(local_response(r))
            }
        }
    }
}

// === impl Limiter ===

impl Limiter {
    pub(crate) fn new(max_keys: usize) -> Self {
        let n = if max_keys >= 16 * 1024 { 16 } else { 1 };
        Self {
            shards: (0..n).map(|_| Mutex::new(Table::default())).collect(),
            per_shard: max_keys.div_ceil(n).max(1),
            hasher: RandomState::new(),
        }
    }

    fn capacity_for(&self, max_keys: usize) -> bool {
        self.per_shard == max_keys.div_ceil(self.shards.len()).max(1)
    }

    /// Hashes the rule's key parts; absent parts hash as absent, so they still count.
    fn key_hash(&self, rule: &RateLimitRule, req: &request::Parts, ctx: &RequestCtx) -> u64 {
        let mut h = self.hasher.build_hasher();
        for (i, part) in rule.key.iter().enumerate() {
            h.write_usize(i);
            let value: Option<std::borrow::Cow<'_, str>> = match part {
                KeyPart::ClientIp => Some(ctx.client_ip.to_string().into()),
                KeyPart::SocketIp => Some(ctx.session.peer.ip().to_string().into()),
                KeyPart::Host => request_host(req).map(|h| h.to_ascii_lowercase().into()),
                KeyPart::Path => Some(req.uri.path().into()),
                KeyPart::Url => req.uri.path_and_query().map(|p| p.as_str().into()),
                KeyPart::Header(name) => req
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(Into::into),
                KeyPart::Cookie(name) => cookie_value(req, name).map(Into::into),
                KeyPart::Query(name) => query_value(req.uri.query().unwrap_or(""), name),
            };
            match value {
                Some(v) => {
                    h.write_u8(1);
                    h.write(v.as_bytes());
                    h.write_u8(0xff);
                }
                None => h.write_u8(0),
            }
        }
        h.finish()
    }

    /// Counts one request of `key` at `now`; true when the key is (or just became) jailed.
    pub(crate) fn check(
        &self,
        key: u64,
        now: Instant,
        window: Duration,
        threshold: u64,
        stay: Duration,
    ) -> bool {
        let shard = &self.shards[(key as usize) % self.shards.len()];
        let mut t = shard.lock().unwrap_or_else(|p| p.into_inner());
        let e = t.touch(key, now, self.per_shard);
        if let Some(until) = e.jailed_until {
            if now < until {
                return true;
            }
            e.jailed_until = None;
            e.window_start = now;
            e.count = 0;
        }
        if now.saturating_duration_since(e.window_start) >= window {
            e.window_start = now;
            e.count = 0;
        }
        e.count += 1;
        if e.count > threshold {
            if !stay.is_zero() {
                e.jailed_until = Some(now + stay);
            }
            return true;
        }
        false
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).map.len())
            .sum()
    }
}

// === impl Table ===

impl Table {
    /// The entry of `key`, created (evicting the least recently used one when full) if new.
    fn touch(&mut self, key: u64, now: Instant, cap: usize) -> &mut Entry {
        self.stamp += 1;
        let stamp = self.stamp;
        if !self.map.contains_key(&key) {
            while self.map.len() >= cap {
                let Some((old, s)) = self.order.pop_front() else {
                    break;
                };
                if self.map.get(&old).is_some_and(|e| e.stamp == s) {
                    self.map.remove(&old);
                }
            }
        }
        self.order.push_back((key, stamp));
        if self.order.len() > 2 * cap + 16 {
            let map = &self.map;
            self.order
                .retain(|(k, s)| map.get(k).is_some_and(|e| e.stamp == *s) || *k == key);
        }
        let e = self.map.entry(key).or_insert(Entry {
            window_start: now,
            count: 0,
            jailed_until: None,
            stamp,
        });
        e.stamp = stamp;
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_millis(1000);

    #[test]
    fn counts_per_window_then_resets() {
        let l = Limiter::new(100);
        let t0 = Instant::now();
        assert!(!l.check(1, t0, W, 2, Duration::ZERO));
        assert!(!l.check(1, t0, W, 2, Duration::ZERO));
        assert!(
            l.check(1, t0 + Duration::from_millis(10), W, 2, Duration::ZERO),
            "third in window"
        );
        assert!(!l.check(2, t0, W, 2, Duration::ZERO), "keys count apart");
        assert!(!l.check(1, t0 + W, W, 2, Duration::ZERO), "new window");
    }

    #[test]
    fn a_jailed_key_stays_jailed_for_stay_then_starts_over() {
        let l = Limiter::new(100);
        let t0 = Instant::now();
        let stay = Duration::from_secs(5);
        assert!(!l.check(7, t0, W, 1, stay));
        assert!(l.check(7, t0, W, 1, stay));
        // Still jailed after the window ended.
        assert!(l.check(7, t0 + Duration::from_secs(3), W, 1, stay));
        assert!(
            !l.check(7, t0 + Duration::from_secs(5), W, 1, stay),
            "released"
        );
        assert!(
            l.check(7, t0 + Duration::from_secs(5), W, 1, stay),
            "counts again"
        );
    }

    #[test]
    fn memory_is_bounded_and_the_least_recently_used_key_goes() {
        let l = Limiter::new(3);
        let t0 = Instant::now();
        for k in 1..=3 {
            l.check(k, t0, W, 1, Duration::ZERO);
        }
        // Key 1 is used again, so key 2 is the least recently used when key 4 arrives.
        assert!(l.check(1, t0, W, 1, Duration::ZERO));
        l.check(4, t0, W, 1, Duration::ZERO);
        assert_eq!(l.len(), 3);
        assert!(l.check(1, t0, W, 1, Duration::ZERO), "key 1 kept its count");
        assert!(!l.check(2, t0, W, 1, Duration::ZERO), "key 2 was forgotten");
        for k in 10..10_000 {
            l.check(k, t0, W, 1, Duration::ZERO);
        }
        assert_eq!(l.len(), 3);
        let orders: usize = l.shards.iter().map(|s| s.lock().unwrap().order.len()).sum();
        assert!(orders <= 2 * 3 + 17, "{orders}");
    }
}
