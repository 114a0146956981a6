//! Data upgrades that a SQL migration cannot express, run once at open: the migration that
//! introduces one inserts its marker row into `pending_upgrades`, the upgrade deletes it.

use super::{CommitMeta, Store};
use crate::error::ApiError;

const CLUSTER_OWNERS: &str = "cluster_owners";

// === impl Store ===

impl Store {
    pub(super) async fn run_upgrades(&self) -> Result<(), ApiError> {
        let pending: Option<String> =
            sqlx::query_scalar("SELECT name FROM pending_upgrades WHERE name = $1")
                .bind(CLUSTER_OWNERS)
                .fetch_optional(&self.pool)
                .await?;
        if pending.is_none() {
            return Ok(());
        }
        if self.load_config().await?.infer_cluster_owners() {
            let meta = CommitMeta {
                author: "system".to_owned(),
                message: "cluster owners, as inferred from routes (upgrade)".to_owned(),
                request_id: "upgrade".to_owned(),
                ..CommitMeta::default()
            };
            // Re-inferred under the commit lock: another replica may have done it meanwhile,
            // and then there is nothing to commit.
            let commit = self
                .commit(meta, |_, after| {
                    if after.infer_cluster_owners() {
                        Ok(())
                    } else {
                        Err(ApiError::Conflict("already upgraded".to_owned()))
                    }
                })
                .await;
            match commit {
                Ok(c) if c.violations.is_empty() => {
                    tracing::info!(
                        clusters = c.changed.len(),
                        "Gave existing clusters the owner inferred from their routes."
                    );
                }
                // Without owners those clusters stay global (unscoped tokens only): safe, so
                // start anyway and try again at the next start.
                Ok(c) => {
                    tracing::warn!(
                        violations = c.violations.len(),
                        "The live configuration does not compile; cluster owners not assigned."
                    );
                    return Ok(());
                }
                Err(ApiError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        sqlx::query("DELETE FROM pending_upgrades WHERE name = $1")
            .bind(CLUSTER_OWNERS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
