//! Request statistics for the control plane: request-finish records aggregated per interval
//! per (tenant, cluster, backend, status class, config version), with a mergeable latency
//! histogram (HDR), sent as numbered batches. A batch that could not be delivered is kept (up
//! to a bound) and sent again; the control plane stores each (node, boot, sequence) once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bfe_proto::stats::v1::{Batch, Record, stats_client::StatsClient};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use tokio::sync::watch;

use super::AgentSettings;
use crate::pipeline::RequestCtx;

/// Batches kept while the control plane is unreachable (one hour at 10 s).
const MAX_PENDING: usize = 360;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    tenant: Option<Arc<str>>,
    cluster: Option<Arc<str>>,
    backend: Option<Arc<str>>,
    status_class: &'static str,
    version: u64,
}

struct Agg {
    requests: u64,
    request_bytes: u64,
    response_bytes: u64,
    errors: HashMap<&'static str, u64>,
    latency_us: Histogram<u64>,
}

/// Collects request-finish records for the current interval.
#[derive(Default)]
pub struct Aggregator {
    current: Mutex<HashMap<Key, Agg>>,
}

impl Aggregator {
    pub fn record(&self, ctx: &RequestCtx) {
        let snapshot = &ctx.active.snapshot;
        let key = Key {
            tenant: ctx.tenant.map(|t| snapshot.tenant(t).name.clone()),
            cluster: ctx.cluster.map(|c| snapshot.cluster(c).name.clone()),
            backend: ctx.backend.as_ref().map(|b| b.addr.clone()),
            status_class: ctx.status_class(),
            version: ctx.active.version.unwrap_or(0),
        };
        let micros = u64::try_from(ctx.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let mut map = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let agg = match map.get_mut(&key) {
            Some(a) => a,
            None => {
                let Ok(latency_us) = Histogram::new_with_bounds(1, 3_600_000_000, 2) else {
                    return;
                };
                map.entry(key).or_insert(Agg {
                    requests: 0,
                    request_bytes: 0,
                    response_bytes: 0,
                    errors: HashMap::new(),
                    latency_us,
                })
            }
        };
        agg.requests += 1;
        agg.request_bytes += ctx.request_body_bytes;
        agg.response_bytes += ctx.response_body_bytes;
        if let Some(e) = ctx.error {
            *agg.errors.entry(e.code()).or_default() += 1;
        }
        agg.latency_us.saturating_record(micros.max(1));
    }

    /// Takes the interval's records, leaving an empty table.
    fn take(&self) -> Vec<Record> {
        let map = std::mem::take(&mut *self.current.lock().unwrap_or_else(|p| p.into_inner()));
        let mut serializer = V2DeflateSerializer::new();
        map.into_iter()
            .map(|(k, a)| {
                let mut hdr = Vec::new();
                if serializer.serialize(&a.latency_us, &mut hdr).is_err() {
                    hdr.clear();
                }
                Record {
                    tenant: k.tenant.as_deref().unwrap_or("").to_owned(),
                    cluster: k.cluster.as_deref().unwrap_or("").to_owned(),
                    backend: k.backend.as_deref().unwrap_or("").to_owned(),
                    status_class: k.status_class.to_owned(),
                    config_version: k.version,
                    requests: a.requests,
                    request_bytes: a.request_bytes,
                    response_bytes: a.response_bytes,
                    errors: a
                        .errors
                        .into_iter()
                        .map(|(c, n)| (c.to_owned(), n))
                        .collect(),
                    latency_hdr: hdr,
                }
            })
            .collect()
    }
}

/// Every interval: close the current batch, then deliver all pending batches in order.
pub async fn report(
    settings: AgentSettings,
    agg: Arc<Aggregator>,
    mut stop: watch::Receiver<bool>,
) {
    let boot_id = format!("{:016x}", rand::random::<u64>());
    let mut sequence = 0u64;
    let mut pending: VecDeque<Batch> = VecDeque::new();
    let mut client: Option<StatsClient<tonic::transport::Channel>> = None;
    let mut tick = tokio::time::interval(settings.stats_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut last_flush = super::unix_ms();
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        let records = agg.take();
        let now = super::unix_ms();
        if !records.is_empty() {
            sequence += 1;
            pending.push_back(Batch {
                node_id: settings.node_id.clone(),
                sequence,
                boot_id: boot_id.clone(),
                interval_start_unix_ms: last_flush,
                interval_ms: u32::try_from(now - last_flush).unwrap_or(u32::MAX),
                records,
                token: settings.token.clone().unwrap_or_default(),
            });
            while pending.len() > MAX_PENDING {
                pending.pop_front();
                tracing::warn!("Statistics backlog full; dropping the oldest batch.");
            }
        }
        last_flush = now;
        deliver(&settings, &mut client, &mut pending).await;
        if stopping {
            return;
        }
    }
}

async fn deliver(
    settings: &AgentSettings,
    client: &mut Option<StatsClient<tonic::transport::Channel>>,
    pending: &mut VecDeque<Batch>,
) {
    while let Some(batch) = pending.front() {
        if client.is_none() {
            let Ok(endpoint) = super::endpoint(&settings.url, settings.tls.as_ref()) else {
                return;
            };
            match endpoint.connect().await {
                Ok(ch) => {
                    *client = Some(
                        StatsClient::new(ch)
                            .send_compressed(tonic::codec::CompressionEncoding::Gzip),
                    )
                }
                Err(e) => {
                    tracing::debug!(error = %e, "Statistics: control plane unreachable; will retry.");
                    return;
                }
            }
        }
        let Some(c) = client.as_mut() else { return };
        let mut request = tonic::Request::new(batch.clone());
        request.set_timeout(Duration::from_secs(10));
        match c.report(request).await {
            Ok(_) => {
                pending.pop_front();
            }
            Err(status) => {
                tracing::debug!(%status, "Statistics batch not delivered; will retry.");
                *client = None;
                return;
            }
        }
    }
}
