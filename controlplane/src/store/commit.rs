//! Committing a change set: one transaction that serializes writers, rebuilds the candidate
//! snapshot, compiles it with the data plane's compiler, and only then writes the resources,
//! the new version and the audit rows.

use std::time::Instant;

use bfe_config::{RawSnapshot, Violation};

use super::audit::{AuditRecord, insert_audit};
use super::resources::load_config;
use super::versions::VersionInfo;
use super::{Backend, Store, VERSIONS_CHANNEL, now_ms};
use crate::error::ApiError;
use crate::model::{Config, ResourceKey, ownership_violations};

/// Who commits, why, and whether for real.
#[derive(Debug, Clone, Default)]
pub struct CommitMeta {
    pub author: String,
    pub message: String,
    pub request_id: String,
    /// Validate and diff only: nothing is written.
    pub dry_run: bool,
    /// Set when this commit restores an older version.
    pub rollback_of: Option<i64>,
}

/// What a commit (or a dry run) did.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The new version, or the live one when nothing changed (`changed` is empty); `None` for
    /// a dry run or a refused change set.
    pub version: Option<VersionInfo>,
    /// The live resources before the change set.
    pub before: Config,
    /// The resources after it, revisions stamped with the new version number.
    pub after: Config,
    /// Resources created, updated or deleted, in key order.
    pub changed: Vec<ResourceKey>,
    /// The candidate snapshot that was compiled.
    pub candidate: RawSnapshot,
    /// Why the candidate was refused; empty when it compiled.
    pub violations: Vec<Violation>,
}

// === impl Store ===

