//! Standalone configuration: load a snapshot file, and hot-reload it when it changes or on
//! SIGHUP. An invalid file is logged violation by violation and the running config stays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bfe_config::raw::ParseError;
use bfe_config::{RawSnapshot, Snapshot, Violations};
use tokio::sync::watch;

use crate::live::Live;
use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse { path: PathBuf, source: ParseError },
    #[error("{path} has {} violation(s):\n{violations}", violations.len())]
    Invalid {
        path: PathBuf,
        violations: Violations,
    },
}

/// Reads, parses and compiles a snapshot file.
pub fn load(path: &Path) -> Result<Snapshot, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let raw = RawSnapshot::parse(&text).map_err(|source| LoadError::Parse {
        path: path.to_owned(),
        source,
    })?;
    bfe_config::compile(&raw).map_err(|violations| LoadError::Invalid {
        path: path.to_owned(),
        violations,
    })
}

/// Watches `path` (polling its stamp) and SIGHUP until `stop`. `loaded` is the stamp taken
/// just before the running config was read, so a change made since is not missed.
pub async fn watch_file(
    path: PathBuf,
    loaded: Option<Stamp>,
    live: Arc<Live>,
    metrics: Arc<Metrics>,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "Cannot listen for SIGHUP; reloading on file change only.");
            None
        }
    };
    let mut last = loaded;
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = stamp(&path);
                if now == last {
                    continue;
                }
                last = now;
            }
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                tracing::info!(path = %path.display(), "SIGHUP: reloading configuration.");
                last = stamp(&path);
            }
            _ = stop.wait_for(|s| *s) => return,
        }
        reload(&path, &live, &metrics);
    }
}

/// One reload attempt; the outcome is logged and counted.
pub fn reload(path: &Path, live: &Live, metrics: &Metrics) {
    match load(path) {
        Ok(snapshot) if snapshot.hash == live.current().snapshot.hash => {
            tracing::debug!(path = %path.display(), "Configuration unchanged.");
        }
        Ok(snapshot) => {
            let hash = snapshot.hash.clone();
            let generation = live.install(snapshot);
            metrics.reload(true);
            metrics.config_installed(generation, &hash);
            tracing::info!(generation, hash = %hash, "Configuration reloaded.");
        }
        Err(LoadError::Invalid { path, violations }) => {
            metrics.reload(false);
            for v in violations.iter() {
                tracing::error!(file = %path.display(), path = %v.path, "{}", v.message);
            }
            tracing::error!(file = %path.display(), count = violations.len(), "Configuration refused; the previous one keeps serving.");
        }
        Err(e) => {
            metrics.reload(false);
            tracing::error!(error = %e, "Configuration refused; the previous one keeps serving.");
        }
    }
}

/// What identifies one version of the file: mtime and size catch edits, the inode catches an
/// atomic replace (rename), ctime catches a write that restored the mtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: SystemTime,
    len: u64,
    inode: u64,
    ctime: (i64, i64),
}

pub fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok()?,
        len: meta.len(),
        inode: meta.ino(),
        ctime: (meta.ctime(), meta.ctime_nsec()),
    })
}
