//! Change sets: many operations applied to the live resources as one candidate, validated whole
//! and committed as one version, or refused whole. Every single-resource write is a one-operation
//! change set, so there is exactly one write path.

use bfe_config::RawSnapshot;
use serde_json::Value;

use super::etag::{Precondition, parse_etag};
use super::locate_violations;
use super::ops::{ChangeOp, ChangeSet, OpKind};
use super::patch::merge_patch;
use super::scope::{check_cluster_op, check_cluster_scope};
use crate::auth::Actor;
use crate::error::ApiError;
use crate::model::{Config, Doc, Entry, GLOBAL, ResourceKey, ResourceKind};
use crate::store::{Commit, CommitMeta, Store};

/// Applies every op of `set` to `after` (a copy of `before`), with the caller's rights checked.
/// Errors name the op (`ops[2]`); the first one aborts the set.
pub fn apply_change_set(
    actor: &Actor,
    set: &ChangeSet,
    before: &Config,
    after: &mut Config,
) -> Result<(), ApiError> {
    if set.ops.is_empty() {
        return Err(ApiError::bad_field(
            "ops",
            "a change set needs at least one op",
        ));
    }
    for (i, op) in set.ops.iter().enumerate() {
        apply_op(actor, &format!("ops[{i}]"), op, before, after)?;
    }
    check_cluster_scope(actor, before, after)
}

fn apply_op(
    actor: &Actor,
    path: &str,
    op: &ChangeOp,
    before: &Config,
    cfg: &mut Config,
) -> Result<(), ApiError> {
    let key = op.key(path)?;
    // The scope is checked before the op looks at the resource: nothing of a resource outside
    // it (its document, its ETag in a 412) may reach the answer.
    if key.kind.is_per_tenant() {
        if !actor.sees_tenant(&key.name) {
            return Err(ApiError::Forbidden(format!(
                "{path}: tenant '{}' is outside the token's scope",
                key.name
            )));
        }
    } else if key.kind == ResourceKind::Cluster {
        check_cluster_op(actor, path, before, &key.name)?;
    } else {
        actor.require_unscoped()?;
    }

    // Route and module documents of an existing tenant, and the singletons, always exist
    // (empty until written).
    let per_tenant_doc = matches!(key.kind, ResourceKind::Routes | ResourceKind::TenantModules);
    let tenant = ResourceKey::new(ResourceKind::Tenant, &key.name);
    if per_tenant_doc && cfg.get(&tenant).is_none() {
        return Err(ApiError::not_found(format!(
            "{path}: tenant '{}'",
            key.name
        )));
    }
    let implicit = per_tenant_doc || key.kind.is_singleton();
    let existing = cfg.get(&key).cloned();
    let exists = existing.is_some() || implicit;
    let revision = existing.as_ref().map_or(0, |e| e.revision);

    check_if_match(path, &key, op.if_match.as_deref(), exists, revision)?;
    if let Some(list) = op.kind.rule_list() {
        return super::rules::apply_rule_op(path, op, list, key, existing, cfg);
    }

    match op.op {
        OpKind::Create if existing.is_some() => {
            Err(ApiError::Conflict(format!("{path}: {key} already exists")))
        }
        OpKind::Update | OpKind::Patch | OpKind::Delete if !exists => {
            Err(ApiError::not_found(format!("{path}: {key}")))
        }
        OpKind::Delete => {
            cfg.entries.remove(&key);
            if key.kind == ResourceKind::Tenant {
                for kind in [ResourceKind::Routes, ResourceKind::TenantModules] {
                    cfg.entries.remove(&ResourceKey::new(kind, &key.name));
                }
            }
            Ok(())
        }
        OpKind::Create | OpKind::Update | OpKind::Patch => {
            let body_path = format!("{path}.body");
            let body = op
                .body
                .clone()
                .ok_or_else(|| ApiError::bad_field(&body_path, "missing body"))?;
            let value = match (op.op, &existing) {
                (OpKind::Patch, Some(e)) => {
                    let mut base = e.doc.to_full_value();
                    merge_patch(&mut base, body);
                    base
                }
                (OpKind::Patch, None) => {
                    let mut base = Value::Object(Default::default());
                    merge_patch(&mut base, body);
                    base
                }
                _ => body,
            };
            let mut doc =
                Doc::from_value(key.kind, value).map_err(|e| ApiError::shape(&body_path, &e))?;
            if let Some(own) = doc.own_name()
                && own != key.name
            {
                return Err(ApiError::bad_field(
                    format!("{body_path}.name"),
                    format!(
                        "the body names '{own}' but the request names '{}'",
                        key.name
                    ),
                ));
            }
            // A certificate written without its key keeps the stored one (keys are write-only,
            // so a client that read the certificate cannot send it back).
            if let Doc::Certificate(new) = &mut doc
                && new.key_pem.is_empty()
                && let Some(Entry {
                    doc: Doc::Certificate(old),
                    ..
                }) = &existing
            {
                new.key_pem.clone_from(&old.key_pem);
            }
            cfg.entries.insert(key, Entry { revision, doc });
            Ok(())
        }
    }
}

