//! Stored request statistics: batches deduplicated by (node, boot, sequence), records kept in
//! time buckets until retention drops them.

use sqlx::Row;

use super::{Store, now_ms};
use crate::error::ApiError;

/// One stored record (a node's aggregate for one key over one interval).
#[derive(Debug, Clone)]
pub struct StatsRow {
    pub bucket_ms: i64,
    pub node_id: String,
    pub tenant: String,
    pub cluster: String,
    pub backend: String,
    pub status_class: String,
    pub config_version: i64,
    pub requests: i64,
    pub request_bytes: i64,
    pub response_bytes: i64,
    /// JSON object: error code → count.
    pub errors: String,
    /// Hex of the serialized HDR histogram (V2 + deflate), microseconds.
    pub latency_hdr: String,
}

/// Which records a query wants.
#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    pub from_ms: i64,
    pub to_ms: i64,
    pub tenant: Option<String>,
    pub cluster: Option<String>,
    pub backend: Option<String>,
    pub node: Option<String>,
}

impl Store {
    /// Stores a batch once. Returns false (and stores nothing) for a batch already stored.
    pub async fn insert_stats_batch(
        &self,
        node_id: &str,
        boot_id: &str,
        sequence: i64,
        rows: &[StatsRow],
    ) -> Result<bool, ApiError> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO stats_batches (node_id, boot_id, sequence, received_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (node_id, boot_id, sequence) DO NOTHING",
        )
        .bind(node_id)
        .bind(boot_id)
        .bind(sequence)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for r in rows {
            sqlx::query(
                "INSERT INTO stats_records (bucket_ms, node_id, tenant, cluster, backend, status_class, \
                 config_version, requests, request_bytes, response_bytes, errors, latency_hdr) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(r.bucket_ms)
            .bind(&r.node_id)
            .bind(&r.tenant)
            .bind(&r.cluster)
            .bind(&r.backend)
            .bind(&r.status_class)
            .bind(r.config_version)
            .bind(r.requests)
            .bind(r.request_bytes)
            .bind(r.response_bytes)
            .bind(&r.errors)
            .bind(&r.latency_hdr)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn query_stats(&self, f: &StatsFilter) -> Result<Vec<StatsRow>, ApiError> {
        let rows = sqlx::query(
            "SELECT bucket_ms, node_id, tenant, cluster, backend, status_class, config_version, \
             requests, request_bytes, response_bytes, errors, latency_hdr FROM stats_records \
             WHERE bucket_ms >= $1 AND bucket_ms < $2 \
             AND ($3 = '' OR tenant = $3) AND ($4 = '' OR cluster = $4) \
             AND ($5 = '' OR backend = $5) AND ($6 = '' OR node_id = $6) \
             ORDER BY bucket_ms",
        )
        .bind(f.from_ms)
        .bind(f.to_ms)
        .bind(f.tenant.clone().unwrap_or_default())
        .bind(f.cluster.clone().unwrap_or_default())
        .bind(f.backend.clone().unwrap_or_default())
        .bind(f.node.clone().unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatsRow {
                    bucket_ms: r.try_get(0)?,
                    node_id: r.try_get(1)?,
                    tenant: r.try_get(2)?,
                    cluster: r.try_get(3)?,
                    backend: r.try_get(4)?,
                    status_class: r.try_get(5)?,
                    config_version: r.try_get(6)?,
                    requests: r.try_get(7)?,
                    request_bytes: r.try_get(8)?,
                    response_bytes: r.try_get(9)?,
                    errors: r.try_get(10)?,
                    latency_hdr: r.try_get(11)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Drops records (and batch ids) older than `retention_ms`.
    pub async fn prune_stats(&self, retention_ms: i64) -> Result<u64, ApiError> {
        let cutoff = now_ms() - retention_ms;
        let done = sqlx::query("DELETE FROM stats_records WHERE bucket_ms < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM stats_batches WHERE received_at_ms < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
