//! The audit log: one row per resource written, per token created or revoked.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::{Store, rfc3339};
use crate::error::ApiError;

/// A row to append.
#[derive(Debug)]
pub struct AuditRecord<'a> {
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub resource_kind: &'a str,
    pub resource_name: &'a str,
    pub version: Option<i64>,
    /// Already redacted.
    pub before: Option<Value>,
    /// Already redacted.
    pub after: Option<Value>,
    pub request_id: &'a str,
}

/// One audit entry as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// The token that did it (`name#id`).
    pub actor: String,
    /// `create`, `update`, `delete`, `rollback.*`, `token.create`, `token.revoke`.
    pub action: String,
    pub resource_kind: String,
    pub resource_name: String,
    /// The version the write created, for configuration writes.
    pub version: Option<i64>,
    /// The resource before the write (null for a create or a token write).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The resource after the write (null for a delete).
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    pub request_id: String,
}

/// Filters of the audit listing.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries with an id below this (the cursor).
    pub before_id: Option<i64>,
    pub resource_kind: Option<String>,
    pub resource_name: Option<String>,
    pub actor: Option<String>,
}

pub(super) async fn insert_audit(
    conn: &mut AnyConnection,
    r: &AuditRecord<'_>,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO audit_log (at_ms, actor, action, resource_kind, resource_name, version, \
         before, after, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(r.at_ms)
    .bind(r.actor)
    .bind(r.action)
    .bind(r.resource_kind)
    .bind(r.resource_name)
    .bind(r.version)
    .bind(r.before.as_ref().map(Value::to_string))
    .bind(r.after.as_ref().map(Value::to_string))
    .bind(r.request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// === impl Store ===

impl Store {
    /// Audit entries newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, ApiError> {
        // Empty filter values match everything, so one statement serves every combination.
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, action, resource_kind, resource_name, version, before, \
             after, request_id FROM audit_log WHERE id < $1 \
             AND ($2 = '' OR resource_kind = $2) AND ($3 = '' OR resource_name = $3) \
             AND ($4 = '' OR actor = $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(filter.before_id.unwrap_or(i64::MAX))
        .bind(filter.resource_kind.clone().unwrap_or_default())
        .bind(filter.resource_name.clone().unwrap_or_default())
        .bind(filter.actor.clone().unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let json = |i: usize| -> Result<Option<Value>, sqlx::Error> {
                    let text: Option<String> = r.try_get(i)?;
                    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
                };
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: rfc3339(r.try_get(1)?),
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    resource_kind: r.try_get(4)?,
                    resource_name: r.try_get(5)?,
                    version: r.try_get(6)?,
                    before: json(7)?,
                    after: json(8)?,
                    request_id: r.try_get(9)?,
                })
            })
            .collect()
    }
}
