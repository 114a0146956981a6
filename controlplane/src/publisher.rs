//! The newest configuration version, ready to push: its canonical bytes and hash. One task
//! per process watches the store's head — woken by PostgreSQL NOTIFY from any replica, and
//! polling as a fallback (SQLite, or a lost LISTEN connection) — and publishes through a
//! `watch` channel, so a burst of commits reaches each stream as its newest version only.
//! [`Publisher::shutdown`] ends that task, which ends every subscribed stream.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::{Store, VERSIONS_CHANNEL};

/// How often the head is read when no notification arrives.
const POLL: Duration = Duration::from_millis(250);

/// Longest wait between two reads of the head while the store fails.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One version as pushed to nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub version: i64,
    pub sha256: String,
    /// Canonical JSON of the snapshot: exactly the bytes `sha256` hashes.
    pub body: Arc<Vec<u8>>,
    pub committed_unix_ms: i64,
}

/// Subscribes streams to the newest version.
#[derive(Clone)]
pub struct Publisher {
    rx: watch::Receiver<Option<Arc<Published>>>,
    stop: Arc<watch::Sender<bool>>,
    tasks: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Publisher {
    /// Starts watching `store`; `database_url` enables LISTEN on PostgreSQL.
    pub fn spawn(store: Store, database_url: Option<String>) -> Self {
        let (tx, rx) = watch::channel(None);
        let (stop, stopped) = watch::channel(false);
        let (wake_tx, wake_rx) = tokio::sync::mpsc::channel::<()>(1);
        let mut tasks = Vec::new();
        if let Some(url) = database_url.filter(|u| u.starts_with("postgres")) {
            tasks.push(tokio::spawn(listen(url, wake_tx, stopped.clone())));
        }
        tasks.push(tokio::spawn(watch_head(store, tx, wake_rx, stopped)));
        Self {
            rx,
            stop: Arc::new(stop),
            tasks: Arc::new(std::sync::Mutex::new(tasks)),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Published>>> {
        self.rx.clone()
    }

    pub fn latest(&self) -> Option<Arc<Published>> {
        self.rx.borrow().clone()
    }

    /// Stops publishing: every subscriber sees the channel close (streams end), and once this
    /// resolves nothing here touches the store any more, so it may be closed.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let tasks = self
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for task in tasks {
            let _ = task.await;
        }
    }
}

async fn watch_head(
    store: Store,
    tx: watch::Sender<Option<Arc<Published>>>,
    mut wake: tokio::sync::mpsc::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    let mut current = 0i64;
    let mut failures = 0u32;
    loop {
        match store.head().await {
            Ok(head) if head > 0 && head != current => match load(&store, head).await {
                Some(p) => {
                    tracing::info!(version = head, "Publishing configuration version.");
                    current = head;
                    failures = 0;
                    if tx.send(Some(Arc::new(p))).is_err() {
                        return;
                    }
                }
                None => {
                    failures += 1;
                    tracing::warn!(
                        version = head,
                        "Head version could not be loaded; will retry."
                    );
                }
            },
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, "Reading the head version failed; will retry.");
            }
        }
        if tx.is_closed() {
            return;
        }
        // A failing store is retried with a doubling delay, not in a tight loop.
        let delay = POLL.saturating_mul(1 << failures.min(5)).min(MAX_BACKOFF);
        if !next_wake(
            &mut wake,
            store.next_commit(),
            &mut stop,
            delay,
            failures > 0,
        )
        .await
        {
            return;
        }
    }
}

/// Waits for a reason to read the head again: a NOTIFY from any replica, a commit of this
/// process, or `delay`; only `delay` while the store is `failing`. Without a LISTEN task
/// (SQLite) `wake` is closed from the start: its branch must then be disabled, not taken, or
/// the loop spins on the store. False once shutting down.
async fn next_wake(
    wake: &mut tokio::sync::mpsc::Receiver<()>,
    committed: impl Future<Output = ()>,
    stop: &mut watch::Receiver<bool>,
    delay: Duration,
    failing: bool,
) -> bool {
    tokio::select! {
        _ = stop.wait_for(|s| *s) => false,
        Some(()) = wake.recv(), if !failing => true,
        () = committed, if !failing => true,
        () = tokio::time::sleep(delay) => true,
    }
}

async fn load(store: &Store, version: i64) -> Option<Published> {
    let snapshot = store.version_snapshot(version).await.ok()??;
    let info = store.version(version).await.ok()??;
    let body = snapshot.canonical_json();
    let sha256: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let committed_unix_ms = humantime::parse_rfc3339(&info.created_at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    Some(Published {
        version,
        sha256,
        body: Arc::new(body),
        committed_unix_ms,
    })
}

/// LISTENs for commits of every replica; reconnects when the connection drops.
async fn listen(url: String, wake: tokio::sync::mpsc::Sender<()>, mut stop: watch::Receiver<bool>) {
    let session = async {
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(VERSIONS_CHANNEL).await {
                        tracing::warn!(error = %e, "LISTEN failed; polling only.");
                    } else {
                        while listener.recv().await.is_ok() {
                            let _ = wake.try_send(());
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot open the LISTEN connection; polling only.")
                }
            }
            if wake.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    };
    tokio::select! {
        _ = stop.wait_for(|s| *s) => {}
        () = session => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: with no LISTEN task the closed wake channel made every wait return at
    /// once, so an idle control plane on SQLite read its head in a loop at 100 % of a core.
    #[tokio::test]
    async fn a_closed_wake_channel_waits_for_the_poll_interval() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        drop(tx);
        let (_stop_tx, mut stop) = watch::channel(false);
        let wait = next_wake(&mut rx, std::future::pending(), &mut stop, POLL, false);
        let waited = tokio::time::timeout(POLL / 2, wait);
        assert!(waited.await.is_err(), "woke before the poll interval");
    }

    #[tokio::test]
    async fn a_notification_wakes_before_the_poll_interval() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        tx.try_send(()).expect("room for one");
        let (_stop_tx, mut stop) = watch::channel(false);
        let wait = next_wake(&mut rx, std::future::pending(), &mut stop, POLL, false);
        let waited = tokio::time::timeout(POLL / 2, wait);
        assert_eq!(
            waited.await.ok(),
            Some(true),
            "a notification must wake the watcher"
        );
    }

    /// Regression: a failing store (a closed pool at shutdown) was read again at once, logging
    /// thousands of warnings; while failing only the back-off delay wakes the watcher.
    #[tokio::test]
    async fn a_failing_store_waits_for_the_back_off() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        tx.try_send(()).expect("room for one");
        let (_stop_tx, mut stop) = watch::channel(false);
        let wait = next_wake(&mut rx, std::future::ready(()), &mut stop, POLL, true);
        let waited = tokio::time::timeout(POLL / 2, wait);
        assert!(waited.await.is_err(), "woke before the back-off delay");
    }

    #[tokio::test]
    async fn shutdown_ends_the_wait() {
        let (_tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let (stop_tx, mut stop) = watch::channel(false);
        stop_tx.send_replace(true);
        let wait = next_wake(&mut rx, std::future::pending(), &mut stop, POLL, false);
        assert_eq!(tokio::time::timeout(POLL / 2, wait).await.ok(), Some(false));
    }
}
