//! One backend's health and load, updated lock-free by requests and probes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bfe_config::cluster::BackendId;

/// What one attempt or probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

#[derive(Debug)]
pub struct BackendState {
    pub id: BackendId,
    healthy: AtomicBool,
    consecutive_failures: AtomicU32,
    consecutive_successes: AtomicU32,
    /// Nanoseconds since the process epoch when the backend (re)entered service; `SETTLED`
    /// when it is past any slow start.
    up_since: AtomicU64,
    /// Requests in flight (weighted least connections reads this).
    active: AtomicU32,
    pub requests: AtomicU64,
    pub failures: AtomicU64,
}

/// Keeps `active` counted while an attempt and its response body are in flight.
pub struct ActiveGuard(std::sync::Arc<BackendState>);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `up_since` of a backend that is not ramping up.
const SETTLED: u64 = 0;

/// Never `SETTLED`.
fn now_nanos() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl BackendState {
    /// A healthy backend; `slow_start`: it ramps up from now.
    pub fn new(id: BackendId, slow_start: bool) -> Self {
        Self {
            id,
            healthy: AtomicBool::new(true),
            consecutive_failures: AtomicU32::new(0),
            consecutive_successes: AtomicU32::new(0),
            up_since: AtomicU64::new(if slow_start { now_nanos() } else { SETTLED }),
            active: AtomicU32::new(0),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    pub fn active(&self) -> u32 {
        self.active.load(Ordering::Relaxed)
    }

    pub fn start(self: &std::sync::Arc<Self>) -> ActiveGuard {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        ActiveGuard(self.clone())
    }

    /// Weight after slow start, in hundredths (as BFE scales weights by 100, so a weight of 1
    /// can still ramp): from 1 to `weight × 100` linearly over `window` since the backend
    /// entered service.
    pub fn effective_weight(&self, weight: u32, window: Duration) -> u32 {
        let full = weight.saturating_mul(100);
        let since = self.up_since.load(Ordering::Relaxed);
        if window.is_zero() || full <= 1 || since == SETTLED {
            return full;
        }
        let up = Duration::from_nanos(now_nanos().saturating_sub(since));
        if up >= window {
            // Past the ramp: skip the clock read next time.
            self.up_since.store(SETTLED, Ordering::Relaxed);
            return full;
        }
        let scaled = u128::from(full) * up.as_nanos() / window.as_nanos();
        u32::try_from(scaled).unwrap_or(full).max(1)
    }

    /// Applies an outcome; returns true when this outcome took the backend down.
    pub fn record(&self, outcome: Outcome, fall: u32, rise: u32) -> bool {
        match outcome {
            Outcome::Success => {
                self.consecutive_failures.store(0, Ordering::Relaxed);
                let s = self.consecutive_successes.fetch_add(1, Ordering::Relaxed) + 1;
                if !self.is_healthy() && s >= rise {
                    self.up_since.store(now_nanos(), Ordering::Relaxed);
                    self.healthy.store(true, Ordering::Release);
                    tracing::info!(backend = %self.id.0, "Backend is back; slow start begins.");
                }
                false
            }
            Outcome::Failure => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                self.consecutive_successes.store(0, Ordering::Relaxed);
                let f = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
                f >= fall && self.healthy.swap(false, Ordering::AcqRel)
            }
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fall_takes_down_and_rise_brings_back() {
        let s = BackendState::new(BackendId("a:1".into()), false);
        assert_eq!(
            s.effective_weight(1, Duration::from_secs(60)),
            100,
            "initial: no ramp"
        );
        assert!(!s.record(Outcome::Failure, 3, 2));
        assert!(!s.record(Outcome::Failure, 3, 2));
        assert!(
            s.record(Outcome::Failure, 3, 2),
            "third failure takes it down"
        );
        assert!(!s.is_healthy());
        assert!(!s.record(Outcome::Failure, 3, 2), "already down");
        s.record(Outcome::Success, 3, 2);
        assert!(!s.is_healthy(), "one success is not enough with rise 2");
        s.record(Outcome::Success, 3, 2);
        assert!(s.is_healthy());
        // Just back: slow start gives a reduced weight.
        assert!(
            s.effective_weight(1, Duration::from_secs(60)) < 10,
            "ramps even weight 1"
        );
        assert_eq!(s.effective_weight(1, Duration::ZERO), 100);
        assert_eq!(s.effective_weight(7, Duration::ZERO), 700);
    }
}
