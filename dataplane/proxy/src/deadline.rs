//! Lazily armed deadlines: a timer that is re-armed only when it fires early.
//!
//! Arming a tokio timer and dropping it touch the timer wheel under its lock: about 1k
//! instructions, once per request if each request armed its own. A connection keeps one timer
//! instead; each request moves the logical deadline forward without touching the wheel, and
//! the timer, when it fires before the deadline (it was armed for an earlier one), is armed
//! again for the rest. A busy connection touches the wheel about once per timeout period.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// A timer for [`poll_deadline`], not armed yet.
pub fn unarmed() -> Pin<Box<Sleep>> {
    Box::pin(tokio::time::sleep_until(
        Instant::now() + Duration::from_secs(86400 * 365),
    ))
}

/// Waits for `deadline` on `sleep`, which may be armed earlier than that (never later): an
/// early firing re-arms it for the rest.
pub fn poll_deadline(
    mut sleep: Pin<&mut Sleep>,
    deadline: Instant,
    cx: &mut Context<'_>,
) -> Poll<()> {
    loop {
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
        }
        ready!(sleep.as_mut().poll(cx));
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        sleep.as_mut().reset(deadline);
    }
}
