//! Reads of the immutable versions.

use bfe_config::RawSnapshot;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::commit::CommitMeta;
use super::{Store, corrupt, rfc3339};
use crate::error::ApiError;

/// One accepted version's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionInfo {
    /// Monotonic version number (1, 2, …).
    pub number: i64,
    /// The version this one replaced (none for the first).
    pub parent: Option<i64>,
    /// Hex SHA-256 of the snapshot's canonical JSON.
    pub sha256: String,
    /// The token that committed it (`name#id`).
    pub author: String,
    pub message: String,
    /// RFC 3339.
    pub created_at: String,
    /// Set when this version restored an older one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<i64>,
}

const COLUMNS: &str = "number, parent, sha256, author, message, created_at_ms, rollback_of";

// === impl VersionInfo ===

impl VersionInfo {
    pub(super) fn new(
        number: i64,
        parent: Option<i64>,
        sha256: String,
        meta: &CommitMeta,
        at_ms: i64,
    ) -> Self {
        Self {
            number,
            parent,
            sha256,
            author: meta.author.clone(),
            message: meta.message.clone(),
            created_at: rfc3339(at_ms),
            rollback_of: meta.rollback_of,
        }
    }

    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            number: r.try_get(0)?,
            parent: r.try_get(1)?,
            sha256: r.try_get(2)?,
            author: r.try_get(3)?,
            message: r.try_get(4)?,
            created_at: rfc3339(r.try_get(5)?),
            rollback_of: r.try_get(6)?,
        })
    }
}

// === impl Store ===

impl Store {
    /// The newest version number (0 before the first commit).
    pub async fn head(&self) -> Result<i64, ApiError> {
        Ok(
            sqlx::query_scalar("SELECT head FROM config_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Versions newest first, older than `before` when given.
    pub async fn list_versions(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<VersionInfo>, ApiError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM versions WHERE number < $1 ORDER BY number DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(VersionInfo::from_row)
            .collect::<Result<_, _>>()?)
    }

    pub async fn version(&self, number: i64) -> Result<Option<VersionInfo>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM versions WHERE number = $1");
        let row = sqlx::query(&sql)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(VersionInfo::from_row).transpose()?)
    }

    /// The whole snapshot of a version, private keys included: callers redact.
    pub async fn version_snapshot(&self, number: i64) -> Result<Option<RawSnapshot>, ApiError> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT snapshot FROM versions WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| corrupt(format!("version {number}: {e}")))
        })
        .transpose()
    }
}
