//! The fleet table: one row per data-plane node, written by whichever replica holds the
//! node's stream.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::{Store, now_ms, rfc3339};
use crate::error::ApiError;

/// A violation a node reported with a NACK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NackViolation {
    pub path: String,
    pub message: String,
}

/// The last version a node refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Nack {
    pub version: i64,
    /// The node build that refused it: the version is offered again only to another build.
    pub build: String,
    pub reason: String,
    pub violations: Vec<NackViolation>,
}

/// One node as the fleet view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeInfo {
    pub node_id: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub build: String,
    /// A stream is open and the node was heard from within one heartbeat interval (plus a
    /// 2 s grace).
    pub connected: bool,
    /// RFC 3339.
    pub first_seen: String,
    /// RFC 3339.
    pub last_seen: String,
    /// The version the node reported ACTIVE (0 = none yet).
    pub applied_version: i64,
    pub applied_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    /// Versions between the newest one and the one the node runs.
    pub lag_versions: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_nack: Option<Nack>,
    #[serde(skip)]
    pub last_seen_ms: i64,
}

const COLUMNS: &str = "node_id, labels, build, connected, first_seen_ms, last_seen_ms, \
    applied_version, applied_sha256, applied_at_ms, last_nack_version, last_nack_build, \
    last_nack_reason, last_nack_violations";

/// Nodes send a heartbeat this often (and the control plane sends them one as often).
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);

/// A node not heard from for this long is disconnected: one heartbeat interval and a grace for
/// the heartbeat's trip and write. The replica holding the stream closes it then, and every
/// replica's fleet view says so even if the holder died without recording it.
pub const LIVENESS: std::time::Duration = std::time::Duration::from_secs(12);

const LIVENESS_MS: i64 = LIVENESS.as_millis() as i64;

impl NodeInfo {
    fn from_row(r: &AnyRow, head: i64, now: i64) -> Result<Self, sqlx::Error> {
        let labels: String = r.try_get(1)?;
        let connected: i64 = r.try_get(3)?;
        let last_seen_ms: i64 = r.try_get(5)?;
        let applied_version: i64 = r.try_get(6)?;
        let applied_at: Option<i64> = r.try_get(8)?;
        let nack_version: Option<i64> = r.try_get(9)?;
        let last_nack = match nack_version {
            Some(version) => {
                let violations: Option<String> = r.try_get(12)?;
                Some(Nack {
                    version,
                    build: r.try_get::<Option<String>, _>(10)?.unwrap_or_default(),
                    reason: r.try_get::<Option<String>, _>(11)?.unwrap_or_default(),
                    violations: violations
                        .and_then(|v| serde_json::from_str(&v).ok())
                        .unwrap_or_default(),
                })
            }
            None => None,
        };
        Ok(Self {
            node_id: r.try_get(0)?,
            labels: serde_json::from_str(&labels).unwrap_or_default(),
            build: r.try_get(2)?,
            connected: connected != 0 && now - last_seen_ms < LIVENESS_MS,
            first_seen: rfc3339(r.try_get(4)?),
            last_seen: rfc3339(last_seen_ms),
            applied_version,
            applied_sha256: r.try_get(7)?,
            applied_at: applied_at.map(rfc3339),
            lag_versions: (head - applied_version).max(0),
            last_nack,
            last_seen_ms,
        })
    }
}

impl Store {
    /// Records a node's hello on a new stream: it is connected, with these labels and build.
    /// Returns the stream's session id, which later writes of this stream name.
    pub async fn node_hello(
        &self,
        node_id: &str,
        labels: &std::collections::BTreeMap<String, String>,
        build: &str,
    ) -> Result<String, ApiError> {
        let now = now_ms();
        let labels = serde_json::to_string(labels).unwrap_or_else(|_| "{}".to_owned());
        let mut id = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
        let session = crate::auth::hex(&id);
        sqlx::query(
            "INSERT INTO nodes (node_id, labels, build, connected, first_seen_ms, last_seen_ms, session) \
             VALUES ($1, $2, $3, 1, $4, $4, $5) \
             ON CONFLICT (node_id) DO UPDATE SET labels = $2, build = $3, connected = 1, \
             last_seen_ms = $4, session = $5",
        )
        .bind(node_id)
        .bind(labels)
        .bind(build)
        .bind(now)
        .bind(&session)
        .execute(&self.pool)
        .await?;
        Ok(session)
    }

    /// A message arrived on the node's stream `session` (ignored once another stream took over).
    pub async fn node_seen(&self, node_id: &str, session: &str) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE nodes SET last_seen_ms = $3, connected = 1 WHERE node_id = $1 AND session = $2",
        )
        .bind(node_id)
        .bind(session)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The node's stream `session` ended; a newer stream of the same node keeps it connected.
    pub async fn node_disconnected(&self, node_id: &str, session: &str) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE nodes SET connected = 0, last_seen_ms = $3 WHERE node_id = $1 AND session = $2",
        )
        .bind(node_id)
        .bind(session)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn node_active(
        &self,
        node_id: &str,
        version: i64,
        sha256: &str,
    ) -> Result<(), ApiError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE nodes SET applied_version = $2, applied_sha256 = $3, applied_at_ms = $4, \
             last_seen_ms = $4 WHERE node_id = $1",
        )
        .bind(node_id)
        .bind(version)
        .bind(sha256)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn node_nack(&self, node_id: &str, nack: &Nack) -> Result<(), ApiError> {
        let violations =
            serde_json::to_string(&nack.violations).unwrap_or_else(|_| "[]".to_owned());
        sqlx::query(
            "UPDATE nodes SET last_nack_version = $2, last_nack_build = $3, last_nack_reason = $4, \
             last_nack_violations = $5, last_seen_ms = $6 WHERE node_id = $1",
        )
        .bind(node_id)
        .bind(nack.version)
        .bind(&nack.build)
        .bind(&nack.reason)
        .bind(violations)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Nodes heard from within `grace_ms`, by id; older ones have expired from the fleet.
    pub async fn list_nodes(&self, grace_ms: i64) -> Result<Vec<NodeInfo>, ApiError> {
        let head = self.head().await?;
        let now = now_ms();
        let sql = format!("SELECT {COLUMNS} FROM nodes WHERE last_seen_ms >= $1 ORDER BY node_id");
        let rows = sqlx::query(&sql)
            .bind(now - grace_ms)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| NodeInfo::from_row(r, head, now))
            .collect::<Result<_, _>>()?)
    }

    pub async fn node(&self, node_id: &str) -> Result<Option<NodeInfo>, ApiError> {
        let head = self.head().await?;
        let sql = format!("SELECT {COLUMNS} FROM nodes WHERE node_id = $1");
        let row = sqlx::query(&sql)
            .bind(node_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .as_ref()
            .map(|r| NodeInfo::from_row(r, head, now_ms()))
            .transpose()?)
    }

    /// Forgets nodes not heard from within `grace_ms`.
    pub async fn expire_nodes(&self, grace_ms: i64) -> Result<u64, ApiError> {
        let done = sqlx::query("DELETE FROM nodes WHERE last_seen_ms < $1")
            .bind(now_ms() - grace_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
