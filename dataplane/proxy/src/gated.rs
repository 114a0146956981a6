//! A future that is polled only when it asked to be: beside a busy one in a `select!`.
//!
//! A connection task waits on its connection and on the drain signal at once, and is woken
//! several times per request by the connection. Polling the drain signal (a `watch` wait) at
//! each of those wakes cost ~0.7k instructions per request; behind this gate it is polled once,
//! then again only after its own waker fired.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

pin_project_lite::pin_project! {
    pub struct Gated<F> {
        #[pin]
        inner: F,
        gate: Arc<Gate>,
        // The task waker last seen, to notice (rarely) that the gate must wake another one.
        task: Option<Waker>,
    }
}

/// The inner future's waker: marks the gate open and wakes the task polling the [`Gated`].
struct Gate {
    open: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl<F> Gated<F> {
    pub fn new(inner: F) -> Self {
        Self {
            inner,
            gate: Arc::new(Gate {
                // Open: the first poll goes through, and registers the inner future's waker.
                open: AtomicBool::new(true),
                task: Mutex::new(None),
            }),
            task: None,
        }
    }
}

impl<F: Future> Future for Gated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if !this.task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *this.task = Some(cx.waker().clone());
            *lock(&this.gate.task) = Some(cx.waker().clone());
        }
        if !this.gate.open.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let waker = Waker::from(this.gate.clone());
        this.inner.poll(&mut Context::from_waker(&waker))
    }
}

impl Wake for Gate {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.open.store(true, Ordering::Release);
        if let Some(w) = lock(&self.task).as_ref() {
            w.wake_by_ref();
        }
    }
}

/// The waker slot is valid whatever a panicking holder left: it is replaced whole.
fn lock(m: &Mutex<Option<Waker>>) -> std::sync::MutexGuard<'_, Option<Waker>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Counts its polls; ready once `ready` is set, after waking through the waker it kept.
    struct Probe {
        polls: Arc<AtomicUsize>,
        ready: Arc<AtomicBool>,
        waker: Arc<Mutex<Option<Waker>>>,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            if self.ready.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            *lock(&self.waker) = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn polls_the_inner_future_only_after_it_woke() {
        let polls = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let inner_waker = Arc::new(Mutex::new(None));
        let probe = Probe {
            polls: polls.clone(),
            ready: ready.clone(),
            waker: inner_waker.clone(),
        };
        let mut gated = Box::pin(Gated::new(probe));
        let task = Arc::new(CountWakes(AtomicUsize::new(0)));
        let task_waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&task_waker);

        assert!(gated.as_mut().poll(&mut cx).is_pending());
        assert!(gated.as_mut().poll(&mut cx).is_pending());
        assert!(gated.as_mut().poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 1, "polled once, then gated");

        ready.store(true, Ordering::SeqCst);
        assert!(gated.as_mut().poll(&mut cx).is_pending(), "not woken yet");
        let kept = lock(&inner_waker)
            .clone()
            .expect("inner registered a waker");
        kept.wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1, "the task was woken");
        assert!(gated.as_mut().poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_wake_reaches_the_task_that_polled_last() {
        let ready = Arc::new(AtomicBool::new(false));
        let inner_waker = Arc::new(Mutex::new(None));
        let probe = Probe {
            polls: Arc::new(AtomicUsize::new(0)),
            ready: ready.clone(),
            waker: inner_waker.clone(),
        };
        let mut gated = Box::pin(Gated::new(probe));
        let first = Arc::new(CountWakes(AtomicUsize::new(0)));
        let second = Arc::new(CountWakes(AtomicUsize::new(0)));
        let w1 = Waker::from(first.clone());
        let w2 = Waker::from(second.clone());
        assert!(
            gated
                .as_mut()
                .poll(&mut Context::from_waker(&w1))
                .is_pending()
        );
        assert!(
            gated
                .as_mut()
                .poll(&mut Context::from_waker(&w2))
                .is_pending()
        );
        lock(&inner_waker).clone().expect("registered").wake();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
