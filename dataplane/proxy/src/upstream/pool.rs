//! Idle backend connections, keyed by backend address and protocol. Lives beside the snapshot
//! and survives config swaps: a swap does not cost a reconnect.

use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bfe_config::FastMap;
use bfe_config::cluster::{BackendProtocol, Pool as PoolSettings};
use hyper::client::conn::{http1, http2};
use tokio::time::Sleep;

use crate::http::body::ReqBody;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub addr: Arc<str>,
    pub protocol: BackendProtocol,
    /// The cluster's backend TLS settings id: connections made with other settings differ.
    pub tls: Option<Arc<str>>,
}

/// A connection able to carry a request.
pub enum Sender {
    H1(H1Conn),
    /// HTTP/2 senders are shared: many requests multiplex over one connection.
    H2(http2::SendRequest<ReqBody>),
}

/// An HTTP/1 backend connection: one exchange at a time, so one response timer.
pub struct H1Conn {
    pub sender: http1::SendRequest<ReqBody>,
    /// The response-header timer of its exchanges, lazily armed (`crate::deadline`).
    pub timer: Pin<Box<Sleep>>,
}

struct Idle {
    conn: H1Conn,
    since: Instant,
    timeout: Duration,
}

/// How often idle HTTP/1 connections are looked at: those the backend closed, or past their
/// idle timeout, are dropped (hyper then closes them), so none stays open idle for long.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Pool {
    h1: Mutex<FastMap<PoolKey, Vec<Idle>>>,
    h2: Mutex<FastMap<PoolKey, http2::SendRequest<ReqBody>>>,
}

// === impl Idle ===

impl Idle {
    /// Open, and idle for less than the idle timeout of the cluster that pooled it.
    fn usable(&self) -> bool {
        self.since.elapsed() < self.timeout && !self.conn.sender.is_closed()
    }
}

// === impl Pool ===

impl Pool {
    /// A live idle connection for `key`, if one is pooled (newest first: the likeliest to be
    /// still open and warm).
    pub fn checkout(&self, key: &PoolKey) -> Option<Sender> {
        if key.protocol.is_h2() {
            let mut map = self.h2.lock().unwrap_or_else(|p| p.into_inner());
            return match map.get(key) {
                Some(s) if !s.is_closed() => Some(Sender::H2(s.clone())),
                Some(_) => {
                    map.remove(key);
                    None
                }
                None => None,
            };
        }
        let mut map = self.h1.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get_mut(key)?;
        while let Some(idle) = list.pop() {
            if idle.usable() {
                return Some(Sender::H1(idle.conn));
            }
        }
        None
    }

    /// Returns an HTTP/1 connection whose exchange completed, under its cluster's pool settings.
    pub fn checkin(&self, key: PoolKey, conn: H1Conn, settings: PoolSettings) {
        let max_idle = settings.max_idle_per_backend;
        if conn.sender.is_closed() || max_idle == 0 {
            return;
        }
        let mut map = self.h1.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.entry(key).or_default();
        if list.len() >= max_idle {
            // Drop the oldest: it is the likeliest to be closed by the backend soon.
            list.remove(0);
        }
        list.push(Idle {
            conn,
            since: Instant::now(),
            timeout: settings.idle_timeout,
        });
    }

    /// Drops idle HTTP/1 connections the backend closed or that idled past their timeout.
    pub fn sweep(&self) {
        let mut map = self.h1.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, list| {
            list.retain(Idle::usable);
            !list.is_empty()
        });
    }

    pub fn put_h2(&self, key: PoolKey, sender: http2::SendRequest<ReqBody>) {
        let mut map = self.h2.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(key, sender);
    }

    /// Idle HTTP/1 connections pooled now (for metrics and tests).
    pub fn idle_count(&self) -> usize {
        let map = self.h1.lock().unwrap_or_else(|p| p.into_inner());
        map.values().map(Vec::len).sum()
    }
}

/// Sweeps `pool` every few seconds for as long as it exists.
pub async fn sweep_idle(pool: Weak<Pool>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match pool.upgrade() {
            Some(pool) => pool.sweep(),
            None => return,
        }
    }
}
