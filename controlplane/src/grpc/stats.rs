//! Statistics intake: each batch is stored once (redelivery of a stored sequence is
//! acknowledged and ignored), its records kept in the interval's time bucket.

use bfe_proto::stats::v1::{Ack, Batch, stats_server::Stats};
use tonic::{Request, Response, Status};

use super::NodeAuth;
use crate::store::{StatsRow, Store};

pub struct StatsService {
    store: Store,
    auth: NodeAuth,
}

impl StatsService {
    pub fn new(store: Store, auth: NodeAuth) -> Self {
        Self { store, auth }
    }
}

#[tonic::async_trait]
impl Stats for StatsService {
    async fn report(&self, req: Request<Batch>) -> Result<Response<Ack>, Status> {
        let metadata = req.metadata().clone();
        let batch = req.into_inner();
        self.auth.check(&metadata, &batch.token)?;
        if batch.node_id.is_empty() || batch.boot_id.is_empty() {
            return Err(Status::invalid_argument("node_id and boot_id are required"));
        }
        let names = batch.records.iter().flat_map(|r| {
            [&r.tenant, &r.cluster, &r.backend]
                .into_iter()
                .chain(r.errors.keys())
        });
        if [&batch.node_id, &batch.boot_id]
            .into_iter()
            .chain(names)
            .any(|s| crate::text::has_control(s))
        {
            // PostgreSQL cannot store NUL: refused here rather than failing the store forever.
            return Err(Status::invalid_argument(
                "names: control characters are not allowed",
            ));
        }
        let sequence = i64::try_from(batch.sequence)
            .map_err(|_| Status::invalid_argument("sequence out of range"))?;
        let rows: Vec<StatsRow> = batch
            .records
            .into_iter()
            .map(|r| StatsRow {
                bucket_ms: batch.interval_start_unix_ms,
                node_id: batch.node_id.clone(),
                tenant: r.tenant,
                cluster: r.cluster,
                backend: r.backend,
                status_class: r.status_class,
                config_version: i64::try_from(r.config_version).unwrap_or(i64::MAX),
                requests: i64::try_from(r.requests).unwrap_or(i64::MAX),
                request_bytes: i64::try_from(r.request_bytes).unwrap_or(i64::MAX),
                response_bytes: i64::try_from(r.response_bytes).unwrap_or(i64::MAX),
                errors: serde_json::to_string(&r.errors).unwrap_or_else(|_| "{}".to_owned()),
                latency_hdr: hex(&r.latency_hdr),
            })
            .collect();
        let stored = self
            .store
            .insert_stats_batch(&batch.node_id, &batch.boot_id, sequence, &rows)
            .await
            .map_err(|e| Status::unavailable(format!("store: {e}")))?;
        Ok(Response::new(Ack {
            sequence: batch.sequence,
            stored,
        }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
