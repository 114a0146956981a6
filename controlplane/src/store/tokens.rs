//! API tokens: only the SHA-256 of a secret is stored.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::audit::{AuditRecord, insert_audit};
use super::{Backend, Store, corrupt, now_ms, rfc3339};
use crate::auth::{Actor, Role, hash_secret};
use crate::error::ApiError;

/// A token as the API shows it (never the secret nor its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Tenant scope; absent for an unscoped token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<BTreeSet<String>>,
    pub created_at: String,
    pub created_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// What creating a token needs.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub tenants: Option<&'a BTreeSet<String>>,
    pub secret: &'a str,
    pub created_by: &'a str,
    pub request_id: &'a str,
}

const COLUMNS: &str = "id, name, role, tenants, created_at_ms, created_by, revoked_at_ms";

// === impl TokenRow ===

impl TokenRow {
    fn from_row(r: &AnyRow) -> Result<Self, ApiError> {
        let role: String = r.try_get(2)?;
        let tenants: Option<String> = r.try_get(3)?;
        let revoked: Option<i64> = r.try_get(6)?;
        Ok(Self {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            role: Role::parse(&role).ok_or_else(|| corrupt(format!("role '{role}'")))?,
            tenants: tenants
                .map(|t| serde_json::from_str(&t).map_err(|e| corrupt(format!("scope: {e}"))))
                .transpose()?,
            created_at: rfc3339(r.try_get(4)?),
            created_by: r.try_get(5)?,
            revoked_at: revoked.map(rfc3339),
        })
    }

    pub fn etag(&self) -> String {
        format!(
            "\"t{}{}\"",
            self.id,
            if self.revoked_at.is_some() {
                "-revoked"
            } else {
                ""
            }
        )
    }
}

// === impl Store ===

impl Store {
    pub async fn count_tokens(&self) -> Result<i64, ApiError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Stores a token (its hash) and audits the creation.
    pub async fn create_token(&self, t: &NewToken<'_>) -> Result<TokenRow, ApiError> {
        let now = now_ms();
        let tenants = t.tenants.map(|s| json!(s).to_string());
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_sha256, role, tenants, created_at_ms, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(t.name)
        .bind(hash_secret(t.secret))
        .bind(t.role.as_str())
        .bind(tenants)
        .bind(now)
        .bind(t.created_by)
        .fetch_one(&mut *tx)
        .await?;
        let row = TokenRow {
            id,
            name: t.name.to_owned(),
            role: t.role,
            tenants: t.tenants.cloned(),
            created_at: rfc3339(now),
            created_by: t.created_by.to_owned(),
            revoked_at: None,
        };
        let record = AuditRecord {
            at_ms: now,
            actor: t.created_by,
            action: "token.create",
            resource_kind: "token",
            resource_name: &id.to_string(),
            version: None,
            before: None,
            after: Some(json!(row)),
            request_id: t.request_id,
        };
        insert_audit(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn list_tokens(&self, after_id: i64, limit: i64) -> Result<Vec<TokenRow>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(TokenRow::from_row).collect()
    }

    pub async fn token(&self, id: i64) -> Result<Option<TokenRow>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(TokenRow::from_row).transpose()
    }

    /// Marks a token revoked (idempotent) and audits it; `None` when there is no such token.
    /// Revoking the last live unscoped admin token is refused (409): without one nobody could
    /// manage tokens again, and the bootstrap secret only applies to an empty token table.
    pub async fn revoke_token(
        &self,
        id: i64,
        by: &str,
        request_id: &str,
    ) -> Result<Option<TokenRow>, ApiError> {
        let Some(before) = self.token(id).await? else {
            return Ok(None);
        };
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // Two revocations of the last two admin tokens must not both see the other alive;
            // on SQLite the UPDATE below takes the database's write lock and serializes them.
            sqlx::query("LOCK TABLE api_tokens IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let admins: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_tokens \
             WHERE role = 'admin' AND tenants IS NULL AND revoked_at_ms IS NULL",
        )
        .fetch_one(&mut *tx)
        .await?;
        if admins == 0 {
            tx.rollback().await?;
            return Err(ApiError::Conflict(format!(
                "token {id} is the last unscoped admin token: create another admin token \
                 before revoking it (without any, see `controlplane admin-token create`)"
            )));
        }
        let mut after = before.clone();
        after.revoked_at.get_or_insert_with(|| rfc3339(now));
        let record = AuditRecord {
            at_ms: now,
            actor: by,
            action: "token.revoke",
            resource_kind: "token",
            resource_name: &id.to_string(),
            version: None,
            before: Some(json!(before)),
            after: Some(json!(after)),
            request_id,
        };
        insert_audit(&mut tx, &record).await?;
        tx.commit().await?;
        Ok(Some(after))
    }

    /// The caller a secret authenticates, if it is a live token.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Actor>, ApiError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE token_sha256 = $1 AND revoked_at_ms IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(hash_secret(secret))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .as_ref()
            .map(TokenRow::from_row)
            .transpose()?
            .map(|t| Actor {
                token_id: t.id,
                token_name: t.name,
                role: t.role,
                tenants: t.tenants,
            }))
    }
}