/// A stale `If-Match` refuses the op.
fn check_if_match(
    path: &str,
    key: &ResourceKey,
    if_match: Option<&str>,
    exists: bool,
    revision: i64,
) -> Result<(), ApiError> {
    let Some(m) = if_match else {
        return Ok(());
    };
    let ok = match parse_etag(m) {
        Precondition::Any => exists,
        Precondition::Revision(r) => exists && r == revision,
        Precondition::Unknown => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "{path}: {key} is not at ETag {m} (it is at \"r{revision}\")"
        )))
    }
}

/// Validates and commits a change set (or only validates it, for `dry_run`). A refused
/// candidate is `ApiError::Invalid` when committing and a `Commit` with violations in a dry run.
pub async fn commit_change_set(
    store: &Store,
    actor: &Actor,
    set: &ChangeSet,
    request_id: &str,
    dry_run: bool,
) -> Result<Commit, ApiError> {
    let meta = CommitMeta {
        author: actor.label(),
        message: set.message.clone().unwrap_or_else(|| summary(set)),
        request_id: request_id.to_owned(),
        dry_run,
        rollback_of: None,
    };
    let commit = store
        .commit(meta, |before, after| {
            apply_change_set(actor, set, before, after)
        })
        .await?;
    refuse_invalid(commit, dry_run)
}

/// Makes the live resources equal to version `number`'s snapshot, as a new version.
pub async fn rollback(
    store: &Store,
    actor: &Actor,
    number: i64,
    target: RawSnapshot,
    request_id: &str,
) -> Result<Commit, ApiError> {
    let meta = CommitMeta {
        author: actor.label(),
        message: format!("rollback to version {number}"),
        request_id: request_id.to_owned(),
        dry_run: false,
        rollback_of: Some(number),
    };
    let docs = Config::docs_of_snapshot(&target);
    let commit = store
        .commit(meta, |_, after| {
            after.entries.retain(|k, _| docs.contains_key(k));
            for (key, doc) in docs {
                let revision = after.get(&key).map_or(0, |e| e.revision);
                after.entries.insert(key, Entry { revision, doc });
            }
            Ok(())
        })
        .await?;
    refuse_invalid(commit, false)
}

fn refuse_invalid(commit: Commit, dry_run: bool) -> Result<Commit, ApiError> {
    if commit.violations.is_empty() || dry_run {
        Ok(commit)
    } else {
        Err(ApiError::Invalid(locate_violations(
            &commit.candidate,
            &commit.violations,
        )))
    }
}

fn summary(set: &ChangeSet) -> String {
    let parts: Vec<String> = set
        .ops
        .iter()
        .take(5)
        .map(|op| {
            let name = op
                .tenant
                .as_deref()
                .or(op.name.as_deref())
                .unwrap_or(GLOBAL);
            format!("{:?} {:?} {name}", op.op, op.kind).to_lowercase()
        })
        .collect();
    let more = set.ops.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", parts.join(", "))
    } else {
        parts.join(", ")
    }
}
