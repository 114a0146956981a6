//! Reads of the live resources.

use sqlx::{AnyConnection, Row};

use super::{Store, corrupt};
use crate::error::ApiError;
use crate::model::{Config, Doc, Entry, ResourceKey, ResourceKind};

// === impl Store ===

impl Store {
    /// One resource, or `None`.
    pub async fn get(&self, key: &ResourceKey) -> Result<Option<Entry>, ApiError> {
        let row = sqlx::query("SELECT revision, body FROM resources WHERE kind = $1 AND name = $2")
            .bind(key.kind.as_str())
            .bind(key.name.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| entry_of(key.kind, r.try_get(0)?, &r.try_get::<String, _>(1)?))
            .transpose()
    }

    /// Resources of one kind ordered by name, after `cursor` (exclusive), whose name starts
    /// with `prefix`; at most `limit` of them when a limit is given.
    pub async fn list(
        &self,
        kind: ResourceKind,
        prefix: &str,
        cursor: &str,
        limit: Option<i64>,
    ) -> Result<Vec<(String, Entry)>, ApiError> {
        // `substr(name, 1, n) = prefix` works alike on both stores and needs no LIKE escaping.
        let sql = "SELECT name, revision, body FROM resources \
                   WHERE kind = $1 AND name > $2 AND substr(name, 1, CAST($3 AS INTEGER)) = $4 \
                   ORDER BY name LIMIT $5";
        let rows = sqlx::query(sql)
            .bind(kind.as_str())
            .bind(cursor)
            .bind(i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX))
            .bind(prefix)
            .bind(limit.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                let name: String = r.try_get(0)?;
                let entry = entry_of(kind, r.try_get(1)?, &r.try_get::<String, _>(2)?)?;
                Ok((name, entry))
            })
            .collect()
    }

    /// Every live resource (what a commit starts from, and what scope checks consult).
    pub async fn load_config(&self) -> Result<Config, ApiError> {
        let mut conn = self.pool.acquire().await?;
        load_config(&mut conn).await
    }
}

pub(super) async fn load_config(conn: &mut AnyConnection) -> Result<Config, ApiError> {
    let rows = sqlx::query("SELECT kind, name, revision, body FROM resources")
        .fetch_all(&mut *conn)
        .await?;
    let mut config = Config::default();
    for r in rows {
        let kind: String = r.try_get(0)?;
        let kind = ResourceKind::parse(&kind).ok_or_else(|| corrupt(format!("kind '{kind}'")))?;
        let name: String = r.try_get(1)?;
        let entry = entry_of(kind, r.try_get(2)?, &r.try_get::<String, _>(3)?)?;
        config.entries.insert(ResourceKey { kind, name }, entry);
    }
    Ok(config)
}

fn entry_of(kind: ResourceKind, revision: i64, body: &str) -> Result<Entry, ApiError> {
    let doc = Doc::from_json_str(kind, body).map_err(|e| corrupt(format!("{kind}: {e}")))?;
    Ok(Entry { revision, doc })
}