impl Store {
    /// Runs `plan` on the live resources and commits the result as one new version, or refuses
    /// it whole. `plan` gets the live resources and the working copy it must change; any error
    /// it returns aborts the commit with nothing written.
    pub async fn commit<F>(&self, meta: CommitMeta, plan: F) -> Result<Commit, ApiError>
    where
        F: FnOnce(&Config, &mut Config) -> Result<(), ApiError>,
    {
        let started = Instant::now();
        let _writer = self.writer().await;
        let mut tx = self.pool.begin().await?;
        // Taking the head row's write lock first serializes commits: PostgreSQL holds the row
        // lock to the end of the transaction, SQLite takes its database write lock here.
        let now = now_ms();
        sqlx::query("UPDATE config_head SET locked_at_ms = $1 WHERE id = 1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let head: i64 = sqlx::query_scalar("SELECT head FROM config_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;

        let locked = Instant::now();
        let cached = self.last_commit.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|(n, _)| *n == head)
                .map(|(_, c)| c.clone())
        });
        let before = match cached {
            Some(config) => config,
            None => load_config(&mut tx).await?,
        };
        let mut after = before.clone();
        plan(&before, &mut after)?;

        let number = head + 1;
        let changed = stamp_changes(&before, &mut after, number);
        let candidate = after.to_snapshot();
        if changed.is_empty() && !meta.dry_run && head > 0 {
            // Nothing to validate, store or push: the answer is the live version.
            tx.rollback().await?;
            let version = self.version(head).await?;
            return Ok(Commit {
                version,
                before,
                after,
                changed,
                candidate,
                violations: Vec::new(),
            });
        }
        // Compiling 10k routes takes a while: keep it off the async workers.
        let loaded = Instant::now();
        let (candidate, violations) = tokio::task::spawn_blocking(move || {
            let mut violations = bfe_config::compile(&candidate)
                .err()
                .map(|v| v.0)
                .unwrap_or_default();
            violations.extend(ownership_violations(&candidate));
            (candidate, violations)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("compile task: {e}")))?;
        let compiled = Instant::now();

        let mut commit = Commit {
            version: None,
            before,
            after,
            changed,
            candidate,
            violations,
        };
        if meta.dry_run || !commit.violations.is_empty() {
            tx.rollback().await?;
            return Ok(commit);
        }

        for key in &commit.changed {
            match commit.after.get(key) {
                Some(entry) => {
                    sqlx::query(
                        "INSERT INTO resources (kind, name, revision, body) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (kind, name) DO UPDATE \
                         SET revision = excluded.revision, body = excluded.body",
                    )
                    .bind(key.kind.as_str())
                    .bind(key.name.as_str())
                    .bind(entry.revision)
                    .bind(entry.doc.to_stored_json())
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM resources WHERE kind = $1 AND name = $2")
                        .bind(key.kind.as_str())
                        .bind(key.name.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }

        let info = VersionInfo::new(
            number,
            (head > 0).then_some(head),
            commit.candidate.sha256_hex(),
            &meta,
            now,
        );
        // Serializing plain data cannot fail.
        let snapshot = String::from_utf8(commit.candidate.canonical_json()).unwrap_or_default();
        sqlx::query(
            "INSERT INTO versions (number, parent, sha256, author, message, created_at_ms, \
             rollback_of, snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(number)
        .bind(info.parent)
        .bind(info.sha256.as_str())
        .bind(meta.author.as_str())
        .bind(meta.message.as_str())
        .bind(now)
        .bind(meta.rollback_of)
        .bind(snapshot)
        .execute(&mut *tx)
        .await?;

        for key in &commit.changed {
            let before = commit.before.get(key).map(|e| e.doc.to_redacted_value());
            let after = commit.after.get(key).map(|e| e.doc.to_redacted_value());
            let action = match (&before, &after) {
                (None, _) => "create",
                (_, None) => "delete",
                _ => "update",
            };
            let action = if meta.rollback_of.is_some() {
                format!("rollback.{action}")
            } else {
                action.to_owned()
            };
            let record = AuditRecord {
                at_ms: now,
                actor: &meta.author,
                action: &action,
                resource_kind: key.kind.as_str(),
                resource_name: &key.name,
                version: Some(number),
                before,
                after,
                request_id: &meta.request_id,
            };
            insert_audit(&mut tx, &record).await?;
        }

        sqlx::query("UPDATE config_head SET head = $1 WHERE id = 1")
            .bind(number)
            .execute(&mut *tx)
            .await?;
        if self.backend == Backend::Postgres {
            // Delivered at commit to every replica listening: their publishers push the new
            // version to the nodes they hold (DESIGN §1). The payload is our own number.
            sqlx::query(&format!("NOTIFY {VERSIONS_CHANNEL}, '{number}'"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        // Wake this process's publisher now rather than at its next poll.
        self.committed.notify_waiters();
        if let Ok(mut cache) = self.last_commit.lock() {
            *cache = Some((number, commit.after.clone()));
        }
        let ms =
            |a: Instant, b: Instant| (b.duration_since(a).as_secs_f64() * 10_000.0).round() / 10.0;
        let done = Instant::now();
        tracing::info!(
            version = number,
            resources = commit.changed.len(),
            author = %meta.author,
            request_id = %meta.request_id,
            wait_ms = ms(started, locked),
            load_ms = ms(locked, loaded),
            compile_ms = ms(loaded, compiled),
            write_ms = ms(compiled, done),
            "Committed a new version."
        );
        commit.version = Some(info);
        Ok(commit)
    }
}

/// Finds the resources `after` changed relative to `before` and stamps their revision (the ETag)
/// with the new version number.
fn stamp_changes(before: &Config, after: &mut Config, number: i64) -> Vec<ResourceKey> {
    let mut changed = Vec::new();
    for (key, entry) in &mut after.entries {
        match before.get(key) {
            Some(old) if old.doc == entry.doc => entry.revision = old.revision,
            _ => {
                entry.revision = number;
                changed.push(key.clone());
            }
        }
    }
    changed.extend(
        before
            .entries
            .keys()
            .filter(|k| !after.entries.contains_key(*k))
            .cloned(),
    );
    changed.sort();
    changed
}
